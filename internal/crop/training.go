package crop

import (
	"fmt"

	"github.com/ctseg/ctseg/format"
)

// TrainOptions selects the training crops of a CT.
type TrainOptions struct {
	Width [3]int // index, row, col; DefaultWidth when zero
	// Candidates adds a crop around every non-nodule candidate, after the
	// nodules' crops.
	Candidates bool
}

// Training cuts the crop of one candidate out of a masked CT: the window
// given by WindowStart on each axis around cand.CenterIRC, HU clipped, and
// the mask of the middle channel (width[0]/2) as the label. It checks the
// label's values, not the whole mask: a caller cutting many crops of a CT
// calls CheckMask once (as Crops does).
func Training(ct *format.CT, cand format.Candidate, width [3]int) (*format.Crop, error) {
	if err := checkCT(ct); err != nil {
		return nil, err
	}
	if err := CheckWidth(width); err != nil {
		return nil, fmt.Errorf("series %s: crop width: %w", ct.SeriesUID, err)
	}
	c, err := cut(ct, cand, width)
	if err != nil {
		return nil, err
	}
	return c, checkLabel(ct.SeriesUID, c.Label)
}

// cut is Training on a CT and width already checked.
func cut(ct *format.CT, cand format.Candidate, width [3]int) (*format.Crop, error) {
	var start [3]int
	for axis := range 3 {
		s, err := WindowStart(cand.CenterIRC[axis], width[axis], ct.Shape[axis])
		if err != nil {
			return nil, fmt.Errorf("series %s: candidate at irc %v (xyz %v): axis %d: %w",
				ct.SeriesUID, cand.CenterIRC, cand.CenterXYZ, axis, err)
		}
		start[axis] = s
	}
	c := &format.Crop{
		SeriesUID: ct.SeriesUID,
		Candidate: cand,
		StartIRC:  start,
		Shape:     width,
		HU:        make([]int16, width[0]*width[1]*width[2]),
		Label:     make([]uint8, width[1]*width[2]),
	}
	rows, cols := ct.Shape[1], ct.Shape[2]
	for k := range width[0] {
		for r := range width[1] {
			src := ((start[0]+k)*rows+start[1]+r)*cols + start[2]
			dst := (k*width[1] + r) * width[2]
			clipInto(c.HU[dst:dst+width[2]], ct.HU[src:src+width[2]])
		}
	}
	mid := start[0] + width[0]/2
	for r := range width[1] {
		src := (mid*rows+start[1]+r)*cols + start[2]
		copy(c.Label[r*width[2]:(r+1)*width[2]], ct.Mask[src:src+width[2]])
	}
	return c, nil
}

// Crops calls emit with the training crop of every nodule of the CT, in
// the record's order, then (with opt.Candidates) of every non-nodule
// candidate, whose Candidate.IsNodule is set to false. It stops at the
// first error.
func Crops(ct *format.CT, opt TrainOptions, emit func(*format.Crop) error) error {
	width := opt.Width
	if width == ([3]int{}) {
		width = DefaultWidth
	}
	if err := CheckMask(ct); err != nil {
		return err
	}
	if err := CheckWidth(width); err != nil {
		return fmt.Errorf("series %s: crop width: %w", ct.SeriesUID, err)
	}
	for _, cand := range ct.Nodules {
		if err := cutAndEmit(ct, cand, width, emit); err != nil {
			return err
		}
	}
	if !opt.Candidates {
		return nil
	}
	for _, cand := range ct.Candidates {
		cand.IsNodule = false // the candidate list holds non-nodules only
		if err := cutAndEmit(ct, cand, width, emit); err != nil {
			return err
		}
	}
	return nil
}

func cutAndEmit(ct *format.CT, cand format.Candidate, width [3]int, emit func(*format.Crop) error) error {
	c, err := cut(ct, cand, width)
	if err != nil {
		return err
	}
	return emit(c)
}
