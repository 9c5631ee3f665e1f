// Package crop turns a masked CT into model samples, following SPEC.md
// ("Crops"): training crops around candidates, and validation slices with
// context slices on each side.
//
// Training crop: per axis start = round_half_even(center − width/2),
// end = start + width, shifted into the volume at its edges. With an odd
// width and an even centre index the window starts one voxel early, so the
// middle channel of a 7-slice crop is slice c−1: the book's quirk, kept
// (faithful). HU are clipped to [−1000, 1000]; the label is the mask of the
// middle channel (width/2).
//
// Validation slice: channels s−N … s+N with each index clamped into
// [0, depth−1] (edge slices repeated), clipped HU, the full in-plane size;
// the label is the mask of slice s. In-plane sizes that are not multiples
// of 4 are padded at the bottom and on the right with −1000 HU (label 0),
// recorded in format.Slice.Padding, so that the U-Net's two 2×2 poolings
// fit and predictions can be cut back to [0, H−Bottom) × [0, W−Right).
// Every validation slice carries its CT's shape, geometry and nodules
// (format.SliceCT), so that whole CTs can be evaluated from a slice stream;
// with FullCT a CT without a mask (an unannotated scan) gives slices
// without a label.
package crop

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/ctseg/ctseg/format"
)

// Clipping range of the HU values in every sample, and the value of padding.
const (
	HUMin = -1000
	HUMax = 1000
)

// Align is the multiple the in-plane size of a sample must have: the U-Net
// pools twice by 2×2.
const Align = 4

// DefaultContext is the number of context slices on each side of a
// validation slice (7 channels in all).
const DefaultContext = 3

// MaxContext bounds the context slices on each side of a validation slice.
// The book uses 3; 255 (511 channels, 268 MB per 512×512 slice) is far
// beyond any useful model input, and the bound keeps a mistyped --context
// from overflowing the channel count or exhausting memory.
const MaxContext = 255

// axisNames name the three axes of a width, for error messages.
var axisNames = [3]string{"slices", "rows", "cols"}

// DefaultWidth is the book's training crop size: index, row, col.
var DefaultWidth = [3]int{7, 96, 96}

// ParseWidth reads a crop width written "I,R,C" (e.g. "7,96,96") and checks
// it with CheckWidth.
func ParseWidth(s string) ([3]int, error) {
	parts := strings.Split(s, ",")
	if len(parts) != 3 {
		return [3]int{}, fmt.Errorf("width %q: want three comma-separated sizes I,R,C", s)
	}
	var w [3]int
	for i, p := range parts {
		n, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil {
			return [3]int{}, fmt.Errorf("width %q: %s %q is not a whole number", s, axisNames[i], strings.TrimSpace(p))
		}
		w[i] = n
	}
	if err := CheckWidth(w); err != nil {
		return [3]int{}, fmt.Errorf("width %q: %w", s, err)
	}
	return w, nil
}

// CheckWidth reports a training crop width that is not positive, or whose
// in-plane sizes are not multiples of Align. Crops are not padded: a crop
// is a window of real voxels, and padding it would put fake air into the
// training data, so such widths are rejected instead.
func CheckWidth(w [3]int) error {
	for i, n := range w {
		if n < 1 {
			return fmt.Errorf("%s %d: must be at least 1", axisNames[i], n)
		}
	}
	if w[1]%Align != 0 || w[2]%Align != 0 {
		return fmt.Errorf("in-plane size %d×%d: rows and cols must be multiples of %d (the U-Net pools twice)", w[1], w[2], Align)
	}
	return nil
}

// WindowStart places a window of width voxels around center on an axis of
// size voxels: start = round_half_even(center − width/2), shifted to
// [0, width) or [size−width, size) when it would leave the axis.
func WindowStart(center, width, size int) (int, error) {
	if center < 0 || center >= size {
		return 0, fmt.Errorf("centre %d outside the axis [0, %d)", center, size)
	}
	if width > size {
		return 0, fmt.Errorf("width %d larger than the axis size %d", width, size)
	}
	start := int(math.RoundToEven(float64(center) - float64(width)/2))
	start = max(start, 0)
	start = min(start, size-width)
	return start, nil
}

// checkContext reports a context outside [0, MaxContext].
func checkContext(context int) error {
	if context < 0 || context > MaxContext {
		return fmt.Errorf("context %d: must be in [0, %d]", context, MaxContext)
	}
	return nil
}

// clipInto copies src into dst, clipping each value to [HUMin, HUMax].
func clipInto(dst, src []int16) {
	for i, v := range src {
		dst[i] = min(max(v, HUMin), HUMax)
	}
}

// checkCT reports a CT record that cannot be cut: no mask, or tensors that
// do not match its shape.
func checkCT(ct *format.CT) error {
	if err := checkVolume(ct); err != nil {
		return err
	}
	if ct.Mask == nil {
		return fmt.Errorf("series %s: CT record has no mask (run mkmask before crop; crop --val --full-ct takes a CT without one)", ct.SeriesUID)
	}
	return nil
}

// checkVolume reports a CT record whose shape is not positive or whose HU
// (and mask, when it has one) do not match its shape.
func checkVolume(ct *format.CT) error {
	for i, n := range ct.Shape {
		if n < 1 {
			return fmt.Errorf("series %s: shape %v: size %d is not positive", ct.SeriesUID, ct.Shape, i)
		}
	}
	n := ct.Shape[0] * ct.Shape[1] * ct.Shape[2]
	if len(ct.HU) != n {
		return fmt.Errorf("series %s: %d HU voxels, shape %v needs %d", ct.SeriesUID, len(ct.HU), ct.Shape, n)
	}
	if ct.Mask != nil && len(ct.Mask) != n {
		return fmt.Errorf("series %s: %d mask voxels, shape %v needs %d", ct.SeriesUID, len(ct.Mask), ct.Shape, n)
	}
	return nil
}
