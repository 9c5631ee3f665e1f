package blackbox

import (
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/ctseg/ctseg/format"
	"github.com/ctseg/ctseg/internal/checkpoint"
	"github.com/ctseg/ctseg/internal/safetensors"
	"github.com/ctseg/ctseg/internal/sharedtest"
	"github.com/ctseg/ctseg/internal/streamtest"
	"github.com/ctseg/ctseg/internal/unet"
)

var (
	evalOnce sync.Once
	evalErr  error
)

// evalStreams adds to trainStreams' directory, once: model.safetensors, a
// checkpoint of the book's U-Net with random weights (made here: no
// training), and full.msz, the 2 validation series as whole CTs.
func evalStreams(t *testing.T) string {
	d := trainStreams(t)
	evalOnce.Do(func() {
		m, err := unet.New(unet.BookConfig)
		if err != nil {
			evalErr = err
			return
		}
		m.Init(rand.New(rand.NewPCG(7, 7)))
		if evalErr = checkpoint.Save(filepath.Join(d, "model.safetensors"), unet.NewCPU(m, unet.DefaultAdam, 1), checkpoint.Meta{Program: "blackbox"}); evalErr != nil {
			return
		}
		sh := bin + "/ctread -q --data data --split val --val-stride 4 | " + bin + "/mkmask -q --data data | " + bin + "/crop -q --val --full-ct -o full.msz"
		if out, err := shell(d, sh); err != nil {
			evalErr = errors.New(sh + ": " + err.Error() + ": " + string(out))
		}
	})
	if evalErr != nil {
		t.Fatal(evalErr)
	}
	return d
}

// readSlices reads a slice stream.
func readSlices(t *testing.T, path string) []*format.Slice {
	t.Helper()
	var out []*format.Slice
	for _, r := range streamtest.Read(t, path, format.KindSlice) {
		out = append(out, r.(*format.Slice))
	}
	return out
}

// evalJSON is what the tests read of segeval --json.
type evalJSON struct {
	Loss       float64 `json:"loss"`
	TP, FN, FP int64
	PerSeries  []struct {
		SeriesUID    string `json:"series_uid"`
		TP, FN, FP   int64
		Slices       int  `json:"slices"`
		WholeCT      bool `json:"whole_ct"`
		Candidates   *int `json:"candidates"`
		Marks        *int `json:"marks"`
		Nodules      *int `json:"nodules"`
		NodulesFound *int `json:"nodules_found"`
	} `json:"per_series"`
	Nodules *struct {
		Total, Found int
		Recall       float64
	} `json:"nodules"`
	CandidatesPerScan *float64  `json:"candidates_per_scan"`
	FROC              *frocJSON `json:"froc"`
	LabelledSlices    int       `json:"labelled_slices"`
}

type frocJSON struct {
	CPM            float64   `json:"cpm"`
	Rates          []float64 `json:"rates"`
	Sensitivity    []float64 `json:"sensitivity"`
	CILow          []float64 `json:"ci_low"`
	CIHigh         []float64 `json:"ci_high"`
	CPMCI          []float64 `json:"cpm_ci"`
	Nodules        int       `json:"nodules"`
	Detected       int       `json:"detected"`
	FalsePositives int       `json:"false_positives"`
	Candidates     int       `json:"candidates"`
	Scans          int       `json:"scans"`
}

func decode[T any](t *testing.T, b []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	return v
}

// TestSegevalValidation: on the validation slices, segeval prints the
// book's lines for every series and the pooled pixels, its JSON counts add
// up, cover exactly the labelled pixels without the padding, and agree
// with the prediction stream it writes.
func TestSegevalValidation(t *testing.T) {
	d := evalStreams(t)
	out := t.TempDir()
	preds := filepath.Join(out, "p.msz")
	r := run(t, d, nil, "segeval", "val.msz", "--model", "model.safetensors", "--json", "--predictions", preds)
	if r.code != 0 {
		t.Fatalf("segeval: %v", r)
	}
	res := decode[evalJSON](t, r.stdout)
	val := readSlices(t, filepath.Join(d, "val.msz"))
	var uids []string
	var labelled int64
	for _, s := range val {
		if !slices.Contains(uids, s.SeriesUID) {
			uids = append(uids, s.SeriesUID)
		}
		labelled += int64(sum(unpad(s, s.Label)))
	}
	if len(res.PerSeries) != len(uids) || len(uids) != 2 {
		t.Fatalf("%d series in the JSON, %d in the stream", len(res.PerSeries), len(uids))
	}
	var tp, fn, fp int64
	for i, ps := range res.PerSeries {
		tp, fn, fp = tp+ps.TP, fn+ps.FN, fp+ps.FP
		if ps.SeriesUID != uids[i] || ps.WholeCT || ps.Candidates != nil {
			t.Errorf("series %d: %+v", i, ps)
		}
		if !strings.Contains(string(r.stderr), "\nE0 "+uids[i]+" ") {
			t.Errorf("no line for series %s:\n%s", uids[i], r.stderr)
		}
	}
	if tp != res.TP || fn != res.FN || fp != res.FP || res.TP+res.FN != labelled || labelled == 0 || res.Nodules != nil || res.FROC != nil {
		t.Errorf("pooled %d/%d/%d, series sum %d/%d/%d, %d labelled pixels", res.TP, res.FN, res.FP, tp, fn, fp, labelled)
	}
	for _, l := range []string{"\nE0 val      " + strconv.FormatFloat(res.Loss, 'f', 4, 64) + " loss, ", "\nE0 val_all  "} {
		if !strings.Contains(string(r.stderr), l) {
			t.Errorf("no %q line:\n%s", l, r.stderr)
		}
	}
	// The prediction stream: one record per slice, padded like it, with
	// logits; its probabilities give the same counts.
	var ptp, pfn, pfp int64
	recs := streamtest.Read(t, preds, format.KindPrediction)
	if len(recs) != len(val) {
		t.Fatalf("%d predictions for %d slices", len(recs), len(val))
	}
	for i, rec := range recs {
		p, s := rec.(*format.Prediction), val[i]
		if p.SeriesUID != s.SeriesUID || p.SliceIndex != s.SliceIndex || p.Padding != s.Padding || len(p.Logit) != len(p.Prob) || len(p.Prob) != s.Shape[1]*s.Shape[2] {
			t.Fatalf("prediction %d does not fit its slice", i)
		}
		lab, prob := unpad(s, s.Label), unpad(s, p.Prob)
		for j, l := range lab {
			switch pos := prob[j] > 0.5; {
			case pos && l == 1:
				ptp++
			case l == 1:
				pfn++
			case pos:
				pfp++
			}
		}
	}
	if ptp != res.TP || pfn != res.FN || pfp != res.FP {
		t.Errorf("the predictions count %d/%d/%d, segeval %d/%d/%d", ptp, pfn, pfp, res.TP, res.FN, res.FP)
	}
}

// unpad cuts a slice-sized plane to the CT's pixels.
func unpad[T any](s *format.Slice, plane []T) []T {
	var out []T
	w := s.Shape[2]
	for r := s.Padding.Top; r < s.Shape[1]-s.Padding.Bottom; r++ {
		out = append(out, plane[r*w+s.Padding.Left:(r+1)*w-s.Padding.Right]...)
	}
	return out
}

func sum(b []uint8) int {
	n := 0
	for _, v := range b {
		n += int(v)
	}
	return n
}

// TestSegevalWholeCT: whole CTs give candidates, a submission with its
// .scans, the FROC, overlays and a report; `segeval froc` on the
// submission gives the same FROC, and so do two shards' submissions
// together; an unannotated scan (no mask) is evaluated without pixel
// metrics.
func TestSegevalWholeCT(t *testing.T) {
	d := evalStreams(t)
	out := t.TempDir()
	sub := filepath.Join(out, "c.csv")
	r := run(t, d, nil, "segeval", "--model", "model.safetensors", "--froc", "--data", "data", "--bootstrap", "100",
		"--candidates-out", sub, "--report", filepath.Join(out, "report"), "--png", filepath.Join(out, "png"), "--png-every", "16",
		"--out", filepath.Join(out, "froc"), "--json", "full.msz")
	if r.code != 0 {
		t.Fatalf("segeval: %v", r)
	}
	res := decode[evalJSON](t, r.stdout)
	var uids []string
	total := 0
	for _, ps := range res.PerSeries {
		uids = append(uids, ps.SeriesUID)
		if !ps.WholeCT || ps.Slices != 48 || ps.Candidates == nil || *ps.Marks > 100 || *ps.Marks > *ps.Candidates {
			t.Errorf("series %+v", ps)
		}
		total += *ps.Nodules
	}
	if len(uids) != 2 || res.Nodules == nil || res.Nodules.Total != total || total == 0 || res.CandidatesPerScan == nil || res.FROC == nil ||
		res.FROC.Scans != 2 || res.FROC.Nodules != total || len(res.FROC.CILow) != 7 || len(res.FROC.CPMCI) != 2 {
		t.Fatalf("JSON %s", r.stdout)
	}
	rows := strings.Split(strings.TrimSpace(readText(t, sub)), "\n")
	if rows[0] != "seriesuid,coordX,coordY,coordZ,probability,mean_logit,max_logit,voxels" {
		t.Errorf("header %q", rows[0])
	}
	perUID := map[string]int{}
	for _, row := range rows[1:] {
		perUID[strings.Split(row, ",")[0]]++
	}
	for _, ps := range res.PerSeries {
		if perUID[ps.SeriesUID] != *ps.Marks {
			t.Errorf("%s: %d rows, %d marks", ps.SeriesUID, perUID[ps.SeriesUID], *ps.Marks)
		}
	}
	if got := readText(t, sub+".scans"); got != strings.Join(uids, "\n")+"\n" {
		t.Errorf(".scans %q", got)
	}
	for _, f := range []string{"report/index.html", "png/" + uids[0] + "/0.png", "png/" + uids[1] + "/32.png", "froc/CADAnalysis.txt", "froc/froc_c.txt"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Error(err)
		}
	}
	if m, _ := filepath.Glob(filepath.Join(out, "png", uids[0], "*.png")); len(m) != 3 {
		t.Errorf("--png-every 16 of 48 slices: %d overlays", len(m))
	}
	if page := readText(t, filepath.Join(out, "report/index.html")); !strings.Contains(page, uids[1]) || !strings.Contains(page, "LUNA16 FROC") {
		t.Errorf("report: %.300s", page)
	}

	// segeval froc on the submission: the same FROC; the scans come from
	// its .scans file, the flags after the file.
	f := run(t, d, nil, "segeval", "froc", sub, "--data", "data", "--bootstrap", "100", "--json")
	if f.code != 0 {
		t.Fatalf("segeval froc: %v", f)
	}
	if got := decode[frocJSON](t, f.stdout); !sameFROC(got, *res.FROC) {
		t.Errorf("segeval froc %+v, segeval --froc %+v", got, *res.FROC)
	}

	if testing.Short() {
		t.Skip("shards and an unannotated scan: skipped in -short")
	}
	// Two shards: their submissions together are the whole one, row for row.
	var shards []string
	for i := range 2 {
		name := filepath.Join(out, "c."+strconv.Itoa(i)+".csv")
		sh := bin + "/ctread -q --data data --split val --val-stride 4 --shard " + strconv.Itoa(i) + "/2 | " + bin + "/mkmask -q --data data | " +
			bin + "/crop -q --val --full-ct | " + bin + "/segeval -q --model model.safetensors --candidates-out " + name
		if o, err := shell(d, sh); err != nil {
			t.Fatalf("%s: %v: %s", sh, err, o)
		}
		shards = append(shards, name)
	}
	joined := strings.Join(strings.Split(strings.TrimSpace(readText(t, shards[0])), "\n")[1:], "\n") + "\n" +
		strings.Join(strings.Split(strings.TrimSpace(readText(t, shards[1])), "\n")[1:], "\n")
	if strings.TrimSpace(joined) != strings.Join(rows[1:], "\n") {
		t.Error("the shards' submissions differ from the whole one")
	}
	f = run(t, d, nil, "segeval", "froc", "--data", "data", "--bootstrap", "100", "--json", shards[0], shards[1])
	if f.code != 0 {
		t.Fatalf("segeval froc on shards: %v", f)
	}
	if got := decode[frocJSON](t, f.stdout); !sameFROC(got, *res.FROC) {
		t.Errorf("shards: %+v, whole: %+v", got, *res.FROC)
	}

	// An unannotated scan: a CT without a mask, every slice without a label.
	sh := bin + "/ctread -q --data data --split val --val-stride 4 | " + bin + "/crop -q --val --full-ct | " +
		bin + "/segeval -q --model model.safetensors --json"
	o, err := shell(d, sh+" 2>/dev/null")
	if err != nil {
		t.Fatalf("%s: %v", sh, err)
	}
	un := decode[evalJSON](t, o)
	if un.LabelledSlices != 0 || len(un.PerSeries) != 2 || un.PerSeries[0].TP+un.PerSeries[0].FP != 0 || un.Nodules == nil || un.Nodules.Total != 0 {
		t.Errorf("unannotated scans: %s", o)
	}
}

func sameFROC(a, b frocJSON) bool {
	return a.CPM == b.CPM && slices.Equal(a.Sensitivity, b.Sensitivity) && slices.Equal(a.CPMCI, b.CPMCI) &&
		a.Detected == b.Detected && a.FalsePositives == b.FalsePositives && a.Candidates == b.Candidates && a.Scans == b.Scans
}

func readText(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestSegevalFROC: segeval froc on a hand-made submission of two shards,
// whose CPM is worked out by hand: scans A and B, one 10 mm nodule each,
// an excluded non-nodule in A. A's nodule is hit at 0.9 and the excluded
// finding at 0.95 (ignored); B's nodule at 0.5, three false positives at
// 0.7, 0.6, 0.55. Sensitivity is 1/2 up to 3 false positives (1.5 per
// scan), then 1: at 1/8, 1/4, 1/2, 1 it is 1/2, at 2, 4, 8 it is 1; CPM
// 5/7. With seriesuids.csv's three scans 3 FPs are 1 per scan: CPM 5.5/7.
func TestSegevalFROC(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"data/annotations.csv":          "seriesuid,coordX,coordY,coordZ,diameter_mm\nA,0,0,0,10\nB,100,0,0,10\n",
		"data/annotations_excluded.csv": "seriesuid,coordX,coordY,coordZ,diameter_mm\nA,50,0,0,-1\n",
		"data/seriesuids.csv":           "A\nB\nC\n",
		"a.csv":                         "seriesuid,coordX,coordY,coordZ,probability\nA,0,0,1,0.9\nA,50,0,0,0.95\n",
		"a.csv.scans":                   "A\n",
		"b.csv":                         "seriesuid,coordX,coordY,coordZ,probability\nB,100,1,0,0.5\nB,200,0,0,0.7\nB,300,0,0,0.6\nB,400,0,0,0.55\n",
		"b.csv.scans":                   "B\n",
		"empty.csv":                     "seriesuid,coordX,coordY,coordZ,probability\n",
	}
	mustMkdir(t, filepath.Join(dir, "data"))
	for name, text := range files {
		writeFile(t, filepath.Join(dir, name), text)
	}
	cpm := func(r result) float64 {
		t.Helper()
		if r.code != 0 {
			t.Fatalf("segeval froc: %v", r)
		}
		return decode[frocJSON](t, r.stdout).CPM
	}
	r := run(t, dir, nil, "segeval", "froc", "a.csv", "b.csv", "--data", "data", "--json", "--out", "out", "--bootstrap", "200")
	if got := cpm(r); math.Abs(got-5.0/7) > 1e-12 {
		t.Errorf("CPM %v, want 5/7", got)
	}
	j := decode[frocJSON](t, r.stdout)
	if !slices.Equal(j.Rates, []float64{0.125, 0.25, 0.5, 1, 2, 4, 8}) || !slices.Equal(j.Sensitivity, []float64{0.5, 0.5, 0.5, 0.5, 1, 1, 1}) ||
		j.Nodules != 2 || j.Detected != 2 || j.FalsePositives != 3 || j.Candidates != 6 || j.Scans != 2 || len(j.CILow) != 7 || len(j.CIHigh) != 7 || len(j.CPMCI) != 2 {
		t.Errorf("JSON %s", r.stdout)
	}
	if !strings.Contains(string(r.stderr), "FROC: CPM 0.7143") {
		t.Errorf("stderr %s", r.stderr)
	}
	for _, f := range []string{"CADAnalysis.txt", "froc_a.txt", "froc_a.png", "froc_gt_prob_vectors_a.csv", "froc_a_bootstrapping.csv"} {
		if _, err := os.Stat(filepath.Join(dir, "out", f)); err != nil {
			t.Error(err)
		}
	}
	// cat-ed (a repeated header) on stdin: no .scans, so seriesuids.csv.
	cat := []byte(files["a.csv"] + files["b.csv"])
	if got := cpm(run(t, dir, cat, "segeval", "froc", "--data", "data", "--json", "--bootstrap", "0")); math.Abs(got-5.5/7) > 1e-12 {
		t.Errorf("cat-ed on stdin over 3 scans: CPM %v, want 5.5/7", got)
	}
	if got := cpm(run(t, dir, nil, "segeval", "froc", "empty.csv", "--data", "data", "--json")); got != 0 {
		t.Errorf("empty submission: CPM %v", got)
	}
	os.Remove(filepath.Join(dir, "data/annotations_excluded.csv"))
	r = run(t, dir, nil, "segeval", "froc", "a.csv", "b.csv", "--data", "data", "--json", "--bootstrap", "0")
	if decode[frocJSON](t, r.stdout).FalsePositives != 4 || !strings.Contains(string(r.stderr), "warning: no data/annotations_excluded.csv: no findings are excluded") {
		t.Errorf("without the excluded findings: %s, %s", r.stdout, r.stderr)
	}
}

// TestSegevalErrors: every error is one line, no stack trace, a non-zero
// exit, and no output file left behind.
func TestSegevalErrors(t *testing.T) {
	d := evalStreams(t)
	dir := t.TempDir()
	model := filepath.Join(d, "model.safetensors")
	st, _, err := safetensors.ReadFile(model)
	if err != nil {
		t.Fatal(err)
	}
	w := st["unet.last.weight"]
	w.Shape, w.F32 = []int{1, 8, 1, 1}, w.F32[:8]
	st["unet.last.weight"] = w
	other := filepath.Join(dir, "other.safetensors")
	if err := safetensors.WriteFile(other, st, nil); err != nil {
		t.Fatal(err)
	}
	val := readSlices(t, filepath.Join(d, "val.msz"))
	var a, b []format.Record
	for _, s := range val {
		if s.SeriesUID == val[0].SeriesUID {
			a = append(a, s)
		} else {
			b = append(b, s)
		}
	}
	interrupted := readStream(t, format.KindSlice, append(append(a[:1:1], b...), a[1:]...)...)
	noCT := val[0]
	noCT.CT = nil
	old := readStream(t, format.KindSlice, noCT)
	writeFile(t, filepath.Join(dir, "bad.csv"), "seriesuid,coordX,coordY,coordZ,probability\nA,0,0,0,0.5\nA,0,zero,0,0.5\n")
	writeFile(t, filepath.Join(dir, "annotations.csv"), "seriesuid,coordX,coordY,coordZ,diameter_mm\nA,0,0,0,10\n")
	sub := filepath.Join(dir, "c.csv")
	cases := []struct {
		name  string
		stdin []byte
		args  []string
		want  []string
	}{
		{"no model", nil, []string{"val.msz"}, []string{"no model", "--model FILE"}},
		{"unreadable model", nil, []string{"--model", "missing.safetensors", "val.msz"}, []string{"--model", "missing.safetensors", "no such file"}},
		{"not a model", nil, []string{"--model", "val.msz", "val.msz"}, []string{"--model", "neither a safetensors checkpoint nor a torch.save file"}},
		{"other architecture", nil, []string{"--model", other, "val.msz"}, []string{"other.safetensors", `"unet.last.weight": want F32 [1 16 1 1], got F32 [1 8 1 1]`}},
		{"wrong record kind", nil, []string{"--model", model, "train.msz"}, []string{"train.msz", "wrong record kind", "crop records"}},
		{"interrupted", interrupted, []string{"--model", model}, []string{"stdin: record", "series " + val[0].SeriesUID + ": its slices are interrupted by series"}},
		{"no geometry", old, []string{"--model", model, "--candidates-out", sub}, []string{"stdin: record 1", "carries no CT", "crop --val --full-ct"}},
		{"not whole", nil, []string{"--model", model, "--candidates-out", sub, "val.msz"}, []string{"val.msz: record 1", "starts at slice", "not 0"}},
		{"threshold", nil, []string{"--model", model, "--prob-threshold", "1", "val.msz"}, []string{"--prob-threshold 1: must lie in (0, 1)"}},
		{"froc needs data", nil, []string{"--model", model, "--froc", "full.msz"}, []string{"--froc", "no annotations.csv", "--data DIR"}},
		{"malformed CSV", nil, []string{"froc", filepath.Join(dir, "bad.csv"), "--annotations", filepath.Join(dir, "annotations.csv"), "--seriesuids", filepath.Join(dir, "bad.csv")},
			[]string{"bad.csv:3: column coordY", "not a number"}},
		{"froc flag needs value", nil, []string{"froc", "a.csv", "--out"}, []string{"flag --out needs a value"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := run(t, d, c.stdin, "segeval", c.args...)
			failsCleanly(t, "segeval", r, c.want...)
			if _, err := os.Stat(sub); err == nil {
				t.Errorf("a failed run left %s", sub)
			}
		})
	}
}

// TestSegevalBookModel: the book's published model (../shared/data/models,
// skipped without it) finds the phantom nodules of the validation CTs.
func TestSegevalBookModel(t *testing.T) {
	models := sharedtest.Path(t, "models")
	m, _ := filepath.Glob(filepath.Join(models, "*.state"))
	if len(m) == 0 {
		t.Skip("no .state file in " + models)
	}
	if testing.Short() {
		t.Skip("two whole CTs through the book's model: skipped in -short")
	}
	d := evalStreams(t)
	r := run(t, d, nil, "segeval", "-q", "--model", m[0], "--froc", "--data", "data", "--bootstrap", "0", "--json", "full.msz")
	if r.code != 0 {
		t.Fatalf("segeval: %v", r)
	}
	res := decode[evalJSON](t, r.stdout)
	if res.Nodules == nil || res.Nodules.Recall < 0.5 || res.FROC == nil || res.FROC.CPM < 0.5 {
		t.Errorf("the book's model on phantoms: %s", r.stdout)
	}
}
