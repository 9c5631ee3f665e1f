package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/ctseg/ctseg/internal/luna"
)

// series is one CT found on disk.
type series struct {
	uid    string
	path   string // the .mhd (or .mha) header
	subset int    // N of DIR/subsetN; -1 for a header directly in DIR
}

// headerExts are the MetaImage header extensions discovery accepts.
var headerExts = []string{".mhd", ".mha"}

// discover lists the series under dir: DIR/subset*/<uid>.mhd and
// DIR/<uid>.mhd (also .mha), sorted by uid. A uid found twice is an error,
// since the two copies could differ.
func discover(dir string) ([]series, error) {
	if st, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	} else if !st.IsDir() {
		return nil, fmt.Errorf("data directory %s is not a directory", dir)
	}
	found, err := headersIn(dir, -1)
	if err != nil {
		return nil, err
	}
	subsets, err := filepath.Glob(filepath.Join(dir, "subset*"))
	if err != nil {
		return nil, err
	}
	for _, sub := range subsets {
		n, err := strconv.Atoi(strings.TrimPrefix(filepath.Base(sub), "subset"))
		if st, serr := os.Stat(sub); serr != nil || !st.IsDir() || err != nil || n < 0 {
			continue // subset0.zip and the like
		}
		more, err := headersIn(sub, n)
		if err != nil {
			return nil, err
		}
		found = append(found, more...)
	}
	slices.SortFunc(found, func(a, b series) int { return strings.Compare(a.uid, b.uid) })
	for i := 1; i < len(found); i++ {
		if found[i].uid == found[i-1].uid {
			return nil, fmt.Errorf("series %s found twice: %s and %s", found[i].uid, found[i-1].path, found[i].path)
		}
	}
	return found, nil
}

// headersIn lists the MetaImage headers directly in dir.
func headersIn(dir string, subset int) ([]series, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", dir, err)
	}
	var out []series
	for _, e := range entries {
		ext := filepath.Ext(e.Name())
		if e.IsDir() || !slices.Contains(headerExts, strings.ToLower(ext)) {
			continue
		}
		out = append(out, series{uid: strings.TrimSuffix(e.Name(), ext), path: filepath.Join(dir, e.Name()), subset: subset})
	}
	return out, nil
}

// selection is what the flags ask for.
type selection struct {
	uids      []string // --series; empty: all
	subsets   []int    // --subset; empty: all
	split     string   // all, train or val
	valStride int
	shard     shard
}

// apply narrows the discovered series (sorted by uid) to the selection,
// in that order: uids, subsets, split, then the shard. It returns the
// selected series and warnings for the caller to print.
func (sel selection) apply(dir string, all []series) ([]series, []string, error) {
	if len(all) == 0 {
		return nil, nil, fmt.Errorf("no series found: no %s/subset*/*.mhd or %s/*.mhd", dir, dir)
	}
	out, err := sel.byUID(dir, all)
	if err != nil {
		return nil, nil, err
	}
	if out, err = sel.bySubset(dir, out); err != nil {
		return nil, nil, err
	}
	if len(out) == 0 {
		return nil, nil, fmt.Errorf("none of the %d series under %s matches the selection", len(all), dir)
	}
	var warnings []string
	if sel.split != "all" {
		selected := len(out)
		if out, warnings, err = sel.bySplit(dir, out); err != nil {
			return nil, nil, err
		}
		if len(out) == 0 {
			// A split that holds none of the series on disk is a fact about
			// the data (two series rarely include a validation one), not a
			// mistake: the stream is empty, and complete.
			warnings = append(warnings, fmt.Sprintf("the %s split holds none of the %d selected series on disk: writing an empty stream", sel.split, selected))
			return nil, warnings, nil
		}
	}
	if len(out) == 0 {
		return nil, nil, fmt.Errorf("none of the %d series under %s matches the selection", len(all), dir)
	}
	// An empty shard is fine: there may be more machines than series.
	return sel.shard.part(out), warnings, nil
}

func (sel selection) byUID(dir string, all []series) ([]series, error) {
	if len(sel.uids) == 0 {
		return all, nil
	}
	byUID := make(map[string]series, len(all))
	for _, s := range all {
		byUID[s.uid] = s
	}
	var out []series
	for _, u := range sel.uids {
		s, ok := byUID[u]
		if !ok {
			return nil, fmt.Errorf("--series: series %s not found under %s", u, dir)
		}
		if !slices.ContainsFunc(out, func(o series) bool { return o.uid == u }) {
			out = append(out, s)
		}
	}
	slices.SortFunc(out, func(a, b series) int { return strings.Compare(a.uid, b.uid) })
	return out, nil
}

func (sel selection) bySubset(dir string, in []series) ([]series, error) {
	if len(sel.subsets) == 0 {
		return in, nil
	}
	var out []series
	for _, n := range sel.subsets {
		if st, err := os.Stat(filepath.Join(dir, fmt.Sprintf("subset%d", n))); err != nil || !st.IsDir() {
			return nil, fmt.Errorf("--subset %d: no directory %s/subset%d", n, dir, n)
		}
	}
	for _, s := range in {
		if slices.Contains(sel.subsets, s.subset) {
			out = append(out, s)
		}
	}
	return out, nil
}

// bySplit keeps the training or validation series of SPEC.md's split,
// which is made on the series lists of the CSV files in dir, not on what
// is on disk. Series on disk that no list names belong to neither part.
func (sel selection) bySplit(dir string, in []series) ([]series, []string, error) {
	uids, err := luna.SeriesUIDs(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("--split %s: %w", sel.split, err)
	}
	train, val := luna.Split(uids, sel.valStride)
	part := train
	if sel.split == "val" {
		part = val
	}
	var out []series
	unlisted := 0
	for _, s := range in {
		if _, ok := slices.BinarySearch(part, s.uid); ok {
			out = append(out, s)
		} else if _, ok := slices.BinarySearch(uids, s.uid); !ok {
			unlisted++
		}
	}
	var warnings []string
	if unlisted > 0 {
		warnings = append(warnings, fmt.Sprintf("%d series on disk are in none of the CSV series lists of %s; --split %s leaves them out",
			unlisted, dir, sel.split))
	}
	return out, warnings, nil
}

// parseSplit checks --split and --val-stride.
func parseSplit(split string, stride int) error {
	switch split {
	case "all", "train", "val":
	default:
		return fmt.Errorf("--split %q: want train, val or all", split)
	}
	if stride < 1 {
		return fmt.Errorf("--val-stride %d: must be at least 1", stride)
	}
	return nil
}

// parseSubsets parses --subset values (each may hold a comma list).
func parseSubsets(vals []string) ([]int, error) {
	var out []int
	for _, v := range vals {
		for _, f := range cliSplit(v) {
			n, err := strconv.Atoi(f)
			if err != nil || n < 0 {
				return nil, errors.New("--subset " + strconv.Quote(f) + ": want a subset number such as 0 or 0,1,2")
			}
			out = append(out, n)
		}
	}
	return out, nil
}

// cliSplit splits a comma list, trimming blanks and dropping empty items.
func cliSplit(v string) []string {
	var out []string
	for _, f := range strings.Split(v, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
