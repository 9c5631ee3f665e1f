package main

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ctseg/ctseg/format"
	"github.com/ctseg/ctseg/internal/ctmask/ctmasktest"
	"github.com/ctseg/ctseg/internal/spectest"
	"github.com/ctseg/ctseg/internal/streamtest"
)

func TestAppStream(t *testing.T) {
	t.Setenv("LUNA16_DIR", "")
	dir := ctmasktest.DataDir(t)
	plain := ctmasktest.PhantomCT("4.5.6") // not in the nodule list: passes with an empty mask
	plain.Mask = make([]uint8, len(plain.HU))
	plain.Mask[0] = 1 // a stale mask is replaced
	in := streamtest.Write(t, format.KindCT, ctmasktest.PhantomCT("1.2.3"), plain)
	recs, err := streamtest.Run(t, newApp(), format.KindCT, "--data", dir, "--threshold", "-700", in)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 {
		t.Fatalf("%d records", len(recs))
	}
	a, b := recs[0].(*format.CT), recs[1].(*format.CT)
	if a.SeriesUID != "1.2.3" || !slices.Equal(a.PositiveIndexes, []int{3, 4, 5}) || len(a.Nodules) != 1 {
		t.Errorf("first record: %s positive %v nodules %d", a.SeriesUID, a.PositiveIndexes, len(a.Nodules))
	}
	if len(b.Mask) != len(b.HU) || slices.Contains(b.Mask, 1) || len(b.PositiveIndexes) != 0 ||
		len(b.Nodules) != 0 || len(b.Candidates) != 0 || !slices.Equal(b.HU, plain.HU) {
		t.Errorf("series without nodules: mask of %d (any set: %v), positive %v", len(b.Mask), slices.Contains(b.Mask, 1), b.PositiveIndexes)
	}
	// --threshold 100 leaves the HU-50 nodule out: r = 2 boxes, empty mask.
	recs, err = streamtest.Run(t, newApp(), format.KindCT, "--annotations", filepath.Join(dir, "annotations_with_malignancy.csv"),
		"--threshold", "100", in)
	if err != nil {
		t.Fatal(err)
	}
	if a := recs[0].(*format.CT); slices.Contains(a.Mask, 1) || len(a.Candidates) != 0 {
		t.Errorf("threshold 100: mask set, or %d candidates without a candidate file", len(a.Candidates))
	}
}

func TestAppErrors(t *testing.T) {
	t.Setenv("LUNA16_DIR", "")
	dir := ctmasktest.DataDir(t)
	tmp := t.TempDir()
	good := streamtest.Write(t, format.KindCT, ctmasktest.PhantomCT("1.2.3"))
	crops := streamtest.Write(t, format.KindCrop, &format.Crop{SeriesUID: "x", Shape: [3]int{1, 1, 1}, HU: []int16{0}, Label: []uint8{0}})
	badCSV := filepath.Join(tmp, "bad.csv")
	if err := os.WriteFile(badCSV, []byte("seriesuid,coordX,coordY,diameter_mm\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	badRow := filepath.Join(tmp, "badrow.csv")
	if err := os.WriteFile(badRow, []byte("seriesuid,coordX,coordY,coordZ,class\na,1,2,3,0\na,1,2,x,0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		args []string
		want string
	}{
		{[]string{good}, "no nodule list"},
		{[]string{"--data", tmp, good}, "no nodule list in"},
		{[]string{"--annotations", badCSV, good}, `bad.csv: header lacks needed column "coordZ"`},
		{[]string{"--data", dir, "--candidates", badRow, good}, `badrow.csv:3: column coordZ: "x" is not a number`},
		{[]string{"--data", dir, "--candidates", filepath.Join(tmp, "none.csv"), good}, "none.csv"},
		{[]string{"--data", dir, crops}, "crop records"},
		{[]string{"--data", dir, "--threshold", "NaN", good}, "--threshold NaN"},
		{[]string{"--data", dir, "--annotations", "", good}, "--annotations: empty file name"},
		{[]string{"--data", dir, "--candidates", "", good}, "--candidates: empty file name"},
		{[]string{"--data", filepath.Join(tmp, "nope"), good}, "--data: data directory: stat "},
	}
	for _, c := range cases {
		// Run also checks that a failed run leaves no output file.
		_, err := streamtest.Run(t, newApp(), format.KindCT, c.args...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: err = %v, want it to contain %q", c.args, err, c.want)
		}
	}
}

// TestLazyHU runs mkmask on a CT large enough that its HU comes in two
// frames (1 MiB and 0.3 MiB) which mkmask keeps compressed: a nodule
// across the frames' edge (slices 29–35 of 40, the edge is at 32), one at
// the volume's last slice, one in the first frame only. The mask must be
// SPEC's, computed by the independent implementation from the whole HU;
// the HU must go out as it came; the PNGs must show the slices.
func TestLazyHU(t *testing.T) {
	t.Setenv("LUNA16_DIR", "")
	const uid = "7.7.7"
	ct := &format.CT{SeriesUID: uid, Shape: [3]int{40, 128, 128}, Geometry: ctmasktest.Geom, HU: make([]int16, 40*128*128)}
	for i := range ct.HU {
		ct.HU[i] = int16(-1000 + (i*7919)%97) // air, with noise
	}
	cuboid := func(lo, hi [3]int, hu int16) {
		for i := lo[0]; i <= hi[0]; i++ {
			for r := lo[1]; r <= hi[1]; r++ {
				for c := lo[2]; c <= hi[2]; c++ {
					ct.HU[(i*128+r)*128+c] = hu + int16((i+r+c)%5)
				}
			}
		}
	}
	cuboid([3]int{29, 40, 50}, [3]int{35, 52, 60}, 40)
	cuboid([3]int{37, 90, 90}, [3]int{39, 99, 97}, 120)
	cuboid([3]int{3, 10, 100}, [3]int{6, 15, 110}, -200)
	cuboid([3]int{20, 0, 0}, [3]int{20, 127, 127}, 500) // dense slice no box reaches
	centres := [][3]int{{32, 46, 55}, {38, 94, 93}, {4, 12, 105}}
	var rows strings.Builder
	rows.WriteString("seriesuid,coordX,coordY,coordZ,diameter_mm\n")
	for _, c := range centres {
		fmt.Fprintf(&rows, "%s,%s,5\n", uid, ctmasktest.XYZOf(float64(c[0]), float64(c[1]), float64(c[2])))
	}
	ann := filepath.Join(t.TempDir(), "annotations.csv")
	if err := os.WriteFile(ann, []byte(rows.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	in := streamtest.Write(t, format.KindCT, ct)
	pngDir := t.TempDir()
	recs, err := streamtest.Run(t, newApp(), format.KindCT, "--annotations", ann, "--png", pngDir, in)
	if err != nil {
		t.Fatal(err)
	}
	verified, err := streamtest.Run(t, newApp(), format.KindCT, "--annotations", ann, "--verify", in)
	if err != nil {
		t.Fatal(err)
	}
	got := recs[0].(*format.CT)
	if v := verified[0].(*format.CT); !slices.Equal(v.Mask, got.Mask) || !slices.Equal(v.HU, ct.HU) {
		t.Error("--verify gives another mask or HU")
	}
	series := &spectest.Series{Shape: ct.Shape, HU: ct.HU}
	want := series.Mask(centres)
	if !slices.Equal(got.HU, ct.HU) || !slices.Equal(got.Mask, want) || !slices.Equal(got.PositiveIndexes, series.Positive(want)) {
		t.Fatalf("HU unchanged %v, mask as SPEC's %v, positive %v want %v",
			slices.Equal(got.HU, ct.HU), slices.Equal(got.Mask, want), got.PositiveIndexes, series.Positive(want))
	}
	names, _ := filepath.Glob(filepath.Join(pngDir, uid, "*.png"))
	if len(names) != len(got.PositiveIndexes) {
		t.Errorf("%d PNGs for %d positive slices", len(names), len(got.PositiveIndexes))
	}
	// The frames of the HU went out as they came in.
	outPath := filepath.Join(t.TempDir(), "out.stream")
	if err := newApp().Run([]string{"mkmask", "-q", "--annotations", ann, "-o", outPath, in}); err != nil {
		t.Fatal(err)
	}
	inBytes, _ := os.ReadFile(in)
	outBytes, _ := os.ReadFile(outPath)
	if n := commonTensorFrames(inBytes, outBytes); n != 2 {
		t.Errorf("%d HU frames of the input in the output, want 2", n)
	}
}

// commonTensorFrames counts the tensor frames of a (hinted, flags not 0;
// see the format package doc: 32-byte hints) that appear in b byte for
// byte.
func commonTensorFrames(a, b []byte) int {
	n := 0
	for off := 0; off+32 <= len(a) && binary.LittleEndian.Uint32(a[off:]) == 0x184D2A5C; {
		size := 32 + int(binary.LittleEndian.Uint32(a[off+12:]))
		if binary.LittleEndian.Uint32(a[off+20:]) != 0 && bytes.Contains(b, a[off:off+size]) {
			n++
		}
		off += size
	}
	return n
}

// TestDamagedFrame: a HU frame damaged in transit that no mask reads is
// still caught by mkmask, which checks the compressed bytes of the frames
// it passes on; it fails naming the frame and leaves no output.
func TestDamagedFrame(t *testing.T) {
	t.Setenv("LUNA16_DIR", "")
	const uid = "8.8.8"
	ct := &format.CT{SeriesUID: uid, Shape: [3]int{40, 128, 128}, Geometry: ctmasktest.Geom, HU: make([]int16, 40*128*128)}
	for i := range ct.HU {
		ct.HU[i] = int16(-1000 + (i*7919)%97)
	}
	for i := 3; i <= 6; i++ { // a nodule in the first frame only
		for r := 10; r <= 15; r++ {
			for c := 100; c <= 110; c++ {
				ct.HU[(i*128+r)*128+c] = -200
			}
		}
	}
	ann := filepath.Join(t.TempDir(), "annotations.csv")
	if err := os.WriteFile(ann, []byte("seriesuid,coordX,coordY,coordZ,diameter_mm\n"+uid+","+ctmasktest.XYZOf(4, 12, 105)+",5\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	in := streamtest.Write(t, format.KindCT, ct)
	data, _ := os.ReadFile(in)
	// Damage the middle of the last HU frame (slices 32–39). Hints are
	// 32 bytes: magic, length, "ctsC", csize, dsize, flags, two checksums.
	last := -1
	for off := 0; off+32 <= len(data) && binary.LittleEndian.Uint32(data[off:]) == 0x184D2A5C; {
		if binary.LittleEndian.Uint32(data[off+20:])&2 != 0 {
			last = off
		}
		off += 32 + int(binary.LittleEndian.Uint32(data[off+12:]))
	}
	if last < 0 {
		t.Fatal("no HU frame flagged last")
	}
	data[last+32+int(binary.LittleEndian.Uint32(data[last+12:]))/2] ^= 0x5A
	bad := filepath.Join(t.TempDir(), "bad.stream")
	if err := os.WriteFile(bad, data, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{nil, {"--verify"}} {
		_, err := streamtest.Run(t, newApp(), format.KindCT, append([]string{"--annotations", ann, bad}, args...)...)
		t.Logf("%v: %v", args, err)
		if !errors.Is(err, format.ErrChecksum) || !strings.Contains(err.Error(), fmt.Sprintf("record 1 (ct): hu: data: the zstd frame at byte %d", last)) {
			t.Errorf("mkmask %v: %v, want a checksum error naming record 1's frame at byte %d", args, err, last)
		}
	}
}
