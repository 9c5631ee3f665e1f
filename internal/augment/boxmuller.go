package augment

import "math"

// The Box–Muller transform below is evaluated with fdlibm's polynomials
// (those of Go's pure-Go math.Log and of fdlibm's __kernel_sin and
// __kernel_cos) rather than with package math, one correctly rounded
// operation at a time, so that the AVX2 kernel of noise_amd64.s can give
// the same bits: the noise then does not depend on the CPU. Every product
// that feeds an addition is wrapped in a conversion, which forbids the
// compiler to fuse the two (as it may with GOAMD64=v3 or on arm64). Both
// functions are within about one unit in the last place of the true value.

// BoxMuller turns two words into two standard normal samples as cuRAND's
// _curand_box_muller does, in float64: with u = (a + ½)·2⁻³² ∈ (0, 1) and
// φ = 2π·(b + ½)·2⁻³², it returns r·sin φ and r·cos φ, r = √(−2 ln u).
func BoxMuller(a, b uint32) (float64, float64) {
	u := (float64(a) + 0.5) * twoM32
	r := math.Sqrt(-2 * lnUnit(u))
	s, c := sincosTurn((float64(b) + 0.5) * twoM32)
	return r * s, r * c
}

// fdlibm's log coefficients (Lg1…Lg7) and ln 2 split in two.
const (
	lg1   = 6.666666666666735130e-01
	lg2   = 3.999999999940941908e-01
	lg3   = 2.857142874366239149e-01
	lg4   = 2.222219843214978396e-01
	lg5   = 1.818357216161805012e-01
	lg6   = 1.531383769920937332e-01
	lg7   = 1.479819860511658591e-01
	ln2Hi = 6.93147180369123816490e-01
	ln2Lo = 1.90821492927058770002e-10
)

// lnUnit returns ln u for a normal u in (0, 1] (the Box–Muller radius's
// argument, at least 2⁻³³): u = m·2ᵉ with m in [√½, √2), then fdlibm's
// ln m = f − (f²/2 − s·(f²/2 + R(s²))), s = f/(2+f), f = m − 1.
func lnUnit(u float64) float64 {
	bits := math.Float64bits(u)
	e := int64(bits >> 52)
	m := math.Float64frombits(bits&(1<<52-1) | 1023<<52)
	if m > math.Sqrt2 {
		m *= 0.5
		e++
	}
	k := float64(e - 1023)
	f := m - 1
	s := f / (2 + f)
	z := s * s
	w := z * z
	t1 := float64(w * float64(lg2+float64(w*float64(lg4+float64(w*lg6)))))
	t2 := float64(z * float64(lg1+float64(w*float64(lg3+float64(w*float64(lg5+float64(w*lg7)))))))
	r := t2 + t1
	hfsq := float64(float64(0.5*f) * f)
	return float64(k*ln2Hi) - ((hfsq - (float64(s*(hfsq+r)) + float64(k*ln2Lo))) - f)
}

// fdlibm's sine and cosine coefficients on [−π/4, π/4].
const (
	sin1 = -1.66666666666666324348e-01
	sin2 = 8.33333333332248946124e-03
	sin3 = -1.98412698298579493134e-04
	sin4 = 2.75573137070700676789e-06
	sin5 = -2.50507602534068634195e-08
	sin6 = 1.58969099521155010221e-10
	cos1 = 4.16666666666666019037e-02
	cos2 = -1.38888888888741095749e-03
	cos3 = 2.48015872894767294178e-05
	cos4 = -2.75573143513906633035e-07
	cos5 = 2.08757232129817482790e-09
	cos6 = -1.13596475577881948265e-11
)

// sincosTurn returns sin 2πv and cos 2πv for v in [0, 1]. The reduction is
// exact in turns: 4v = q + d with q a whole quadrant and |d| ≤ ½, and
// x = d·π/2 is the only rounded step before the polynomials.
func sincosTurn(v float64) (sin, cos float64) {
	t := float64(4 * v)
	q := math.RoundToEven(t)
	x := float64((t - q) * (math.Pi / 2))
	z := x * x
	s := x + float64(float64(z*x)*float64(sin1+float64(z*float64(sin2+float64(z*float64(sin3+float64(z*float64(sin4+float64(z*float64(sin5+float64(z*sin6)))))))))))
	rc := float64(z * float64(cos1+float64(z*float64(cos2+float64(z*float64(cos3+float64(z*float64(cos4+float64(z*float64(cos5+float64(z*cos6)))))))))))
	hz := float64(0.5 * z)
	w := 1 - hz
	c := w + (((1 - w) - hz) + float64(z*rc))
	switch int(q) & 3 {
	case 1:
		return c, -s
	case 2:
		return -s, -c
	case 3:
		return -c, s
	}
	return s, c
}
