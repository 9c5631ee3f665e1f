package luna

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// Series is one CT found on disk.
type Series struct {
	UID    string
	Path   string // the .mhd (or .mha) header
	Subset int    // N of DIR/subsetN; -1 for a header directly in DIR
}

// headerExts are the MetaImage header extensions discovery accepts.
var headerExts = []string{".mhd", ".mha"}

// Discover lists the series under dir: DIR/subset*/<uid>.mhd and
// DIR/<uid>.mhd (also .mha), sorted by uid. A uid found twice is an error,
// since the two copies could differ.
func Discover(dir string) ([]Series, error) {
	if st, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	} else if !st.IsDir() {
		return nil, fmt.Errorf("data directory %s is not a directory", dir)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", dir, err)
	}
	found := headersIn(dir, entries, -1)
	for _, e := range entries {
		name, ok := strings.CutPrefix(e.Name(), "subset")
		n, err := strconv.Atoi(name)
		sub := filepath.Join(dir, e.Name())
		if st, serr := os.Stat(sub); !ok || serr != nil || !st.IsDir() || err != nil || n < 0 {
			continue // subset0.zip and the like
		}
		subEntries, err := os.ReadDir(sub)
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", sub, err)
		}
		found = append(found, headersIn(sub, subEntries, n)...)
	}
	slices.SortFunc(found, func(a, b Series) int { return strings.Compare(a.UID, b.UID) })
	for i := 1; i < len(found); i++ {
		if found[i].UID == found[i-1].UID {
			return nil, fmt.Errorf("series %s found twice: %s and %s", found[i].UID, found[i-1].Path, found[i].Path)
		}
	}
	return found, nil
}

// headersIn lists the MetaImage headers among the entries of dir.
func headersIn(dir string, entries []os.DirEntry, subset int) []Series {
	var out []Series
	for _, e := range entries {
		ext := filepath.Ext(e.Name())
		if e.IsDir() || !slices.Contains(headerExts, strings.ToLower(ext)) {
			continue
		}
		out = append(out, Series{UID: strings.TrimSuffix(e.Name(), ext), Path: filepath.Join(dir, e.Name()), Subset: subset})
	}
	return out
}

// Selection picks series among those on disk, as ctread's flags of the
// same names (which its errors name) ask.
type Selection struct {
	UIDs      []string // --series; empty: all
	Subsets   []int    // --subset; empty: all
	Split     string   // --split: "all" (or ""), "train" or "val"
	ValStride int      // --val-stride: every ValStride-th listed uid is validation (Split)
}

// Check checks Split and ValStride as given by a user (Split "" is not
// one of the names).
func (sel Selection) Check() error {
	switch sel.Split {
	case "all", "train", "val":
	default:
		return fmt.Errorf("--split %q: want train, val or all", sel.Split)
	}
	if sel.ValStride < 1 {
		return fmt.Errorf("--val-stride %d: must be at least 1", sel.ValStride)
	}
	return nil
}

// Apply narrows the discovered series (sorted by uid) to the selection,
// in that order: uids, subsets, then split. It returns the selected
// series, sorted by uid, and warnings for the caller to print. A Split
// other than "train" and "val" selects all; see Check.
func (sel Selection) Apply(dir string, all []Series) ([]Series, []string, error) {
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
	if sel.Split != "train" && sel.Split != "val" {
		return out, nil, nil
	}
	selected := len(out)
	out, warnings, err := sel.bySplit(dir, out)
	if err != nil {
		return nil, nil, err
	}
	if len(out) == 0 {
		// A split that holds none of the series on disk is a fact about
		// the data (two series rarely include a validation one), not a
		// mistake: the selection is empty, and complete.
		warnings = append(warnings, fmt.Sprintf("the %s split holds none of the %d selected series on disk: writing an empty stream", sel.Split, selected))
	}
	return out, warnings, nil
}

func (sel Selection) byUID(dir string, all []Series) ([]Series, error) {
	if len(sel.UIDs) == 0 {
		return all, nil
	}
	byUID := make(map[string]Series, len(all))
	for _, s := range all {
		byUID[s.UID] = s
	}
	var out []Series
	for _, u := range sel.UIDs {
		s, ok := byUID[u]
		if !ok {
			return nil, fmt.Errorf("--series: series %s not found under %s", u, dir)
		}
		if !slices.ContainsFunc(out, func(o Series) bool { return o.UID == u }) {
			out = append(out, s)
		}
	}
	slices.SortFunc(out, func(a, b Series) int { return strings.Compare(a.UID, b.UID) })
	return out, nil
}

func (sel Selection) bySubset(dir string, in []Series) ([]Series, error) {
	if len(sel.Subsets) == 0 {
		return in, nil
	}
	for _, n := range sel.Subsets {
		if st, err := os.Stat(filepath.Join(dir, fmt.Sprintf("subset%d", n))); err != nil || !st.IsDir() {
			return nil, fmt.Errorf("--subset %d: no directory %s/subset%d", n, dir, n)
		}
	}
	var out []Series
	for _, s := range in {
		if slices.Contains(sel.Subsets, s.Subset) {
			out = append(out, s)
		}
	}
	return out, nil
}

// bySplit keeps the training or validation series of SPEC.md's split,
// which is made on the series lists of the CSV files in dir, not on what
// is on disk. Series on disk that no list names belong to neither part.
func (sel Selection) bySplit(dir string, in []Series) ([]Series, []string, error) {
	uids, err := SeriesUIDs(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("--split %s: %w", sel.Split, err)
	}
	train, val := Split(uids, sel.ValStride)
	part := train
	if sel.Split == "val" {
		part = val
	}
	var out []Series
	unlisted := 0
	for _, s := range in {
		if _, ok := slices.BinarySearch(part, s.UID); ok {
			out = append(out, s)
		} else if _, ok := slices.BinarySearch(uids, s.UID); !ok {
			unlisted++
		}
	}
	var warnings []string
	if unlisted > 0 {
		warnings = append(warnings, fmt.Sprintf("%d series on disk are in none of the CSV series lists of %s; --split %s leaves them out",
			unlisted, dir, sel.Split))
	}
	return out, warnings, nil
}

// CandidatesPath returns DIR/candidates.csv when it exists, else "" (also
// for dir ""); errors other than "not found" are returned.
func CandidatesPath(dir string) (string, error) {
	if dir == "" {
		return "", nil
	}
	p := filepath.Join(dir, CandidatesFile)
	ok, err := exists(p)
	if !ok {
		p = ""
	}
	return p, err
}
