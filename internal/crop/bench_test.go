package crop

import (
	"encoding/binary"
	"path/filepath"
	"sync"
	"testing"

	"github.com/klauspost/compress/zstd"

	"github.com/ctseg/ctseg/format"
	"github.com/ctseg/ctseg/internal/mask"
	"github.com/ctseg/ctseg/internal/phantom"
	"github.com/ctseg/ctseg/internal/sharedtest"
)

// Benchmarks (docs/crop.md has the numbers):
//
//	go test -run '^$' -bench . -benchtime 3x ./internal/crop/
//
// The phantom is a LUNA16-sized CT (512×512×250) drawn by internal/phantom
// (mkphantom's generator: body, lungs, vessels, ribs, noise, 2–5 nodules),
// masked by internal/mask, so that the compressed stream sizes are those
// of CT-like data.

var (
	benchOnce sync.Once
	benchCT   *format.CT
	benchErr  error
)

func benchPhantom(b *testing.B) *format.CT {
	b.Helper()
	benchOnce.Do(func() { benchCT, benchErr = makeBenchPhantom() })
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return benchCT
}

func makeBenchPhantom() (*format.CT, error) {
	opt := phantom.DefaultOptions()
	opt.Slices, opt.NodulesMin, opt.NodulesMax = 250, 2, 5
	s, err := phantom.Plan(opt, 0)
	if err != nil {
		return nil, err
	}
	ct := &format.CT{
		SeriesUID: s.UID,
		Shape:     [3]int{s.Size[2], s.Size[1], s.Size[0]},
		Geometry:  s.Geometry,
		HU:        s.Render(0),
	}
	var centres [][3]int
	for _, n := range s.Nodules {
		centres = append(centres, n.CenterIRC)
		ct.Nodules = append(ct.Nodules, format.Candidate{CenterXYZ: n.CenterXYZ, CenterIRC: n.CenterIRC, IsNodule: true})
	}
	m, err := mask.Build(mask.Volume{HU: ct.HU, Shape: ct.Shape}, centres, mask.DefaultThreshold)
	if err != nil {
		return nil, err
	}
	ct.Mask, ct.PositiveIndexes = m.Mask, m.PositiveIndexes
	return ct, nil
}

func BenchmarkTrainingCrop(b *testing.B) {
	ct := benchPhantom(b)
	b.SetBytes(int64(7 * 96 * 96 * 2))
	b.ResetTimer()
	for k := 0; b.Loop(); k++ {
		if _, err := Training(ct, ct.Nodules[k%len(ct.Nodules)], DefaultWidth); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkValidationSlice(b *testing.B) {
	ct := benchPhantom(b)
	b.SetBytes(int64(7 * 512 * 512 * 2))
	b.ResetTimer()
	for k := 0; b.Loop(); k++ {
		if _, err := Validation(ct, ct.PositiveIndexes[k%len(ct.PositiveIndexes)], DefaultContext); err != nil {
			b.Fatal(err)
		}
	}
}

// countWriter counts the bytes of a stream it discards.
type countWriter struct{ n int64 }

func (w *countWriter) Write(p []byte) (int, error) { w.n += int64(len(p)); return len(p), nil }

// streamBench writes every sample of ct once per iteration through a
// format.Writer and reports samples/s and compressed bytes per sample.
func streamBench(b *testing.B, ct *format.CT, kind format.Kind) {
	b.Helper()
	cw := &countWriter{}
	var samples int64
	b.ResetTimer()
	for b.Loop() {
		w, err := format.NewWriter(cw, format.Header{Kind: kind, Program: "bench"})
		if err != nil {
			b.Fatal(err)
		}
		write := func(r format.Record) error { samples++; return w.Write(r) }
		if kind == format.KindCrop {
			err = Crops(ct, TrainOptions{Candidates: true}, func(c *format.Crop) error { return write(c) })
		} else {
			err = Slices(ct, ValOptions{Context: DefaultContext}, func(s *format.Slice) error { return write(s) })
		}
		if err != nil {
			b.Fatal(err)
		}
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(samples)/b.Elapsed().Seconds(), "samples/s")
	b.ReportMetric(float64(cw.n)/float64(samples), "B/sample")
}

func BenchmarkStreamCropsPhantom(b *testing.B) {
	streamBench(b, benchPhantom(b), format.KindCrop)
}

func BenchmarkStreamSlicesPhantom(b *testing.B) {
	streamBench(b, benchPhantom(b), format.KindSlice)
}

// BenchmarkAnchorZstdSlices is the anchor for the stream benchmarks: the
// raw little-endian bytes of the same validation slices (HU and label),
// cut beforehand, compressed with zstd at the format's level (fastest) and
// flushed per sample as format.Writer does, without crop or msgpack.
func BenchmarkAnchorZstdSlices(b *testing.B) {
	anchorBench(b, benchPhantom(b), format.KindSlice)
}

// BenchmarkAnchorZstdCrops is BenchmarkAnchorZstdSlices for the crops.
func BenchmarkAnchorZstdCrops(b *testing.B) {
	anchorBench(b, benchPhantom(b), format.KindCrop)
}

func anchorBench(b *testing.B, ct *format.CT, kind format.Kind) {
	b.Helper()
	var raw [][]byte
	add := func(hu []int16, label []uint8) {
		buf := make([]byte, 2*len(hu), 2*len(hu)+len(label))
		for i, v := range hu {
			binary.LittleEndian.PutUint16(buf[2*i:], uint16(v))
		}
		raw = append(raw, append(buf, label...))
	}
	var err error
	if kind == format.KindCrop {
		err = Crops(ct, TrainOptions{Candidates: true}, func(c *format.Crop) error { add(c.HU, c.Label); return nil })
	} else {
		err = Slices(ct, ValOptions{Context: DefaultContext}, func(s *format.Slice) error { add(s.HU, s.Label); return nil })
	}
	if err != nil {
		b.Fatal(err)
	}
	cw := &countWriter{}
	b.ResetTimer()
	for b.Loop() {
		zw, err := zstd.NewWriter(cw, zstd.WithEncoderLevel(zstd.SpeedFastest))
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range raw {
			if _, err := zw.Write(r); err != nil {
				b.Fatal(err)
			}
			if err := zw.Flush(); err != nil {
				b.Fatal(err)
			}
		}
		if err := zw.Close(); err != nil {
			b.Fatal(err)
		}
	}
	n := float64(b.N * len(raw))
	b.ReportMetric(n/b.Elapsed().Seconds(), "samples/s")
	b.ReportMetric(float64(cw.n)/n, "B/sample")
}

// BenchmarkStreamCropsReal measures the stream size per crop on the real
// series (their nodules and candidates, masks as in real_test.go): the
// basis for extrapolating a whole LUNA16 run.
func BenchmarkStreamCropsReal(b *testing.B) {
	for _, ct := range realCTs(b) {
		b.Run(ct.SeriesUID[len(ct.SeriesUID)-6:], func(b *testing.B) { streamBench(b, ct, format.KindCrop) })
	}
}

// BenchmarkStreamSlicesReal is the validation-slice stream of the real
// series (their positive slices).
func BenchmarkStreamSlicesReal(b *testing.B) {
	for _, ct := range realCTs(b) {
		b.Run(ct.SeriesUID[len(ct.SeriesUID)-6:], func(b *testing.B) { streamBench(b, ct, format.KindSlice) })
	}
}

func realCTs(b *testing.B) []*format.CT {
	b.Helper()
	dir := sharedtest.LunaDir(b)
	paths, _ := filepath.Glob(filepath.Join(dir, "subset*", "*.mhd"))
	if len(paths) == 0 {
		b.Skip("no real series")
	}
	var cts []*format.CT
	for _, p := range paths {
		cts = append(cts, realCT(b, dir, readMHD(b, p)))
	}
	return cts
}
