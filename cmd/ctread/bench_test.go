package main

import (
	"io"
	"path/filepath"
	"testing"

	"github.com/ctseg/ctseg/format"
	"github.com/ctseg/ctseg/geom"
	"github.com/ctseg/ctseg/internal/luna"
	"github.com/ctseg/ctseg/internal/metaimage"
	"github.com/ctseg/ctseg/internal/sharedtest"
)

// benchSeries writes two 512×512×80 series made of real CT slices (the
// shared .raw series, repeated) and lists them.
func benchSeries(b *testing.B) []luna.Series {
	b.Helper()
	src, err := metaimage.ReadFile(filepath.Join(sharedtest.LunaDir(b), "subset0",
		"1.3.6.1.4.1.14519.5.2.1.6279.6001.179049373636438705059720603192.mhd"))
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	img := &metaimage.Image{Size: [3]int{512, 512, 80}, Geometry: geom.Geometry{Spacing: [3]float64{1, 1, 1}, Direction: geom.Identity}}
	img.HU = append(append([]int16(nil), src.HU...), src.HU...)
	var list []luna.Series
	for _, uid := range []string{"1.1", "1.2"} {
		path := filepath.Join(dir, uid+".mhd")
		if err := metaimage.WriteFile(path, img, metaimage.WriteOptions{}); err != nil {
			b.Fatal(err)
		}
		list = append(list, luna.Series{UID: uid, Path: path})
	}
	b.SetBytes(int64(len(list) * 2 * len(img.HU)))
	return list
}

type discard struct{}

func (discard) Write(format.Record) error { return nil }

// BenchmarkReadOnly is the read side of ctread alone.
func BenchmarkReadOnly(b *testing.B) {
	list := benchSeries(b)
	for b.Loop() {
		if _, err := copyAll(list, discard{}, false, b.Logf, func() {}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStream is read plus the stream writer (zstd) to io.Discard.
func BenchmarkStream(b *testing.B) {
	list := benchSeries(b)
	for b.Loop() {
		w, err := format.NewWriter(io.Discard, format.Header{Kind: format.KindCT, Program: "bench"})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := copyAll(list, w, false, b.Logf, func() {}); err != nil {
			b.Fatal(err)
		}
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
	}
}
