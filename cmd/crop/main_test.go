package main

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/ctseg/ctseg/format"
	"github.com/ctseg/ctseg/geom"
	"github.com/ctseg/ctseg/internal/crop"
	"github.com/ctseg/ctseg/internal/streamtest"
)

// smallCT is a masked 12×96×99 CT (99 cols: validation slices get padded)
// with two nodules and one candidate.
func smallCT(uid string, seed int) *format.CT {
	ct := &format.CT{
		SeriesUID:       uid,
		Shape:           [3]int{12, 96, 99},
		Geometry:        geom.Geometry{Spacing: [3]float64{0.7, 0.7, 2.5}, Direction: geom.Identity},
		HU:              make([]int16, 12*96*99),
		Mask:            make([]uint8, 12*96*99),
		PositiveIndexes: []int{4, 5},
		Nodules: []format.Candidate{
			{CenterIRC: [3]int{4, 50, 60}, IsNodule: true, DiameterMM: 5},
			{CenterIRC: [3]int{11, 0, 98}, IsNodule: true, IsMalignant: true},
		},
		Candidates: []format.Candidate{{CenterIRC: [3]int{0, 95, 0}}},
	}
	for i := range ct.HU {
		ct.HU[i] = int16((i*seed)%3000 - 1500)
	}
	for i := 4 * 96 * 99; i < 6*96*99; i += 7 {
		ct.Mask[i] = 1
	}
	return ct
}

// TestStreams runs crop on two input files and compares its output with
// the library's samples, in series order.
func TestStreams(t *testing.T) {
	a, b := smallCT("1.2.a", 7), smallCT("1.2.b", 11)
	inA, inB := streamtest.Write(t, format.KindCT, a), streamtest.Write(t, format.KindCT, b)
	check := func(args []string, kind format.Kind, want []format.Record) {
		t.Helper()
		got, err := streamtest.Run(t, newApp(), kind, append(args, inA, inB)...)
		if err != nil {
			t.Fatalf("crop %v: %v", args, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("crop %v: %d records, want %d (or contents differ)", args, len(got), len(want))
		}
	}
	check(nil, format.KindCrop, append(crops(t, a, crop.TrainOptions{}), crops(t, b, crop.TrainOptions{})...))
	w := [3]int{3, 8, 4}
	check([]string{"--width", "3,8,4"}, format.KindCrop, append(crops(t, a, crop.TrainOptions{Width: w}), crops(t, b, crop.TrainOptions{Width: w})...))
	withNeg := append(crops(t, a, crop.TrainOptions{Width: w, Candidates: true}), crops(t, b, crop.TrainOptions{Width: w, Candidates: true})...)
	check([]string{"--width", "3,8,4", "--negatives"}, format.KindCrop, withNeg)
	check([]string{"--width", "3,8,4", "--candidates"}, format.KindCrop, withNeg) // the deprecated name
	v := crop.ValOptions{Context: 3}
	check([]string{"--val"}, format.KindSlice, append(slices(t, a, v), slices(t, b, v)...))
	v = crop.ValOptions{Context: 1, FullCT: true}
	check([]string{"--val", "--full-ct", "--context", "1"}, format.KindSlice, append(slices(t, a, v), slices(t, b, v)...))
}

func crops(t *testing.T, ct *format.CT, o crop.TrainOptions) (out []format.Record) {
	t.Helper()
	if err := crop.Crops(ct, o, func(c *format.Crop) error { out = append(out, c); return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

func slices(t *testing.T, ct *format.CT, o crop.ValOptions) (out []format.Record) {
	t.Helper()
	if err := crop.Slices(ct, o, func(s *format.Slice) error { out = append(out, s); return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestErrors(t *testing.T) {
	noMask := smallCT("1.2.nomask", 3)
	noMask.Mask = nil
	in := streamtest.Write(t, format.KindCT, smallCT("1.2.ok", 3))
	bad := streamtest.Write(t, format.KindCT, noMask)
	cropsIn := streamtest.Write(t, format.KindCrop, crops(t, smallCT("1.2.ok", 3), crop.TrainOptions{})...)
	cases := []struct {
		args []string
		want string
	}{
		{[]string{in, bad}, "1.2.nomask: CT record has no mask"},
		{[]string{cropsIn}, "holds crop records"},
		{[]string{"--width", "7,95,96", in}, "--width"},
		{[]string{"--width", "7,96", in}, "--width"},
		{[]string{"--val", "--width", "7,96,96", in}, "--width applies to training"},
		{[]string{"--val", "--negatives", in}, "--negatives applies to training"},
		{[]string{"--val", "--candidates", in}, "--negatives applies to training"},
		{[]string{"--full-ct", in}, "--full-ct needs --val"},
		{[]string{"--context", "2", in}, "--context needs --val"},
		{[]string{"--val", "--context", "-1", in}, "--context -1: must be in [0, 255]"},
		// Once a panic in makeslice (2N+1 channels overflowed).
		{[]string{"--val", "--context", "100000000000", in}, "--context 100000000000: must be in [0, 255]"},
		{[]string{"--width", "a,96,96", in}, `slices "a" is not a whole number`},
		{[]string{"--width", "7,0,96", in}, "rows 0: must be at least 1"},
		{[]string{filepath.Join(t.TempDir(), "missing")}, "missing"},
	}
	for _, tc := range cases {
		// Run also checks that a failed run leaves no output file.
		_, err := streamtest.Run(t, newApp(), format.KindCrop, tc.args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("crop %v: error %v, want one containing %q", tc.args, err, tc.want)
		}
	}
}

// TestFullCTWithoutMask: crop --val --full-ct takes a CT without a mask
// (an unannotated scan) and writes every slice without a label, with the
// CT's shape, geometry and nodules; plain --val still wants the mask.
func TestFullCTWithoutMask(t *testing.T) {
	ct := smallCT("1.2.nomask", 3)
	ct.Mask, ct.PositiveIndexes = nil, nil
	in := streamtest.Write(t, format.KindCT, ct)
	got, err := streamtest.Run(t, newApp(), format.KindSlice, "--val", "--full-ct", in)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != ct.Shape[0] {
		t.Fatalf("%d slices, want %d", len(got), ct.Shape[0])
	}
	for i, r := range got {
		s := r.(*format.Slice)
		if s.SliceIndex != i || s.Label != nil || s.CT == nil || s.CT.Shape != ct.Shape || s.CT.Geometry != ct.Geometry || len(s.CT.Nodules) != 2 {
			t.Errorf("slice %d: index %d, label %v, CT %+v", i, s.SliceIndex, s.Label != nil, s.CT)
		}
	}
	if _, err := streamtest.Run(t, newApp(), format.KindSlice, "--val", in); err == nil || !strings.Contains(err.Error(), "no mask") {
		t.Errorf("--val on a CT without a mask: %v", err)
	}
}
