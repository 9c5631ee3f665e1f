package torchload

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/ctseg/ctseg/internal/sharedtest"
	"github.com/ctseg/ctseg/internal/tensors"
)

// tensorFacts is one entry of testdata/book_values.json, written by torch
// (testdata/make_fixtures.py).
type tensorFacts struct {
	Shape  []int     `json:"shape"`
	DType  string    `json:"dtype"`
	First  []float64 `json:"first"`
	Last   *float64  `json:"last"`
	Sum    float64   `json:"sum"`
	AbsSum float64   `json:"abssum"`
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// values returns a tensor's elements as float64 whatever its dtype.
func values(tt tensors.Tensor) []float64 {
	out := make([]float64, 0, tt.Len())
	for _, v := range tt.F32 {
		out = append(out, float64(v))
	}
	for _, v := range tt.I64 {
		out = append(out, float64(v))
	}
	return out
}

func TestBookCheckpoint(t *testing.T) {
	var want struct {
		File    string                 `json:"file"`
		Meta    map[string]any         `json:"meta"`
		Tensors map[string]tensorFacts `json:"tensors"`
	}
	readJSON(t, "testdata/book_values.json", &want)
	path := sharedtest.Path(t, "models", want.File)
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if c.Format != "legacy" || len(c.State) != 81 || len(want.Tensors) != 81 {
		t.Fatalf("format %s, %d tensors (fixture %d), want legacy with 81", c.Format, len(c.State), len(want.Tensors))
	}
	wantMeta := map[string]string{
		"epoch": "5", "totalTrainingSamples_count": "1500000", "model_name": "UNetWrapper",
		"optimizer_name": "Adam", "time": "2020-01-26 20:08:07.273894",
		"sys_argv": `["/home/elis/edit/book/code/p2ch13/training.py","--epochs","300","--augmented","w4d3c1-bal_1_nodupe-label_pos-d1_fn8-adam","--num-workers=4"]`,
	}
	if !reflect.DeepEqual(c.Metadata, wantMeta) {
		t.Errorf("metadata\n%v\nwant\n%v", c.Metadata, wantMeta)
	}
	if s := c.State["unet.down_path.0.block.0.weight"].Shape; !reflect.DeepEqual(s, []int{16, 7, 3, 3}) {
		t.Errorf("unet.down_path.0.block.0.weight shape %v, want [16 7 3 3]", s)
	}
	for name, f := range want.Tensors {
		checkFacts(t, name, c.State[name], f)
	}
}

// checkFacts compares a tensor with torch's description of it: shape,
// dtype, exact first and last values, and float64 sums (torch sums
// pairwise, so those agree to rounding only).
func checkFacts(t *testing.T, name string, got tensors.Tensor, f tensorFacts) {
	t.Helper()
	wantDType := map[string]tensors.DType{"float32": tensors.F32, "int64": tensors.I64}[f.DType]
	if got.DType != wantDType || !reflect.DeepEqual(got.Shape, f.Shape) {
		t.Errorf("%s: %s%v, want %s%v", name, got.DType, got.Shape, f.DType, f.Shape)
		return
	}
	vs := values(got)
	for i, w := range f.First {
		if vs[i] != w {
			t.Errorf("%s[%d] = %v, want %v", name, i, vs[i], w)
		}
	}
	if f.Last != nil && vs[len(vs)-1] != *f.Last {
		t.Errorf("%s last = %v, want %v", name, vs[len(vs)-1], *f.Last)
	}
	var sum, abs float64
	for _, v := range vs {
		sum += v
		abs += math.Abs(v)
	}
	if math.Abs(sum-f.Sum) > 1e-12*f.AbsSum || math.Abs(abs-f.AbsSum) > 1e-12*f.AbsSum {
		t.Errorf("%s: sum %v abssum %v, want %v %v", name, sum, abs, f.Sum, f.AbsSum)
	}
}

// Both small fixtures hold the same dict (views, shared storage, float64,
// int64, empty, a Parameter); every element must match torch's values.
func TestSmallFixtures(t *testing.T) {
	checkAgainstJSON(t, "small_zip.pt", "zip", "small_values.json")
	checkAgainstJSON(t, "small_legacy.pt", "legacy", "small_values.json")
}

// A bare module state_dict: an OrderedDict with a _metadata attribute.
func TestBareStateDict(t *testing.T) {
	checkAgainstJSON(t, "state_dict_zip.pt", "zip", "state_dict_values.json")
}

func checkAgainstJSON(t *testing.T, file, format, valuesFile string) {
	t.Helper()
	var want map[string]struct {
		Shape  []int     `json:"shape"`
		DType  string    `json:"dtype"`
		Values []float64 `json:"values"`
	}
	readJSON(t, filepath.Join("testdata", valuesFile), &want)
	c, err := Load(filepath.Join("testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	if c.Format != format || len(c.State) != len(want) || len(c.Metadata) != 0 {
		t.Errorf("%s: format %s, %d tensors, metadata %v", file, c.Format, len(c.State), c.Metadata)
	}
	for name, w := range want {
		got := c.State[name]
		wantDType := tensors.F32
		if w.DType == "int64" {
			wantDType = tensors.I64
		}
		if got.DType != wantDType || !reflect.DeepEqual(got.Shape, w.Shape) || got.Len() != len(w.Values) {
			t.Errorf("%s %s: %s%v, want %s%v", file, name, got.DType, got.Shape, w.DType, w.Shape)
			continue
		}
		for i, v := range values(got) {
			// float64 tensors are rounded to float32 on import.
			if wv := w.Values[i]; v != wv && !(w.DType == "float64" && v == float64(float32(wv))) {
				t.Errorf("%s %s[%d] = %v, want %v", file, name, i, v, wv)
			}
		}
	}
}

// SPEC: the book's UNetWrapper has 118,271 trainable parameters; the
// state dict also holds BatchNorm running statistics and counters.
func TestBookParameterCount(t *testing.T) {
	c, err := Load(sharedtest.ModelPath(t))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for name, tt := range c.State {
		if !strings.HasSuffix(name, ".running_mean") && !strings.HasSuffix(name, ".running_var") && tt.DType == tensors.F32 {
			n += tt.Len()
		}
	}
	if n != 118271 {
		t.Errorf("%d trainable parameters, want 118271", n)
	}
}

func TestNotTorch(t *testing.T) {
	dir := t.TempDir()
	cases := map[string][]byte{
		"empty":       nil,
		"text":        []byte("hello world\n"),
		"safetensors": append([]byte{8, 0, 0, 0, 0, 0, 0, 0}, "{}      "...),
		"zip":         zipWith(t, map[string]string{"a/b.txt": "x"}),
		"pickle":      {0x80, 0x02, 'K', 5, '.'},
	}
	for name, b := range cases {
		path := filepath.Join(dir, name)
		os.WriteFile(path, b, 0o644)
		_, err := Load(path)
		if !errors.Is(err, ErrNotTorch) || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: error %v, want ErrNotTorch naming the file", name, err)
		}
	}
}

func zipWith(t *testing.T, files map[string]string) []byte {
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for name, content := range files {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(content))
	}
	zw.Close()
	return b.Bytes()
}

// zipRecord returns one record of the small zip fixture.
func zipRecord(t *testing.T, name string) []byte {
	zr, err := zip.OpenReader("testdata/small_zip.pt")
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	f, err := zr.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var buf bytes.Buffer
	buf.ReadFrom(f)
	return buf.Bytes()
}

// rezip rewrites the small zip fixture with one record replaced or dropped.
func rezip(t *testing.T, replace map[string][]byte) []byte {
	zr, err := zip.OpenReader("testdata/small_zip.pt")
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, f := range zr.File {
		data, ok := replace[f.Name]
		if !ok {
			rc, _ := f.Open()
			var buf bytes.Buffer
			buf.ReadFrom(rc)
			rc.Close()
			data = buf.Bytes()
		} else if data == nil {
			continue
		}
		w, _ := zw.CreateHeader(&zip.FileHeader{Name: f.Name, Method: zip.Store})
		w.Write(data)
	}
	for name, data := range replace {
		if _, err := zr.Open(name); err != nil && data != nil {
			w, _ := zw.Create(name)
			w.Write(data)
		}
	}
	zw.Close()
	return b.Bytes()
}

func TestCorruptFiles(t *testing.T) {
	legacy, err := os.ReadFile("testdata/small_legacy.pt")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		b    []byte
		want string
	}{
		{"legacy truncated", legacy[:len(legacy)-10], "truncated"},
		{"legacy trailing", append(append([]byte{}, legacy...), 0), "unexpected bytes"},
		{"legacy cut in pickle", legacy[:200], "pickle"},
		{"zip short record", rezip(t, map[string][]byte{"small_zip/data/0": {1, 2, 3}}), "want"},
		{"zip missing record", rezip(t, map[string][]byte{"small_zip/data/1": nil}), "missing"},
		{"torchscript", rezip(t, map[string][]byte{"small_zip/constants.pkl": {}}), "TorchScript"},
		{"big endian", rezip(t, map[string][]byte{"small_zip/byteorder": []byte("big")}), "little-endian"},
		// A pickle calling a global outside the allow-list (os.system).
		{"foreign global", rezip(t, map[string][]byte{"small_zip/data.pkl": []byte("\x80\x02cos\nsystem\nq\x00X\x02\x00\x00\x00lsq\x01\x85q\x02Rq\x03.")}), "os.system"},
		{"not a dict", rezip(t, map[string][]byte{"small_zip/data.pkl": []byte("\x80\x02K\x05.")}), "not a dict"},
		{"dict of non-tensors", rezip(t, map[string][]byte{"small_zip/data.pkl": []byte("\x80\x02}q\x00X\x01\x00\x00\x00aq\x01K\x01s.")}), `entry "a" is int, not a tensor`},
		{"empty long", rezip(t, map[string][]byte{"small_zip/data.pkl": []byte("\x80\x02\x8a\x00.")}), "corrupt pickle"},
		{"unsupported dtype", rezip(t, map[string][]byte{"small_zip/data.pkl": bytes.ReplaceAll(zipRecord(t, "small_zip/data.pkl"), []byte("FloatStorage"), []byte("IntStorage"))}), "unsupported dtype torch.IntStorage"},
		// BINUNICODE claiming 1.5 GB: must fail before any allocation.
		{"huge frame", rezip(t, map[string][]byte{"small_zip/data.pkl": []byte("\x80\x04\x95\x00\x00\x00\x00\x01\x00\x00\x00N.")}), "frame runs past"},
		{"huge length", rezip(t, map[string][]byte{"small_zip/data.pkl": []byte("\x80\x02X\x00\x00\x00\x60.")}), "runs past the end"},
	}
	for _, c := range cases {
		_, err := Parse(c.b)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
}

// FuzzParse: no input makes Parse panic or misbehave.
func FuzzParse(f *testing.F) {
	for _, name := range []string{"small_zip.pt", "small_legacy.pt"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := Parse(b)
		if err == nil {
			for name, tt := range c.State {
				if tt.Len() != len(tt.F32)+len(tt.I64) {
					t.Fatalf("%s: shape %v with %d+%d elements", name, tt.Shape, len(tt.F32), len(tt.I64))
				}
			}
		}
	})
}
