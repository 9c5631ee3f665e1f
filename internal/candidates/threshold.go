package candidates

import (
	"fmt"
	"math"
)

// DefaultThreshold is the book's probability threshold: p > 0.5.
const DefaultThreshold = 0.5

// LogitCutoff returns the smallest float32 logit x for which the float32
// probability exceeds the threshold: fl32(σ(x)) > fl32(threshold), where
// fl32 rounds to the nearest float32, ties to even (a correctly rounded
// float32 sigmoid). The mask rule is then logit ≥ cutoff. Since σ(x) is never
// exactly a rounding midpoint for x ≠ 0, the rule is σ(x) > m, with m the
// midpoint between fl32(threshold) and the next float32 up, i.e. x > logit(m).
// For threshold 0.5 the cutoff is the float32 just above 2⁻²³: logits in
// (0, 2⁻²³] give a float32 probability of exactly 0.5.
//
// The threshold must lie in (0, 1) and round to a float32 below 1.
func LogitCutoff(threshold float64) (float32, error) {
	t := float32(threshold)
	if !(threshold > 0 && threshold < 1) || t >= 1 {
		return 0, fmt.Errorf("candidates: probability threshold %v must lie in (0, 1) and be below 1 as float32", threshold)
	}
	m := (float64(t) + float64(math.Nextafter32(t, 2))) / 2 // exact: float32s fit in float64
	v := logit64(m)
	c := float32(v)
	if float64(c) <= v {
		c = math.Nextafter32(c, float32(math.Inf(1)))
	}
	return c, nil
}

// logit64 is log(m/(1−m)), accurate to about an ulp: near 0.5 through atanh
// of the exact difference m − 0.5, elsewhere as a difference of logarithms
// without cancellation.
func logit64(m float64) float64 {
	if m >= 0.25 && m <= 0.75 {
		return 2 * math.Atanh(2*(m-0.5))
	}
	return math.Log(m) - math.Log1p(-m)
}

// Sigmoid is the logistic function in float64, 1/(1+e^−x), evaluated without
// overflow for either sign. It is 1.0 for x ≳ 36.7 and underflows to 0 below
// about −745.
func Sigmoid(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x)
	return e / (1 + e)
}
