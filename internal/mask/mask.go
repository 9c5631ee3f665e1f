// Package mask builds the nodule mask of a CT the way SPEC.md ("Nodule
// mask") and the book's buildAnnotationMask do: per nodule, a box grown
// from the centre voxel along each axis while the HU on both sides stays
// above a threshold; the mask is the union of the boxes, restricted to
// voxels above the threshold.
//
// Bounds are handled the **fixed** way: when a search step would leave the
// volume on either side, the search stops and uses the last radius that
// stayed inside, and boxes are clipped to the volume. (The book lets the
// low side wrap around to the far end of the axis.)
package mask

import (
	"fmt"
	"math"
)

// DefaultThreshold is the book's HU threshold: a voxel belongs to a nodule
// when its HU is above it.
const DefaultThreshold = -700

// minRadius is where each radius search starts: the centre voxel and its
// neighbours are never tested, so a box is at least 5 voxels wide.
const minRadius = 2

// Volume is a CT's HU voxels, indexed [index][row][col] (z, y, x).
type Volume struct {
	HU    []int16
	Shape [3]int // index, row, col
	// Load, when not nil, is called before the voxels HU[lo:hi] are read,
	// for a volume whose voxels are filled in on demand: a mask reads the
	// voxels along three lines through each nodule and those of its boxes,
	// a tiny part of a CT, and mkmask decompresses only that part. Voxels
	// never asked for may hold anything.
	Load func(lo, hi int) error
}

// load makes HU[lo:hi] readable.
func (v Volume) load(lo, hi int) error {
	if v.Load == nil {
		return nil
	}
	return v.Load(lo, hi)
}

// Box is the box found for one nodule, on each axis (index, row, col).
type Box struct {
	Center [3]int // the nodule's centre voxel
	Radius [3]int // the radius the search ended with
	Lo, Hi [3]int // inclusive bounds of Center ± Radius, clipped to the volume
}

// Result is a CT's mask with the boxes that made it.
type Result struct {
	// Mask is 0/1 per voxel, laid out as the volume's HU.
	Mask []uint8
	// PositiveIndexes are the ascending slice indexes holding mask voxels.
	PositiveIndexes []int
	// Voxels is the number of mask voxels.
	Voxels int
	// Boxes holds one box per centre inside the volume, in input order.
	Boxes []Box
	// Outside lists the positions (in the centres given) of centres
	// outside the volume, which got no box.
	Outside []int

	shape [3]int // the volume's, for Clear
}

// Contains reports whether the voxel irc lies inside the volume.
func (v Volume) Contains(irc [3]int) bool {
	for a := range 3 {
		if irc[a] < 0 || irc[a] >= v.Shape[a] {
			return false
		}
	}
	return true
}

// check reports a volume whose voxel count does not match its shape.
func (v Volume) check() error {
	n := 1
	for _, s := range v.Shape {
		if s <= 0 {
			return fmt.Errorf("mask: volume shape %v must be positive", v.Shape)
		}
		n *= s
	}
	if len(v.HU) != n {
		return fmt.Errorf("mask: volume has %d voxels, shape %v needs %d", len(v.HU), v.Shape, n)
	}
	return nil
}

// cutoff turns the threshold into an integer c with hu > threshold ⇔
// hu > c for every int16 hu, so the voxel loops compare integers.
func cutoff(threshold float64) (int32, error) {
	if math.IsNaN(threshold) {
		return 0, fmt.Errorf("mask: threshold is NaN")
	}
	t := math.Floor(threshold)
	return int32(max(min(t, math.MaxInt16), math.MinInt16-1)), nil
}

// Build makes the mask of a volume for nodules centred at the given voxels
// [index, row, col]. Centres outside the volume get no box; they are listed
// in Result.Outside for the caller to warn about.
func Build(v Volume, centers [][3]int, threshold float64) (*Result, error) {
	return BuildInto(nil, v, centers, threshold)
}

// BuildInto is Build writing the mask into zeroed when it is large enough.
// zeroed must be all zero, as Result.Clear leaves a mask: a program masking
// CT after CT reuses one buffer instead of touching fresh memory for every
// CT, and clears only the boxes of the last CT instead of the whole
// buffer.
func BuildInto(zeroed []uint8, v Volume, centers [][3]int, threshold float64) (*Result, error) {
	if err := v.check(); err != nil {
		return nil, err
	}
	cut, err := cutoff(threshold)
	if err != nil {
		return nil, err
	}
	if cap(zeroed) < len(v.HU) {
		zeroed = make([]uint8, len(v.HU))
	}
	res := &Result{Mask: zeroed[:len(v.HU)], shape: v.Shape}
	for i, c := range centers {
		if !v.Contains(c) {
			res.Outside = append(res.Outside, i)
			continue
		}
		b, err := findBox(v, c, cut)
		if err != nil {
			return nil, err
		}
		res.Boxes = append(res.Boxes, b)
	}
	positive := make([]bool, v.Shape[0])
	for _, b := range res.Boxes {
		n, err := fill(v, res.Mask, b, cut, positive)
		if err != nil {
			return nil, err
		}
		res.Voxels += n
	}
	for i, p := range positive {
		if p {
			res.PositiveIndexes = append(res.PositiveIndexes, i)
		}
	}
	return res, nil
}

// Clear zeroes the mask's voxels (those of its boxes, the only ones set)
// and returns the mask buffer, all zero, for BuildInto to reuse.
func (r *Result) Clear() []uint8 {
	rows, cols := r.shape[1], r.shape[2]
	for _, b := range r.Boxes {
		for i := b.Lo[0]; i <= b.Hi[0]; i++ {
			for row := b.Lo[1]; row <= b.Hi[1]; row++ {
				start := (i*rows+row)*cols + b.Lo[2]
				clear(r.Mask[start : start+b.Hi[2]-b.Lo[2]+1])
			}
		}
	}
	return r.Mask
}

// FindBox runs the three radius searches for a nodule centred at the voxel
// c, which must lie inside the volume.
func FindBox(v Volume, c [3]int, threshold float64) (Box, error) {
	if err := v.check(); err != nil {
		return Box{}, err
	}
	if !v.Contains(c) {
		return Box{}, fmt.Errorf("mask: centre %v is outside the volume %v", c, v.Shape)
	}
	cut, err := cutoff(threshold)
	if err != nil {
		return Box{}, err
	}
	return findBox(v, c, cut)
}

// findBox runs the three independent radius searches through c.
func findBox(v Volume, c [3]int, cut int32) (Box, error) {
	b := Box{Center: c}
	strides := [3]int{v.Shape[1] * v.Shape[2], v.Shape[2], 1}
	at := c[0]*strides[0] + c[1]*strides[1] + c[2]
	for a := range 3 {
		r, err := radius(v, at, strides[a], c[a], v.Shape[a], cut)
		if err != nil {
			return b, err
		}
		b.Radius[a] = r
		b.Lo[a] = max(c[a]-r, 0)
		b.Hi[a] = min(c[a]+r, v.Shape[a]-1)
	}
	return b, nil
}

// radius grows r from minRadius while the voxels r steps either side of
// the centre (flat position at, coordinate c of n along the axis with the
// given stride) are both above cut. A step leaving the volume on either
// side ends the search with the last radius inside.
func radius(v Volume, at, stride, c, n int, cut int32) (int, error) {
	for r := minRadius; ; r++ {
		if c+r >= n || c-r < 0 {
			return r - 1, nil
		}
		hi, lo := at+r*stride, at-r*stride
		if err := v.load(hi, hi+1); err != nil {
			return 0, err
		}
		if err := v.load(lo, lo+1); err != nil {
			return 0, err
		}
		if int32(v.HU[hi]) <= cut || int32(v.HU[lo]) <= cut {
			return r, nil
		}
	}
}

// fill sets the mask voxels of box b that are above cut, marking the
// slices that got any. It returns the number of voxels newly set (boxes
// may overlap).
func fill(v Volume, mask []uint8, b Box, cut int32, positive []bool) (int, error) {
	n := 0
	rows, cols := v.Shape[1], v.Shape[2]
	for i := b.Lo[0]; i <= b.Hi[0]; i++ {
		for r := b.Lo[1]; r <= b.Hi[1]; r++ {
			start := (i*rows+r)*cols + b.Lo[2]
			end := start + b.Hi[2] - b.Lo[2] + 1
			if err := v.load(start, end); err != nil {
				return n, err
			}
			hu := v.HU[start:end]
			m := mask[start : start+len(hu)]
			for k, h := range hu {
				if int32(h) > cut && m[k] == 0 {
					m[k] = 1
					positive[i] = true
					n++
				}
			}
		}
	}
	return n, nil
}
