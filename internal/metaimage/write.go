package metaimage

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/klauspost/compress/zlib"

	"github.com/ctseg/ctseg/internal/atomicfile"
	"github.com/ctseg/ctseg/internal/bigbuf"
)

// WriteOptions chooses how WriteFile stores the voxels.
type WriteOptions struct {
	// ElementType is the MET_* type on disk; "" means MET_SHORT. Also
	// MET_USHORT, MET_CHAR, MET_UCHAR, MET_INT, MET_UINT, MET_FLOAT,
	// MET_DOUBLE. A voxel the type cannot hold is an error.
	ElementType string
	MSB         bool // big-endian data
	// Compressed writes zlib data (.zraw, CompressedData = True, with
	// CompressedDataSize).
	Compressed bool
	// Level is the zlib level (1 fastest … 9 smallest); 0 means the default.
	Level int
}

// WriteFile writes img as a MetaImage: path ending in .mhd gets its data in
// a .raw (or .zraw) beside it, path ending in .mha holds header and data
// (ElementDataFile = LOCAL). The header keys follow genuine LUNA16 order.
// Each file is written atomically; the data file first, so a header never
// names missing data.
func WriteFile(path string, img *Image, opt WriteOptions) error {
	if err := writeFile(path, img, opt); err != nil {
		return fmt.Errorf("write MetaImage %s: %w", path, err)
	}
	return nil
}

func writeFile(path string, img *Image, opt WriteOptions) error {
	t, err := checkWrite(img, opt)
	if err != nil {
		return err
	}
	switch ext := strings.ToLower(filepath.Ext(path)); ext {
	case ".mhd":
		return writeMHD(path, img, t, opt)
	case ".mha":
		return writeMHA(path, img, t, opt)
	default:
		return fmt.Errorf("file name must end in .mhd or .mha, not %q", ext)
	}
}

// checkWrite validates the image and returns the element type to write.
func checkWrite(img *Image, opt WriteOptions) (elemType, error) {
	name := opt.ElementType
	if name == "" {
		name = "MET_SHORT"
	}
	t, err := lookupType(name)
	if err != nil {
		return t, err
	}
	for i, n := range img.Size {
		if n < 1 {
			return t, fmt.Errorf("Size[%d] = %d: must be positive", i, n)
		}
	}
	if len(img.HU) != img.Voxels() {
		return t, fmt.Errorf("%d voxels for Size %v, which needs %d", len(img.HU), img.Size, img.Voxels())
	}
	if err := img.Geometry.Validate(); err != nil {
		return t, fmt.Errorf("bad geometry: %w", err)
	}
	if opt.Level < 0 || opt.Level > 9 {
		return t, fmt.Errorf("zlib level %d: want 1…9, or 0 for the default", opt.Level)
	}
	return t, nil
}

// writeMHD writes the data file, then the header naming it.
func writeMHD(path string, img *Image, t elemType, opt WriteOptions) error {
	ext := ".raw"
	if opt.Compressed {
		ext = ".zraw"
	}
	dataPath := strings.TrimSuffix(path, filepath.Ext(path)) + ext
	f, err := atomicfile.Create(dataPath)
	if err != nil {
		return err
	}
	defer f.Abort()
	cw := &countWriter{w: f}
	if err := writeData(cw, img.HU, t, opt); err != nil {
		return fmt.Errorf("%s: %w", dataPath, err)
	}
	if err := f.Commit(); err != nil {
		return err
	}
	hdr := headerText(img, t, opt, cw.n, filepath.Base(dataPath))
	return atomicfile.WriteFile(path, []byte(hdr))
}

// writeMHA writes header and data into one file. Compressed data is built
// in memory first, since the header announces its size.
func writeMHA(path string, img *Image, t elemType, opt WriteOptions) error {
	var zbuf bytes.Buffer
	if opt.Compressed {
		if err := writeData(&zbuf, img.HU, t, opt); err != nil {
			return err
		}
	}
	f, err := atomicfile.Create(path)
	if err != nil {
		return err
	}
	defer f.Abort()
	if _, err := io.WriteString(f, headerText(img, t, opt, int64(zbuf.Len()), localData)); err != nil {
		return err
	}
	if opt.Compressed {
		_, err = zbuf.WriteTo(f)
	} else {
		err = writeData(f, img.HU, t, opt)
	}
	if err != nil {
		return err
	}
	return f.Commit()
}

// writeData encodes the voxels to w, through zlib when compressed.
func writeData(w io.Writer, hu []int16, t elemType, opt WriteOptions) error {
	if !opt.Compressed {
		return encode(w, hu, t, byteOrder(opt.MSB))
	}
	level := opt.Level
	if level == 0 {
		level = zlib.DefaultCompression
	}
	zw, err := zlib.NewWriterLevel(w, level)
	if err != nil {
		return err
	}
	if err := encode(zw, hu, t, byteOrder(opt.MSB)); err != nil {
		return err
	}
	return zw.Close()
}

// encode writes the voxels as type t in byte order bo.
func encode(w io.Writer, hu []int16, t elemType, bo binary.ByteOrder) error {
	if t.name == "MET_SHORT" && (bo == binary.LittleEndian) == bigbuf.LittleEndian {
		_, err := w.Write(bigbuf.AsBytes(hu))
		return err
	}
	buf := make([]byte, min(chunkBytes, len(hu)*t.size))
	for done := 0; done < len(hu); {
		n := min(len(buf)/t.size, len(hu)-done)
		if err := put(buf[:n*t.size], hu[done:done+n], t, bo); err != nil {
			return fmt.Errorf("voxel %d: %w", done, err)
		}
		if _, err := w.Write(buf[:n*t.size]); err != nil {
			return err
		}
		done += n
	}
	return nil
}

// put encodes src into dst as type t, failing on a value t cannot hold.
func put(dst []byte, src []int16, t elemType, bo binary.ByteOrder) error {
	lo, hi := typeRange(t)
	for i, v := range src {
		if int64(v) < lo || int64(v) > hi {
			return fmt.Errorf("value %d (at +%d) does not fit %s", v, i, t.name)
		}
		switch t.name {
		case "MET_CHAR", "MET_UCHAR":
			dst[i] = byte(v)
		case "MET_SHORT", "MET_USHORT":
			bo.PutUint16(dst[2*i:], uint16(v))
		case "MET_INT", "MET_UINT":
			bo.PutUint32(dst[4*i:], uint32(int32(v)))
		case "MET_FLOAT":
			bo.PutUint32(dst[4*i:], math.Float32bits(float32(v)))
		case "MET_DOUBLE":
			bo.PutUint64(dst[8*i:], math.Float64bits(float64(v)))
		}
	}
	return nil
}

// typeRange is the range of int16 values type t can store.
func typeRange(t elemType) (int64, int64) {
	switch {
	case t.name == "MET_CHAR":
		return math.MinInt8, math.MaxInt8
	case t.name == "MET_UCHAR":
		return 0, math.MaxUint8
	case !t.sign:
		return 0, math.MaxInt16
	}
	return math.MinInt16, math.MaxInt16
}

// headerText renders the header in the key order of genuine LUNA16 files.
func headerText(img *Image, t elemType, opt WriteOptions, compressedSize int64, dataFile string) string {
	g := img.Geometry
	var b strings.Builder
	kv := func(k, v string) { fmt.Fprintf(&b, "%s = %s\n", k, v) }
	kv("ObjectType", "Image")
	kv("NDims", "3")
	kv("BinaryData", "True")
	kv("BinaryDataByteOrderMSB", pyBool(opt.MSB))
	kv("CompressedData", pyBool(opt.Compressed))
	if opt.Compressed {
		kv("CompressedDataSize", strconv.FormatInt(compressedSize, 10))
	}
	kv("TransformMatrix", numbers(g.Direction[:]))
	kv("Offset", numbers(g.Origin[:]))
	kv("CenterOfRotation", "0 0 0")
	kv("AnatomicalOrientation", orientation(g.Direction))
	kv("ElementSpacing", numbers(g.Spacing[:]))
	kv("DimSize", fmt.Sprintf("%d %d %d", img.Size[0], img.Size[1], img.Size[2]))
	kv("ElementType", t.name)
	kv("ElementDataFile", dataFile)
	return b.String()
}

func pyBool(v bool) string {
	if v {
		return "True"
	}
	return "False"
}

// numbers formats floats space-separated, in the shortest form that reads
// back exactly ("1", "0.703125", "-171.699997").
func numbers(v []float64) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = strconv.FormatFloat(x, 'f', -1, 64)
	}
	return strings.Join(s, " ")
}

// orientation derives MetaIO's AnatomicalOrientation code from the
// direction matrix: for each image axis (a column of D) the letter of the
// side its index starts from, by the axis' dominant world component in
// ITK's LPS world (+x from Right, +y from Anterior, +z from Inferior). The
// identity matrix gives LUNA16's "RAI".
func orientation(d [9]float64) string {
	from := [3][2]byte{{'R', 'L'}, {'A', 'P'}, {'I', 'S'}}
	code := make([]byte, 3)
	for col := 0; col < 3; col++ {
		best := 0
		for row := 1; row < 3; row++ {
			if math.Abs(d[3*row+col]) > math.Abs(d[3*best+col]) {
				best = row
			}
		}
		sign := 0
		if d[3*best+col] < 0 {
			sign = 1
		}
		code[col] = from[best][sign]
	}
	return string(code)
}

// countWriter counts the bytes written through it.
type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
