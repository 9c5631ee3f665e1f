package realeval

import (
	"compress/gzip"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/ctseg/ctseg/format"
	"github.com/ctseg/ctseg/internal/checkpoint"
	"github.com/ctseg/ctseg/internal/crop"
	"github.com/ctseg/ctseg/internal/ctmask"
	"github.com/ctseg/ctseg/internal/luna"
	"github.com/ctseg/ctseg/internal/mask"
	"github.com/ctseg/ctseg/internal/metaimage"
	"github.com/ctseg/ctseg/internal/sharedtest"
	"github.com/ctseg/ctseg/internal/unet"
)

// fixture is testdata/segeval_fixture.json.gz, written by
// tools/pytorch/make_segeval_fixtures.py.
type fixture struct {
	Checkpoint       string          `json:"checkpoint"`
	CheckpointSHA256 string          `json:"checkpoint_sha256"`
	TorchVersion     string          `json:"torch_version"`
	ScipyVersion     string          `json:"scipy_version"`
	Threshold        float64         `json:"threshold"`
	Borderline       float64         `json:"borderline"`
	MatchRatio       float64         `json:"match_ratio"`
	Context          int             `json:"context"`
	MaskHU           float64         `json:"mask_hu"`
	Series           []seriesFixture `json:"series"`
	Pooled           struct {
		Val               counts  `json:"val"`
		CandidatesPerScan float64 `json:"candidates_per_scan"`
		Nodules           int     `json:"nodules"`
		NodulesFound      int     `json:"nodules_found"`
		Recall            float64 `json:"recall"`
	} `json:"pooled"`
}

type counts struct {
	TP int64 `json:"tp"`
	FN int64 `json:"fn"`
	FP int64 `json:"fp"`
}

func (c *counts) add(d counts) { c.TP += d.TP; c.FN += d.FN; c.FP += d.FP }

type seriesFixture struct {
	UID      string `json:"uid"`
	MHD      string `json:"mhd"`
	HUSHA256 string `json:"hu_sha256"`
	Shape    [3]int `json:"shape"`
	Nodules  []struct {
		XYZ        [3]float64 `json:"xyz"`
		DiameterMM float64    `json:"diameter_mm"`
		IRC        [3]int     `json:"irc"`
	} `json:"nodules"`
	MaskVoxels      int64 `json:"mask_voxels"`
	PositiveIndexes []int `json:"positive_indexes"`
	Val             struct {
		counts
		Slices []struct {
			counts
			Slice       int    `json:"slice"`
			InputSHA256 string `json:"input_sha256"`
		} `json:"slices"`
		PixelsAbove      int64 `json:"pixels_above"`
		PixelsBorderline int64 `json:"pixels_borderline"`
	} `json:"val"`
	FullCT struct {
		Candidates []component `json:"candidates"`
		Borderline struct {
			Index []int     `json:"index"`
			Logit []float32 `json:"logit"`
			Above []bool    `json:"above"`
		} `json:"borderline"`
		VoxelsAbove       int64   `json:"voxels_above"`
		CandidatesAtLower int     `json:"candidates_at_lower"`
		CandidatesAtUpper int     `json:"candidates_at_upper"`
		NodulesFound      int     `json:"nodules_found"`
		MaxProb           float64 `json:"max_prob"`
	} `json:"full_ct"`
}

type component struct {
	Voxels    int        `json:"voxels"`
	First     int64      `json:"first"`
	CenterIRC [3]float64 `json:"center_irc"`
	CenterXYZ [3]float64 `json:"center_xyz"`
	MeanLogit float64    `json:"mean_logit"`
	MaxLogit  float64    `json:"max_logit"`
}

func loadFixture(t *testing.T) *fixture {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "segeval_fixture.json.gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	z, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var fx fixture
	if err := json.NewDecoder(z).Decode(&fx); err != nil {
		t.Fatalf("segeval fixture: %v", err)
	}
	if len(fx.Series) != 2 || fx.Threshold != 0.5 || fx.Context != crop.DefaultContext || fx.MaskHU != mask.DefaultThreshold {
		t.Fatalf("segeval fixture: %d series, threshold %v, context %d, mask HU %v: not what this test expects",
			len(fx.Series), fx.Threshold, fx.Context, fx.MaskHU)
	}
	return &fx
}

// env is what every test of the package needs: the shared data, the
// fixture, and the CPU engine with the book's checkpoint.
type env struct {
	luna   string
	fx     *fixture
	engine unet.Engine
	masker *ctmask.Masker
}

// setup skips without the shared data or in -short mode.
func setup(t *testing.T) *env {
	t.Helper()
	dir := sharedtest.LunaDir(t)
	model := sharedtest.ModelPath(t)
	if testing.Short() {
		t.Skip("whole real slabs through the U-Net: skipped in -short")
	}
	fx := loadFixture(t)
	if filepath.Base(model) != fx.Checkpoint {
		t.Fatalf("checkpoint %s, fixture made with %s", filepath.Base(model), fx.Checkpoint)
	}
	if got := fileSHA256(t, model); got != fx.CheckpointSHA256 {
		t.Fatalf("checkpoint sha256 %s, fixture made with %s", got, fx.CheckpointSHA256)
	}
	m, err := unet.New(unet.BookConfig)
	if err != nil {
		t.Fatal(err)
	}
	e, err := unet.NewEngine("cpu", m, unet.DefaultAdam, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	if _, err := checkpoint.LoadInto(model, e); err != nil {
		t.Fatal(err)
	}
	// mkmask's lists: the book's annotation file and the candidate list.
	ann, err := luna.AnnotationsPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	cand, err := luna.CandidatesPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	mk, err := ctmask.New(ann, cand, ctmask.Options{Threshold: mask.DefaultThreshold,
		Warn: func(f string, a ...any) { t.Logf("ctmask: "+f, a...) }})
	if err != nil {
		t.Fatal(err)
	}
	return &env{luna: dir, fx: fx, engine: e, masker: mk}
}

func fileSHA256(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// maskedCT reads a series as ctread does and masks it as mkmask does, and
// checks the HU, the mask size and the positive slices against the
// fixture's independent reading.
func (e *env) maskedCT(t *testing.T, sf *seriesFixture) *format.CT {
	t.Helper()
	img, err := metaimage.ReadFile(filepath.Join(filepath.Dir(e.luna), filepath.FromSlash(sf.MHD)))
	if err != nil {
		t.Fatal(err)
	}
	ct := &format.CT{SeriesUID: sf.UID, Shape: [3]int{img.Size[2], img.Size[1], img.Size[0]},
		Geometry: img.Geometry, HU: img.HU}
	raw := make([]byte, 2*len(ct.HU))
	for i, v := range ct.HU {
		binary.LittleEndian.PutUint16(raw[2*i:], uint16(v))
	}
	if h := sha256.Sum256(raw); hex.EncodeToString(h[:]) != sf.HUSHA256 || ct.Shape != sf.Shape {
		t.Fatalf("series %s: HU %v sha256 %x; the fixture read %v %s", sf.UID, ct.Shape, h, sf.Shape, sf.HUSHA256)
	}
	// Apply's mask stays the Masker's until Recycle: copy it, as each
	// test holds its CT.
	if err := e.masker.Apply(ct); err != nil {
		t.Fatal(err)
	}
	ct.Mask = append([]uint8(nil), ct.Mask...)
	e.masker.Recycle(&format.CT{})
	var n int64
	for _, v := range ct.Mask {
		n += int64(v)
	}
	if n != sf.MaskVoxels || !slices.Equal(ct.PositiveIndexes, sf.PositiveIndexes) {
		t.Fatalf("series %s: mask of %d voxels, positive slices %v; the fixture's: %d, %v",
			sf.UID, n, ct.PositiveIndexes, sf.MaskVoxels, sf.PositiveIndexes)
	}
	if len(ct.Nodules) != len(sf.Nodules) {
		t.Fatalf("series %s: %d nodules in the CT, fixture %d", sf.UID, len(ct.Nodules), len(sf.Nodules))
	}
	return ct
}

// predictBatch is how many slices go through Predict at once, as segeval
// would batch them.
const predictBatch = 2

// predicted is one slice and the engine's output for it (1×H×W).
type predicted struct {
	slice  *format.Slice
	prob   []float32
	logits []float32
}

// predictSlices cuts the CT's validation slices (opt) with crop.Slices and
// runs them through the engine predictBatch at a time, calling f for each
// in order.
func predictSlices(t testing.TB, e unet.Engine, ct *format.CT, opt crop.ValOptions, f func(predicted)) {
	t.Helper()
	var pending []*format.Slice
	flush := func() error {
		if len(pending) == 0 {
			return nil
		}
		s0 := pending[0]
		c, h, w := s0.Shape[0], s0.Shape[1], s0.Shape[2]
		in := make([]float32, 0, len(pending)*c*h*w)
		for _, s := range pending {
			for _, v := range s.HU {
				in = append(in, float32(v))
			}
		}
		out, err := e.Predict(unet.Batch{N: len(pending), H: h, W: w, Input: in})
		if err != nil {
			return err
		}
		for i, s := range pending {
			f(predicted{slice: s, prob: out.Prob[i*h*w : (i+1)*h*w], logits: out.Logits[i*h*w : (i+1)*h*w]})
		}
		pending = pending[:0]
		return nil
	}
	err := crop.Slices(ct, opt, func(s *format.Slice) error {
		pending = append(pending, s)
		if len(pending) == predictBatch {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		t.Fatal(err)
	}
}

// inputSHA256 is the SHA-256 of a slice's input as float32 little endian,
// as the fixture hashes PyTorch's input tensor.
func inputSHA256(hu []int16) string {
	raw := make([]byte, 4*len(hu))
	for i, v := range hu {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(float32(v)))
	}
	h := sha256.Sum256(raw)
	return hex.EncodeToString(h[:])
}
