package nn

import "math"

// BN is BatchNorm2d over N×C×HW tensors.
type BN struct {
	N, C, HW int
	Eps      float64 // 1e-5 in PyTorch
}

// Stats are one batch's per-channel statistics, kept from the forward pass
// for the backward pass.
type Stats struct {
	Mean   []float64
	Var    []float64 // biased (divided by N·HW)
	InvStd []float64 // 1/sqrt(Var+Eps)
}

// TrainForward normalises x with its own batch statistics (training mode),
// writes y and returns the statistics. Sums run in float64 per channel, like
// PyTorch's CPU kernel.
func (s BN) TrainForward(x, gamma, beta, y []float32, st *Stats, workers int) {
	st.Mean = resize64(st.Mean, s.C)
	st.Var = resize64(st.Var, s.C)
	st.InvStd = resize64(st.InvStd, s.C)
	cnt := float64(s.N * s.HW)
	parallelFor(s.C, workers, func(c int) {
		var sum float64
		s.eachPlane(x, c, func(p []float32) { sum += sum64(p) })
		mean := sum / cnt
		var ss float64
		s.eachPlane(x, c, func(p []float32) { ss += sqDev64(p, mean) })
		v := ss / cnt
		inv := 1 / math.Sqrt(v+s.Eps)
		st.Mean[c], st.Var[c], st.InvStd[c] = mean, v, inv
		scale := float32(inv * float64(gamma[c]))
		shift := float32(float64(beta[c]) - float64(float64(mean*inv)*float64(gamma[c])))
		s.affine(x, y, c, scale, shift)
	})
}

// UpdateRunning applies PyTorch's running-statistics update with the given
// momentum; the running variance takes the unbiased batch variance.
func (s BN) UpdateRunning(st *Stats, runMean, runVar []float32, momentum float64) {
	cnt := float64(s.N * s.HW)
	unbias := 1.0
	if cnt > 1 {
		unbias = cnt / (cnt - 1)
	}
	for c := 0; c < s.C; c++ {
		// The conversions keep each product from being fused with the sum
		// (GOAMD64=v3, arm64), so that every build gives the same bits.
		runMean[c] = float32(float64(momentum*st.Mean[c]) + float64((1-momentum)*float64(runMean[c])))
		runVar[c] = float32(float64(float64(momentum*st.Var[c])*unbias) + float64((1-momentum)*float64(runVar[c])))
	}
}

// EvalForward normalises x with the running statistics (evaluation mode).
func (s BN) EvalForward(x, gamma, beta, runMean, runVar, y []float32, workers int) {
	scale, shift := s.EvalAffine(gamma, beta, runMean, runVar)
	parallelFor(s.C, workers, func(c int) {
		s.affine(x, y, c, scale[c], shift[c])
	})
}

// EvalAffine returns the per-channel y = x·scale + shift that evaluation
// mode applies, for fusing into a convolution's Epilogue.
func (s BN) EvalAffine(gamma, beta, runMean, runVar []float32) (scale, shift []float32) {
	scale, shift = make([]float32, s.C), make([]float32, s.C)
	for c := range scale {
		inv := 1 / math.Sqrt(float64(runVar[c])+s.Eps)
		scale[c] = float32(inv * float64(gamma[c]))
		shift[c] = float32(float64(beta[c]) - float64(float64(float64(runMean[c])*inv)*float64(gamma[c])))
	}
	return scale, shift
}

// Backward computes dx, dgamma and dbeta of the training-mode forward pass
// with statistics st. dx may be nil when the input needs no gradient.
func (s BN) Backward(x, gamma, dy []float32, st *Stats, dx, dgamma, dbeta []float32, workers int) {
	s.backward(x, gamma, dy, st, dx, dgamma, dbeta, false, workers)
}

// BackwardReLU is Backward for a BatchNorm whose input x is a ReLU's
// output: dx is the gradient before that ReLU, zero where x is not positive.
func (s BN) BackwardReLU(x, gamma, dy []float32, st *Stats, dx, dgamma, dbeta []float32, workers int) {
	s.backward(x, gamma, dy, st, dx, dgamma, dbeta, true, workers)
}

func (s BN) backward(x, gamma, dy []float32, st *Stats, dx, dgamma, dbeta []float32, relu bool, workers int) {
	cnt := float64(s.N * s.HW)
	parallelFor(s.C, workers, func(c int) {
		mean, inv := st.Mean[c], st.InvStd[c]
		var sdy, sdyx float64
		for n := 0; n < s.N; n++ {
			o := (n*s.C + c) * s.HW
			a, b := dotDev64(dy[o:o+s.HW], x[o:o+s.HW], mean)
			sdy += a
			sdyx += b
		}
		dgamma[c] = float32(sdyx * inv)
		dbeta[c] = float32(sdy)
		if dx == nil {
			return
		}
		// dx = γ·inv·(dy − mean(dy) − x̂·mean(dy·x̂)) = a·dy + b·(x−mean) + k.
		// The coefficients are exact to float32; the per-element work is
		// float32 (an error near 1e-7 relative, far below the sums').
		g := float64(gamma[c]) * inv
		bx64 := -g * sdyx * inv * inv / cnt
		a, bx, k, m32 := float32(g), float32(bx64), float32(-g*sdy/cnt), float32(mean)
		for n := 0; n < s.N; n++ {
			o := (n*s.C + c) * s.HW
			xs, ds, out := x[o:o+s.HW], dy[o:o+s.HW], dx[o:o+s.HW]
			if relu {
				gradReLU32(xs, ds, out, a, bx, k, m32)
			} else {
				grad32(xs, ds, out, a, bx, k, m32)
			}
		}
	})
}

// eachPlane calls fn with channel c's plane of every sample, in order.
func (s BN) eachPlane(x []float32, c int, fn func([]float32)) {
	for n := 0; n < s.N; n++ {
		o := (n*s.C + c) * s.HW
		fn(x[o : o+s.HW])
	}
}

// affine writes y = x·scale + shift on channel c.
func (s BN) affine(x, y []float32, c int, scale, shift float32) {
	for n := 0; n < s.N; n++ {
		o := (n*s.C + c) * s.HW
		affine32(x[o:o+s.HW], y[o:o+s.HW], scale, shift)
	}
}

func resize64(s []float64, n int) []float64 {
	if cap(s) >= n {
		return s[:n]
	}
	return make([]float64, n)
}

// The kernels below run as AVX2 assembly when bnAsm is set and as the Go
// loops otherwise; both give the same bits on every length, so results do
// not depend on the CPU or the build tags.
//
// A float64 sum keeps 16 lanes: lane j adds the elements i ≡ j (mod 16) in
// index order (the assembly holds the lanes in four YMM registers, so the
// additions do not wait on each other), and reduce16 then combines the lanes
// in a fixed tree. The order thus depends only on the length. The assembly
// covers the whole 16-element blocks and the Go loop adds the rest to the
// same lanes.
//
// Every product that feeds an addition is wrapped in an explicit conversion:
// the Go spec then forbids fusing it into a multiply-add (which GOAMD64=v3 and
// arm64 would otherwise do), matching the assembly's separate multiply and add.

// reduce16 returns the sum of the 16 lanes as a pairwise tree: lane j plus
// lane j+8, then j plus j+4, j plus j+2, and the last two.
func reduce16(l [16]float64) float64 {
	for w := 8; w >= 1; w /= 2 {
		for j := 0; j < w; j++ {
			l[j] += l[j+w]
		}
	}
	return l[0]
}

// sum64 returns Σp in float64, in the lane order above.
func sum64(p []float32) float64 { return reduce16(sumLanes(p)) }

// sqDev64 returns Σ(p−mean)² in float64, in the lane order above.
func sqDev64(p []float32, mean float64) float64 { return reduce16(sqDevLanes(p, mean)) }

// dotDev64 returns Σdy and Σdy·(x−mean) in float64, each in the lane order
// above.
func dotDev64(dy, x []float32, mean float64) (float64, float64) {
	s, t := dotDevLanes(dy, x, mean)
	return reduce16(s), reduce16(t)
}

// sumLanes returns the 16 lane sums of p.
func sumLanes(p []float32) (l [16]float64) {
	i := 0
	if bnAsm && len(p) >= 16 {
		i = len(p) &^ 15
		sumLanesAVX2(&p[0], i, &l)
	}
	for ; i < len(p); i++ {
		l[i&15] += float64(p[i])
	}
	return l
}

// sqDevLanes returns the 16 lane sums of (p−mean)².
func sqDevLanes(p []float32, mean float64) (l [16]float64) {
	i := 0
	if bnAsm && len(p) >= 16 {
		i = len(p) &^ 15
		sqDevLanesAVX2(&p[0], i, mean, &l)
	}
	for ; i < len(p); i++ {
		d := float64(p[i]) - mean
		l[i&15] += float64(d * d)
	}
	return l
}

// dotDevLanes returns the 16 lane sums of dy and of dy·(x−mean).
func dotDevLanes(dy, x []float32, mean float64) (s, t [16]float64) {
	x = x[:len(dy)]
	i := 0
	if bnAsm && len(dy) >= 16 {
		i = len(dy) &^ 15
		dotDevLanesAVX2(&dy[0], &x[0], i, mean, &s, &t)
	}
	for ; i < len(dy); i++ {
		d := float64(dy[i])
		s[i&15] += d
		t[i&15] += float64(d * (float64(x[i]) - mean))
	}
	return s, t
}

// affine32 writes y = x·scale + shift in float32, the product rounded before
// the addition.
func affine32(x, y []float32, scale, shift float32) {
	y = y[:len(x)]
	i := 0
	if bnAsm && len(x) >= 8 {
		i = len(x) &^ 7
		affineAVX2(&x[0], &y[0], i, scale, shift)
	}
	for ; i < len(x); i++ {
		y[i] = float32(x[i]*scale) + shift
	}
}

// grad32 writes BatchNorm's input gradient out = a·dy + bx·(x−m) + k in
// float32, each product rounded and the additions done left to right.
func grad32(x, dy, out []float32, a, bx, k, m float32) {
	x, out = x[:len(dy)], out[:len(dy)]
	i := 0
	if bnAsm && len(dy) >= 8 {
		i = len(dy) &^ 7
		gradAVX2(&x[0], &dy[0], &out[0], i, a, bx, k, m)
	}
	for ; i < len(dy); i++ {
		out[i] = float32(a*dy[i]) + float32(bx*(x[i]-m)) + k
	}
}

// gradReLU32 is grad32 for an x that is a ReLU's output (≥ 0): out is +0
// where x is +0 (or negative), the gradient before that ReLU. The mask is
// branch-free, as about half the values are zero: keep iff int32(−bits(x))
// < 0, which also keeps −0.
func gradReLU32(x, dy, out []float32, a, bx, k, m float32) {
	x, out = x[:len(dy)], out[:len(dy)]
	i := 0
	if bnAsm && len(dy) >= 8 {
		i = len(dy) &^ 7
		gradReLUAVX2(&x[0], &dy[0], &out[0], i, a, bx, k, m)
	}
	for ; i < len(dy); i++ {
		keep := uint32(int32(-math.Float32bits(x[i])) >> 31)
		v := float32(a*dy[i]) + float32(bx*(x[i]-m)) + k
		out[i] = math.Float32frombits(math.Float32bits(v) & keep)
	}
}
