package realeval

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/ctseg/ctseg/format"
	"github.com/ctseg/ctseg/geom"
	"github.com/ctseg/ctseg/internal/candidates"
	"github.com/ctseg/ctseg/internal/checkpoint"
	"github.com/ctseg/ctseg/internal/unet"
)

// BenchmarkFullCTInference times full-CT inference the way segeval runs
// it: the validation slices of one CT (crop --val --full-ct) through the
// CPU engine's Predict, BATCH slices at a time. bench/inference.sh runs it
// beside PyTorch; it is skipped unless the environment names the slice
// stream:
//
//	CTSEG_BENCH_SLICES  the slice stream of one CT (every slice, in order)
//	CTSEG_BENCH_MODEL   a checkpoint (the book's); default: random weights
//	CTSEG_BENCH_BATCH   slices per Predict (default 1)
//	CTSEG_BENCH_THREADS the engine's threads (default 2)
//	CTSEG_BENCH_STRIDE  time slices 0, k, 2k, … only (default 1: all)
//	CTSEG_BENCH_DUMP    if set, write the inputs there first (int16, N×C×H×W
//	                    little endian, with FILE.json giving N, C, H, W) for
//	                    the PyTorch side, and stop
//
// It reports slices/s of Predict (wall, after one warm-up batch), CPU
// seconds per slice, and the voxels above 0.5 in the slices timed (for a
// check against PyTorch).
func BenchmarkFullCTInference(b *testing.B) {
	sl := benchSlices(b)
	if dump := os.Getenv("CTSEG_BENCH_DUMP"); dump != "" {
		dumpSlices(b, dump, sl)
		b.Skip("inputs written to " + dump)
	}
	batch, threads, stride := envInt(b, "CTSEG_BENCH_BATCH", 1), envInt(b, "CTSEG_BENCH_THREADS", 2), envInt(b, "CTSEG_BENCH_STRIDE", 1)
	var picked []*format.Slice
	for i := 0; i < len(sl); i += stride {
		picked = append(picked, sl[i])
	}
	p := newPredictor(b, threads, batch, sl[0].Shape)
	cut, _ := candidates.LogitCutoff(candidates.DefaultThreshold)
	b.ResetTimer()
	for range b.N {
		p.run(picked[:min(batch, len(picked))], nil) // warm-up: the engine builds its graph
		above := 0
		t0, c0 := time.Now(), cpuTime()
		for from := 0; from < len(picked); from += batch {
			p.run(picked[from:min(from+batch, len(picked))], func(_ int, logits []float32) {
				for _, l := range logits {
					if l >= cut {
						above++
					}
				}
			})
		}
		wall, cpu := time.Since(t0).Seconds(), (cpuTime() - c0).Seconds()
		b.ReportMetric(float64(len(picked))/wall, "slices/s")
		b.ReportMetric(cpu/float64(len(picked)), "cpu-s/slice")
		b.ReportMetric(wall, "predict-s")
		b.ReportMetric(float64(above), "voxels>0.5")
	}
}

// BenchmarkFullCTGroup predicts every slice of the CT (CTSEG_BENCH_SLICES,
// …, as above, STRIDE aside), then times candidates.Group on the whole
// CT's logits and HU (median of CTSEG_BENCH_GROUPS runs, default 5). It
// reports Group's time, that of the inference it followed, and the
// candidates.
func BenchmarkFullCTGroup(b *testing.B) {
	sl := benchSlices(b)
	batch, threads, groups := envInt(b, "CTSEG_BENCH_BATCH", 1), envInt(b, "CTSEG_BENCH_THREADS", 2), envInt(b, "CTSEG_BENCH_GROUPS", 5)
	info, s0 := sl[0].CT, sl[0]
	if info == nil || info.Shape[0] != len(sl) || s0.Padding != (format.Padding{}) {
		b.Fatalf("want every slice of one unpadded CT with its CT info (format 1.2), have %d slices, CT %v, padding %v", len(sl), info, s0.Padding)
	}
	c, plane := s0.Shape[0], s0.Shape[1]*s0.Shape[2]
	logits := make([]float32, len(sl)*plane)
	hu := make([]int16, len(sl)*plane)
	for i, s := range sl {
		copy(hu[i*plane:], s.HU[c/2*plane:(c/2+1)*plane]) // the centre channel: clip(HU) of slice i
	}
	p := newPredictor(b, threads, batch, s0.Shape)
	b.ResetTimer()
	for range b.N {
		t0 := time.Now()
		for from := 0; from < len(sl); from += batch {
			p.run(sl[from:min(from+batch, len(sl))], func(k int, l []float32) { copy(logits[(from+k)*plane:], l) })
		}
		wall := time.Since(t0).Seconds()
		var times []float64
		var cands []candidates.Candidate
		for range groups {
			t1 := time.Now()
			var err error
			cands, err = candidates.Group(info.Shape, info.Geometry, hu, logits, candidates.DefaultThreshold)
			if err != nil {
				b.Fatal(err)
			}
			times = append(times, time.Since(t1).Seconds())
		}
		slices.Sort(times)
		group := times[len(times)/2]
		b.ReportMetric(wall, "predict-s")
		b.ReportMetric(group*1e3, "group-ms")
		b.ReportMetric(100*group/wall, "group-%")
		b.ReportMetric(float64(len(cands)), "candidates")
	}
}

// benchSlices reads CTSEG_BENCH_SLICES, or skips.
func benchSlices(b *testing.B) []*format.Slice {
	path := os.Getenv("CTSEG_BENCH_SLICES")
	if path == "" {
		b.Skip("CTSEG_BENCH_SLICES names no slice stream (bench/inference.sh sets it)")
	}
	return readSlices(b, path)
}

// predictor runs slices through the engine, reusing one input buffer.
type predictor struct {
	b       *testing.B
	e       unet.Engine
	c, h, w int
	in      []float32
}

func newPredictor(b *testing.B, threads, batch int, shape [3]int) *predictor {
	c, h, w := shape[0], shape[1], shape[2]
	return &predictor{b: b, e: benchEngine(b, threads), c: c, h: h, w: w, in: make([]float32, batch*c*h*w)}
}

// run predicts the slices as one batch and hands each one's logits to f.
func (p *predictor) run(sl []*format.Slice, f func(k int, logits []float32)) {
	n, size := len(sl), p.c*p.h*p.w
	x := p.in[:n*size]
	for k, s := range sl {
		for j, v := range s.HU {
			x[k*size+j] = float32(v)
		}
	}
	out, err := p.e.Predict(unet.Batch{N: n, H: p.h, W: p.w, Input: x})
	if err != nil {
		p.b.Fatal(err)
	}
	if f != nil {
		plane := p.h * p.w
		for k := range n {
			f(k, out.Logits[k*plane:(k+1)*plane])
		}
	}
}

func envInt(b *testing.B, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		b.Fatalf("%s=%q: want a positive integer", name, v)
	}
	return n
}

// benchEngine is the CPU engine with CTSEG_BENCH_MODEL's weights, or
// random ones (the time does not depend on them).
func benchEngine(b *testing.B, threads int) unet.Engine {
	m, err := unet.New(unet.BookConfig)
	if err != nil {
		b.Fatal(err)
	}
	m.Init(rand.New(rand.NewPCG(1, 2)))
	e, err := unet.NewEngine("cpu", m, unet.DefaultAdam, threads)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { e.Close() })
	if p := os.Getenv("CTSEG_BENCH_MODEL"); p != "" {
		if _, err := checkpoint.LoadInto(p, e); err != nil {
			b.Fatal(err)
		}
	}
	return e
}

// readSlices reads every slice record of the stream at path.
func readSlices(b *testing.B, path string) []*format.Slice {
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	r := format.NewReader(bufio.NewReader(f))
	defer r.Close()
	r.Expect(format.KindSlice)
	var out []*format.Slice
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			b.Fatal(err)
		}
		s := rec.(*format.Slice)
		if len(out) > 0 && (s.SliceIndex != out[len(out)-1].SliceIndex+1 || s.Shape != out[0].Shape) {
			b.Fatalf("slice %d (shape %v) after slice %d: want one CT's slices in order", s.SliceIndex, s.Shape, out[len(out)-1].SliceIndex)
		}
		out = append(out, s)
	}
	if len(out) == 0 || out[0].SliceIndex != 0 {
		b.Fatal("no slices, or the first is not slice 0")
	}
	return out
}

// dumpSlices writes the inputs as int16 N×C×H×W for the PyTorch side.
func dumpSlices(b *testing.B, path string, sl []*format.Slice) {
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	for _, s := range sl {
		if err := binary.Write(bw, binary.LittleEndian, s.HU); err != nil {
			b.Fatal(err)
		}
	}
	if err := bw.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	s := sl[0].Shape
	meta := map[string]any{"n": len(sl), "c": s[0], "h": s[1], "w": s[2], "geometry": geomJSON(sl[0].CT)}
	j, _ := json.Marshal(meta)
	if err := os.WriteFile(path+".json", j, 0o644); err != nil {
		b.Fatal(err)
	}
}

func geomJSON(ct *format.SliceCT) any {
	if ct == nil {
		return nil
	}
	return struct {
		Shape [3]int
		G     geom.Geometry
	}{ct.Shape, ct.Geometry}
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
