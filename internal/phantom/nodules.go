package phantom

import (
	"math"
	"math/rand/v2"
)

// Nodule is one synthetic nodule, as listed in the annotation files.
type Nodule struct {
	CenterXYZ  [3]float64 // world mm, exactly as written to the CSV files
	CenterIRC  [3]int     // xyz2irc(CenterXYZ): the voxel the centre falls in
	DiameterMM float64    // diameter of the sphere of equal volume
	// MalDetails are four (sometimes three or more) radiologists' malignancy
	// ratings 1–5; Malignant is the book's mal_bool rule: at least two
	// ratings of 4 or 5.
	MalDetails []int
	Malignant  bool
	// BBoxLowXYZ and BBoxHighXYZ are the world positions of the lowest and
	// highest voxel centres inside the ellipsoid's axis-aligned bounding box
	// (clipped to the volume), like the book's bboxLow*/bboxHigh* columns.
	BBoxLowXYZ, BBoxHighXYZ [3]float64
	HU                      float64 // core value before noise
	Juxtapleural            bool    // touches the chest wall
	NearEdge                bool    // deliberately placed on the second-to-last slice
}

// ellipsoid is a nodule's shape in grid millimetres: q(p)² = (p−c)ᵀ·M·(p−c)
// is 1 on the surface; the soft edge is edge mm wide.
type ellipsoid struct {
	c    [3]float64
	m    [9]float64 // symmetric, row-major
	ext  [3]float64 // half-extent of the axis-aligned bounding box, mm
	req  float64    // radius of the sphere of equal volume, mm
	edge float64
	hu   float32
	// Lobulation: the surface radius is scaled by 1 + Σ amp·T_k(lobe·d̂)
	// (Chebyshev polynomials of the direction's cosine to each lobe axis).
	lobes [3]lobe
}

// lobe is one surface undulation of a nodule.
type lobe struct {
	axis [3]float64
	amp  float64
	k    int // 2, 3 or 4 bumps from pole to pole
}

// newEllipsoid builds a randomly oriented ellipsoid of equal-volume radius
// req with axis ratios up to about 1.25.
func newEllipsoid(r *rand.Rand, c [3]float64, req float64) ellipsoid {
	f := [3]float64{uniform(r, 0.8, 1.25), uniform(r, 0.8, 1.25), uniform(r, 0.8, 1.25)}
	g := math.Cbrt(f[0] * f[1] * f[2])
	rot := randomRotation(r)
	e := ellipsoid{c: c, req: req, edge: math.Min(uniform(r, 0.5, 1.2), 0.4*req)}
	if req > 2.5 { // small nodules are smooth
		for i := range e.lobes {
			e.lobes[i] = lobe{axis: normalize([3]float64{r.NormFloat64(), r.NormFloat64(), r.NormFloat64()}),
				amp: uniform(r, 0, 0.06), k: 2 + r.IntN(3)}
		}
	}
	for i := 0; i < 3; i++ {
		for j := 0; j < 3; j++ {
			var s float64
			for k := 0; k < 3; k++ {
				ak := req * f[k] / g
				s += rot[3*i+k] * rot[3*j+k] / (ak * ak)
			}
			e.m[3*i+j] = s
		}
		var ext float64
		for k := 0; k < 3; k++ {
			ak := req * f[k] / g
			ext += rot[3*i+k] * rot[3*i+k] * ak * ak
		}
		e.ext[i] = math.Sqrt(ext)
	}
	return e
}

// reach returns how far (mm) from the centre along axis i the nodule can
// still cover a voxel: the bounding box grown by the lobulation and half
// the edge width.
func (e *ellipsoid) reach(i int) float64 {
	return e.ext[i] * (1 + e.lobes[0].amp + e.lobes[1].amp + e.lobes[2].amp) * (1 + 0.5*e.edge/e.req)
}

// alpha returns the nodule's coverage of point p (grid mm).
func (e *ellipsoid) alpha(p [3]float64) float64 {
	d := sub(p, e.c)
	q2 := e.m[0]*d[0]*d[0] + e.m[4]*d[1]*d[1] + e.m[8]*d[2]*d[2] +
		2*(e.m[1]*d[0]*d[1]+e.m[2]*d[0]*d[2]+e.m[5]*d[1]*d[2])
	q := math.Sqrt(q2)
	if n := norm(d); n > 1e-9 && e.lobes[0].amp > 0 {
		q /= 1 + e.lobulation(scale(d, 1/n))
	}
	return clamp01((1-q)*e.req/e.edge + 0.5)
}

// lobulation returns the relative change of the surface radius in the unit
// direction u, within ±Σ amp (at most ±0.18).
func (e *ellipsoid) lobulation(u [3]float64) float64 {
	var m float64
	for _, l := range e.lobes {
		x := dot(l.axis, u)
		switch l.k {
		case 2:
			m += l.amp * (2*x*x - 1)
		case 3:
			m += l.amp * (4*x*x - 3) * x
		default:
			x2 := x * x
			m += l.amp * (8*x2*(x2-1) + 1)
		}
	}
	return m
}

// randomRotation returns a uniformly random rotation matrix (row-major),
// from a random unit quaternion.
func randomRotation(r *rand.Rand) [9]float64 {
	q := normalize4([4]float64{r.NormFloat64(), r.NormFloat64(), r.NormFloat64(), r.NormFloat64()})
	w, x, y, z := q[0], q[1], q[2], q[3]
	return [9]float64{
		1 - 2*(y*y+z*z), 2 * (x*y - w*z), 2 * (x*z + w*y),
		2 * (x*y + w*z), 1 - 2*(x*x+z*z), 2 * (y*z - w*x),
		2 * (x*z - w*y), 2 * (y*z + w*x), 1 - 2*(x*x+y*y),
	}
}

func normalize4(q [4]float64) [4]float64 {
	n := math.Sqrt(q[0]*q[0] + q[1]*q[1] + q[2]*q[2] + q[3]*q[3])
	if n < 1e-9 {
		return [4]float64{1, 0, 0, 0}
	}
	return [4]float64{q[0] / n, q[1] / n, q[2] / n, q[3] / n}
}

// diameterMM draws a nodule diameter in [3, 30] mm, skewed to small ones
// like LUNA16's (median about 9 mm). In a chest too small for 30 mm
// nodules the range shrinks to [3, dmax], keeping the shape of the
// distribution (rather than piling nodules up at dmax).
func diameterMM(r *rand.Rand, dmax float64) float64 {
	hi := math.Max(3, math.Min(30, dmax))
	return 3 + (hi-3)*math.Pow(r.Float64(), 2.2)
}

// malignancy draws the radiologists' ratings for a nodule of diameter d:
// bigger nodules get higher ratings, so that about a third of the nodules
// come out malignant, as in the book's file.
func malignancy(r *rand.Rand, d float64) ([]int, bool) {
	n := 4
	switch u := r.Float64(); {
	case u < 0.34:
		n = 3
	case u > 0.985:
		n = 5 + r.IntN(3)
	}
	base := 2.1 + 0.11*(d-3) + uniform(r, -0.5, 0.5)
	ratings := make([]int, n)
	high := 0
	for i := range ratings {
		v := int(math.Round(base + 0.9*r.NormFloat64()))
		ratings[i] = min(max(v, 1), 5)
		if ratings[i] >= 4 {
			high++
		}
	}
	return ratings, high >= 2
}
