package froc

import (
	"cmp"
	"math"
	"slices"
	"sort"
)

// Curve is a FROC curve: the script's computeFROC output, one point per
// threshold kept by sklearn's roc_curve (drop_intermediate=True), plus
// sklearn's leading (0, 0) point.
type Curve struct {
	FPsPerScan  []float64 // nondecreasing
	Sensitivity []float64 // nondecreasing
	// Thresholds are the probabilities the points stand for, highest
	// first; the first is the highest probability + 1 (sklearn before 1.3,
	// which the script was written for; later versions give +Inf).
	Thresholds []float64
}

// SensitivityAt interpolates the curve linearly at fps false positives
// per scan, as numpy.interp does (see interp).
func (c Curve) SensitivityAt(fps float64) float64 {
	return interp(fps, c.FPsPerScan, c.Sensitivity)
}

// rocPoint is one threshold of sklearn's _binary_clf_curve: how many
// negatives and positives score at least threshold.
type rocPoint struct{ fp, tp, threshold float64 }

// rocEntries returns the entries the ROC sees (the missed findings left
// out), sorted by probability, highest first.
func rocEntries(entries []entry) []entry {
	var out []entry
	for _, e := range entries {
		if !e.missed {
			out = append(out, e)
		}
	}
	slices.SortStableFunc(out, func(a, b entry) int { return cmp.Compare(b.prob, a.prob) })
	return out
}

// clfCurve is sklearn's _binary_clf_curve over entries sorted highest
// first: one point per distinct probability. Each entry counts weight[its
// scan] times (0: absent), or once when weight is nil; a bootstrap
// resample is such a weighting, and gives the counts that concatenating
// the drawn scans' entries would.
func clfCurve(sorted []entry, weight []int) []rocPoint {
	var (
		pts    []rocPoint
		tp, fp float64
		open   bool
		cur    float64
	)
	for _, e := range sorted {
		w := 1.0
		if weight != nil {
			if weight[e.scan] == 0 {
				continue
			}
			w = float64(weight[e.scan])
		}
		if open && e.prob != cur {
			pts = append(pts, rocPoint{fp, tp, cur})
		}
		open, cur = true, e.prob
		if e.positive {
			tp += w
		} else {
			fp += w
		}
	}
	if open {
		pts = append(pts, rocPoint{fp, tp, cur})
	}
	return pts
}

// dropIntermediate keeps, as roc_curve(drop_intermediate=True) does, the
// first and last points and those where the second difference of the
// false or true positive counts is not zero (the corners).
func dropIntermediate(pts []rocPoint) []rocPoint {
	if len(pts) <= 2 {
		return pts
	}
	out := []rocPoint{pts[0]}
	for i := 1; i < len(pts)-1; i++ {
		dfp := (pts[i+1].fp - pts[i].fp) - (pts[i].fp - pts[i-1].fp)
		dtp := (pts[i+1].tp - pts[i].tp) - (pts[i].tp - pts[i-1].tp)
		if dfp != 0 || dtp != 0 {
			out = append(out, pts[i])
		}
	}
	return append(out, pts[len(pts)-1])
}

// frocCurve is the script's computeFROC on a ROC: false positive rate ×
// negatives / scans, and true positive rate × detected / lesions, where
// lesions counts the missed findings too. With no negatives the false
// positives per scan are 0 (the script's "no false positives" case). Where
// the script has NaN or crashes (nothing detected, no lesions, no entries
// at all) the sensitivity is 0.
func frocCurve(pts []rocPoint, lesions float64, scans int) Curve {
	if len(pts) == 0 {
		return Curve{FPsPerScan: []float64{0}, Sensitivity: []float64{0}, Thresholds: []float64{math.Inf(1)}}
	}
	pts = dropIntermediate(pts)
	last := pts[len(pts)-1]
	n := len(pts) + 1
	c := Curve{FPsPerScan: make([]float64, n), Sensitivity: make([]float64, n), Thresholds: make([]float64, n)}
	c.Thresholds[0] = pts[0].threshold + 1
	for i, p := range pts {
		c.Thresholds[i+1] = p.threshold
		if last.fp > 0 {
			fpr := p.fp / last.fp
			c.FPsPerScan[i+1] = fpr * last.fp / float64(scans)
		}
		if last.tp > 0 && lesions > 0 {
			tpr := p.tp / last.tp
			c.Sensitivity[i+1] = tpr * last.tp / lesions
		}
	}
	return c
}

// interp is numpy.interp(x, xp, fp) for one x, with xp nondecreasing: fp[0]
// left of xp, fp[last] right of it, and otherwise the line between the
// points around x, taken from the last xp[j] <= x (so at an xp value that
// repeats, the last — on a FROC curve the highest — fp value).
func interp(x float64, xp, fp []float64) float64 {
	n := len(xp)
	switch {
	case x > xp[n-1]:
		return fp[n-1]
	case x < xp[0]:
		return fp[0]
	}
	j := sort.Search(n, func(i int) bool { return xp[i] > x }) - 1
	if j == n-1 || xp[j] == x {
		return fp[j]
	}
	slope := (fp[j+1] - fp[j]) / (xp[j+1] - xp[j])
	// The conversion keeps the multiply-add unfused, as in numpy.
	return float64(slope*(x-xp[j])) + fp[j]
}

// linspace is numpy.linspace(start, stop, num): start + i·step, the last
// point exactly stop.
func linspace(start, stop float64, num int) []float64 {
	out := make([]float64, num)
	step := (stop - start) / float64(num-1)
	for i := range out {
		out[i] = float64(float64(i)*step) + start
	}
	out[num-1] = stop
	return out
}
