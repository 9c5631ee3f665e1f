package spectest

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// The reference is checked on cases small enough to work out by hand.

func TestReadMHD(t *testing.T) {
	hu := []int16{-1000, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 3071} // DimSize 3 2 2
	var raw bytes.Buffer
	binary.Write(&raw, binary.LittleEndian, hu)
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	zw.Write(raw.Bytes())
	zw.Close()
	dir := t.TempDir()
	for _, c := range []struct {
		name, compressed string
		data             []byte
	}{{"a.raw", "False", raw.Bytes()}, {"b.zraw", "True", z.Bytes()}} {
		header := "ObjectType = Image\nNDims = 3\nBinaryDataByteOrderMSB = False\nCompressedData = " + c.compressed +
			"\nTransformMatrix = 1 0 0 0 1 0 0 0 1\nOffset = -1.5 2 -300.25\nElementSpacing = 0.5 0.75 2.5\n" +
			"DimSize = 3 2 2\nElementType = MET_SHORT\nElementDataFile = " + c.name + "\n"
		mhd := filepath.Join(dir, c.name[:1]+".mhd")
		if err := os.WriteFile(mhd, []byte(header), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, c.name), c.data, 0o644); err != nil {
			t.Fatal(err)
		}
		s := ReadMHD(t, mhd)
		if s.UID != c.name[:1] || s.Shape != [3]int{2, 2, 3} || s.Origin != [3]float64{-1.5, 2, -300.25} ||
			s.Spacing != [3]float64{0.5, 0.75, 2.5} || !slices.Equal(s.HU, hu) || s.At(1, 0, 2) != 8 {
			t.Errorf("%s: %+v", c.name, s)
		}
		// Voxel (1, 0, 2) is at x = -1.5 + 2·0.5, y = 2, z = -300.25 + 2.5;
		// a quarter voxel off on each axis still rounds to it.
		if irc := s.IRC([3]float64{-0.375, 2.1875, -298.375}); irc != [3]int{1, 0, 2} {
			t.Errorf("%s: IRC %v, want [1 0 2]", c.name, irc)
		}
	}
}

func TestMask(t *testing.T) {
	// 5×5×7 voxels of HU 0 but one air voxel at (2, 2, 1). Centre
	// (2, 2, 3): along index and row the volume's edge stops the search
	// at r = 3 → r = 2, the whole axis; along col the air at c − 2 stops
	// it at r = 2 → cols 1…5. Mask: that box less the air voxel.
	s := &Series{Shape: [3]int{5, 5, 7}, HU: make([]int16, 5*5*7)}
	s.HU[(2*5+2)*7+1] = -1000
	m := s.Mask([][3]int{{2, 2, 3}})
	n := 0
	for k, v := range m {
		col := k % 7
		want := col >= 1 && col <= 5 && k != (2*5+2)*7+1
		if (v == 1) != want {
			t.Errorf("voxel %d (col %d): mask %d", k, col, v)
		}
		n += int(v)
	}
	if n != 5*5*5-1 || !slices.Equal(s.Positive(m), []int{0, 1, 2, 3, 4}) {
		t.Errorf("%d voxels, positive %v; want 124, [0 1 2 3 4]", n, s.Positive(m))
	}
	// Centre at the index edge: r = 2 would leave the volume, so r = 1.
	m = s.Mask([][3]int{{0, 2, 3}})
	if !slices.Equal(s.Positive(m), []int{0, 1}) {
		t.Errorf("edge centre: positive %v, want [0 1]", s.Positive(m))
	}
}

func TestWindowStart(t *testing.T) {
	cases := []struct{ c, w, size, want int }{
		{4, 7, 40, 0},    // 0.5 → 0 (even)
		{5, 7, 40, 2},    // 1.5 → 2 (even)
		{20, 96, 512, 0}, // −28 → 0
		{300, 96, 512, 252},
		{500, 96, 512, 416}, // 452 + 96 > 512 → 512 − 96
		{39, 7, 40, 33},     // 35.5 → 36, shifted to 33
	}
	for _, c := range cases {
		if got := WindowStart(c.c, c.w, c.size); got != c.want {
			t.Errorf("WindowStart(%d, %d, %d) = %d, want %d", c.c, c.w, c.size, got, c.want)
		}
	}
}
