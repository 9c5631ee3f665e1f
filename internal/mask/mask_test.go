package mask

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

const (
	air    = -1000
	tissue = 40
)

// phantom is a small volume for tests, filled with air.
type phantom struct{ Volume }

func newPhantom(shape [3]int) phantom {
	hu := make([]int16, shape[0]*shape[1]*shape[2])
	for i := range hu {
		hu[i] = air
	}
	return phantom{Volume{HU: hu, Shape: shape}}
}

func (p phantom) at(i, r, c int) *int16 {
	return &p.HU[(i*p.Shape[1]+r)*p.Shape[2]+c]
}

// cuboid sets every voxel of the inclusive box lo…hi to hu.
func (p phantom) cuboid(lo, hi [3]int, hu int16) {
	for i := lo[0]; i <= hi[0]; i++ {
		for r := lo[1]; r <= hi[1]; r++ {
			for c := lo[2]; c <= hi[2]; c++ {
				*p.at(i, r, c) = hu
			}
		}
	}
}

// expectMask is the mask by construction: voxels inside box (inclusive)
// whose HU is above -700, counted with the slices that hold them.
func (p phantom) expectMask(boxes ...[2][3]int) (mask []uint8, voxels int, positive []int) {
	mask = make([]uint8, len(p.HU))
	for i := 0; i < p.Shape[0]; i++ {
		for r := 0; r < p.Shape[1]; r++ {
			for c := 0; c < p.Shape[2]; c++ {
				if *p.at(i, r, c) <= -700 || !inAny(boxes, [3]int{i, r, c}) {
					continue
				}
				mask[(i*p.Shape[1]+r)*p.Shape[2]+c] = 1
				voxels++
				if len(positive) == 0 || positive[len(positive)-1] != i {
					positive = append(positive, i)
				}
			}
		}
	}
	return mask, voxels, positive
}

func inAny(boxes [][2][3]int, v [3]int) bool {
	for _, b := range boxes {
		if v[0] >= b[0][0] && v[0] <= b[1][0] && v[1] >= b[0][1] && v[1] <= b[1][1] && v[2] >= b[0][2] && v[2] <= b[1][2] {
			return true
		}
	}
	return false
}

// checkBuild builds the mask for centres and compares it with the boxes
// worked out by hand in each test.
func checkBuild(t *testing.T, p phantom, centers [][3]int, want ...[2][3]int) *Result {
	t.Helper()
	res, err := Build(p.Volume, centers, DefaultThreshold)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Boxes) != len(want) {
		t.Fatalf("%d boxes, want %d", len(res.Boxes), len(want))
	}
	for k, b := range res.Boxes {
		if b.Lo != want[k][0] || b.Hi != want[k][1] {
			t.Errorf("box %d = %v…%v, want %v…%v", k, b.Lo, b.Hi, want[k][0], want[k][1])
		}
	}
	mask, voxels, positive := p.expectMask(want...)
	if !slices.Equal(res.Mask, mask) {
		t.Error("mask differs from box ∧ (HU > -700)")
	}
	if res.Voxels != voxels || !slices.Equal(res.PositiveIndexes, positive) {
		t.Errorf("voxels %d, positive %v; want %d, %v", res.Voxels, res.PositiveIndexes, voxels, positive)
	}
	return res
}

func TestCentredCuboid(t *testing.T) {
	p := newPhantom([3]int{20, 30, 30})
	p.cuboid([3]int{5, 8, 10}, [3]int{11, 16, 14}, tissue)
	// Centre (8, 12, 12). Index: both sides dense at ±2, ±3 (5 and 11),
	// air at ±4, so r = 4 → [4, 12]. Rows: dense up to ±4 (8, 16), r = 5 →
	// [7, 17]. Cols: dense at ±2 (10, 14), r = 3 → [9, 15]. The mask is
	// the whole cuboid: 7·9·5 voxels.
	res := checkBuild(t, p, [][3]int{{8, 12, 12}}, [2][3]int{{4, 7, 9}, {12, 17, 15}})
	if res.Voxels != 7*9*5 || res.Boxes[0].Radius != [3]int{4, 5, 3} {
		t.Errorf("voxels %d radius %v, want 315, [4 5 3]", res.Voxels, res.Boxes[0].Radius)
	}
}

func TestOffCentreCuboid(t *testing.T) {
	// The box is symmetric about the centre, so an off-centre nodule loses
	// its far side: index centre 7 in [5, 11] stops at r = 3 (4 is air),
	// box [4, 10], and slice 11 is left out of the mask.
	p := newPhantom([3]int{20, 30, 30})
	p.cuboid([3]int{5, 8, 10}, [3]int{11, 16, 14}, tissue)
	res := checkBuild(t, p, [][3]int{{7, 12, 12}}, [2][3]int{{4, 7, 9}, {10, 17, 15}})
	if !slices.Equal(res.PositiveIndexes, []int{5, 6, 7, 8, 9, 10}) {
		t.Errorf("positive %v", res.PositiveIndexes)
	}
}

func TestSphere(t *testing.T) {
	// A ball of radius 4 voxels: along each axis the voxels at ±4 are in it
	// and ±5 are not, so r = 5 and the box holds the whole ball.
	p := newPhantom([3]int{16, 20, 24})
	c := [3]int{7, 9, 12}
	ball := 0
	for i := 0; i < 16; i++ {
		for r := 0; r < 20; r++ {
			for k := 0; k < 24; k++ {
				di, dr, dc := i-c[0], r-c[1], k-c[2]
				if di*di+dr*dr+dc*dc <= 16 {
					*p.at(i, r, k) = tissue
					ball++
				}
			}
		}
	}
	res := checkBuild(t, p, [][3]int{c}, [2][3]int{{2, 4, 7}, {12, 14, 17}})
	if res.Voxels != ball || ball != 257 { // 257: voxels of a radius-4 ball
		t.Errorf("voxels %d, ball %d, want 257", res.Voxels, ball)
	}
}

func TestAir(t *testing.T) {
	// In air the searches stop at once with r = 2; the box is 5 wide and the
	// mask is empty.
	p := newPhantom([3]int{10, 10, 10})
	res := checkBuild(t, p, [][3]int{{5, 5, 5}}, [2][3]int{{3, 3, 3}, {7, 7, 7}})
	if res.Voxels != 0 || len(res.PositiveIndexes) != 0 || res.Boxes[0].Radius != [3]int{2, 2, 2} {
		t.Errorf("air: %+v", res.Boxes)
	}
}

func TestVolumeEdges(t *testing.T) {
	// Fixed bounds rule: a step leaving the volume on either side stops the
	// search with the last radius inside, and boxes are clipped.
	p := newPhantom([3]int{20, 12, 12})
	p.cuboid([3]int{0, 3, 3}, [3]int{4, 7, 7}, tissue)    // touches slice 0
	p.cuboid([3]int{15, 3, 3}, [3]int{19, 7, 7}, tissue)  // touches the last slice
	p.cuboid([3]int{8, 7, 9}, [3]int{11, 11, 11}, tissue) // corner at row 11, col 11
	// (1,5,5): index c-2 = -1 leaves the volume, r = 1 → [0, 2]. (The book
	// would wrap to slice 19, dense here, and grow.) Rows/cols: dense
	// at ±2 (3, 7), air at ±3, r = 3 → [2, 8].
	// (0,5,5): r = 1 → [-1, 1] clipped to [0, 1].
	// (17,5,5): ±2 is 15 and 19, dense; ±3 leaves (20), r = 2 → [15, 19].
	// (18,5,5): +2 = 20 leaves at once, r = 1 → [17, 19].
	// (10,10,10): index: ±2 (8, 12): 12 is air, r = 2 → [8, 12]; rows and
	// cols: +2 = 12 leaves, r = 1 → [9, 11].
	checkBuild(t, p, [][3]int{{1, 5, 5}, {0, 5, 5}, {17, 5, 5}, {18, 5, 5}, {10, 10, 10}},
		[2][3]int{{0, 2, 2}, {2, 8, 8}},
		[2][3]int{{0, 2, 2}, {1, 8, 8}},
		[2][3]int{{15, 2, 2}, {19, 8, 8}},
		[2][3]int{{17, 2, 2}, {19, 8, 8}},
		[2][3]int{{8, 9, 9}, {12, 11, 11}},
	)
	// A one-slice volume: index r = 1, clipped to [0, 0].
	q := newPhantom([3]int{1, 9, 9})
	q.cuboid([3]int{0, 2, 2}, [3]int{0, 6, 6}, tissue)
	checkBuild(t, q, [][3]int{{0, 4, 4}}, [2][3]int{{0, 1, 1}, {0, 7, 7}})
}

func TestChestWall(t *testing.T) {
	// Chest wall: cols 0…9 are soft tissue on every slice and row, and a
	// nodule cuboid (cols 10…15) touches it. The col search passes into
	// the wall, so the box takes wall voxels into the mask, as the book's
	// does.
	p := newPhantom([3]int{12, 20, 24})
	p.cuboid([3]int{0, 0, 0}, [3]int{11, 19, 9}, tissue)
	p.cuboid([3]int{4, 6, 10}, [3]int{8, 12, 15}, tissue)
	// Centre (6, 9, 12): index ±2 (4, 8) dense, ±3 air, r = 3 → [3, 9];
	// rows ±3 (6, 12) dense, ±4 air, r = 4 → [5, 13]; cols ±2 (10, 14)
	// and ±3 (9 wall, 15 nodule) dense, ±4 (8 wall, 16 air) stops, r = 4 →
	// [8, 16]. The mask holds the nodule and wall cols 8–9 of the box.
	res := checkBuild(t, p, [][3]int{{6, 9, 12}}, [2][3]int{{3, 5, 8}, {9, 13, 16}})
	const nodule, wall = 5 * 7 * 6, 7 * 9 * 2
	if res.Voxels != nodule+wall {
		t.Errorf("voxels %d, want %d nodule + %d wall", res.Voxels, nodule, wall)
	}
}

func TestOverlapAndOutside(t *testing.T) {
	p := newPhantom([3]int{10, 20, 20})
	p.cuboid([3]int{2, 4, 4}, [3]int{6, 12, 12}, tissue)
	// Two centres in one cuboid: (4, 8, 6) → index r 3 [1, 7], rows r 5
	// [3, 13], cols ±2 (4, 8) dense, ±3 (3 air) r = 3 → [3, 9]. (4, 8, 10)
	// → cols ±2 (8, 12) dense, ±3 (13 air) r = 3 → [7, 13]. The boxes
	// overlap in cols 7–9, which count once. Centres outside are reported.
	res := checkBuild(t, p, [][3]int{{4, 8, 6}, {-1, 0, 0}, {4, 8, 10}, {0, 20, 0}},
		[2][3]int{{1, 3, 3}, {7, 13, 9}}, [2][3]int{{1, 3, 7}, {7, 13, 13}})
	if res.Voxels != 5*9*9 || !slices.Equal(res.Outside, []int{1, 3}) {
		t.Errorf("voxels %d outside %v, want 405, [1 3]", res.Voxels, res.Outside)
	}
}

func TestThreshold(t *testing.T) {
	p := newPhantom([3]int{1, 1, 9})
	for c, hu := range []int16{-699, -700, -699, -699, 5, -699, -699, -700, -699} {
		*p.at(0, 0, c) = hu
	}
	// Centre col 4 at -700: ±2 (2, 6) = -699 > -700; ±3: cols 1 and 7 are
	// -700, not above, so r = 3, box [1, 7], 5 voxels above. At -700.5
	// ±3 passes, ±4 (0, 8) too and ±5 leaves the volume: r = 4, all 9
	// voxels. At -699 even ±2 fails: r = 2, only the centre is above.
	for _, tc := range []struct {
		threshold float64
		r, voxels int
	}{{-700, 3, 5}, {-700.5, 4, 9}, {-699, 2, 1}} {
		b, err := FindBox(p.Volume, [3]int{0, 0, 4}, tc.threshold)
		if err != nil {
			t.Fatal(err)
		}
		res, err := Build(p.Volume, [][3]int{{0, 0, 4}}, tc.threshold)
		if err != nil {
			t.Fatal(err)
		}
		if b.Radius[2] != tc.r || res.Voxels != tc.voxels {
			t.Errorf("threshold %v: r %d voxels %d, want %d, %d", tc.threshold, b.Radius[2], res.Voxels, tc.r, tc.voxels)
		}
	}
}

func TestErrors(t *testing.T) {
	p := newPhantom([3]int{2, 2, 2})
	for _, tc := range []struct {
		v         Volume
		threshold float64
		want      string
	}{
		{Volume{HU: p.HU[:7], Shape: p.Shape}, -700, "7 voxels"},
		{Volume{HU: nil, Shape: [3]int{0, 2, 2}}, -700, "must be positive"},
		{p.Volume, nanValue(), "NaN"},
	} {
		_, err := Build(tc.v, nil, tc.threshold)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("err %v, want %q", err, tc.want)
		}
	}
	if _, err := FindBox(p.Volume, [3]int{0, 2, 0}, -700); err == nil || !strings.Contains(err.Error(), "outside") {
		t.Errorf("FindBox outside: err %v", err)
	}
}

func nanValue() float64 {
	zero := 0.0
	return zero / zero
}

func TestBuildInto(t *testing.T) {
	p := newPhantom([3]int{6, 8, 8})
	p.cuboid([3]int{1, 1, 1}, [3]int{4, 6, 6}, tissue)
	centres := [][3]int{{3, 4, 4}}
	want, err := Build(p.Volume, centres, DefaultThreshold)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]uint8, 1000)
	got, err := BuildInto(buf, p.Volume, centres, DefaultThreshold)
	if err != nil {
		t.Fatal(err)
	}
	if &got.Mask[0] != &buf[0] || !slices.Equal(got.Mask, want.Mask) || got.Voxels != want.Voxels {
		t.Errorf("BuildInto: reused %v, mask equal %v", &got.Mask[0] == &buf[0], slices.Equal(got.Mask, want.Mask))
	}
	// Clear leaves the whole buffer zero again, for the next CT.
	if again := got.Clear(); &again[0] != &buf[0] || slices.ContainsFunc(buf, func(b uint8) bool { return b != 0 }) {
		t.Error("Clear left mask voxels set")
	}
	small, err := BuildInto(buf[:10:10], p.Volume, nil, DefaultThreshold)
	if err != nil || len(small.Mask) != 6*8*8 || &small.Mask[0] == &buf[0] {
		t.Errorf("BuildInto with a small buffer: %v", err)
	}
}

// TestLoadOnDemand: a volume that loads voxels on demand gives the same
// mask as the whole volume, from a small part of it, and load errors end
// the build.
func TestLoadOnDemand(t *testing.T) {
	p := newPhantom([3]int{40, 32, 32})
	p.cuboid([3]int{10, 5, 5}, [3]int{16, 12, 14}, tissue)
	p.cuboid([3]int{30, 20, 20}, [3]int{33, 25, 25}, tissue)
	centres := [][3]int{{13, 8, 9}, {31, 22, 22}}
	want, err := Build(p.Volume, centres, DefaultThreshold)
	if err != nil {
		t.Fatal(err)
	}
	lazy := Volume{HU: make([]int16, len(p.HU)), Shape: p.Shape}
	for i := range lazy.HU {
		lazy.HU[i] = 999 // not loaded: anything but the truth
	}
	loaded := 0
	lazy.Load = func(lo, hi int) error {
		if lo < 0 || hi > len(p.HU) || lo >= hi {
			t.Fatalf("Load(%d, %d) outside the volume", lo, hi)
		}
		loaded += copy(lazy.HU[lo:hi], p.HU[lo:hi])
		return nil
	}
	got, err := Build(lazy, centres, DefaultThreshold)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.Mask, want.Mask) || !slices.Equal(got.PositiveIndexes, want.PositiveIndexes) {
		t.Error("mask from voxels loaded on demand differs")
	}
	if loaded > len(p.HU)/10 {
		t.Errorf("loaded %d of %d voxels", loaded, len(p.HU))
	}
	lazy.Load = func(lo, hi int) error { return errors.New("disk on fire") }
	if _, err := Build(lazy, centres, DefaultThreshold); err == nil || !strings.Contains(err.Error(), "disk on fire") {
		t.Errorf("load error: got %v", err)
	}
}
