package augment

import (
	"math"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/ctseg/ctseg/internal/safetensors"
	"github.com/ctseg/ctseg/internal/tensors"
)

// TestPhiloxKnownAnswers checks Philox4x32 against Random123's
// tests/kat_vectors (the three "philox4x32 10" lines: counter, key,
// expected output).
func TestPhiloxKnownAnswers(t *testing.T) {
	for _, c := range []struct {
		ctr  [4]uint32
		key  [2]uint32
		want [4]uint32
	}{
		{[4]uint32{0, 0, 0, 0}, [2]uint32{0, 0},
			[4]uint32{0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}},
		{[4]uint32{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff}, [2]uint32{0xffffffff, 0xffffffff},
			[4]uint32{0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}},
		{[4]uint32{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}, [2]uint32{0xa4093822, 0x299f31d0},
			[4]uint32{0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}},
	} {
		if got := Philox4x32(c.ctr, c.key); got != c.want {
			t.Errorf("Philox4x32(%08x, %08x) = %08x, want %08x", c.ctr, c.key, got, c.want)
		}
	}
}

// TestBlockLayout pins the counter and key layout of the package doc.
func TestBlockLayout(t *testing.T) {
	k := Key{Seed: 0x0123456789abcdef, Step: 0xfedcba9876543210}
	want := Philox4x32([4]uint32{7, StreamTransform, 0x76543210, 0xfedcba98}, [2]uint32{0x89abcdef, 0x01234567})
	if got := k.Block(StreamTransform, 7); got != want {
		t.Errorf("Block = %08x, want %08x", got, want)
	}
}

func TestUniforms(t *testing.T) {
	if Float64(0) != 0 || Float64(1<<31) != 0.5 || Float64(math.MaxUint32) >= 1 {
		t.Error("Float64 is not x·2⁻³² in [0, 1)")
	}
	if Float32(0) != 0 || Float32(1<<31) != 0.5 || Float32(math.MaxUint32) >= 1 || Float32(255) != 0 {
		t.Error("Float32 is not (x>>8)·2⁻²⁴ in [0, 1)")
	}
	// cuRAND's extremes: u never reaches 0, so the radius stays finite.
	a, b := BoxMuller(0, 0)
	if math.IsInf(a, 0) || math.IsNaN(b) || a <= 0 {
		t.Errorf("BoxMuller(0, 0) = %v, %v", a, b)
	}
	if a, b := BoxMuller(math.MaxUint32, 1<<30); math.Abs(a) > 1e-3 || math.Abs(b) > 1e-3 {
		t.Errorf("BoxMuller(max, ·) = %v, %v, want ≈ 0", a, b)
	}
}

// draws reads testdata/draws.safetensors (tools/pytorch/make_augment_fixtures.py).
func draws(t *testing.T) tensors.Dict {
	t.Helper()
	d, _, err := safetensors.ReadFile(filepath.Join("testdata", "draws.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestDrawsFixture checks the transform words, the book's transform built
// from them and the noise against the fixture script's independent
// Python implementation of the layout.
func TestDrawsFixture(t *testing.T) {
	fx := draws(t)
	configs := map[string]Config{
		"all": {Flip: true, Offset: BookOffset, Scale: BookScale, Rotate: true}, "flip": {Flip: true},
		"offset": {Offset: BookOffset}, "scale": {Scale: BookScale}, "rotate": {Rotate: true},
	}
	for i := 0; ; i++ {
		p := "draw." + strconv.Itoa(i) + "."
		if _, ok := fx[p+"seed"]; !ok {
			if i == 0 {
				t.Fatal("no draws in the fixture")
			}
			break
		}
		k := Key{Seed: uint64(fx[p+"seed"].I64[0]), Step: uint64(fx[p+"step"].I64[0])}
		words := TransformWords(k)
		for j, w := range fx[p+"words"].I64 {
			if uint32(w) != words[j] {
				t.Errorf("%v: word %d = %08x, Python %08x", k, j, words[j], w)
			}
		}
		for name, c := range configs {
			got, want := c.Transform(k), fx[p+"theta."+name].F32
			for j := range got {
				if math.Abs(float64(got[j]-want[j])) > 1e-6 {
					t.Errorf("%v %s: θ = %v, the book's code %v", k, name, got, want)
					break
				}
			}
		}
		for j, e := range fx["noise_index"].I64 {
			got, want := Normal(k, uint64(e)), float64(fx[p+"noise"].F32[j])
			if math.Abs(got-want) > 1e-6 {
				t.Errorf("%v: n(%d) = %v, Python %v", k, e, got, want)
			}
		}
	}
}
