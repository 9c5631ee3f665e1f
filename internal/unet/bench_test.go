package unet_test

import (
	"bufio"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ctseg/ctseg/internal/augment"
	"github.com/ctseg/ctseg/internal/unet"
	"github.com/ctseg/ctseg/internal/unet/unettest"
)

// cpuTime is the process's user+system CPU time so far: on a machine shared
// with other work, CPU time per op is steadier than wall time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// vmHWM returns the process's peak resident set size in bytes (Linux), or
// -1. Run one benchmark per process (-bench '^BenchmarkTrainStep$') for a
// peak that belongs to that benchmark alone.
func vmHWM() float64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return -1
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			if err != nil {
				return -1
			}
			return kb * 1024
		}
	}
	return -1
}

func benchEngine(b *testing.B) *unet.CPU {
	m, err := unet.New(unet.BookConfig)
	if err != nil {
		b.Fatal(err)
	}
	m.Init(rand.New(rand.NewPCG(1, 1)))
	e := unet.NewCPU(m, unet.DefaultAdam, 0)
	b.Cleanup(func() { e.Close() })
	return e
}

// BenchmarkTrainStep is one Adam step on a batch of 16 × 7×64×64 (forward,
// loss, backward, update), the book's training configuration.
func BenchmarkTrainStep(b *testing.B) {
	e := benchEngine(b)
	batch := unettest.SyntheticBatch(rand.New(rand.NewPCG(2, 2)), 16, 7, 64, 64)
	if _, err := e.TrainStep(batch); err != nil { // build the graph outside the timing
		b.Fatal(err)
	}
	b.ResetTimer()
	c0 := cpuTime()
	for i := 0; i < b.N; i++ {
		if _, err := e.TrainStep(batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(16*b.N)/b.Elapsed().Seconds(), "samples/s")
	b.ReportMetric(float64(cpuTime()-c0)/1e6/float64(b.N), "cpu-ms/op")
	b.ReportMetric(vmHWM()/(1<<20), "peakRSS-MiB")
}

// BenchmarkTrainStepAugmented is BenchmarkTrainStep on int16 windows
// that the engine augments (--augmented: flip, offset, scale, rotation and
// noise), a new transform and noise key each step.
func BenchmarkTrainStepAugmented(b *testing.B) {
	e := benchEngine(b)
	f := unettest.SyntheticBatch(rand.New(rand.NewPCG(2, 2)), 16, 7, 64, 64)
	batch := unet.Batch{N: f.N, H: f.H, W: f.W, Windows: make([]int16, len(f.Input)), Labels: make([]uint8, len(f.Label)),
		NoiseSigma: augment.BookNoise}
	for i, v := range f.Input {
		batch.Windows[i] = int16(v)
	}
	for i, v := range f.Label {
		batch.Labels[i] = uint8(v)
	}
	step := func(i int) {
		batch.NoiseKey = augment.Key{Seed: 1, Step: uint64(i)}
		batch.Transform = augment.Augmented.Transform(batch.NoiseKey)
		if _, err := e.TrainStep(batch); err != nil {
			b.Fatal(err)
		}
	}
	step(0) // build the graph outside the timing
	b.ResetTimer()
	c0 := cpuTime()
	for i := 0; i < b.N; i++ {
		step(i + 1)
	}
	b.ReportMetric(float64(16*b.N)/b.Elapsed().Seconds(), "samples/s")
	b.ReportMetric(float64(cpuTime()-c0)/1e6/float64(b.N), "cpu-ms/op")
	b.ReportMetric(vmHWM()/(1<<20), "peakRSS-MiB")
}

// BenchmarkEvalSlice is the evaluation-mode forward pass of one full
// 7×512×512 CT slice.
func BenchmarkEvalSlice(b *testing.B) {
	e := benchEngine(b)
	x := unettest.SyntheticBatch(rand.New(rand.NewPCG(3, 3)), 1, 7, 512, 512)
	x.Label = nil
	if _, err := e.Predict(x); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	c0 := cpuTime()
	for i := 0; i < b.N; i++ {
		if _, err := e.Predict(x); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(cpuTime()-c0)/1e6/float64(b.N), "cpu-ms/op")
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "samples/s")
	b.ReportMetric(vmHWM()/(1<<20), "peakRSS-MiB")
}
