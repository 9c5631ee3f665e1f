package evaluate

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ctseg/ctseg/format"
	"github.com/ctseg/ctseg/geom"
	"github.com/ctseg/ctseg/internal/checkpoint"
	"github.com/ctseg/ctseg/internal/safetensors"
	"github.com/ctseg/ctseg/internal/unet"
)

// TestOutputs: the prediction stream (padded like the slices, logits
// beside the probabilities), the overlays of every K-th slice, and the
// report with the slices of the most missed pixels.
func TestOutputs(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"annotations.csv": "seriesuid,coordX,coordY,coordZ,diameter_mm\n1.2.b,15.5,25.5,35.5,4\n1.2.d,1,1,1,4\n"})
	missed := func(r, c int) uint8 { return uint8(min(1, max(0, 3-r))) } // rows 0–2 labelled, HU −1000: missed
	one := &format.SliceCT{Shape: [3]int{1, 6, 5}, Geometry: geom.Geometry{Spacing: [3]float64{1, 1, 1}, Direction: geom.Identity}}
	recs := append(wholeCT("1.2.b", true, nil), mkSlice("1.2.d", 0, 6, 5, 2, 3, func(int, int) int16 { return -1000 }, missed, one))
	var preds bytes.Buffer
	w, err := format.NewWriter(&preds, format.Header{Kind: format.KindPrediction, Program: "test"})
	if err != nil {
		t.Fatal(err)
	}
	o := testOptions(t)
	o.Predictions, o.PNGDir, o.PNGEvery = w, filepath.Join(dir, "png"), 2
	o.Report, o.ReportTop, o.FROC, o.Ref = filepath.Join(dir, "report"), 3, true, Ref{Data: dir}
	if _, err := run(t, o, recs...); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r := format.NewReader(&preds)
	n := 0
	for ; ; n++ {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		p, s := rec.(*format.Prediction), recs[n].(*format.Slice)
		if p.SeriesUID != s.SeriesUID || p.SliceIndex != s.SliceIndex || p.Shape != [2]int{s.Shape[1], s.Shape[2]} ||
			p.Padding != s.Padding || len(p.Logit) != len(p.Prob) || p.Logit[len(p.Logit)-1] != float32(s.HU[len(s.HU)-1])/100 {
			t.Errorf("prediction %d: %s #%d %v %+v, %d logits", n, p.SeriesUID, p.SliceIndex, p.Shape, p.Padding, len(p.Logit))
		}
	}
	if n != len(recs) {
		t.Errorf("%d predictions for %d slices", n, len(recs))
	}
	var pngs []string
	filepath.WalkDir(o.PNGDir, func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(o.PNGDir, path)
			pngs = append(pngs, rel)
		}
		return nil
	})
	if want := []string{"1.2.b/0.png", "1.2.b/2.png", "1.2.b/4.png", "1.2.d/0.png"}; !slices.Equal(pngs, want) {
		t.Errorf("overlays %v, want %v", pngs, want)
	}
	page, err := os.ReadFile(filepath.Join(o.Report, "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"<td class=\"uid\">1.2.b</td>", "1.2.d · slice 0", "15 missed", "slices/01.png", "froc.png", "LUNA16 FROC", "CPM 0.5000"} {
		if !bytes.Contains(page, []byte(s)) {
			t.Errorf("report lacks %q", s)
		}
	}
	for _, f := range []string{"slices/01.png", "froc.png"} {
		if _, err := os.Stat(filepath.Join(o.Report, f)); err != nil {
			t.Error(err)
		}
	}
	if _, err := os.Stat(filepath.Join(o.Report, "slices/02.png")); err == nil {
		t.Error("a slice without missed pixels in the report")
	}

	o = testOptions(t)
	o.PNGDir = filepath.Join(dir, "png2")
	if _, err := run(t, o, mkSlice("../x", 0, 4, 4, 0, 0, func(int, int) int16 { return 0 }, nil, nil)); err == nil || !strings.Contains(err.Error(), "path separator") {
		t.Errorf("uid ../x: %v", err)
	}
}

// TestTopSlices: the most missed pixels first, earlier slices first among
// equals, slices without misses left out, rendered only when kept.
func TestTopSlices(t *testing.T) {
	top := topSlices{n: 3}
	drawn := 0
	for i, fn := range []int64{2, 0, 5, 2, 1, 7, 2} {
		top.add(shownSlice{Index: i, FN: fn}, func() ([]byte, error) { drawn++; return nil, nil })
	}
	var got []int
	for _, s := range top.items {
		got = append(got, s.Index)
	}
	if !slices.Equal(got, []int{5, 2, 0}) || drawn != 4 {
		t.Errorf("top %v, %d drawn", got, drawn)
	}
}

// TestLoadEngine: a ctseg checkpoint loads and predicts as the engine it
// was saved from; a missing file and weights of another architecture are
// one-line errors, the latter naming the tensor and its shapes.
func TestLoadEngine(t *testing.T) {
	dir := t.TempDir()
	m, err := unet.New(unet.BookConfig)
	if err != nil {
		t.Fatal(err)
	}
	m.Init(rand.New(rand.NewPCG(1, 2)))
	e := unet.NewCPU(m, unet.DefaultAdam, 1)
	path := filepath.Join(dir, "m.safetensors")
	if err := checkpoint.Save(path, e, checkpoint.Meta{Program: "test", Epoch: 3}); err != nil {
		t.Fatal(err)
	}
	got, meta, err := LoadEngine(path, "cpu", 1)
	if err != nil || meta.Epoch != 3 {
		t.Fatalf("%v, %+v", err, meta)
	}
	defer got.Close()
	b := unet.Batch{N: 1, H: 8, W: 8, Input: make([]float32, 7*64)}
	for i := range b.Input {
		b.Input[i] = float32(i%50*40 - 1000)
	}
	p1, _ := e.Predict(b)
	p2, err := got.Predict(b)
	if err != nil || !slices.Equal(p1.Logits, p2.Logits) {
		t.Errorf("loaded model predicts otherwise: %v", err)
	}

	d := m.StateDict()
	w := d["unet.down_path.1.block.0.weight"]
	w.Shape, w.F32 = []int{16, 16, 3, 3}, w.F32[:16*16*9]
	d["unet.down_path.1.block.0.weight"] = w
	other := filepath.Join(dir, "other.safetensors")
	if err := safetensors.WriteFile(other, d, nil); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		other:                      `"unet.down_path.1.block.0.weight": want F32 [32 16 3 3], got F32 [16 16 3 3]`,
		filepath.Join(dir, "none"): "no such file",
	} {
		if _, _, err := LoadEngine(path, "cpu", 1); err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: %v, want %q", path, err, want)
		}
	}
	if _, _, err := LoadEngine(path, "tpu", 1); err == nil || !strings.Contains(err.Error(), `device "tpu"`) {
		t.Errorf("device tpu: %v", err)
	}
}
