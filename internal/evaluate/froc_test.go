package evaluate

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ctseg/ctseg/internal/froc"
)

// The hand-made FROC: scans A and B, one nodule each (10 mm), an excluded
// non-nodule in A. Marks: A's nodule hit at 0.9 and the excluded finding
// at 0.95 (ignored); B's nodule hit at 0.5 and three false positives at
// 0.7, 0.6, 0.55. The curve: sensitivity 1/2 from 0 false positives up to
// 3 in all, then 1. Over 2 scans (the .scans lists) that is 1.5 FPs per
// scan: sensitivity 1/2 at 1/8…1, 1 at 2, 4, 8: CPM 5/7. Over 3 scans
// (seriesuids.csv adds C) 1 FP per scan: 1/2 at 1/8…1/2, 1 from 1 on: CPM
// 5.5/7.
var frocFiles = map[string]string{
	"annotations.csv":          "seriesuid,coordX,coordY,coordZ,diameter_mm\nA,0,0,0,10\nB,100,0,0,10\n",
	"annotations_excluded.csv": "seriesuid,coordX,coordY,coordZ,diameter_mm\nA,50,0,0,-1\n",
	"seriesuids.csv":           "A\nB\nC\n",
	"a.csv":                    "seriesuid,coordX,coordY,coordZ,probability\nA,0,0,1,0.9\nA,50,0,0,0.95\n",
	"a.csv.scans":              "A\n",
	"b.csv":                    "seriesuid,coordX,coordY,coordZ,probability,extra\nB,100,1,0,0.5,x\nB,200,0,0,0.7,x\nB,300,0,0,0.6,x\nB,400,0,0,0.55,x\n",
	"b.csv.scans":              "B\n",
}

func frocDir(t *testing.T) string {
	dir := t.TempDir()
	writeFiles(t, dir, frocFiles)
	return dir
}

func frocOf(t *testing.T, dir string, ref Ref, files ...string) (*froc.Result, string, error) {
	t.Helper()
	for i, f := range files {
		files[i] = filepath.Join(dir, f)
	}
	var log bytes.Buffer
	o := froc.DefaultOptions()
	o.Resamples = 50
	r, err := FROCFiles(FROCOptions{Files: files, Ref: ref, Options: o, Out: filepath.Join(dir, "out"), Log: &log})
	return r, log.String(), err
}

func TestFROCFiles(t *testing.T) {
	dir := frocDir(t)
	r, log, err := frocOf(t, dir, Ref{Data: dir}, "a.csv", "b.csv")
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(r.CPM-5.0/7) > 1e-12 || r.Scans != 2 || r.Detected != 2 || r.FalsePositives != 3 || r.IgnoredOnExcluded != 1 || log != "" {
		t.Errorf("CPM %v (want 5/7), %d scans, %d detected, %d FPs, %d ignored; log %q", r.CPM, r.Scans, r.Detected, r.FalsePositives, r.IgnoredOnExcluded, log)
	}
	for _, name := range []string{"CADAnalysis.txt", "froc_a.txt", "froc_a.png", "froc_gt_prob_vectors_a.csv", "froc_a_bootstrapping.csv", "nodulesWithoutCandidate_a.txt"} {
		if _, err := os.Stat(filepath.Join(dir, "out", name)); err != nil {
			t.Error(err)
		}
	}
	s := Summarize(r)
	if s.CPMCI == nil || s.CILow == nil || s.Resamples != 50 || s.Sensitivity != [7]float64{0.5, 0.5, 0.5, 0.5, 1, 1, 1} {
		t.Errorf("summary %+v", s)
	}

	// One file without .scans: the scans are seriesuids.csv's three.
	os.Remove(filepath.Join(dir, "b.csv.scans"))
	if r, _, err := frocOf(t, dir, Ref{Data: dir}, "a.csv", "b.csv"); err != nil || math.Abs(r.CPM-5.5/7) > 1e-12 || r.Scans != 3 {
		t.Errorf("with seriesuids.csv: %v, %v", r, err)
	}
	// The files cat-ed, headers repeated; the scans given.
	writeFiles(t, dir, map[string]string{"ab.csv": frocFiles["a.csv"] + frocFiles["b.csv"], "two": "A\nB\n"})
	if r, _, err := frocOf(t, dir, Ref{Data: dir, SeriesUIDs: filepath.Join(dir, "two")}, "ab.csv"); err != nil || math.Abs(r.CPM-5.0/7) > 1e-12 {
		t.Errorf("cat-ed: %v, %v", r, err)
	}
	// Without the excluded findings the 0.95 mark is a false positive.
	os.Remove(filepath.Join(dir, "annotations_excluded.csv"))
	r, log, err = frocOf(t, dir, Ref{Data: dir}, "ab.csv")
	if err != nil || r.FalsePositives != 4 || !strings.Contains(log, "annotations_excluded.csv: no findings are excluded") {
		t.Errorf("no excluded file: %v, %v, log %q", r, err, log)
	}
	if _, _, err := frocOf(t, dir, Ref{Data: dir, Excluded: filepath.Join(dir, "missing.csv")}, "ab.csv"); err == nil {
		t.Error("a missing --excluded file is no error")
	}
}

// TestFROCEmptyAndMalformed: a header alone is a valid submission of
// sensitivity 0; a malformed row is an error naming file and line.
func TestFROCEmptyAndMalformed(t *testing.T) {
	dir := frocDir(t)
	writeFiles(t, dir, map[string]string{
		"empty.csv": "seriesuid,coordX,coordY,coordZ,probability\n",
		"bad.csv":   "seriesuid,coordX,coordY,coordZ,probability\nA,0,0,0,0.5\nA,0,zero,0,0.5\n",
		"short.csv": "seriesuid,coordX,coordY,coordZ,probability\nA,0,0,0\n",
	})
	r, _, err := frocOf(t, dir, Ref{Data: dir}, "empty.csv")
	if err != nil || r.CPM != 0 || r.Scans != 3 || r.Nodules != 2 {
		t.Errorf("empty submission: %+v, %v", r, err)
	}
	for name, want := range map[string]string{"bad.csv": "bad.csv:3: column coordY", "short.csv": "short.csv:2: 4 fields"} {
		if _, _, err := frocOf(t, dir, Ref{Data: dir}, name); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", name, err, want)
		}
	}
	if _, _, err := frocOf(t, dir, Ref{}, "empty.csv"); err == nil || !strings.Contains(err.Error(), "--annotations FILE or --data DIR") {
		t.Errorf("no reference: %v", err)
	}
}
