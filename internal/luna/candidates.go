package luna

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
)

// Candidate is one row of candidates.csv: a position the LUNA16 candidate
// detectors proposed, class 1 for a nodule and 0 for a non-nodule.
type Candidate struct {
	SeriesUID string
	CenterXYZ [3]float64 // coordX, coordY, coordZ in mm
	Class     int        // 0 or 1
}

// Series returns the series uid (for BySeries).
func (c Candidate) Series() string { return c.SeriesUID }

var candidateColumns = []string{"seriesuid", "coordX", "coordY", "coordZ", "class"}

// LoadCandidates reads candidates.csv, keeping the rows whose series uid
// keep accepts (all rows when keep is nil).
func LoadCandidates(path string, keep func(uid string) bool) ([]Candidate, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read candidate list: %w", err)
	}
	defer f.Close()
	return ReadCandidates(f, path, keep)
}

// ReadCandidates reads a candidate list from r (name is used in errors),
// keeping the rows whose series uid keep accepts (all when keep is nil).
//
// The LUNA16 file has 551,065 rows, so this is a line splitter rather than
// encoding/csv: rows are split on commas in place, keep is asked once per
// run of rows of the same series (the file is grouped by series), and the
// numbers of rows that are not kept are not parsed at all. A line holding
// a quote character goes through encoding/csv, so quoted fields still work
// (but not quoted fields spanning lines).
func ReadCandidates(r io.Reader, name string, keep func(uid string) bool) ([]Candidate, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	cs := candidateScanner{name: name, keep: keep}
	for sc.Scan() {
		cs.line++
		if err := cs.scanLine(sc.Bytes()); err != nil {
			return nil, err
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, fmt.Errorf("%s:%d: %w", name, cs.line+1, err)
		}
		return nil, fmt.Errorf("%s: %w", name, err) // a read error, not a bad line
	}
	if cs.cols == nil {
		return nil, fmt.Errorf("%s: empty file, expected a header line", name)
	}
	return cs.out, nil
}

// candidateScanner holds the state of ReadCandidates between lines.
type candidateScanner struct {
	name   string
	keep   func(string) bool
	line   int
	cols   map[string]int // nil until the header is read
	nf     int            // fields per row, from the header
	fields [][]byte

	lastUID  []byte // uid of the previous row, copied out of the scanner
	lastStr  string // the same as a string, shared by all its rows
	lastKeep bool

	out []Candidate
}

// scanLine handles one line: the header first, then data rows.
func (cs *candidateScanner) scanLine(b []byte) error {
	if len(bytes.TrimSpace(b)) == 0 {
		return nil // encoding/csv skips blank lines too
	}
	fields, err := cs.split(b)
	if err != nil {
		return err
	}
	if cs.cols == nil {
		return cs.header(fields)
	}
	if len(fields) != cs.nf {
		return fmt.Errorf("%s:%d: %d fields, but the header has %d", cs.name, cs.line, len(fields), cs.nf)
	}
	uid := bytes.TrimSpace(fields[cs.cols["seriesuid"]])
	if !bytes.Equal(uid, cs.lastUID) || cs.lastStr == "" {
		if len(uid) == 0 {
			return fmt.Errorf("%s:%d: empty seriesuid", cs.name, cs.line)
		}
		cs.lastStr = string(uid)
		cs.lastUID = append(cs.lastUID[:0], uid...)
		cs.lastKeep = cs.keep == nil || cs.keep(cs.lastStr)
	}
	if !cs.lastKeep {
		return nil
	}
	return cs.row(fields)
}

// header records the column positions.
func (cs *candidateScanner) header(fields [][]byte) error {
	names := make([]string, len(fields))
	for i, f := range fields {
		names[i] = string(f)
	}
	cols, err := columns(cs.name, names, candidateColumns, nil)
	if err != nil {
		return err
	}
	cs.cols, cs.nf = cols, len(fields)
	return nil
}

// row parses the numbers of a kept row.
func (cs *candidateScanner) row(fields [][]byte) error {
	c := Candidate{SeriesUID: cs.lastStr}
	for i, col := range [3]string{"coordX", "coordY", "coordZ"} {
		v, err := parseFloat(cs.name, cs.line, col, string(fields[cs.cols[col]]))
		if err != nil {
			return err
		}
		c.CenterXYZ[i] = v
	}
	cls := bytes.TrimSpace(fields[cs.cols["class"]])
	switch string(cls) {
	case "0":
		c.Class = 0
	case "1":
		c.Class = 1
	default:
		return fmt.Errorf("%s:%d: column class: %s is not 0 or 1", cs.name, cs.line, quote(string(cls), maxShownField))
	}
	cs.out = append(cs.out, c)
	return nil
}

// split cuts a line into fields, reusing cs.fields. Lines with a quote go
// through encoding/csv.
func (cs *candidateScanner) split(b []byte) ([][]byte, error) {
	if bytes.IndexByte(b, '"') >= 0 {
		rec, err := csv.NewReader(bytes.NewReader(b)).Read()
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", cs.name, cs.line, err)
		}
		fields := make([][]byte, len(rec))
		for i, s := range rec {
			fields[i] = []byte(s)
		}
		return fields, nil
	}
	fields := cs.fields[:0]
	for {
		i := bytes.IndexByte(b, ',')
		if i < 0 {
			fields = append(fields, b)
			break
		}
		fields = append(fields, b[:i])
		b = b[i+1:]
	}
	cs.fields = fields
	return fields, nil
}
