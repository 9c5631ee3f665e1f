package froc

import "slices"

// missedProbability is the probability the script gives a missed finding
// in its FROC vectors (minProbValue); such entries are left out of the ROC.
const missedProbability = -1000000000.0

// entry is one element of the script's FROC vectors (FROCGTList,
// FROCProbList, excludeList, FPDivisorList).
type entry struct {
	positive bool    // an included finding (1.0), else a false positive (0.0)
	prob     float64 // the highest probability of its marks, or missedProbability
	missed   bool    // excludeList: a missed finding, left out of the ROC
	scan     int     // index of its scan in Reference.Scans
}

// scanResult is what matching gives for one scan.
type scanResult struct {
	entries []entry
	missed  []Finding // included findings without a mark, in file order
	// Counts as named in the script's CADAnalysis.txt.
	tp, fp, ignored, doubles int
}

// capMarks keeps, when a scan has more than max marks (max > 0), the marks
// whose probability is strictly above the (max+1)-th highest, in file order
// (so ties at the cut all go, and fewer than max may stay).
func capMarks(marks []Mark, max int) []Mark {
	if max <= 0 || len(marks) <= max {
		return marks
	}
	probs := make([]float64, len(marks))
	for i, m := range marks {
		probs[i] = m.Probability
	}
	slices.Sort(probs)
	threshold := probs[len(probs)-1-max] // probs sorted high to low, index max
	var kept []Mark
	for _, m := range marks {
		if m.Probability > threshold {
			kept = append(kept, m)
		}
	}
	return kept
}

// matchScan matches a scan's marks against its included findings and then
// its excluded ones, as the script's evaluateCAD does.
func matchScan(scan int, marks []Mark, included, excluded []Finding) scanResult {
	var r scanResult
	taken := make([]bool, len(marks)) // deleted from the script's candidates2
	for _, f := range included {
		r.addIncluded(scan, f, marks, taken)
	}
	for _, f := range excluded {
		r2 := radiusSquared(f.DiameterMM)
		for i, m := range marks {
			if !taken[i] && distSquared(f, m) < r2 {
				taken[i] = true
				r.ignored++
			}
		}
	}
	for i, m := range marks {
		if !taken[i] {
			r.fp++
			r.entries = append(r.entries, entry{prob: m.Probability, scan: scan})
		}
	}
	return r
}

// addIncluded matches one included finding: every mark within its radius
// hits it (even a mark that already hit another finding, as in the
// script), leaves the false-positive pool, and the finding enters the FROC
// vectors once with the highest of their probabilities.
func (r *scanResult) addIncluded(scan int, f Finding, marks []Mark, taken []bool) {
	r2 := radiusSquared(f.DiameterMM)
	hits, best := 0, 0.0
	for i, m := range marks {
		if distSquared(f, m) < r2 {
			if hits == 0 || m.Probability > best {
				best = m.Probability
			}
			hits++
			taken[i] = true
		}
	}
	if hits > 1 {
		r.doubles += hits - 1
	}
	if hits == 0 {
		r.missed = append(r.missed, f)
		r.entries = append(r.entries, entry{positive: true, prob: missedProbability, missed: true, scan: scan})
		return
	}
	r.tp++
	r.entries = append(r.entries, entry{positive: true, prob: best, scan: scan})
}

// radiusSquared is the script's hit radius squared: (diameter/2)², a
// negative diameter counting as NonNoduleDiameterMM.
func radiusSquared(diameter float64) float64 {
	if diameter < 0 {
		diameter = NonNoduleDiameterMM
	}
	h := diameter / 2
	return h * h
}

// distSquared is the squared distance between a finding and a mark, summed
// in the script's order. The conversions round each product, so that no
// platform fuses them into a multiply-add and a mark at the edge of a
// finding is judged as Python judges it.
func distSquared(f Finding, m Mark) float64 {
	dx, dy, dz := f.XYZ[0]-m.XYZ[0], f.XYZ[1]-m.XYZ[1], f.XYZ[2]-m.XYZ[2]
	return float64(dx*dx) + float64(dy*dy) + float64(dz*dz)
}
