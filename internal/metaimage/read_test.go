package metaimage

import (
	"bufio"
	"bytes"
	stdzlib "compress/zlib"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// baseHeader is a valid 4×3×2 MET_SHORT header without ElementDataFile;
// tests edit it with strings.Replace.
const baseHeader = `ObjectType = Image
NDims = 3
BinaryData = True
BinaryDataByteOrderMSB = False
CompressedData = False
TransformMatrix = 1 0 0 0 1 0 0 0 1
Offset = 1 2 3
ElementSpacing = 0.5 0.25 2
DimSize = 4 3 2
ElementType = MET_SHORT
`

// writePair writes x.mhd with the given header text (ElementDataFile is
// appended when the header lacks it) and x.raw with data, and returns the
// header path.
func writePair(t *testing.T, header string, data []byte) string {
	t.Helper()
	dir := t.TempDir()
	if !strings.Contains(header, "ElementDataFile") {
		header += "ElementDataFile = x.raw\n"
	}
	if err := os.WriteFile(filepath.Join(dir, "x.mhd"), []byte(header), 0o644); err != nil {
		t.Fatal(err)
	}
	if data != nil {
		if err := os.WriteFile(filepath.Join(dir, "x.raw"), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(dir, "x.mhd")
}

// enc encodes values with encoding/binary in the given order.
func enc(bo binary.ByteOrder, v any) []byte {
	var b bytes.Buffer
	if err := binary.Write(&b, bo, v); err != nil {
		panic(err)
	}
	return b.Bytes()
}

func ramp() []int16 {
	v := make([]int16, 24)
	for i := range v {
		v[i] = int16(i*100 - 1000)
	}
	return v
}

func zlibBytes(b []byte) []byte {
	var z bytes.Buffer
	w := stdzlib.NewWriter(&z)
	w.Write(b)
	w.Close()
	return z.Bytes()
}

func mustRead(t *testing.T, path string) *Image {
	t.Helper()
	img, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func equalHU(t *testing.T, got, want []int16) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d voxels, want %d", len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("voxel %d = %d, want %d", i, got[i], want[i])
		}
	}
}

func TestReadHeaderVariants(t *testing.T) {
	le, be := enc(binary.LittleEndian, ramp()), enc(binary.BigEndian, ramp())
	cases := map[string]struct {
		header string
		data   []byte
	}{
		"plain":               {baseHeader, le},
		"ElementByteOrderMSB": {strings.Replace(baseHeader, "BinaryDataByteOrderMSB = False", "ElementByteOrderMSB = True", 1), be},
		"both orders MSB":     {strings.Replace(baseHeader, "MSB = False", "MSB = True\nElementByteOrderMSB = True", 1), be},
		"Position":            {strings.Replace(baseHeader, "Offset", "Position", 1), le},
		"Origin+Offset":       {baseHeader + "Origin = 1 2 3\n", le},
		"ElementSize":         {strings.Replace(baseHeader, "ElementSpacing", "ElementSize", 1), le},
		"HeaderSize":          {baseHeader + "HeaderSize = 10\n", append(make([]byte, 10), le...)},
		"HeaderSize -1":       {baseHeader + "HeaderSize = -1\n", append([]byte("junk"), le...)},
		"lower-case keys":     {strings.ToLower(strings.Replace(baseHeader, "ElementType = MET_SHORT\n", "", 1)) + "elementtype = MET_SHORT\n", le},
		"blank lines, CRLF":   {strings.ReplaceAll(baseHeader, "\n", "\r\n\r\n"), le},
		"compressed":          {strings.Replace(baseHeader, "CompressedData = False", "CompressedData = True", 1), zlibBytes(le)},
		"compressed with size": {strings.Replace(baseHeader, "CompressedData = False",
			"CompressedData = True\nCompressedDataSize = "+strconv.Itoa(len(zlibBytes(le))), 1), zlibBytes(le)},
		"compressed at end": {strings.Replace(baseHeader, "CompressedData = False",
			"CompressedData = True\nCompressedDataSize = "+strconv.Itoa(len(zlibBytes(le)))+"\nHeaderSize = -1", 1),
			append([]byte("junk"), zlibBytes(le)...)},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			img := mustRead(t, writePair(t, c.header, c.data))
			if img.Size != [3]int{4, 3, 2} || img.Geometry.Origin != [3]float64{1, 2, 3} ||
				img.Geometry.Spacing != [3]float64{0.5, 0.25, 2} {
				t.Fatalf("size %v geometry %+v", img.Size, img.Geometry)
			}
			equalHU(t, img.HU, ramp())
		})
	}
}

func TestReadLocalWithHeaderSize(t *testing.T) {
	le := enc(binary.LittleEndian, ramp())
	hdr := baseHeader + "ElementDataFile = LOCAL\n"
	path := filepath.Join(t.TempDir(), "x.mha")
	if err := os.WriteFile(path, append([]byte(hdr), le...), 0o644); err != nil {
		t.Fatal(err)
	}
	equalHU(t, mustRead(t, path).HU, ramp())
	// HeaderSize counts from the start of the file.
	hdr = baseHeader + "HeaderSize = 400\nElementDataFile = Local\n"
	pad := make([]byte, 400-len(hdr))
	if err := os.WriteFile(path, append(append([]byte(hdr), pad...), le...), 0o644); err != nil {
		t.Fatal(err)
	}
	equalHU(t, mustRead(t, path).HU, ramp())
}

func TestReadClampsWithWarning(t *testing.T) {
	ints := []int32{40000, -40000, 5, -5, 32767, -32768}
	hdr := strings.NewReplacer("DimSize = 4 3 2", "DimSize = 3 2 1", "MET_SHORT", "MET_INT").Replace(baseHeader)
	img := mustRead(t, writePair(t, hdr, enc(binary.LittleEndian, ints)))
	equalHU(t, img.HU, []int16{32767, -32768, 5, -5, 32767, -32768})
	if len(img.Warnings) != 1 || !strings.Contains(img.Warnings[0], "2 MET_INT voxels") ||
		!strings.Contains(img.Warnings[0], "x.raw") {
		t.Errorf("warnings %q", img.Warnings)
	}

	u16 := []uint16{65535, 32768, 32767, 0, 1, 2}
	hdr = strings.NewReplacer("DimSize = 4 3 2", "DimSize = 3 2 1", "MET_SHORT", "MET_USHORT",
		"MSB = False", "MSB = True").Replace(baseHeader)
	img = mustRead(t, writePair(t, hdr, enc(binary.BigEndian, u16)))
	equalHU(t, img.HU, []int16{32767, 32767, 32767, 0, 1, 2})
	if len(img.Warnings) != 1 {
		t.Errorf("warnings %q", img.Warnings)
	}

	// Floats round half to even, then clamp.
	fl := []float64{0.5, 1.5, -2.5, 2.6, 1e6, -1e9}
	hdr = strings.NewReplacer("DimSize = 4 3 2", "DimSize = 3 2 1", "MET_SHORT", "MET_DOUBLE").Replace(baseHeader)
	img = mustRead(t, writePair(t, hdr, enc(binary.LittleEndian, fl)))
	equalHU(t, img.HU, []int16{0, 2, -2, 3, 32767, -32768})
	if len(img.Warnings) != 1 || !strings.Contains(img.Warnings[0], "min -1e+09, max 1e+06") {
		t.Errorf("warnings %q", img.Warnings)
	}
}

func TestReadErrors(t *testing.T) {
	le := enc(binary.LittleEndian, ramp())
	z := zlibBytes(le)
	corrupt := append([]byte(nil), z...)
	corrupt[len(corrupt)/2] ^= 0xff
	corrupt[len(corrupt)-1] ^= 0xff // the Adler-32 checksum at least
	comp := strings.Replace(baseHeader, "CompressedData = False", "CompressedData = True", 1)
	nan := enc(binary.LittleEndian, []float32{0, 1, float32(math.NaN()), 3, 4, 5})
	rep := func(pairs ...string) string { return strings.NewReplacer(pairs...).Replace(baseHeader) }
	cases := map[string]struct {
		header string
		data   []byte
		want   string
	}{
		"missing data file": {baseHeader, nil, "x.mhd: data file: open"},
		"short":             {baseHeader, le[:40], "x.raw: data is shorter than the header says: 40 bytes"},
		"long":              {baseHeader, append(le, 0), "x.raw: data is longer than the header says: 49 bytes"},
		"end short":         {baseHeader + "HeaderSize = -1\n", le[:47], "the file holds 47 bytes, DimSize 4 3 2 of MET_SHORT needs 48"},
		"HeaderSize past":   {baseHeader + "HeaderSize = 10\n", le, "shorter than the header says: 38 bytes"},
		// Once "shorter than the header says: -99999999951 bytes".
		"HeaderSize past end":  {baseHeader + "HeaderSize = 99999999999\n", le, "x.raw: HeaderSize = 99999999999 is beyond the end of the 48-byte data file"},
		"HeaderSize past zlib": {comp + "HeaderSize = 100\n", z, "HeaderSize = 100 is beyond the end"},
		"no DimSize":           {rep("DimSize = 4 3 2\n", ""), le, "x.mhd: missing key DimSize"},
		"no ElementType":       {rep("ElementType = MET_SHORT\n", ""), le, "missing key ElementType"},
		"no spacing":           {rep("ElementSpacing = 0.5 0.25 2\n", ""), le, "missing key ElementSpacing"},
		"no NDims":             {rep("NDims = 3\n", ""), le, "missing key NDims"},
		"no ElementDataFile":   {baseHeader + "ElementDataFile", nil, "not a \"Key = Value\" line"},
		"eof header":           {baseHeader + "ElementDataFileX = x.raw\n", nil, "missing key ElementDataFile"},
		"NDims 2":              {rep("NDims = 3", "NDims = 2"), le, "NDims = 2: only 3-D"},
		"type":                 {rep("MET_SHORT", "MET_LONG_LONG"), le, `unsupported ElementType "MET_LONG_LONG"`},
		"DimSize count":        {rep("DimSize = 4 3 2", "DimSize = 4 3"), le, "DimSize = 4 3: want 3 sizes"},
		"DimSize zero":         {rep("DimSize = 4 3 2", "DimSize = 4 0 2"), le, `"0" is not a positive integer`},
		"spacing text":         {rep("0.5 0.25 2", "0.5 abc 2"), le, `"abc" is not a finite number`},
		"spacing zero":         {rep("0.5 0.25 2", "0.5 0 2"), le, "bad geometry: spacing[1]"},
		"singular matrix":      {rep("1 0 0 0 1 0 0 0 1", "1 0 0 1 0 0 0 0 1"), le, "singular"},
		"bad bool":             {rep("CompressedData = False", "CompressedData = Maybe"), le, "CompressedData = Maybe: want True or False"},
		"ascii":                {rep("BinaryData = True", "BinaryData = False"), le, "ASCII"},
		"channels":             {baseHeader + "ElementNumberOfChannels = 3\n", le, "only scalar"},
		"duplicate":            {baseHeader + "Offset = 1 2 3\n", le, "key Offset repeated"},
		"conflicting offset":   {baseHeader + "Position = 1 2 4\n", le, "conflicting keys Offset"},
		"conflicting order":    {baseHeader + "ElementByteOrderMSB = True\n", le, "disagree"},
		"object":               {rep("ObjectType = Image", "ObjectType = Tube"), le, "only Image"},
		"list":                 {baseHeader + "ElementDataFile = LIST\n", le, "not supported"},
		"pattern":              {baseHeader + "ElementDataFile = s%03d.raw 1 40 1\n", le, "not supported"},
		"corrupt zlib":         {comp, corrupt, "x.raw: corrupt zlib data"},
		"not zlib":             {comp, le, "x.raw: corrupt zlib data"},
		"zlib short":           {comp, zlibBytes(le[:40]), "inflates to fewer bytes"},
		"zlib long":            {comp, zlibBytes(append(le, 1, 2)), "inflates to more bytes"},
		"zlib size":            {strings.Replace(comp, "CompressedData = True", "CompressedData = True\nCompressedDataSize = 5", 1), z, "longer than the header says"},
		"zlib too small":       {strings.Replace(comp, "DimSize = 4 3 2", "DimSize = 1000 1000 1000", 1), z, "cannot inflate to the 2000000000 bytes"},
		"zlib end no size":     {comp + "HeaderSize = -1\n", z, "needs CompressedDataSize"},
		"NaN":                  {rep("MET_SHORT", "MET_FLOAT", "DimSize = 4 3 2", "DimSize = 3 2 1"), nan, "voxel 2: value is NaN"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := ReadFile(writePair(t, c.header, c.data))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one containing %q", err, c.want)
			}
		})
	}
	if _, err := ReadFile(filepath.Join(t.TempDir(), "none.mhd")); err == nil || !strings.Contains(err.Error(), "none.mhd") {
		t.Errorf("missing header: %v", err)
	}
}

func TestReadBinaryFileIsNotAHeader(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.mhd")
	if err := os.WriteFile(path, bytes.Repeat([]byte{0, 1, 2, '\n'}, 10), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadFile(path); err == nil || !strings.Contains(err.Error(), "x.mhd: line 1") {
		t.Errorf("got %v", err)
	}
}

// FuzzParseHeader checks that no header text makes the parser panic.
func FuzzParseHeader(f *testing.F) {
	f.Add([]byte(baseHeader + "ElementDataFile = x.raw\n"))
	f.Add([]byte(baseHeader + "HeaderSize = -1\nElementDataFile = LOCAL\n"))
	f.Add([]byte("NDims = 3\nDimSize = 1 1 1\nElementDataFile = %d\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := parseHeader(bufio.NewReader(bytes.NewReader(b)))
		if err == nil && (h.size[0] < 1 || h.size[1] < 1 || h.size[2] < 1 || h.typ.size == 0) {
			t.Errorf("accepted a header with size %v, type %+v", h.size, h.typ)
		}
	})
}

func TestReadHeaderWithoutLineEnds(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.mhd")
	if err := os.WriteFile(path, bytes.Repeat([]byte("ab"), 100000), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadFile(path); err == nil || !strings.Contains(err.Error(), "line 1 is longer than") {
		t.Errorf("got %v", err)
	}
}
