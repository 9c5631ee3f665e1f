package format

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"

	"github.com/vmihailenco/msgpack/v5"
	"github.com/vmihailenco/msgpack/v5/msgpcode"

	"github.com/ctseg/ctseg/internal/bigbuf"
)

// Reader limits (see "Reader limits" in the package doc): they bound what a
// corrupt or hostile stream can make a reader allocate or recurse into.
const (
	// MaxTensorBytes bounds one tensor's data. The largest LUNA16 CT is
	// about 400 MB.
	MaxTensorBytes = 4 << 30
	// MaxStringLen bounds every string: series uids, keys, header fields
	// and each argument.
	MaxStringLen = 64 << 10
	// MaxSkipDepth bounds how deep arrays and maps may nest in the value of
	// a key the reader does not know (and skips).
	MaxSkipDepth = 32
)

// Tensor element types as named on the wire.
const (
	dtInt16   = "int16"
	dtUint8   = "uint8"
	dtFloat32 = "float32"
)

// enc writes msgpack values, and raw tensor bytes straight to the
// underlying writer (msgpack's encoder does not buffer).
type enc struct {
	e   *msgpack.Encoder
	w   io.Writer
	err error
	// bulk, when set, writes tensor data of bulkMin bytes or more in
	// place of w (Writer.writeBulk); frames writes a tensor's compressed
	// frames (Writer.writeFrames).
	bulk   func(data []byte) error
	frames func(f *Frames) error
}

func (e *enc) key(k string) {
	if e.err == nil {
		e.err = e.e.EncodeString(k)
	}
}

func (e *enc) mapLen(n int) {
	if e.err == nil {
		e.err = e.e.EncodeMapLen(n)
	}
}

func (e *enc) arrayLen(n int) {
	if e.err == nil {
		e.err = e.e.EncodeArrayLen(n)
	}
}

func (e *enc) str(k, v string) {
	e.key(k)
	if e.err == nil {
		e.err = e.e.EncodeString(v)
	}
}

func (e *enc) int(k string, v int64) {
	e.key(k)
	if e.err == nil {
		e.err = e.e.EncodeInt(v)
	}
}

func (e *enc) float(k string, v float64) {
	e.key(k)
	if e.err == nil {
		e.err = e.e.EncodeFloat64(v)
	}
}

func (e *enc) bool(k string, v bool) {
	e.key(k)
	if e.err == nil {
		e.err = e.e.EncodeBool(v)
	}
}

func (e *enc) ints(k string, v []int) {
	e.key(k)
	e.arrayLen(len(v))
	for _, x := range v {
		if e.err == nil {
			e.err = e.e.EncodeInt(int64(x))
		}
	}
}

func (e *enc) floats(k string, v []float64) {
	e.key(k)
	e.arrayLen(len(v))
	for _, x := range v {
		if e.err == nil {
			e.err = e.e.EncodeFloat64(x)
		}
	}
}

func (e *enc) strs(k string, v []string) {
	e.key(k)
	e.arrayLen(len(v))
	for _, x := range v {
		if e.err == nil {
			e.err = e.e.EncodeString(x)
		}
	}
}

// tensor writes {dtype, shape, data} with data as a msgpack bin holding the
// raw little-endian elements.
func (e *enc) tensor(k, dtype string, shape []int, data []byte) {
	e.tensorHead(k, dtype, shape, len(data))
	switch {
	case e.err != nil:
	case e.bulk != nil && len(data) >= bulkMin:
		e.err = e.bulk(data)
	default:
		_, e.err = e.w.Write(data)
	}
}

func (e *enc) tensorHead(k, dtype string, shape []int, size int) {
	e.key(k)
	e.mapLen(3)
	e.str("dtype", dtype)
	e.ints("shape", shape)
	e.key("data")
	if e.err == nil {
		e.err = e.e.EncodeBytesLen(size)
	}
}

// tensorFrames writes a tensor whose data a Reader kept compressed: as the
// same frames when the stream is made of frames, else decompressed.
func (e *enc) tensorFrames(k, dtype string, shape []int, f *Frames) {
	e.tensorHead(k, dtype, shape, int(f.Size()))
	switch {
	case e.err != nil:
	case e.frames != nil:
		e.err = e.frames(f)
	default:
		data := make([]byte, f.Size())
		if _, e.err = f.ReadAt(data, 0); e.err == nil {
			_, e.err = e.w.Write(data)
		}
	}
}

func (e *enc) int16s(k string, shape []int, v []int16) {
	e.tensor(k, dtInt16, shape, int16Bytes(v))
}

func (e *enc) uint8s(k string, shape []int, v []uint8) {
	e.tensor(k, dtUint8, shape, v)
}

func (e *enc) float32s(k string, shape []int, v []float32) {
	e.tensor(k, dtFloat32, shape, float32Bytes(v))
}

// int16Bytes views s as little-endian bytes; on a big-endian host it copies.
func int16Bytes(s []int16) []byte {
	if len(s) == 0 {
		return nil
	}
	if bigbuf.LittleEndian {
		return bigbuf.AsBytes(s)
	}
	b := make([]byte, 2*len(s))
	for i, v := range s {
		binary.LittleEndian.PutUint16(b[2*i:], uint16(v))
	}
	return b
}

func float32Bytes(s []float32) []byte {
	if len(s) == 0 {
		return nil
	}
	if bigbuf.LittleEndian {
		return bigbuf.AsBytes(s)
	}
	b := make([]byte, 4*len(s))
	for i, v := range s {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	return b
}

// dec reads msgpack values, and tensor data straight from the hashing reader.
type dec struct {
	d    *msgpack.Decoder
	r    io.Reader
	hr   *hashReader // r, when reading a stream
	free *freeList
	src  *frameSource // nil for raw (uncompressed) input
	lazy bool         // keep a CT's HU compressed (Reader.SetLazy)
	// framesName names Frames in errors: the input and the record.
	framesName func() string
}

// eachKey calls f for every key of the map that comes next; f must consume
// the key's value (or call d.skip).
func (d *dec) eachKey(f func(key string) error) error {
	n, err := d.d.DecodeMapLen()
	if err != nil {
		return err
	}
	if n < 0 {
		return fmt.Errorf("expected a map, found nil")
	}
	for i := 0; i < n; i++ {
		k, err := d.str()
		if err != nil {
			return err
		}
		if err := f(k); err != nil {
			return fmt.Errorf("%s: %w", k, err)
		}
	}
	return nil
}

// skip reads past the value that comes next, which may nest arrays and
// maps at most MaxSkipDepth deep. msgpack's own Skip recurses without
// limit: a few hundred bytes of nested array headers would exhaust the
// stack.
func (d *dec) skip() error { return d.skipValue(MaxSkipDepth) }

func (d *dec) skipValue(depth int) error {
	c, err := d.d.PeekCode()
	if err != nil {
		return err
	}
	var n int
	switch {
	case msgpcode.IsFixedMap(c) || c == msgpcode.Map16 || c == msgpcode.Map32:
		n, err = d.d.DecodeMapLen()
		n *= 2
	case msgpcode.IsFixedArray(c) || c == msgpcode.Array16 || c == msgpcode.Array32:
		n, err = d.d.DecodeArrayLen()
	case msgpcode.IsString(c) || msgpcode.IsBin(c):
		// Read in pieces, never allocating the length a header claims.
		if n, err = d.d.DecodeBytesLen(); err == nil && n > 0 {
			_, err = io.CopyN(io.Discard, d.r, int64(n))
		}
		return err
	default:
		return d.d.Skip() // scalars and extensions: no nesting
	}
	if err != nil {
		return err
	}
	if depth == 0 {
		return fmt.Errorf("values nested more than %d deep", MaxSkipDepth)
	}
	for i := 0; i < n; i++ {
		if err := d.skipValue(depth - 1); err != nil {
			return err
		}
	}
	return nil
}

// str reads a string of at most MaxStringLen bytes (a msgpack str or bin).
func (d *dec) str() (string, error) {
	n, err := d.d.DecodeBytesLen()
	switch {
	case err != nil:
		return "", err
	case n > MaxStringLen:
		return "", fmt.Errorf("string of %d bytes (at most %d)", n, MaxStringLen)
	case n <= 0:
		return "", nil
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(d.r, b); err != nil {
		return "", err
	}
	return string(b), nil
}

func (d *dec) int() (int, error) {
	v, err := d.d.DecodeInt64()
	if err != nil {
		return 0, err
	}
	if v > math.MaxInt32 || v < math.MinInt32 {
		return 0, fmt.Errorf("integer %d out of range", v)
	}
	return int(v), nil
}

func (d *dec) float() (float64, error) { return d.d.DecodeFloat64() }

func (d *dec) bool() (bool, error) { return d.d.DecodeBool() }

// arrayLen reads an array header, refusing absurd lengths so that a corrupt
// stream cannot make the reader allocate without limit.
func (d *dec) arrayLen(max int) (int, error) {
	n, err := d.d.DecodeArrayLen()
	if err != nil {
		return 0, err
	}
	if n < 0 || n > max {
		return 0, fmt.Errorf("array length %d out of range [0, %d]", n, max)
	}
	return n, nil
}

// array decodes an array of at most max elements with elem. It grows the
// slice as elements arrive: a corrupt length must not allocate up front.
func array[T any](d *dec, max int, elem func() (T, error)) ([]T, error) {
	n, err := d.arrayLen(max)
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, nil // as the writer had it: nil and empty are not told apart
	}
	v := make([]T, 0, min(n, 1024))
	for i := 0; i < n; i++ {
		x, err := elem()
		if err != nil {
			return nil, err
		}
		v = append(v, x)
	}
	return v, nil
}

func (d *dec) ints(max int) ([]int, error) { return array(d, max, d.int) }

func (d *dec) floats(max int) ([]float64, error) { return array(d, max, d.float) }

func (d *dec) strs(max int) ([]string, error) { return array(d, max, d.str) }

// fixed decodes an array of exactly len(dst) numbers into dst.
func (d *dec) fixedInts(dst []int) error {
	v, err := d.ints(len(dst))
	if err != nil {
		return err
	}
	if len(v) != len(dst) {
		return fmt.Errorf("want %d numbers, found %d", len(dst), len(v))
	}
	copy(dst, v)
	return nil
}

func (d *dec) fixedFloats(dst []float64) error {
	v, err := d.floats(len(dst))
	if err != nil {
		return err
	}
	if len(v) != len(dst) {
		return fmt.Errorf("want %d numbers, found %d", len(dst), len(v))
	}
	copy(dst, v)
	return nil
}

// rawTensor is a decoded tensor before conversion to its Go slice type.
type rawTensor struct {
	dtype  string
	shape  []int
	data   []byte // for int16/float32: backed by a slice of that type
	i16    []int16
	f32    []float32
	frames *Frames // the data, kept compressed, in place of the above
}

func elemSize(dtype string) int {
	switch dtype {
	case dtInt16:
		return 2
	case dtUint8:
		return 1
	case dtFloat32:
		return 4
	}
	return 0
}

// tensor reads {dtype, shape, data}. dtype and shape must come before data,
// so the data can be read straight into a buffer of the right type.
func (d *dec) tensor() (*rawTensor, error) { return d.tensorOrFrames(false) }

// tensorOrFrames is tensor keeping the data compressed, as Frames, when
// lazy is set and the data came as frames of its own.
func (d *dec) tensorOrFrames(lazy bool) (*rawTensor, error) {
	t := &rawTensor{}
	err := d.eachKey(func(k string) error {
		var err error
		switch k {
		case "dtype":
			t.dtype, err = d.str()
		case "shape":
			t.shape, err = d.ints(8)
		case "data":
			return d.tensorData(t, lazy)
		default:
			err = d.skip()
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	if t.data == nil && t.i16 == nil && t.f32 == nil && t.frames == nil {
		if n, err := shapeLen(t.shape); err != nil || n != 0 {
			return nil, fmt.Errorf("tensor has no data")
		}
	}
	return t, nil
}

func (d *dec) tensorData(t *rawTensor, lazy bool) error {
	size := elemSize(t.dtype)
	if size == 0 {
		return fmt.Errorf("unknown or missing dtype %q (dtype and shape must precede data)", t.dtype)
	}
	n, err := shapeLen(t.shape)
	if err != nil {
		return err
	}
	nb, err := d.d.DecodeBytesLen()
	if err != nil {
		return err
	}
	if nb != n*size {
		return fmt.Errorf("data holds %d bytes, shape %v of %s needs %d", nb, t.shape, t.dtype, n*size)
	}
	if lazy && nb >= bulkMin && d.src != nil && d.hr.buffered() == 0 {
		fs, ok, err := d.src.takeTensor(int64(nb))
		if err != nil {
			return err
		}
		if ok {
			d.hr.add(fs.crc, fs.size)
			fs.name = d.framesName()
			t.frames = fs
			return nil
		}
	}
	switch t.dtype {
	case dtInt16:
		t.i16 = d.free.int16s(n)
		t.data = int16Bytes(t.i16)
	case dtFloat32:
		t.f32 = d.free.float32s(n)
		t.data = float32Bytes(t.f32)
	default:
		t.data = d.free.bytes(n)
	}
	if err := d.readData(t.data); err != nil {
		return err
	}
	if !bigbuf.LittleEndian {
		t.fromLittleEndian()
	}
	return nil
}

// readData reads a tensor's data.
func (d *dec) readData(data []byte) error {
	_, err := io.ReadFull(d.r, data)
	return err
}

// fromLittleEndian fills the typed slices from data on big-endian hosts,
// where int16Bytes and float32Bytes return copies rather than views.
func (t *rawTensor) fromLittleEndian() {
	for i := range t.i16 {
		t.i16[i] = int16(binary.LittleEndian.Uint16(t.data[2*i:]))
	}
	for i := range t.f32 {
		t.f32[i] = math.Float32frombits(binary.LittleEndian.Uint32(t.data[4*i:]))
	}
}

// shapeLen multiplies out a shape, refusing negative dimensions and sizes
// beyond MaxTensorBytes.
func shapeLen(shape []int) (int, error) {
	n := 1
	for _, s := range shape {
		if s < 0 {
			return 0, fmt.Errorf("negative dimension in shape %v", shape)
		}
		if s != 0 && n > MaxTensorBytes/s {
			return 0, fmt.Errorf("shape %v too large", shape)
		}
		n *= s
	}
	if n > MaxTensorBytes/4 {
		return 0, fmt.Errorf("shape %v too large", shape)
	}
	return n, nil
}

// as checks a decoded tensor's dtype and shape against what the record needs.
func (t *rawTensor) as(dtype string, shape ...int) error {
	if t.dtype != dtype {
		return fmt.Errorf("dtype %s, want %s", t.dtype, dtype)
	}
	if len(t.shape) != len(shape) {
		return fmt.Errorf("shape %v, want %v", t.shape, shape)
	}
	for i := range shape {
		if t.shape[i] != shape[i] {
			return fmt.Errorf("shape %v, want %v", t.shape, shape)
		}
	}
	return nil
}
