package froc

import (
	"compress/gzip"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/ctseg/ctseg/internal/luna"
)

// Mark is one CAD mark of a submission: a row of the submission CSV.
type Mark struct {
	SeriesUID   string
	XYZ         [3]float64 // coordX, coordY, coordZ in mm
	Probability float64
}

// Finding is one reference finding: a row of annotations.csv or of
// annotations_excluded.csv.
type Finding struct {
	SeriesUID string
	XYZ       [3]float64 // coordX, coordY, coordZ in mm
	// DiameterMM is the finding's diameter; a mark hits the finding when it
	// lies strictly within half of it. A negative diameter (-1 marks the
	// excluded non-nodules) counts as NonNoduleDiameterMM, as in the script.
	DiameterMM float64
}

// NonNoduleDiameterMM is the diameter the script gives a finding whose
// diameter is negative (the -1 of annotations_excluded.csv's non-nodules).
const NonNoduleDiameterMM = 10.0

// Reference is what a submission is scored against.
type Reference struct {
	// Scans are the series of seriesuids.csv, in file order. Every scan
	// counts in the false positives per scan, marked or not; marks and
	// findings on other series are ignored.
	Scans []string
	// Included are the findings to detect (annotations.csv).
	Included []Finding
	// Excluded are the findings whose marks count neither as hits nor as
	// false positives (annotations_excluded.csv).
	Excluded []Finding
}

// LoadReferenceDir loads a Reference from the LUNA16 files annotations.csv,
// annotations_excluded.csv and seriesuids.csv of dir.
func LoadReferenceDir(dir string) (*Reference, error) {
	return LoadReference(filepath.Join(dir, luna.AnnotationsFile),
		filepath.Join(dir, luna.ExcludedFile), filepath.Join(dir, luna.SeriesUIDsFile))
}

// LoadReference loads a Reference from the script's three inputs: the
// included findings, the excluded findings and the series list.
func LoadReference(annotations, excluded, seriesUIDs string) (*Reference, error) {
	inc, err := luna.LoadAnnotations(annotations)
	if err != nil {
		return nil, err
	}
	exc, err := luna.LoadExcluded(excluded)
	if err != nil {
		return nil, err
	}
	scans, err := luna.LoadSeriesList(seriesUIDs)
	if err != nil {
		return nil, err
	}
	return &Reference{Scans: scans, Included: findings(inc), Excluded: findings(exc)}, nil
}

// findings converts nodule-list rows to Findings.
func findings(rows []luna.Annotation) []Finding {
	out := make([]Finding, len(rows))
	for i, a := range rows {
		out[i] = Finding{SeriesUID: a.SeriesUID, XYZ: a.CenterXYZ, DiameterMM: a.DiameterMM}
	}
	return out
}

// submissionColumns are the columns a submission must have, found by name.
var submissionColumns = [...]string{"seriesuid", "coordX", "coordY", "coordZ", "probability"}

// LoadSubmission reads a submission CSV file (gzip-compressed when its name
// ends in .gz); see ReadSubmission.
func LoadSubmission(path string) ([]Mark, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read submission: %w", err)
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(path, ".gz") {
		zr, err := gzip.NewReader(f)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		defer zr.Close()
		r = zr
	}
	return ReadSubmission(r, path)
}

// ReadSubmission reads a submission CSV from r (name is used in errors).
// The first line is a header; the columns seriesuid, coordX, coordY, coordZ
// and probability are found by name, and other columns are ignored. A later
// line with a field "seriesuid" is another header (shards' files
// concatenated) and applies to the lines after it. Every other line must
// have as many fields as its header, a non-empty series uid and finite
// numbers, or the error names the file and line. A header alone is a valid,
// empty submission.
func ReadSubmission(r io.Reader, name string) ([]Mark, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	var (
		marks []Mark
		cols  []int // positions of submissionColumns; nil before the header
		width int   // number of fields of the header
	)
	for {
		row, err := cr.Read()
		if err == io.EOF {
			if cols == nil {
				return nil, fmt.Errorf("%s: empty file, expected a header line", name)
			}
			return marks, nil
		}
		if err != nil {
			return nil, csvError(name, err)
		}
		line, _ := cr.FieldPos(0)
		if cols == nil || isHeader(row) {
			if cols, err = headerColumns(name, line, row); err != nil {
				return nil, err
			}
			width = len(row)
			continue
		}
		m, err := parseMark(name, line, row, cols, width)
		if err != nil {
			return nil, err
		}
		marks = append(marks, m)
	}
}

// csvError names the file and line of a CSV syntax error.
func csvError(name string, err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s:%d: %w", name, pe.Line, pe.Err)
	}
	return fmt.Errorf("%s: %w", name, err)
}

// isHeader reports whether a row after the first is a repeated header.
func isHeader(row []string) bool {
	for _, f := range row {
		if cleanHeader(f) == "seriesuid" {
			return true
		}
	}
	return false
}

// cleanHeader trims a header field and a UTF-8 byte-order mark.
func cleanHeader(f string) string {
	return strings.TrimSpace(strings.TrimPrefix(f, "\ufeff"))
}

// headerColumns finds submissionColumns in a header row.
func headerColumns(name string, line int, row []string) ([]int, error) {
	cols := make([]int, len(submissionColumns))
	for i, want := range submissionColumns {
		cols[i] = -1
		for j, f := range row {
			if cleanHeader(f) == want {
				cols[i] = j
				break
			}
		}
		if cols[i] < 0 {
			return nil, fmt.Errorf("%s:%d: header lacks column %q (a submission needs %s)",
				name, line, want, strings.Join(submissionColumns[:], ","))
		}
	}
	return cols, nil
}

// parseMark parses one data row.
func parseMark(name string, line int, row []string, cols []int, width int) (Mark, error) {
	if len(row) != width {
		return Mark{}, fmt.Errorf("%s:%d: %d fields, but the header has %d", name, line, len(row), width)
	}
	m := Mark{SeriesUID: strings.TrimSpace(row[cols[0]])}
	if m.SeriesUID == "" {
		return m, fmt.Errorf("%s:%d: empty seriesuid", name, line)
	}
	var v [4]float64
	for i := range v {
		f, err := parseNumber(row[cols[i+1]])
		if err != nil {
			return m, fmt.Errorf("%s:%d: column %s: %w", name, line, submissionColumns[i+1], err)
		}
		v[i] = f
	}
	m.XYZ = [3]float64{v[0], v[1], v[2]}
	m.Probability = v[3]
	return m, nil
}

// parseNumber parses a finite number, as Python's float() would read it.
func parseNumber(s string) (float64, error) {
	v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil {
		return 0, errors.New(shown(s) + " is not a number")
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, errors.New(shown(s) + " is not a finite number")
	}
	return v, nil
}

// shown quotes a field for an error message, cut to a readable length (a
// binary file given as a CSV must not fill the terminal).
func shown(s string) string {
	const max = 40
	if len(s) > max {
		return strconv.Quote(s[:max]) + "…"
	}
	return strconv.Quote(s)
}
