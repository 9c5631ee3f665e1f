package phantom

import "math"

// ellipse is a filled, possibly rotated ellipse in pixel coordinates (x =
// column, y = row) with a soft edge about one pixel wide, so that organ
// boundaries show partial-volume values as in a real CT rather than jagged
// steps.
//
// Its coverage of a pixel is alpha = clamp((1−q)·k + ½, 0, 1), where q² =
// qa·dx² + qb·dx·dy + qc·dy² is the normalised radius (q = 1 on the
// outline) and k sets the edge width. Because alpha depends on q alone, the
// fully covered and the uncovered parts of a row are exact intervals
// (span), and only the pixels between them need a square root.
type ellipse struct {
	cx, cy     float64 // centre, pixels
	qa, qb, qc float64 // quadratic form of the normalised radius
	k          float64 // edge sharpness: 1/(edge width in units of q)
}

// newEllipse builds an ellipse centred at (cx, cy) with semi-axes a (along
// angle) and b (perpendicular), in pixels, angle in radians from the +x
// (column) axis, and an edge edge pixels wide.
func newEllipse(cx, cy, a, b, angle, edge float64) ellipse {
	a, b = math.Max(a, 1e-3), math.Max(b, 1e-3)
	c, s := math.Cos(angle), math.Sin(angle)
	ia, ib := 1/(a*a), 1/(b*b)
	return ellipse{
		cx: cx, cy: cy,
		qa: c*c*ia + s*s*ib,
		qb: 2 * c * s * (ia - ib),
		qc: s*s*ia + c*c*ib,
		k:  math.Sqrt(a*b) / edge,
	}
}

// alpha returns the coverage of the point (x, y), in [0, 1].
func (e *ellipse) alpha(x, y float64) float64 {
	dx, dy := x-e.cx, y-e.cy
	q := math.Sqrt(e.qa*dx*dx + e.qb*dx*dy + e.qc*dy*dy)
	return clamp01((1-q)*e.k + 0.5)
}

// rowInterval returns the x interval where q ≤ s on row y, and false when
// the row misses it.
func (e *ellipse) rowInterval(y, s float64) (lo, hi float64, ok bool) {
	dy := y - e.cy
	b := e.qb * dy
	disc := b*b - 4*e.qa*(e.qc*dy*dy-s*s)
	if disc < 0 || s <= 0 {
		return 0, 0, false
	}
	r := math.Sqrt(disc)
	return e.cx + (-b-r)/(2*e.qa), e.cx + (-b+r)/(2*e.qa), true
}

// span is the part of one image row an ellipse touches: columns
// [o0, o1] have some coverage, [i0, i1] (possibly empty, i0 > i1) full
// coverage. Columns are clipped to [0, cols).
type span struct{ o0, o1, i0, i1 int }

// rowSpan returns the span of row y in an image cols wide, and false when
// the ellipse does not touch the row.
func (e *ellipse) rowSpan(y float64, cols int) (span, bool) {
	lo, hi, ok := e.rowInterval(y, 1+0.5/e.k)
	if !ok {
		return span{}, false
	}
	sp := span{o0: max(int(math.Ceil(lo)), 0), o1: min(int(math.Floor(hi)), cols-1), i0: 1, i1: 0}
	if sp.o0 > sp.o1 {
		return span{}, false
	}
	if lo, hi, ok := e.rowInterval(y, 1-0.5/e.k); ok {
		// Pixels strictly inside the inner outline are fully covered;
		// rounding inwards keeps the boundary pixels on the exact path.
		sp.i0, sp.i1 = max(int(math.Ceil(lo)), sp.o0), min(int(math.Floor(hi)), sp.o1)
	}
	return sp, true
}

// paint blends value hu into row (the pixels of image row y) with the
// ellipse's coverage.
func (e *ellipse) paint(row []float32, y float64, hu float32) {
	sp, ok := e.rowSpan(y, len(row))
	if !ok {
		return
	}
	for x := sp.o0; x <= sp.o1; x++ {
		if x >= sp.i0 && x <= sp.i1 {
			row[x] = hu
			continue
		}
		a := float32(e.alpha(float64(x), y))
		row[x] += (hu - row[x]) * a
	}
}

// cover raises cov (coverage per pixel of row y) to the ellipse's coverage.
func (e *ellipse) cover(cov []float32, y float64) {
	sp, ok := e.rowSpan(y, len(cov))
	if !ok {
		return
	}
	for x := sp.o0; x <= sp.o1; x++ {
		a := float32(1)
		if x < sp.i0 || x > sp.i1 {
			a = float32(e.alpha(float64(x), y))
		}
		cov[x] = max(cov[x], a)
	}
}

// cut lowers cov by the ellipse's coverage: cov ← cov·(1 − alpha).
func (e *ellipse) cut(cov []float32, y float64) {
	sp, ok := e.rowSpan(y, len(cov))
	if !ok {
		return
	}
	for x := sp.o0; x <= sp.o1; x++ {
		if x >= sp.i0 && x <= sp.i1 {
			cov[x] = 0
			continue
		}
		cov[x] *= 1 - float32(e.alpha(float64(x), y))
	}
}

func clamp01(v float64) float64 {
	return math.Min(math.Max(v, 0), 1)
}
