package froc

import (
	"math"
	"testing"
)

// The hand-worked reference: four scans; s1 holds nodule A (centre origin,
// 10 mm: radius² 25) and nodule B ((50,0,0), 6 mm: radius² 9); s2 holds
// nodule C (origin, 8 mm: radius² 16); s3 holds only an excluded
// non-nodule E ((100,0,0), diameter -1: 10 mm, radius² 25); s4 nothing.
func handReference() *Reference {
	return &Reference{
		Scans: []string{"s1", "s2", "s3", "s4"},
		Included: []Finding{
			{SeriesUID: "s1", XYZ: [3]float64{0, 0, 0}, DiameterMM: 10},
			{SeriesUID: "s1", XYZ: [3]float64{50, 0, 0}, DiameterMM: 6},
			{SeriesUID: "s2", XYZ: [3]float64{0, 0, 0}, DiameterMM: 8},
		},
		Excluded: []Finding{{SeriesUID: "s3", XYZ: [3]float64{100, 0, 0}, DiameterMM: -1}},
	}
}

// mk makes a mark.
func mk(uid string, x, y, z, p float64) Mark {
	return Mark{SeriesUID: uid, XYZ: [3]float64{x, y, z}, Probability: p}
}

// evaluate runs Evaluate without bootstrap on the hand reference.
func evaluate(t *testing.T, marks []Mark) *Result {
	t.Helper()
	opt := DefaultOptions()
	opt.Resamples = 0
	r, err := Evaluate(handReference(), marks, opt)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// near reports whether a and b agree to 1e-15.
func near(a, b float64) bool { return a == b || math.Abs(a-b) <= 1e-15 }

// checkCurve compares a curve with the expected points.
func checkCurve(t *testing.T, c Curve, fps, sens, thr []float64) {
	t.Helper()
	if len(c.FPsPerScan) != len(fps) {
		t.Fatalf("curve %+v, want fps %v sens %v", c, fps, sens)
	}
	for i := range fps {
		if !near(c.FPsPerScan[i], fps[i]) || !near(c.Sensitivity[i], sens[i]) || !near(c.Thresholds[i], thr[i]) {
			t.Fatalf("curve %+v, want fps %v sens %v thresholds %v", c, fps, sens, thr)
		}
	}
}

// checkPoints compares the sensitivities at the operating points and CPM.
func checkPoints(t *testing.T, r *Result, sens [7]float64) {
	t.Helper()
	cpm := 0.0
	for i, s := range sens {
		if !near(r.Sensitivity[i], s) {
			t.Errorf("sensitivity at %v = %v, want %v", OperatingPoints[i], r.Sensitivity[i], s)
		}
		cpm += s
	}
	if cpm /= 7; !near(r.CPM, cpm) {
		t.Errorf("CPM = %v, want %v", r.CPM, cpm)
	}
}

// checkCounts compares Detected, FalsePositives, len(Missed), Candidates,
// IgnoredOnExcluded and DoubleDetections.
func checkCounts(t *testing.T, r *Result, want [6]int) {
	t.Helper()
	got := [6]int{r.Detected, r.FalsePositives, len(r.Missed), r.Candidates, r.IgnoredOnExcluded, r.DoubleDetections}
	if got != want {
		t.Errorf("TP, FP, FN, candidates, ignored, doubles = %v, want %v", got, want)
	}
	if r.Nodules != 3 || r.Scans != 4 {
		t.Errorf("nodules %d, scans %d; want 3, 4", r.Nodules, r.Scans)
	}
}

func TestPerfectDetector(t *testing.T) {
	// A 0.9, B 0.8, C 0.7, nothing else. ROC points (fp, tp) at 0.9, 0.8,
	// 0.7: (0,1), (0,2), (0,3); the middle one is collinear and dropped.
	// With (0,0) first: thresholds 1.9, 0.9, 0.7; sensitivity tpr·3/3 = 0,
	// 1/3, 1. No false positives: FPs per scan 0 everywhere, and every
	// operating point lies right of the curve: sensitivity 1, CPM 1.
	r := evaluate(t, []Mark{mk("s1", 0, 0, 0, 0.9), mk("s1", 50, 0, 0, 0.8), mk("s2", 0, 0, 0, 0.7)})
	checkCounts(t, r, [6]int{3, 0, 0, 3, 0, 0})
	checkCurve(t, r.Curve, []float64{0, 0, 0}, []float64{0, 1.0 / 3, 1}, []float64{1.9, 0.9, 0.7})
	checkPoints(t, r, [7]float64{1, 1, 1, 1, 1, 1, 1})
}

func TestOneMiss(t *testing.T) {
	// A 0.9, an FP in s1 at 0.8, C 0.7, an FP in s4 at 0.6; B missed (in
	// the denominator only). ROC (fp, tp): (0,1), (1,1), (1,2), (2,2), all
	// corners. FPs per scan = fpr·2/4: 0, 0, .25, .25, .5; sensitivity =
	// tpr·2/3: 0, 1/3, 1/3, 2/3, 2/3. At 1/8: between (0, 1/3) and
	// (.25, 1/3): 1/3. At 1/4, a repeated FP value: the last, 2/3. From
	// 1/2 on: 2/3. CPM = (1/3 + 6·2/3)/7 = 13/21.
	r := evaluate(t, []Mark{mk("s1", 1, 1, 1, 0.9), mk("s1", 20, 20, 20, 0.8), mk("s2", 0, 1, 0, 0.7), mk("s4", 0, 0, 0, 0.6)})
	checkCounts(t, r, [6]int{2, 2, 1, 4, 0, 0})
	checkCurve(t, r.Curve, []float64{0, 0, .25, .25, .5}, []float64{0, 1.0 / 3, 1.0 / 3, 2.0 / 3, 2.0 / 3}, []float64{1.9, 0.9, 0.8, 0.7, 0.6})
	checkPoints(t, r, [7]float64{1.0 / 3, 2.0 / 3, 2.0 / 3, 2.0 / 3, 2.0 / 3, 2.0 / 3, 2.0 / 3})
	if got := r.Missed; len(got) != 1 || got[0].XYZ[0] != 50 {
		t.Errorf("missed %v, want nodule B", got)
	}
	if !near(r.CPM, 13.0/21) {
		t.Errorf("CPM %v, want 13/21", r.CPM)
	}
}

func TestTiedProbabilities(t *testing.T) {
	// A, C and an FP in s1 all at 0.8; an FP in s3 at 0.5. The tie is one
	// threshold: ROC (fp, tp) = (1,2) at 0.8, (2,2) at 0.5. FPs per scan
	// 0, .25, .5; sensitivity 0, 2/3, 2/3. At 1/8: halfway from (0,0) to
	// (.25, 2/3): 1/3 (were the tie split with the hits first, 2/3).
	r := evaluate(t, []Mark{mk("s1", 0, 0, 0, 0.8), mk("s1", 20, 20, 20, 0.8), mk("s2", 0, 0, 0, 0.8), mk("s3", 0, 0, 0, 0.5)})
	checkCounts(t, r, [6]int{2, 2, 1, 4, 0, 0})
	checkCurve(t, r.Curve, []float64{0, .25, .5}, []float64{0, 2.0 / 3, 2.0 / 3}, []float64{1.8, 0.8, 0.5})
	checkPoints(t, r, [7]float64{1.0 / 3, 2.0 / 3, 2.0 / 3, 2.0 / 3, 2.0 / 3, 2.0 / 3, 2.0 / 3})
}

func TestMoreThan100Marks(t *testing.T) {
	// s4 gets 99 marks at 1.000, 0.999, …, 0.902 and 3 at 0.5: 102 marks,
	// the 101st highest is 0.5, and only marks strictly above it stay: 99
	// (ties at the cut all go). s1 gets 101 marks: A at 0.001 (the lowest,
	// so the 101st highest is 0.001 and A is cut: A is missed) and 100
	// FPs at 0.002 … 0.101. s2's C at 0.7 is kept.
	var marks []Mark
	for i := range 99 {
		marks = append(marks, mk("s4", 0, 0, 0, 1-float64(i)*0.001))
	}
	for range 3 {
		marks = append(marks, mk("s4", 0, 0, 0, 0.5))
	}
	marks = append(marks, mk("s1", 0, 0, 0, 0.001))
	for i := range 100 {
		marks = append(marks, mk("s1", 200, 0, 0, 0.002+float64(i)*0.001))
	}
	marks = append(marks, mk("s2", 0, 0, 0, 0.7))
	r := evaluate(t, marks)
	if r.Marks != 204 {
		t.Errorf("marks read %d, want 204", r.Marks)
	}
	// Kept: 99 + 100 + 1 = 200; TP: C only; FP: 199; FN: A and B.
	checkCounts(t, r, [6]int{1, 199, 2, 200, 0, 0})
	if got := capMarks(marks[:102], 100); len(got) != 99 {
		t.Errorf("cap keeps %d of s4's marks, want 99", len(got))
	}
	if got := capMarks(marks[:102], 0); len(got) != 102 {
		t.Errorf("no cap keeps %d marks, want 102", len(got))
	}
}

func TestExcludedFindings(t *testing.T) {
	// E (diameter -1 → 10 mm, radius 5): a mark 4 mm away is ignored (not
	// an FP), one 6 mm away is an FP. A mark exactly on A's radius (5 mm,
	// distance² 25 = radius²) is no hit: an FP. C at 0.9 is detected.
	// Entries: C 0.9 (P), FPs 0.7 (s1), 0.6 (s3); B and A missed. ROC
	// (fp, tp) = (0,1), (1,1), (2,1): (1,1) is collinear and dropped. FPs
	// per scan fpr·2/4: 0, 0, .5; sensitivity tpr·1/3: 0, 1/3, 1/3.
	r := evaluate(t, []Mark{mk("s3", 104, 0, 0, 0.8), mk("s3", 106, 0, 0, 0.6), mk("s1", 5, 0, 0, 0.7), mk("s2", 0, 0, 0, 0.9)})
	checkCounts(t, r, [6]int{1, 2, 2, 4, 1, 0})
	checkCurve(t, r.Curve, []float64{0, 0, .5}, []float64{0, 1.0 / 3, 1.0 / 3}, []float64{1.9, 0.9, 0.6})
	checkPoints(t, r, [7]float64{1.0 / 3, 1.0 / 3, 1.0 / 3, 1.0 / 3, 1.0 / 3, 1.0 / 3, 1.0 / 3})
}

func TestDoubleHits(t *testing.T) {
	// Three marks inside A (0.3, 0.9, 0.6): A counts once, at 0.9; the two
	// others are double detections, neither TP nor FP. C at 0.2, one FP in
	// s2 at 0.5. Entries: A 0.9 (P), B missed, C 0.2 (P), FP 0.5. ROC
	// (fp, tp): (0,1) at 0.9, (1,1) at 0.5, (1,2) at 0.2. FPs per scan
	// fpr·1/4: 0, 0, .25, .25; sensitivity tpr·2/3: 0, 1/3, 1/3, 2/3.
	r := evaluate(t, []Mark{mk("s1", 1, 0, 0, 0.3), mk("s1", 0, 2, 0, 0.9), mk("s1", 0, 0, 3, 0.6), mk("s2", 0, 0, 0, 0.2), mk("s2", 30, 0, 0, 0.5)})
	checkCounts(t, r, [6]int{2, 1, 1, 5, 0, 2})
	checkCurve(t, r.Curve, []float64{0, 0, .25, .25}, []float64{0, 1.0 / 3, 1.0 / 3, 2.0 / 3}, []float64{1.9, 0.9, 0.5, 0.2})
	// At 1/8: between (0, 1/3) and (.25, 1/3); from 1/4 on, 2/3.
	checkPoints(t, r, [7]float64{1.0 / 3, 2.0 / 3, 2.0 / 3, 2.0 / 3, 2.0 / 3, 2.0 / 3, 2.0 / 3})
}

func TestScansWithoutMarksCount(t *testing.T) {
	// Only s1 has marks (A 0.9, FP 0.5), yet the FPs are per scan of all
	// four: the single FP is 1/4 FP per scan. ROC (0,1), (1,1): FPs per
	// scan 0, 0, .25; sensitivity 0, 1/3, 1/3.
	r := evaluate(t, []Mark{mk("s1", 0, 0, 0, 0.9), mk("s1", 0, 90, 0, 0.5)})
	checkCurve(t, r.Curve, []float64{0, 0, .25}, []float64{0, 1.0 / 3, 1.0 / 3}, []float64{1.9, 0.9, 0.5})
	// A second series list without s3 and s4 doubles the FP rate.
	ref := handReference()
	ref.Scans = ref.Scans[:2]
	r2, err := Evaluate(ref, []Mark{mk("s1", 0, 0, 0, 0.9), mk("s1", 0, 90, 0, 0.5)}, Options{MaxMarksPerScan: 100})
	if err != nil {
		t.Fatal(err)
	}
	if got := r2.Curve.FPsPerScan[2]; got != 0.5 {
		t.Errorf("with two scans the FP rate is %v, want 0.5", got)
	}
}

func TestNoFalsePositives(t *testing.T) {
	// A 0.9 and C 0.7 hit, B missed, no FP at all: the script's border
	// case, FPs per scan 0 everywhere. ROC (0,1), (0,2); sensitivity
	// tpr·2/3: 0, 1/3, 2/3. Every operating point is right of 0: 2/3.
	r := evaluate(t, []Mark{mk("s1", 0, 0, 0, 0.9), mk("s2", 0, 0, 0, 0.7)})
	checkCounts(t, r, [6]int{2, 0, 1, 2, 0, 0})
	checkCurve(t, r.Curve, []float64{0, 0, 0}, []float64{0, 1.0 / 3, 2.0 / 3}, []float64{1.9, 0.9, 0.7})
	checkPoints(t, r, [7]float64{2.0 / 3, 2.0 / 3, 2.0 / 3, 2.0 / 3, 2.0 / 3, 2.0 / 3, 2.0 / 3})
}

func TestEmptySubmission(t *testing.T) {
	// No marks: all three nodules missed, the curve is the single point
	// (0, 0) (the script crashes in roc_curve here), sensitivity 0.
	r := evaluate(t, nil)
	checkCounts(t, r, [6]int{0, 0, 3, 0, 0, 0})
	checkCurve(t, r.Curve, []float64{0}, []float64{0}, []float64{math.Inf(1)})
	checkPoints(t, r, [7]float64{})
}

func TestOnlyFalsePositives(t *testing.T) {
	// Two FPs, nothing detected: the script's sensitivity is NaN (tpr of
	// no positives); here 0. FPs per scan 0, .25, .5.
	r := evaluate(t, []Mark{mk("s4", 0, 0, 0, 0.4), mk("s3", 0, 0, 0, 0.3)})
	checkCounts(t, r, [6]int{0, 2, 3, 2, 0, 0})
	checkCurve(t, r.Curve, []float64{0, .25, .5}, []float64{0, 0, 0}, []float64{1.4, 0.4, 0.3})
	checkPoints(t, r, [7]float64{})
}

func TestMarksElsewhereIgnored(t *testing.T) {
	r := evaluate(t, []Mark{mk("s1", 0, 0, 0, 0.9), mk("other", 0, 0, 0, 0.9)})
	if r.Marks != 1 || r.MarksElsewhere != 1 || r.Candidates != 1 {
		t.Errorf("marks %d, elsewhere %d, candidates %d; want 1, 1, 1", r.Marks, r.MarksElsewhere, r.Candidates)
	}
}

func TestEvaluateRefuses(t *testing.T) {
	ref := handReference()
	ref.Scans = append(ref.Scans, "s1")
	if _, err := Evaluate(ref, nil, DefaultOptions()); err == nil {
		t.Error("a scan listed twice was accepted")
	}
	if _, err := Evaluate(&Reference{}, nil, DefaultOptions()); err == nil {
		t.Error("no scans was accepted")
	}
	opt := DefaultOptions()
	opt.Confidence = 1
	if _, err := Evaluate(handReference(), nil, opt); err == nil {
		t.Error("confidence 1 was accepted")
	}
}

func TestInterpLikeNumpy(t *testing.T) {
	// numpy.interp([-1, 0, .5, 1, 1.5, 2, 3], [0, 1, 1, 2], [0, .2, .6, 1])
	// = [0, 0, .1, .6, .8, 1, 1]: at the repeated 1, the last value.
	xp, fp := []float64{0, 1, 1, 2}, []float64{0, .2, .6, 1}
	for _, c := range []struct{ x, want float64 }{{-1, 0}, {0, 0}, {.5, .1}, {1, .6}, {1.5, .8}, {2, 1}, {3, 1}} {
		if got := interp(c.x, xp, fp); !near(got, c.want) {
			t.Errorf("interp(%v) = %v, want %v", c.x, got, c.want)
		}
	}
}

func TestLinspaceLikeNumpy(t *testing.T) {
	// numpy.linspace(0.125, 8, 10000)[1] = 0.125 + 7.875/9999.
	l := linspace(0.125, 8, 10000)
	if l[0] != 0.125 || l[9999] != 8 || l[1] != 0.125+7.875/9999.0 {
		t.Errorf("linspace ends %v %v %v", l[0], l[1], l[9999])
	}
}
