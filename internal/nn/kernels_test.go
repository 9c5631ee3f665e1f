package nn

import (
	"math"
	"math/rand/v2"
	"testing"
)

// The references below are direct float64 transcriptions of the layer
// definitions (PyTorch's documentation formulas), independent of the
// im2col/GEMM code under test.

func naiveConv(s Conv, x, w, b []float32) []float64 {
	p := s.K / 2
	y := make([]float64, s.N*s.Cout*s.H*s.W)
	for n := 0; n < s.N; n++ {
		for co := 0; co < s.Cout; co++ {
			for r := 0; r < s.H; r++ {
				for c := 0; c < s.W; c++ {
					v := float64(b[co])
					for ci := 0; ci < s.Cin; ci++ {
						for ky := 0; ky < s.K; ky++ {
							for kx := 0; kx < s.K; kx++ {
								sr, sc := r+ky-p, c+kx-p
								if sr < 0 || sr >= s.H || sc < 0 || sc >= s.W {
									continue
								}
								v += float64(w[((co*s.Cin+ci)*s.K+ky)*s.K+kx]) * float64(x[((n*s.Cin+ci)*s.H+sr)*s.W+sc])
							}
						}
					}
					y[((n*s.Cout+co)*s.H+r)*s.W+c] = v
				}
			}
		}
	}
	return y
}

// naiveConvGrads returns dx, dw, db of L = Σ dy·conv(x, w).
func naiveConvGrads(s Conv, x, w, dy []float32) (dx, dw, db []float64) {
	p := s.K / 2
	dx = make([]float64, len(x))
	dw = make([]float64, len(w))
	db = make([]float64, s.Cout)
	for n := 0; n < s.N; n++ {
		for co := 0; co < s.Cout; co++ {
			for r := 0; r < s.H; r++ {
				for c := 0; c < s.W; c++ {
					g := float64(dy[((n*s.Cout+co)*s.H+r)*s.W+c])
					db[co] += g
					for ci := 0; ci < s.Cin; ci++ {
						for ky := 0; ky < s.K; ky++ {
							for kx := 0; kx < s.K; kx++ {
								sr, sc := r+ky-p, c+kx-p
								if sr < 0 || sr >= s.H || sc < 0 || sc >= s.W {
									continue
								}
								xi := ((n*s.Cin+ci)*s.H+sr)*s.W + sc
								wi := ((co*s.Cin+ci)*s.K+ky)*s.K + kx
								dx[xi] += g * float64(w[wi])
								dw[wi] += g * float64(x[xi])
							}
						}
					}
				}
			}
		}
	}
	return dx, dw, db
}

func assertClose(t *testing.T, what string, got []float32, want []float64, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: length %d, want %d", what, len(got), len(want))
	}
	scale := 0.0
	for _, v := range want {
		scale = math.Max(scale, math.Abs(v))
	}
	for i := range got {
		if d := math.Abs(float64(got[i]) - want[i]); d > tol*math.Max(scale, 1e-30) || math.IsNaN(float64(got[i])) {
			t.Fatalf("%s[%d] = %v, want %v (scale %g)", what, i, got[i], want[i], scale)
		}
	}
}

func TestConv(t *testing.T) {
	defer func(v int) { colFloats = v }(colFloats)
	r := rand.New(rand.NewPCG(3, 4))
	for _, small := range []bool{false, true} {
		if small {
			colFloats = 1 // one row per band
		}
		for _, s := range []Conv{{2, 3, 5, 6, 7, 3}, {3, 7, 16, 4, 8, 3}, {2, 16, 1, 5, 4, 1}, {1, 2, 4, 1, 1, 3}, {1, 3, 6, 9, 13, 5}, {2, 7, 16, 20, 33, 3}} {
			x := randSlice(r, s.N*s.Cin*s.H*s.W)
			w := randSlice(r, s.Cout*s.Cin*s.K*s.K)
			b := randSlice(r, s.Cout)
			dy := randSlice(r, s.N*s.Cout*s.H*s.W)
			y := make([]float32, len(dy))
			s.Forward(x, w, b, y, 2)
			assertClose(t, "conv y", y, naiveConv(s, x, w, b), 1e-5)
			wdx, wdw, wdb := naiveConvGrads(s, x, w, dy)
			dx := make([]float32, len(x))
			s.BackwardData(dy, w, dx, 3)
			assertClose(t, "conv dx", dx, wdx, 1e-5)
			dw, db := make([]float32, len(w)), make([]float32, s.Cout)
			s.BackwardWeight(x, dy, dw, db, 2)
			assertClose(t, "conv dw", dw, wdw, 1e-5)
			assertClose(t, "conv db", db, wdb, 1e-5)
		}
	}
}

func TestConvT(t *testing.T) {
	defer func(v int) { colFloats = v }(colFloats)
	r := rand.New(rand.NewPCG(5, 6))
	for _, small := range []bool{false, true} {
		if small {
			colFloats = 1
		}
		for _, s := range []ConvT{{2, 8, 4, 3, 5}, {3, 64, 32, 4, 4}, {1, 1, 1, 1, 1}} {
			x := randSlice(r, s.N*s.Cin*s.H*s.W)
			w := randSlice(r, s.Cin*s.Cout*4)
			b := randSlice(r, s.Cout)
			ho, wo := 2*s.H, 2*s.W
			dy := randSlice(r, s.N*s.Cout*ho*wo)
			want := make([]float64, len(dy))
			wdx := make([]float64, len(x))
			wdw := make([]float64, len(w))
			wdb := make([]float64, s.Cout)
			for n := 0; n < s.N; n++ {
				for co := 0; co < s.Cout; co++ {
					for oy := 0; oy < ho; oy++ {
						for ox := 0; ox < wo; ox++ {
							oi := ((n*s.Cout+co)*ho+oy)*wo + ox
							v := float64(b[co])
							wdb[co] += float64(dy[oi])
							for ci := 0; ci < s.Cin; ci++ {
								xi := ((n*s.Cin+ci)*s.H+oy/2)*s.W + ox/2
								wi := ((ci*s.Cout+co)*2+oy%2)*2 + ox%2
								v += float64(x[xi]) * float64(w[wi])
								wdx[xi] += float64(w[wi]) * float64(dy[oi])
								wdw[wi] += float64(x[xi]) * float64(dy[oi])
							}
							want[oi] = v
						}
					}
				}
			}
			y := make([]float32, len(dy))
			s.Forward(x, w, b, y, 2)
			assertClose(t, "convT y", y, want, 1e-5)
			dx := make([]float32, len(x))
			s.BackwardData(dy, w, dx, 2)
			assertClose(t, "convT dx", dx, wdx, 1e-5)
			dw, db := make([]float32, len(w)), make([]float32, s.Cout)
			s.BackwardWeight(x, dy, dw, db, 2)
			assertClose(t, "convT dw", dw, wdw, 1e-5)
			assertClose(t, "convT db", db, wdb, 1e-5)
		}
	}
}

// naiveBN is training-mode batch norm in float64, followed by L = Σ dy·y.
func naiveBNLoss(s BN, x, gamma, beta, dy []float64) float64 {
	var loss float64
	cnt := float64(s.N * s.HW)
	for c := 0; c < s.C; c++ {
		var m, v float64
		for n := 0; n < s.N; n++ {
			for i := 0; i < s.HW; i++ {
				m += x[(n*s.C+c)*s.HW+i]
			}
		}
		m /= cnt
		for n := 0; n < s.N; n++ {
			for i := 0; i < s.HW; i++ {
				d := x[(n*s.C+c)*s.HW+i] - m
				v += d * d
			}
		}
		v /= cnt
		for n := 0; n < s.N; n++ {
			for i := 0; i < s.HW; i++ {
				k := (n*s.C+c)*s.HW + i
				loss += dy[k] * ((x[k]-m)/math.Sqrt(v+s.Eps)*gamma[c] + beta[c])
			}
		}
	}
	return loss
}

func to64(s []float32) []float64 {
	out := make([]float64, len(s))
	for i, v := range s {
		out[i] = float64(v)
	}
	return out
}

// numGrad is the central finite difference of f with respect to v[i].
func numGrad(v []float64, i int, f func() float64) float64 {
	const h = 1e-5
	old := v[i]
	v[i] = old + h
	a := f()
	v[i] = old - h
	b := f()
	v[i] = old
	return (a - b) / (2 * h)
}

func TestBN(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	s := BN{N: 3, C: 4, HW: 5, Eps: 1e-5}
	x := randSlice(r, s.N*s.C*s.HW)
	for i := range x {
		x[i] = x[i]*3 + 1
	}
	gamma, beta := randSlice(r, s.C), randSlice(r, s.C)
	dy := randSlice(r, len(x))
	var st Stats
	y := make([]float32, len(x))
	s.TrainForward(x, gamma, beta, y, &st, 2)
	x64, g64, b64, dy64 := to64(x), to64(gamma), to64(beta), to64(dy)
	loss := func() float64 { return naiveBNLoss(s, x64, g64, b64, dy64) }
	// y itself: the derivative of L with respect to dy[k] is y[k].
	wantY := make([]float64, len(y))
	for k := range y {
		wantY[k] = numGrad(dy64, k, loss)
	}
	assertClose(t, "bn y", y, wantY, 1e-5)
	dx, dg, db := make([]float32, len(x)), make([]float32, s.C), make([]float32, s.C)
	s.Backward(x, gamma, dy, &st, dx, dg, db, 2)
	wdx, wdg, wdb := make([]float64, len(x)), make([]float64, s.C), make([]float64, s.C)
	for k := range x64 {
		wdx[k] = numGrad(x64, k, loss)
	}
	for c := 0; c < s.C; c++ {
		wdg[c] = numGrad(g64, c, loss)
		wdb[c] = numGrad(b64, c, loss)
	}
	assertClose(t, "bn dx", dx, wdx, 1e-4)
	assertClose(t, "bn dgamma", dg, wdg, 1e-4)
	assertClose(t, "bn dbeta", db, wdb, 1e-4)

	// Running statistics: momentum 0.1, unbiased variance.
	rm, rv := []float32{0, 0, 0, 0}, []float32{1, 1, 1, 1}
	s.UpdateRunning(&st, rm, rv, 0.1)
	for c := 0; c < s.C; c++ {
		var m, ss float64
		for n := 0; n < s.N; n++ {
			for i := 0; i < s.HW; i++ {
				m += x64[(n*s.C+c)*s.HW+i]
			}
		}
		m /= 15
		for n := 0; n < s.N; n++ {
			for i := 0; i < s.HW; i++ {
				d := x64[(n*s.C+c)*s.HW+i] - m
				ss += d * d
			}
		}
		if math.Abs(float64(rm[c])-0.1*m) > 1e-6 || math.Abs(float64(rv[c])-(0.9+0.1*ss/14)) > 1e-6 {
			t.Fatalf("running stats channel %d: %v %v, want %v %v", c, rm[c], rv[c], 0.1*m, 0.9+0.1*ss/14)
		}
	}
	// Eval mode uses the running statistics.
	s.EvalForward(x, gamma, beta, rm, rv, y, 1)
	for k := range y {
		c := (k / s.HW) % s.C
		want := (x64[k]-float64(rm[c]))/math.Sqrt(float64(rv[c])+1e-5)*g64[c] + b64[c]
		if math.Abs(float64(y[k])-want) > 1e-5*math.Max(1, math.Abs(want)) {
			t.Fatalf("bn eval y[%d] = %v, want %v", k, y[k], want)
		}
	}
}

func TestElementwise(t *testing.T) {
	x := []float32{-2, -0.5, 0, 0.5, 3, 1, -1, 2}
	y := make([]float32, len(x))
	ReLU(x, y, 2)
	dx := make([]float32, len(x))
	ones := []float32{1, 1, 1, 1, 1, 1, 1, 1}
	ReLUBackward(y, ones, dx, 2)
	for i, v := range x {
		if y[i] != float32(math.Max(float64(v), 0)) || (v > 0) != (dx[i] == 1) {
			t.Fatalf("relu %v -> %v, grad %v", v, y[i], dx[i])
		}
	}
	Sigmoid(x, y, 2)
	SigmoidBackward(y, ones, dx, 2)
	for i, v := range x {
		s := 1 / (1 + math.Exp(-float64(v)))
		if math.Abs(float64(y[i])-s) > 1e-7 || math.Abs(float64(dx[i])-s*(1-s)) > 1e-7 {
			t.Fatalf("sigmoid %v -> %v, grad %v", v, y[i], dx[i])
		}
	}
	p := AvgPool2{Planes: 2, H: 2, W: 4}
	py := make([]float32, 4)
	p.Forward([]float32{1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 4, 4, 0, 0, 4, 8}, py, 2)
	if py[0] != 3.5 || py[1] != 5.5 || py[2] != 0 || py[3] != 5 {
		t.Fatalf("avgpool = %v", py)
	}
	pdx := make([]float32, 16)
	p.Backward([]float32{4, 8, 12, 16}, pdx, 2)
	if pdx[0] != 1 || pdx[5] != 1 || pdx[2] != 2 || pdx[15] != 4 || pdx[8] != 3 {
		t.Fatalf("avgpool backward = %v", pdx)
	}
	cat := make([]float32, 2*3*2)
	Concat([]float32{1, 2, 3, 4}, []float32{5, 6, 7, 8, 9, 10, 11, 12}, 2, 1, 2, 2, cat)
	want := []float32{1, 2, 5, 6, 7, 8, 3, 4, 9, 10, 11, 12}
	for i := range want {
		if cat[i] != want[i] {
			t.Fatalf("concat = %v", cat)
		}
	}
	back := make([]float32, 8)
	SplitChannels(cat, 2, 3, 1, 3, 2, back)
	for i, v := range []float32{5, 6, 7, 8, 9, 10, 11, 12} {
		if back[i] != v {
			t.Fatalf("split = %v", back)
		}
	}
}

// TestConvFused checks the epilogue, the joined (concatenated) input and
// the ReLU-masked BatchNorm backward against the unfused kernels.
func TestConvFused(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	s := Conv{N: 2, Cin: 5, Cout: 4, H: 6, W: 8, K: 3}
	hw := s.H * s.W
	a, bpart := randSlice(r, s.N*2*hw), randSlice(r, s.N*3*hw)
	x := make([]float32, s.N*s.Cin*hw)
	Concat(a, bpart, s.N, 2, 3, hw, x)
	w, b := randSlice(r, s.Cout*s.Cin*9), randSlice(r, s.Cout)
	scale, shift := randSlice(r, s.Cout), randSlice(r, s.Cout)
	want := naiveConv(s, x, w, b)
	for i := range want {
		c := (i / hw) % s.Cout
		want[i] = math.Max(want[i], 0)*float64(scale[c]) + float64(shift[c])
	}
	y := make([]float32, len(want))
	s.ForwardCat(Cat{A: a, CA: 2, B: bpart}, w, b, y, Epilogue{ReLU: true, Scale: scale, Shift: shift}, 2)
	assertClose(t, "fused conv", y, want, 1e-5)

	dy := randSlice(r, len(y))
	dw1, db1 := make([]float32, len(w)), make([]float32, s.Cout)
	dw2, db2 := make([]float32, len(w)), make([]float32, s.Cout)
	s.BackwardWeight(x, dy, dw1, db1, 2)
	s.BackwardWeightCat(Cat{A: a, CA: 2, B: bpart}, dy, dw2, db2, 2)
	for i := range dw1 {
		if dw1[i] != dw2[i] {
			t.Fatalf("BackwardWeightCat dw[%d] = %v, want %v", i, dw2[i], dw1[i])
		}
	}

	bn := BN{N: s.N, C: s.Cout, HW: hw, Eps: 1e-5}
	relu := make([]float32, len(y))
	ReLU(y, relu, 1)
	var st Stats
	bo := make([]float32, len(y))
	bn.TrainForward(relu, scale, shift, bo, &st, 2)
	d1, d2 := make([]float32, len(y)), make([]float32, len(y))
	g1, b1, g2, b2 := make([]float32, s.Cout), make([]float32, s.Cout), make([]float32, s.Cout), make([]float32, s.Cout)
	bn.Backward(relu, scale, dy, &st, d1, g1, b1, 2)
	ReLUBackward(relu, d1, d1, 1)
	bn.BackwardReLU(relu, scale, dy, &st, d2, g2, b2, 2)
	for i := range d1 {
		if d1[i] != d2[i] {
			t.Fatalf("BackwardReLU dx[%d] = %v, want %v", i, d2[i], d1[i])
		}
	}
}
