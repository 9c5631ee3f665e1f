package luna

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// LoadSeriesList reads seriesuids.csv: one series uid per line, no header.
func LoadSeriesList(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read series list: %w", err)
	}
	defer f.Close()
	return ReadSeriesList(f, path)
}

// ReadSeriesList reads a series list from r (name is used in errors).
// Blank lines are skipped, and so is a first line "seriesuid", in case the
// list was written with a header after all.
func ReadSeriesList(r io.Reader, name string) ([]string, error) {
	sc := bufio.NewScanner(r)
	var uids []string
	for line := 1; sc.Scan(); line++ {
		s := strings.TrimSpace(sc.Text())
		switch {
		case s == "":
			continue
		case line == 1 && s == "seriesuid":
			continue
		case strings.ContainsAny(s, ", \t\""):
			return nil, fmt.Errorf("%s:%d: %s is not a single series uid (one per line expected)", name, line, quote(s, maxShownField))

		case !utf8.ValidString(s) || strings.ContainsFunc(s, unicode.IsControl):
			// A binary file given by mistake: its "lines" are no uids.
			return nil, fmt.Errorf("%s:%d: %s is not a series uid: it holds control bytes or invalid UTF-8", name, line, quote(s, maxShownField))
		}
		uids = append(uids, s)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return uids, nil
}

// SeriesUIDs returns the sorted series uids of the candidate list found in
// dir: the union of the series named by annotations_with_malignancy.csv,
// annotations.csv, candidates.csv and seriesuids.csv, whichever of them
// exist (at least one must). It does not look at which CTs are on disk, so
// the split made from it does not depend on the subsets present (SPEC.md).
func SeriesUIDs(dir string) ([]string, error) {
	set := make(map[string]struct{})
	found := 0
	for _, name := range []string{MalignancyFile, AnnotationsFile, CandidatesFile, SeriesUIDsFile} {
		path := filepath.Join(dir, name)
		ok, err := exists(path)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		found++
		if err := addSeries(set, path, name); err != nil {
			return nil, err
		}
	}
	if found == 0 {
		return nil, fmt.Errorf("no series list in %s: none of %s, %s, %s, %s exists",
			dir, MalignancyFile, AnnotationsFile, CandidatesFile, SeriesUIDsFile)
	}
	uids := make([]string, 0, len(set))
	for u := range set {
		uids = append(uids, u)
	}
	slices.Sort(uids)
	return uids, nil
}

// addSeries adds the series uids of one list file to set.
func addSeries(set map[string]struct{}, path, name string) error {
	switch name {
	case CandidatesFile:
		// Only the uids are wanted: keep rejects every row, so no
		// number is parsed, and is asked once per series.
		_, err := LoadCandidates(path, func(u string) bool { set[u] = struct{}{}; return false })
		return err
	case SeriesUIDsFile:
		uids, err := LoadSeriesList(path)
		for _, u := range uids {
			set[u] = struct{}{}
		}
		return err
	default:
		rows, err := LoadAnnotations(path)
		for _, a := range rows {
			set[a.SeriesUID] = struct{}{}
		}
		return err
	}
}

// Split sorts the series uids (dropping duplicates) and deals them into
// training and validation the book's way: validation is every
// valStride-th uid starting at index 0, training is the rest; both come
// back sorted. A valStride below 1 means no validation set.
func Split(uids []string, valStride int) (train, val []string) {
	sorted := slices.Compact(slices.Sorted(slices.Values(uids)))
	for i, u := range sorted {
		if valStride >= 1 && i%valStride == 0 {
			val = append(val, u)
		} else {
			train = append(train, u)
		}
	}
	return train, val
}
