package crop

import (
	"strings"
	"testing"

	"github.com/ctseg/ctseg/format"
)

// maskedCT is synthCT with mask voxels on slices 2 and 5 and matching
// positive indexes.
func maskedCT() *format.CT {
	ct := synthCT(8, 8, 8)
	ct.Mask[(2*8+3)*8+4], ct.Mask[(5*8+7)*8+7] = 1, 1
	ct.PositiveIndexes = []int{2, 5}
	return ct
}

// A mask value other than 0/1, or positive indexes that disagree with the
// mask, stop Crops and Slices with an error naming the series and the
// slice; Training and Validation refuse such a value in their label.
func TestCheckMask(t *testing.T) {
	if err := CheckMask(maskedCT()); err != nil {
		t.Fatalf("consistent CT: %v", err)
	}
	cases := []struct {
		name string
		edit func(*format.CT)
		want string
	}{
		{"value 2", func(ct *format.CT) { ct.Mask[(5*8+7)*8+6] = 2 }, "mask value 2 at voxel (slice 5, row 7, col 6)"},
		{"value 255", func(ct *format.CT) { ct.Mask[(2*8+3)*8+4] = 255 }, "mask value 255 at voxel (slice 2, row 3, col 4)"},
		{"slice missing", func(ct *format.CT) { ct.PositiveIndexes = []int{5} }, "disagrees with the mask at slice 2: its mask has voxels, but it is not listed"},
		{"slice extra", func(ct *format.CT) { ct.PositiveIndexes = []int{2, 4, 5} }, "disagrees with the mask at slice 4: listed, but its mask is empty"},
		{"none listed", func(ct *format.CT) { ct.PositiveIndexes = nil }, "at slice 2: its mask has voxels"},
		{"unsorted", func(ct *format.CT) { ct.PositiveIndexes = []int{5, 2} }, "not strictly ascending at slice 2 (after 5)"},
		{"repeated", func(ct *format.CT) { ct.PositiveIndexes = []int{2, 2, 5} }, "not strictly ascending at slice 2"},
		{"outside", func(ct *format.CT) { ct.PositiveIndexes = []int{2, 5, 8} }, "positive slice index 8 outside [0, 8)"},
	}
	for _, c := range cases {
		ct := maskedCT()
		c.edit(ct)
		ct.Nodules = []format.Candidate{at([3]int{5, 4, 4})}
		for what, err := range map[string]error{
			"CheckMask": CheckMask(ct),
			"Crops":     Crops(ct, TrainOptions{Width: [3]int{3, 4, 4}}, func(*format.Crop) error { return nil }),
			"Slices":    Slices(ct, ValOptions{Context: 1, FullCT: true}, func(*format.Slice) error { return nil }),
		} {
			if err == nil || !strings.Contains(err.Error(), "series "+ct.SeriesUID+": ") || !strings.Contains(err.Error(), c.want) {
				t.Errorf("%s: %s: err = %v, want one naming the series and %q", c.name, what, err, c.want)
			}
		}
	}
	ct := maskedCT()
	ct.Mask[(5*8+7)*8+6] = 3
	if _, err := Training(ct, at([3]int{5, 4, 4}), [3]int{3, 8, 8}); err == nil || !strings.Contains(err.Error(), "mask value 3 in a label") {
		t.Errorf("Training with mask value 3: %v", err)
	}
	if _, err := Validation(ct, 5, 1); err == nil || !strings.Contains(err.Error(), "mask value 3 in a label") {
		t.Errorf("Validation with mask value 3: %v", err)
	}
}

// orBytes against a byte loop, at every length and position around its
// 32-byte blocks.
func TestOrBytes(t *testing.T) {
	for n := range 100 {
		for i := range n {
			for _, v := range []uint8{1, 2, 0x80} {
				b := make([]uint8, n)
				b[i] = v
				if got := orBytes(b); got != v {
					t.Fatalf("orBytes(len %d, b[%d] = %d) = %d", n, i, v, got)
				}
			}
		}
		if got := orBytes(make([]uint8, n)); got != 0 {
			t.Fatalf("orBytes(%d zeros) = %d", n, got)
		}
	}
}

// BenchmarkCheckMask measures the mask check on the 512×512×250 phantom,
// to compare with the cost of a CT in crop (BenchmarkStreamCropsPhantom).
func BenchmarkCheckMask(b *testing.B) {
	ct := benchPhantom(b)
	b.SetBytes(int64(len(ct.Mask)))
	for b.Loop() {
		if err := CheckMask(ct); err != nil {
			b.Fatal(err)
		}
	}
}
