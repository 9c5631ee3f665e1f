//go:build ctseg_cuda

package cuda_test

import (
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/ctseg/ctseg/internal/unet"
	"github.com/ctseg/ctseg/internal/unet/cuda"
	"github.com/ctseg/ctseg/internal/unet/cuda/cudatest"
	"github.com/ctseg/ctseg/internal/unet/unettest"
)

// requireEnv makes a missing GPU a failure rather than a skip: bench/gpu.sh
// sets it on the GPU machine.
const requireEnv = "CTSEG_CUDA_REQUIRED"

// openGPU opens the GPU, or skips (fails with CTSEG_CUDA_REQUIRED=1) after
// checking that the error is one line.
func openGPU(t *testing.T) cuda.Device {
	t.Helper()
	d, err := cuda.OpenDevice()
	if err != nil {
		if strings.Contains(err.Error(), "\n") {
			t.Errorf("the error is not one line: %q", err)
		}
		if os.Getenv(requireEnv) == "1" {
			t.Fatal(err)
		}
		t.Skipf("no GPU: %v", err)
	}
	return d
}

// TestNoGPUError: --device cuda without a GPU is a one-line error that
// says what is missing (run where there is none: skipped on a GPU).
func TestNoGPUError(t *testing.T) {
	m, _ := unet.New(unet.BookConfig)
	e, err := unet.NewEngine("cuda", m, unet.DefaultAdam, 0)
	if err == nil {
		e.Close()
		t.Skip("a GPU is present")
	}
	msg := err.Error()
	t.Logf("without a GPU: %s", msg)
	if strings.Contains(msg, "\n") || !strings.HasPrefix(msg, "cuda: ") ||
		!(strings.Contains(msg, "GPU") || strings.Contains(msg, "driver")) {
		t.Errorf("unclear error: %q", msg)
	}
}

// TestConformance runs the engine conformance suite on the GPU.
func TestConformance(t *testing.T) {
	t.Logf("device: %s", openGPU(t).Name())
	unettest.Conformance(t, func(t *testing.T, m *unet.Model, opt unet.AdamConfig) unet.Engine {
		d := openGPU(t)
		e, err := cuda.New(d, m, opt)
		if err != nil {
			t.Fatal(err)
		}
		return e
	})
}

// TestMatchesCPU: see cudatest.MatchesCPU.
func TestMatchesCPU(t *testing.T) { cudatest.MatchesCPU(t, openGPU) }

// benchEnv names the file TestBench appends its JSON lines to; unset,
// TestBench skips.
const benchEnv = "CTSEG_CUDA_BENCH"

// TestBench measures the engine for bench/gpu.sh (see cudatest.Bench):
// CTSEG_CUDA_BENCH=FILE, CTSEG_CUDA_BENCH_BATCHES (default 16,64,256),
// CTSEG_CUDA_BENCH_SECONDS per measurement (default 4).
func TestBench(t *testing.T) {
	path := os.Getenv(benchEnv)
	if path == "" {
		t.Skipf("set %s=FILE to run the benchmarks", benchEnv)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	c := cudatest.BenchConfig{Seconds: 4, Batches: []int{16, 64, 256}, Slices: []int{1, 8}, SliceSize: 512}
	if s, err := strconv.ParseFloat(os.Getenv("CTSEG_CUDA_BENCH_SECONDS"), 64); err == nil && s > 0 {
		c.Seconds = s
	}
	if s := os.Getenv("CTSEG_CUDA_BENCH_BATCHES"); s != "" {
		c.Batches = nil
		for _, v := range strings.Split(s, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil {
				t.Fatalf("CTSEG_CUDA_BENCH_BATCHES=%q", s)
			}
			c.Batches = append(c.Batches, n)
		}
	}
	cudatest.Bench(t, openGPU, f, c)
}
