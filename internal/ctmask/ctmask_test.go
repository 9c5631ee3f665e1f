package ctmask

import (
	"bytes"
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ctseg/ctseg/format"
	"github.com/ctseg/ctseg/geom"
	"github.com/ctseg/ctseg/internal/ctmask/ctmasktest"
)

func TestPhantomMask(t *testing.T) {
	dir := ctmasktest.DataDir(t)
	var warn bytes.Buffer
	pngDir := filepath.Join(t.TempDir(), "png")
	m, err := New(filepath.Join(dir, "annotations_with_malignancy.csv"), filepath.Join(dir, "candidates.csv"),
		Options{Threshold: -700, PNGDir: pngDir, Warn: func(f string, args ...any) { fmt.Fprintf(&warn, f+"\n", args...) }})
	if err != nil {
		t.Fatal(err)
	}
	ct := ctmasktest.PhantomCT("1.2.3")
	if err := m.Apply(ct); err != nil {
		t.Fatal(err)
	}
	n := 0
	for idx, v := range ct.Mask {
		i, r, c := idx/2000, idx/50%40, idx%50
		want := i >= 3 && i <= 5 && r >= 10 && r <= 14 && c >= 20 && c <= 26
		if (v == 1) != want {
			t.Fatalf("mask at (%d,%d,%d) = %d", i, r, c, v)
		}
		n += int(v)
	}
	if n != 105 || !slices.Equal(ct.PositiveIndexes, []int{3, 4, 5}) {
		t.Errorf("mask voxels %d positive %v, want 105, [3 4 5]", n, ct.PositiveIndexes)
	}
	wantNodule := format.Candidate{CenterIRC: [3]int{4, 12, 23}, DiameterMM: 6.5, IsNodule: true, IsMalignant: true}
	if len(ct.Nodules) != 1 || ct.Nodules[0].CenterIRC != wantNodule.CenterIRC || ct.Nodules[0].DiameterMM != 6.5 ||
		!ct.Nodules[0].IsNodule || !ct.Nodules[0].IsMalignant {
		t.Errorf("nodules %+v, want one like %+v", ct.Nodules, wantNodule)
	}
	if len(ct.Candidates) != 1 || ct.Candidates[0].CenterIRC != [3]int{1, 30, 5} || ct.Candidates[0].IsNodule {
		t.Errorf("candidates %+v, want one non-nodule at (1, 30, 5)", ct.Candidates)
	}
	w := warn.String()
	if !strings.Contains(w, "series 1.2.3: nodule at xyz") || !strings.Contains(w, "1 of 2 non-nodule candidates") {
		t.Errorf("warnings:\n%s", w)
	}
	checkPNGs(t, pngDir, ct)
}

// checkPNGs looks at the check images: one per positive slice, red on the
// mask, green on the box outline, grey elsewhere.
func checkPNGs(t *testing.T, dir string, ct *format.CT) {
	t.Helper()
	names, _ := filepath.Glob(filepath.Join(dir, ct.SeriesUID, "*.png"))
	want := []string{"slice_0003.png", "slice_0004.png", "slice_0005.png"}
	for i := range names {
		names[i] = filepath.Base(names[i])
	}
	if !slices.Equal(names, want) {
		t.Fatalf("PNGs %v, want %v", names, want)
	}
	f, err := os.Open(filepath.Join(dir, ct.SeriesUID, "slice_0004.png"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	rgb := func(x, y int) [3]uint32 {
		r, g, b, _ := img.At(x, y).RGBA()
		return [3]uint32{r >> 8, g >> 8, b >> 8}
	}
	// HU 50 → grey (1050·255/2000) = 133; tinted: red (133+255)/2, 133/2.
	if got := rgb(23, 12); got != [3]uint32{194, 66, 66} {
		t.Errorf("mask pixel %v, want red tint [194 66 66]", got)
	}
	// The box is rows 9…15, cols 19…27; its outline one voxel outside.
	if got := rgb(18, 12); got != [3]uint32{0, 255, 0} {
		t.Errorf("outline pixel %v, want green", got)
	}
	if got := rgb(5, 5); got != [3]uint32{0, 0, 0} {
		t.Errorf("air pixel %v, want black", got)
	}
}

func TestNoGeometry(t *testing.T) {
	// The stream reader already refuses a CT record without geometry, so
	// Masker.Apply is tested directly: it must not trust its input.
	m := &Masker{opt: Options{Threshold: -700, Warn: func(string, ...any) {}}}
	ct := ctmasktest.PhantomCT("1.2.3")
	ct.Geometry = geom.Geometry{}
	err := m.Apply(ct)
	if err == nil || !strings.Contains(err.Error(), "no usable geometry") {
		t.Errorf("err = %v, want no usable geometry", err)
	}
}
