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

// MaxDiameterMM bounds the diameter of a nodule in a nodule list. LUNA16's
// largest is 32.3 mm (its excluded findings reach 38 mm); lesions over
// 30 mm are masses, not nodules, and a diameter over 100 mm is a unit or
// column mistake that would grow a mask box over half a chest.
const MaxDiameterMM = 100

// NonNoduleDiameter is the diameter annotations_excluded.csv gives the
// findings that are not nodules.
const NonNoduleDiameter = -1

// list is which kind of nodule list a file is: the rules differ.
type list int

const (
	noduleList   list = iota // annotations.csv, annotations_with_malignancy.csv
	excludedList             // annotations_excluded.csv
)

// LoadAnnotations reads a nodule list file: the book's
// annotations_with_malignancy.csv or LUNA16's annotations.csv (malignancy
// unknown, so false).
func LoadAnnotations(path string) ([]Annotation, error) {
	return load(path, noduleList)
}

// LoadExcluded reads LUNA16's annotations_excluded.csv, the findings the
// evaluation neither counts as hits nor as false positives. It has the
// columns of annotations.csv; DiameterMM is -1 for non-nodules.
func LoadExcluded(path string) ([]Annotation, error) {
	return load(path, excludedList)
}

// load opens path and reads it as a list of the given kind.
func load(path string, kind list) ([]Annotation, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read nodule list: %w", err)
	}
	defer f.Close()
	return read(f, path, kind)
}

// ReadAnnotations reads a nodule list from r; name is used in errors.
// Every diameter must be in (0, MaxDiameterMM], and no row may repeat
// another's series, centre and diameter.
func ReadAnnotations(r io.Reader, name string) ([]Annotation, error) {
	return read(r, name, noduleList)
}

// ReadExcluded reads an excluded-findings list from r (name is used in
// errors). Diameters are NonNoduleDiameter or in (0, MaxDiameterMM];
// repeated rows are kept: LUNA16's file has 11,105 of them (each reader's
// mark of a finding is a row).
func ReadExcluded(r io.Reader, name string) ([]Annotation, error) {
	return read(r, name, excludedList)
}

// read reads a list of the given kind from r, applying its rules.
func read(r io.Reader, name string, kind list) ([]Annotation, error) {
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
	seen := map[rowKey]int{} // first line of each row, for duplicates
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
		if err := checkDiameter(name, line, a.DiameterMM, kind); err != nil {
			return nil, err
		}
		if kind == noduleList {
			if err := checkRepeat(seen, name, line, a); err != nil {
				return nil, err
			}
		}
		out = append(out, a)
	}
}

// checkDiameter refuses a diameter no nodule has. A zero or negative one
// would make no mask box and no evaluation hit radius; -1 is allowed in the
// excluded list only, where it marks a non-nodule.
func checkDiameter(name string, line int, d float64, kind list) error {
	if d > 0 && d <= MaxDiameterMM || kind == excludedList && d == NonNoduleDiameter {
		return nil
	}
	want := fmt.Sprintf("want more than 0 and at most %d mm", MaxDiameterMM)
	if kind == excludedList {
		want += fmt.Sprintf(", or %d for a non-nodule", NonNoduleDiameter)
	}
	return fmt.Errorf("%s:%d: column diameter_mm: %v is not a nodule diameter (%s)", name, line, d, want)
}

// rowKey is what makes two rows of a nodule list the same nodule.
type rowKey struct {
	uid string
	xyz [3]float64
	d   float64
}

// checkRepeat refuses a row that repeats an earlier one's series, centre
// and diameter. It is an error, not a warning: such a row is a copy (two
// files concatenated, a row pasted twice), never a second nodule, and it
// would silently give that nodule two training crops and count it twice
// in the evaluation.
func checkRepeat(seen map[rowKey]int, name string, line int, a Annotation) error {
	k := rowKey{a.SeriesUID, a.CenterXYZ, a.DiameterMM}
	if first, dup := seen[k]; dup {
		return fmt.Errorf("%s:%d: repeats line %d (same series, centre and diameter): a nodule is listed once", name, line, first)
	}
	seen[k] = line
	return nil
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
			return fmt.Errorf("%s:%d: column mal_bool: %s is not True or False", name, line, quote(row[i], maxShownField))
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
			return fmt.Errorf("%s:%d: column len_mal_details: %s is not an integer", name, line, quote(row[j], maxShownField))
		}
		if n != len(details) {
			return fmt.Errorf("%s:%d: len_mal_details is %d but mal_details %s has %d entries", name, line, n, quote(row[i], maxShownField), len(details))
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
