package unettest

import (
	"compress/gzip"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/ctseg/ctseg/format"
	"github.com/ctseg/ctseg/internal/crop"
	"github.com/ctseg/ctseg/internal/metaimage"
	"github.com/ctseg/ctseg/internal/safetensors"
	"github.com/ctseg/ctseg/internal/sharedtest"
	"github.com/ctseg/ctseg/internal/torchload"
	"github.com/ctseg/ctseg/internal/unet"
)

// bookSlice is testdata/book_slice/slice.json, written by
// tools/pytorch/make_book_slice_fixture.py (see the README beside it).
type bookSlice struct {
	SeriesUID   string     `json:"series_uid"`
	MHD         string     `json:"mhd"`
	NoduleXYZ   [3]float64 `json:"nodule_xyz"`
	NoduleIRC   [3]int     `json:"nodule_irc"`
	SliceIndex  int        `json:"slice_index"`
	InputSum    float64    `json:"input_sum"`
	InputSHA256 string     `json:"input_sha256"`
	Checkpoint  string     `json:"checkpoint"`
}

// bookInput builds the 1×7×512×512 input the way segtrain's validation
// samples are built (crop.Validation), and checks it against the fixture's
// sum and hash of PyTorch's input.
func bookInput(t *testing.T, shared string, bs bookSlice) unet.Batch {
	img, err := metaimage.ReadFile(filepath.Join(shared, bs.MHD))
	if err != nil {
		t.Fatal(err)
	}
	irc, err := img.Geometry.XYZ2IRC(bs.NoduleXYZ)
	if err != nil || irc != bs.NoduleIRC || irc[0] != bs.SliceIndex {
		t.Fatalf("nodule irc %v (err %v), fixture says %v slice %d", irc, err, bs.NoduleIRC, bs.SliceIndex)
	}
	ct := &format.CT{SeriesUID: bs.SeriesUID, Shape: [3]int{img.Size[2], img.Size[1], img.Size[0]},
		Geometry: img.Geometry, HU: img.HU, Mask: make([]uint8, img.Voxels())}
	s, err := crop.Validation(ct, bs.SliceIndex, 3)
	if err != nil {
		t.Fatal(err)
	}
	x := make([]float32, len(s.HU))
	var sum float64
	raw := make([]byte, 4*len(x))
	for i, v := range s.HU {
		x[i] = float32(v)
		sum += float64(v)
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(x[i]))
	}
	h := sha256.Sum256(raw)
	if sum != bs.InputSum || hex.EncodeToString(h[:]) != bs.InputSHA256 {
		t.Fatalf("rebuilt input: sum %v sha256 %x; PyTorch's: %v %s", sum, h, bs.InputSum, bs.InputSHA256)
	}
	return unet.Batch{N: 1, H: s.Shape[1], W: s.Shape[2], Input: x}
}

// bookProbs reads PyTorch's float32 and float64 probabilities of the slice.
func bookProbs(t *testing.T, dir string) (p32, p64 []float32) {
	f, err := os.Open(filepath.Join(dir, "probs.safetensors.gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	ref, _, err := safetensors.Read(zr)
	if err != nil {
		t.Fatal(err)
	}
	return ref["probs_f32"].F32, ref["probs_f64"].F32
}

// bookCheckpoint runs the book's published checkpoint on the real
// LIDC-IDRI-0001 slice through the nodule centre and compares with
// PyTorch.
func bookCheckpoint(t *testing.T, newEngine NewEngine) {
	shared := filepath.Dir(sharedtest.LunaDir(t))
	if testing.Short() {
		t.Skip("full 512×512 slice: skipped in -short")
	}
	dir := filepath.Join(testdata(t), "book_slice")
	var bs bookSlice
	b, err := os.ReadFile(filepath.Join(dir, "slice.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &bs); err != nil {
		t.Fatal(err)
	}
	ck, err := torchload.Load(sharedtest.Path(t, "models", bs.Checkpoint))
	if err != nil {
		t.Fatal(err)
	}
	e := open(t, newEngine, 1)
	if err := e.LoadStateDict(ck.State); err != nil {
		t.Fatal(err)
	}
	out, err := e.Predict(bookInput(t, shared, bs))
	if err != nil {
		t.Fatal(err)
	}
	p32, p64 := bookProbs(t, dir)
	sameLen(t, "book slice probabilities", out.Prob, p32)
	checkLogits(t, "book slice", out.Prob, out.Logits)
	compareBook(t, bs, out.Prob, p32, p64)
}

// compareBook requires the probabilities p to be within 1e-3 of
// PyTorch's float32 ones and on the same side of 0.5 as its float64 ones
// wherever those are not within 1e-3 of it.
func compareBook(t *testing.T, bs bookSlice, p, p32, p64 []float32) {
	var d32, d64 float64
	flips, above := 0, 0
	for i := range p {
		d32 = math.Max(d32, math.Abs(float64(p[i])-float64(p32[i])))
		d64 = math.Max(d64, math.Abs(float64(p[i])-float64(p64[i])))
		if p[i] > 0.5 {
			above++
		}
		if math.Abs(float64(p64[i])-0.5) >= 1e-3 && (p[i] > 0.5) != (p64[i] > 0.5) {
			flips++
		}
	}
	t.Logf("book checkpoint on %s slice %d: max |p−PyTorch f32| %.3g, max |p−PyTorch f64| %.3g, %d pixels > 0.5, %d side changes",
		bs.SeriesUID, bs.SliceIndex, d32, d64, above, flips)
	if d32 > 1e-3 {
		t.Errorf("max abs difference from PyTorch %.3g > 1e-3", d32)
	}
	if flips != 0 {
		t.Errorf("%d pixels away from 0.5 change side of the threshold", flips)
	}
}
