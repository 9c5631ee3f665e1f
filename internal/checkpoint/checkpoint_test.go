package checkpoint

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ctseg/ctseg/internal/safetensors"
	"github.com/ctseg/ctseg/internal/sharedtest"
	"github.com/ctseg/ctseg/internal/tensors"
	"github.com/ctseg/ctseg/internal/unet"
	"github.com/ctseg/ctseg/internal/unet/unettest"
)

func engine(t *testing.T, seed uint64) *unet.CPU {
	t.Helper()
	m, err := unet.New(unet.BookConfig)
	if err != nil {
		t.Fatal(err)
	}
	m.Init(rand.New(rand.NewPCG(seed, 1)))
	return unet.NewCPU(m, unet.DefaultAdam, 2)
}

// batch is a seeded 2×7×16×16 batch of HU-like inputs with a square label.
func batch(seed uint64) unet.Batch {
	rng := rand.New(rand.NewPCG(seed, 2))
	b := unet.Batch{N: 2, H: 16, W: 16, Input: make([]float32, 2*7*16*16), Label: make([]float32, 2*16*16)}
	for i := range b.Input {
		b.Input[i] = float32(rng.IntN(2001) - 1000)
	}
	for n := 0; n < 2; n++ {
		for y := 5; y < 10; y++ {
			for x := 4; x < 11; x++ {
				b.Label[n*256+y*16+x] = 1
			}
		}
	}
	return b
}

func train(t *testing.T, e unet.Engine, seeds ...uint64) {
	t.Helper()
	for _, s := range seeds {
		if _, err := e.TrainStep(batch(s)); err != nil {
			t.Fatal(err)
		}
	}
}

// TestResumeFromFile: train, save to a file, load into a fresh engine,
// train on — bit for bit the same as training straight through.
func TestResumeFromFile(t *testing.T) {
	whole := engine(t, 1)
	train(t, whole, 1, 2, 3)

	first := engine(t, 1)
	train(t, first, 1, 2)
	path := filepath.Join(t.TempDir(), "seg.safetensors")
	meta := Meta{Program: "segtrain", Args: []string{"--epochs", "2"}, Time: time.Date(2026, 11, 29, 14, 0, 0, 5, time.UTC),
		Epoch: 2, SamplesSeen: 4, Config: unet.BookConfig, Extra: map[string]string{"comment": "test"}}
	if err := Save(path, first, meta); err != nil {
		t.Fatal(err)
	}
	second := engine(t, 99) // different start: everything must come from the file
	got, err := LoadInto(path, second)
	if err != nil {
		t.Fatal(err)
	}
	meta.ModelName = "UNetWrapper"
	if !reflect.DeepEqual(got, meta) {
		t.Errorf("metadata\n got %+v\nwant %+v", got, meta)
	}
	train(t, second, 3)
	unettest.SameState(t, unettest.StateDict(t, second), unettest.StateDict(t, whole), 0)
}

func TestStateNames(t *testing.T) {
	e := engine(t, 1)
	train(t, e, 1)
	path := filepath.Join(t.TempDir(), "seg.safetensors")
	if err := Save(path, e, Meta{}); err != nil {
		t.Fatal(err)
	}
	d, md, err := safetensors.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"input_batchnorm.running_var", "unet.down_path.0.block.0.weight", "unet.up_path.1.up.bias",
		"unet.last.weight", "optimizer.exp_avg.unet.last.weight", "optimizer.exp_avg_sq.unet.last.bias", "optimizer.step.unet.last.bias"} {
		if _, ok := d[name]; !ok {
			t.Errorf("no tensor %s", name)
		}
	}
	if md[keyVersion] != FormatVersion || md[keyModel] != "UNetWrapper" || md[keyConfig] == "" {
		t.Errorf("metadata %v", md)
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	junk := filepath.Join(dir, "junk.state")
	os.WriteFile(junk, []byte("seriesuid,coordX\n"), 0o644)
	if _, _, err := Load(junk); err == nil || !strings.Contains(err.Error(), "junk.state") {
		t.Errorf("junk: %v", err)
	}
	if _, _, err := Load(filepath.Join(dir, "missing")); err == nil {
		t.Error("missing file loaded")
	}
	future := filepath.Join(dir, "future.safetensors")
	safetensors.WriteFile(future, tensors.Dict{}, map[string]string{keyVersion: "2.0"})
	if _, _, err := Load(future); err == nil || !strings.Contains(err.Error(), "version 2.0") {
		t.Errorf("future version: %v", err)
	}
	small := filepath.Join(dir, "small.safetensors")
	safetensors.WriteFile(small, tensors.Dict{"unet.last.weight": {DType: tensors.F32, Shape: []int{1}, F32: []float32{1}}}, nil)
	if _, err := LoadInto(small, engine(t, 1)); err == nil || !strings.Contains(err.Error(), "small.safetensors") {
		t.Errorf("wrong shapes: %v", err)
	}
}

func TestBookCheckpoint(t *testing.T) {
	paths := []string{sharedtest.ModelPath(t)}
	e := engine(t, 1)
	m, err := LoadInto(paths[0], e)
	if err != nil {
		t.Fatal(err)
	}
	if m.Epoch != 5 || m.SamplesSeen != 1_500_000 || m.ModelName != "UNetWrapper" || m.Config != unet.BookConfig ||
		len(m.Args) == 0 || m.Time.Year() != 2020 {
		t.Errorf("book metadata %+v", m)
	}
}

// TestHeaderLength0x80: a safetensors file whose header length starts
// with the byte 0x80 (a pickle's first byte) is still a safetensors file.
func TestHeaderLength0x80(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "m.safetensors")
	for n := 0; n < 600; n++ {
		if err := safetensors.WriteFile(path, tensors.Dict{}, map[string]string{"pad": strings.Repeat("x", n)}); err != nil {
			t.Fatal(err)
		}
		head := make([]byte, 1)
		f, _ := os.Open(path)
		f.Read(head)
		f.Close()
		if head[0] != 0x80 {
			continue
		}
		if _, m, err := Load(path); err != nil || m.Extra["pad"] != strings.Repeat("x", n) {
			t.Fatalf("header length 0x..80: %v", err)
		}
		return
	}
	t.Fatal("no header length ending in 0x80 made")
}
