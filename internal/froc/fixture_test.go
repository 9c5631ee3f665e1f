package froc

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"math"
	"os"
	"testing"

	"github.com/ctseg/ctseg/internal/sharedtest"
)

// fixtureExpected is testdata/fixture_expected.json, written by
// tools/luna16/froc_fixture.py (the Python 3 port of the official script)
// from testdata/fixture_submission.csv.gz over the real LUNA16 files.
type fixtureExpected struct {
	Name          string
	BootstrapSeed uint64 `json:"bootstrap_seed"`
	Resamples     int
	CPM           float64
	Sensitivity   [7]float64
	CurvePoints   int `json:"curve_points"`
	Counts        struct {
		CandTPs, CandFPs, CandFNs, TotalNumberOfCands, TotalNumberOfNodules int
		IrrelevantCandidates, DoubleCandidatesIgnored                       int
	}
	SHA256 map[string]string
}

// TestFixtureMatchesOfficialScript scores the fixture submission over the
// real annotations and compares with the Python port of
// noduleCADEvaluationLUNA16.py: CPM and sensitivities within 1e-9, the
// counts exactly, and every file it writes byte for byte (the bootstrap
// too: the port draws with the same SplitMix64 generator).
func TestFixtureMatchesOfficialScript(t *testing.T) {
	ref, err := LoadReferenceDir(sharedtest.LunaDir(t))
	if err != nil {
		t.Fatal(err)
	}
	var exp fixtureExpected
	raw, err := os.ReadFile("testdata/fixture_expected.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &exp); err != nil {
		t.Fatal(err)
	}
	marks, err := LoadSubmission("testdata/fixture_submission.csv.gz")
	if err != nil {
		t.Fatal(err)
	}
	opt := DefaultOptions()
	opt.Seed, opt.Resamples = exp.BootstrapSeed, exp.Resamples
	r, err := Evaluate(ref, marks, opt)
	if err != nil {
		t.Fatal(err)
	}
	checkFixtureValues(t, r, exp)
	checkFixtureCounts(t, r, exp)
	checkFixtureFiles(t, r, exp)
}

// checkFixtureValues compares the CPM and the seven sensitivities.
func checkFixtureValues(t *testing.T, r *Result, exp fixtureExpected) {
	t.Helper()
	maxDiff := math.Abs(r.CPM - exp.CPM)
	for i, want := range exp.Sensitivity {
		maxDiff = max(maxDiff, math.Abs(r.Sensitivity[i]-want))
	}
	t.Logf("CPM %.12f (Python %.12f), max |Δ| over CPM and sensitivities %.3g", r.CPM, exp.CPM, maxDiff)
	if maxDiff > 1e-9 {
		t.Errorf("sensitivities %v, CPM %v; Python: %v, %v", r.Sensitivity, r.CPM, exp.Sensitivity, exp.CPM)
	}
	if got := len(r.Curve.FPsPerScan); got != exp.CurvePoints {
		t.Errorf("curve has %d points, Python %d", got, exp.CurvePoints)
	}
}

// checkFixtureCounts compares the script's counts.
func checkFixtureCounts(t *testing.T, r *Result, exp fixtureExpected) {
	t.Helper()
	c := exp.Counts
	got := [7]int{r.Detected, r.FalsePositives, len(r.Missed), r.Candidates, r.Nodules, r.IgnoredOnExcluded, r.DoubleDetections}
	want := [7]int{c.CandTPs, c.CandFPs, c.CandFNs, c.TotalNumberOfCands, c.TotalNumberOfNodules, c.IrrelevantCandidates, c.DoubleCandidatesIgnored}
	if got != want {
		t.Errorf("TP, FP, FN, candidates, nodules, ignored, doubles = %v, Python %v", got, want)
	}
}

// checkFixtureFiles compares the written files' SHA-256 with the script's.
func checkFixtureFiles(t *testing.T, r *Result, exp fixtureExpected) {
	t.Helper()
	n := exp.Name
	writers := map[string]func(io.Writer) error{
		"CADAnalysis.txt":                       func(w io.Writer) error { return WriteCADAnalysis(w, n, r) },
		"nodulesWithoutCandidate_" + n + ".txt": func(w io.Writer) error { return WriteNodulesWithoutCandidate(w, r) },
		"froc_" + n + ".txt":                    func(w io.Writer) error { return WriteCurve(w, r) },
		"froc_gt_prob_vectors_" + n + ".csv":    func(w io.Writer) error { return WriteGTProbVectors(w, r) },
		"froc_" + n + "_bootstrapping.csv":      func(w io.Writer) error { return WriteBootstrap(w, r.Bootstrap) },
	}
	if len(exp.SHA256) != len(writers) {
		t.Fatalf("fixture names %d files, want %d", len(exp.SHA256), len(writers))
	}
	for name, want := range exp.SHA256 {
		var buf bytes.Buffer
		if err := writers[name](&buf); err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(buf.Bytes())
		if got := hex.EncodeToString(sum[:]); got != want {
			t.Errorf("%s differs from the script's (sha256 %s, want %s)", name, got, want)
			if dir := os.Getenv("FROC_DUMP"); dir != "" {
				_ = os.WriteFile(dir+"/"+name, buf.Bytes(), 0o644)
			}
		}
	}
}
