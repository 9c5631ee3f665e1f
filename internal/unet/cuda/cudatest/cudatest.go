// Package cudatest holds the CUDA engine's checks that run on any of its
// devices: the GPU (internal/unet/cuda's tests, build tag ctseg_cuda) and
// the CPU emulator (internal/unet/cuda/emu, build tag ctseg_cudaemu).
package cudatest

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/ctseg/ctseg/internal/augment"
	"github.com/ctseg/ctseg/internal/unet"
	"github.com/ctseg/ctseg/internal/unet/cuda"
	"github.com/ctseg/ctseg/internal/unet/unettest"
)

// Open returns a device for an engine, or fails or skips t.
type Open func(t *testing.T) cuda.Device

// NewEngine is a CUDA engine of the book's model initialised from seed.
func NewEngine(t *testing.T, open Open, seed uint64) *cuda.Engine {
	t.Helper()
	m, _ := unet.New(unet.BookConfig)
	m.Init(rand.New(rand.NewPCG(seed, 7)))
	e, err := cuda.New(open(t), m, unet.DefaultAdam)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// windows turns a float batch into the same batch of windows to augment
// under key's transform with the book's noise.
func windows(b unet.Batch, key augment.Key) unet.Batch {
	w := unet.Batch{N: b.N, H: b.H, W: b.W, Windows: make([]int16, len(b.Input)), Labels: make([]uint8, len(b.Label)),
		Transform: augment.Augmented.Transform(key), NoiseKey: key, NoiseSigma: augment.BookNoise}
	for i, v := range b.Input {
		w.Windows[i] = int16(v)
	}
	for i, v := range b.Label {
		w.Labels[i] = uint8(v)
	}
	return w
}

// MatchesCPU: from the same weights, a traced training step on augmented
// windows (loss and per-sample Dice losses to 1e-5; pixel counts; output
// and every gradient to 1e-4 of the tensor's scale) and a prediction (1e-4)
// agree with the CPU engine's: two float32 implementations, each within
// about 1e-5 of the exact result, with reductions in different orders; and two
// CUDA engines given the same three steps agree bit for bit. (Weights
// after Adam steps are not compared: Adam's first, sign-like steps turn
// float32 rounding in near-zero gradients into lr-sized differences.)
func MatchesCPU(t *testing.T, open Open) {
	rng := rand.New(rand.NewPCG(5, 5))
	b := windows(unettest.SyntheticBatch(rng, 4, 7, 32, 32), augment.Key{Seed: 1, Step: 3})
	for i := range b.Windows { // smoother than noise: a better-conditioned gradient
		b.Windows[i] = int16(400 * math.Sin(float64(i%(32*32))/50+float64(i/(32*32))))
	}
	g := NewEngine(t, open, 3)
	defer g.Close()
	m, _ := unet.New(unet.BookConfig)
	m.Init(rand.New(rand.NewPCG(3, 7)))
	c := unet.NewCPU(m, unet.DefaultAdam, 0)
	x := unettest.SyntheticBatch(rng, 2, 7, 64, 48)
	pg, err := g.Predict(x)
	if err != nil {
		t.Fatal(err)
	}
	pc, err := c.Predict(x)
	if err != nil {
		t.Fatal(err)
	}
	check(t, "prediction", pg.Prob, pc.Prob, 1e-4)
	check(t, "logits", pg.Logits, pc.Logits, 1e-4)
	got, gtr, err := g.TraceStep(b)
	if err != nil {
		t.Fatal(err)
	}
	want, ctr, err := c.TraceStep(b)
	if err != nil {
		t.Fatal(err)
	}
	if d := math.Abs(got.Loss-want.Loss) / math.Abs(want.Loss); d > 1e-5 {
		t.Errorf("loss %v, CPU %v", got.Loss, want.Loss)
	}
	for i := range want.DiceLoss {
		if math.Abs(got.DiceLoss[i]-want.DiceLoss[i]) > 1e-5 {
			t.Errorf("Dice loss %d: %v, CPU %v", i, got.DiceLoss[i], want.DiceLoss[i])
		}
	}
	near := int64(0)
	for _, p := range ctr.Prob {
		if math.Abs(float64(p)-0.5) < 1e-4 {
			near++
		}
	}
	if d := got.Metrics; abs(d.TP-want.Metrics.TP) > near || abs(d.FN-want.Metrics.FN) > near || abs(d.FP-want.Metrics.FP) > near {
		t.Errorf("pixel counts %+v, CPU %+v", got.Metrics, want.Metrics)
	}
	check(t, "training output", gtr.Prob, ctr.Prob, 1e-4)
	worst := 0.0
	for name, w := range ctr.Grads {
		worst = math.Max(worst, check(t, "gradient of "+name, gtr.Grads[name], w, 1e-4))
	}
	// Determinism: a second engine, the same three steps, the same bits.
	g2 := NewEngine(t, open, 3)
	defer g2.Close()
	for _, e := range []*cuda.Engine{g, g2} {
		if e == g2 {
			if _, err := e.TrainStep(b); err != nil {
				t.Fatal(err)
			}
		}
		for _, s := range []unet.Batch{unettest.SyntheticBatch(rand.New(rand.NewPCG(1, 1)), 3, 7, 16, 32),
			windows(unettest.SyntheticBatch(rand.New(rand.NewPCG(2, 2)), 2, 7, 32, 32), augment.Key{Seed: 4, Step: 4})} {
			if _, err := e.TrainStep(s); err != nil {
				t.Fatal(err)
			}
		}
	}
	unettest.SameState(t, unettest.StateDict(t, g), unettest.StateDict(t, g2), 0)
	t.Logf("%s: a step and a prediction agree with the CPU engine (gradients within %.3g); two engines bit for bit",
		g.DeviceName(), worst)
}

func abs(x int64) int64 { return max(x, -x) }

// check fails t when got differs from want by more than tol·max|want| and
// returns the relative error.
func check(t *testing.T, name string, got, want []float32, tol float64) float64 {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", name, len(got), len(want))
	}
	var d, s float64
	for i := range want {
		d = math.Max(d, math.Abs(float64(got[i])-float64(want[i])))
		s = math.Max(s, math.Abs(float64(want[i])))
	}
	if s > 0 {
		d /= s
	}
	if d > tol || math.IsNaN(d) {
		t.Errorf("%s: relative error %.3g vs the CPU engine > %.0g", name, d, tol)
	}
	return d
}

// BenchConfig sizes Bench.
type BenchConfig struct {
	Seconds   float64 // per measurement, after warm-up calls
	Batches   []int   // training batch sizes, of 7×64×64 windows
	Slices    []int   // prediction batch sizes, of 7×SliceSize×SliceSize slices
	SliceSize int
}

// Bench measures training steps on augmented 7×64×64 windows and
// full-slice prediction, with the device memory of each: what the
// device's free memory lost while the engine ran (MemInfo), and what the
// engine's buffers hold. It writes one JSON object a line to w.
func Bench(t *testing.T, open Open, w io.Writer, c BenchConfig) {
	d := open(t)
	free0, _, err := d.MemInfo()
	if err != nil {
		t.Fatal(err)
	}
	emit := func(rec map[string]any) {
		rec["engine"], rec["device"] = "ctseg-cuda", d.Name()
		b, _ := json.Marshal(rec)
		fmt.Fprintln(w, string(b))
		t.Log(string(b))
	}
	run := func(e *cuda.Engine, warm int, fn func(i int) error) (rate, usedMiB, engineMiB float64) {
		for i := 0; i < warm; i++ {
			if err := fn(i); err != nil {
				t.Fatal(err)
			}
		}
		n, t0 := 0, time.Now()
		for n == 0 || time.Since(t0).Seconds() < c.Seconds {
			if err := fn(warm + n); err != nil {
				t.Fatal(err)
			}
			n++
		}
		rate = float64(n) / time.Since(t0).Seconds()
		free, _, _ := d.MemInfo()
		return rate, float64(free0-free) / (1 << 20), float64(e.MemoryBytes()) / (1 << 20)
	}
	rng := rand.New(rand.NewPCG(9, 9))
	for _, n := range c.Batches {
		e := NewEngine(t, open, 1)
		b := windows(unettest.SyntheticBatch(rng, n, 7, 64, 64), augment.Key{})
		rate, used, mine := run(e, 3, func(i int) error {
			b.NoiseKey = augment.Key{Seed: 1, Step: uint64(i)}
			b.Transform = augment.Augmented.Transform(b.NoiseKey)
			_, err := e.TrainStep(b)
			return err
		})
		emit(map[string]any{"what": "train_step", "batch": n, "h": 64, "w": 64, "augmented": true,
			"samples_per_s": rate * float64(n), "device_mem_used_mib": used, "engine_buffers_mib": mine})
		e.Close()
	}
	for _, n := range c.Slices {
		e := NewEngine(t, open, 1)
		x := unettest.SyntheticBatch(rng, n, 7, c.SliceSize, c.SliceSize)
		rate, used, mine := run(e, 2, func(int) error { _, err := e.Predict(x); return err })
		emit(map[string]any{"what": "predict", "batch": n, "h": c.SliceSize, "w": c.SliceSize,
			"slices_per_s": rate * float64(n), "device_mem_used_mib": used, "engine_buffers_mib": mine})
		e.Close()
	}
}
