package format_test

import (
	"bytes"
	"hash/crc32"
	"io"
	"runtime"
	"sync"
	"testing"

	"github.com/klauspost/compress/zstd"

	"github.com/ctseg/ctseg/format"
	"github.com/ctseg/ctseg/internal/phantom"
)

var (
	benchOnce sync.Once
	benchCT   *format.CT
)

// fullCT renders one LUNA16-sized phantom (512×512×250) once per run.
func fullCT(b *testing.B) *format.CT {
	benchOnce.Do(func() {
		opt := phantom.DefaultOptions()
		opt.Series, opt.Slices = 1, 250
		s, err := phantom.Plan(opt, 0)
		if err != nil {
			b.Fatal(err)
		}
		benchCT = &format.CT{SeriesUID: s.UID, Shape: [3]int{s.Size[2], s.Size[1], s.Size[0]}, Geometry: s.Geometry, HU: s.Render(0)}
	})
	return benchCT
}

func rawBytes(ct *format.CT) []byte {
	var buf bytes.Buffer
	buf.Grow(2 * len(ct.HU))
	for _, v := range ct.HU {
		buf.WriteByte(byte(v))
		buf.WriteByte(byte(uint16(v) >> 8))
	}
	return buf.Bytes()
}

type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

// BenchmarkCodec compares the stream format with plain zstd (same library,
// level and concurrency) on the same CT bytes. MB/s counts voxel data.
func BenchmarkCodec(b *testing.B) {
	ct := fullCT(b)
	raw := rawBytes(ct)
	var stream, plain bytes.Buffer
	encodeFormat(b, &stream, ct)
	encodePlain(b, &plain, raw)

	b.Run("encode/format", func(b *testing.B) {
		b.SetBytes(int64(len(raw)))
		var cw countWriter
		for i := 0; i < b.N; i++ {
			cw.n = 0
			encodeFormat(b, &cw, ct)
		}
		b.ReportMetric(float64(cw.n), "bytes-out")
	})
	b.Run("encode/zstd", func(b *testing.B) {
		b.SetBytes(int64(len(raw)))
		var cw countWriter
		for i := 0; i < b.N; i++ {
			cw.n = 0
			encodePlain(b, &cw, raw)
		}
		b.ReportMetric(float64(cw.n), "bytes-out")
	})
	b.Run("decode/format", func(b *testing.B) {
		b.SetBytes(int64(len(raw)))
		for i := 0; i < b.N; i++ {
			r := format.NewReader(bytes.NewReader(stream.Bytes()))
			for {
				if _, err := r.Next(); err == io.EOF {
					break
				} else if err != nil {
					b.Fatal(err)
				}
			}
			r.Close()
		}
	})
	b.Run("decode/zstd", func(b *testing.B) {
		b.SetBytes(int64(len(raw)))
		for i := 0; i < b.N; i++ {
			zr, err := zstd.NewReader(bytes.NewReader(plain.Bytes()), zstd.WithDecoderConcurrency(2))
			if err != nil {
				b.Fatal(err)
			}
			out := make([]byte, len(raw)) // the format reader allocates each CT too
			if _, err := io.ReadFull(zr, out); err != nil {
				b.Fatal(err)
			}
			zr.Close()
		}
	})
}

func encodeFormat(b *testing.B, w io.Writer, ct *format.CT) {
	fw, err := format.NewWriter(w, format.Header{Kind: format.KindCT, Program: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	if err := fw.Write(ct); err != nil {
		b.Fatal(err)
	}
	if err := fw.Close(); err != nil {
		b.Fatal(err)
	}
}

func encodePlain(b *testing.B, w io.Writer, raw []byte) {
	zw, err := zstd.NewWriter(w, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(runtime.GOMAXPROCS(0)))
	if err != nil {
		b.Fatal(err)
	}
	if _, err := zw.Write(raw); err != nil {
		b.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkLazyPass measures what a stage like mkmask pays to pass a CT on
// undecompressed (read lazily, written on with its frames), and beside it
// what checking the compressed frames against their hints' CRC-32C costs
// of that: one CRC-32C pass over the compressed stream.
func BenchmarkLazyPass(b *testing.B) {
	ct := fullCT(b)
	var stream bytes.Buffer
	encodeFormat(b, &stream, ct)
	b.Run("pass", func(b *testing.B) {
		b.SetBytes(int64(stream.Len()))
		for i := 0; i < b.N; i++ {
			r := format.NewReader(bytes.NewReader(stream.Bytes()))
			r.SetLazy(true)
			w, err := format.NewWriter(io.Discard, format.Header{Kind: format.KindCT})
			if err != nil {
				b.Fatal(err)
			}
			for {
				rec, err := r.Next()
				if err == io.EOF {
					break
				} else if err != nil {
					b.Fatal(err)
				}
				if rec.(*format.CT).HUFrames == nil {
					b.Fatal("HU not kept compressed")
				}
				if err := w.Write(rec); err != nil {
					b.Fatal(err)
				}
			}
			if err := w.Close(); err != nil {
				b.Fatal(err)
			}
			r.Close()
		}
	})
	b.Run("crc-compressed", func(b *testing.B) {
		b.SetBytes(int64(stream.Len()))
		tab := crc32.MakeTable(crc32.Castagnoli)
		for i := 0; i < b.N; i++ {
			crc32.Checksum(stream.Bytes(), tab)
		}
	})
}
