package checkpoint

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ctseg/ctseg/internal/safetensors"
	"github.com/ctseg/ctseg/internal/tensors"
	"github.com/ctseg/ctseg/internal/unet"
)

// TestExportForPyTorch writes a ctseg checkpoint after 3 training steps, an
// input and the Go model's eval output, for
// tools/pytorch/check_ctseg_checkpoint.sh to load into the book's
// UNetWrapper and compare. It runs only with $CTSEG_PYTORCH_EXPORT set to
// a directory.
func TestExportForPyTorch(t *testing.T) {
	dir := os.Getenv("CTSEG_PYTORCH_EXPORT")
	if dir == "" {
		t.Skip("set CTSEG_PYTORCH_EXPORT=DIR to write files for the PyTorch check")
	}
	e := engine(t, 7)
	train(t, e, 1, 2, 3)
	if err := Save(filepath.Join(dir, "ckpt.safetensors"), e, Meta{Program: "checkpoint.test", Time: time.Now(), Epoch: 1, SamplesSeen: 6}); err != nil {
		t.Fatal(err)
	}
	const n, h, w = 2, 64, 64
	in := batch(11)
	x := make([]float32, n*7*h*w)
	for i := range x {
		x[i] = in.Input[i%len(in.Input)] // 16×16 HU pattern, tiled
	}
	p, err := e.Predict(unet.Batch{N: n, H: h, W: w, Input: x})
	if err != nil {
		t.Fatal(err)
	}
	write := func(name, key string, shape []int, v []float32) {
		d := tensors.Dict{key: {DType: tensors.F32, Shape: shape, F32: v}}
		if err := safetensors.WriteFile(filepath.Join(dir, name), d, nil); err != nil {
			t.Fatal(err)
		}
	}
	write("input.safetensors", "input", []int{n, 7, h, w}, x)
	write("expect.safetensors", "probs", []int{n, 1, h, w}, p.Prob)
}
