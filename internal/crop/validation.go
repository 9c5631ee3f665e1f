package crop

import (
	"fmt"

	"github.com/ctseg/ctseg/format"
)

// ValOptions selects the validation slices of a CT.
type ValOptions struct {
	Context int // slices on each side of the centre slice (DefaultContext in the CLI)
	// FullCT emits every slice of the CT (for inference on whole scans)
	// instead of only the positive ones. A CT without a mask is then
	// allowed: its slices have no label.
	FullCT bool
}

// PadFor returns how many rows (or cols) to add to n so that the result is
// a multiple of Align.
func PadFor(n int) int {
	return (Align - n%Align) % Align
}

// Validation cuts the validation sample of slice s: channels s−context …
// s+context, each index clamped into [0, depth−1], HU clipped, padded at the
// bottom and right to multiples of Align with HUMin (label 0); the label is
// the mask of slice s, and the record carries the CT's shape, geometry and
// nodules (SliceCT). It checks the label's values, not the whole mask: a
// caller cutting many slices of a CT calls CheckMask once (as Slices does).
func Validation(ct *format.CT, s, context int) (*format.Slice, error) {
	if err := checkCT(ct); err != nil {
		return nil, err
	}
	if err := checkContext(context); err != nil {
		return nil, err
	}
	if s < 0 || s >= ct.Shape[0] {
		return nil, fmt.Errorf("series %s: slice %d outside [0, %d)", ct.SeriesUID, s, ct.Shape[0])
	}
	out := cutSlice(ct, SliceCT(ct), s, context)
	return out, checkLabel(ct.SeriesUID, out.Label)
}

// SliceCT is what the slices of ct carry of it: its shape, geometry and
// annotated nodules (the record's Nodules, not copied).
func SliceCT(ct *format.CT) *format.SliceCT {
	return &format.SliceCT{Shape: ct.Shape, Geometry: ct.Geometry, Nodules: ct.Nodules}
}

// cutSlice is Validation on a CT, slice and context already checked; the
// label is nil when the CT has no mask.
func cutSlice(ct *format.CT, info *format.SliceCT, s, context int) *format.Slice {
	depth, rows, cols := ct.Shape[0], ct.Shape[1], ct.Shape[2]
	pad := format.Padding{Bottom: PadFor(rows), Right: PadFor(cols)}
	h, w := rows+pad.Bottom, cols+pad.Right
	channels := 2*context + 1
	out := &format.Slice{
		SeriesUID:  ct.SeriesUID,
		SliceIndex: s,
		Shape:      [3]int{channels, h, w},
		HU:         make([]int16, channels*h*w),
		Padding:    pad,
		CT:         info,
	}
	if pad != (format.Padding{}) {
		for i := range out.HU {
			out.HU[i] = HUMin
		}
	}
	plane := rows * cols
	for k := range channels {
		src := min(max(s-context+k, 0), depth-1) * plane
		for r := range rows {
			dst := (k*h + r) * w
			clipInto(out.HU[dst:dst+cols], ct.HU[src+r*cols:src+(r+1)*cols])
		}
	}
	if ct.Mask != nil {
		out.Label = make([]uint8, h*w)
		for r := range rows {
			copy(out.Label[r*w:r*w+cols], ct.Mask[s*plane+r*cols:s*plane+(r+1)*cols])
		}
	}
	return out
}

// Slices calls emit with the validation sample of every positive slice of
// the CT (ct.PositiveIndexes, in order), or of every slice with
// opt.FullCT, which also takes a CT without a mask (slices without a
// label). It stops at the first error.
func Slices(ct *format.CT, opt ValOptions, emit func(*format.Slice) error) error {
	if opt.FullCT && ct.Mask == nil {
		if err := checkVolume(ct); err != nil {
			return err
		}
	} else if err := CheckMask(ct); err != nil {
		return err
	}
	if err := checkContext(opt.Context); err != nil {
		return err
	}
	indexes := ct.PositiveIndexes
	if opt.FullCT {
		indexes = make([]int, ct.Shape[0])
		for i := range indexes {
			indexes[i] = i
		}
	}
	info := SliceCT(ct)
	for _, s := range indexes {
		if s < 0 || s >= ct.Shape[0] {
			return fmt.Errorf("series %s: positive slice index %d outside [0, %d)", ct.SeriesUID, s, ct.Shape[0])
		}
		if err := emit(cutSlice(ct, info, s, opt.Context)); err != nil {
			return err
		}
	}
	return nil
}
