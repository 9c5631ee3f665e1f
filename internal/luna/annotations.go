package luna

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// Annotation is one row of a nodule list: the book's
// annotations_with_malignancy.csv, LUNA16's annotations.csv, or LUNA16's
// annotations_excluded.csv (where DiameterMM is -1 for non-nodules).
type Annotation struct {
	SeriesUID  string
	CenterXYZ  [3]float64 // coordX, coordY, coordZ in mm
	DiameterMM float64
	// IsMalignant is mal_bool; false when the file has no such column.
	IsMalignant bool
	// MalDetails are the radiologists' malignancy ratings (mal_details);
	// nil when the file has no such column.
	MalDetails []int
	// HasBBox says whether the file gave the bounding box (bboxLow*,
	// bboxHigh*, the book's file only).
	HasBBox                 bool
	BBoxLowXYZ, BBoxHighXYZ [3]float64
}

// Series returns the series uid (for BySeries).
func (a Annotation) Series() string { return a.SeriesUID }

var (
	annotationRequired = []string{"seriesuid", "coordX", "coordY", "coordZ", "diameter_mm"}
	annotationOptional = []string{"mal_bool", "mal_details", "len_mal_details",
		"bboxLowX", "bboxLowY", "bboxLowZ", "bboxHighX", "bboxHighY", "bboxHighZ"}
)

// LoadAnnotations reads a nodule list file: the book's
// annotations_with_malignancy.csv or LUNA16's annotations.csv (malignancy
// unknown, so false).
func LoadAnnotations(path string) ([]Annotation, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read nodule list: %w", err)
	}
	defer f.Close()
	return ReadAnnotations(f, path)
}

// LoadExcluded reads LUNA16's annotations_excluded.csv, the findings the
// evaluation neither counts as hits nor as false positives. It has the
// columns of annotations.csv; DiameterMM is -1 for non-nodules.
func LoadExcluded(path string) ([]Annotation, error) {
	return LoadAnnotations(path)
}

// ReadAnnotations reads a nodule list from r; name is used in errors.
func ReadAnnotations(r io.Reader, name string) ([]Annotation, error) {
	cr := csv.NewReader(r)
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err == io.EOF {
		return nil, fmt.Errorf("%s: empty file, expected a header line", name)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	cols, err := columns(name, header, annotationRequired, annotationOptional)
	if err != nil {
		return nil, err
	}
	var out []Annotation
	for {
		row, err := cr.Read()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		line, _ := cr.FieldPos(0)
		a, err := parseAnnotation(name, line, row, cols)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
}

// parseAnnotation turns one row into an Annotation.
func parseAnnotation(name string, line int, row []string, cols map[string]int) (Annotation, error) {
	a := Annotation{SeriesUID: strings.TrimSpace(row[cols["seriesuid"]])}
	if a.SeriesUID == "" {
		return a, fmt.Errorf("%s:%d: empty seriesuid", name, line)
	}
	var err error
	if a.CenterXYZ, err = parseXYZ(name, line, row, cols, "coordX", "coordY", "coordZ"); err != nil {
		return a, err
	}
	if a.DiameterMM, err = parseFloat(name, line, "diameter_mm", row[cols["diameter_mm"]]); err != nil {
		return a, err
	}
	if err := parseMalignancy(name, line, row, cols, &a); err != nil {
		return a, err
	}
	return a, parseBBox(name, line, row, cols, &a)
}

// parseMalignancy reads mal_bool (Python's literal True/False) and the
// rating list, checking it against len_mal_details when both are given.
func parseMalignancy(name string, line int, row []string, cols map[string]int, a *Annotation) error {
	if i := cols["mal_bool"]; i >= 0 {
		v, err := strconv.ParseBool(strings.TrimSpace(row[i]))
		if err != nil {
			return fmt.Errorf("%s:%d: column mal_bool: %q is not True or False", name, line, row[i])
		}
		a.IsMalignant = v
	}
	i := cols["mal_details"]
	if i < 0 {
		return nil
	}
	details, err := parseIntList(name, line, "mal_details", row[i])
	if err != nil {
		return err
	}
	a.MalDetails = details
	if j := cols["len_mal_details"]; j >= 0 {
		n, err := strconv.Atoi(strings.TrimSpace(row[j]))
		if err != nil {
			return fmt.Errorf("%s:%d: column len_mal_details: %q is not an integer", name, line, row[j])
		}
		if n != len(details) {
			return fmt.Errorf("%s:%d: len_mal_details is %d but mal_details %q has %d entries", name, line, n, row[i], len(details))
		}
	}
	return nil
}

// parseBBox reads the six bounding-box columns when all are present.
func parseBBox(name string, line int, row []string, cols map[string]int, a *Annotation) error {
	present := 0
	for _, c := range annotationOptional[3:] {
		if cols[c] >= 0 {
			present++
		}
	}
	switch present {
	case 0:
		return nil
	case 6:
	default:
		return errors.New(name + ": header has only some of the bboxLow*/bboxHigh* columns")
	}
	var err error
	if a.BBoxLowXYZ, err = parseXYZ(name, line, row, cols, "bboxLowX", "bboxLowY", "bboxLowZ"); err != nil {
		return err
	}
	if a.BBoxHighXYZ, err = parseXYZ(name, line, row, cols, "bboxHighX", "bboxHighY", "bboxHighZ"); err != nil {
		return err
	}
	a.HasBBox = true
	return nil
}
