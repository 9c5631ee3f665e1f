package safetensors

import (
	"bytes"
	"encoding/binary"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/ctseg/ctseg/internal/tensors"
)

// rawFile assembles a file from a header string (unpadded) and data bytes.
func rawFile(header string, data []byte) []byte {
	var b bytes.Buffer
	binary.Write(&b, binary.LittleEndian, uint64(len(header)))
	b.WriteString(header)
	b.Write(data)
	return b.Bytes()
}

func f32Bytes(vs ...float32) []byte {
	var b bytes.Buffer
	binary.Write(&b, binary.LittleEndian, vs)
	return b.Bytes()
}

func writeBytes(t *testing.T, d tensors.Dict, meta map[string]string) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := Write(&b, d, meta); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// The expected bytes below are the reference implementation's own test
// vectors (huggingface/safetensors, safetensors/src/tensor.rs:
// test_serialization, test_serialization_forced_alignement, test_empty).
func TestWriteMatchesReferenceVectors(t *testing.T) {
	data := []float32{0, 1, 2, 3, 4, 5}
	cases := []struct {
		name string
		d    tensors.Dict
		meta map[string]string
		want []byte
	}{
		{"serialization", tensors.Dict{"attn.0": {DType: tensors.F32, Shape: []int{1, 2, 3}, F32: data}}, nil,
			[]byte{64, 0, 0, 0, 0, 0, 0, 0, 123, 34, 97, 116, 116, 110, 46, 48, 34, 58, 123, 34, 100,
				116, 121, 112, 101, 34, 58, 34, 70, 51, 50, 34, 44, 34, 115, 104, 97, 112, 101, 34,
				58, 91, 49, 44, 50, 44, 51, 93, 44, 34, 100, 97, 116, 97, 95, 111, 102, 102, 115,
				101, 116, 115, 34, 58, 91, 48, 44, 50, 52, 93, 125, 125, 0, 0, 0, 0, 0, 0, 128, 63,
				0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64, 0, 0, 160, 64}},
		{"forced alignment", tensors.Dict{"attn0": {DType: tensors.F32, Shape: []int{1, 1, 2, 3}, F32: data}}, nil,
			[]byte{72, 0, 0, 0, 0, 0, 0, 0, 123, 34, 97, 116, 116, 110, 48, 34, 58, 123, 34, 100, 116,
				121, 112, 101, 34, 58, 34, 70, 51, 50, 34, 44, 34, 115, 104, 97, 112, 101, 34, 58,
				91, 49, 44, 49, 44, 50, 44, 51, 93, 44, 34, 100, 97, 116, 97, 95, 111, 102, 102,
				115, 101, 116, 115, 34, 58, 91, 48, 44, 50, 52, 93, 125, 125, 32, 32, 32, 32, 32,
				32, 32, 0, 0, 0, 0, 0, 0, 128, 63, 0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64, 0, 0,
				160, 64}},
		{"empty", tensors.Dict{}, nil, []byte{8, 0, 0, 0, 0, 0, 0, 0, 123, 125, 32, 32, 32, 32, 32, 32}},
		{"empty with metadata", tensors.Dict{}, map[string]string{"framework": "pt"},
			[]byte{40, 0, 0, 0, 0, 0, 0, 0, 123, 34, 95, 95, 109, 101, 116, 97, 100, 97, 116, 97, 95,
				95, 34, 58, 123, 34, 102, 114, 97, 109, 101, 119, 111, 114, 107, 34, 58, 34, 112,
				116, 34, 125, 125, 32, 32, 32, 32, 32}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := writeBytes(t, c.d, c.meta)
			if !bytes.Equal(got, c.want) {
				t.Errorf("got\n%q\nwant\n%q", got, c.want)
			}
			if _, _, err := Parse(got); err != nil {
				t.Errorf("Parse of the reference bytes: %v", err)
			}
		})
	}
}

// The reference sorts by descending dtype (its enum order ... F32 < F64 <
// I64) and then by name, and writes metadata keys unescaped.
func TestWriteOrderAndHeader(t *testing.T) {
	d := tensors.Dict{
		"b":     {DType: tensors.F32, Shape: []int{2}, F32: []float32{1, 2}},
		"a":     {DType: tensors.F32, Shape: []int{1}, F32: []float32{3}},
		"z":     {DType: tensors.I64, Shape: []int{}, I64: []int64{-7}},
		"steps": {DType: tensors.I64, Shape: []int{2}, I64: []int64{1, 1 << 40}},
	}
	meta := map[string]string{"zeta": "1", "args": `a<b>&"c"`}
	got := writeBytes(t, d, meta)
	header := `{"__metadata__":{"args":"a<b>&\"c\"","zeta":"1"},` +
		`"steps":{"dtype":"I64","shape":[2],"data_offsets":[0,16]},` +
		`"z":{"dtype":"I64","shape":[],"data_offsets":[16,24]},` +
		`"a":{"dtype":"F32","shape":[1],"data_offsets":[24,28]},` +
		`"b":{"dtype":"F32","shape":[2],"data_offsets":[28,36]}}`
	header += strings.Repeat(" ", (8-len(header)%8)%8)
	var data bytes.Buffer
	binary.Write(&data, binary.LittleEndian, []int64{1, 1 << 40, -7})
	binary.Write(&data, binary.LittleEndian, []float32{3, 1, 2})
	if want := rawFile(header, data.Bytes()); !bytes.Equal(got, want) {
		t.Errorf("got\n%q\nwant\n%q", got, want)
	}
}

func randomDict(r *rand.Rand) tensors.Dict {
	d := tensors.Dict{}
	for i := range 1 + r.IntN(6) {
		shape := make([]int, r.IntN(4))
		for k := range shape {
			shape[k] = r.IntN(5)
		}
		t := tensors.Tensor{Shape: shape}
		if r.IntN(2) == 0 {
			t.DType = tensors.F32
			t.F32 = make([]float32, t.Len())
			for k := range t.F32 {
				t.F32[k] = float32(r.NormFloat64())
			}
		} else {
			t.DType = tensors.I64
			t.I64 = make([]int64, t.Len())
			for k := range t.I64 {
				t.I64[k] = r.Int64() - math.MaxInt64/2
			}
		}
		d[string(rune('a'+i))+".weight"] = t
	}
	return d
}

func TestRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 50 {
		d := randomDict(r)
		meta := map[string]string{"epoch": "5", "argv": "segtrain --epochs 10"}
		got, gotMeta, err := Read(bytes.NewReader(writeBytes(t, d, meta)))
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, d) || !reflect.DeepEqual(gotMeta, meta) {
			t.Fatalf("round trip changed the data:\n%v %v\n%v %v", d, meta, got, gotMeta)
		}
	}
}

// NaN payloads and signed zeros survive: data is copied bit for bit.
func TestRoundTripSpecialFloats(t *testing.T) {
	vals := []float32{float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.Copysign(0, -1)),
		math.Float32frombits(0x7fc00001), math.SmallestNonzeroFloat32, math.MaxFloat32}
	got, _, err := Parse(writeBytes(t, tensors.Dict{"x": {DType: tensors.F32, Shape: []int{6}, F32: vals}}, nil))
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range got["x"].F32 {
		if math.Float32bits(v) != math.Float32bits(vals[i]) {
			t.Errorf("element %d: bits %08x, want %08x", i, math.Float32bits(v), math.Float32bits(vals[i]))
		}
	}
}

func TestReadF64ConvertsToF32(t *testing.T) {
	var data bytes.Buffer
	binary.Write(&data, binary.LittleEndian, []float64{0.1, -2.5, 1e300})
	b := rawFile(`{"x":{"dtype":"F64","shape":[3],"data_offsets":[0,24]}}`, data.Bytes())
	d, meta, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	want := tensors.Tensor{DType: tensors.F32, Shape: []int{3}, F32: []float32{0.1, -2.5, float32(math.Inf(1))}}
	if !reflect.DeepEqual(d["x"], want) || len(meta) != 0 {
		t.Errorf("got %v %v, want %v and no metadata", d["x"], meta, want)
	}
}

// Offsets in any order are accepted, as by the reference, which sorts them.
func TestReadUnsortedOffsets(t *testing.T) {
	b := rawFile(`{"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`,
		f32Bytes(1, 2))
	d, _, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	if d["a"].F32[0] != 1 || d["b"].F32[0] != 2 {
		t.Errorf("got %v", d)
	}
}

func TestReadErrors(t *testing.T) {
	one := f32Bytes(1)
	entry := func(s string) string { return `{"x":` + s + `}` }
	cases := []struct {
		name string
		b    []byte
		want string
	}{
		{"short", []byte{1, 2, 3}, "too short"},
		{"huge header", append(binary.LittleEndian.AppendUint64(nil, 1<<40), '{'), "exceeds the limit"},
		{"header past end", append(binary.LittleEndian.AppendUint64(nil, 100), '{'), "runs past the end"},
		{"not json object", rawFile(`[1]`, nil), "does not start with '{'"},
		{"bad utf8", rawFile("{\"\xff\":1}", nil), "UTF-8"},
		{"bad json", rawFile(`{"x":`, nil), "header JSON"},
		{"trailing", rawFile(`{} {}`, nil), "after the JSON object"},
		{"duplicate", rawFile(`{"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, one), `duplicate key "x"`},
		{"unknown dtype", rawFile(entry(`{"dtype":"F128","shape":[1],"data_offsets":[0,4]}`), one), `unknown dtype "F128"`},
		{"unsupported dtype", rawFile(entry(`{"dtype":"BF16","shape":[2],"data_offsets":[0,4]}`), one), "unsupported dtype BF16"},
		{"missing dtype", rawFile(entry(`{"shape":[1],"data_offsets":[0,4]}`), one), "missing dtype"},
		{"missing shape", rawFile(entry(`{"dtype":"F32","data_offsets":[0,4]}`), one), "missing shape"},
		{"negative dim", rawFile(entry(`{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}`), one), "bad header entry"},
		{"unknown field", rawFile(entry(`{"dtype":"F32","shape":[1],"data_offsets":[0,4],"stride":[1]}`), one), "bad header entry"},
		{"offsets arity", rawFile(entry(`{"dtype":"F32","shape":[1],"data_offsets":[0,4,8]}`), one), "data_offsets must be"},
		{"size mismatch", rawFile(entry(`{"dtype":"F32","shape":[2],"data_offsets":[0,4]}`), one), "needs 8"},
		{"reversed offsets", rawFile(entry(`{"dtype":"F32","shape":[0],"data_offsets":[4,0]}`), one), "hold"},
		{"overflow", rawFile(entry(`{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,4]}`), one), "too large"},
		{"gap", rawFile(entry(`{"dtype":"F32","shape":[1],"data_offsets":[4,8]}`), f32Bytes(1, 2)), "starts at 4, expected 0"},
		{"overlap", rawFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, f32Bytes(1, 2)), "contiguous"},
		{"extra data", rawFile(entry(`{"dtype":"F32","shape":[1],"data_offsets":[0,4]}`), f32Bytes(1, 2)), "cover 4 bytes, but the data section has 8"},
		{"truncated data", rawFile(entry(`{"dtype":"F32","shape":[2],"data_offsets":[0,8]}`), one), "cover 8 bytes, but the data section has 4"},
		{"metadata not strings", rawFile(`{"__metadata__":{"epoch":5}}`, nil), "must map strings to strings"},
		{"metadata null", rawFile(`{"__metadata__":null}`, nil), "must map strings to strings"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := Parse(c.b)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want one containing %q", err, c.want)
			}
		})
	}
}

func TestWriteErrors(t *testing.T) {
	cases := []struct {
		name string
		d    tensors.Dict
		want string
	}{
		{"reserved", tensors.Dict{"__metadata__": {DType: tensors.F32, Shape: []int{}, F32: []float32{1}}}, "reserved"},
		{"dtype", tensors.Dict{"x": {DType: "F16", Shape: []int{1}}}, `cannot write dtype "F16"`},
		{"length", tensors.Dict{"x": {DType: tensors.F32, Shape: []int{2, 2}, F32: []float32{1}}}, "needs 4 elements, have 1"},
		{"negative", tensors.Dict{"x": {DType: tensors.I64, Shape: []int{-1}}}, "negative dimension"},
	}
	for _, c := range cases {
		err := Write(&bytes.Buffer{}, c.d, nil)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "tensor") {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
}

func TestFileRoundTripAndErrors(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "model.safetensors")
	d := randomDict(rand.New(rand.NewPCG(3, 4)))
	if err := WriteFile(path, d, map[string]string{"format": "ctseg-1"}); err != nil {
		t.Fatal(err)
	}
	got, meta, err := ReadFile(path)
	if err != nil || !reflect.DeepEqual(got, d) || meta["format"] != "ctseg-1" {
		t.Fatalf("ReadFile: %v, %v, %v", err, meta, got)
	}
	// A failed write leaves the existing file alone and no temporary behind.
	if err := WriteFile(path, tensors.Dict{"x": {DType: "U8"}}, nil); err == nil {
		t.Fatal("WriteFile accepted a U8 tensor")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries after a failed write, want 1", len(entries))
	}
	if _, _, err := ReadFile(path); err != nil {
		t.Errorf("the earlier file was damaged: %v", err)
	}
	bad := filepath.Join(dir, "bad.safetensors")
	os.WriteFile(bad, []byte("PK\x03\x04 not safetensors"), 0o644)
	if _, _, err := ReadFile(bad); err == nil || !strings.Contains(err.Error(), bad) {
		t.Errorf("error %v does not name the file", err)
	}
}

// FuzzRead: Parse never panics, and whatever it accepts survives a
// Write/Parse round trip unchanged.
func FuzzRead(f *testing.F) {
	var b bytes.Buffer
	Write(&b, randomDict(rand.New(rand.NewPCG(5, 6))), map[string]string{"k": "v"})
	f.Add(b.Bytes())
	f.Add(rawFile(`{"x":{"dtype":"F64","shape":[1],"data_offsets":[0,8]}}`, make([]byte, 8)))
	f.Add(rawFile(`{"b":{"dtype":"I64","shape":[],"data_offsets":[4,12]},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, make([]byte, 12)))
	f.Add([]byte{8, 0, 0, 0, 0, 0, 0, 0, '{', '}', ' ', ' ', ' ', ' ', ' ', ' '})
	f.Fuzz(func(t *testing.T, data []byte) {
		d, meta, err := Parse(data)
		if err != nil {
			return
		}
		var out bytes.Buffer
		if err := Write(&out, d, meta); err != nil {
			t.Fatalf("Write of a parsed file: %v", err)
		}
		d2, meta2, err := Parse(out.Bytes())
		if err != nil {
			t.Fatalf("Parse of a written file: %v", err)
		}
		if !sameDict(d, d2) || !reflect.DeepEqual(meta, meta2) {
			t.Fatalf("round trip changed the data")
		}
	})
}

// sameDict compares bit for bit (NaN ≠ NaN under DeepEqual).
func sameDict(a, b tensors.Dict) bool {
	if len(a) != len(b) {
		return false
	}
	for k, x := range a {
		y, ok := b[k]
		if !ok || x.DType != y.DType || !reflect.DeepEqual(x.Shape, y.Shape) || !reflect.DeepEqual(x.I64, y.I64) || len(x.F32) != len(y.F32) {
			return false
		}
		for i := range x.F32 {
			if math.Float32bits(x.F32[i]) != math.Float32bits(y.F32[i]) {
				return false
			}
		}
	}
	return true
}
