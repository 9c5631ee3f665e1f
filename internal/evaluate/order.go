package evaluate

import (
	"fmt"

	"github.com/ctseg/ctseg/format"
)

// arrival is what the order of the stream says about one slice.
type arrival struct {
	where string // the input and record number, for errors
	first bool   // the first slice of its series
	// whole: this slice and the earlier ones of its series are slices
	// 0…index of one CT, each carrying it. The series is a whole CT when
	// its last slice is whole and is the CT's last.
	whole bool
}

// order checks the order of the slices as they arrive: the slices of a
// series together and ascending, and, when whole CTs are required (for
// candidates), every series slices 0…depth−1 of its CT.
type order struct {
	requireWhole bool
	done         map[string]bool // series already over
	started      bool            // a series has begun
	uid          string          // the current series and its last slice

	index int
	whole bool
	ct    format.SliceCT // the series' CT, from its first slice (Nodules not kept)
	hasCT bool
}

func newOrder(requireWhole bool) *order {
	return &order{requireWhole: requireWhole, done: map[string]bool{}}
}

// add takes the next slice of the stream.
func (o *order) add(s *format.Slice, where string) (arrival, error) {
	a := arrival{where: where, first: !o.started || s.SeriesUID != o.uid}
	if a.first {
		if err := o.end(); err != nil {
			return a, err
		}
		if o.done[s.SeriesUID] {
			return a, fmt.Errorf("%s: series %s: its slices are interrupted by series %s: the slices of a series must arrive together", where, s.SeriesUID, o.uid)
		}
		o.started, o.uid, o.index, o.hasCT = true, s.SeriesUID, s.SliceIndex, s.CT != nil
		o.ct = format.SliceCT{}
		if o.hasCT {
			o.ct = format.SliceCT{Shape: s.CT.Shape, Geometry: s.CT.Geometry}
		}
		o.whole = o.hasCT && s.SliceIndex == 0
		a.whole = o.whole
		return a, o.checkWhole(s, where, -1)
	}
	if s.SliceIndex <= o.index {
		return a, fmt.Errorf("%s: series %s: slice %d after slice %d: the slices of a series must come in ascending order", where, o.uid, s.SliceIndex, o.index)
	}
	if (s.CT != nil) != o.hasCT || s.CT != nil && (s.CT.Shape != o.ct.Shape || s.CT.Geometry != o.ct.Geometry) {
		return a, fmt.Errorf("%s: series %s: slice %d describes another CT than the series' first slice", where, o.uid, s.SliceIndex)
	}
	prev := o.index
	o.index = s.SliceIndex
	o.whole = o.whole && s.SliceIndex == prev+1
	a.whole = o.whole
	return a, o.checkWhole(s, where, prev)
}

// checkWhole refuses, when whole CTs are required, a slice that breaks
// its series' run 0, 1, 2, … (prev is the index before it, −1 for none).
func (o *order) checkWhole(s *format.Slice, where string, prev int) error {
	if !o.requireWhole || o.whole {
		return nil
	}
	if !o.hasCT {
		return fmt.Errorf("%s: series %s: slice %d carries no CT (shape, geometry, nodules): candidates need the slices of crop --val --full-ct (format 1.2)", where, o.uid, s.SliceIndex)
	}
	if prev < 0 {
		return fmt.Errorf("%s: series %s: starts at slice %d, not 0: candidates need every slice of a CT, 0…%d, in order (crop --val --full-ct)", where, o.uid, s.SliceIndex, o.ct.Shape[0]-1)
	}
	return fmt.Errorf("%s: series %s: slice %d follows slice %d: candidates need every slice of a CT, 0…%d, in order (crop --val --full-ct)", where, o.uid, s.SliceIndex, prev, o.ct.Shape[0]-1)
}

// complete reports whether the series so far is a whole CT.
func (o *order) complete() bool { return o.whole && o.index == o.ct.Shape[0]-1 }

// end closes the current series (at the next series or the end of the
// stream); a series that stops short of its CT's last slice is an error
// when whole CTs are required.
func (o *order) end() error {
	if !o.started {
		return nil
	}
	o.done[o.uid] = true
	if o.requireWhole && !o.complete() {
		return fmt.Errorf("series %s: ends at slice %d of 0…%d: candidates need every slice of the CT (crop --val --full-ct)", o.uid, o.index, o.ct.Shape[0]-1)
	}
	return nil
}
