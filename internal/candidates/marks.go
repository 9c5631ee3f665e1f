package candidates

import (
	"cmp"
	"math"
	"slices"
)

// LUNA16MaxMarks is the number of marks per scan that LUNA16's evaluation
// script keeps: with more, it keeps only those with a probability strictly
// above the 101st highest, so tied marks at the cut are all dropped.
const LUNA16MaxMarks = 100

// MaxMarks returns at most n of one scan's candidates, best first: by
// MeanLogit, highest first, then by Label, lowest first (NaN scores last).
// The returned Probability values are made strictly decreasing in that
// order: a probability not below its predecessor's (σ rounds to 1.0 past a
// mean logit of ~36.7, or two means are equal) becomes the float64 just below
// the predecessor's. A kept probability therefore moves by at most its rank
// in ulps (about 1e-16 each) and stays above the threshold, since every mean
// logit is at least the threshold's logit cutoff. Write the probabilities
// with strconv.FormatFloat(p, 'g', -1, 64) so that they stay distinct.
// The input is not modified; n ≤ 0 returns none.
func MaxMarks(cands []Candidate, n int) []Candidate {
	out := slices.Clone(cands)
	slices.SortStableFunc(out, func(a, b Candidate) int {
		if c := cmp.Compare(b.MeanLogit, a.MeanLogit); c != 0 {
			return c
		}
		return cmp.Compare(a.Label, b.Label)
	})
	out = out[:max(0, min(n, len(out)))]
	for i := 1; i < len(out); i++ {
		if prev := out[i-1].Probability; !(out[i].Probability < prev) {
			out[i].Probability = math.Nextafter(prev, math.Inf(-1))
		}
	}
	return out
}
