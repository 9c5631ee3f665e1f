package crop

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/ctseg/ctseg/format"
	"github.com/ctseg/ctseg/geom"
)

// huAt is the phantom's HU at a voxel: a value that differs between
// neighbouring slices, rows and cols, and spans [−1300, 1299] so that
// clipping matters.
func huAt(i, r, c int) int16 {
	return int16((i*131+r*17+c*7)%2600 - 1300)
}

func clip(v int16) int16 {
	if v < -1000 {
		return -1000
	}
	if v > 1000 {
		return 1000
	}
	return v
}

// synthCT builds a CT of the given shape filled by huAt, with an empty mask.
func synthCT(depth, rows, cols int) *format.CT {
	ct := &format.CT{
		SeriesUID: "1.2.3.phantom",
		Shape:     [3]int{depth, rows, cols},
		Geometry:  geom.Geometry{Spacing: [3]float64{1, 1, 1}, Direction: geom.Identity},
		HU:        make([]int16, depth*rows*cols),
		Mask:      make([]uint8, depth*rows*cols),
	}
	for i := range depth {
		for r := range rows {
			for c := range cols {
				ct.HU[(i*rows+r)*cols+c] = huAt(i, r, c)
			}
		}
	}
	return ct
}

func at(irc [3]int) format.Candidate {
	return format.Candidate{CenterIRC: irc, IsNodule: true}
}

func TestWindowStart(t *testing.T) {
	// Expected starts worked out by hand from SPEC.md's rule.
	cases := []struct{ center, width, size, want int }{
		{10, 7, 40, 6},  // 6.5 → 6: even centre starts at c−4
		{11, 7, 40, 8},  // 7.5 → 8: odd centre starts at c−3
		{12, 7, 40, 8},  // 8.5 → 8
		{13, 7, 40, 10}, // 9.5 → 10
		{0, 7, 40, 0},   // −3.5 → shifted to 0
		{3, 7, 40, 0},   // −0.5 → −0
		{4, 7, 40, 0},   // 0.5 → 0
		{5, 7, 40, 2},   // 1.5 → 2
		{36, 7, 40, 32}, // 32.5 → 32, ends at 39
		{37, 7, 40, 33}, // 33.5 → 34, ends past 40 → shifted to 33
		{39, 7, 40, 33},
		{50, 96, 100, 2},
		{10, 96, 100, 0},
		{99, 96, 100, 4},
		{48, 96, 96, 0},
		{0, 7, 7, 0},
		{6, 7, 7, 0},
		{5, 6, 40, 2}, // even width: plain c − w/2
	}
	for _, tc := range cases {
		got, err := WindowStart(tc.center, tc.width, tc.size)
		if err != nil || got != tc.want {
			t.Errorf("WindowStart(%d, %d, %d) = %d, %v; want %d", tc.center, tc.width, tc.size, got, err, tc.want)
		}
	}
	for _, tc := range []struct{ center, width, size int }{{-1, 7, 40}, {40, 7, 40}, {3, 8, 7}} {
		if _, err := WindowStart(tc.center, tc.width, tc.size); err == nil {
			t.Errorf("WindowStart(%d, %d, %d): no error", tc.center, tc.width, tc.size)
		}
	}
}

// checkCropVoxels compares every voxel of a crop with the phantom formula.
func checkCropVoxels(t *testing.T, c *format.Crop) {
	t.Helper()
	w := c.Shape
	for k := range w[0] {
		for r := range w[1] {
			for col := range w[2] {
				want := clip(huAt(c.StartIRC[0]+k, c.StartIRC[1]+r, c.StartIRC[2]+col))
				if got := c.HU[(k*w[1]+r)*w[2]+col]; got != want {
					t.Fatalf("crop at %v: HU[%d,%d,%d] = %d, want %d", c.Candidate.CenterIRC, k, r, col, got, want)
				}
			}
		}
	}
}

func TestTrainingEdges(t *testing.T) {
	ct := synthCT(40, 100, 104)
	width := DefaultWidth
	cases := []struct{ center, start [3]int }{
		{[3]int{20, 50, 52}, [3]int{16, 2, 4}},  // inside: 16.5→16, 2, 4
		{[3]int{0, 0, 0}, [3]int{0, 0, 0}},      // low corner: shifted up
		{[3]int{39, 99, 103}, [3]int{33, 4, 8}}, // high corner: shifted down
		{[3]int{1, 99, 0}, [3]int{0, 4, 0}},     // low index, high row, low col
		{[3]int{38, 0, 103}, [3]int{33, 0, 8}},  // 34.5→34, 41>40 → 33
		{[3]int{21, 47, 57}, [3]int{18, 0, 8}},  // 17.5→18; −1→0; 9→8
		{[3]int{3, 60, 51}, [3]int{0, 4, 3}},    // −0.5→0; 12→4; 3
		{[3]int{36, 48, 48}, [3]int{32, 0, 0}},  // 32.5→32, exactly fits
		{[3]int{37, 52, 56}, [3]int{33, 4, 8}},  // 33.5→34 → shifted to 33
		{[3]int{4, 51, 55}, [3]int{0, 3, 7}},    // 0.5→0
		{[3]int{5, 49, 53}, [3]int{2, 1, 5}},    // 1.5→2
	}
	for _, tc := range cases {
		cand := at(tc.center)
		c, err := Training(ct, cand, width)
		if err != nil {
			t.Fatalf("Training at %v: %v", tc.center, err)
		}
		if c.StartIRC != tc.start || c.Shape != width || c.Candidate != cand || c.SeriesUID != ct.SeriesUID {
			t.Errorf("crop at %v: start %v shape %v cand %+v uid %q; want start %v", tc.center, c.StartIRC, c.Shape, c.Candidate, c.SeriesUID, tc.start)
		}
		checkCropVoxels(t, c)
	}
}

// TestMiddleSliceQuirk marks slice c−1 and slice c with different
// patterns: an even centre index takes its label from c−1, an odd one
// from c (SPEC.md, faithful).
func TestMiddleSliceQuirk(t *testing.T) {
	ct := synthCT(30, 100, 100)
	mark := func(slice, row, col int) { ct.Mask[(slice*100+row)*100+col] = 1 }
	for c := range 100 {
		mark(9, 50, c)  // slice 9: a row
		mark(10, c, 50) // slice 10: a column
		mark(11, 20, c) // slice 11: another row
	}
	cases := []struct {
		center   int
		start    int
		labelRow int // the marked row in crop coordinates, or −1 for a column
	}{
		{10, 6, 50 - 2}, // even: middle channel is slice 9, its row 50
		{11, 8, 20 - 2}, // odd: middle channel is slice 11, its row 20
	}
	for _, tc := range cases {
		c, err := Training(ct, at([3]int{tc.center, 50, 50}), DefaultWidth)
		if err != nil {
			t.Fatal(err)
		}
		if c.StartIRC != [3]int{tc.start, 2, 2} {
			t.Fatalf("centre %d: start %v, want [%d 2 2]", tc.center, c.StartIRC, tc.start)
		}
		for r := range 96 {
			for col := range 96 {
				want := uint8(0)
				if r == tc.labelRow {
					want = 1
				}
				if got := c.Label[r*96+col]; got != want {
					t.Fatalf("centre %d: label[%d,%d] = %d, want %d", tc.center, r, col, got, want)
				}
			}
		}
	}
}

func TestClipping(t *testing.T) {
	ct := synthCT(7, 4, 4)
	ct.HU[0], ct.HU[1], ct.HU[2], ct.HU[3] = -3024, -1001, 1001, 32767
	ct.HU[4], ct.HU[5] = -1000, 1000
	c, err := Training(ct, at([3]int{3, 2, 2}), [3]int{7, 4, 4})
	if err != nil {
		t.Fatal(err)
	}
	want := []int16{-1000, -1000, 1000, 1000, -1000, 1000}
	if !slices.Equal(c.HU[:6], want) {
		t.Errorf("clipped %v, want %v", c.HU[:6], want)
	}
	s, err := Validation(ct, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(s.HU[:6], want) {
		t.Errorf("validation clipped %v, want %v", s.HU[:6], want)
	}
	if ct.HU[0] != -3024 {
		t.Error("clipping changed the CT")
	}
}

func TestCropsOrderAndCandidates(t *testing.T) {
	ct := synthCT(20, 96, 96)
	ct.Nodules = []format.Candidate{at([3]int{5, 10, 10}), at([3]int{15, 80, 80})}
	ct.Candidates = []format.Candidate{
		{CenterIRC: [3]int{10, 40, 40}, DiameterMM: 0},
		{CenterIRC: [3]int{0, 95, 0}, IsNodule: true}, // flag must come out false
	}
	var got []format.Candidate
	collect := func(c *format.Crop) error {
		got = append(got, c.Candidate)
		if c.Shape != DefaultWidth {
			t.Errorf("shape %v, want default %v", c.Shape, DefaultWidth)
		}
		return nil
	}
	if err := Crops(ct, TrainOptions{}, collect); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, ct.Nodules) {
		t.Errorf("nodule crops %+v, want %+v", got, ct.Nodules)
	}
	got = nil
	if err := Crops(ct, TrainOptions{Width: [3]int{3, 8, 12}, Candidates: true}, func(c *format.Crop) error {
		got = append(got, c.Candidate)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	want := []format.Candidate{ct.Nodules[0], ct.Nodules[1], ct.Candidates[0], ct.Candidates[1]}
	want[3].IsNodule = false
	if !slices.Equal(got, want) {
		t.Errorf("crops with candidates %+v, want %+v", got, want)
	}
	stop := errors.New("stop")
	if err := Crops(ct, TrainOptions{}, func(*format.Crop) error { return stop }); !errors.Is(err, stop) {
		t.Errorf("emit error not returned: %v", err)
	}
}

// checkSliceVoxels compares a validation slice with the phantom formula,
// given the CT slice each channel must hold.
func checkSliceVoxels(t *testing.T, ct *format.CT, s *format.Slice, chanSlices []int) {
	t.Helper()
	rows, cols := ct.Shape[1], ct.Shape[2]
	h, w := s.Shape[1], s.Shape[2]
	for k, src := range chanSlices {
		for r := range h {
			for c := range w {
				want := int16(-1000)
				if r < rows && c < cols {
					want = clip(huAt(src, r, c))
				}
				if got := s.HU[(k*h+r)*w+c]; got != want {
					t.Fatalf("slice %d: HU[%d,%d,%d] = %d, want %d (CT slice %d)", s.SliceIndex, k, r, c, got, want, src)
				}
			}
		}
	}
	for r := range h {
		for c := range w {
			want := uint8(0)
			if r < rows && c < cols {
				want = ct.Mask[(s.SliceIndex*rows+r)*cols+c]
			}
			if got := s.Label[r*w+c]; got != want {
				t.Fatalf("slice %d: label[%d,%d] = %d, want %d", s.SliceIndex, r, c, got, want)
			}
		}
	}
}

func TestValidationContext(t *testing.T) {
	ct := synthCT(5, 8, 12)
	for i := range ct.Mask {
		ct.Mask[i] = uint8(i % 3 % 2)
	}
	cases := []struct {
		s, context int
		channels   []int
	}{
		{0, 3, []int{0, 0, 0, 0, 1, 2, 3}},
		{1, 3, []int{0, 0, 0, 1, 2, 3, 4}},
		{2, 3, []int{0, 0, 1, 2, 3, 4, 4}},
		{4, 3, []int{1, 2, 3, 4, 4, 4, 4}},
		{4, 1, []int{3, 4, 4}},
		{2, 0, []int{2}},
		{0, 6, []int{0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 4, 4}},
	}
	for _, tc := range cases {
		s, err := Validation(ct, tc.s, tc.context)
		if err != nil {
			t.Fatal(err)
		}
		if s.Shape != [3]int{len(tc.channels), 8, 12} || s.Padding != (format.Padding{}) || s.SliceIndex != tc.s {
			t.Fatalf("slice %d: shape %v padding %+v index %d", tc.s, s.Shape, s.Padding, s.SliceIndex)
		}
		checkSliceVoxels(t, ct, s, tc.channels)
	}
}

func TestValidationPadding(t *testing.T) {
	cases := []struct {
		rows, cols int
		pad        format.Padding
	}{
		{10, 13, format.Padding{Bottom: 2, Right: 3}},
		{9, 16, format.Padding{Bottom: 3}},
		{12, 15, format.Padding{Right: 1}},
		{512, 512, format.Padding{}},
	}
	for _, tc := range cases {
		ct := synthCT(3, tc.rows, tc.cols)
		for i := range ct.Mask {
			ct.Mask[i] = 1
		}
		s, err := Validation(ct, 1, 3)
		if err != nil {
			t.Fatal(err)
		}
		want := [3]int{7, tc.rows + tc.pad.Bottom, tc.cols + tc.pad.Right}
		if s.Shape != want || s.Padding != tc.pad || s.Shape[1]%4 != 0 || s.Shape[2]%4 != 0 {
			t.Fatalf("%d×%d: shape %v padding %+v, want %v %+v", tc.rows, tc.cols, s.Shape, s.Padding, want, tc.pad)
		}
		checkSliceVoxels(t, ct, s, []int{0, 0, 0, 1, 2, 2, 2})
	}
}

func TestSlicesPositiveAndFull(t *testing.T) {
	ct := synthCT(6, 4, 4)
	ct.Mask[2*16+5], ct.Mask[5*16] = 1, 1
	ct.PositiveIndexes = []int{2, 5}
	var got []int
	collect := func(s *format.Slice) error { got = append(got, s.SliceIndex); return nil }
	if err := Slices(ct, ValOptions{Context: 3}, collect); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, []int{2, 5}) {
		t.Errorf("positive slices %v, want [2 5]", got)
	}
	got = nil
	if err := Slices(ct, ValOptions{Context: 3, FullCT: true}, collect); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, []int{0, 1, 2, 3, 4, 5}) {
		t.Errorf("full-CT slices %v", got)
	}
	ct.PositiveIndexes = nil
	clear(ct.Mask)
	got = nil
	if err := Slices(ct, ValOptions{Context: 3}, collect); err != nil || len(got) != 0 {
		t.Errorf("CT without positives: %v, %v", got, err)
	}
}

func TestErrors(t *testing.T) {
	good := synthCT(10, 8, 8)
	noMask := synthCT(10, 8, 8)
	noMask.Mask = nil
	short := synthCT(10, 8, 8)
	short.HU = short.HU[:100]
	shortMask := synthCT(10, 8, 8)
	shortMask.Mask = shortMask.Mask[:5]
	badPos := synthCT(10, 8, 8)
	badPos.PositiveIndexes = []int{3, 10}
	w := [3]int{7, 8, 8}
	cases := []struct {
		name string
		err  error
		want string
	}{
		{"no mask", firstErr(Training(noMask, at([3]int{5, 4, 4}), w)), "no mask"},
		{"no mask val", firstErrS(Validation(noMask, 1, 3)), "no mask"},
		{"short HU", firstErr(Training(short, at([3]int{5, 4, 4}), w)), "HU voxels"},
		{"short mask", Slices(shortMask, ValOptions{}, nil), "mask voxels"},
		{"centre outside", firstErr(Training(good, at([3]int{5, 8, 4}), w)), "outside"},
		{"negative centre", firstErr(Training(good, at([3]int{-1, 4, 4}), w)), "outside"},
		{"too wide", firstErr(Training(good, at([3]int{5, 4, 4}), [3]int{11, 8, 8})), "larger"},
		{"odd in-plane", firstErr(Training(good, at([3]int{5, 4, 4}), [3]int{7, 6, 8})), "multiples of 4"},
		{"slice outside", firstErrS(Validation(good, 10, 3)), "outside"},
		{"negative context", firstErrS(Validation(good, 1, -1)), "context -1: must be in [0, 255]"},
		{"huge context", firstErrS(Validation(good, 1, 1<<40)), "must be in [0, 255]"},
		{"huge context slices", Slices(good, ValOptions{Context: MaxContext + 1}, nil), "context 256: must be in"},
		{"positive index outside", Slices(badPos, ValOptions{Context: 3}, func(*format.Slice) error { return nil }), "outside"},
	}
	for _, tc := range cases {
		if tc.err == nil || !strings.Contains(tc.err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one containing %q", tc.name, tc.err, tc.want)
		}
	}
	good.Nodules = []format.Candidate{at([3]int{5, 4, 9})}
	err := Crops(good, TrainOptions{Width: w}, func(*format.Crop) error { return nil })
	if err == nil || !strings.Contains(err.Error(), good.SeriesUID) {
		t.Errorf("nodule outside: %v, want an error naming the series", err)
	}
}

func firstErr(_ *format.Crop, err error) error   { return err }
func firstErrS(_ *format.Slice, err error) error { return err }

func TestParseWidth(t *testing.T) {
	if w, err := ParseWidth("7,96,96"); err != nil || w != DefaultWidth {
		t.Errorf("ParseWidth(7,96,96) = %v, %v", w, err)
	}
	if w, err := ParseWidth(" 5, 64,128"); err != nil || w != [3]int{5, 64, 128} {
		t.Errorf("ParseWidth(5,64,128) = %v, %v", w, err)
	}
	for s, want := range map[string]string{
		"":          "three comma-separated sizes",
		"7,96":      "three comma-separated sizes",
		"7,96,96,1": "three comma-separated sizes",
		"7,95,96":   "in-plane size 95×96",
		"7,96,98":   "in-plane size 96×98",
		"0,96,96":   "slices 0: must be at least 1",
		"7,-4,96":   "rows -4: must be at least 1",
		"a,96,96":   `slices "a" is not a whole number`,
		"7,96, x":   `cols "x" is not a whole number`,
	} {
		if _, err := ParseWidth(s); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseWidth(%q): error %v, want one containing %q", s, err, want)
		}
	}
}

// TestSlicesCarryCT: every validation slice carries its CT's shape,
// geometry and nodules; with FullCT a CT without a mask gives every slice
// without a label, and without FullCT it is still an error.
func TestSlicesCarryCT(t *testing.T) {
	ct := synthCT(5, 4, 6)
	ct.Geometry.Origin = [3]float64{-10, 20, -300}
	ct.Nodules = []format.Candidate{{CenterXYZ: [3]float64{1, 2, 3}, DiameterMM: 6, IsNodule: true}}
	ct.Mask[3*24+5] = 1
	ct.PositiveIndexes = []int{3}
	want := format.SliceCT{Shape: ct.Shape, Geometry: ct.Geometry, Nodules: ct.Nodules}
	for _, full := range []bool{false, true} {
		n := 0
		err := Slices(ct, ValOptions{Context: 1, FullCT: full}, func(s *format.Slice) error {
			n++
			if s.CT == nil || s.CT.Shape != want.Shape || s.CT.Geometry != want.Geometry || !slices.Equal(s.CT.Nodules, want.Nodules) {
				t.Errorf("full %v: slice %d carries %+v, want %+v", full, s.SliceIndex, s.CT, want)
			}
			if s.Label == nil {
				t.Errorf("full %v: slice %d of a masked CT has no label", full, s.SliceIndex)
			}
			return nil
		})
		if err != nil || n == 0 {
			t.Errorf("full %v: %d slices, %v", full, n, err)
		}
	}
	if s, err := Validation(ct, 3, 1); err != nil || s.CT == nil || s.CT.Shape != ct.Shape {
		t.Errorf("Validation: %+v, %v", s, err)
	}

	ct.Mask, ct.PositiveIndexes = nil, nil
	var got []int
	err := Slices(ct, ValOptions{Context: 1, FullCT: true}, func(s *format.Slice) error {
		if s.Label != nil {
			t.Errorf("slice %d of a CT without a mask has a label", s.SliceIndex)
		}
		got = append(got, s.SliceIndex)
		return nil
	})
	if err != nil || !slices.Equal(got, []int{0, 1, 2, 3, 4}) {
		t.Errorf("full CT without a mask: slices %v, %v", got, err)
	}
	err = Slices(ct, ValOptions{Context: 1}, func(*format.Slice) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "no mask") || !strings.Contains(err.Error(), "--full-ct") {
		t.Errorf("positive slices of a CT without a mask: %v", err)
	}
}
