package lazyhu

import (
	"bytes"
	"slices"
	"testing"

	"github.com/ctseg/ctseg/format"
	"github.com/ctseg/ctseg/geom"
	"github.com/ctseg/ctseg/internal/bigbuf"
	"github.com/ctseg/ctseg/internal/mask"
)

// lazyCT writes ct to a stream and reads it back with its HU kept as
// frames.
func lazyCT(t *testing.T, ct *format.CT) *format.CT {
	t.Helper()
	if !bigbuf.LittleEndian {
		t.Skip("frames hold little-endian int16s; a big-endian host reads whole CTs")
	}
	var buf bytes.Buffer
	w, err := format.NewWriter(&buf, format.Header{Kind: format.KindCT, Program: "lazyhu test"})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(ct); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r := format.NewReader(&buf)
	defer r.Close()
	r.SetLazy(true)
	rec, err := r.Next()
	if err != nil {
		t.Fatal(err)
	}
	got := rec.(*format.CT)
	if got.HUFrames == nil {
		t.Fatal("the reader decompressed the HU")
	}
	return got
}

// TestVolume: 40 slices of 128×128 come in two frames (slices 0–31 and
// 32–39). A mask of a nodule in the first frame reads only its start:
// the mask equals the one made from the whole HU, and the second frame's
// voxels were never loaded. With Verify everything is loaded.
func TestVolume(t *testing.T) {
	ct := &format.CT{SeriesUID: "1.2", Shape: [3]int{40, 128, 128},
		Geometry: geom.Geometry{Spacing: [3]float64{1, 1, 1}, Direction: geom.Identity}, HU: make([]int16, 40*128*128)}
	for i := range ct.HU {
		ct.HU[i] = int16(-1000 + i%97)
	}
	for i := 3; i <= 6; i++ {
		for r := 10; r <= 15; r++ {
			for c := 100; c <= 110; c++ {
				ct.HU[(i*128+r)*128+c] = -200
			}
		}
	}
	centres := [][3]int{{4, 12, 105}}
	want, err := mask.Build(mask.Volume{HU: ct.HU, Shape: ct.Shape}, centres, mask.DefaultThreshold)
	if err != nil {
		t.Fatal(err)
	}
	lazy := lazyCT(t, ct)
	var l Loader
	vol, err := l.Volume(lazy)
	if err != nil {
		t.Fatal(err)
	}
	if vol.Load == nil {
		t.Fatal("a volume of frames without Load")
	}
	got, err := mask.Build(vol, centres, mask.DefaultThreshold)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.Mask, want.Mask) || !slices.Equal(got.PositiveIndexes, want.PositiveIndexes) {
		t.Errorf("mask differs from the one of the whole HU (positive %v, want %v)", got.PositiveIndexes, want.PositiveIndexes)
	}
	last := vol.HU[32*128*128:]
	if slices.ContainsFunc(last, func(v int16) bool { return v != 0 }) {
		t.Error("the second frame was loaded")
	}
	if err := vol.Load(39*128*128, 40*128*128); err != nil || !slices.Equal(vol.HU[39*128*128:], ct.HU[39*128*128:]) {
		t.Errorf("loading the last slice: %v, or wrong voxels", err)
	}
	if err := vol.Load(0, 41*128*128); err == nil {
		t.Error("loading past the data: no error")
	}
	l.Release()

	l.Verify = true
	vol, err = l.Volume(lazyCT(t, ct))
	if err != nil || vol.Load != nil || !slices.Equal(vol.HU, ct.HU) {
		t.Errorf("Verify: err %v, Load set %v, HU equal %v", err, vol.Load != nil, slices.Equal(vol.HU, ct.HU))
	}
	// A CT that came decompressed is its own volume.
	vol, err = l.Volume(ct)
	if err != nil || &vol.HU[0] != &ct.HU[0] || vol.Load != nil {
		t.Errorf("decompressed CT: err %v, own HU %v", err, &vol.HU[0] == &ct.HU[0])
	}
}
