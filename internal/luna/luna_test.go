package luna

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/ctseg/ctseg/internal/sharedtest"
)

// The counts below were read from the real files with Python's csv module
// (and wc -l), not from this package.
const (
	uid0001 = "1.3.6.1.4.1.14519.5.2.1.6279.6001.179049373636438705059720603192"
	uid0003 = "1.3.6.1.4.1.14519.5.2.1.6279.6001.170706757615202213033480003264"
)

func TestRealMalignancyFile(t *testing.T) {
	dir := sharedtest.LunaDir(t)
	rows, err := LoadAnnotations(filepath.Join(dir, MalignancyFile))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1182 {
		t.Fatalf("rows = %d, want 1182", len(rows))
	}
	mal := 0
	for _, r := range rows {
		if r.IsMalignant {
			mal++
		}
		if !r.HasBBox || len(r.MalDetails) == 0 {
			t.Fatalf("row %+v: bbox or mal_details missing", r)
		}
	}
	if mal != 378 {
		t.Errorf("malignant = %d, want 378", mal)
	}
	if n := len(BySeries(rows)); n != 600 {
		t.Errorf("series = %d, want 600", n)
	}
	// First data row, as written in the file.
	want := Annotation{
		SeriesUID:   "1.3.6.1.4.1.14519.5.2.1.6279.6001.100225287222365663678666836860",
		CenterXYZ:   [3]float64{-128.6994211, -175.31927180000002, -298.38750639999995},
		DiameterMM:  5.651470635,
		IsMalignant: true,
		MalDetails:  []int{4, 2, 4, 2},
		HasBBox:     true,
		BBoxLowXYZ:  [3]float64{-131.89648, -178.25976125, -299.8000036716461},
		BBoxHighXYZ: [3]float64{-125.4511675, -172.45898, -296.2000037670135},
	}
	if got := rows[0]; !equalAnnotation(got, want) {
		t.Errorf("row 1 = %+v, want %+v", got, want)
	}
	if got := len(BySeries(rows)[uid0003]); got != 3 {
		t.Errorf("LIDC-IDRI-0003 nodules = %d, want 3", got)
	}
}

func equalAnnotation(a, b Annotation) bool {
	return a.SeriesUID == b.SeriesUID && a.CenterXYZ == b.CenterXYZ && a.DiameterMM == b.DiameterMM &&
		a.IsMalignant == b.IsMalignant && slices.Equal(a.MalDetails, b.MalDetails) &&
		a.HasBBox == b.HasBBox && a.BBoxLowXYZ == b.BBoxLowXYZ && a.BBoxHighXYZ == b.BBoxHighXYZ
}

func TestRealLunaFiles(t *testing.T) {
	dir := sharedtest.LunaDir(t)
	ann, err := LoadAnnotations(filepath.Join(dir, AnnotationsFile))
	if err != nil {
		t.Fatal(err)
	}
	if len(ann) != 1186 || len(BySeries(ann)) != 601 {
		t.Errorf("annotations.csv: %d rows in %d series, want 1186 in 601", len(ann), len(BySeries(ann)))
	}
	for _, a := range ann {
		if a.IsMalignant || a.HasBBox || a.MalDetails != nil {
			t.Fatalf("annotations.csv row %+v: malignancy/bbox should be unknown", a)
		}
	}
	ex, err := LoadExcluded(filepath.Join(dir, ExcludedFile))
	if err != nil {
		t.Fatal(err)
	}
	nonNodule := 0
	for _, a := range ex {
		if a.DiameterMM == -1 {
			nonNodule++
		}
	}
	if len(ex) != 35192 || nonNodule != 30513 {
		t.Errorf("excluded: %d rows, %d with diameter -1; want 35192, 30513", len(ex), nonNodule)
	}
	uids, err := LoadSeriesList(filepath.Join(dir, SeriesUIDsFile))
	if err != nil {
		t.Fatal(err)
	}
	if len(uids) != 888 || uids[0] != "1.3.6.1.4.1.14519.5.2.1.6279.6001.100225287222365663678666836860" {
		t.Errorf("seriesuids.csv: %d uids, first %q", len(uids), uids[0])
	}
}

func TestRealCandidates(t *testing.T) {
	dir := sharedtest.LunaDir(t)
	path := filepath.Join(dir, CandidatesFile)
	all, err := LoadCandidates(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	classes := map[string][2]int{}
	for _, c := range all {
		n := classes[c.SeriesUID]
		n[c.Class]++
		classes[c.SeriesUID] = n
	}
	want := map[string][2]int{uid0001: {30, 1}, uid0003: {30, 3}}
	if len(all) != 64 || len(classes) != 2 || classes[uid0001] != want[uid0001] || classes[uid0003] != want[uid0003] {
		t.Errorf("candidates: %d rows, per series [class0 class1] %v; want 64, %v", len(all), classes, want)
	}
	// Row 2 of the file, as written.
	first := Candidate{SeriesUID: uid0003, CenterXYZ: [3]float64{-105.69, 75.54, -166.92}, Class: 0}
	if all[0] != first {
		t.Errorf("first row %+v, want %+v", all[0], first)
	}
	only, err := LoadCandidates(path, func(u string) bool { return u == uid0001 })
	if err != nil {
		t.Fatal(err)
	}
	if len(only) != 31 {
		t.Errorf("filtered to LIDC-IDRI-0001: %d rows, want 31", len(only))
	}
}

func TestRealSplit(t *testing.T) {
	dir := sharedtest.LunaDir(t)
	uids, err := SeriesUIDs(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(uids) != 888 || !slices.IsSorted(uids) {
		t.Fatalf("SeriesUIDs: %d (sorted %v), want 888 sorted", len(uids), slices.IsSorted(uids))
	}
	train, val := Split(uids, 10)
	if len(train) != 799 || len(val) != 89 {
		t.Fatalf("split %d/%d, want 799/89", len(train), len(val))
	}
	rows, err := LoadAnnotations(filepath.Join(dir, MalignancyFile))
	if err != nil {
		t.Fatal(err)
	}
	inVal := map[string]bool{}
	for _, u := range val {
		inVal[u] = true
	}
	nTrain, nVal := 0, 0
	for _, r := range rows {
		if inVal[r.SeriesUID] {
			nVal++
		} else {
			nTrain++
		}
	}
	if nTrain != 1028 || nVal != 154 {
		t.Errorf("nodules %d/%d, want 1028/154", nTrain, nVal)
	}
}

func TestSplit(t *testing.T) {
	uids := []string{"e", "c", "a", "d", "b", "c", "g", "f"}
	train, val := Split(uids, 3)
	if !slices.Equal(val, []string{"a", "d", "g"}) || !slices.Equal(train, []string{"b", "c", "e", "f"}) {
		t.Errorf("Split = %v, %v", train, val)
	}
	if uids[0] != "e" {
		t.Error("Split changed its input")
	}
	train, val = Split(uids, 0)
	if len(val) != 0 || len(train) != 7 {
		t.Errorf("stride 0: %v, %v; want all in training", train, val)
	}
}

func TestAnnotationErrors(t *testing.T) {
	const luna = "seriesuid,coordX,coordY,coordZ,diameter_mm\n"
	const book = "seriesuid,coordX,coordY,coordZ,diameter_mm,mal_bool,mal_details,len_mal_details\n"
	cases := []struct{ name, text, want string }{
		{"missing column", "seriesuid,coordX,coordY,diameter_mm\n1,2,3,4\n", `lacks needed column "coordZ"`},
		{"bad number", luna + "1.2,1,2,3,4\n1.2,1,x2,3,4\n", `t.csv:3: column coordY: "x2" is not a number`},
		// A NaN centre once passed as a "nodule outside the volume" with voxel
		// index -9223372036854775808.
		{"NaN coordinate", luna + "1.2,NaN,2,3,4\n", `t.csv:2: column coordX: "NaN" is not a finite number`},
		{"infinite diameter", luna + "1.2,1,2,3,+Inf\n", `t.csv:2: column diameter_mm: "+Inf" is not a finite number`},
		{"overflowing coordinate", luna + "1.2,1,2,1e400,4\n", `t.csv:2: column coordZ: "1e400" is not a number`},
		{"field count", luna + "1.2,1,2,3\n", "line 2"},
		{"bad bool", book + "1.2,1,2,3,4,yes,\"[1]\",1\n", `t.csv:2: column mal_bool: "yes"`},
		{"bad list", book + "1.2,1,2,3,4,True,\"[1, a]\",2\n", `t.csv:2: column mal_details: element " a"`},
		{"list length", book + "1.2,1,2,3,4,True,\"[1, 2]\",3\n", "t.csv:2: len_mal_details is 3"},
		{"empty uid", luna + ",1,2,3,4\n", "t.csv:2: empty seriesuid"},
		{"empty file", "", "empty file"},
		{"partial bbox", "seriesuid,coordX,coordY,coordZ,diameter_mm,bboxLowX\n1,2,3,4,5,6\n", "only some of the bbox"},
	}
	for _, c := range cases {
		_, err := ReadAnnotations(strings.NewReader(c.text), "t.csv")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want it to contain %q", c.name, err, c.want)
		}
	}
}

func TestAnnotationsFormats(t *testing.T) {
	// Reordered columns with CRLF line ends and a BOM still read by name.
	text := "\ufeffdiameter_mm,seriesuid,coordZ,coordY,coordX,mal_bool\r\n5.5,1.2.3,-3,-2,-1,False\r\n\r\n7,1.2.4,3,2,1,True\r\n"
	rows, err := ReadAnnotations(strings.NewReader(text), "t.csv")
	if err != nil {
		t.Fatal(err)
	}
	want := []Annotation{
		{SeriesUID: "1.2.3", CenterXYZ: [3]float64{-1, -2, -3}, DiameterMM: 5.5},
		{SeriesUID: "1.2.4", CenterXYZ: [3]float64{1, 2, 3}, DiameterMM: 7, IsMalignant: true},
	}
	if len(rows) != 2 || !equalAnnotation(rows[0], want[0]) || !equalAnnotation(rows[1], want[1]) {
		t.Errorf("rows = %+v, want %+v", rows, want)
	}
}

func TestCandidates(t *testing.T) {
	text := "seriesuid,coordX,coordY,coordZ,class\r\n" +
		"a,1,2,3,0\n" +
		"a,4,5,6,1\n" +
		"\n" +
		"b,7,8,9,0\n" +
		"\"a\",\"10\",11,12,1\n" // quoted fields, and a series seen again
	rows, err := ReadCandidates(strings.NewReader(text), "c.csv", nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []Candidate{
		{"a", [3]float64{1, 2, 3}, 0}, {"a", [3]float64{4, 5, 6}, 1},
		{"b", [3]float64{7, 8, 9}, 0}, {"a", [3]float64{10, 11, 12}, 1},
	}
	if !slices.Equal(rows, want) {
		t.Errorf("rows = %v, want %v", rows, want)
	}
	asked := 0
	rows, err = ReadCandidates(strings.NewReader(text), "c.csv", func(u string) bool { asked++; return u == "a" })
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 || asked != 3 {
		t.Errorf("filtered: %d rows, keep asked %d times; want 3 rows, 3 asks", len(rows), asked)
	}
}

func TestCandidateErrors(t *testing.T) {
	const h = "seriesuid,coordX,coordY,coordZ,class\n"
	cases := []struct{ name, text, want string }{
		{"missing column", "seriesuid,coordX,coordY,coordZ\na,1,2,3\n", `lacks needed column "class"`},
		{"field count", h + "a,1,2,3,0\na,1,2,0\n", "c.csv:3: 4 fields, but the header has 5"},
		{"bad number", h + "a,1,2,3,0\na,1,zz,3,0\n", `c.csv:3: column coordY: "zz" is not a number`},
		{"NaN coordinate", h + "a,1,2,nan,0\n", `c.csv:2: column coordZ: "nan" is not a finite number`},
		{"infinite coordinate", h + "a,-inf,2,3,0\n", `c.csv:2: column coordX: "-inf" is not a finite number`},
		{"bad class", h + "a,1,2,3,2\n", `c.csv:2: column class: "2" is not 0 or 1`},
		{"bad quote", h + "a,\"1,2,3,0\n", "c.csv:2:"},
		{"empty uid", h + ",1,2,3,0\n", "c.csv:2: empty seriesuid"},
		{"empty", "\n", "empty file"},
	}
	for _, c := range cases {
		_, err := ReadCandidates(strings.NewReader(c.text), "c.csv", nil)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want it to contain %q", c.name, err, c.want)
		}
	}
	// A read error (such as a directory given as the file) is not a bad
	// line: no line number in the message.
	_, err := ReadCandidates(iotest.ErrReader(errors.New("is a directory")), "dir", nil)
	if err == nil || err.Error() != "dir: is a directory" {
		t.Errorf("read error: %v, want %q", err, "dir: is a directory")
	}
	_, err = ReadCandidates(strings.NewReader(h+"a,"+strings.Repeat("1", 2<<20)+",2,3,0\n"), "c.csv", nil)
	if err == nil || !strings.Contains(err.Error(), "c.csv:2: ") {
		t.Errorf("overlong line: %v, want an error naming c.csv:2", err)
	}
}

func TestSeriesList(t *testing.T) {
	uids, err := ReadSeriesList(strings.NewReader("seriesuid\n1.2\n\n 1.3 \r\n"), "s.csv")
	if err != nil || !slices.Equal(uids, []string{"1.2", "1.3"}) {
		t.Errorf("got %v, %v", uids, err)
	}
	_, err = ReadSeriesList(strings.NewReader("1.2\n1.3,0\n"), "s.csv")
	if err == nil || !strings.Contains(err.Error(), "s.csv:2:") {
		t.Errorf("err = %v, want s.csv:2", err)
	}
}

func TestSeriesUIDsAndAnnotationsPath(t *testing.T) {
	dir := t.TempDir()
	if _, err := SeriesUIDs(dir); err == nil {
		t.Error("SeriesUIDs of an empty dir: no error")
	}
	if _, err := AnnotationsPath(dir); err == nil {
		t.Error("AnnotationsPath of an empty dir: no error")
	}
	missing := filepath.Join(dir, "nope")
	if _, err := AnnotationsPath(missing); err == nil || !strings.Contains(err.Error(), "data directory: stat "+missing) {
		t.Errorf("AnnotationsPath of a missing dir: %v, want a data directory error", err)
	}
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(AnnotationsFile, "seriesuid,coordX,coordY,coordZ,diameter_mm\nz,1,2,3,4\nb,1,2,3,4\n")
	write(CandidatesFile, "seriesuid,coordX,coordY,coordZ,class\nc,1,2,3,0\nb,1,2,3,1\n")
	uids, err := SeriesUIDs(dir)
	if err != nil || !slices.Equal(uids, []string{"b", "c", "z"}) {
		t.Errorf("SeriesUIDs = %v, %v", uids, err)
	}
	if p, err := AnnotationsPath(dir); err != nil || filepath.Base(p) != AnnotationsFile {
		t.Errorf("AnnotationsPath = %q, %v", p, err)
	}
	write(MalignancyFile, "seriesuid,coordX,coordY,coordZ,diameter_mm,mal_bool\na,1,2,3,4,True\n")
	write(SeriesUIDsFile, "d\n")
	uids, err = SeriesUIDs(dir)
	if err != nil || !slices.Equal(uids, []string{"a", "b", "c", "d", "z"}) {
		t.Errorf("SeriesUIDs = %v, %v", uids, err)
	}
	if p, err := AnnotationsPath(dir); err != nil || filepath.Base(p) != MalignancyFile {
		t.Errorf("AnnotationsPath = %q, %v", p, err)
	}
	write(CandidatesFile, "seriesuid,coordX,coordY,coordZ\n")
	if _, err := SeriesUIDs(dir); err == nil || !strings.Contains(err.Error(), CandidatesFile) {
		t.Errorf("broken candidates.csv: err = %v", err)
	}
}
