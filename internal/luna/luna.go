// Package luna holds the LUNA16 layout: it finds the CT series of a data
// directory and selects among them (uids, subsets, the split), reads the
// list files (the nodule annotations, the candidate list, the excluded
// findings and the series list) and holds the train/validation split rule
// of SPEC.md ("Data on disk", "Crops/Split").
//
// Files are read by column name from their header, so extra or reordered
// columns are fine; a missing needed column, a malformed number or a row
// with the wrong number of fields is an error naming the file and line.
package luna

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// File names of the LUNA16 layout, as found in a data directory.
const (
	// MalignancyFile is the book's nodule list (annotations with malignancy).
	MalignancyFile = "annotations_with_malignancy.csv"
	// AnnotationsFile is LUNA16's own nodule list.
	AnnotationsFile = "annotations.csv"
	// CandidatesFile is LUNA16's candidate list (class 1 nodules, class 0 not).
	CandidatesFile = "candidates.csv"
	// ExcludedFile is the LUNA16 evaluation's "irrelevant findings" list.
	ExcludedFile = "annotations_excluded.csv"
	// SeriesUIDsFile lists every LUNA16 series uid, one per line, no header.
	SeriesUIDsFile = "seriesuids.csv"
)

// AnnotationsPath returns the nodule list to use in dir: the book's
// annotations_with_malignancy.csv when present, else LUNA16's
// annotations.csv. It fails when neither exists.
func AnnotationsPath(dir string) (string, error) {
	// A mistyped directory is named as such, not as one without the files.
	if st, err := os.Stat(dir); err != nil {
		return "", fmt.Errorf("data directory: %w", err)
	} else if !st.IsDir() {
		return "", fmt.Errorf("data directory %s is not a directory", dir)
	}
	for _, name := range []string{MalignancyFile, AnnotationsFile} {
		p := filepath.Join(dir, name)
		ok, err := exists(p)
		if err != nil {
			return "", err
		}
		if ok {
			return p, nil
		}
	}
	return "", fmt.Errorf("no nodule list in %s: neither %s nor %s exists", dir, MalignancyFile, AnnotationsFile)
}

// exists reports whether path exists; errors other than "not found" (a
// permission problem, say) are returned rather than taken for absence.
func exists(path string) (bool, error) {
	_, err := os.Stat(path)
	if err == nil {
		return true, nil
	}
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	return false, err
}

// BySeries groups rows by series uid, keeping the file order within each
// series.
func BySeries[T interface{ Series() string }](rows []T) map[string][]T {
	m := make(map[string][]T)
	for _, r := range rows {
		m[r.Series()] = append(m[r.Series()], r)
	}
	return m
}
