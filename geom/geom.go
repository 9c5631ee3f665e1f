// Package geom converts between a CT's voxel indexes and patient (world)
// coordinates, the way SPEC.md's Geometry section defines it.
//
// Arrays are indexed [index, row, col] (IRC, that is z, y, x); world
// coordinates are xyz in millimetres.
package geom

import (
	"fmt"
	"math"
)

// Geometry places a voxel grid in the world: xyz = D·(col·sx, row·sy,
// index·sz) + Origin, with D the row-major Direction matrix and s the
// Spacing (x, y, z order, as MetaImage writes them).
type Geometry struct {
	Origin    [3]float64 // world position of voxel (0,0,0), x y z in mm
	Spacing   [3]float64 // voxel size along x (col), y (row), z (index) in mm
	Direction [9]float64 // 3×3 row-major direction cosines
}

// Identity is the direction matrix every LUNA16 header carries.
var Identity = [9]float64{1, 0, 0, 0, 1, 0, 0, 0, 1}

// IRC2XYZ maps a (possibly fractional) voxel position [index, row, col]
// to world xyz, without rounding.
func (g Geometry) IRC2XYZ(irc [3]float64) [3]float64 {
	v := [3]float64{irc[2] * g.Spacing[0], irc[1] * g.Spacing[1], irc[0] * g.Spacing[2]}
	d := g.Direction
	var xyz [3]float64
	for i := 0; i < 3; i++ {
		xyz[i] = d[3*i]*v[0] + d[3*i+1]*v[1] + d[3*i+2]*v[2] + g.Origin[i]
	}
	return xyz
}

// XYZ2IRCFloat maps world xyz to the fractional voxel position
// [index, row, col]: D⁻¹·(xyz − origin)/s. (The book multiplies by D⁻¹ from
// the wrong side; SPEC.md fixes that.)
func (g Geometry) XYZ2IRCFloat(xyz [3]float64) ([3]float64, error) {
	inv, err := invert3(g.Direction)
	if err != nil {
		return [3]float64{}, err
	}
	rel := [3]float64{xyz[0] - g.Origin[0], xyz[1] - g.Origin[1], xyz[2] - g.Origin[2]}
	var cri [3]float64
	for i := 0; i < 3; i++ {
		cri[i] = (inv[3*i]*rel[0] + inv[3*i+1]*rel[1] + inv[3*i+2]*rel[2]) / g.Spacing[i]
	}
	return [3]float64{cri[2], cri[1], cri[0]}, nil
}

// XYZ2IRC maps world xyz to the nearest voxel [index, row, col], rounding
// half to even as numpy does (SPEC.md: faithful).
func (g Geometry) XYZ2IRC(xyz [3]float64) ([3]int, error) {
	f, err := g.XYZ2IRCFloat(xyz)
	if err != nil {
		return [3]int{}, err
	}
	return [3]int{int(math.RoundToEven(f[0])), int(math.RoundToEven(f[1])), int(math.RoundToEven(f[2]))}, nil
}

// Validate reports a geometry that cannot map coordinates: a zero, negative
// or non-finite spacing, or a singular direction matrix.
func (g Geometry) Validate() error {
	for i, s := range g.Spacing {
		if !(s > 0) || math.IsInf(s, 0) {
			return fmt.Errorf("spacing[%d] = %v: must be a positive number", i, s)
		}
	}
	for i, o := range g.Origin {
		if math.IsNaN(o) || math.IsInf(o, 0) {
			return fmt.Errorf("origin[%d] = %v: must be finite", i, o)
		}
	}
	_, err := invert3(g.Direction)
	return err
}

func invert3(m [9]float64) ([9]float64, error) {
	a, b, c := m[0], m[1], m[2]
	d, e, f := m[3], m[4], m[5]
	g, h, i := m[6], m[7], m[8]
	det := a*(e*i-f*h) - b*(d*i-f*g) + c*(d*h-e*g)
	if det == 0 || math.IsNaN(det) || math.IsInf(det, 0) {
		return [9]float64{}, fmt.Errorf("direction matrix %v is singular", m)
	}
	return [9]float64{
		(e*i - f*h) / det, (c*h - b*i) / det, (b*f - c*e) / det,
		(f*g - d*i) / det, (a*i - c*g) / det, (c*d - a*f) / det,
		(d*h - e*g) / det, (b*g - a*h) / det, (a*e - b*d) / det,
	}, nil
}
