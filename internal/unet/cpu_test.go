package unet_test

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/ctseg/ctseg/internal/tensors"
	"github.com/ctseg/ctseg/internal/unet"
	"github.com/ctseg/ctseg/internal/unet/unettest"
)

// TestCPUConformance runs the engine conformance suite on the CPU engine.
func TestCPUConformance(t *testing.T) {
	unettest.Conformance(t, func(t *testing.T, m *unet.Model, opt unet.AdamConfig) unet.Engine {
		return unet.NewCPU(m, opt, 0)
	})
}

func TestParamCountAndNames(t *testing.T) {
	m, err := unet.New(unet.BookConfig)
	if err != nil {
		t.Fatal(err)
	}
	if n := m.ParamCount(); n != 118271 {
		t.Errorf("trainable parameters: %d, want 118,271 (SPEC)", n)
	}
	// The PyTorch fixture's state_dict has exactly these names and shapes.
	fx := unettest.Prefixed(unettest.Fixture(t), "init.")
	sd := m.StateDict()
	if len(sd) != len(fx) {
		t.Errorf("state dict has %d entries, PyTorch's %d", len(sd), len(fx))
	}
	for name, want := range fx {
		got, ok := sd[name]
		if !ok || !slices.Equal(got.Shape, want.Shape) || got.DType != want.DType {
			t.Errorf("%s: got %v %v, PyTorch %v %v", name, got.DType, got.Shape, want.DType, want.Shape)
		}
	}
}

// TestWorkerCountInvariance: the kernels' reductions do not depend on the
// number of goroutines, so 1 and 3 workers give the same bits.
func TestWorkerCountInvariance(t *testing.T) {
	b := unettest.FixtureBatch(t, unettest.Fixture(t), 0)
	var out [2]tensors.Dict
	for i, k := range []int{1, 3} {
		m, _ := unet.New(unet.BookConfig)
		m.Init(rand.New(rand.NewPCG(5, 6)))
		e := unet.NewCPU(m, unet.DefaultAdam, k)
		if _, err := e.TrainStep(b); err != nil {
			t.Fatal(err)
		}
		var err error
		if out[i], err = e.StateDict(); err != nil {
			t.Fatal(err)
		}
	}
	for name, w := range out[0] {
		for j := range w.F32 {
			if math.Float32bits(w.F32[j]) != math.Float32bits(out[1][name].F32[j]) {
				t.Fatalf("%s[%d] differs between 1 and 3 workers", name, j)
			}
		}
	}
}
