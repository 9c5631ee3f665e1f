package augment

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestBoxMullerAccuracy: the fdlibm-based transform agrees with package
// math's log, sqrt and sincos to a few units in the last place, over
// random words and the extremes.
func TestBoxMullerAccuracy(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	edges := []uint32{0, 1, 1 << 30, 1 << 31, 3 << 30, math.MaxUint32 - 1, math.MaxUint32}
	worst := 0.0
	for i := 0; i < 200000; i++ {
		a, b := r.Uint32(), r.Uint32()
		if i < len(edges)*len(edges) {
			a, b = edges[i/len(edges)], edges[i%len(edges)]
		}
		s, c := BoxMuller(a, b)
		rr := math.Sqrt(-2 * math.Log((float64(a)+0.5)*twoM32))
		ws, wc := math.Sincos(2 * math.Pi * (float64(b) + 0.5) * twoM32)
		worst = math.Max(worst, math.Max(math.Abs(s-rr*ws), math.Abs(c-rr*wc)))
	}
	// |n| ≤ 6.7, so 1e-14 is a few units in the last place.
	if worst > 1e-14 {
		t.Errorf("BoxMuller differs from package math by up to %.3g", worst)
	}
}

// TestNoiseKernelsAgree: the assembly kernels give the Go code's bits, on
// every length and starting element, and equal the reference Normal.
func TestNoiseKernelsAgree(t *testing.T) {
	if !noiseAsm {
		t.Skip("no assembly noise kernels on this CPU")
	}
	defer func() { noiseAsm = true }()
	r := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{1, 3, 4, 5, 31, 32, 33, 255, 256, 257, 1000, 4*noiseChunk + 9} {
		k := Key{Seed: r.Uint64(), Step: r.Uint64()}
		first := 4 * r.IntN(1<<20)
		var got [2][]float32
		for i, asm := range []bool{true, false} {
			noiseAsm = asm
			got[i] = make([]float32, n)
			addNoise(got[i], k, 25, first)
		}
		for e := range n {
			want := float32(25 * Normal(k, uint64(first+e)))
			if math.Float32bits(got[0][e]) != math.Float32bits(got[1][e]) || got[1][e] != want {
				t.Fatalf("n %d, element %d: assembly %v, Go %v, Normal %v", n, e, got[0][e], got[1][e], want)
			}
		}
	}
	a, b := make([]uint32, 4096), make([]uint32, 4096)
	for i := range a {
		a[i], b[i] = r.Uint32(), r.Uint32()
	}
	copy(a, []uint32{0, 1, math.MaxUint32, 1 << 31})
	copy(b, []uint32{math.MaxUint32, 0, 1 << 30, 3 << 30})
	s, c := make([]float64, len(a)), make([]float64, len(a))
	noiseAsm = true
	boxMullers(a, b, s, c)
	for i := range a {
		ws, wc := BoxMuller(a[i], b[i])
		if math.Float64bits(s[i]) != math.Float64bits(ws) || math.Float64bits(c[i]) != math.Float64bits(wc) {
			t.Fatalf("BoxMuller(%d, %d): assembly %v, %v; Go %v, %v", a[i], b[i], s[i], c[i], ws, wc)
		}
	}
}
