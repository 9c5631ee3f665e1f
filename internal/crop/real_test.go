package crop

import (
	"bytes"
	"testing"

	"github.com/ctseg/ctseg/format"
	"github.com/ctseg/ctseg/internal/mask"
	"github.com/ctseg/ctseg/internal/sharedtest"
	"github.com/ctseg/ctseg/internal/spectest"
)

// This file checks the crops and validation slices of the real LUNA16
// series against internal/spectest, a re-implementation written from
// SPEC.md alone (its own MetaImage reading, nodule mask and window rule),
// and sums computed voxel by voxel (crops) or from per-slice sums
// (validation), not by the package's code.

// readMHD is the reference reader under the name bench_test.go uses.
var readMHD = spectest.ReadMHD

// clip64 is SPEC.md's HU clip to [−1000, 1000], widened for sums.
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
	for _, path := range spectest.MHDs(t, dir) {
		s := readMHD(t, path)
		t.Run(s.UID[len(s.UID)-6:], func(t *testing.T) { checkRealSeries(t, dir, s) })
	}
}

// realCT builds the masked CT record of a real series: nodules from the
// book's annotation file, class-0 candidates, and SPEC.md's mask.
func realCT(t testing.TB, dir string, s *spectest.Series) *format.CT {
	t.Helper()
	ct := s.CT()
	var centres [][3]int
	for _, xyz := range spectest.NoduleCentres(t, dir, s.UID) {
		irc := s.IRC(xyz)
		centres = append(centres, irc)
		ct.Nodules = append(ct.Nodules, format.Candidate{CenterXYZ: xyz, CenterIRC: irc, IsNodule: true})
	}
	for _, xyz := range spectest.NonNoduleCentres(t, dir, s.UID) {
		ct.Candidates = append(ct.Candidates, format.Candidate{CenterXYZ: xyz, CenterIRC: s.IRC(xyz)})
	}
	if len(ct.Nodules) == 0 || len(ct.Candidates) == 0 {
		t.Fatalf("series %s: %d nodules, %d candidates in the CSVs", s.UID, len(ct.Nodules), len(ct.Candidates))
	}
	ct.Mask = s.Mask(centres)
	// The mask must also be the one mkmask's package computes, so that the
	// crops checked here are those of the real pipeline.
	res, err := mask.Build(mask.Volume{HU: s.HU, Shape: ct.Shape}, centres, mask.DefaultThreshold)
	if err != nil {
		t.Fatalf("series %s: mask.Build: %v", s.UID, err)
	}
	if !bytes.Equal(res.Mask, ct.Mask) {
		t.Fatalf("series %s: internal/mask differs from this test's SPEC mask (%d vs %d voxels)", s.UID, res.Voxels, sumLabel(ct.Mask))
	}
	ct.PositiveIndexes = s.Positive(ct.Mask)
	return ct
}

func checkRealSeries(t *testing.T, dir string, s *spectest.Series) {
	ct := realCT(t, dir, s)
	t.Logf("%d nodules, %d candidates, mask voxels %d, positive slices %v",
		len(ct.Nodules), len(ct.Candidates), sumLabel(ct.Mask), ct.PositiveIndexes)
	checkRealCrops(t, s, ct)
	checkRealSlices(t, s, ct)
}

func checkRealCrops(t *testing.T, s *spectest.Series, ct *format.CT) {
	n, nodules := 0, 0
	err := Crops(ct, TrainOptions{Candidates: true}, func(c *format.Crop) error {
		var want [3]int
		for a := range 3 {
			want[a] = spectest.WindowStart(c.Candidate.CenterIRC[a], DefaultWidth[a], ct.Shape[a])
		}
		var hu, label int64
		for i := want[0]; i < want[0]+7; i++ {
			for r := want[1]; r < want[1]+96; r++ {
				for col := want[2]; col < want[2]+96; col++ {
					hu += clip64(s.At(i, r, col))
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

func checkRealSlices(t *testing.T, s *spectest.Series, ct *format.CT) {
	depth := ct.Shape[0]
	perSlice := make([]int64, depth)
	perLabel := make([]int64, depth)
	for i := range depth {
		for r := range 512 {
			for col := range 512 {
				perSlice[i] += clip64(s.At(i, r, col))
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
