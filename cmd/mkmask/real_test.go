package main

import (
	"bufio"
	"compress/zlib"
	"encoding/binary"
	"encoding/csv"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/ctseg/ctseg/format"
	"github.com/ctseg/ctseg/internal/geom"
	"github.com/ctseg/ctseg/internal/sharedtest"
)

// This file checks mkmask on the real series against an independent
// re-implementation of SPEC.md's "Nodule mask", written from the spec
// (and the book's buildAnnotationMask) without the packages under test:
// the volume is read straight from the .raw/.zraw, kept as a nested
// [index][row][col] array, the nodules come from encoding/csv, and the
// mask is computed over the whole volume.

// refCT is a CT read directly from its MetaImage files.
type refCT struct {
	uid     string
	origin  [3]float64 // x y z
	spacing [3]float64 // x y z
	hu      [][][]int16
}

// readRefCT reads a LUNA16 .mhd (identity direction only) and its data.
func readRefCT(t *testing.T, mhd string) refCT {
	t.Helper()
	f, err := os.Open(mhd)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	kv := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), "=")
		if ok {
			kv[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	if kv["TransformMatrix"] != "1 0 0 0 1 0 0 0 1" || kv["ElementType"] != "MET_SHORT" {
		t.Fatalf("%s: reference reader handles identity MET_SHORT only", mhd)
	}
	nums := func(key string) []float64 {
		var out []float64
		for _, s := range strings.Fields(kv[key]) {
			v, err := strconv.ParseFloat(s, 64)
			if err != nil {
				t.Fatalf("%s: %s: %v", mhd, key, err)
			}
			out = append(out, v)
		}
		return out
	}
	ct := refCT{uid: strings.TrimSuffix(filepath.Base(mhd), ".mhd")}
	copy(ct.origin[:], nums("Offset"))
	copy(ct.spacing[:], nums("ElementSpacing"))
	dim := nums("DimSize")
	nx, ny, nz := int(dim[0]), int(dim[1]), int(dim[2])
	data, err := os.Open(filepath.Join(filepath.Dir(mhd), kv["ElementDataFile"]))
	if err != nil {
		t.Fatal(err)
	}
	defer data.Close()
	var r io.Reader = bufio.NewReader(data)
	if kv["CompressedData"] == "True" {
		zr, err := zlib.NewReader(r)
		if err != nil {
			t.Fatal(err)
		}
		r = zr
	}
	ct.hu = make([][][]int16, nz)
	for z := range nz {
		ct.hu[z] = make([][]int16, ny)
		for y := range ny {
			ct.hu[z][y] = make([]int16, nx)
			if err := binary.Read(r, binary.LittleEndian, ct.hu[z][y]); err != nil {
				t.Fatalf("%s: slice %d row %d: %v", mhd, z, y, err)
			}
		}
	}
	return ct
}

// record turns the reference CT into a CT record, as ctread would.
func (ct refCT) record() *format.CT {
	nz, ny, nx := len(ct.hu), len(ct.hu[0]), len(ct.hu[0][0])
	rec := &format.CT{SeriesUID: ct.uid, Shape: [3]int{nz, ny, nx},
		Geometry: geom.Geometry{Origin: ct.origin, Spacing: ct.spacing, Direction: geom.Identity},
		HU:       make([]int16, 0, nz*ny*nx)}
	for _, plane := range ct.hu {
		for _, row := range plane {
			rec.HU = append(rec.HU, row...)
		}
	}
	return rec
}

// refNodules reads the centres of the series' nodules from a nodule list.
func refNodules(t *testing.T, path, uid string) [][3]float64 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var out [][3]float64
	for _, row := range rows[1:] { // columns 0…3: seriesuid, coordX, coordY, coordZ
		if row[0] != uid {
			continue
		}
		var xyz [3]float64
		for i := range 3 {
			if xyz[i], err = strconv.ParseFloat(row[1+i], 64); err != nil {
				t.Fatal(err)
			}
		}
		out = append(out, xyz)
	}
	return out
}

// refMask is SPEC.md's algorithm, bounds fixed, threshold -700.
func refMask(ct refCT, centres [][3]float64) (mask [][][]bool, voxels int, positive []int) {
	nz, ny, nx := len(ct.hu), len(ct.hu[0]), len(ct.hu[0][0])
	size := [3]int{nz, ny, nx}
	box := make([][][]bool, nz)
	for z := range box {
		box[z] = make([][]bool, ny)
		for y := range box[z] {
			box[z][y] = make([]bool, nx)
		}
	}
	for _, xyz := range centres {
		// irc = round_half_even((xyz - origin) / spacing), reordered z y x.
		var c [3]int
		for a := range 3 {
			c[2-a] = int(math.RoundToEven((xyz[a] - ct.origin[a]) / ct.spacing[a]))
		}
		var r [3]int
		for axis := range 3 {
			r[axis] = searchRadius(ct.hu, c, axis, size)
		}
		for z := max(c[0]-r[0], 0); z <= min(c[0]+r[0], nz-1); z++ {
			for y := max(c[1]-r[1], 0); y <= min(c[1]+r[1], ny-1); y++ {
				for x := max(c[2]-r[2], 0); x <= min(c[2]+r[2], nx-1); x++ {
					box[z][y][x] = true
				}
			}
		}
	}
	mask = box
	for z := range nz {
		sliceSum := 0
		for y := range ny {
			for x := range nx {
				mask[z][y][x] = box[z][y][x] && ct.hu[z][y][x] > -700
				if mask[z][y][x] {
					sliceSum++
				}
			}
		}
		voxels += sliceSum
		if sliceSum > 0 {
			positive = append(positive, z)
		}
	}
	return mask, voxels, positive
}

// searchRadius: from r = 2, grow while both c±r along axis are > -700;
// when either leaves the volume, r - 1.
func searchRadius(hu [][][]int16, c [3]int, axis int, size [3]int) int {
	at := func(p [3]int) (int16, bool) {
		for a := range 3 {
			if p[a] < 0 || p[a] >= size[a] {
				return 0, false
			}
		}
		return hu[p[0]][p[1]][p[2]], true
	}
	for r := 2; ; r++ {
		up, down := c, c
		up[axis] += r
		down[axis] -= r
		hUp, ok1 := at(up)
		hDown, ok2 := at(down)
		if !ok1 || !ok2 {
			return r - 1
		}
		if !(hUp > -700 && hDown > -700) {
			return r
		}
	}
}

func TestRealSeries(t *testing.T) {
	dir := sharedtest.LunaDir(t)
	mhds, err := filepath.Glob(filepath.Join(dir, "subset0", "*.mhd"))
	if err != nil || len(mhds) == 0 {
		t.Skipf("no .mhd in %s/subset0", dir)
	}
	tmp := t.TempDir()
	in := filepath.Join(tmp, "ct.stream")
	var refs []refCT
	var recs []format.Record
	for _, mhd := range mhds {
		ref := readRefCT(t, mhd)
		refs = append(refs, ref)
		recs = append(recs, ref.record())
	}
	writeStream(t, in, recs...)
	out := filepath.Join(tmp, "masked.stream")
	if err := newApp().Run([]string{"mkmask", "--data", dir, "-q", "-o", out, in}); err != nil {
		t.Fatal(err)
	}
	got := readStream(t, out)
	if len(got) != len(refs) {
		t.Fatalf("%d records out, want %d", len(got), len(refs))
	}
	for i, ref := range refs {
		ct := got[i].(*format.CT)
		centres := refNodules(t, filepath.Join(dir, "annotations_with_malignancy.csv"), ref.uid)
		mask, voxels, positive := refMask(ref, centres)
		checkAgainstRef(t, ct, mask, voxels, positive, len(centres))
		t.Logf("%s: %d nodules, %d mask voxels, positive indexes %v", ref.uid, len(centres), voxels, positive)
	}
}

func checkAgainstRef(t *testing.T, ct *format.CT, mask [][][]bool, voxels int, positive []int, nodules int) {
	t.Helper()
	n, diff := 0, 0
	for z := range mask {
		for y := range mask[z] {
			for x, m := range mask[z][y] {
				g := ct.Mask[(z*ct.Shape[1]+y)*ct.Shape[2]+x]
				n += int(g)
				if (g == 1) != m {
					diff++
				}
			}
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
}
