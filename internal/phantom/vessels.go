package phantom

import (
	"math"
	"math/rand/v2"
)

// segment is one straight piece of a vessel: a tube of radius r (mm)
// around the axis from a to b, in grid millimetres.
type segment struct {
	a, b [3]float64
	r    float64
}

// Vessel trees: each lung gets a few trunks from the hilum that branch in
// two again and again, radius shrinking by about a quarter per
// generation, until they leave the lung or get thinner than rMin. In an
// axial slice they show as bright round or elongated spots: the natural
// look-alikes of nodules.
const (
	trunksPerLung = 8
	maxVessels    = 16000 // segments per series, shared out between the trunks
)

// growVessels returns the vessel segments of a chest: per lung, trunks
// from three hilar heights, fanned out sideways, forwards and backwards,
// from steeply down to the base to steeply up to the apex, each with its
// own segment budget so that no region is starved.
func growVessels(r *rand.Rand, a *anatomy) []segment {
	var segs []segment
	rMin := math.Max(0.4, 0.4*a.mmPerPx)
	mm := a.mmPerPx
	h := a.zApex - a.zBase
	for _, s := range sides {
		for k := 0; k < trunksPerLung; k++ {
			hilum := [3]float64{(a.cx + s*0.3*a.cavA) * mm, (a.cy - 0.05*a.cavB) * mm,
				a.zBase + h*(0.45+0.1*float64(k%3))}
			up := -0.95 + 1.9*float64(k)/(trunksPerLung-1) + uniform(r, -0.1, 0.1)
			dir := normalize([3]float64{s * uniform(r, 0.3, 0.8), uniform(r, -0.6, 0.6), 1.4 * up})
			r0 := uniform(r, 3, 5) * math.Max(a.scale, 0.3)
			budget := len(segs) + maxVessels/(2*trunksPerLung)
			segs = grow(r, a, segs, branch{hilum, dir, r0, 0}, rMin, budget)
		}
	}
	return segs
}

// branch is a vessel waiting to grow: start, direction, radius, generation.
type branch struct {
	p, dir [3]float64
	rad    float64
	depth  int
}

// grow adds the tree of one trunk, breadth first (so that when the budget
// of budget segments runs out, it is the finest generation that is cut
// short, evenly), each branch splitting in two. A branch about to leave
// the lung is turned back towards the lung's axis, so the trees fill the
// lungs; one that cannot be turned back ends.
func grow(r *rand.Rand, a *anatomy, segs []segment, trunk branch, rMin float64, budget int) []segment {
	queue := []branch{trunk}
	for len(queue) > 0 && len(segs) < budget {
		b := queue[0]
		queue = queue[1:]
		if b.rad < rMin || b.depth > 20 {
			continue
		}
		length := b.rad * uniform(r, 4, 7)
		end, ok := fitInLung(a, b.p, b.dir, length)
		if !ok {
			if b.depth > 0 {
				continue
			}
			end = add(b.p, scale(b.dir, length))
		}
		segs = append(segs, segment{a: b.p, b: end, r: b.rad})
		dir := normalize(sub(end, b.p))
		// Unequal children, spread apart in a random plane around the axis.
		perp := randomPerp(r, dir)
		queue = append(queue,
			branch{end, rotateToward(dir, perp, uniform(r, 0.2, 0.45)), b.rad * uniform(r, 0.75, 0.9), b.depth + 1},
			branch{end, rotateToward(dir, perp, -uniform(r, 0.35, 0.8)), b.rad * uniform(r, 0.6, 0.8), b.depth + 1})
	}
	return segs
}

// fitInLung returns the end of a segment from p along dir that stays in
// the lung: straight on if possible, else bent towards the lung's axis
// with growing weight, else at half length; false when none fits.
func fitInLung(a *anatomy, p, dir [3]float64, length float64) ([3]float64, bool) {
	side := 1.0
	if p[0] < a.cx*a.mmPerPx {
		side = -1
	}
	// Towards the lung's axis, and a little towards its mid-height.
	mid := a.zBase + 0.5*(a.zApex-a.zBase)
	axis := [3]float64{(a.cx + side*a.lungU) * a.mmPerPx, (a.cy + a.lungV) * a.mmPerPx, p[2] + 0.3*(mid-p[2])}
	inward := sub(axis, p)
	if n := norm(inward); n > 1e-9 {
		inward = scale(inward, 1/n)
	}
	for _, w := range []float64{0, 0.5, 1.2, 3} {
		d := normalize(add(dir, scale(inward, w)))
		for _, l := range []float64{length, length / 2} {
			if end := add(p, scale(d, l)); a.lungAlpha(end) >= 0.5 && a.lungAlpha(add(p, scale(d, l/2))) >= 0.5 {
				return end, true
			}
		}
	}
	return [3]float64{}, false
}

// zRange returns the z extent (mm) the tube touches.
func (s *segment) zRange() (lo, hi float64) {
	return math.Min(s.a[2], s.b[2]) - s.r, math.Max(s.a[2], s.b[2]) + s.r
}

// dist returns the distance from p to the segment's axis.
func (s *segment) dist(p [3]float64) float64 {
	d := sub(s.b, s.a)
	w := sub(p, s.a)
	t := dot(w, d) / math.Max(dot(d, d), 1e-12)
	t = math.Min(math.Max(t, 0), 1)
	return norm(sub(w, scale(d, t)))
}

func add(a, b [3]float64) [3]float64 { return [3]float64{a[0] + b[0], a[1] + b[1], a[2] + b[2]} }
func sub(a, b [3]float64) [3]float64 { return [3]float64{a[0] - b[0], a[1] - b[1], a[2] - b[2]} }
func scale(a [3]float64, f float64) [3]float64 {
	return [3]float64{a[0] * f, a[1] * f, a[2] * f}
}
func dot(a, b [3]float64) float64 { return a[0]*b[0] + a[1]*b[1] + a[2]*b[2] }
func norm(a [3]float64) float64   { return math.Sqrt(dot(a, a)) }
func normalize(a [3]float64) [3]float64 {
	return scale(a, 1/norm(a))
}
func cross(a, b [3]float64) [3]float64 {
	return [3]float64{a[1]*b[2] - a[2]*b[1], a[2]*b[0] - a[0]*b[2], a[0]*b[1] - a[1]*b[0]}
}

// randomPerp returns a random unit vector perpendicular to the unit vector d.
func randomPerp(r *rand.Rand, d [3]float64) [3]float64 {
	for {
		v := [3]float64{r.NormFloat64(), r.NormFloat64(), r.NormFloat64()}
		c := cross(d, v)
		if n := norm(c); n > 1e-6 {
			return scale(c, 1/n)
		}
	}
}

// rotateToward turns the unit vector d by angle (radians) towards the unit
// vector perp (perpendicular to d).
func rotateToward(d, perp [3]float64, angle float64) [3]float64 {
	return add(scale(d, math.Cos(angle)), scale(perp, math.Sin(angle)))
}
