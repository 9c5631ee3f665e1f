package augment

import (
	"math"
	"math/rand/v2"
	"syscall"
	"testing"
	"time"
)

// cpuTime is the process's user+system CPU time: steadier than wall time
// on a shared machine, and the cost of all goroutines together.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestAugmentedDistribution: over many steps each part takes the SPEC's
// range (flip p ½, scale 1 ± 0.2, offset ± 0.03, angle over [0, 2π)).
func TestAugmentedDistribution(t *testing.T) {
	const n = 4000
	flips, maxOff, minScale, maxScale := 0, 0.0, 2.0, 0.0
	var quadrant [4]int
	for step := range uint64(n) {
		k := Key{Seed: 99, Step: step}
		a := Config{Flip: true}.Transform(k)
		if a[0] < 0 {
			flips++
		}
		o := Config{Offset: BookOffset}.Transform(k)
		maxOff = math.Max(maxOff, math.Abs(float64(o[2])))
		s := float64(Config{Scale: BookScale}.Transform(k)[4])
		minScale, maxScale = math.Min(minScale, s), math.Max(maxScale, s)
		r := Config{Rotate: true}.Transform(k)
		quadrant[int(math.Floor((math.Atan2(float64(r[3]), float64(r[0]))+2*math.Pi)/(math.Pi/2)))%4]++
	}
	if flips < n*45/100 || flips > n*55/100 {
		t.Errorf("x flipped %d times in %d", flips, n)
	}
	if maxOff > BookOffset || maxOff < 0.029 {
		t.Errorf("largest offset %v, want just under %v", maxOff, BookOffset)
	}
	if minScale < 0.8 || minScale > 0.81 || maxScale > 1.2 || maxScale < 1.19 {
		t.Errorf("scale in [%v, %v], want ≈ [0.8, 1.2]", minScale, maxScale)
	}
	for q, c := range quadrant {
		if c < n/5 {
			t.Errorf("angle quadrant %d drawn %d times in %d", q, c, n)
		}
	}
	if got := (Config{Noise: BookNoise}).Transform(Key{1, 2}); got != Identity {
		t.Errorf("noise alone: transform %v, want the identity", got)
	}
}

// TestTransformParts: a part switched on does not change the draws of the
// others, and the composition is the book's T·R.
func TestTransformParts(t *testing.T) {
	k := Key{Seed: 5, Step: 17}
	w := TransformWords(k)
	all := Augmented.Transform(k)
	f := [2]float64{1, 1}
	for i := range f {
		if Float64(w[i]) > 0.5 {
			f[i] = -1
		}
		f[i] *= 1 + BookScale*(2*Float64(w[4+i])-1)
	}
	sin, cos := math.Sincos(2 * math.Pi * Float64(w[6]))
	want := Affine{float32(f[0] * cos), float32(-f[0] * sin), float32(BookOffset * (2*Float64(w[2]) - 1)),
		float32(f[1] * sin), float32(f[1] * cos), float32(BookOffset * (2*Float64(w[3]) - 1))}
	if all != want {
		t.Errorf("Augmented.Transform = %v, want %v", all, want)
	}
	if o := (Config{Offset: BookOffset}).Transform(k); o[2] != all[2] || o[5] != all[5] {
		t.Errorf("offset alone %v, with everything %v", o, all)
	}
}

// TestNoiseStatistics: σ·n has mean ≈ 0 and standard deviation ≈ σ; the
// same key gives the same noise, another step or seed other noise.
func TestNoiseStatistics(t *testing.T) {
	const n = 16 * 7 * 64 * 64
	x := make([]float32, n)
	k := Key{Seed: 20260129, Step: 41}
	AddNoise(x, k, BookNoise)
	var s, s2 float64
	for _, v := range x {
		s += float64(v)
		s2 += float64(v) * float64(v)
	}
	mean, sd := s/n, math.Sqrt(s2/n-(s/n)*(s/n))
	// Standard errors: σ/√n = 0.037 for the mean, σ/√(2n) = 0.026 for σ.
	if math.Abs(mean) > 0.2 || math.Abs(sd-BookNoise) > 0.15 {
		t.Errorf("noise mean %.4f, σ %.4f; want 0, %d", mean, sd, BookNoise)
	}
	for e := range 1000 {
		if want := float32(BookNoise * Normal(k, uint64(e))); x[e] != want {
			t.Fatalf("element %d: %v, Normal gives %v", e, x[e], want)
		}
	}
	again := make([]float32, n)
	AddNoise(again, k, BookNoise)
	for i := range x {
		if x[i] != again[i] {
			t.Fatalf("the same key gave different noise at %d", i)
		}
	}
	for _, other := range []Key{{k.Seed, k.Step + 1}, {k.Seed + 1, k.Step}} {
		y := make([]float32, n)
		AddNoise(y, other, BookNoise)
		same := 0
		for i := range x {
			if x[i] == y[i] {
				same++
			}
		}
		if same > n/1000 {
			t.Errorf("key %v: %d of %d values equal to those of %v", other, same, n, k)
		}
	}
	// A tail shorter than a block gets the block's first values.
	tail := make([]float32, 6)
	AddNoise(tail, k, BookNoise)
	for i := range tail {
		if tail[i] != x[i] {
			t.Errorf("6-element noise[%d] = %v, want %v", i, tail[i], x[i])
		}
	}
}

// TestSampleExactCases: the identity copies, a flip mirrors (to rounding), and a shift
// past the edge repeats the border pixel (border padding).
func TestSampleExactCases(t *testing.T) {
	const h, w = 6, 10
	rng := rand.New(rand.NewPCG(1, 2))
	src := make([]int16, 2*h*w)
	for i := range src {
		src[i] = int16(rng.IntN(2001) - 1000)
	}
	dst := make([]float32, len(src))
	Sample(NewGrid(h, w, Identity), dst, src)
	for i := range src {
		if dst[i] != float32(src[i]) {
			t.Fatalf("identity: [%d] = %v, want %v", i, dst[i], src[i])
		}
	}
	Sample(NewGrid(h, w, Affine{-1, 0, 0, 0, -1, 0}), dst, src)
	for p := 0; p < 2; p++ {
		for r := range h {
			for q := range w {
				if got, want := dst[(p*h+r)*w+q], float32(src[(p*h+h-1-r)*w+w-1-q]); math.Abs(float64(got-want)) > 1e-6 {
					t.Fatalf("flip: plane %d (%d,%d) = %v, want %v", p, r, q, got, want)
				}
			}
		}
	}
	// Shift by 3 pixels left in x (2·3/w normalised units): column q shows
	// q+3, clamped at the last column.
	Sample(NewGrid(h, w, Affine{1, 0, 6.0 / w, 0, 1, 0}), dst, src)
	for r := range h {
		for q := range w {
			if got, want := dst[r*w+q], float32(src[r*w+min(q+3, w-1)]); math.Abs(float64(got-want)) > 1e-3 {
				t.Fatalf("shift: (%d,%d) = %v, want %v", r, q, got, want)
			}
		}
	}
}

// TestSampleBilinear compares Sample with the definition, written out
// directly for one pixel at a time, on random transforms.
func TestSampleBilinear(t *testing.T) {
	const h, w = 8, 12
	rng := rand.New(rand.NewPCG(3, 4))
	src := make([]float32, h*w)
	for i := range src {
		src[i] = float32(rng.NormFloat64())
	}
	at := func(r, q int) float64 {
		if r < 0 || r >= h || q < 0 || q >= w {
			return 0 // out of the image: no contribution
		}
		return float64(src[r*w+q])
	}
	for range 20 {
		var a Affine
		for i := range a {
			a[i] = float32(rng.Float64()*3 - 1.5)
		}
		dst := make([]float32, h*w)
		Sample(NewGrid(h, w, a), dst, src)
		for r := range h {
			for q := range w {
				x, y := (2*float64(q)+1)/w-1, (2*float64(r)+1)/h-1
				ix := ((float64(a[0])*x+float64(a[1])*y+float64(a[2])+1)*w - 1) / 2
				iy := ((float64(a[3])*x+float64(a[4])*y+float64(a[5])+1)*h - 1) / 2
				ix, iy = math.Min(math.Max(ix, 0), w-1), math.Min(math.Max(iy, 0), h-1)
				q0, r0 := int(math.Floor(ix)), int(math.Floor(iy))
				fx, fy := ix-float64(q0), iy-float64(r0)
				want := at(r0, q0)*(1-fx)*(1-fy) + at(r0, q0+1)*fx*(1-fy) + at(r0+1, q0)*(1-fx)*fy + at(r0+1, q0+1)*fx*fy
				if math.Abs(float64(dst[r*w+q])-want) > 1e-6 {
					t.Fatalf("θ %v (%d,%d): %v, want %v", a, r, q, dst[r*w+q], want)
				}
			}
		}
	}
}

func TestThresholdAndNaN(t *testing.T) {
	x := []float32{0, 0.5, 0.5000001, 1, -1, float32(math.NaN())}
	Threshold(x)
	if want := []float32{0, 0, 1, 1, 0, 0}; [6]float32(x) != [6]float32(want) {
		t.Errorf("Threshold: %v, want %v", x, want)
	}
	// A NaN transform must not index outside the image.
	nan := float32(math.NaN())
	dst := make([]float32, 16)
	Sample(NewGrid(4, 4, Affine{nan, 0, 0, 0, nan, 0}), dst, make([]uint8, 16))
}

// BenchmarkAugmentBatch is the augmentation of one training batch of
// 16 × 7×64×64 windows with their labels: grid, sampling, threshold and
// noise, everything TrainStep adds.
func BenchmarkAugmentBatch(b *testing.B) {
	const n, c, h, w = 16, 7, 64, 64
	rng := rand.New(rand.NewPCG(1, 1))
	win, lab := make([]int16, n*c*h*w), make([]uint8, n*h*w)
	for i := range win {
		win[i] = int16(rng.IntN(2001) - 1000)
	}
	for i := range lab {
		lab[i] = uint8(rng.IntN(2))
	}
	in, out := make([]float32, len(win)), make([]float32, len(lab))
	b.ResetTimer()
	c0 := cpuTime()
	defer func() { b.ReportMetric(float64(cpuTime()-c0)/1e6/float64(b.N), "cpu-ms/op") }()
	for i := 0; i < b.N; i++ {
		k := Key{Seed: 1, Step: uint64(i)}
		g := NewGrid(h, w, Augmented.Transform(k))
		Sample(g, in, win)
		Sample(g, out, lab)
		Threshold(out)
		AddNoise(in, k, BookNoise)
	}
}

// BenchmarkNoise is AddNoise alone on one batch's input.
func BenchmarkNoise(b *testing.B) {
	x := make([]float32, 16*7*64*64)
	c0 := cpuTime()
	defer func() { b.ReportMetric(float64(cpuTime()-c0)/1e6/float64(b.N), "cpu-ms/op") }()
	for i := 0; i < b.N; i++ {
		AddNoise(x, Key{Seed: 1, Step: uint64(i)}, BookNoise)
	}
}
