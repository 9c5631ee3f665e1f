package froc

import (
	"math"
	"slices"
	"testing"
)

func TestBootstrapDeterministic(t *testing.T) {
	marks := []Mark{mk("s1", 1, 1, 1, 0.9), mk("s1", 20, 20, 20, 0.8), mk("s2", 0, 1, 0, 0.7), mk("s4", 0, 0, 0, 0.6)}
	run := func(seed uint64) *Bootstrap {
		opt := Options{MaxMarksPerScan: 100, Resamples: 200, Seed: seed, Confidence: 0.95}
		r, err := Evaluate(handReference(), marks, opt)
		if err != nil {
			t.Fatal(err)
		}
		return r.Bootstrap
	}
	a, b, c := run(7), run(7), run(8)
	if !slices.Equal(a.Mean, b.Mean) || !slices.Equal(a.Lower, b.Lower) || a.CPM != b.CPM {
		t.Error("the same seed gave different bootstraps")
	}
	if slices.Equal(a.Mean, c.Mean) {
		t.Error("seeds 7 and 8 gave the same bootstrap")
	}
	// Bands are ordered, and the CPM's mean lies within its interval.
	for i := range a.Mean {
		if !(a.Lower[i] <= a.Mean[i] && a.Mean[i] <= a.Upper[i]) {
			t.Fatalf("at %v: lower %v, mean %v, upper %v", a.FPsPerScan[i], a.Lower[i], a.Mean[i], a.Upper[i])
		}
	}
	if !(a.CPM.Lower <= a.CPM.Mean && a.CPM.Mean <= a.CPM.Upper) || a.CPM.Lower == a.CPM.Upper {
		t.Errorf("CPM interval %+v", a.CPM)
	}
}

func TestBootstrapOfOneScan(t *testing.T) {
	// With a single scan every resample is the whole set: the bands are the
	// curve itself (in float32) and every interval is one value.
	ref := &Reference{Scans: []string{"s1"}, Included: handReference().Included[:2]}
	marks := []Mark{mk("s1", 0, 0, 0, 0.9), mk("s1", 30, 0, 0, 0.8), mk("s1", 50, 0, 0, 0.7), mk("s1", 90, 0, 0, 0.6)}
	r, err := Evaluate(ref, marks, Options{Resamples: 10, Seed: 1, Confidence: 0.95})
	if err != nil {
		t.Fatal(err)
	}
	b := r.Bootstrap
	for i, fp := range b.FPsPerScan {
		want := float32(r.Curve.SensitivityAt(fp))
		if b.Mean[i] != want || b.Lower[i] != want || b.Upper[i] != want {
			t.Fatalf("at %v: %v %v %v, want %v", fp, b.Mean[i], b.Lower[i], b.Upper[i], want)
		}
	}
	if b.CPM != (Interval{r.CPM, r.CPM, r.CPM}) {
		t.Errorf("CPM interval %+v, want %v", b.CPM, r.CPM)
	}
}

func TestCIIndices(t *testing.T) {
	// Python: Pz = (1-0.95)/2 = 0.025000000000000022; floor(Pz·1000) = 25,
	// floor((1-Pz)·1000) = floor(975.0) = 975.
	for _, c := range []struct{ n, lo, hi int }{{1000, 25, 975}, {100, 2, 97}, {10, 0, 9}, {1, 0, 0}} {
		if lo, hi := ciIndices(0.95, c.n); lo != c.lo || hi != c.hi {
			t.Errorf("n=%d: %d, %d; want %d, %d", c.n, lo, hi, c.lo, c.hi)
		}
	}
}

func TestSplitMix64(t *testing.T) {
	// The reference sequence for seed 0 (Vigna's splitmix64.c).
	g := splitMix64{}
	for _, want := range []uint64{0xe220a8397b1dcdaf, 0x6e789e6aa1b965f4, 0x06c45d188009454f} {
		if got := g.next(); got != want {
			t.Errorf("next = %#x, want %#x", got, want)
		}
	}
	g = splitMix64{state: 3}
	for range 1000 {
		if v := g.intn(7); v < 0 || v >= 7 {
			t.Fatalf("intn(7) = %d", v)
		}
	}
}

func TestPairwiseSum32(t *testing.T) {
	// Exact sums of small integers, and the block structure numpy uses:
	// below 8 a plain loop, up to 128 eight accumulators, then halves.
	for _, n := range []int{0, 1, 7, 8, 9, 128, 129, 1000} {
		a := make([]float32, n)
		for i := range a {
			a[i] = float32(i % 5)
		}
		want := float32(0)
		for _, v := range a {
			want += v
		}
		if got := pairwiseSum32(a); got != want {
			t.Errorf("n=%d: %v, want %v", n, got, want)
		}
	}
	// 1 + 2⁻²⁴·8: a plain float32 loop loses every 2⁻²⁴ (half an ulp of 1,
	// ties to even); numpy's eight accumulators first add them in pairs…
	a := make([]float32, 16)
	a[0] = 1
	for i := 1; i < 16; i++ {
		a[i] = float32(math.Ldexp(1, -24))
	}
	// r[0] = 1 + 2⁻²⁴ = 1 (ties to even); r[1..7] = 2·2⁻²⁴; sum of the
	// pairs: (1 + 2⁻²³) + … = 1 + 7·2⁻²³ rounded step by step.
	r0 := float32(1)
	r := [8]float32{r0, 2 * a[1], 2 * a[1], 2 * a[1], 2 * a[1], 2 * a[1], 2 * a[1], 2 * a[1]}
	want := ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
	if got := pairwiseSum32(a); got != want || got == 1 {
		t.Errorf("pairwise sum %v, want %v (≠ 1)", got, want)
	}
}
