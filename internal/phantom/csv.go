package phantom

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// The CSV headers, exactly as in the book's annotations_with_malignancy.csv
// and LUNA16's annotations.csv (and annotations_excluded.csv) and
// candidates.csv.
var (
	MalignancyHeader = []string{"seriesuid", "coordX", "coordY", "coordZ", "diameter_mm", "mal_bool", "mal_details",
		"bboxLowX", "bboxLowY", "bboxLowZ", "bboxHighX", "bboxHighY", "bboxHighZ", "len_mal_details"}
	AnnotationsHeader = []string{"seriesuid", "coordX", "coordY", "coordZ", "diameter_mm"}
	CandidatesHeader  = []string{"seriesuid", "coordX", "coordY", "coordZ", "class"}
)

// ftoa writes a number the way Python's repr does for these values: the
// shortest digits that read back to the same float64, never an exponent.
func ftoa(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// pyList writes ratings as Python prints a list: "[4, 2, 4, 2]".
func pyList(v []int) string {
	parts := make([]string, len(v))
	for i, x := range v {
		parts[i] = strconv.Itoa(x)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// pyBool writes True or False, as pandas wrote the book's mal_bool.
func pyBool(b bool) string {
	if b {
		return "True"
	}
	return "False"
}

// writeRows writes header and the rows each series yields, series in the
// order given, and reports the first error (csv.Writer keeps it).
func writeRows(w io.Writer, header []string, series []*Series, rows func(*Series) [][]string) error {
	cw := csv.NewWriter(w)
	if header != nil {
		if err := cw.Write(header); err != nil {
			return err
		}
	}
	for _, s := range series {
		if err := cw.WriteAll(rows(s)); err != nil { // WriteAll flushes
			return err
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write CSV: %w", err)
	}
	return nil
}

// WriteMalignancy writes annotations_with_malignancy.csv: one row per
// nodule, the book's columns; mal_details is a quoted Python list.
func WriteMalignancy(w io.Writer, series []*Series) error {
	return writeRows(w, MalignancyHeader, series, func(s *Series) [][]string {
		var rows [][]string
		for _, n := range s.Nodules {
			rows = append(rows, []string{s.UID, ftoa(n.CenterXYZ[0]), ftoa(n.CenterXYZ[1]), ftoa(n.CenterXYZ[2]),
				ftoa(n.DiameterMM), pyBool(n.Malignant), pyList(n.MalDetails),
				ftoa(n.BBoxLowXYZ[0]), ftoa(n.BBoxLowXYZ[1]), ftoa(n.BBoxLowXYZ[2]),
				ftoa(n.BBoxHighXYZ[0]), ftoa(n.BBoxHighXYZ[1]), ftoa(n.BBoxHighXYZ[2]),
				strconv.Itoa(len(n.MalDetails))})
		}
		return rows
	})
}

// WriteAnnotations writes LUNA16's annotations.csv: one row per nodule.
func WriteAnnotations(w io.Writer, series []*Series) error {
	return writeRows(w, AnnotationsHeader, series, func(s *Series) [][]string {
		var rows [][]string
		for _, n := range s.Nodules {
			rows = append(rows, []string{s.UID, ftoa(n.CenterXYZ[0]), ftoa(n.CenterXYZ[1]), ftoa(n.CenterXYZ[2]), ftoa(n.DiameterMM)})
		}
		return rows
	})
}

// WriteCandidates writes LUNA16's candidates.csv: the nodules as class 1
// and the decoys as class 0, shuffled within each series.
func WriteCandidates(w io.Writer, series []*Series) error {
	return writeRows(w, CandidatesHeader, series, func(s *Series) [][]string {
		var rows [][]string
		for _, c := range s.Candidates {
			rows = append(rows, []string{s.UID, ftoa(c.CenterXYZ[0]), ftoa(c.CenterXYZ[1]), ftoa(c.CenterXYZ[2]), strconv.Itoa(c.Class)})
		}
		return rows
	})
}

// WriteExcluded writes LUNA16's annotations_excluded.csv, the findings its
// evaluation neither counts as hits nor as false positives: the decoys
// (class-0 candidates), each a non-nodule of diameter -1 as in LUNA16's
// file, in the order of candidates.csv.
func WriteExcluded(w io.Writer, series []*Series) error {
	return writeRows(w, AnnotationsHeader, series, func(s *Series) [][]string {
		var rows [][]string
		for _, c := range s.Candidates {
			if c.Class == 0 {
				rows = append(rows, []string{s.UID, ftoa(c.CenterXYZ[0]), ftoa(c.CenterXYZ[1]), ftoa(c.CenterXYZ[2]), "-1"})
			}
		}
		return rows
	})
}

// WriteSeriesUIDs writes seriesuids.csv: one uid per line, no header.
func WriteSeriesUIDs(w io.Writer, series []*Series) error {
	return writeRows(w, nil, series, func(s *Series) [][]string { return [][]string{{s.UID}} })
}
