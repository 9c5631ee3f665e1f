package phantom

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// maxTries bounds the rejection sampling of one nodule or decoy position.
const maxTries = 400

// Deliberately awkward series, for the tests of later stages (documented in
// docs/mkphantom.md): the first nodule of series 0 touches the chest wall;
// the first nodule of series 1 is centred on the second-to-last slice,
// where crop windows must shift and context slices repeat.
const (
	juxtaSeries = 0
	edgeSeries  = 1
)

// placeNodules draws the nodules: count, size, position, shape, HU and
// malignancy.
func (s *Series) placeNodules(r *rand.Rand, opt Options) {
	n := opt.NodulesMin + r.IntN(opt.NodulesMax-opt.NodulesMin+1)
	if opt.NodulesMax > 0 && s.Index <= edgeSeries && n == 0 {
		n = 1
	}
	a := s.anat
	// The biggest nodule must fit a lung: small test volumes have
	// miniature chests.
	dmax := math.Min(30, 0.5*math.Min(a.lungA, a.lungB)*a.mmPerPx)
	for k := 0; k < n; k++ {
		juxta := (s.Index == juxtaSeries && k == 0) || r.Float64() < 0.2
		edge := s.Index == edgeSeries && k == 0
		d := diameterMM(r, dmax)
		if edge {
			juxta, d = false, math.Min(d, 12)
		}
		c, ok := s.findNoduleCentre(r, d/2, juxta, edge)
		if !ok {
			s.Warnings = append(s.Warnings, fmt.Sprintf("series %s: no room for nodule %d (%.1f mm), dropped", s.UID, k, d))
			continue
		}
		s.addNodule(r, c, d, juxta, edge)
	}
}

// findNoduleCentre searches a centre for a nodule of radius rad: inside
// the lungs, clear of the other nodules, near the wall when juxta, on the
// second-to-last slice when edge. Centres are drawn within ±0.3 voxel of a
// voxel centre, so that even a 3 mm nodule covers the voxel its listed
// centre rounds to.
func (s *Series) findNoduleCentre(r *rand.Rand, rad float64, juxta, edge bool) ([3]float64, bool) {
	a := s.anat
	sp := s.Geometry.Spacing
	zlo, zhi := math.Max(a.zBase, rad), math.Min(a.zApex, s.length(2)-rad)
	for try := 0; try < maxTries; try++ {
		var c [3]float64
		var z float64
		switch {
		case edge:
			z = float64(s.Size[2]-2) * sp[2]
		case zhi > zlo:
			z = uniform(r, zlo, zhi)
		default:
			z = uniform(r, 0, s.length(2))
		}
		z = snap(r, z, sp[2])
		if juxta {
			var ok bool
			if c, ok = s.wallPoint(r, z, -rad*uniform(r, 0.5, 0.85)); !ok {
				continue
			}
		} else {
			c = s.lungPoint(r, z)
		}
		c[0], c[1] = snap(r, c[0], sp[0]), snap(r, c[1], sp[1])
		if s.noduleFits(c, rad, juxta) {
			return c, true
		}
	}
	return [3]float64{}, false
}

// snap moves v (mm) to within ±0.3 voxel of the nearest voxel centre.
func snap(r *rand.Rand, v, spacing float64) float64 {
	return (math.Round(v/spacing) + uniform(r, -0.3, 0.3)) * spacing
}

// noduleFits checks a candidate centre: in the lung, inside the volume,
// and (unless juxtapleural, where the wall side leaves the lung) with lung
// all around it, and at least 3 mm clear of the other nodules.
func (s *Series) noduleFits(c [3]float64, rad float64, juxta bool) bool {
	for i := 0; i < 3; i++ {
		if c[i] < 0 || c[i] > s.length(i) {
			return false
		}
	}
	a := s.anat
	if a.lungAlpha(c) < 1 {
		return false
	}
	if !juxta {
		for i := 0; i < 2; i++ {
			for _, sg := range []float64{-1, 1} {
				p := c
				p[i] += sg * rad
				if a.lungAlpha(p) < 0.5 {
					return false
				}
			}
		}
	}
	for _, e := range s.shapes {
		if norm(sub(c, e.c)) < 1.25*(e.req+rad)+3 {
			return false
		}
	}
	return true
}

// lungPoint returns a uniformly drawn point of the lungs' bounding box at
// height z (grid mm); the caller checks that it is in a lung.
func (s *Series) lungPoint(r *rand.Rand, z float64) [3]float64 {
	a := s.anat
	x := a.cx + uniform(r, -1, 1)*(a.lungU+a.lungA)
	y := a.cy + a.lungV + uniform(r, -1, 1)*a.lungB
	return [3]float64{x * a.mmPerPx, y * a.mmPerPx, z}
}

// wallPoint returns a point at height z, offset mm from the lung's outer
// surface (negative: inside the lung), along a ray from a lung centre
// towards the chest wall (sideways, front or back, never towards the
// mediastinum).
func (s *Series) wallPoint(r *rand.Rand, z, offset float64) ([3]float64, bool) {
	a := s.anat
	side := sides[r.IntN(2)]
	ang := uniform(r, -0.45, 0.45) * math.Pi // 0 points sideways, away from the midline
	dir := [2]float64{side * math.Cos(ang), math.Sin(ang)}
	ls := a.lungsAt(z)
	if ls.nLung == 0 {
		return [3]float64{}, false
	}
	x0, y0 := a.cx+side*a.lungU, a.cy+a.lungV
	if ls.alpha(x0, y0) < 1 {
		return [3]float64{}, false
	}
	// March out in half-pixel steps to the outline (coverage ½).
	for t := 0.0; t < 2*(a.lungA+a.lungB); t += 0.5 {
		x, y := x0+t*dir[0], y0+t*dir[1]
		if ls.alpha(x, y) < 0.5 {
			px := offset / a.mmPerPx
			return [3]float64{(x + px*dir[0]) * a.mmPerPx, (y + px*dir[1]) * a.mmPerPx, z}, true
		}
	}
	return [3]float64{}, false
}

// addNodule records a nodule centred near c (grid mm): its CSV centre is
// c in world mm rounded to 6 decimals, and the shape is drawn around
// exactly that rounded centre, so the files and the voxels agree.
func (s *Series) addNodule(r *rand.Rand, c [3]float64, d float64, juxta, edge bool) {
	xyz := s.gridToWorld(c)
	for i := range xyz {
		xyz[i] = round6(xyz[i])
	}
	d = round6(d)
	e := newEllipsoid(r, s.worldToGrid(xyz), d/2)
	e.hu = float32(uniform(r, 0, 60))
	irc, _ := s.Geometry.XYZ2IRC(xyz) // identity direction: never singular
	nod := Nodule{CenterXYZ: xyz, CenterIRC: irc, DiameterMM: d, HU: float64(e.hu), Juxtapleural: juxta, NearEdge: edge}
	nod.MalDetails, nod.Malignant = malignancy(r, d)
	nod.BBoxLowXYZ, nod.BBoxHighXYZ = s.bbox(e)
	s.Nodules = append(s.Nodules, nod)
	s.shapes = append(s.shapes, e)
}

// bbox returns the world positions of the lowest and highest voxel centres
// inside the ellipsoid's bounding box, clipped to the volume.
func (s *Series) bbox(e ellipsoid) (lo, hi [3]float64) {
	for i := 0; i < 3; i++ {
		sp := s.Geometry.Spacing[i]
		l := max(int(math.Ceil((e.c[i]-e.ext[i])/sp)), 0)
		h := min(int(math.Floor((e.c[i]+e.ext[i])/sp)), s.Size[i]-1)
		if l > h { // thinner than a slice: the nearest voxel
			l = min(max(int(math.Round(e.c[i]/sp)), 0), s.Size[i]-1)
			h = l
		}
		lo[i] = round6(s.Geometry.Origin[i] + float64(l)*sp)
		hi[i] = round6(s.Geometry.Origin[i] + float64(h)*sp)
	}
	return lo, hi
}
