package froc

import (
	"strings"
	"testing"
)

func TestReadSubmission(t *testing.T) {
	// Columns by name, an extra column, and a second shard whose header
	// orders the columns differently.
	in := "\ufeffseriesuid,model,coordX,coordY,coordZ,probability\n" +
		"s1,unet,1.5,-2,3e1,0.25\n" +
		"probability,coordZ,coordY,coordX,seriesuid,model\n" +
		"0.75, 6 ,5,4,s2,unet\n"
	marks, err := ReadSubmission(strings.NewReader(in), "sub.csv")
	if err != nil {
		t.Fatal(err)
	}
	want := []Mark{mk("s1", 1.5, -2, 30, 0.25), mk("s2", 4, 5, 6, 0.75)}
	if len(marks) != 2 || marks[0] != want[0] || marks[1] != want[1] {
		t.Errorf("marks %v, want %v", marks, want)
	}
}

func TestReadSubmissionHeaderOnly(t *testing.T) {
	marks, err := ReadSubmission(strings.NewReader("seriesuid,coordX,coordY,coordZ,probability\n"), "sub.csv")
	if err != nil || len(marks) != 0 {
		t.Errorf("header only: %v marks, error %v; want an empty submission", marks, err)
	}
}

func TestReadSubmissionErrors(t *testing.T) {
	const h = "seriesuid,coordX,coordY,coordZ,probability\n"
	for _, c := range []struct{ in, want string }{
		{"", "sub.csv: empty file"},
		{"seriesuid,coordX,coordY,coordZ\ns1,1,2,3\n", `sub.csv:1: header lacks column "probability"`},
		{h + "s1,1,2,3,0.5\ns1,1,2,3\n", "sub.csv:3: 4 fields, but the header has 5"},
		{h + "s1,1,2,x,0.5\n", `sub.csv:2: column coordZ: "x" is not a number`},
		{h + "s1,1,2,3,NaN\n", `sub.csv:2: column probability: "NaN" is not a finite number`},
		{h + "s1,1,2,3,inf\n", "sub.csv:2: column probability"},
		{h + " ,1,2,3,0.5\n", "sub.csv:2: empty seriesuid"},
		{h + "s1,1,2,3,\"0.5\n", `sub.csv:2: extraneous or missing " in quoted-field`},
	} {
		_, err := ReadSubmission(strings.NewReader(c.in), "sub.csv")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want one containing %q", c.in, err, c.want)
		}
	}
}

func TestLoadReferenceErrorsNameTheFile(t *testing.T) {
	_, err := LoadReferenceDir(t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "annotations.csv") {
		t.Errorf("error %v, want one naming annotations.csv", err)
	}
}
