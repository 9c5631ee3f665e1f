//go:build ctseg_cudaemu && cgo

package emu_test

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/ctseg/ctseg/internal/unet"
	"github.com/ctseg/ctseg/internal/unet/cuda"
	"github.com/ctseg/ctseg/internal/unet/cuda/cudatest"
	"github.com/ctseg/ctseg/internal/unet/cuda/emu"
	"github.com/ctseg/ctseg/internal/unet/unettest"
)

// TestConformance runs the engine conformance suite on the CUDA engine
// with the emulated device: everything of the engine but the GPU.
func TestConformance(t *testing.T) {
	unettest.Conformance(t, func(t *testing.T, m *unet.Model, opt unet.AdamConfig) unet.Engine {
		e, err := cuda.New(emu.New(), m, opt)
		if err != nil {
			t.Fatal(err)
		}
		return e
	})
}

// TestKernelsMatchPTX: the emulator runs the PTX's kernels with the same
// argument counts (a kernel added to kernels.cu must be added to emu.cc's
// table too).
func TestKernelsMatchPTX(t *testing.T) {
	ptx, _, err := cuda.PTX(9, 0)
	if err != nil {
		t.Fatal(err)
	}
	entries, err := cuda.Entries(ptx)
	if err != nil {
		t.Fatal(err)
	}
	got := emu.Kernels()
	if len(got) != len(entries) {
		t.Errorf("emulator has %d kernels, the PTX %d", len(got), len(entries))
	}
	for name, params := range entries {
		if got[name] != len(params) {
			t.Errorf("%s: emulator takes %d arguments, the PTX %d", name, got[name], len(params))
		}
	}
}

func open(*testing.T) cuda.Device { return emu.New() }

// TestMatchesCPU: see cudatest.MatchesCPU.
func TestMatchesCPU(t *testing.T) { cudatest.MatchesCPU(t, open) }

// TestBench runs bench/gpu.sh's benchmark code on tiny sizes.
func TestBench(t *testing.T) {
	var out strings.Builder
	cudatest.Bench(t, open, &out, cudatest.BenchConfig{Seconds: 0.01, Batches: []int{2}, Slices: []int{1}, SliceSize: 32})
	if n := strings.Count(out.String(), "\n"); n != 2 {
		t.Errorf("%d records:\n%s", n, out.String())
	}
}

// TestKernelsCopy: the emulator compiles kernels_cu.h, which must be
// ../kernels.cu as it is (tools/cuda/build_ptx.sh copies it).
func TestKernelsCopy(t *testing.T) {
	src, err := os.ReadFile("../kernels.cu")
	if err != nil {
		t.Fatal(err)
	}
	cp, err := os.ReadFile("kernels_cu.h")
	if err != nil || !bytes.Equal(src, cp) {
		t.Fatalf("kernels_cu.h is not ../kernels.cu (%v): run tools/cuda/build_ptx.sh", err)
	}
}
