// Package ctmasktest holds the fixtures of the mask stage's tests (package
// ctmask and mkmask): a phantom CT with a nodule whose mask is known, and
// a LUNA16-style directory of lists naming it.
package ctmasktest

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/ctseg/ctseg/format"
	"github.com/ctseg/ctseg/geom"
)

// Geom is the phantom's geometry: spacing (0.5, 0.8, 2) mm for (x, y,
// z), origin (-10, 20, -100), so voxel (i, r, c) is at
// xyz = (-10 + 0.5c, 20 + 0.8r, -100 + 2i).
var Geom = geom.Geometry{Origin: [3]float64{-10, 20, -100}, Spacing: [3]float64{0.5, 0.8, 2}, Direction: geom.Identity}

// XYZOf is voxel (i, r, c)'s centre in Geom, as CSV fields x,y,z.
func XYZOf(i, r, c float64) string {
	return fmt.Sprintf("%g,%g,%g", -10+0.5*c, 20+0.8*r, -100+2*i)
}

// PhantomCT is 10×40×50 voxels of air in Geom holding one nodule, a
// cuboid whose mask is known (below), and a dense line no nodule box
// reaches.
func PhantomCT(uid string) *format.CT {
	ct := &format.CT{SeriesUID: uid, Shape: [3]int{10, 40, 50}, Geometry: Geom, HU: make([]int16, 10*40*50)}
	for i := range ct.HU {
		ct.HU[i] = -1000
	}
	// A cuboid nodule, slices 3…5, rows 10…14, cols 20…26 (HU 50), centre
	// voxel (4, 12, 23). Index: ±2 (slices 2, 6) is air, r = 2 → [2, 6].
	// Rows: ±2 dense, ±3 air, r = 3 → [9, 15]. Cols: ±3 dense, ±4 air,
	// r = 4 → [19, 27]. Mask = the whole cuboid: 3·5·7 = 105 voxels.
	for i := 3; i <= 5; i++ {
		for r := 10; r <= 14; r++ {
			for c := 20; c <= 26; c++ {
				ct.HU[(i*40+r)*50+c] = 50
			}
		}
	}
	// Something dense that no nodule box reaches: must stay out of the mask.
	for c := 0; c < 50; c++ {
		ct.HU[(8*40+35)*50+c] = 300
	}
	return ct
}

// DataDir writes a LUNA16-style directory with the book's nodule list and
// a candidate list for the phantom series "1.2.3" (and series "9.9"):
// the nodule of PhantomCT, one outside the volume, and two class-0
// candidates of which one lies outside.
func DataDir(t testing.TB) string {
	dir := t.TempDir()
	ann := "seriesuid,coordX,coordY,coordZ,diameter_mm,mal_bool,mal_details,bboxLowX,bboxLowY,bboxLowZ,bboxHighX,bboxHighY,bboxHighZ,len_mal_details\n" +
		// Centre (4, 12, 23), given 0.2 voxel off so rounding matters.
		"1.2.3," + XYZOf(4.2, 11.8, 23.3) + ",6.5,True,\"[4, 5]\",0,0,0,0,0,0,2\n" +
		// Outside the volume (slice 12 of 10).
		"1.2.3," + XYZOf(12, 5, 5) + ",3,False,\"[1]\",0,0,0,0,0,0,1\n" +
		"9.9,1,2,3,4,False,\"[]\",0,0,0,0,0,0,0\n"
	cand := "seriesuid,coordX,coordY,coordZ,class\n" +
		"1.2.3," + XYZOf(4, 12, 23) + ",1\n" + // LUNA16's copy of the nodule: not a candidate
		"1.2.3," + XYZOf(1, 30, 5) + ",0\n" +
		"1.2.3," + XYZOf(-3, 30, 5) + ",0\n" + // outside: dropped
		"9.9,0,0,0,0\n"
	for name, text := range map[string]string{"annotations_with_malignancy.csv": ann, "candidates.csv": cand} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}
