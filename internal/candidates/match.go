package candidates

import "math"

// MatchRatio is the book's nodule rule (chapter 14, match_and_score): a
// nodule is found when a candidate lies at a distance below MatchRatio times
// its diameter (1.4 radii).
const MatchRatio = 0.7

// Nodule is a true nodule: its centre in world millimetres and its diameter.
type Nodule struct {
	CenterXYZ  [3]float64
	DiameterMM float64
}

// Match is the outcome of MatchNodules.
type Match struct {
	// Found is the number of nodules with at least one candidate in range.
	Found int
	// Nearest has, per nodule, the index in the candidate list of the
	// candidate with the smallest distance/diameter below MatchRatio (the
	// lowest index among equals), or −1 when none is in range.
	Nearest []int
	// Matched has, per candidate, whether it is in range of any nodule.
	Matched []bool
}

// MatchNodules applies the book's rule, distance/diameter < MatchRatio, to
// every nodule–candidate pair of one scan. A nodule whose diameter is not
// positive is never found.
func MatchNodules(cands []Candidate, nodules []Nodule) Match {
	m := Match{Nearest: make([]int, len(nodules)), Matched: make([]bool, len(cands))}
	for i, nod := range nodules {
		m.Nearest[i] = -1
		best := MatchRatio
		for j := range cands {
			r := distance(nod.CenterXYZ, cands[j].CenterXYZ) / nod.DiameterMM
			if !(nod.DiameterMM > 0) || !(r < MatchRatio) {
				continue
			}
			m.Matched[j] = true
			if r < best {
				best, m.Nearest[i] = r, j
			}
		}
		if m.Nearest[i] >= 0 {
			m.Found++
		}
	}
	return m
}

func distance(a, b [3]float64) float64 {
	dx, dy, dz := a[0]-b[0], a[1]-b[1], a[2]-b[2]
	return math.Sqrt(dx*dx + dy*dy + dz*dz)
}
