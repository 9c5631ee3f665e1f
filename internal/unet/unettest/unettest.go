// Package unettest is the conformance suite of unet.Engine: the checks
// against PyTorch's book U-Net (training output, loss, gradients, three
// Adam steps, evaluation), resuming from a state dict, batching, errors,
// Close and augmentation (against PyTorch's affine_grid and grid_sample,
// through unet.Augmenter), run through the interface alone so that every
// engine passes the same ones. An engine's test calls Conformance with a constructor:
//
//	func TestConformance(t *testing.T) {
//		unettest.Conformance(t, func(t *testing.T, m *unet.Model, opt unet.AdamConfig) unet.Engine {
//			return unet.NewCPU(m, opt, 0)
//		})
//	}
//
// The fixtures are internal/unet/testdata, written by the scripts in
// tools/pytorch; the suite finds them beside its own source.
package unettest

import (
	"math/rand/v2"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/ctseg/ctseg/internal/safetensors"
	"github.com/ctseg/ctseg/internal/tensors"
	"github.com/ctseg/ctseg/internal/unet"
)

// NewEngine returns an engine that starts from m's weights and buffers
// with a fresh Adam of opt, or fails t. The suite closes it.
type NewEngine func(t *testing.T, m *unet.Model, opt unet.AdamConfig) unet.Engine

// Conformance runs the whole suite on the engines newEngine makes. It is
// as exact as the engine's Info says it is where arrangements of the same
// computation are compared, and as exact as the CPU engine everywhere
// PyTorch is the reference.
func Conformance(t *testing.T, newEngine NewEngine) {
	t.Run("Parity", func(t *testing.T) { parity(t, newEngine) })
	t.Run("Resume", func(t *testing.T) { resume(t, newEngine) })
	t.Run("PredictBatching", func(t *testing.T) { predictBatching(t, newEngine) })
	t.Run("Errors", func(t *testing.T) { errorCases(t, newEngine) })
	t.Run("Close", func(t *testing.T) { closeCase(t, newEngine) })
	t.Run("BookCheckpoint", func(t *testing.T) { bookCheckpoint(t, newEngine) })
	t.Run("Augment", func(t *testing.T) { augmentation(t, newEngine) })
}

// open makes an engine of the book's configuration, initialised from the
// seed, and closes it when the test ends.
func open(t *testing.T, newEngine NewEngine, seed uint64) unet.Engine {
	t.Helper()
	m, err := unet.New(unet.BookConfig)
	if err != nil {
		t.Fatal(err)
	}
	m.Init(rand.New(rand.NewPCG(seed, seed+1)))
	e := newEngine(t, m, unet.DefaultAdam)
	t.Cleanup(func() {
		if err := e.Close(); err != nil {
			t.Errorf("closing the engine: %v", err)
		}
	})
	return e
}

// testdata is internal/unet/testdata, found from this file's path.
func testdata(t testing.TB) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("unettest: cannot find its own source to locate internal/unet/testdata")
	}
	return filepath.Join(filepath.Dir(file), "..", "testdata")
}

// Fixture returns the PyTorch parity fixture, testdata/parity.safetensors
// (see tools/pytorch/make_parity_fixtures.py for its names).
func Fixture(t testing.TB) tensors.Dict {
	t.Helper()
	path := filepath.Join(testdata(t), "parity.safetensors")
	d, _, err := safetensors.ReadFile(path)
	if err != nil {
		t.Fatalf("reading %s: %v", path, err)
	}
	return d
}

// FixtureBatch returns batch i (0, 1 or 2) of the parity fixture.
func FixtureBatch(t testing.TB, fx tensors.Dict, i int) unet.Batch {
	t.Helper()
	x, l := fx["input."+strconv.Itoa(i)], fx["label."+strconv.Itoa(i)]
	if len(x.Shape) != 4 {
		t.Fatalf("fixture input.%d: shape %v", i, x.Shape)
	}
	return unet.Batch{N: x.Shape[0], H: x.Shape[2], W: x.Shape[3], Input: x.F32, Label: l.F32}
}

// Prefixed returns the tensors of d under prefix, with the prefix removed.
func Prefixed(d tensors.Dict, prefix string) tensors.Dict {
	out := tensors.Dict{}
	for k, v := range d {
		if strings.HasPrefix(k, prefix) {
			out[strings.TrimPrefix(k, prefix)] = v
		}
	}
	return out
}

// SyntheticBatch returns n samples of c×h×w clipped-HU-like noise, each
// labelled with a centred disc of radius 5.
func SyntheticBatch(rng *rand.Rand, n, c, h, w int) unet.Batch {
	b := unet.Batch{N: n, H: h, W: w, Input: make([]float32, n*c*h*w), Label: make([]float32, n*h*w)}
	for i := range b.Input {
		b.Input[i] = float32(min(max(rng.NormFloat64()*500-300, -1000), 1000))
	}
	cy, cx := h/2, w/2
	for s := 0; s < n; s++ {
		for r := 0; r < h; r++ {
			for q := 0; q < w; q++ {
				if (r-cy)*(r-cy)+(q-cx)*(q-cx) <= 25 {
					b.Label[(s*h+r)*w+q] = 1
				}
			}
		}
	}
	return b
}
