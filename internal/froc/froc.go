package froc

import (
	"errors"
	"fmt"
)

// OperatingPoints are the false-positive rates per scan at which LUNA16
// reads the sensitivity; their mean is the CPM.
var OperatingPoints = [7]float64{0.125, 0.25, 0.5, 1, 2, 4, 8}

// Options are the evaluation settings; DefaultOptions gives the script's.
type Options struct {
	// MaxMarksPerScan caps the marks of a scan: with more, only those with
	// probability strictly above the (MaxMarksPerScan+1)-th highest count.
	// 0 or less: no cap.
	MaxMarksPerScan int
	// Resamples is the number of bootstrap resamples of the scans; 0: no
	// bootstrap.
	Resamples int
	// Seed seeds the SplitMix64 generator that draws the resamples: the
	// bootstrap is deterministic for a given seed.
	Seed uint64
	// Confidence is the level of the bootstrap intervals, in (0, 1).
	Confidence float64
}

// DefaultOptions returns the script's settings: 100 marks per scan, 1000
// resamples, 95 % intervals (and seed 1).
func DefaultOptions() Options {
	return Options{MaxMarksPerScan: 100, Resamples: 1000, Seed: 1, Confidence: 0.95}
}

// Result is everything the evaluation finds; the Write* functions turn it
// into the script's files.
type Result struct {
	Scans int // scans of the series list: the divisor of FPs per scan
	// Marks counts the submission's marks on the scans (before the cap);
	// MarksElsewhere those on other series, which are ignored.
	Marks, MarksElsewhere int
	// Candidates counts the marks kept by the cap ("Total number of
	// candidates").
	Candidates int
	// Nodules counts the included findings on the scans; Detected those
	// hit by a mark ("True positives"). Missed are the others, in scan and
	// file order (nodulesWithoutCandidate_<name>.txt).
	Nodules, Detected int
	Missed            []Finding
	// FalsePositives counts the kept marks that hit no finding.
	FalsePositives int
	// IgnoredOnExcluded counts the marks that hit only excluded findings;
	// DoubleDetections the extra marks on detected findings.
	IgnoredOnExcluded, DoubleDetections int
	// Curve is the FROC curve.
	Curve Curve
	// Sensitivity is the curve's sensitivity at OperatingPoints, and CPM
	// their mean.
	Sensitivity [7]float64
	CPM         float64
	// Bootstrap holds the bootstrap bands; nil without resamples.
	Bootstrap *Bootstrap

	entries []entry // the FROC vectors, for froc_gt_prob_vectors_<name>.csv
}

// Evaluate scores marks against ref as noduleCADEvaluationLUNA16.py does.
// A scan listed twice in ref.Scans is an error; marks and findings on
// series not in ref.Scans are ignored.
func Evaluate(ref *Reference, marks []Mark, opt Options) (*Result, error) {
	if err := opt.check(); err != nil {
		return nil, err
	}
	idx, err := scanIndex(ref.Scans)
	if err != nil {
		return nil, err
	}
	if len(ref.Scans) == 0 {
		return nil, errors.New("froc: no scans to evaluate")
	}
	byScan, elsewhere := groupMarks(marks, idx)
	inc, exc := groupFindings(ref.Included, idx), groupFindings(ref.Excluded, idx)
	r := &Result{Scans: len(ref.Scans), Marks: len(marks) - elsewhere, MarksElsewhere: elsewhere}
	for s := range ref.Scans {
		kept := capMarks(byScan[s], opt.MaxMarksPerScan)
		r.Candidates += len(kept)
		r.add(matchScan(s, kept, inc[s], exc[s]))
	}
	r.Curve = frocCurve(clfCurve(rocEntries(r.entries), nil), float64(r.Nodules), r.Scans)
	r.Sensitivity, r.CPM = operatingPoints(r.Curve)
	if opt.Resamples > 0 {
		r.Bootstrap = bootstrap(r.entries, r.Scans, opt)
	}
	return r, nil
}

// check refuses settings the evaluation cannot use.
func (o Options) check() error {
	if o.Resamples < 0 {
		return fmt.Errorf("froc: %d bootstrap resamples", o.Resamples)
	}
	if o.Resamples > 0 && !(o.Confidence > 0 && o.Confidence < 1) {
		return fmt.Errorf("froc: confidence %v is not in (0, 1)", o.Confidence)
	}
	return nil
}

// add accumulates one scan's matching.
func (r *Result) add(s scanResult) {
	r.entries = append(r.entries, s.entries...)
	r.Missed = append(r.Missed, s.missed...)
	r.Detected += s.tp
	r.Nodules += s.tp + len(s.missed)
	r.FalsePositives += s.fp
	r.IgnoredOnExcluded += s.ignored
	r.DoubleDetections += s.doubles
}

// operatingPoints reads a curve at OperatingPoints, and their mean.
func operatingPoints(c Curve) (sens [7]float64, cpm float64) {
	for i, fp := range OperatingPoints {
		sens[i] = c.SensitivityAt(fp)
		cpm += sens[i]
	}
	return sens, cpm / float64(len(sens))
}

// scanIndex maps each scan's series uid to its position.
func scanIndex(scans []string) (map[string]int, error) {
	idx := make(map[string]int, len(scans))
	for i, s := range scans {
		if _, dup := idx[s]; dup {
			return nil, fmt.Errorf("froc: scan %s is listed twice", s)
		}
		idx[s] = i
	}
	return idx, nil
}

// groupMarks sorts marks by scan, keeping file order, and counts those on
// no listed scan.
func groupMarks(marks []Mark, idx map[string]int) (byScan [][]Mark, elsewhere int) {
	byScan = make([][]Mark, len(idx))
	for _, m := range marks {
		s, ok := idx[m.SeriesUID]
		if !ok {
			elsewhere++
			continue
		}
		byScan[s] = append(byScan[s], m)
	}
	return byScan, elsewhere
}

// groupFindings sorts findings by scan, keeping file order.
func groupFindings(fs []Finding, idx map[string]int) [][]Finding {
	by := make([][]Finding, len(idx))
	for _, f := range fs {
		if s, ok := idx[f.SeriesUID]; ok {
			by[s] = append(by[s], f)
		}
	}
	return by
}
