package main

import (
	"bytes"
	"fmt"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ctseg/ctseg/format"
	"github.com/ctseg/ctseg/internal/geom"
	"github.com/ctseg/ctseg/internal/streamtest"
)

// The phantom: 10×40×50 voxels of air, spacing (0.5, 0.8, 2) mm for
// (x, y, z), origin (-10, 20, -100): voxel (i, r, c) is at
// xyz = (-10 + 0.5c, 20 + 0.8r, -100 + 2i).
var phantomGeom = geom.Geometry{Origin: [3]float64{-10, 20, -100}, Spacing: [3]float64{0.5, 0.8, 2}, Direction: geom.Identity}

func xyzOf(i, r, c float64) string {
	return fmt.Sprintf("%g,%g,%g", -10+0.5*c, 20+0.8*r, -100+2*i)
}

func phantomCT(uid string) *format.CT {
	ct := &format.CT{SeriesUID: uid, Shape: [3]int{10, 40, 50}, Geometry: phantomGeom, HU: make([]int16, 10*40*50)}
	for i := range ct.HU {
		ct.HU[i] = -1000
	}
	// A cuboid nodule, slices 3…5, rows 10…14, cols 20…26 (HU 50), centre
	// voxel (4, 12, 23). Index: ±2 (slices 2, 6) is air, r = 2 → [2, 6].
	// Rows: ±2 dense, ±3 air, r = 3 → [9, 15]. Cols: ±3 dense, ±4 air,
	// r = 4 → [19, 27]. Mask = the whole cuboid: 3·5·7 = 105 voxels.
	for i := 3; i <= 5; i++ {
		for r := 10; r <= 14; r++ {
			for c := 20; c <= 26; c++ {
				ct.HU[(i*40+r)*50+c] = 50
			}
		}
	}
	// Something dense that no nodule box reaches: must stay out of the mask.
	for c := 0; c < 50; c++ {
		ct.HU[(8*40+35)*50+c] = 300
	}
	return ct
}

// dataDir writes a LUNA16-style directory with the book's nodule list and
// a candidate list for the phantom series "1.2.3" (and series "9.9").
func dataDir(t *testing.T) string {
	dir := t.TempDir()
	ann := "seriesuid,coordX,coordY,coordZ,diameter_mm,mal_bool,mal_details,bboxLowX,bboxLowY,bboxLowZ,bboxHighX,bboxHighY,bboxHighZ,len_mal_details\n" +
		// Centre (4, 12, 23), given 0.2 voxel off so rounding matters.
		"1.2.3," + xyzOf(4.2, 11.8, 23.3) + ",6.5,True,\"[4, 5]\",0,0,0,0,0,0,2\n" +
		// Outside the volume (slice 12 of 10).
		"1.2.3," + xyzOf(12, 5, 5) + ",3,False,\"[1]\",0,0,0,0,0,0,1\n" +
		"9.9,1,2,3,4,False,\"[]\",0,0,0,0,0,0,0\n"
	cand := "seriesuid,coordX,coordY,coordZ,class\n" +
		"1.2.3," + xyzOf(4, 12, 23) + ",1\n" + // LUNA16's copy of the nodule: not a candidate
		"1.2.3," + xyzOf(1, 30, 5) + ",0\n" +
		"1.2.3," + xyzOf(-3, 30, 5) + ",0\n" + // outside: dropped
		"9.9,0,0,0,0\n"
	for name, text := range map[string]string{"annotations_with_malignancy.csv": ann, "candidates.csv": cand} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestPhantomMask(t *testing.T) {
	dir := dataDir(t)
	var warn bytes.Buffer
	m := &masker{threshold: -700, warn: &warn, pngDir: filepath.Join(t.TempDir(), "png")}
	if err := m.load(filepath.Join(dir, "annotations_with_malignancy.csv"), filepath.Join(dir, "candidates.csv")); err != nil {
		t.Fatal(err)
	}
	ct := phantomCT("1.2.3")
	if err := m.apply(ct); err != nil {
		t.Fatal(err)
	}
	n := 0
	for idx, v := range ct.Mask {
		i, r, c := idx/2000, idx/50%40, idx%50
		want := i >= 3 && i <= 5 && r >= 10 && r <= 14 && c >= 20 && c <= 26
		if (v == 1) != want {
			t.Fatalf("mask at (%d,%d,%d) = %d", i, r, c, v)
		}
		n += int(v)
	}
	if n != 105 || !slices.Equal(ct.PositiveIndexes, []int{3, 4, 5}) {
		t.Errorf("mask voxels %d positive %v, want 105, [3 4 5]", n, ct.PositiveIndexes)
	}
	wantNodule := format.Candidate{CenterIRC: [3]int{4, 12, 23}, DiameterMM: 6.5, IsNodule: true, IsMalignant: true}
	if len(ct.Nodules) != 1 || ct.Nodules[0].CenterIRC != wantNodule.CenterIRC || ct.Nodules[0].DiameterMM != 6.5 ||
		!ct.Nodules[0].IsNodule || !ct.Nodules[0].IsMalignant {
		t.Errorf("nodules %+v, want one like %+v", ct.Nodules, wantNodule)
	}
	if len(ct.Candidates) != 1 || ct.Candidates[0].CenterIRC != [3]int{1, 30, 5} || ct.Candidates[0].IsNodule {
		t.Errorf("candidates %+v, want one non-nodule at (1, 30, 5)", ct.Candidates)
	}
	w := warn.String()
	if !strings.Contains(w, "series 1.2.3: nodule at xyz") || !strings.Contains(w, "1 of 2 non-nodule candidates") {
		t.Errorf("warnings:\n%s", w)
	}
	checkPNGs(t, m.pngDir, ct)
}

// checkPNGs looks at the check images: one per positive slice, red on the
// mask, green on the box outline, grey elsewhere.
func checkPNGs(t *testing.T, dir string, ct *format.CT) {
	t.Helper()
	names, _ := filepath.Glob(filepath.Join(dir, ct.SeriesUID, "*.png"))
	want := []string{"slice_0003.png", "slice_0004.png", "slice_0005.png"}
	for i := range names {
		names[i] = filepath.Base(names[i])
	}
	if !slices.Equal(names, want) {
		t.Fatalf("PNGs %v, want %v", names, want)
	}
	f, err := os.Open(filepath.Join(dir, ct.SeriesUID, "slice_0004.png"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	rgb := func(x, y int) [3]uint32 {
		r, g, b, _ := img.At(x, y).RGBA()
		return [3]uint32{r >> 8, g >> 8, b >> 8}
	}
	// HU 50 → grey (1050·255/2000) = 133; tinted: red (133+255)/2, 133/2.
	if got := rgb(23, 12); got != [3]uint32{194, 66, 66} {
		t.Errorf("mask pixel %v, want red tint [194 66 66]", got)
	}
	// The box is rows 9…15, cols 19…27; its outline one voxel outside.
	if got := rgb(18, 12); got != [3]uint32{0, 255, 0} {
		t.Errorf("outline pixel %v, want green", got)
	}
	if got := rgb(5, 5); got != [3]uint32{0, 0, 0} {
		t.Errorf("air pixel %v, want black", got)
	}
}

func TestAppStream(t *testing.T) {
	t.Setenv("LUNA16_DIR", "")
	dir := dataDir(t)
	plain := phantomCT("4.5.6") // not in the nodule list: passes with an empty mask
	plain.Mask = make([]uint8, len(plain.HU))
	plain.Mask[0] = 1 // a stale mask is replaced
	in := streamtest.Write(t, format.KindCT, phantomCT("1.2.3"), plain)
	recs, err := streamtest.Run(t, newApp(), format.KindCT, "--data", dir, "--threshold", "-700", in)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 {
		t.Fatalf("%d records", len(recs))
	}
	a, b := recs[0].(*format.CT), recs[1].(*format.CT)
	if a.SeriesUID != "1.2.3" || !slices.Equal(a.PositiveIndexes, []int{3, 4, 5}) || len(a.Nodules) != 1 {
		t.Errorf("first record: %s positive %v nodules %d", a.SeriesUID, a.PositiveIndexes, len(a.Nodules))
	}
	if len(b.Mask) != len(b.HU) || slices.Contains(b.Mask, 1) || len(b.PositiveIndexes) != 0 ||
		len(b.Nodules) != 0 || len(b.Candidates) != 0 || !slices.Equal(b.HU, plain.HU) {
		t.Errorf("series without nodules: mask of %d (any set: %v), positive %v", len(b.Mask), slices.Contains(b.Mask, 1), b.PositiveIndexes)
	}
	// --threshold 100 leaves the HU-50 nodule out: r = 2 boxes, empty mask.
	recs, err = streamtest.Run(t, newApp(), format.KindCT, "--annotations", filepath.Join(dir, "annotations_with_malignancy.csv"),
		"--threshold", "100", in)
	if err != nil {
		t.Fatal(err)
	}
	if a := recs[0].(*format.CT); slices.Contains(a.Mask, 1) || len(a.Candidates) != 0 {
		t.Errorf("threshold 100: mask set, or %d candidates without a candidate file", len(a.Candidates))
	}
}

func TestAppErrors(t *testing.T) {
	t.Setenv("LUNA16_DIR", "")
	dir := dataDir(t)
	tmp := t.TempDir()
	good := streamtest.Write(t, format.KindCT, phantomCT("1.2.3"))
	crops := streamtest.Write(t, format.KindCrop, &format.Crop{SeriesUID: "x", Shape: [3]int{1, 1, 1}, HU: []int16{0}, Label: []uint8{0}})
	badCSV := filepath.Join(tmp, "bad.csv")
	if err := os.WriteFile(badCSV, []byte("seriesuid,coordX,coordY,diameter_mm\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	badRow := filepath.Join(tmp, "badrow.csv")
	if err := os.WriteFile(badRow, []byte("seriesuid,coordX,coordY,coordZ,class\na,1,2,3,0\na,1,2,x,0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		args []string
		want string
	}{
		{[]string{good}, "no nodule list"},
		{[]string{"--data", tmp, good}, "no nodule list in"},
		{[]string{"--annotations", badCSV, good}, `bad.csv: header lacks needed column "coordZ"`},
		{[]string{"--data", dir, "--candidates", badRow, good}, `badrow.csv:3: column coordZ: "x" is not a number`},
		{[]string{"--data", dir, "--candidates", filepath.Join(tmp, "none.csv"), good}, "none.csv"},
		{[]string{"--data", dir, crops}, "crop records"},
		{[]string{"--data", dir, "--threshold", "NaN", good}, "--threshold NaN"},
		{[]string{"--data", dir, "--annotations", "", good}, "--annotations: empty file name"},
		{[]string{"--data", dir, "--candidates", "", good}, "--candidates: empty file name"},
		{[]string{"--data", filepath.Join(tmp, "nope"), good}, "--data: data directory: stat "},
	}
	for _, c := range cases {
		// Run also checks that a failed run leaves no output file.
		_, err := streamtest.Run(t, newApp(), format.KindCT, c.args...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: err = %v, want it to contain %q", c.args, err, c.want)
		}
	}
}

func TestNoGeometry(t *testing.T) {
	// The stream reader already refuses a CT record without geometry, so
	// masker.apply is tested directly: it must not trust its input.
	m := &masker{threshold: -700, warn: io.Discard}
	ct := phantomCT("1.2.3")
	ct.Geometry = geom.Geometry{}
	err := m.apply(ct)
	if err == nil || !strings.Contains(err.Error(), "no usable geometry") {
		t.Errorf("err = %v, want no usable geometry", err)
	}
}
