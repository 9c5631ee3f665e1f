package metaimage

import (
	"compress/zlib"
	"encoding/binary"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/ctseg/ctseg/geom"
	"github.com/ctseg/ctseg/internal/sharedtest"
)

// lunaSeries are the two real series in ../shared/data/luna, with the
// values shared/data/README.md states for them.
var lunaSeries = []struct {
	uid      string
	data     string // data file extension
	spacing  [3]float64
	origin   [3]float64
	min, max int16
}{
	{"1.3.6.1.4.1.14519.5.2.1.6279.6001.179049373636438705059720603192", ".raw",
		[3]float64{0.703125, 0.703125, 2.5}, [3]float64{-166.0, -171.699997, -165.0}, -2048, 3071},
	{"1.3.6.1.4.1.14519.5.2.1.6279.6001.170706757615202213033480003264", ".zraw",
		[3]float64{0.820312, 0.820312, 2.5}, [3]float64{-228.800003, -210.0, -229.0}, -2048, 4458},
}

// independentVoxels decodes the data file with the standard library alone.
func independentVoxels(t *testing.T, path string) []int16 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var r io.Reader = f
	if filepath.Ext(path) == ".zraw" {
		zr, err := zlib.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		r = zr
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	v := make([]int16, len(b)/2)
	for i := range v {
		v[i] = int16(binary.LittleEndian.Uint16(b[2*i:]))
	}
	return v
}

func TestReadRealLUNA16Series(t *testing.T) {
	dir := filepath.Join(sharedtest.LunaDir(t), "subset0")
	for _, s := range lunaSeries {
		t.Run(s.data, func(t *testing.T) {
			img, err := ReadFile(filepath.Join(dir, s.uid+".mhd"))
			if err != nil {
				t.Fatal(err)
			}
			want := geom.Geometry{Origin: s.origin, Spacing: s.spacing, Direction: geom.Identity}
			if img.Size != [3]int{512, 512, 40} || img.Geometry != want || len(img.Warnings) != 0 {
				t.Fatalf("size %v geometry %+v warnings %v", img.Size, img.Geometry, img.Warnings)
			}
			ref := independentVoxels(t, filepath.Join(dir, s.uid+s.data))
			if len(ref) != len(img.HU) {
				t.Fatalf("%d voxels, independent decode has %d", len(img.HU), len(ref))
			}
			var sum, refSum int64
			lo, hi := img.HU[0], img.HU[0]
			for i, v := range img.HU {
				sum += int64(v)
				refSum += int64(ref[i])
				lo, hi = min(lo, v), max(hi, v)
			}
			if sum != refSum || lo != s.min || hi != s.max {
				t.Errorf("sum %d (independent %d), min %d max %d (README: %d %d)", sum, refSum, lo, hi, s.min, s.max)
			}
			for i := range ref {
				if img.HU[i] != ref[i] {
					t.Fatalf("voxel %d = %d, independent decode %d", i, img.HU[i], ref[i])
				}
			}
		})
	}
}
