package phantom

import (
	"math"
	"math/rand/v2"
)

// Typical Hounsfield values of the tissues drawn.
const (
	huAir    = -1000
	huFat    = -100
	huMuscle = 40
	huBone   = 700 // rib and vertebra cortex
	huMarrow = 300 // trabecular bone inside ribs and vertebrae
	huCanal  = 20  // spinal canal (cord and fluid)
	huTable  = 150 // patient table
)

// anatomy holds the drawn parameters of one chest: where the body, lungs,
// heart, spine and ribs are, in pixel units in-plane (in-plane spacing is
// isotropic, as in every LUNA16 scan) and in millimetres along z (measured
// from slice 0, which is the inferior end: z grows towards the head).
type anatomy struct {
	cols, rows int
	mmPerPx    float64 // in-plane spacing

	fovX, fovY, fovR float64 // reconstruction circle, pixels
	cx, cy           float64 // body centre, pixels
	bodyA, bodyB     float64 // body semi-axes (left-right, front-back), px
	fat              float64 // subcutaneous fat thickness, px
	cavA, cavB       float64 // thoracic cavity semi-axes, px
	lungU, lungV     float64 // lung centre offset from the body centre, px
	lungA, lungB     float64 // lung semi-axes at full size, px
	zBase, zApex     float64 // lung base and apex, mm
	domeT            [2]float64
	spineV, spineR   float64 // vertebral body centre (v offset) and radius, px
	tableY, tableTh  float64 // table centre row and thickness, px
	ribGap, ribDrop  float64 // mm between ribs at the back; mm a rib drops to the front
	ribTop           float64 // z of the first rib at the back, mm
	ribHalf, ribThk  float64 // rib half-height (mm, along z) and thickness (px)
	fatHU, lungHU    float64
	lungGrad         float64 // HU added from the front to the back of the lungs (gravity)
	scale            float64 // body size relative to an adult (165 mm half-width)
}

// side −1 is the patient's right (image left), +1 the patient's left.
var sides = [2]float64{-1, 1}

// newAnatomy draws a chest that fits the image: the body fills most of the
// field of view (capped at adult sizes), so small test volumes hold a
// complete miniature chest. With apexCut the lungs run past the last slice.
func newAnatomy(r *rand.Rand, cols, rows, slices int, mmPerPx, sz float64, apexCut bool) *anatomy {
	a := &anatomy{cols: cols, rows: rows, mmPerPx: mmPerPx}
	a.drawBody(r)
	a.drawHeights(r, float64(slices-1)*sz, apexCut)
	a.fatHU = huFat + uniform(r, -15, 15)
	a.lungHU = uniform(r, -900, -850)
	a.lungGrad = uniform(r, 30, 90)
	return a
}

// px converts anatomy millimetres (scaled with the body size) to pixels.
func (a *anatomy) px(mm float64) float64 { return mm * a.scale / a.mmPerPx }

// drawBody places the body, the cavity, the lungs, the spine and the
// table in-plane.
func (a *anatomy) drawBody(r *rand.Rand) {
	a.fovX, a.fovY = float64(a.cols-1)/2, float64(a.rows-1)/2
	a.fovR = float64(min(a.cols, a.rows)) / 2
	bodyMM := math.Min(a.fovR*a.mmPerPx*uniform(r, 0.78, 0.97), uniform(r, 150, 195))
	a.scale = bodyMM / 165
	a.bodyA = bodyMM / a.mmPerPx
	a.bodyB = a.bodyA * uniform(r, 0.62, 0.76)
	a.cx = a.fovX + uniform(r, -0.03, 0.03)*float64(a.cols)
	a.cy = a.fovY + uniform(r, -0.02, 0.06)*float64(a.rows)
	a.fat = a.px(uniform(r, 6, 24))
	wall := a.px(uniform(r, 10, 16))
	a.cavA, a.cavB = a.bodyA-a.fat-wall, a.bodyB-a.fat-wall
	a.lungU, a.lungV = 0.5*a.cavA, uniform(r, -0.03, 0.03)*a.cavB
	a.lungA, a.lungB = 0.44*a.cavA, 0.9*a.cavB
	a.spineR = 0.15 * a.cavA
	a.spineV = a.cavB - 0.45*a.spineR
	a.tableTh = a.px(uniform(r, 3, 6))
	a.tableY = a.cy + a.bodyB + a.px(uniform(r, 2, 12)) + a.tableTh/2
	a.ribThk = a.px(uniform(r, 6, 9))
}

// drawHeights places the lung base and apex, the diaphragm domes and the
// ribs along z, for a scan length mm long.
func (a *anatomy) drawHeights(r *rand.Rand, length float64, apexCut bool) {
	a.zBase = length * uniform(r, 0.0, 0.12)
	a.zApex = length * uniform(r, 0.9, 1.02)
	if apexCut {
		// The top slice cuts the lungs below the apex, as when a scan
		// stops short: the lungs are full-size up to the last slice.
		a.zApex = a.zBase + (length-a.zBase)/0.78
	}
	a.domeT = [2]float64{uniform(r, 0.24, 0.3), uniform(r, 0.18, 0.24)}
	h := a.zApex - a.zBase
	a.ribGap = h / 10.5
	a.ribDrop = 3.5 * a.ribGap
	a.ribTop = a.zApex - 0.05*h
	a.ribHalf = 0.22 * a.ribGap
}

// t returns the relative lung height of z: 0 at the base, 1 at the apex.
func (a *anatomy) t(z float64) float64 { return (z - a.zBase) / (a.zApex - a.zBase) }

// lungSlice holds the lung outlines of one slice: both lungs minus the
// structures that indent them (heart, diaphragm domes, mediastinum, spine).
type lungSlice struct {
	lungs [2]ellipse
	nLung int
	cuts  [5]ellipse
	nCut  int
}

// lungsAt returns the lung outlines at height z (mm).
func (a *anatomy) lungsAt(z float64) lungSlice {
	var ls lungSlice
	t := a.t(z)
	if t <= 0 || t >= 1 {
		return ls
	}
	f := math.Min(1, math.Sqrt((1-t)/0.22)) // the lungs taper to the apex
	for i, s := range sides {
		narrow := 1.0
		if s > 0 {
			narrow = 0.92 // the heart leaves less room on the left
		}
		ls.lungs[ls.nLung] = newEllipse(a.cx+s*a.lungU, a.cy+a.lungV, a.lungA*f*narrow, a.lungB*f, s*0.12, 1)
		ls.nLung++
		if t < a.domeT[i] { // diaphragm dome rising into the lung base
			g := math.Sqrt(1 - t/a.domeT[i])
			ls.cuts[ls.nCut] = newEllipse(a.cx+s*a.lungU, a.cy+a.lungV-0.2*a.lungB, a.lungA*g*1.05, a.lungB*g*0.85, 0, 1.5)
			ls.nCut++
		}
	}
	if hs, ok := a.heart(z, 1.0+0.05); ok {
		ls.cuts[ls.nCut] = hs
		ls.nCut++
	}
	ls.cuts[ls.nCut] = newEllipse(a.cx, a.cy-0.3*a.cavB, 0.13*a.cavA, 0.55*a.cavB, 0, 1.5) // mediastinum
	ls.nCut++
	ls.cuts[ls.nCut] = newEllipse(a.cx, a.cy+a.spineV+0.3*a.spineR, 1.35*a.spineR, 1.6*a.spineR, 0, 1.5) // spine
	ls.nCut++
	return ls
}

// alpha returns the lung coverage of pixel (x, y).
func (ls *lungSlice) alpha(x, y float64) float64 {
	v := 0.0
	for i := 0; i < ls.nLung; i++ {
		v = math.Max(v, ls.lungs[i].alpha(x, y))
	}
	for i := 0; i < ls.nCut && v > 0; i++ {
		v *= 1 - ls.cuts[i].alpha(x, y)
	}
	return v
}

// lungAlpha returns the lung coverage of a point in grid millimetres
// (col·sx, row·sy, index·sz).
func (a *anatomy) lungAlpha(p [3]float64) float64 {
	ls := a.lungsAt(p[2])
	return ls.alpha(p[0]/a.mmPerPx, p[1]/a.mmPerPx)
}

// heart returns the heart outline at z, grown by factor grow, and whether
// the slice crosses the heart.
func (a *anatomy) heart(z, grow float64) (ellipse, bool) {
	t := a.t(z)
	const t0, t1 = 0.04, 0.56
	if t <= t0 || t >= t1 {
		return ellipse{}, false
	}
	f := math.Sqrt(math.Sin(math.Pi*(t-t0)/(t1-t0))) * grow
	return newEllipse(a.cx+0.12*a.cavA, a.cy-0.3*a.cavB, 0.4*a.cavA*f, 0.36*a.cavB*f, -0.6, 1.5), true
}

// paintOp paints one ellipse with one value.
type paintOp struct {
	e  ellipse
	hu float32
}

// bodyOps returns what is painted before the lungs at height z, back to
// front: table, body fat, muscle wall, ribs, spine, sternum, heart.
func (a *anatomy) bodyOps(z float64) []paintOp {
	ops := []paintOp{
		{newEllipse(a.fovX, a.tableY, 50*a.fovR, a.tableTh/2, 0, 1), huTable},
		{newEllipse(a.cx, a.cy, a.bodyA, a.bodyB, 0, 1), float32(a.fatHU)},
		{newEllipse(a.cx, a.cy, a.bodyA-a.fat, a.bodyB-a.fat, 0, 1.5), huMuscle},
	}
	ops = a.ribOps(z, ops)
	ops = a.spineOps(z, ops)
	t := a.t(z)
	if t > 0.3 && t < 0.95 { // sternum
		sv := -a.cavB - 0.5*a.ribThk
		ops = append(ops, paintOp{newEllipse(a.cx, a.cy+sv, 1.6*a.ribThk, 0.5*a.ribThk, 0, 1), huBone},
			paintOp{newEllipse(a.cx, a.cy+sv, 1.6*a.ribThk-1.5, 0.5*a.ribThk-1.5, 0, 1), huMarrow})
	}
	if e, ok := a.heart(z, 1.08); ok { // pericardial fat, then the heart
		ops = append(ops, paintOp{e, huFat + 10})
		e, _ = a.heart(z, 1.0)
		ops = append(ops, paintOp{e, huMuscle})
	}
	return ops
}

// ribOps adds the ribs crossing height z. Rib k leaves the spine at
// ribTop − k·ribGap and drops by ribDrop towards the front, so an axial
// slice cuts each rib obliquely: an elongated oval on the chest wall.
func (a *anatomy) ribOps(z float64, ops []paintOp) []paintOp {
	ringA, ringB := a.cavA+0.5*a.ribThk+1, a.cavB+0.5*a.ribThk+1
	for k := 0; k < 12; k++ {
		theta := (a.ribTop - float64(k)*a.ribGap - z) / a.ribDrop * math.Pi
		if theta < 0.22 || theta > 0.8*math.Pi {
			continue
		}
		for _, s := range sides {
			sn, cs := math.Sin(theta), math.Cos(theta)
			x, y := a.cx+s*ringA*sn, a.cy+ringB*cs
			tx, ty := s*ringA*cs, -ringB*sn // tangent, px per radian
			tl := math.Hypot(tx, ty)
			half := math.Min(a.ribHalf*math.Pi/a.ribDrop*tl, 4*a.ribThk)
			half = math.Max(half, a.ribThk/2)
			ang := math.Atan2(ty, tx)
			ops = append(ops, paintOp{newEllipse(x, y, half, a.ribThk/2, ang, 1), huBone},
				paintOp{newEllipse(x, y, half-1.5, a.ribThk/2-1.5, ang, 1), huMarrow})
		}
	}
	return ops
}

// spineOps adds the vertebra: body (cortex and marrow, or a disc between
// vertebrae), the posterior arch and spinous process, and the canal.
func (a *anatomy) spineOps(z float64, ops []paintOp) []paintOp {
	vx, vy, r := a.cx, a.cy+a.spineV, a.spineR
	period := (a.zApex - a.zBase) / 10
	disc := math.Mod(z-a.zBase+10*period, period) < 0.2*period
	if disc {
		ops = append(ops, paintOp{newEllipse(vx, vy, r, 0.9*r, 0, 1), 80})
	} else {
		ops = append(ops, paintOp{newEllipse(vx, vy, r, 0.9*r, 0, 1), huBone},
			paintOp{newEllipse(vx, vy, r-2, 0.9*r-2, 0, 1), huMarrow})
	}
	canalY, canalR := vy+0.9*r+0.45*r, 0.4*r
	return append(ops,
		paintOp{newEllipse(vx, canalY+0.6*r, 0.22*r, 1.1*r, 0, 1), huBone}, // spinous process
		paintOp{newEllipse(vx, canalY, canalR+0.3*r, canalR+0.25*r, 0, 1), huBone},
		paintOp{newEllipse(vx, canalY, canalR, canalR*0.9, 0, 1), huCanal})
}

// airwayOps returns the trachea or the main bronchi at z, painted over the
// mediastinum after the lungs.
func (a *anatomy) airwayOps(z float64) []paintOp {
	t := a.t(z)
	r := a.px(8)
	y := a.cy - 0.05*a.cavB
	switch {
	case t > 0.58 && t < 1.1:
		return []paintOp{{newEllipse(a.cx, y, r+1.5, r+1.5, 0, 1), huMuscle + 20}, {newEllipse(a.cx, y, r, r*0.9, 0, 1), huAir}}
	case t > 0.48 && t <= 0.58:
		d := 1.8 * r
		return []paintOp{{newEllipse(a.cx-d, y, 0.75*r, 0.7*r, 0, 1), huAir}, {newEllipse(a.cx+d, y, 0.7*r, 0.65*r, 0, 1), huAir}}
	}
	return nil
}
