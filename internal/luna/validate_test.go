package luna

import (
	"strings"
	"testing"
)

// Diameters no nodule has are errors naming file:line; -1 is a valid
// diameter in the excluded list only.
func TestDiameterBounds(t *testing.T) {
	const h = "seriesuid,coordX,coordY,coordZ,diameter_mm\n"
	for _, d := range []string{"0", "-1", "-3.5", "100.01", "1e9"} {
		_, err := ReadAnnotations(strings.NewReader(h+"1.2,1,2,3,5\n1.2,4,5,6,"+d+"\n"), "a.csv")
		if err == nil || !strings.Contains(err.Error(), "a.csv:3: column diameter_mm: ") ||
			!strings.Contains(err.Error(), "at most 100 mm") {
			t.Errorf("diameter %s: err = %v, want an error naming a.csv:3 and the bounds", d, err)
		}
	}
	if _, err := ReadAnnotations(strings.NewReader(h+"1.2,1,2,3,100\n1.2,1,2,3,0.1\n"), "a.csv"); err != nil {
		t.Errorf("diameters 100 and 0.1: %v", err)
	}
	rows, err := ReadExcluded(strings.NewReader(h+"1.2,1,2,3,-1\n1.2,1,2,3,-1\n1.2,1,2,4,38.1\n"), "x.csv")
	if err != nil || len(rows) != 3 || rows[0].DiameterMM != NonNoduleDiameter {
		t.Errorf("excluded list with -1 and a repeated row: %v, %v", rows, err)
	}
	for _, d := range []string{"0", "-2", "101"} {
		_, err := ReadExcluded(strings.NewReader(h+"1.2,1,2,3,"+d+"\n"), "x.csv")
		if err == nil || !strings.Contains(err.Error(), "x.csv:2: column diameter_mm: ") || !strings.Contains(err.Error(), "or -1 for a non-nodule") {
			t.Errorf("excluded diameter %s: err = %v", d, err)
		}
	}
}

// A nodule list row that repeats another's series, centre and diameter is
// an error naming both lines; the same centre with another diameter, or
// the same place in another series, is not.
func TestRepeatedNodule(t *testing.T) {
	const h = "seriesuid,coordX,coordY,coordZ,diameter_mm\n"
	text := h + "1.2,1,2,3,5\n1.3,1,2,3,5\n1.2,1,2,3,6\n1.2,1.0,2.00,3,5.0\n"
	_, err := ReadAnnotations(strings.NewReader(text), "a.csv")
	if err == nil || !strings.Contains(err.Error(), "a.csv:5: repeats line 2") {
		t.Errorf("err = %v, want a.csv:5: repeats line 2", err)
	}
	if _, err := ReadAnnotations(strings.NewReader(h+"1.2,1,2,3,5\n1.3,1,2,3,5\n1.2,1,2,3,6\n"), "a.csv"); err != nil {
		t.Errorf("distinct rows: %v", err)
	}
}

// A binary file given as a CSV: the error shows its header quoted and cut
// short, not its raw bytes.
func TestBinaryHeaderShown(t *testing.T) {
	bin := "\x89PNG\r\x1a\x00\x00\x00\rIHDR" + strings.Repeat("\x00\xff\x07", 2000) + "\n1,2\n"
	check := func(what string, err error) {
		t.Helper()
		if err == nil {
			t.Fatalf("%s: no error", what)
		}
		msg := err.Error()
		if strings.ContainsAny(msg, "\x00\x07\r\n\x1a") || len(msg) > 500 {
			t.Errorf("%s: error shows raw bytes or is %d bytes long: %q", what, len(msg), msg)
		}
		if !strings.Contains(msg, `\x89PNG`) || !strings.Contains(msg, "lacks needed column") {
			t.Errorf("%s: error %q does not show the quoted start of the header", what, msg)
		}
	}
	_, err := ReadAnnotations(strings.NewReader(bin), "b.csv")
	check("annotations", err)
	_, err = ReadCandidates(strings.NewReader(bin), "b.csv", nil)
	check("candidates", err)
	_, err = ReadSeriesList(strings.NewReader("1.2\nab\x00\x01cd\n"), "s.csv")
	if err == nil || !strings.Contains(err.Error(), `s.csv:2: "ab\x00\x01cd" is not a series uid`) {
		t.Errorf("binary series list: %v", err)
	}
	long := strings.Repeat("9", 10000)
	_, err = ReadAnnotations(strings.NewReader("seriesuid,coordX,coordY,coordZ,diameter_mm\n1.2,"+long+"x,2,3,4\n"), "a.csv")
	if err == nil || len(err.Error()) > 200 || !strings.Contains(err.Error(), "(10001 bytes) is not a number") {
		t.Errorf("long field: %.300v", err)
	}
}
