package augment

import "math"

// Grid is the sampling of one transform on an H×W image: for each output
// pixel its four source pixels and their bilinear weights, computed once
// and used for every channel and sample of a batch.
type Grid struct {
	H, W int
	taps []tap
}

// tap is one output pixel's interpolation: source offsets within a plane
// and weights, in the order nw, ne, sw, se.
type tap struct {
	at [4]int32
	wt [4]float64
}

// NewGrid computes the sampling of an h×w image under a, with the
// semantics of F.affine_grid and F.grid_sample (bilinear, border padding,
// align_corners False; see the package doc), in float64.
func NewGrid(h, w int, a Affine) *Grid {
	g := &Grid{H: h, W: w, taps: make([]tap, h*w)}
	var t [6]float64
	for i, v := range a {
		t[i] = float64(v)
	}
	for r := range h {
		y := float64(2*r+1)/float64(h) - 1
		for q := range w {
			x := float64(2*q+1)/float64(w) - 1
			ix := unnormalise(t[0]*x+t[1]*y+t[2], w)
			iy := unnormalise(t[3]*x+t[4]*y+t[5], h)
			g.taps[r*w+q] = bilinear(ix, iy, h, w)
		}
	}
	return g
}

// unnormalise maps a normalised coordinate to a pixel coordinate of an
// axis of n pixels (align_corners False) and clamps it to [0, n−1], the
// border padding. A NaN becomes 0, so that a bad transform cannot index
// outside the image.
func unnormalise(v float64, n int) float64 {
	p := ((v+1)*float64(n) - 1) / 2
	if !(p > 0) {
		return 0
	}
	return math.Min(p, float64(n-1))
}

// bilinear is the interpolation at pixel coordinates (ix, iy), both
// inside the image. A neighbour past the last row or column has weight 0
// and is replaced by its in-image twin, so the sum needs no bounds test.
func bilinear(ix, iy float64, h, w int) tap {
	x0, y0 := math.Floor(ix), math.Floor(iy)
	fx, fy := ix-x0, iy-y0
	c0, r0 := int(x0), int(y0)
	c1, r1 := min(c0+1, w-1), min(r0+1, h-1)
	return tap{
		at: [4]int32{int32(r0*w + c0), int32(r0*w + c1), int32(r1*w + c0), int32(r1*w + c1)},
		wt: [4]float64{(1 - fx) * (1 - fy), fx * (1 - fy), (1 - fx) * fy, fx * fy},
	}
}

// Sample writes to dst the planes of src (any number of H×W planes, e.g.
// N×C of a batch) sampled on g, summed in float64 and rounded once.
// dst and src must have the same length, a multiple of H·W.
func Sample[T int16 | uint8 | float32](g *Grid, dst []float32, src []T) {
	hw := g.H * g.W
	if len(dst) != len(src) || len(src)%hw != 0 {
		panic("augment: Sample: sizes do not match the grid")
	}
	for p := 0; p < len(src); p += hw {
		in, out := src[p:p+hw], dst[p:p+hw]
		for i := range out {
			t := &g.taps[i]
			out[i] = float32(t.wt[0]*float64(in[t.at[0]]) + t.wt[1]*float64(in[t.at[1]]) +
				t.wt[2]*float64(in[t.at[2]]) + t.wt[3]*float64(in[t.at[3]]))
		}
	}
}

// Threshold makes a sampled label binary as the book does (> 0.5 is 1,
// anything else 0).
func Threshold(x []float32) {
	for i, v := range x {
		if v > 0.5 {
			x[i] = 1
		} else {
			x[i] = 0
		}
	}
}
