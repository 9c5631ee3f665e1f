package geom

import (
	"math"
	"testing"
)

// rotated is a proper rotation about an oblique axis followed by a shear-free
// axis flip, so D is neither symmetric nor its own inverse: multiplying by
// D⁻¹ from the wrong side (the book's bug) gives different answers.
func rotated() Geometry {
	a, b := 0.3, -0.7
	rz := [9]float64{math.Cos(a), -math.Sin(a), 0, math.Sin(a), math.Cos(a), 0, 0, 0, 1}
	rx := [9]float64{1, 0, 0, 0, math.Cos(b), -math.Sin(b), 0, math.Sin(b), math.Cos(b)}
	return Geometry{
		Origin:    [3]float64{-180.5, -200.25, -340},
		Spacing:   [3]float64{0.703125, 0.8, 2.5},
		Direction: mul(rz, rx),
	}
}

func mul(a, b [9]float64) [9]float64 {
	var c [9]float64
	for i := 0; i < 3; i++ {
		for j := 0; j < 3; j++ {
			for k := 0; k < 3; k++ {
				c[3*i+j] += a[3*i+k] * b[3*k+j]
			}
		}
	}
	return c
}

func TestRoundTripRotated(t *testing.T) {
	g := rotated()
	if g.Direction[1] == g.Direction[3] {
		t.Fatal("test matrix is symmetric")
	}
	for _, irc := range [][3]int{{0, 0, 0}, {10, 200, 311}, {39, 511, 0}, {7, 1, 500}} {
		xyz := g.IRC2XYZ([3]float64{float64(irc[0]), float64(irc[1]), float64(irc[2])})
		back, err := g.XYZ2IRC(xyz)
		if err != nil {
			t.Fatal(err)
		}
		if back != irc {
			t.Errorf("irc %v -> xyz %v -> irc %v", irc, xyz, back)
		}
	}
}

// TestIRC2XYZByHand checks one voxel against the formula written out.
func TestIRC2XYZByHand(t *testing.T) {
	g := rotated()
	idx, row, col := 3.0, 5.0, 7.0
	v := [3]float64{col * g.Spacing[0], row * g.Spacing[1], idx * g.Spacing[2]}
	d := g.Direction
	want := [3]float64{
		d[0]*v[0] + d[1]*v[1] + d[2]*v[2] + g.Origin[0],
		d[3]*v[0] + d[4]*v[1] + d[5]*v[2] + g.Origin[1],
		d[6]*v[0] + d[7]*v[1] + d[8]*v[2] + g.Origin[2],
	}
	got := g.IRC2XYZ([3]float64{idx, row, col})
	for i := range got {
		if math.Abs(got[i]-want[i]) > 1e-9 {
			t.Errorf("xyz[%d] = %v, want %v", i, got[i], want[i])
		}
	}
}

func TestRoundHalfEven(t *testing.T) {
	g := Geometry{Spacing: [3]float64{1, 1, 1}, Direction: Identity}
	// xyz (x, y, z) = (2.5, 3.5, 0.5) -> col 2 (half to even), row 4, index 0.
	irc, err := g.XYZ2IRC([3]float64{2.5, 3.5, 0.5})
	if err != nil {
		t.Fatal(err)
	}
	if irc != [3]int{0, 4, 2} {
		t.Errorf("got %v, want [0 4 2]", irc)
	}
}

func TestValidate(t *testing.T) {
	bad := []Geometry{
		{Spacing: [3]float64{0, 1, 1}, Direction: Identity},
		{Spacing: [3]float64{1, 1, 1}},
		{Spacing: [3]float64{1, math.NaN(), 1}, Direction: Identity},
		{Origin: [3]float64{math.Inf(1), 0, 0}, Spacing: [3]float64{1, 1, 1}, Direction: Identity},
	}
	for i, g := range bad {
		if g.Validate() == nil {
			t.Errorf("case %d: invalid geometry accepted", i)
		}
	}
	if err := rotated().Validate(); err != nil {
		t.Error(err)
	}
}
