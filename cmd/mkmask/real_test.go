package main

import (
	"slices"
	"testing"

	"github.com/ctseg/ctseg/format"
	"github.com/ctseg/ctseg/internal/sharedtest"
	"github.com/ctseg/ctseg/internal/spectest"
	"github.com/ctseg/ctseg/internal/streamtest"
)

// This file checks mkmask on the real series against internal/spectest,
// an independent re-implementation of SPEC.md's "Nodule mask" written
// from the spec (and the book's buildAnnotationMask) without the packages
// under test: the volume is read straight from the .raw/.zraw, the nodules
// come from encoding/csv, and the mask is computed over the whole volume.

func TestRealSeries(t *testing.T) {
	dir := sharedtest.LunaDir(t)
	var refs []*spectest.Series
	var recs []format.Record
	for _, mhd := range spectest.MHDs(t, dir) {
		ref := spectest.ReadMHD(t, mhd)
		refs = append(refs, ref)
		recs = append(recs, ref.CT())
	}
	got, err := streamtest.Run(t, newApp(), format.KindCT, "--data", dir, streamtest.Write(t, format.KindCT, recs...))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(refs) {
		t.Fatalf("%d records out, want %d", len(got), len(refs))
	}
	for i, ref := range refs {
		var centres [][3]int
		for _, xyz := range spectest.NoduleCentres(t, dir, ref.UID) {
			centres = append(centres, ref.IRC(xyz))
		}
		mask := ref.Mask(centres)
		positive := ref.Positive(mask)
		voxels := checkAgainstRef(t, got[i].(*format.CT), mask, positive, len(centres))
		t.Logf("%s: %d nodules, %d mask voxels, positive indexes %v", ref.UID, len(centres), voxels, positive)
	}
}

// checkAgainstRef compares mkmask's record with the reference mask and
// returns the reference's voxel count.
func checkAgainstRef(t *testing.T, ct *format.CT, mask []uint8, positive []int, nodules int) (voxels int) {
	t.Helper()
	if len(ct.Mask) != len(mask) {
		t.Fatalf("%s: mask of %d voxels, reference %d", ct.SeriesUID, len(ct.Mask), len(mask))
	}
	n, diff := 0, 0
	for i, m := range mask {
		g := ct.Mask[i]
		n += int(g)
		voxels += int(m)
		if (g == 1) != (m == 1) {
			diff++
		}
	}
	if diff != 0 || n != voxels || voxels == 0 {
		t.Errorf("%s: mask has %d voxels, reference %d; %d voxels differ", ct.SeriesUID, n, voxels, diff)
	}
	if !slices.Equal(ct.PositiveIndexes, positive) {
		t.Errorf("%s: positive indexes %v, reference %v", ct.SeriesUID, ct.PositiveIndexes, positive)
	}
	if len(ct.Nodules) != nodules || len(ct.Candidates) != 30 {
		t.Errorf("%s: %d nodules, %d candidates; want %d, 30 (class 0 of candidates.csv)",
			ct.SeriesUID, len(ct.Nodules), len(ct.Candidates), nodules)
	}
	return voxels
}
