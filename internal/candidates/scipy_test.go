package candidates

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"encoding/json"
	"io"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/ctseg/ctseg/geom"
)

// scipyFixture is testdata/scipy_fixture.json, written by
// tools/scipy/make_candidates_fixture.py.
type scipyFixture struct {
	Scipy   string `json:"scipy"`
	Volumes []struct {
		File       string     `json:"file"`
		Shape      [3]int     `json:"shape"`
		Threshold  float64    `json:"threshold"`
		Origin     [3]float64 `json:"origin"`
		Spacing    [3]float64 `json:"spacing"`
		Direction  [9]float64 `json:"direction"`
		Components []struct {
			Voxels     int        `json:"voxels"`
			CenterIRC  [3]float64 `json:"center_irc"`
			CenterXYZ  [3]float64 `json:"center_xyz"`
			MeanLogit  float64    `json:"mean_logit"`
			MaxLogit   float64    `json:"max_logit"`
			FirstIndex int64      `json:"first_index"`
		} `json:"components"`
	} `json:"volumes"`
}

// readVolume reads a fixture volume: int16 HU then int8 logit codes
// (logit = code/8), gzip-compressed.
func readVolume(t *testing.T, name string, n int) ([]int16, []float32) {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	z, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(z)
	if err != nil {
		t.Fatal(err)
	}
	if len(raw) != 3*n {
		t.Fatalf("%s: %d bytes, want %d", name, len(raw), 3*n)
	}
	hu := make([]int16, n)
	if err := binary.Read(bytes.NewReader(raw[:2*n]), binary.LittleEndian, hu); err != nil {
		t.Fatal(err)
	}
	logits := make([]float32, n)
	for i, b := range raw[2*n:] {
		logits[i] = float32(int8(b)) / 8
	}
	return hu, logits
}

// TestSciPyFixture compares with scipy.ndimage binary_erosion + label +
// center_of_mass: the same components in the same order, the same voxel
// counts, centres of mass equal (both are exact integer sums divided once),
// world centres within 1e-9 mm.
func TestSciPyFixture(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "scipy_fixture.json"))
	if err != nil {
		t.Fatal(err)
	}
	var fx scipyFixture
	if err := json.Unmarshal(data, &fx); err != nil {
		t.Fatal(err)
	}
	if len(fx.Volumes) == 0 {
		t.Fatal("no volumes in the fixture")
	}
	var dxyz, dmean float64
	total := 0
	for _, v := range fx.Volumes {
		s := v.Shape
		hu, logits := readVolume(t, v.File, s[0]*s[1]*s[2])
		g := geom.Geometry{Origin: v.Origin, Spacing: v.Spacing, Direction: v.Direction}
		got, err := Group(s, g, hu, logits, v.Threshold)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(v.Components) {
			t.Fatalf("%s: %d components, SciPy %d", v.File, len(got), len(v.Components))
		}
		for i, w := range v.Components {
			c := got[i]
			if c.Voxels != w.Voxels || c.CenterIRC != w.CenterIRC || float64(c.MaxLogit) != w.MaxLogit {
				t.Errorf("%s component %d: %d voxels, centre %v, max %v; SciPy %d, %v, %v",
					v.File, i+1, c.Voxels, c.CenterIRC, c.MaxLogit, w.Voxels, w.CenterIRC, w.MaxLogit)
			}
			for k := range w.CenterXYZ {
				dxyz = max(dxyz, math.Abs(c.CenterXYZ[k]-w.CenterXYZ[k]))
				if math.Abs(c.CenterXYZ[k]-w.CenterXYZ[k]) > 1e-9 {
					t.Errorf("%s component %d: xyz %v, SciPy %v", v.File, i+1, c.CenterXYZ, w.CenterXYZ)
					break
				}
			}
			dmean = max(dmean, math.Abs(c.MeanLogit-w.MeanLogit))
			if math.Abs(c.MeanLogit-w.MeanLogit) > 1e-12*math.Max(1, math.Abs(w.MeanLogit)) {
				t.Errorf("%s component %d: mean logit %v, SciPy %v", v.File, i+1, c.MeanLogit, w.MeanLogit)
			}
		}
		checkReference(t, s, hu, logits, got)
		total += len(got)
	}
	t.Logf("SciPy %s: %d volumes, %d components; max |Δxyz| %.3g mm, max |Δmean logit| %.3g",
		fx.Scipy, len(fx.Volumes), total, dxyz, dmean)
}
