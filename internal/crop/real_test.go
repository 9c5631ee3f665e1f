package crop

import (
	"bufio"
	"bytes"
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
	"github.com/ctseg/ctseg/internal/geom"
	"github.com/ctseg/ctseg/internal/mask"
	"github.com/ctseg/ctseg/internal/sharedtest"
)

// This file checks the crops and validation slices of the real LUNA16
// series against a re-implementation written from SPEC.md alone: its own
// MetaImage reading, its own nodule mask, and sums computed voxel by voxel
// (crops) or from per-slice sums (validation), not by the package's code.

// realSeries is one real CT as the test reads it, independently of ctread.
type realSeries struct {
	uid     string
	dim     [3]int // x, y, z as in DimSize
	origin  [3]float64
	spacing [3]float64
	hu      []int16 // [z][y][x]
}

func (s *realSeries) at(i, r, c int) int16 { return s.hu[(i*s.dim[1]+r)*s.dim[0]+c] }

// readMHD reads a LUNA16 .mhd with identity TransformMatrix and MET_SHORT
// little-endian data, raw or zlib-compressed.
func readMHD(t testing.TB, path string) *realSeries {
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
	if kv["TransformMatrix"] != "1 0 0 0 1 0 0 0 1" || kv["ElementType"] != "MET_SHORT" || kv["BinaryDataByteOrderMSB"] != "False" {
		t.Fatalf("%s: header not handled by this test: %v", path, kv)
	}
	s := &realSeries{uid: strings.TrimSuffix(filepath.Base(path), ".mhd")}
	floats := func(key string) [3]float64 {
		var out [3]float64
		for i, f := range strings.Fields(kv[key]) {
			out[i], err = strconv.ParseFloat(f, 64)
			if err != nil {
				t.Fatalf("%s: %s: %v", path, key, err)
			}
		}
		return out
	}
	s.origin, s.spacing = floats("Offset"), floats("ElementSpacing")
	d := floats("DimSize")
	s.dim = [3]int{int(d[0]), int(d[1]), int(d[2])}
	var r io.Reader
	data, err := os.ReadFile(filepath.Join(filepath.Dir(path), kv["ElementDataFile"]))
	if err != nil {
		t.Fatal(err)
	}
	r = bytes.NewReader(data)
	if kv["CompressedData"] == "True" {
		if r, err = zlib.NewReader(r); err != nil {
			t.Fatal(err)
		}
	}
	s.hu = make([]int16, s.dim[0]*s.dim[1]*s.dim[2])
	if err := binary.Read(bufio.NewReader(r), binary.LittleEndian, s.hu); err != nil {
		t.Fatalf("%s: voxels: %v", path, err)
	}
	return s
}

// toIRC maps world xyz to [index,row,col] for an identity direction.
func (s *realSeries) toIRC(xyz [3]float64) [3]int {
	var irc [3]int
	for a := range 3 {
		irc[2-a] = int(math.RoundToEven((xyz[a] - s.origin[a]) / s.spacing[a]))
	}
	return irc
}

// readCenters returns the xyz centres of a CSV's rows for the series whose
// column keep (if any) equals keepValue.
func readCenters(t testing.TB, path, uid, keep, keepValue string) [][3]float64 {
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
		if row[col["seriesuid"]] != uid || (keep != "" && row[col[keep]] != keepValue) {
			continue
		}
		var xyz [3]float64
		for a, name := range []string{"coordX", "coordY", "coordZ"} {
			if xyz[a], err = strconv.ParseFloat(row[col[name]], 64); err != nil {
				t.Fatal(err)
			}
		}
		out = append(out, xyz)
	}
	return out
}

// specMask computes SPEC.md's nodule mask: three radius searches per
// nodule (r from 2, both sides > −700, stop with r−1 at the volume's
// edge), union of the boxes, and box ∧ HU > −700.
func specMask(s *realSeries, centres [][3]int) []uint8 {
	size := [3]int{s.dim[2], s.dim[1], s.dim[0]}
	box := make([]bool, len(s.hu))
	for _, c := range centres {
		var lo, hi [3]int
		for a := range 3 {
			hu := func(k int) int16 {
				p := c
				p[a] = k
				return s.at(p[0], p[1], p[2])
			}
			r := 2
			for {
				if c[a]+r >= size[a] || c[a]-r < 0 {
					r--
					break
				}
				if hu(c[a]+r) <= -700 || hu(c[a]-r) <= -700 {
					break
				}
				r++
			}
			lo[a], hi[a] = max(c[a]-r, 0), min(c[a]+r, size[a]-1)
		}
		for i := lo[0]; i <= hi[0]; i++ {
			for r := lo[1]; r <= hi[1]; r++ {
				for col := lo[2]; col <= hi[2]; col++ {
					box[(i*size[1]+r)*size[2]+col] = true
				}
			}
		}
	}
	mask := make([]uint8, len(box))
	for i, b := range box {
		if b && s.hu[i] > -700 {
			mask[i] = 1
		}
	}
	return mask
}

// specStart is SPEC.md's window start in integer arithmetic: 2c − w is the
// doubled real start; an odd value is a tie, which goes to the even side.
func specStart(c, w, size int) int {
	twice := 2*c - w
	start := twice >> 1 // floor
	if twice&1 == 1 && start&1 == 1 {
		start++
	}
	if start < 0 {
		start = 0
	}
	if start+w > size {
		start = size - w
	}
	return start
}

func clip64(v int16) int64 { return int64(min(max(v, -1000), 1000)) }

func sumHU(v []int16) (n int64) {
	for _, x := range v {
		n += int64(x)
	}
	return n
}

func sumLabel(v []uint8) (n int64) {
	for _, x := range v {
		n += int64(x)
	}
	return n
}

func TestRealSeries(t *testing.T) {
	dir := sharedtest.LunaDir(t)
	paths, err := filepath.Glob(filepath.Join(dir, "subset*", "*.mhd"))
	if err != nil || len(paths) == 0 {
		t.Skipf("no series under %s", dir)
	}
	for _, path := range paths {
		s := readMHD(t, path)
		t.Run(s.uid[len(s.uid)-6:], func(t *testing.T) { checkRealSeries(t, dir, s) })
	}
}

// realCT builds the masked CT record of a real series: nodules from the
// book's annotation file, class-0 candidates, and specMask.
func realCT(t testing.TB, dir string, s *realSeries) *format.CT {
	t.Helper()
	ct := &format.CT{
		SeriesUID: s.uid,
		Shape:     [3]int{s.dim[2], s.dim[1], s.dim[0]},
		Geometry:  geom.Geometry{Origin: s.origin, Spacing: s.spacing, Direction: geom.Identity},
		HU:        s.hu,
	}
	var centres [][3]int
	for _, xyz := range readCenters(t, filepath.Join(dir, "annotations_with_malignancy.csv"), s.uid, "", "") {
		irc := s.toIRC(xyz)
		centres = append(centres, irc)
		ct.Nodules = append(ct.Nodules, format.Candidate{CenterXYZ: xyz, CenterIRC: irc, IsNodule: true})
	}
	for _, xyz := range readCenters(t, filepath.Join(dir, "candidates.csv"), s.uid, "class", "0") {
		ct.Candidates = append(ct.Candidates, format.Candidate{CenterXYZ: xyz, CenterIRC: s.toIRC(xyz)})
	}
	if len(ct.Nodules) == 0 || len(ct.Candidates) == 0 {
		t.Fatalf("series %s: %d nodules, %d candidates in the CSVs", s.uid, len(ct.Nodules), len(ct.Candidates))
	}
	ct.Mask = specMask(s, centres)
	// The mask must also be the one mkmask's package computes, so that the
	// crops checked here are those of the real pipeline.
	res, err := mask.Build(mask.Volume{HU: s.hu, Shape: ct.Shape}, centres, mask.DefaultThreshold)
	if err != nil {
		t.Fatalf("series %s: mask.Build: %v", s.uid, err)
	}
	if !bytes.Equal(res.Mask, ct.Mask) {
		t.Fatalf("series %s: internal/mask differs from this test's SPEC mask (%d vs %d voxels)", s.uid, res.Voxels, sumLabel(ct.Mask))
	}
	plane := ct.Shape[1] * ct.Shape[2]
	for i := range ct.Shape[0] {
		if sumLabel(ct.Mask[i*plane:(i+1)*plane]) > 0 {
			ct.PositiveIndexes = append(ct.PositiveIndexes, i)
		}
	}
	return ct
}

func checkRealSeries(t *testing.T, dir string, s *realSeries) {
	ct := realCT(t, dir, s)
	t.Logf("%d nodules, %d candidates, mask voxels %d, positive slices %v",
		len(ct.Nodules), len(ct.Candidates), sumLabel(ct.Mask), ct.PositiveIndexes)
	checkRealCrops(t, s, ct)
	checkRealSlices(t, s, ct)
}

func checkRealCrops(t *testing.T, s *realSeries, ct *format.CT) {
	n, nodules := 0, 0
	err := Crops(ct, TrainOptions{Candidates: true}, func(c *format.Crop) error {
		var want [3]int
		for a := range 3 {
			want[a] = specStart(c.Candidate.CenterIRC[a], DefaultWidth[a], ct.Shape[a])
		}
		var hu, label int64
		for i := want[0]; i < want[0]+7; i++ {
			for r := want[1]; r < want[1]+96; r++ {
				for col := want[2]; col < want[2]+96; col++ {
					hu += clip64(s.at(i, r, col))
					if i == want[0]+3 {
						label += int64(ct.Mask[(i*512+r)*512+col])
					}
				}
			}
		}
		if c.StartIRC != want || sumHU(c.HU) != hu || sumLabel(c.Label) != label {
			t.Errorf("crop at irc %v: start %v hu_sum %d label_sum %d; want %v %d %d",
				c.Candidate.CenterIRC, c.StartIRC, sumHU(c.HU), sumLabel(c.Label), want, hu, label)
		}
		if c.Candidate.IsNodule {
			nodules++
			if label == 0 {
				t.Errorf("nodule crop at %v has an empty label", c.Candidate.CenterIRC)
			}
		}
		n++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n != len(ct.Nodules)+len(ct.Candidates) || nodules != len(ct.Nodules) {
		t.Errorf("%d crops (%d nodules), want %d + %d", n, nodules, len(ct.Nodules), len(ct.Candidates))
	}
}

func checkRealSlices(t *testing.T, s *realSeries, ct *format.CT) {
	depth := ct.Shape[0]
	perSlice := make([]int64, depth)
	perLabel := make([]int64, depth)
	for i := range depth {
		for r := range 512 {
			for col := range 512 {
				perSlice[i] += clip64(s.at(i, r, col))
				perLabel[i] += int64(ct.Mask[(i*512+r)*512+col])
			}
		}
	}
	for _, full := range []bool{false, true} {
		var got []int
		err := Slices(ct, ValOptions{Context: 3, FullCT: full}, func(sl *format.Slice) error {
			var hu int64
			for k := -3; k <= 3; k++ {
				hu += perSlice[min(max(sl.SliceIndex+k, 0), depth-1)]
			}
			if sl.Shape != [3]int{7, 512, 512} || sumHU(sl.HU) != hu || sumLabel(sl.Label) != perLabel[sl.SliceIndex] {
				t.Errorf("slice %d: shape %v hu_sum %d label_sum %d; want %d %d",
					sl.SliceIndex, sl.Shape, sumHU(sl.HU), sumLabel(sl.Label), hu, perLabel[sl.SliceIndex])
			}
			got = append(got, sl.SliceIndex)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		var want []int
		for i := range depth {
			if full || perLabel[i] > 0 {
				want = append(want, i)
			}
		}
		if len(want) == 0 || len(got) != len(want) {
			t.Errorf("full=%v: slices %v, want %v", full, got, want)
		}
	}
}
