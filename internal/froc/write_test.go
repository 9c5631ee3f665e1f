package froc

import (
	"bytes"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// oneMiss is TestOneMiss's evaluation (2 TPs, 2 FPs, B missed).
func oneMiss(t *testing.T) *Result {
	return evaluate(t, []Mark{mk("s1", 1, 1, 1, 0.9), mk("s1", 20, 20, 20, 0.8), mk("s2", 0, 1, 0, 0.7), mk("s4", 0, 0, 0, 0.6)})
}

// written returns what write writes.
func written(t *testing.T, write func(io.Writer) error) string {
	t.Helper()
	var b bytes.Buffer
	if err := write(&b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestWriteCADAnalysis(t *testing.T) {
	r := oneMiss(t)
	// Sensitivity 2/3; 4 candidates over 4 scans.
	want := "\n" + stars60 + "\nCAD Analysis: sub\n" + stars60 + "\n\n" +
		"Candidate detection results:\n" +
		"    True positives: 2\n    False positives: 2\n    False negatives: 1\n    True negatives: 0\n" +
		"    Total number of candidates: 4\n    Total number of nodules: 3\n" +
		"    Ignored candidates on excluded nodules: 0\n" +
		"    Ignored candidates which were double detections on a nodule: 0\n" +
		"    Sensitivity: 0.666666667\n    Average number of candidates per scan: 1.000000000\n"
	if got := written(t, func(w io.Writer) error { return WriteCADAnalysis(w, "sub", r) }); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

const stars60 = "************************************************************"

func TestWriteSmallFiles(t *testing.T) {
	r := oneMiss(t)
	if got, want := written(t, func(w io.Writer) error { return WriteNodulesWithoutCandidate(w, r) }),
		"s1,None,50.0,0.0,0.0,6.000000000,-1\n"; got != want {
		t.Errorf("nodulesWithoutCandidate: %q, want %q", got, want)
	}
	if got, want := written(t, func(w io.Writer) error { return WriteCurve(w, r) }),
		"0.000000000,0.000000000,1.900000000\n0.000000000,0.333333333,0.900000000\n"+
			"0.250000000,0.333333333,0.800000000\n0.250000000,0.666666667,0.700000000\n"+
			"0.500000000,0.666666667,0.600000000\n"; got != want {
		t.Errorf("froc curve: %q, want %q", got, want)
	}
	// Scan order, findings before false positives, a miss at -1e9.
	if got, want := written(t, func(w io.Writer) error { return WriteGTProbVectors(w, r) }),
		"1,0.900000000\n1,-1000000000.000000000\n0,0.800000000\n1,0.700000000\n0,0.600000000\n"; got != want {
		t.Errorf("gt/prob vectors: %q, want %q", got, want)
	}
}

func TestPythonFormats(t *testing.T) {
	for v, want := range map[float64]string{-128.6994211: "-128.6994211", -172: "-172.0", 0: "0.0",
		1e-5: "1e-05", 1.5e16: "1.5e+16", 0.0001: "0.0001", 123456789012345.0: "123456789012345.0"} {
		if got := pyRepr(v); got != want {
			t.Errorf("pyRepr(%v) = %q, want %q", v, got, want)
		}
	}
	if got := f9(2.0 / 3); got != "0.666666667" {
		t.Errorf("f9(2/3) = %q", got)
	}
	for path, want := range map[string]string{"/a/b/sub.csv": "sub", "sub.csv.gz": "sub.csv", ".hidden": ".hidden", "plain": "plain"} {
		if got := SystemName(path); got != want {
			t.Errorf("SystemName(%q) = %q, want %q", path, got, want)
		}
	}
}

func TestWriteFiles(t *testing.T) {
	opt := DefaultOptions()
	opt.Resamples = 20
	r, err := Evaluate(handReference(), []Mark{mk("s1", 1, 1, 1, 0.9), mk("s1", 20, 20, 20, 0.8), mk("s2", 0, 1, 0, 0.7), mk("s4", 0, 0, 0, 0.6)}, opt)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := WriteFiles(dir, "sub", r); err != nil {
		t.Fatal(err)
	}
	ents, _ := os.ReadDir(dir)
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	want := []string{"CADAnalysis.txt", "froc_gt_prob_vectors_sub.csv", "froc_sub.png", "froc_sub.txt",
		"froc_sub_bootstrapping.csv", "nodulesWithoutCandidate_sub.txt"}
	if !slices.Equal(names, want) {
		t.Errorf("files %v, want %v", names, want)
	}
	f, err := os.Open(filepath.Join(dir, "froc_sub.png"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cfg, err := png.DecodeConfig(f)
	if err != nil || cfg.Width != plotWidth || cfg.Height != plotHeight {
		t.Errorf("png %+v, %v", cfg, err)
	}
}

func TestPlotDrawsTheCurve(t *testing.T) {
	// The one-miss curve is at sensitivity 2/3 from 1/4 FP per scan on:
	// the pixel there, at 3 FPs per scan (off the grid), is the curve's blue; at
	// sensitivity 0.25 it is background white.
	img := Plot("sub", oneMiss(t))
	on, off := toPixel(3, 2.0/3), toPixel(3, 0.25)
	if c := img.RGBAAt(int(on.x), int(on.y)); c.B < 200 || c.R > 60 {
		t.Errorf("curve pixel %v, want blue", c)
	}
	if c := img.RGBAAt(int(off.x), int(off.y)); c.R != 255 || c.G != 255 || c.B != 255 {
		t.Errorf("background pixel %v, want white", c)
	}
}
