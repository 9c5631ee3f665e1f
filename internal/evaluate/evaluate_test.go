package evaluate

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ctseg/ctseg/format"
	"github.com/ctseg/ctseg/geom"
	"github.com/ctseg/ctseg/internal/candidates"
	"github.com/ctseg/ctseg/internal/froc"
	"github.com/ctseg/ctseg/internal/tensors"
	"github.com/ctseg/ctseg/internal/unet"
)

// fakeEngine predicts logit = HU/100 of the middle channel, so a slice's
// prediction is known by hand: p > 0.5 exactly where HU > 0.
type fakeEngine struct{ cfg unet.Config }

func (e *fakeEngine) TrainStep(unet.Batch) (unet.StepResult, error) {
	return unet.StepResult{}, errors.New("no")
}
func (e *fakeEngine) StateDict() (tensors.Dict, error) { return nil, nil }
func (e *fakeEngine) LoadStateDict(tensors.Dict) error { return nil }
func (e *fakeEngine) Config() unet.Config              { return e.cfg }
func (e *fakeEngine) Info() unet.Info                  { return unet.Info{Name: "fake", Deterministic: true} }
func (e *fakeEngine) Close() error                     { return nil }

func (e *fakeEngine) Predict(b unet.Batch) (unet.Prediction, error) {
	if err := b.Check(e.cfg, false); err != nil {
		return unet.Prediction{}, err
	}
	plane := b.H * b.W
	var p unet.Prediction
	for n := 0; n < b.N; n++ {
		mid := b.Input[(n*e.cfg.InChannels+e.cfg.InChannels/2)*plane:][:plane]
		for _, v := range mid {
			l := v / 100
			p.Logits = append(p.Logits, l)
			p.Prob = append(p.Prob, float32(1/(1+math.Exp(-float64(l)))))
		}
	}
	return p, nil
}

func newFake() *fakeEngine { return &fakeEngine{cfg: unet.BookConfig} }

// records is a RecordSource over records in memory.
type records struct {
	recs []format.Record
	n    int
}

func (r *records) Next() (format.Record, error) {
	if r.n == len(r.recs) {
		return nil, io.EOF
	}
	r.n++
	return r.recs[r.n-1], nil
}

func (r *records) where() string { return fmt.Sprintf("test: record %d", r.n) }

// mkSlice makes a 7-channel slice of rows×cols pixels padded by padB rows
// and padR cols: every channel holds hu(r, c), the padding +1000 HU (which
// the fake engine calls positive: it must not count), the label label(r, c)
// unless label is nil.
func mkSlice(uid string, index, rows, cols, padB, padR int, hu func(r, c int) int16, label func(r, c int) uint8, ct *format.SliceCT) *format.Slice {
	h, w := rows+padB, cols+padR
	s := &format.Slice{SeriesUID: uid, SliceIndex: index, Shape: [3]int{7, h, w}, HU: make([]int16, 7*h*w),
		Padding: format.Padding{Bottom: padB, Right: padR}, CT: ct}
	if label != nil {
		s.Label = make([]uint8, h*w)
	}
	for ch := 0; ch < 7; ch++ {
		for r := 0; r < h; r++ {
			for c := 0; c < w; c++ {
				v := int16(1000)
				if r < rows && c < cols {
					v = hu(r, c)
					if label != nil && ch == 0 {
						s.Label[r*w+c] = label(r, c)
					}
				}
				s.HU[(ch*h+r)*w+c] = v
			}
		}
	}
	return s
}

func testOptions(t *testing.T) Options {
	fo := froc.DefaultOptions()
	fo.Resamples = 20
	return Options{Model: "fake", BatchSize: 2, Threshold: 0.5, PNGEvery: 1, MaxMarks: 100, FROCOptions: fo, Log: io.Discard}
}

func run(t *testing.T, o Options, recs ...format.Record) (*Result, error) {
	t.Helper()
	src := &records{recs: recs}
	return RunEngine(o, newFake(), src, src.where)
}

// expected computes by hand what the book's metrics of one slice are: the
// fake model's p > 0.5 is HU > 0.
type expected struct {
	tp, fn, fp int64
	loss       float64
}

func expect(rows, cols int, hu func(r, c int) int16, label func(r, c int) uint8) expected {
	var e expected
	var sp, sl, spl float64
	for r := 0; r < rows; r++ {
		for c := 0; c < cols; c++ {
			pred, lab := hu(r, c) > 0, label(r, c) == 1
			p := float64(float32(1 / (1 + math.Exp(-float64(float32(hu(r, c))/100)))))
			sp += p
			if lab {
				sl++
				spl += p
			}
			switch {
			case pred && lab:
				e.tp++
			case lab:
				e.fn++
			case pred:
				e.fp++
			}
		}
	}
	e.loss = 1 - (2*spl+1)/(sp+sl+1)
	return e
}

// TestPerSeriesMetrics: pixel counts and loss per series and pooled, on
// the unpadded region only; a series without labels has no pixel metrics.
func TestPerSeriesMetrics(t *testing.T) {
	box := func(r0, c0, n int) func(r, c int) bool {
		return func(r, c int) bool { return r >= r0 && r < r0+n && c >= c0 && c < c0+n }
	}
	huOf := func(in func(r, c int) bool) func(r, c int) int16 {
		return func(r, c int) int16 {
			if in(r, c) {
				return 300
			}
			return -800
		}
	}
	labOf := func(in func(r, c int) bool) func(r, c int) uint8 {
		return func(r, c int) uint8 {
			if in(r, c) {
				return 1
			}
			return 0
		}
	}
	type sl struct {
		hu  func(r, c int) int16
		lab func(r, c int) uint8
	}
	a := []sl{{huOf(box(1, 1, 2)), labOf(box(1, 1, 2))}, {huOf(box(0, 0, 3)), labOf(box(1, 1, 3))}}
	b := []sl{{huOf(box(2, 2, 1)), labOf(box(3, 3, 2))}}
	var recs []format.Record
	var wantA, wantB expected
	for i, s := range a {
		recs = append(recs, mkSlice("1.a", 10+i, 6, 7, 2, 1, s.hu, s.lab, nil))
		e := expect(6, 7, s.hu, s.lab)
		wantA.tp, wantA.fn, wantA.fp, wantA.loss = wantA.tp+e.tp, wantA.fn+e.fn, wantA.fp+e.fp, wantA.loss+e.loss/2
	}
	recs = append(recs, mkSlice("1.b", 4, 6, 7, 2, 1, b[0].hu, b[0].lab, nil))
	wantB = expect(6, 7, b[0].hu, b[0].lab)
	recs = append(recs, mkSlice("1.c", 0, 6, 7, 2, 1, huOf(box(0, 0, 6)), nil, nil))
	var log bytes.Buffer
	o := testOptions(t)
	o.Log = &log
	res, err := run(t, o, recs...)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.PerSeries) != 3 {
		t.Fatalf("%d series", len(res.PerSeries))
	}
	for i, w := range []expected{wantA, wantB} {
		got := res.PerSeries[i]
		if got.Pixels == nil || got.TP != w.tp || got.FN != w.fn || got.FP != w.fp || math.Abs(got.Loss-w.loss) > 1e-12 {
			t.Errorf("series %s: %+v, want %+v", got.SeriesUID, got.Pixels, w)
		}
	}
	if c := res.PerSeries[2]; c.Pixels != nil || c.Slices != 1 || c.WholeCT {
		t.Errorf("unlabelled series: %+v", c)
	}
	if res.TP != wantA.tp+wantB.tp || res.FN != wantA.fn+wantB.fn || res.FP != wantA.fp+wantB.fp ||
		math.Abs(res.Loss-(2*wantA.loss+wantB.loss)/3) > 1e-12 || res.Slices != 4 || res.LabelledSlices != 3 {
		t.Errorf("pooled %+v over %d/%d slices", res.Pixels, res.LabelledSlices, res.Slices)
	}
	if res.Nodules != nil || res.CandidatesPerScan != nil || res.FROC != nil {
		t.Errorf("no whole CT, yet candidates: %+v", res)
	}
	for _, l := range []string{"E0 1.a      0.2794 loss, 0.6154 precision, 0.6154 recall, 0.6154 f1 score (2 slices, not a whole CT)\n", "E0 1.b      0.", "E0 1.c no label", "\nE0 val      ", "\nE0 val_all  "} {
		if !strings.Contains(log.String(), l) {
			t.Errorf("log lacks %q:\n%s", l, log.String())
		}
	}
}

// TestOrder: the slices of a series together and ascending; with whole
// CTs required, every series 0…depth−1 with its CT.
func TestOrder(t *testing.T) {
	ct := &format.SliceCT{Shape: [3]int{3, 4, 4}, Geometry: geom.Geometry{Spacing: [3]float64{1, 1, 1}, Direction: geom.Identity}}
	other := &format.SliceCT{Shape: [3]int{4, 4, 4}, Geometry: ct.Geometry}
	s := func(uid string, i int, c *format.SliceCT) *format.Slice {
		return &format.Slice{SeriesUID: uid, SliceIndex: i, CT: c}
	}
	cases := []struct {
		name   string
		whole  bool
		slices []*format.Slice
		want   string // error; "" for none
		wholes []bool // arrival.whole of each slice, when no error
	}{
		{"whole", true, []*format.Slice{s("a", 0, ct), s("a", 1, ct), s("a", 2, ct), s("b", 0, ct), s("b", 1, ct), s("b", 2, ct)}, "",
			[]bool{true, true, true, true, true, true}},
		{"positives", false, []*format.Slice{s("a", 1, ct), s("a", 2, ct), s("b", 0, nil), s("b", 2, nil)}, "", []bool{false, false, false, false}},
		{"gap tolerated", false, []*format.Slice{s("a", 0, ct), s("a", 2, ct)}, "", []bool{true, false}},
		{"interrupted", false, []*format.Slice{s("a", 0, ct), s("b", 0, ct), s("a", 1, ct)}, "series a: its slices are interrupted by series b", nil},
		{"not in order", false, []*format.Slice{s("a", 1, ct), s("a", 0, ct)}, "series a: slice 0 after slice 1: the slices of a series must come in ascending order", nil},
		{"repeated", false, []*format.Slice{s("a", 1, ct), s("a", 1, ct)}, "series a: slice 1 after slice 1", nil},
		{"other CT", false, []*format.Slice{s("a", 0, ct), s("a", 1, other)}, "series a: slice 1 describes another CT", nil},
		{"missing slice", true, []*format.Slice{s("a", 0, ct), s("a", 2, ct)}, "series a: slice 2 follows slice 0: candidates need every slice of a CT, 0…2", nil},
		{"late start", true, []*format.Slice{s("a", 1, ct)}, "series a: starts at slice 1, not 0", nil},
		{"stops short", true, []*format.Slice{s("a", 0, ct), s("a", 1, ct), s("b", 0, ct)}, "series a: ends at slice 1 of 0…2", nil},
		{"stops short at the end", true, []*format.Slice{s("a", 0, ct), s("a", 1, ct)}, "series a: ends at slice 1 of 0…2", nil},
		{"no CT", true, []*format.Slice{s("a", 0, nil)}, "series a: slice 0 carries no CT", nil},
	}
	for _, c := range cases {
		o := newOrder(c.whole)
		var err error
		var wholes []bool
		for _, sl := range c.slices {
			var a arrival
			if a, err = o.add(sl, "in"); err != nil {
				break
			}
			wholes = append(wholes, a.whole)
		}
		if err == nil {
			err = o.end()
		}
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: error %v, want %q", c.name, err, c.want)
		case c.want == "" && !slices.Equal(wholes, c.wholes):
			t.Errorf("%s: whole %v, want %v", c.name, wholes, c.wholes)
		}
	}
}

// wholeCT is a CT of depth 6, 12×12 pixels, with a 4×4×4 cube of +500 HU
// (the fake model's logit 5) at slices 1…4, rows and cols 4…7: eroded, its
// 2×2×2 core is one candidate centred at IRC (2.5, 5.5, 5.5), which the
// geometry puts at xyz (15.5, 25.5, 35).
func wholeCT(uid string, cube bool, nodules []format.Candidate) []format.Record {
	ct := &format.SliceCT{Shape: [3]int{6, 12, 12}, Nodules: nodules,
		Geometry: geom.Geometry{Origin: [3]float64{10, 20, 30}, Spacing: [3]float64{1, 1, 2}, Direction: geom.Identity}}
	var recs []format.Record
	for i := 0; i < 6; i++ {
		in := cube && i >= 1 && i <= 4
		hu := func(r, c int) int16 {
			if in && r >= 4 && r <= 7 && c >= 4 && c <= 7 {
				return 500
			}
			return -1000
		}
		recs = append(recs, mkSlice(uid, i, 12, 12, 0, 0, hu, func(int, int) uint8 { return 0 }, ct))
	}
	return recs
}

// TestWholeCTCandidates: candidates of whole CTs, the book's nodule
// recall, the submission CSV with FILE.scans (a scan without marks
// included), and the FROC against hand-made annotation files.
func TestWholeCTCandidates(t *testing.T) {
	dir := t.TempDir()
	nod := []format.Candidate{{CenterXYZ: [3]float64{15.5, 25.5, 35.5}, DiameterMM: 4, IsNodule: true}}
	far := []format.Candidate{{CenterXYZ: [3]float64{10, 20, 30}, DiameterMM: 4, IsNodule: true}}
	recs := append(wholeCT("1.2.b", true, nod), wholeCT("1.2.c", false, far)...)
	writeFiles(t, dir, map[string]string{
		"annotations.csv": "seriesuid,coordX,coordY,coordZ,diameter_mm\n1.2.b,15.5,25.5,35.5,4\n1.2.c,10,20,30,4\n",
	})
	o := testOptions(t)
	o.CandidatesOut = filepath.Join(dir, "sub", "c.csv")
	o.FROC, o.Ref = true, Ref{Data: dir}
	o.FROCOut = filepath.Join(dir, "froc")
	var log bytes.Buffer
	o.Log = &log
	res, err := run(t, o, recs...)
	if err != nil {
		t.Fatal(err)
	}
	b, c := res.PerSeries[0], res.PerSeries[1]
	if !b.WholeCT || *b.Candidates != 1 || *b.Marks != 1 || *b.Nodules != 1 || *b.NodulesFound != 1 {
		t.Errorf("series b: %+v", b)
	}
	if !c.WholeCT || *c.Candidates != 0 || *c.NodulesFound != 0 || *c.Nodules != 1 {
		t.Errorf("series c: %+v", c)
	}
	if res.Nodules == nil || *res.Nodules != (NoduleRecall{Total: 2, Found: 1, Recall: 0.5}) || *res.CandidatesPerScan != 0.5 || res.Scans != 2 {
		t.Errorf("nodules %+v, %v candidates per scan", res.Nodules, res.CandidatesPerScan)
	}
	csv, err := os.ReadFile(o.CandidatesOut)
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Join(SubmissionHeader, ",") + "\n" +
		fmt.Sprintf("1.2.b,15.5,25.5,35,%v,5,5,8\n", Score(5))
	if string(csv) != want {
		t.Errorf("submission\n%s\nwant\n%s", csv, want)
	}
	if scans, _ := os.ReadFile(o.CandidatesOut + ScansSuffix); string(scans) != "1.2.b\n1.2.c\n" {
		t.Errorf(".scans %q", scans)
	}
	// One of two nodules detected, no false positive: sensitivity 1/2 at
	// every rate.
	if f := res.FROC; f == nil || f.CPM != 0.5 || f.Detected != 1 || f.Nodules != 2 || f.FalsePositives != 0 || f.Scans != 2 || f.CPMCI == nil {
		t.Errorf("FROC %+v", res.FROC)
	}
	for _, name := range []string{"CADAnalysis.txt", "froc_c.txt", "froc_c.png", "froc_c_bootstrapping.csv"} {
		if _, err := os.Stat(filepath.Join(o.FROCOut, name)); err != nil {
			t.Error(err)
		}
	}
	if !strings.Contains(log.String(), "no findings are excluded") {
		t.Errorf("no warning about the missing excluded findings:\n%s", log.String())
	}
	for _, l := range []string{"E0 1.2.b    0.", "1 candidates, 1 marks, 1 of 1 nodules found", "nodules: 1 of 2 found (recall 0.5000", "FROC: CPM 0.5000"} {
		if !strings.Contains(log.String(), l) {
			t.Errorf("log lacks %q:\n%s", l, log.String())
		}
	}
}

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestCandidatesNeedWholeCTs: asked for candidates, a stream of positive
// slices is an error that names the series, and leaves no submission.
func TestCandidatesNeedWholeCTs(t *testing.T) {
	dir := t.TempDir()
	recs := wholeCT("1.2.b", true, nil)
	o := testOptions(t)
	o.CandidatesOut = filepath.Join(dir, "c.csv")
	_, err := run(t, o, append(recs[:3:3], recs[4:]...)...)
	if err == nil || !strings.Contains(err.Error(), "series 1.2.b: slice 4 follows slice 2") {
		t.Errorf("missing slice: %v", err)
	}
	_, err = run(t, o, append(append(recs[:3:3], wholeCT("1.2.c", true, nil)...), recs[3:]...)...)
	if err == nil || !strings.Contains(err.Error(), "series 1.2.b: ends at slice 2 of 0…5") {
		t.Errorf("interrupted: %v", err)
	}
	if m, _ := filepath.Glob(filepath.Join(dir, "*")); len(m) != 0 {
		t.Errorf("a failed run left %v", m)
	}
}

// TestMarks: at most n marks, best first by mean logit, probabilities
// Score(mean logit) made strictly decreasing; n = 0 keeps all.
func TestMarks(t *testing.T) {
	var cands []candidates.Candidate
	for i, m := range []float64{1, 50, 3, 50, 40, 2} {
		cands = append(cands, candidates.Candidate{Label: i + 1, MeanLogit: m})
	}
	got := Marks(cands, 4)
	if len(got) != 4 {
		t.Fatalf("%d marks", len(got))
	}
	var labels []int
	for i, g := range got {
		labels = append(labels, g.Label)
		if i > 0 && !(g.Probability < got[i-1].Probability) {
			t.Errorf("probabilities %v not strictly decreasing", got)
		}
	}
	if !slices.Equal(labels, []int{2, 4, 5, 3}) || got[0].Probability != Score(50) || got[3].Probability != Score(3) {
		t.Errorf("marks %+v", got)
	}
	if all := Marks(cands, 0); len(all) != 6 {
		t.Errorf("n = 0 kept %d of 6", len(all))
	}
	if !(Score(40) < Score(50) && Score(-1) < 0.5 && Score(0.001) > 0.5 && Score(1e6) < 1) {
		t.Error("Score does not keep the order of mean logits")
	}
}

// TestJSONShape: the keys of segeval --json, with and without candidates.
func TestJSONShape(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"annotations.csv": "seriesuid,coordX,coordY,coordZ,diameter_mm\n1.2.b,15.5,25.5,35.5,4\n"})
	o := testOptions(t)
	plain, err := run(t, o, wholeCT("1.2.b", true, nil)[2:]...)
	if err != nil {
		t.Fatal(err)
	}
	o.FROC, o.Ref = true, Ref{Data: dir}
	full, err := run(t, o, wholeCT("1.2.b", true, nil)...)
	if err != nil {
		t.Fatal(err)
	}
	keys := func(v any) []string {
		b, _ := json.Marshal(v)
		var m map[string]json.RawMessage
		json.Unmarshal(b, &m)
		var k []string
		for n := range m {
			k = append(k, n)
		}
		slices.Sort(k)
		return k
	}
	pixels := []string{"f1", "fn", "fp", "labelled_slices", "loss", "marks_per_scan", "per_series", "precision", "prob_threshold", "recall", "scans", "slices", "tp"}
	if got := keys(plain); !slices.Equal(got, pixels) {
		t.Errorf("keys %v, want %v", got, pixels)
	}
	want := slices.Sorted(slices.Values(append(slices.Clone(pixels), "nodules", "candidates_per_scan", "froc")))
	if got := keys(full); !slices.Equal(got, want) {
		t.Errorf("keys %v, want %v", got, want)
	}
	if got := keys(full.PerSeries[0]); !slices.Equal(got, []string{"candidates", "f1", "fn", "fp", "loss", "marks", "nodules", "nodules_found", "precision", "recall", "series_uid", "slices", "tp", "whole_ct"}) {
		t.Errorf("per-series keys %v", got)
	}
	if got := keys(full.FROC); !slices.Equal(got, []string{"bootstrap", "candidates", "ci_high", "ci_low", "cpm", "cpm_ci", "detected", "false_positives", "nodules", "rates", "scans", "sensitivity"}) {
		t.Errorf("froc keys %v", got)
	}
	if got := keys(full.Nodules); !slices.Equal(got, []string{"found", "recall", "total"}) {
		t.Errorf("nodules keys %v", got)
	}
}

// TestEmptyInput: an empty stream (an empty shard) is evaluated: nothing
// counted, a submission of a header and no scans.
func TestEmptyInput(t *testing.T) {
	o := testOptions(t)
	o.CandidatesOut = filepath.Join(t.TempDir(), "c.csv")
	var log bytes.Buffer
	o.Log = &log
	res, err := run(t, o)
	if err != nil || res.Slices != 0 || len(res.PerSeries) != 0 || res.Nodules != nil {
		t.Fatalf("%+v, %v", res, err)
	}
	if b, _ := os.ReadFile(o.CandidatesOut); string(b) != strings.Join(SubmissionHeader, ",")+"\n" {
		t.Errorf("submission %q", b)
	}
	if b, err := os.ReadFile(o.CandidatesOut + ScansSuffix); err != nil || len(b) != 0 {
		t.Errorf(".scans %q, %v", b, err)
	}
	if !strings.Contains(log.String(), "warning: the input holds no slices") || !strings.Contains(log.String(), "E0 val: no labelled slices") {
		t.Errorf("log %q", log.String())
	}
}
