package nn

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
)

// bnLens covers empty input, tails shorter than a 16-lane block or an
// 8-wide vector, exact blocks and long planes.
var bnLens = []int{0, 1, 3, 7, 8, 9, 15, 16, 17, 24, 31, 32, 33, 40, 100, 4096, 4099}

// withBNAsm runs f with the Go loops, then again with the assembly kernels
// when the CPU and build have them, restoring the setting afterwards.
func withBNAsm(f func()) {
	old := bnAsm
	defer func() { bnAsm = old }()
	bnAsm = false
	f()
	if useAsm {
		bnAsm = true
		f()
	}
}

// bnData returns n values from a normal distribution shifted by off, with a
// few zeros of either sign, tiny and subnormal values mixed in.
func bnData(r *rand.Rand, n int, off float64) []float32 {
	p := make([]float32, n)
	for i := range p {
		p[i] = float32(r.NormFloat64()*3 + off)
		switch r.IntN(16) {
		case 0:
			p[i] = 0
		case 1:
			p[i] = float32(math.Copysign(0, -1))
		case 2:
			p[i] *= 1e-30
		case 3:
			p[i] *= 1e-40 // subnormal
		}
	}
	return p
}

// exactSum returns Σterm(i) for i < n, each term computed exactly in big
// floats, rounded once to float64, and Σ|term(i)| for the error bound.
func exactSum(n int, term func(i int, z *big.Float) *big.Float) (float64, float64) {
	sum, abs := new(big.Float).SetPrec(2000), new(big.Float).SetPrec(2000)
	z := new(big.Float).SetPrec(2000)
	for i := 0; i < n; i++ {
		v := term(i, z)
		sum.Add(sum, v)
		if v.Sign() < 0 {
			abs.Sub(abs, v)
		} else {
			abs.Add(abs, v)
		}
	}
	s, _ := sum.Float64()
	a, _ := abs.Float64()
	return s, a
}

// checkSum compares got with the exact sum within the error bound of the
// lane order: up to n/16+1 additions per lane and a 4-level tree, each
// rounding within 2⁻⁵³ relative, plus the given roundings inside each term.
func checkSum(t *testing.T, name string, n int, got, exact, abs float64, rounds int) {
	t.Helper()
	tol := float64(n/16+1+4+rounds) * 0x1p-53 * abs
	if d := math.Abs(got - exact); d > tol {
		t.Errorf("%s n=%d: got %v, want %v (|diff| %g > %g)", name, n, got, exact, d, tol)
	}
}

// laneSum is the documented order of the float64 sums: lane j adds the
// terms i ≡ j (mod 16) in order, then lanes j and j+8 pair up, then j and
// j+4, j and j+2, and the last two.
func laneSum(terms []float64) float64 {
	var l [16]float64
	for i, v := range terms {
		l[i%16] += v
	}
	var h8 [8]float64
	for j := range h8 {
		h8[j] = l[j] + l[j+8]
	}
	h4 := [4]float64{h8[0] + h8[4], h8[1] + h8[5], h8[2] + h8[6], h8[3] + h8[7]}
	return (h4[0] + h4[2]) + (h4[1] + h4[3])
}

// spread returns p with each value scaled by a random power of two in
// [2⁻³⁰, 2³⁰], so that the float64 sums depend on the order of the
// additions (sums of similar float32 values are often exact in any order).
func spread(r *rand.Rand, p []float32) []float32 {
	for i := range p {
		p[i] *= float32(math.Ldexp(1, r.IntN(61)-30))
	}
	return p
}

func TestBNSums(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for k, n := range append(bnLens, bnLens...) {
		// Similar magnitudes make the products' roundings (a fused
		// multiply-add would skip them) visible in the sums; a wide spread
		// makes the order of the additions visible.
		p, x := bnData(r, n, 2), bnData(r, n, -1)
		if k >= len(bnLens) {
			p, x = spread(r, p), spread(r, x)
		}
		// A mean that is not a float32, as in TrainForward.
		mean := 2 + 1/3.0
		sq, dev := make([]float64, n), make([]float64, n)
		for i := range sq {
			d := float64(p[i]) - mean
			sq[i] = float64(d * d)
			dev[i] = float64(float64(p[i]) * (float64(x[i]) - mean))
		}
		want := [4]float64{laneSum(to64(p)), laneSum(sq), laneSum(to64(p)), laneSum(dev)}
		names := [4]string{"sum64", "sqDev64", "dotDev64 Σdy", "dotDev64 Σdy·(x−mean)"}
		withBNAsm(func() {
			var got [4]float64
			got[0] = sum64(p)
			got[1] = sqDev64(p, mean)
			got[2], got[3] = dotDev64(p, x, mean)
			for j := range got {
				if math.Float64bits(got[j]) != math.Float64bits(want[j]) {
					t.Errorf("%s n=%d (assembly %v): got %v, want %v in lane order", names[j], n, bnAsm, got[j], want[j])
				}
			}
		})

		// The lane order is as accurate as the summation bound promises.
		m := new(big.Float).SetFloat64(mean)
		e, a := exactSum(n, func(i int, z *big.Float) *big.Float { return z.SetFloat64(float64(p[i])) })
		checkSum(t, names[0], n, want[0], e, a, 0)
		// d = p−mean rounds once, d·d once more: 3 half-ulps relative.
		e, a = exactSum(n, func(i int, z *big.Float) *big.Float {
			z.Sub(z.SetFloat64(float64(p[i])), m)
			return z.Mul(z, z)
		})
		checkSum(t, names[1], n, want[1], e, a, 3)
		e, a = exactSum(n, func(i int, z *big.Float) *big.Float {
			z.Sub(z.SetFloat64(float64(x[i])), m)
			return z.Mul(z, new(big.Float).SetFloat64(float64(p[i])))
		})
		checkSum(t, names[3], n, want[3], e, a, 2)
	}
}

// TestBNLanes checks the 16 lanes themselves, from the assembly and from the
// Go loops, bit for bit against the documented order: the final tree can
// hide a lane that differs in its last bit, such as one from a fused
// multiply-add.
func TestBNLanes(t *testing.T) {
	r := rand.New(rand.NewPCG(19, 20))
	names := [4]string{"sumLanes", "sqDevLanes", "dotDevLanes s", "dotDevLanes t"}
	for _, n := range bnLens {
		for k := 0; k < 2; k++ {
			p, x := bnData(r, n, 2), bnData(r, n, -1)
			if k == 1 {
				p, x = spread(r, p), spread(r, x)
			}
			mean := 2 + 1/3.0
			var want [4][16]float64
			for i := range p {
				d := float64(p[i]) - mean
				want[0][i%16] += float64(p[i])
				want[1][i%16] += float64(d * d)
				want[2][i%16] += float64(p[i])
				want[3][i%16] += float64(float64(p[i]) * (float64(x[i]) - mean))
			}
			withBNAsm(func() {
				var got [4][16]float64
				got[0] = sumLanes(p)
				got[1] = sqDevLanes(p, mean)
				got[2], got[3] = dotDevLanes(p, x, mean)
				for f := range got {
					for j := range got[f] {
						if math.Float64bits(got[f][j]) != math.Float64bits(want[f][j]) {
							t.Errorf("%s n=%d lane %d (assembly %v): got %v, want %v", names[f], n, j, bnAsm, got[f][j], want[f][j])
						}
					}
				}
			})
		}
	}
}

func TestBNElementwise(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 16))
	for _, n := range bnLens {
		x, dy := bnData(r, n, 0.5), bnData(r, n, 0)
		scale, shift := float32(1.7), float32(-0.3)
		a, bx, k, m := float32(0.9), float32(-0.013), float32(0.021), float32(0.47)
		var outs [3][2][]float32
		j := 0
		withBNAsm(func() {
			y, g, gr := make([]float32, n), make([]float32, n), make([]float32, n)
			affine32(x, y, scale, shift)
			grad32(x, dy, g, a, bx, k, m)
			gradReLU32(x, dy, gr, a, bx, k, m)
			outs[0][j], outs[1][j], outs[2][j] = y, g, gr
			j++
		})
		for o, name := range []string{"affine32", "grad32", "gradReLU32"} {
			if j == 2 {
				for i := range outs[o][0] {
					if math.Float32bits(outs[o][0][i]) != math.Float32bits(outs[o][1][i]) {
						t.Fatalf("%s n=%d [%d]: Go %v, assembly %v", name, n, i, outs[o][0][i], outs[o][1][i])
					}
				}
			}
			for i := 0; i < n; i++ {
				xi, di := float64(x[i]), float64(dy[i])
				var want, mag float64
				switch o {
				case 0:
					want, mag = xi*float64(scale)+float64(shift), math.Abs(xi*float64(scale))+math.Abs(float64(shift))
				default:
					p, q := float64(a)*di, float64(bx)*(xi-float64(m))
					want, mag = p+q+float64(k), math.Abs(p)+math.Abs(q)+math.Abs(float64(k))
					if o == 2 && int32(-math.Float32bits(x[i])) >= 0 {
						want, mag = 0, 0
					}
				}
				// Each float32 operation rounds within 2⁻²⁴ of its result.
				got := float64(outs[o][0][i])
				if d := math.Abs(got - want); d > 4*0x1p-24*mag {
					t.Errorf("%s n=%d [%d]: got %v, want %v", name, n, i, got, want)
				}
				if o == 2 && want == 0 && math.Float32bits(outs[o][0][i]) != 0 {
					t.Errorf("%s n=%d [%d]: got %v where x = %v, want +0", name, n, i, got, x[i])
				}
			}
		}
	}
}

// TestBNAsmMatchesGo runs whole BatchNorm passes with and without the
// assembly on a plane size with tails and wants the same bits.
func TestBNAsmMatchesGo(t *testing.T) {
	r := rand.New(rand.NewPCG(17, 18))
	s := BN{N: 3, C: 5, HW: 7*7 + 4, Eps: 1e-5}
	x := bnData(r, s.N*s.C*s.HW, 1)
	for i, v := range x {
		x[i] = max(v, 0)
	}
	gamma, beta, dy := bnData(r, s.C, 1), bnData(r, s.C, 0), bnData(r, len(x), 0)
	runVar := make([]float32, s.C)
	for c, g := range gamma {
		runVar[c] = g*g + 0.5
	}
	var res [][]float32
	withBNAsm(func() {
		var st Stats
		y := make([]float32, len(x))
		s.TrainForward(x, gamma, beta, y, &st, 2)
		dx, dg, db := make([]float32, len(x)), make([]float32, s.C), make([]float32, s.C)
		s.Backward(x, gamma, dy, &st, dx, dg, db, 2)
		dxr := make([]float32, len(x))
		s.BackwardReLU(x, gamma, dy, &st, dxr, dg, db, 2)
		ey := make([]float32, len(x))
		s.EvalForward(x, gamma, beta, beta, runVar, ey, 2)
		res = append(res, y, dx, dg, db, dxr, ey)
	})
	if len(res) < 12 {
		t.Skip("no assembly kernels on this CPU or build")
	}
	for k := 0; k < 6; k++ {
		for i := range res[k] {
			if math.Float32bits(res[k][i]) != math.Float32bits(res[k+6][i]) {
				t.Fatalf("result %d [%d]: Go %v, assembly %v", k, i, res[k][i], res[k+6][i])
			}
		}
	}
}

// benchBN is the BatchNorm of a 64×64 U-Net level with a batch of 16.
func benchBN() (s BN, x, gamma, beta, dy []float32) {
	r := rand.New(rand.NewPCG(5, 6))
	s = BN{N: 16, C: 16, HW: 64 * 64, Eps: 1e-5}
	x = randSlice(r, s.N*s.C*s.HW)
	for i, v := range x {
		x[i] = max(v, 0) // a ReLU output, for BackwardReLU
	}
	return s, x, randSlice(r, s.C), randSlice(r, s.C), randSlice(r, len(x))
}

func BenchmarkBNTrainForward(b *testing.B) {
	s, x, gamma, beta, _ := benchBN()
	y := make([]float32, len(x))
	var st Stats
	b.SetBytes(int64(8 * len(x)))
	for b.Loop() {
		s.TrainForward(x, gamma, beta, y, &st, 1)
	}
}

func BenchmarkBNBackwardReLU(b *testing.B) {
	s, x, gamma, beta, dy := benchBN()
	y := make([]float32, len(x))
	var st Stats
	s.TrainForward(x, gamma, beta, y, &st, 1)
	dx, dg, db := make([]float32, len(x)), make([]float32, s.C), make([]float32, s.C)
	b.SetBytes(int64(12 * len(x)))
	for b.Loop() {
		s.BackwardReLU(x, gamma, dy, &st, dx, dg, db, 1)
	}
}
