package metaimage

import (
	"bytes"
	stdzlib "compress/zlib"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/ctseg/ctseg/geom"
)

// rotated is a non-symmetric rotation (about z by 30°, then about x by
// 20°), so a transposed matrix would show up.
var rotated = func() [9]float64 {
	c, s := math.Cos(math.Pi/6), math.Sin(math.Pi/6)
	cx, sx := math.Cos(math.Pi/9), math.Sin(math.Pi/9)
	return [9]float64{c, -s, 0, cx * s, cx * c, -sx, sx * s, sx * c, cx}
}()

// phantom returns a small image whose voxels cover [lo, hi] and whose
// axes are all different, so transposed dimensions show up.
func phantom(lo, hi int64) *Image {
	img := &Image{
		Size: [3]int{7, 5, 3},
		Geometry: geom.Geometry{
			Origin:    [3]float64{-166, -171.699997, -165.25},
			Spacing:   [3]float64{0.703125, 0.8, 2.5},
			Direction: rotated,
		},
	}
	img.HU = make([]int16, img.Voxels())
	span := hi - lo + 1
	for i := range img.HU {
		img.HU[i] = int16(lo + (int64(i)*7919)%span)
	}
	img.HU[0], img.HU[len(img.HU)-1] = int16(lo), int16(hi)
	return img
}

// typeRanges are the int16 values each type can hold, written out here
// rather than taken from the code under test.
var typeRanges = map[string][2]int64{
	"MET_CHAR": {-128, 127}, "MET_UCHAR": {0, 255},
	"MET_SHORT": {-32768, 32767}, "MET_USHORT": {0, 32767},
	"MET_INT": {-32768, 32767}, "MET_UINT": {0, 32767},
	"MET_FLOAT": {-32768, 32767}, "MET_DOUBLE": {-32768, 32767},
}

// decodeIndependently decodes element bytes with encoding/binary.Read.
func decodeIndependently(t *testing.T, b []byte, typ string, bo binary.ByteOrder, n int) []int64 {
	t.Helper()
	var v any
	switch typ {
	case "MET_CHAR":
		v = make([]int8, n)
	case "MET_UCHAR":
		v = make([]uint8, n)
	case "MET_SHORT":
		v = make([]int16, n)
	case "MET_USHORT":
		v = make([]uint16, n)
	case "MET_INT":
		v = make([]int32, n)
	case "MET_UINT":
		v = make([]uint32, n)
	case "MET_FLOAT":
		v = make([]float32, n)
	case "MET_DOUBLE":
		v = make([]float64, n)
	}
	r := bytes.NewReader(b)
	if err := binary.Read(r, bo, v); err != nil {
		t.Fatalf("independent decode of %s: %v", typ, err)
	}
	if r.Len() != 0 {
		t.Fatalf("independent decode of %s: %d bytes left over", typ, r.Len())
	}
	rv := reflect.ValueOf(v)
	out := make([]int64, n)
	for i := range out {
		e := rv.Index(i)
		switch e.Kind() {
		case reflect.Float32, reflect.Float64:
			out[i] = int64(e.Float())
		case reflect.Uint8, reflect.Uint16, reflect.Uint32:
			out[i] = int64(e.Uint())
		default:
			out[i] = e.Int()
		}
	}
	return out
}

// dataBytes returns the element bytes stored for a written image,
// inflating them with the standard library's zlib when compressed.
func dataBytes(t *testing.T, path string, compressed bool) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.HasSuffix(path, ".mha") {
		_, b, _ = bytes.Cut(b, []byte("ElementDataFile = LOCAL\n"))
	}
	if !compressed {
		return b
	}
	zr, err := stdzlib.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestRoundTripAllTypesOrdersLayouts(t *testing.T) {
	layouts := []struct {
		ext        string
		compressed bool
	}{{".mhd", false}, {".mhd", true}, {".mha", false}, {".mha", true}}
	for typ, rng := range typeRanges {
		for _, msb := range []bool{false, true} {
			for _, l := range layouts {
				name := fmt.Sprintf("%s/msb=%v/%s/z=%v", typ, msb, l.ext, l.compressed)
				t.Run(name, func(t *testing.T) {
					roundTrip(t, typ, msb, l.ext, l.compressed, rng)
				})
			}
		}
	}
}

func roundTrip(t *testing.T, typ string, msb bool, ext string, compressed bool, rng [2]int64) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ct"+ext)
	img := phantom(rng[0], rng[1])
	opt := WriteOptions{ElementType: typ, MSB: msb, Compressed: compressed, Level: 1}
	if err := WriteFile(path, img, opt); err != nil {
		t.Fatal(err)
	}
	got, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got.Size != img.Size || got.Geometry != img.Geometry || !reflect.DeepEqual(got.HU, img.HU) || got.Warnings != nil {
		t.Fatalf("read back differs: size %v geometry %+v warnings %v", got.Size, got.Geometry, got.Warnings)
	}
	// The bytes on disk, decoded without the package, hold the same values.
	dataPath := path
	if ext == ".mhd" {
		dataPath = filepath.Join(dir, map[bool]string{false: "ct.raw", true: "ct.zraw"}[compressed])
	}
	var bo binary.ByteOrder = binary.LittleEndian
	if msb {
		bo = binary.BigEndian
	}
	vals := decodeIndependently(t, dataBytes(t, dataPath, compressed), typ, bo, len(img.HU))
	for i, v := range vals {
		if v != int64(img.HU[i]) {
			t.Fatalf("voxel %d on disk = %d, want %d", i, v, img.HU[i])
		}
	}
}

func TestHeaderIsLUNA16Layout(t *testing.T) {
	dir := t.TempDir()
	img := phantom(-1000, 1000)
	img.Geometry.Direction = geom.Identity
	if err := WriteFile(filepath.Join(dir, "a.mhd"), img, WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	want := `ObjectType = Image
NDims = 3
BinaryData = True
BinaryDataByteOrderMSB = False
CompressedData = False
TransformMatrix = 1 0 0 0 1 0 0 0 1
Offset = -166 -171.699997 -165.25
CenterOfRotation = 0 0 0
AnatomicalOrientation = RAI
ElementSpacing = 0.703125 0.8 2.5
DimSize = 7 5 3
ElementType = MET_SHORT
ElementDataFile = a.raw
`
	b, err := os.ReadFile(filepath.Join(dir, "a.mhd"))
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != want {
		t.Errorf("header:\n%s\nwant:\n%s", b, want)
	}
	if err := WriteFile(filepath.Join(dir, "b.mhd"), img, WriteOptions{Compressed: true}); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(filepath.Join(dir, "b.zraw"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ = os.ReadFile(filepath.Join(dir, "b.mhd"))
	wantLine := fmt.Sprintf("CompressedData = True\nCompressedDataSize = %d\nTransformMatrix", st.Size())
	if !strings.Contains(string(b), wantLine) {
		t.Errorf("compressed header lacks %q:\n%s", wantLine, b)
	}
}

func TestOrientation(t *testing.T) {
	for d, want := range map[[9]float64]string{
		geom.Identity:                 "RAI",
		{-1, 0, 0, 0, -1, 0, 0, 0, 1}: "LPI",
		{0, 0, 1, 1, 0, 0, 0, -1, 0}:  "ASR",
	} {
		if got := orientation(d); got != want {
			t.Errorf("orientation(%v) = %s, want %s", d, got, want)
		}
	}
}

func TestWriteRejects(t *testing.T) {
	dir := t.TempDir()
	img := phantom(-1000, 1000)
	for name, c := range map[string]struct {
		path string
		img  *Image
		opt  WriteOptions
		want string
	}{
		"ext":      {"a.nii", img, WriteOptions{}, "must end in .mhd or .mha"},
		"type":     {"a.mhd", img, WriteOptions{ElementType: "MET_LONG"}, "unsupported ElementType"},
		"range":    {"a.mhd", img, WriteOptions{ElementType: "MET_UCHAR"}, "does not fit MET_UCHAR"},
		"voxels":   {"a.mhd", &Image{Size: [3]int{2, 2, 2}, Geometry: img.Geometry}, WriteOptions{}, "needs 8"},
		"geometry": {"a.mhd", &Image{Size: [3]int{1, 1, 1}, HU: []int16{0}}, WriteOptions{}, "bad geometry"},
		"zlevel":   {"a.mhd", img, WriteOptions{Compressed: true, Level: 12}, "zlib level"},
	} {
		err := WriteFile(filepath.Join(dir, c.path), c.img, c.opt)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", name, err, c.want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "a.raw")); err == nil {
		t.Error("a failed write left a.raw behind")
	}
}

func TestReadFileIntoReusesBuffer(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.mha")
	img := phantom(-1000, 1000)
	if err := WriteFile(path, img, WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	buf := make([]int16, 200)
	got, err := ReadFileInto(path, buf)
	if err != nil {
		t.Fatal(err)
	}
	if &got.HU[0] != &buf[0] || !reflect.DeepEqual(got.HU, img.HU) {
		t.Error("ReadFileInto did not read into the given buffer")
	}
	got, err = ReadFileInto(path, buf[:10:10])
	if err != nil || &got.HU[0] == &buf[0] || !reflect.DeepEqual(got.HU, img.HU) {
		t.Errorf("small buffer: err %v", err)
	}
}

// benchVolume writes a 512×512×40 CT-like volume (the real .raw series when
// present, else a phantom) in the given layout and returns its header.
func benchVolume(b *testing.B, ext string, opt WriteOptions) string {
	b.Helper()
	img := &Image{Size: [3]int{512, 512, 40}, Geometry: geom.Geometry{Spacing: [3]float64{1, 1, 1}, Direction: geom.Identity}}
	img.HU = make([]int16, img.Voxels())
	for i := range img.HU {
		img.HU[i] = int16((i*i)%3000 - 1024) // some entropy, so zlib has work
	}
	path := filepath.Join(b.TempDir(), "v"+ext)
	if err := WriteFile(path, img, opt); err != nil {
		b.Fatal(err)
	}
	return path
}

func benchRead(b *testing.B, path string) {
	buf := make([]int16, 512*512*40)
	b.SetBytes(int64(2 * len(buf)))
	b.ResetTimer()
	for b.Loop() {
		if _, err := ReadFileInto(path, buf); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkReadRaw(b *testing.B)    { benchRead(b, benchVolume(b, ".mhd", WriteOptions{})) }
func BenchmarkReadRawMSB(b *testing.B) { benchRead(b, benchVolume(b, ".mhd", WriteOptions{MSB: true})) }
func BenchmarkReadFloat(b *testing.B) {
	benchRead(b, benchVolume(b, ".mhd", WriteOptions{ElementType: "MET_FLOAT"}))
}
func BenchmarkReadZraw(b *testing.B) {
	benchRead(b, benchVolume(b, ".mhd", WriteOptions{Compressed: true, Level: 1}))
}

// TestRotatedGeometryRoundTrip reads back a header with a rotated,
// non-symmetric TransformMatrix and checks that irc → xyz → irc through
// geom is the identity, with xyz computed here from SPEC.md's formula
// xyz = D·(col·sx, row·sy, index·sz) + origin.
func TestRotatedGeometryRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.mhd")
	if err := WriteFile(path, phantom(-1000, 1000), WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	img, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	g := img.Geometry
	if g.Direction != rotated || rotated[1] == rotated[3] {
		t.Fatalf("direction %v, want the non-symmetric %v", g.Direction, rotated)
	}
	for _, irc := range [][3]int{{0, 0, 0}, {2, 4, 6}, {1, 3, 2}, {2, 0, 5}} {
		v := [3]float64{float64(irc[2]) * g.Spacing[0], float64(irc[1]) * g.Spacing[1], float64(irc[0]) * g.Spacing[2]}
		var want [3]float64
		for r := 0; r < 3; r++ {
			want[r] = g.Origin[r]
			for c := 0; c < 3; c++ {
				want[r] += rotated[3*r+c] * v[c]
			}
		}
		xyz := g.IRC2XYZ([3]float64{float64(irc[0]), float64(irc[1]), float64(irc[2])})
		for k := range xyz {
			if math.Abs(xyz[k]-want[k]) > 1e-9 {
				t.Fatalf("irc %v: xyz %v, want %v", irc, xyz, want)
			}
		}
		back, err := g.XYZ2IRC(want)
		if err != nil || back != irc {
			t.Errorf("irc %v → xyz %v → irc %v (%v)", irc, want, back, err)
		}
	}
}
