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
		shift := float32(float64(beta[c]) - mean*inv*float64(gamma[c]))
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
		runMean[c] = float32(momentum*st.Mean[c] + (1-momentum)*float64(runMean[c]))
		runVar[c] = float32(momentum*st.Var[c]*unbias + (1-momentum)*float64(runVar[c]))
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
		shift[c] = float32(float64(beta[c]) - float64(runMean[c])*inv*float64(gamma[c]))
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
			if !relu {
				for i, d := range ds {
					out[i] = a*d + bx*(xs[i]-m32) + k
				}
				continue
			}
			// x is a ReLU output (≥ 0): keep the gradient where x's bits are
			// non-zero, without a branch (about half the values are zero).
			for i, d := range ds {
				xb := math.Float32bits(xs[i])
				keep := uint32(int32(-xb) >> 31)
				out[i] = math.Float32frombits(math.Float32bits(a*d+bx*(xs[i]-m32)+k) & keep)
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
		ys := y[o : o+s.HW]
		for i, v := range x[o : o+s.HW] {
			ys[i] = v*scale + shift
		}
	}
}

func resize64(s []float64, n int) []float64 {
	if cap(s) >= n {
		return s[:n]
	}
	return make([]float64, n)
}

// The float64 sums below keep four partial sums so that the additions do
// not wait on each other; the order is fixed, so results are reproducible.

// sum64 returns Σp.
func sum64(p []float32) float64 {
	var a0, a1, a2, a3 float64
	i := 0
	for ; i+4 <= len(p); i += 4 {
		a0 += float64(p[i])
		a1 += float64(p[i+1])
		a2 += float64(p[i+2])
		a3 += float64(p[i+3])
	}
	for ; i < len(p); i++ {
		a0 += float64(p[i])
	}
	return (a0 + a1) + (a2 + a3)
}

// sqDev64 returns Σ(p−mean)².
func sqDev64(p []float32, mean float64) float64 {
	var a0, a1, a2, a3 float64
	i := 0
	for ; i+4 <= len(p); i += 4 {
		d0, d1 := float64(p[i])-mean, float64(p[i+1])-mean
		d2, d3 := float64(p[i+2])-mean, float64(p[i+3])-mean
		a0 += d0 * d0
		a1 += d1 * d1
		a2 += d2 * d2
		a3 += d3 * d3
	}
	for ; i < len(p); i++ {
		d := float64(p[i]) - mean
		a0 += d * d
	}
	return (a0 + a1) + (a2 + a3)
}

// dotDev64 returns Σdy and Σdy·(x−mean).
func dotDev64(dy, x []float32, mean float64) (float64, float64) {
	x = x[:len(dy)]
	var s0, s1, t0, t1 float64
	i := 0
	for ; i+2 <= len(dy); i += 2 {
		d0, d1 := float64(dy[i]), float64(dy[i+1])
		s0 += d0
		s1 += d1
		t0 += d0 * (float64(x[i]) - mean)
		t1 += d1 * (float64(x[i+1]) - mean)
	}
	for ; i < len(dy); i++ {
		d := float64(dy[i])
		s0 += d
		t0 += d * (float64(x[i]) - mean)
	}
	return s0 + s1, t0 + t1
}
