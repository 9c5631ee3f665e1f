package train

import (
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ctseg/ctseg/format"
	"github.com/ctseg/ctseg/internal/checkpoint"
	"github.com/ctseg/ctseg/internal/unet"
)

// nanEngine is the CPU engine whose third training step reports a NaN
// loss, as a diverging run would.
type nanEngine struct {
	unet.Engine
	steps int
}

func (e *nanEngine) TrainStep(b unet.Batch) (unet.StepResult, error) {
	res, err := e.Engine.TrainStep(b)
	if e.steps++; e.steps == 3 {
		res.Loss = math.NaN()
	}
	return res, err
}

func init() {
	unet.RegisterDevice("test-nan", func(m *unet.Model, opt unet.AdamConfig, threads int) (unet.Engine, error) {
		return &nanEngine{Engine: unet.NewCPU(m, opt, threads)}, nil
	})
}

// records yields recs, then io.EOF.
type records []format.Record

func (r *records) Next() (format.Record, error) {
	if len(*r) == 0 {
		return nil, io.EOF
	}
	rec := (*r)[0]
	*r = (*r)[1:]
	return rec, nil
}

// testData writes a validation stream of two slices and returns it with
// four nodule crops.
func testData(t *testing.T) (val string, crops records) {
	dir := t.TempDir()
	val = filepath.Join(dir, "val.msz")
	f, err := os.Create(val)
	if err != nil {
		t.Fatal(err)
	}
	w, err := format.NewWriter(f, format.Header{Kind: format.KindSlice})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		s := &format.Slice{SeriesUID: "9.9", SliceIndex: i, Shape: [3]int{7, 32, 32}, HU: make([]int16, 7*32*32), Label: make([]uint8, 32*32)}
		s.Label[100] = 1
		if err := w.Write(s); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	for i := range 4 {
		c := &format.Crop{SeriesUID: "1.2", Candidate: format.Candidate{IsNodule: true}, Shape: [3]int{7, 96, 96},
			HU: make([]int16, 7*96*96), Label: make([]uint8, 96*96)}
		for j := range c.HU {
			c.HU[j] = int16((j*7+i*13)%2000 - 1000)
		}
		c.Label[48*96+48] = 1
		crops = append(crops, c)
	}
	return val, crops
}

func testOptions(out, val string) Options {
	return Options{
		Params: Params{BatchSize: 2, EpochSamples: 8, Cadence: 1, Seed: 1, LR: 1e-3, TBPrefix: "t", Comment: "c"},
		Val:    val, Out: out, Epochs: 1, CheckpointEvery: time.Hour, Device: "cpu", Quiet: true, Args: []string{"test"},
	}
}

// TestNaNLoss: a NaN loss stops the run, naming the epoch and the batch,
// and leaves the last good checkpoint as it was.
func TestNaNLoss(t *testing.T) {
	val, crops := testData(t)
	out := filepath.Join(t.TempDir(), "run")
	o := testOptions(out, val)
	o.Device = "test-nan"
	err := Run(o, &crops, func() string { return "crops" })
	if err == nil || !strings.Contains(err.Error(), "epoch 1, batch 3: the loss is NaN") {
		t.Fatalf("NaN loss: %v", err)
	}
	if m, _ := filepath.Glob(filepath.Join(out, "models", "*.safetensors")); len(m) != 0 {
		t.Errorf("checkpoints written after a NaN loss: %v", m)
	}
}

// TestBestIsLater: with equal validation scores the later model is the
// best (the book's score == best_score after max).
func TestBestIsLater(t *testing.T) {
	val, crops := testData(t)
	out := filepath.Join(t.TempDir(), "run")
	o := testOptions(out, val)
	o.Epochs = 2
	o.LR = 1e-12 // the scores stay as they are
	if err := Run(o, &crops, func() string { return "crops" }); err != nil {
		t.Fatal(err)
	}
	models := filepath.Join(out, "models")
	best, _ := filepath.Glob(filepath.Join(models, "*.best.safetensors"))
	second, _ := filepath.Glob(filepath.Join(models, "*.16.safetensors"))
	if len(best) != 1 || len(second) != 1 {
		t.Fatalf("models %v %v", best, second)
	}
	a, _, errA := checkpoint.Load(best[0])
	b, _, errB := checkpoint.Load(second[0])
	first, _, errC := checkpoint.Load(filepath.Join(models, strings.TrimSuffix(filepath.Base(second[0]), ".16.safetensors")+".8.safetensors"))
	if errA != nil || errB != nil || errC != nil {
		t.Fatal(errA, errB, errC)
	}
	if !reflect.DeepEqual(a, b) || reflect.DeepEqual(a, first) {
		t.Error("the best model is not the later of two equal scores")
	}
}

// TestCheckpointUnwritable: a checkpoint that cannot be written is an
// error, and the run stops.
func TestCheckpointUnwritable(t *testing.T) {
	val, crops := testData(t)
	out := filepath.Join(t.TempDir(), "run")
	o := testOptions(out, val)
	if err := os.MkdirAll(filepath.Join(out, "models"), 0o755); err != nil {
		t.Fatal(err)
	}
	// A directory where the validated model's file goes.
	stamp := time.Now().Format(TimeFormat)
	for _, d := range []string{stamp, time.Now().Add(time.Second).Format(TimeFormat)} {
		os.MkdirAll(filepath.Join(out, "models", "seg_"+d+"_c.8.safetensors"), 0o755)
	}
	err := Run(o, &crops, func() string { return "crops" })
	if err == nil || errors.Is(err, ErrStopped) || !strings.Contains(err.Error(), "c.8.safetensors") {
		t.Fatalf("unwritable checkpoint: %v", err)
	}
	t.Log(err)
}
