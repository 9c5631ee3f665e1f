package candidates

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/ctseg/ctseg/geom"
)

// volume is a hand-built test CT: logits −10 (background) or +10 (mask),
// HU 0 unless set.
type volume struct {
	shape  [3]int
	hu     []int16
	logits []float32
}

func newVolume(d, h, w int) *volume {
	v := &volume{shape: [3]int{d, h, w}, hu: make([]int16, d*h*w), logits: make([]float32, d*h*w)}
	for i := range v.logits {
		v.logits[i] = -10
	}
	return v
}

func (v *volume) idx(z, y, x int) int { return (z*v.shape[1]+y)*v.shape[2] + x }

// box sets the mask on [z0,z1)×[y0,y1)×[x0,x1).
func (v *volume) box(z0, z1, y0, y1, x0, x1 int) {
	for z := z0; z < z1; z++ {
		for y := y0; y < y1; y++ {
			for x := x0; x < x1; x++ {
				v.logits[v.idx(z, y, x)] = 10
			}
		}
	}
}

// cross sets the mask on a voxel and its six neighbours: the smallest
// mask whose erosion keeps that voxel.
func (v *volume) cross(z, y, x int) {
	for _, o := range [7][3]int{{0, 0, 0}, {-1, 0, 0}, {1, 0, 0}, {0, -1, 0}, {0, 1, 0}, {0, 0, -1}, {0, 0, 1}} {
		v.logits[v.idx(z+o[0], y+o[1], x+o[2])] = 10
	}
}

func (v *volume) group(t *testing.T, g geom.Geometry) []Candidate {
	t.Helper()
	c, err := Group(v.shape, g, v.hu, v.logits, DefaultThreshold)
	if err != nil {
		t.Fatal(err)
	}
	checkReference(t, v.shape, v.hu, v.logits, c)
	return c
}

// checkReference compares candidates with the naive reference.
func checkReference(t *testing.T, shape [3]int, hu []int16, logits []float32, got []Candidate) {
	t.Helper()
	want := reference(shape, hu, logits, DefaultThreshold)
	if len(got) != len(want) {
		t.Fatalf("%d components, reference has %d", len(got), len(want))
	}
	for i, w := range want {
		g := got[i]
		if g.Label != i+1 || g.Voxels != w.voxels || g.CenterIRC != w.irc || g.MaxLogit != w.lmax {
			t.Fatalf("component %d: got label %d, %d voxels, centre %v, max %v; reference %d voxels, centre %v, max %v",
				i+1, g.Label, g.Voxels, g.CenterIRC, g.MaxLogit, w.voxels, w.irc, w.lmax)
		}
		if mean := w.lsum / float64(w.voxels); math.Abs(g.MeanLogit-mean) > 1e-12*math.Max(1, math.Abs(mean)) {
			t.Fatalf("component %d: mean logit %v, reference %v", i+1, g.MeanLogit, mean)
		}
	}
}

func wantVoxels(t *testing.T, c []Candidate, voxels ...int) {
	t.Helper()
	if len(c) != len(voxels) {
		t.Fatalf("%d components, want %d: %+v", len(c), len(voxels), c)
	}
	for i, n := range voxels {
		if c[i].Voxels != n {
			t.Errorf("component %d has %d voxels, want %d", i+1, c[i].Voxels, n)
		}
	}
}

// TestFullVolume: a mask filling the whole volume keeps only the interior,
// because SciPy's border_value 0 makes every face voxel (and so every edge
// and corner voxel) lose a neighbour.
func TestFullVolume(t *testing.T) {
	for _, s := range [][3]int{{5, 5, 5}, {3, 3, 3}, {4, 6, 70}, {3, 4, 128}} {
		v := newVolume(s[0], s[1], s[2])
		v.box(0, s[0], 0, s[1], 0, s[2])
		c := v.group(t, unitGeom())
		wantVoxels(t, c, (s[0]-2)*(s[1]-2)*(s[2]-2))
		want := [3]float64{float64(s[0]-1) / 2, float64(s[1]-1) / 2, float64(s[2]-1) / 2}
		if c[0].CenterIRC != want {
			t.Errorf("shape %v: centre %v, want %v", s, c[0].CenterIRC, want)
		}
	}
}

// TestThinVolumes: fewer than three slices, rows or columns leave nothing.
func TestThinVolumes(t *testing.T) {
	for _, s := range [][3]int{{1, 9, 9}, {2, 9, 9}, {9, 2, 9}, {9, 9, 2}, {1, 1, 1}} {
		v := newVolume(s[0], s[1], s[2])
		v.box(0, s[0], 0, s[1], 0, s[2])
		wantVoxels(t, v.group(t, unitGeom()))
	}
}

// TestFacesAndCorners: boxes touching each face or corner of the volume lose
// their layer on that face; the opposite layers erode as usual.
func TestFacesAndCorners(t *testing.T) {
	v := newVolume(6, 7, 8)
	v.box(0, 3, 0, 3, 0, 3) // at the corner (0,0,0): keeps (1,1,1) only
	c := v.group(t, unitGeom())
	wantVoxels(t, c, 1)
	if c[0].CenterIRC != [3]float64{1, 1, 1} {
		t.Errorf("centre %v", c[0].CenterIRC)
	}
	v = newVolume(6, 7, 8)
	v.box(3, 6, 4, 7, 5, 8) // at the far corner: keeps (4,5,6)
	c = v.group(t, unitGeom())
	wantVoxels(t, c, 1)
	if c[0].CenterIRC != [3]float64{4, 5, 6} {
		t.Errorf("centre %v", c[0].CenterIRC)
	}
	v = newVolume(6, 7, 8)
	v.box(0, 6, 2, 5, 2, 5) // through both slice faces: slices 1…4 of the core
	wantVoxels(t, v.group(t, unitGeom()), 4)
}

// TestSingleVoxels: one-voxel and thin components vanish in the erosion.
func TestSingleVoxels(t *testing.T) {
	v := newVolume(7, 7, 7)
	v.box(3, 4, 3, 4, 3, 4)
	v.box(1, 2, 1, 6, 1, 2) // a line
	v.box(5, 6, 1, 6, 1, 6) // a plane one voxel thick
	wantVoxels(t, v.group(t, unitGeom()))
}

// TestBridge: a one-voxel bridge between two blocks erodes away and leaves
// two components; a thick bridge keeps one.
func TestBridge(t *testing.T) {
	v := newVolume(5, 5, 12)
	v.box(1, 4, 1, 4, 1, 5)
	v.box(1, 4, 1, 4, 7, 11)
	v.box(2, 3, 2, 3, 5, 7) // thin bridge: adds its ends (2,2,4) and (2,2,7) to the cores
	wantVoxels(t, v.group(t, unitGeom()), 3, 3)
	v.box(1, 4, 1, 4, 5, 7) // thick bridge
	wantVoxels(t, v.group(t, unitGeom()), 8)
}

// TestDiagonal: eroded voxels touching along an edge or at a corner are
// not 6-connected and stay separate; face neighbours join.
func TestDiagonal(t *testing.T) {
	for _, o := range [][3]int{{0, 1, 1}, {1, 0, 1}, {1, 1, 0}, {1, 1, 1}, {1, -1, 1}} {
		v := newVolume(7, 7, 7)
		v.cross(3, 3, 3)
		v.cross(3+o[0], 3+o[1], 3+o[2])
		wantVoxels(t, v.group(t, unitGeom()), 1, 1)
	}
	v := newVolume(7, 7, 7)
	v.cross(3, 3, 3)
	v.cross(3, 3, 4)
	wantVoxels(t, v.group(t, unitGeom()), 2)
}

// TestLabelOrder: labels follow the raster order of each component's first
// voxel, even when a later-starting component reaches lower slices.
func TestLabelOrder(t *testing.T) {
	v := newVolume(9, 9, 9)
	v.cross(5, 2, 2)        // first voxel (5,2,2)
	v.box(2, 8, 4, 7, 4, 7) // first eroded voxel (3,5,5)
	v.box(1, 4, 1, 4, 6, 8) // too thin in col: vanishes
	c := v.group(t, unitGeom())
	wantVoxels(t, c, 4*1*1, 1)
	if c[0].CenterIRC[0] != 4.5 || c[1].CenterIRC != [3]float64{5, 2, 2} {
		t.Errorf("order: %+v", c)
	}
}

// TestWeights checks a centre of mass by hand: HU below −1000 weighs 1,
// HU above 1000 weighs 2001.
func TestWeights(t *testing.T) {
	v := newVolume(5, 5, 7)
	v.cross(2, 2, 2)
	v.cross(2, 2, 3)
	v.cross(2, 2, 4)
	v.hu[v.idx(2, 2, 2)] = -3024 // weight 1
	v.hu[v.idx(2, 2, 3)] = 3071  // weight 2001
	v.hu[v.idx(2, 2, 4)] = -500  // weight 501
	c := v.group(t, unitGeom())
	wantVoxels(t, c, 3)
	col := (2*1 + 3*2001 + 4*501) / float64(1+2001+501)
	if c[0].CenterIRC != [3]float64{2, 2, col} {
		t.Errorf("centre %v, want [2 2 %v]", c[0].CenterIRC, col)
	}
}

// TestGeometry maps a centre through a rotated, non-symmetric direction.
func TestGeometry(t *testing.T) {
	a := 0.4
	g := geom.Geometry{
		Origin:    [3]float64{-180.5, -200.25, -340},
		Spacing:   [3]float64{0.7, 0.8, 2.5},
		Direction: [9]float64{math.Cos(a), -math.Sin(a), 0, 0, 0, 1, math.Sin(a), math.Cos(a), 0},
	}
	v := newVolume(6, 7, 8)
	v.cross(2, 3, 4)
	v.cross(3, 3, 4)
	c := v.group(t, g)
	wantVoxels(t, c, 2)
	i, r, col := 2.5, 3.0, 4.0
	vx, vy, vz := col*0.7, r*0.8, i*2.5
	want := [3]float64{
		math.Cos(a)*vx - math.Sin(a)*vy - 180.5,
		vz - 200.25,
		math.Sin(a)*vx + math.Cos(a)*vy - 340,
	}
	for k := range want {
		if math.Abs(c[0].CenterXYZ[k]-want[k]) > 1e-9 {
			t.Errorf("xyz %v, want %v", c[0].CenterXYZ, want)
		}
	}
}

// TestScores: mean and max logit and the probability from the mean.
func TestScores(t *testing.T) {
	v := newVolume(5, 5, 6)
	v.cross(2, 2, 2)
	v.cross(2, 2, 3)
	v.logits[v.idx(2, 2, 2)] = 3
	v.logits[v.idx(2, 2, 3)] = 40
	c := v.group(t, unitGeom())
	wantVoxels(t, c, 2)
	if c[0].MeanLogit != 21.5 || c[0].MaxLogit != 40 || c[0].Probability != Sigmoid(21.5) {
		t.Errorf("scores %+v", c[0])
	}
}

// TestThresholdTies: a logit of 0 or 2⁻²³ gives a float32 probability of
// exactly 0.5, which is not > 0.5; the next float32 up is in the mask.
func TestThresholdTies(t *testing.T) {
	tiny := float32(math.Ldexp(1, -23))
	for _, tc := range []struct {
		logit float32
		in    bool
	}{{0, false}, {tiny, false}, {math.Nextafter32(tiny, 1), true}, {float32(math.NaN()), false}, {float32(math.Inf(1)), true}} {
		v := newVolume(5, 5, 5)
		v.cross(2, 2, 2)
		v.logits[v.idx(2, 2, 2)] = tc.logit
		c, err := Group(v.shape, unitGeom(), v.hu, v.logits, DefaultThreshold)
		if err != nil {
			t.Fatal(err)
		}
		if (len(c) == 1) != tc.in {
			t.Errorf("logit %v: %d components", tc.logit, len(c))
		}
	}
}

// TestLogitCutoff checks the cutoff against the float32 probability rule on
// both sides, for several thresholds.
func TestLogitCutoff(t *testing.T) {
	c, err := LogitCutoff(0.5)
	if err != nil {
		t.Fatal(err)
	}
	if want := math.Nextafter32(float32(math.Ldexp(1, -23)), 1); c != want {
		t.Errorf("cutoff(0.5) = %g, want %g", c, want)
	}
	for _, th := range []float64{1e-30, 1e-5, 0.1, 0.3, 0.5, 0.7, 0.9, 0.99, 0.9999, 1 - 1e-7} {
		c, err := LogitCutoff(th)
		if err != nil {
			t.Fatal(err)
		}
		p := func(x float32) float32 { return float32(Sigmoid(float64(x))) }
		below := math.Nextafter32(c, float32(math.Inf(-1)))
		if !(p(c) > float32(th)) || p(below) > float32(th) {
			t.Errorf("threshold %v: cutoff %g gives p %g, %g gives %g", th, c, p(c), below, p(below))
		}
	}
	for _, th := range []float64{0, -1, 1, 1 - 1e-9, math.NaN()} {
		if _, err := LogitCutoff(th); err == nil {
			t.Errorf("threshold %v accepted", th)
		}
	}
}

// TestRandom compares with the naive reference on random small volumes:
// i.i.d. masks of several densities, with widths around the 64-bit word
// size, and some deeper volumes whose components join several slices apart.
func TestRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := 0; trial < 400; trial++ {
		s := [3]int{1 + rng.IntN(8), 1 + rng.IntN(10), 1 + rng.IntN(140)}
		if trial%4 == 0 {
			s[2] = 62 + rng.IntN(5) // 62…66 and multiples of 64
		}
		if trial%10 == 0 { // deep and dense: components that merge slices later
			s = [3]int{10 + rng.IntN(20), 10 + rng.IntN(20), 60 + rng.IntN(80)}
		}
		density := 0.5 + 0.5*rng.Float64()
		n := s[0] * s[1] * s[2]
		hu := make([]int16, n)
		logits := make([]float32, n)
		for i := range logits {
			hu[i] = int16(rng.IntN(6000) - 3000)
			logits[i] = float32(rng.NormFloat64()*3 - 1)
			if rng.Float64() < density {
				logits[i] = float32(rng.Float64()*20 + 1e-3)
			}
		}
		c, err := Group(s, unitGeom(), hu, logits, DefaultThreshold)
		if err != nil {
			t.Fatal(err)
		}
		checkReference(t, s, hu, logits, c)
	}
}

// TestStreamingErrors: slices out of order, wrong sizes, early Finish.
func TestStreamingErrors(t *testing.T) {
	gr, err := NewGrouper([3]int{3, 4, 5}, unitGeom(), DefaultThreshold)
	if err != nil {
		t.Fatal(err)
	}
	hu, lg := make([]int16, 20), make([]float32, 20)
	if gr.Add(1, hu, lg) == nil {
		t.Error("slice 1 before slice 0 accepted")
	}
	if gr.Add(0, hu[:19], lg) == nil {
		t.Error("short slice accepted")
	}
	if gr.Add(0, hu, lg) != nil {
		t.Error("slice 0 refused")
	}
	if _, err := gr.Finish(); err == nil {
		t.Error("Finish after 1 of 3 slices accepted")
	}
	for _, bad := range [][3]int{{0, 4, 4}, {4, -1, 4}} {
		if _, err := NewGrouper(bad, unitGeom(), 0.5); err == nil {
			t.Errorf("shape %v accepted", bad)
		}
	}
	if _, err := NewGrouper([3]int{3, 3, 3}, geom.Geometry{Spacing: [3]float64{1, 1, 1}}, 0.5); err == nil {
		t.Error("singular direction accepted")
	}
}
