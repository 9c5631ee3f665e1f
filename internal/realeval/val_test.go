package realeval

import (
	"math"
	"testing"

	"github.com/ctseg/ctseg/internal/crop"
)

// countSlice counts the pixels of p > 0.5 against the label over the
// slice's unpadded area.
func countSlice(p predicted) counts {
	s := p.slice
	h, w := s.Shape[1], s.Shape[2]
	var c counts
	for r := s.Padding.Top; r < h-s.Padding.Bottom; r++ {
		for col := s.Padding.Left; col < w-s.Padding.Right; col++ {
			i := r*w + col
			pos, lab := p.prob[i] > 0.5, s.Label[i] != 0
			switch {
			case pos && lab:
				c.TP++
			case !pos && lab:
				c.FN++
			case pos && !lab:
				c.FP++
			}
		}
	}
	return c
}

// within reports whether got is within ±0.1 % of want.
func within(got, want int64) bool {
	return math.Abs(float64(got-want)) <= 1e-3*float64(want)
}

// TestValidationCounts runs the book's checkpoint on the validation slices
// of both real series (the positive slices, as crop --val cuts them) and
// compares the pooled pixel counts at 0.5 with PyTorch's.
func TestValidationCounts(t *testing.T) {
	e := setup(t)
	var pooled counts
	for i := range e.fx.Series {
		sf := &e.fx.Series[i]
		ct := e.maskedCT(t, sf)
		var got counts
		k, same := 0, 0
		predictSlices(t, e.engine, ct, crop.ValOptions{Context: crop.DefaultContext}, func(p predicted) {
			c := countSlice(p)
			got.add(c)
			if k >= len(sf.Val.Slices) {
				k++
				return
			}
			want := sf.Val.Slices[k]
			if p.slice.SliceIndex != want.Slice || inputSHA256(p.slice.HU) != want.InputSHA256 {
				t.Errorf("series %s: validation sample %d is slice %d with input sha256 %s; PyTorch's: slice %d, %s",
					sf.UID, k, p.slice.SliceIndex, inputSHA256(p.slice.HU), want.Slice, want.InputSHA256)
			}
			if c == want.counts {
				same++
			} else {
				t.Logf("series %s slice %d: tp/fn/fp %d/%d/%d, PyTorch %d/%d/%d",
					sf.UID, want.Slice, c.TP, c.FN, c.FP, want.TP, want.FN, want.FP)
			}
			k++
		})
		if k != len(sf.Val.Slices) {
			t.Fatalf("series %s: %d validation slices, PyTorch ran %d", sf.UID, k, len(sf.Val.Slices))
		}
		t.Logf("series %s: %d validation slices (%d with counts equal to PyTorch's): tp %d fn %d fp %d; PyTorch %d %d %d (%d pixels within 1e-3 of 0.5)",
			sf.UID, k, same, got.TP, got.FN, got.FP, sf.Val.TP, sf.Val.FN, sf.Val.FP, sf.Val.PixelsBorderline)
		pooled.add(got)
	}
	want := e.fx.Pooled.Val
	t.Logf("pooled over %d series: tp %d fn %d fp %d; PyTorch %d %d %d", len(e.fx.Series),
		pooled.TP, pooled.FN, pooled.FP, want.TP, want.FN, want.FP)
	if !within(pooled.TP, want.TP) || !within(pooled.FN, want.FN) || !within(pooled.FP, want.FP) {
		t.Errorf("pooled tp/fn/fp %d/%d/%d differ from PyTorch's %d/%d/%d by more than 0.1 %%",
			pooled.TP, pooled.FN, pooled.FP, want.TP, want.FN, want.FP)
	}
}
