//go:build ctseg_cuda && ctseg_cudaemu

package cuda_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/ctseg/ctseg/internal/augment"
	"github.com/ctseg/ctseg/internal/unet"
	"github.com/ctseg/ctseg/internal/unet/cuda"
	"github.com/ctseg/ctseg/internal/unet/cuda/emu"
	"github.com/ctseg/ctseg/internal/unet/unettest"
)

// TestMatchesEmulator: the GPU and the CPU emulator compute the same IEEE
// operations in the same order (kernels.cu: -fmad=false, explicit fmaf),
// so a training step on augmented windows and a prediction agree bit for
// bit but where the float64 exp, log, sin or cos of the sigmoid and the
// noise differ in their last bit, a float32 rounding at most. It checks
// the GPU against everything the emulator has been checked for here.
func TestMatchesEmulator(t *testing.T) {
	m, _ := unet.New(unet.BookConfig)
	m.Init(rand.New(rand.NewPCG(11, 7)))
	m2, _ := unet.New(unet.BookConfig)
	m2.Init(rand.New(rand.NewPCG(11, 7)))
	g, err := cuda.New(openGPU(t), m, unet.DefaultAdam)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	e, err := cuda.New(emu.New(), m2, unet.DefaultAdam)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	rng := rand.New(rand.NewPCG(6, 6))
	f := unettest.SyntheticBatch(rng, 4, 7, 32, 48)
	key := augment.Key{Seed: 2, Step: 5}
	b := unet.Batch{N: f.N, H: f.H, W: f.W, Windows: make([]int16, len(f.Input)), Labels: make([]uint8, len(f.Label)),
		Transform: augment.Augmented.Transform(key), NoiseKey: key, NoiseSigma: augment.BookNoise}
	for i, v := range f.Input {
		b.Windows[i] = int16(v)
	}
	for i, v := range f.Label {
		b.Labels[i] = uint8(v)
	}
	rg, tg, err := g.TraceStep(b)
	if err != nil {
		t.Fatal(err)
	}
	re, te, err := e.TraceStep(b)
	if err != nil {
		t.Fatal(err)
	}
	if rg.Metrics != re.Metrics || math.Abs(rg.Loss-re.Loss) > 1e-6*math.Abs(re.Loss) {
		t.Errorf("GPU step %+v, emulator %+v", rg, re)
	}
	same(t, "training output", tg.Prob, te.Prob)
	for name, w := range te.Grads {
		same(t, "gradient of "+name, tg.Grads[name], w)
	}
	x := unettest.SyntheticBatch(rng, 2, 7, 64, 32)
	pg, err := g.Predict(x)
	if err != nil {
		t.Fatal(err)
	}
	pe, err := e.Predict(x)
	if err != nil {
		t.Fatal(err)
	}
	same(t, "prediction", pg.Prob, pe.Prob)
	same(t, "logits", pg.Logits, pe.Logits)
	sg, se := unettest.StateDict(t, g), unettest.StateDict(t, e)
	for _, name := range se.Names() {
		if se[name].F32 != nil {
			same(t, name+" after the step", sg[name].F32, se[name].F32)
		}
	}
}

// same requires got and want to agree to 1e-6 of want's scale and logs how
// many values are not bit for bit equal.
func same(t *testing.T, name string, got, want []float32) {
	t.Helper()
	var d, s float64
	differ := 0
	for i := range want {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			differ++
		}
		d = math.Max(d, math.Abs(float64(got[i])-float64(want[i])))
		s = math.Max(s, math.Abs(float64(want[i])))
	}
	if s > 0 {
		d /= s
	}
	if d > 1e-6 || math.IsNaN(d) {
		t.Errorf("%s: GPU and emulator differ by %.3g of the scale (%d of %d values)", name, d, differ, len(want))
	} else if differ > 0 {
		t.Logf("%s: %d of %d values differ in the last bits (%.3g of the scale)", name, differ, len(want), d)
	}
}
