package unettest

import (
	"math"
	"path/filepath"
	"slices"
	"testing"

	"github.com/ctseg/ctseg/internal/augment"
	"github.com/ctseg/ctseg/internal/safetensors"
	"github.com/ctseg/ctseg/internal/tensors"
	"github.com/ctseg/ctseg/internal/unet"
)

// AugmentCases are the fixed transforms of the augmentation fixture.
var AugmentCases = []string{"identity", "flip", "rot90", "rotate", "scale", "offset", "border", "combined"}

// AugmentFixture returns the PyTorch augmentation fixture,
// testdata/augment.safetensors (see tools/pytorch/make_augment_fixtures.py
// for its names).
func AugmentFixture(t testing.TB) tensors.Dict {
	t.Helper()
	path := filepath.Join(testdata(t), "augment.safetensors")
	d, _, err := safetensors.ReadFile(path)
	if err != nil {
		t.Fatalf("reading %s: %v", path, err)
	}
	return d
}

// AugmentBatch returns the fixture's windows and labels as a batch to
// augment under the transform of case name, without noise.
func AugmentBatch(t testing.TB, fx tensors.Dict, name string) unet.Batch {
	t.Helper()
	x, l, th := fx["windows"], fx["labels"], fx[name+".theta"]
	if len(x.Shape) != 4 || len(th.F32) != 6 {
		t.Fatalf("augmentation fixture: windows %v, %s.theta %v", x.Shape, name, th.Shape)
	}
	b := unet.Batch{N: x.Shape[0], H: x.Shape[2], W: x.Shape[3], Transform: augment.Affine(th.F32),
		Windows: make([]int16, len(x.F32)), Labels: make([]uint8, len(l.F32))}
	for i, v := range x.F32 {
		b.Windows[i] = int16(v)
	}
	for i, v := range l.F32 {
		b.Labels[i] = uint8(v)
	}
	return b
}

// augmentation checks the engine's augmentation through unet.Augmenter:
// the sampling against PyTorch, the noise against package augment's
// reference, a training step on windows against one on their augmented
// floats, and the batches it must refuse.
func augmentation(t *testing.T, newEngine NewEngine) {
	e := open(t, newEngine, 11)
	a, ok := e.(unet.Augmenter)
	if !ok {
		t.Fatalf("engine %q is no unet.Augmenter: its augmentation cannot be checked", e.Info().Name)
	}
	t.Run("Fixtures", func(t *testing.T) { augmentFixtures(t, a) })
	t.Run("Noise", func(t *testing.T) { augmentNoise(t, a) })
	t.Run("Step", func(t *testing.T) { augmentStep(t, newEngine) })
	t.Run("Errors", func(t *testing.T) { augmentErrors(t, a) })
}

// augmentOf is a.Augment, failing t on error.
func augmentOf(t *testing.T, a unet.Augmenter, b unet.Batch) (input, label []float32) {
	t.Helper()
	input, label, err := a.Augment(b)
	if err != nil {
		t.Fatal(err)
	}
	return input, label
}

// augmentFixtures compares every fixed transform's input with PyTorch's
// F.grid_sample (relative error ≤ 1e-5, else ≤ 1e-5 against its float64
// result), and its label with PyTorch's, binary, differing only where
// the sampled label is within 1e-5 of the threshold.
func augmentFixtures(t *testing.T, a unet.Augmenter) {
	fx := AugmentFixture(t)
	for _, name := range AugmentCases {
		b := AugmentBatch(t, fx, name)
		windows := slices.Clone(b.Windows)
		in, lab := augmentOf(t, a, b)
		if !slices.Equal(windows, b.Windows) {
			t.Fatalf("%s: Augment changed the batch's windows", name)
		}
		err := checkF64(t, name+" input", in, fx[name+".input"].F32, fx["f64."+name+".input"].F32, 1e-5, 1e-5)
		ties := checkLabel(t, name, lab, fx[name+".label"].F32, fx[name+".label_float"].F32, fx["f64."+name+".label_float"].F32)
		t.Logf("%s: input rel err %.3g vs PyTorch float32 (%.3g vs float64); label: %d ties", name, err,
			relErr(in, fx["f64."+name+".input"].F32), ties)
	}
}

// checkLabel requires a binary label equal to PyTorch's except at ties,
// pixels whose sampled value (float32 or float64) lies within 1e-5 of
// 0.5, and returns how many pixels are ties.
func checkLabel(t *testing.T, name string, got, want, soft, soft64 []float32) int {
	t.Helper()
	sameLen(t, name+" label", got, want)
	ties := 0
	for i, v := range got {
		tie := math.Abs(float64(soft[i])-0.5) <= 1e-5 || math.Abs(float64(soft64[i])-0.5) <= 1e-5
		if tie {
			ties++
		}
		switch {
		case v != 0 && v != 1:
			t.Fatalf("%s label[%d] = %v, not 0 or 1", name, i, v)
		case v != want[i] && !tie:
			t.Errorf("%s label[%d] = %v, PyTorch %v (sampled %v)", name, i, v, want[i], soft[i])
		}
	}
	return ties
}

// noiseTol is how far an engine's noise may lie from the float64
// reference, in units of σ: a float32 kernel with cuRAND's arithmetic
// stays within 3e-4 (the rounding of the Philox word to float32).
const noiseTol = 1e-3

// augmentNoise checks the noise on windows of zeros under the identity:
// it is σ·augment.Normal of each element's index, has mean ≈ 0 and
// standard deviation ≈ σ, is the same for the same key and different
// for another step or seed.
func augmentNoise(t *testing.T, a unet.Augmenter) {
	const n, c, h, w = 4, 7, 64, 64
	const sigma = augment.BookNoise
	key := augment.Key{Seed: 20260129, Step: 7}
	b := unet.Batch{N: n, H: h, W: w, Windows: make([]int16, n*c*h*w), Labels: make([]uint8, n*h*w),
		Transform: augment.Identity, NoiseKey: key, NoiseSigma: sigma}
	x, _ := augmentOf(t, a, b)
	var worst, s, s2 float64
	for i, v := range x {
		worst = math.Max(worst, math.Abs(float64(v)-sigma*augment.Normal(key, uint64(i))))
		s, s2 = s+float64(v), s2+float64(v)*float64(v)
	}
	if worst > noiseTol*sigma || math.IsNaN(worst) {
		t.Errorf("noise differs from σ·augment.Normal by up to %.3g HU > %.3g", worst, noiseTol*sigma)
	}
	// Standard errors: σ/√n = 0.074 for the mean, σ/√(2n) = 0.052 for σ.
	mean := s / float64(len(x))
	sd := math.Sqrt(s2/float64(len(x)) - mean*mean)
	if math.Abs(mean) > 0.4 || math.Abs(sd-sigma) > 0.3 {
		t.Errorf("noise mean %.3f, σ %.3f; want 0, %d", mean, sd, sigma)
	}
	t.Logf("noise: %.3g HU from the reference at worst; mean %.4f, σ %.4f", worst, mean, sd)
	again, _ := augmentOf(t, a, b)
	within(t, "noise of the same key", again, x, tolerance(a))
	for _, k := range []augment.Key{{Seed: key.Seed, Step: key.Step + 1}, {Seed: key.Seed + 1, Step: key.Step}} {
		b.NoiseKey = k
		y, _ := augmentOf(t, a, b)
		if same := countEqual(x, y); same > len(x)/1000 {
			t.Errorf("noise of %+v: %d of %d values as those of %+v", k, same, len(x), key)
		}
	}
}

// countEqual counts the elements where x and y are equal.
func countEqual(x, y []float32) int {
	n := 0
	for i := range x {
		if x[i] == y[i] {
			n++
		}
	}
	return n
}

// augmentStep: a training step on windows is the training step on the
// input and label Augment gives for them: the same result, the same
// state after it.
func augmentStep(t *testing.T, newEngine NewEngine) {
	b := AugmentBatch(t, AugmentFixture(t), "combined")
	b.NoiseKey, b.NoiseSigma = augment.Key{Seed: 3, Step: 9}, augment.BookNoise
	onWindows, onFloats := open(t, newEngine, 13), open(t, newEngine, 13)
	res, err := onWindows.TrainStep(b)
	if err != nil {
		t.Fatal(err)
	}
	in, lab := augmentOf(t, onFloats.(unet.Augmenter), b)
	want, err := onFloats.TrainStep(unet.Batch{N: b.N, H: b.H, W: b.W, Input: in, Label: lab})
	if err != nil {
		t.Fatal(err)
	}
	tol := tolerance(onWindows)
	if d := math.Abs(res.Loss - want.Loss); d > tol*math.Abs(want.Loss) {
		t.Errorf("loss on windows %v, on their augmented floats %v", res.Loss, want.Loss)
	}
	if tol == 0 && res.Metrics != want.Metrics {
		t.Errorf("pixel counts on windows %+v, on their augmented floats %+v", res.Metrics, want.Metrics)
	}
	SameState(t, StateDict(t, onWindows), StateDict(t, onFloats), tol)
}

// augmentErrors: batches of windows that do not fit, or that mix the two
// kinds of batch, are refused by Augment, TrainStep and Predict.
func augmentErrors(t *testing.T, a unet.Augmenter) {
	good := func() unet.Batch {
		return unet.Batch{N: 2, H: 8, W: 8, Windows: make([]int16, 2*7*64), Labels: make([]uint8, 2*64),
			Transform: augment.Identity, NoiseSigma: 25}
	}
	if _, _, err := a.Augment(good()); err != nil {
		t.Fatalf("a good batch: %v", err)
	}
	nan := float32(math.NaN())
	cases := map[string]func(b *unet.Batch){
		"short windows":       func(b *unet.Batch) { b.Windows = b.Windows[1:] },
		"windows, no labels":  func(b *unet.Batch) { b.Labels = nil },
		"windows and input":   func(b *unet.Batch) { b.Input = make([]float32, 2*7*64) },
		"no transform":        func(b *unet.Batch) { b.Transform = augment.Affine{} },
		"NaN transform":       func(b *unet.Batch) { b.Transform[4] = nan },
		"negative σ":          func(b *unet.Batch) { b.NoiseSigma = -1 },
		"NaN σ":               func(b *unet.Batch) { b.NoiseSigma = nan },
		"height not multiple": func(b *unet.Batch) { b.H, b.Windows, b.Labels = 6, b.Windows[:2*7*48], b.Labels[:2*48] },
		"transform, no window": func(b *unet.Batch) {
			b.Windows, b.Labels, b.Input, b.Label = nil, nil, make([]float32, 2*7*64), make([]float32, 2*64)
		},
	}
	for what, spoil := range cases {
		b := good()
		spoil(&b)
		if _, _, err := a.Augment(b); err == nil {
			t.Errorf("Augment: %s accepted", what)
		}
		if _, err := a.TrainStep(b); err == nil {
			t.Errorf("TrainStep: %s accepted", what)
		}
	}
	if _, err := a.Predict(good()); err == nil {
		t.Error("Predict: windows accepted")
	}
}
