package nn

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestEpilogueAsmMatchesGo: the AVX2 epilogue gives epilogueGo's bits in
// every mode, on rows of every length (the assembly takes whole groups of
// 8, Go the rest), ±0 included; and epilogueGo is the formula.
func TestEpilogueAsmMatchesGo(t *testing.T) {
	if !epAsm {
		t.Skip("no assembly epilogue on this CPU")
	}
	defer func() { epAsm = true }()
	r := rand.New(rand.NewPCG(8, 8))
	scale, shift := []float32{1.7, -0.3}, []float32{0.25, 2}
	for _, n := range []int{1, 7, 8, 9, 16, 33, 64, 513} {
		src := randSlice(r, n)
		src[0] = float32(math.Copysign(0, -1))
		for _, ep := range []Epilogue{{}, {ReLU: true}, {Scale: scale, Shift: shift}, {ReLU: true, Scale: scale, Shift: shift}} {
			a, g := make([]float32, n), make([]float32, n)
			epAsm = true
			ep.write(a, src, 0.125, 1)
			epAsm = false
			ep.write(g, src, 0.125, 1)
			for i := range a {
				if math.Float32bits(a[i]) != math.Float32bits(g[i]) {
					t.Fatalf("%+v, n %d, element %d: assembly %v, Go %v", ep, n, i, a[i], g[i])
				}
				want := float64(src[i]) + 0.125
				if ep.ReLU {
					want = math.Max(want, 0)
				}
				if ep.Scale != nil {
					want = want*float64(scale[1]) + float64(shift[1])
				}
				if math.Abs(float64(g[i])-want) > 1e-6*(1+math.Abs(want)) {
					t.Fatalf("%+v: element %d = %v, want %v", ep, i, g[i], want)
				}
			}
		}
	}
}
