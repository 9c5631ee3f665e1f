// Package spectest is a deliberately plain, independent re-implementation
// of SPEC.md for tests; never import it from production code.
//
// The tests that check the pipeline on the real LUNA16 series compare it
// with this package, so it must not share code with what they test: it
// reads MetaImage files with the standard library only, and computes
// xyz→irc, the nodule mask and the crop window the simplest way SPEC.md
// allows, with no concern for speed. It imports format and geom for their
// plain record types only.
package spectest

import (
	"bufio"
	"compress/zlib"
	"encoding/binary"
	"encoding/csv"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/ctseg/ctseg/format"
	"github.com/ctseg/ctseg/geom"
)

// Threshold is SPEC.md's HU threshold of the nodule mask.
const Threshold = -700

// Series is one CT read straight from its MetaImage files.
type Series struct {
	UID     string
	Shape   [3]int     // index, row, col: DimSize reversed
	Origin  [3]float64 // x, y, z
	Spacing [3]float64 // x, y, z
	HU      []int16    // [index][row][col]
}

// At is the HU of voxel (i, r, c).
func (s *Series) At(i, r, c int) int16 { return s.HU[(i*s.Shape[1]+r)*s.Shape[2]+c] }

// MHDs lists the .mhd files of a LUNA16 directory's subsets, or skips the
// test when there are none.
func MHDs(t testing.TB, dir string) []string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(dir, "subset*", "*.mhd"))
	if err != nil || len(paths) == 0 {
		t.Skipf("no .mhd under %s/subset*", dir)
	}
	return paths
}

// ReadMHD reads a LUNA16 .mhd with identity TransformMatrix and MET_SHORT
// little-endian data, raw or zlib-compressed (SPEC.md, "Data on disk").
func ReadMHD(t testing.TB, path string) *Series {
	t.Helper()
	kv := readHeader(t, path)
	if kv["NDims"] != "3" || kv["TransformMatrix"] != "1 0 0 0 1 0 0 0 1" ||
		kv["ElementType"] != "MET_SHORT" || kv["BinaryDataByteOrderMSB"] != "False" {
		t.Fatalf("%s: header not handled by this test: %v", path, kv)
	}
	floats := func(key string) [3]float64 {
		var out [3]float64
		f := strings.Fields(kv[key])
		if len(f) != 3 {
			t.Fatalf("%s: %s = %q: want 3 numbers", path, key, kv[key])
		}
		for i := range f {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				t.Fatalf("%s: %s: %v", path, key, err)
			}
			out[i] = v
		}
		return out
	}
	d := floats("DimSize")
	s := &Series{
		UID:     strings.TrimSuffix(filepath.Base(path), ".mhd"),
		Shape:   [3]int{int(d[2]), int(d[1]), int(d[0])},
		Origin:  floats("Offset"),
		Spacing: floats("ElementSpacing"),
	}
	s.HU = readVoxels(t, filepath.Join(filepath.Dir(path), kv["ElementDataFile"]),
		kv["CompressedData"] == "True", s.Shape[0]*s.Shape[1]*s.Shape[2])
	return s
}

// readHeader returns the Key = Value pairs of a MetaImage header.
func readHeader(t testing.TB, path string) map[string]string {
	t.Helper()
	text, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	kv := map[string]string{}
	for _, line := range strings.Split(string(text), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			kv[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	return kv
}

// readVoxels reads exactly n little-endian int16 from a data file; reading
// a zlib stream to its end also checks its checksum.
func readVoxels(t testing.TB, path string, compressed bool, n int) []int16 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var r io.Reader = bufio.NewReader(f)
	if compressed {
		if r, err = zlib.NewReader(r); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
	}
	hu := make([]int16, n)
	if err := binary.Read(r, binary.LittleEndian, hu); err != nil {
		t.Fatalf("%s: voxels: %v", path, err)
	}
	if extra, err := io.Copy(io.Discard, r); err != nil || extra != 0 {
		t.Fatalf("%s: %d bytes after the voxels (%v)", path, extra, err)
	}
	return hu
}

// CT is the series as a CT record, without mask or nodules, as ctread
// writes it.
func (s *Series) CT() *format.CT {
	return &format.CT{
		SeriesUID: s.UID,
		Shape:     s.Shape,
		Geometry:  geom.Geometry{Origin: s.Origin, Spacing: s.Spacing, Direction: geom.Identity},
		HU:        s.HU,
	}
}

// IRC maps world xyz to (index, row, col) for an identity direction:
// round_half_even((xyz − origin) / spacing), reordered.
func (s *Series) IRC(xyz [3]float64) [3]int {
	var irc [3]int
	for a := range 3 {
		irc[2-a] = int(math.RoundToEven((xyz[a] - s.Origin[a]) / s.Spacing[a]))
	}
	return irc
}

// NoduleCentres returns the xyz centres of the series' nodules in the
// book's nodule list, annotations_with_malignancy.csv of dir.
func NoduleCentres(t testing.TB, dir, uid string) [][3]float64 {
	t.Helper()
	return readCentres(t, filepath.Join(dir, "annotations_with_malignancy.csv"), uid, "")
}

// NonNoduleCentres returns the xyz centres of the series' class-0 rows of
// candidates.csv in dir, the candidates the book keeps.
func NonNoduleCentres(t testing.TB, dir, uid string) [][3]float64 {
	t.Helper()
	return readCentres(t, filepath.Join(dir, "candidates.csv"), uid, "0")
}

// readCentres returns the xyz centres of a CSV's rows of the series, only
// those of the given class unless class is ""; columns are found by their
// header names.
func readCentres(t testing.TB, path, uid, class string) [][3]float64 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	col := map[string]int{}
	for i, name := range rows[0] {
		col[name] = i
	}
	var out [][3]float64
	for _, row := range rows[1:] {
		if row[col["seriesuid"]] != uid || (class != "" && row[col["class"]] != class) {
			continue
		}
		var xyz [3]float64
		for a, name := range []string{"coordX", "coordY", "coordZ"} {
			if xyz[a], err = strconv.ParseFloat(row[col[name]], 64); err != nil {
				t.Fatalf("%s: %v", path, err)
			}
		}
		out = append(out, xyz)
	}
	return out
}

// Mask computes SPEC.md's nodule mask: three radius searches per nodule
// (r from 2, both sides > −700, stop with r−1 at the volume's edge), union
// of the boxes, and box ∧ HU > −700.
func (s *Series) Mask(centres [][3]int) []uint8 {
	box := make([]bool, len(s.HU))
	for _, c := range centres {
		var lo, hi [3]int
		for a := range 3 {
			r := s.radius(c, a)
			lo[a], hi[a] = max(c[a]-r, 0), min(c[a]+r, s.Shape[a]-1)
		}
		for i := lo[0]; i <= hi[0]; i++ {
			for r := lo[1]; r <= hi[1]; r++ {
				for col := lo[2]; col <= hi[2]; col++ {
					box[(i*s.Shape[1]+r)*s.Shape[2]+col] = true
				}
			}
		}
	}
	mask := make([]uint8, len(box))
	for i, b := range box {
		if b && s.HU[i] > Threshold {
			mask[i] = 1
		}
	}
	return mask
}

// radius is the search along axis a through centre c.
func (s *Series) radius(c [3]int, a int) int {
	hu := func(k int) int16 {
		p := c
		p[a] = k
		return s.At(p[0], p[1], p[2])
	}
	r := 2
	for {
		if c[a]+r >= s.Shape[a] || c[a]-r < 0 {
			return r - 1
		}
		if hu(c[a]+r) <= Threshold || hu(c[a]-r) <= Threshold {
			return r
		}
		r++
	}
}

// Positive lists, ascending, the slices holding at least one voxel of a
// mask of the series: SPEC.md's positive_indexes.
func (s *Series) Positive(mask []uint8) []int {
	plane := s.Shape[1] * s.Shape[2]
	var out []int
	for i := range s.Shape[0] {
		for _, v := range mask[i*plane : (i+1)*plane] {
			if v != 0 {
				out = append(out, i)
				break
			}
		}
	}
	return out
}

// WindowStart is SPEC.md's crop window start along one axis:
// round_half_even(center − width/2), shifted into [0, size − width].
func WindowStart(center, width, size int) int {
	start := int(math.RoundToEven(float64(center) - float64(width)/2))
	if start < 0 {
		start = 0
	}
	if start+width > size {
		start = size - width
	}
	return start
}
