package metaimage

import (
	"errors"
	"fmt"
	"io"
	"math"
	"unsafe"

	"github.com/ctseg/ctseg/internal/bigbuf"
)

// errShort marks data that ends before DimSize's voxels are read.
var errShort = errors.New("data ended early")

// chunkBytes is the read size when voxels need converting: large enough to
// amortise the calls, small enough to stay in cache and cost no memory.
const chunkBytes = 1 << 20

// decode reads len(hu) elements of type t from r and converts them to
// int16. It returns a warning when values had to be clamped.
func decode(r io.Reader, t elemType, msb bool, hu []int16) (string, error) {
	if t.name == "MET_SHORT" {
		// The common case (LUNA16): read straight into the result.
		if err := readFull(r, bigbuf.AsBytes(hu)); err != nil {
			return "", err
		}
		if msb == bigbuf.LittleEndian {
			swap16(hu)
		}
		return "", nil
	}
	buf := make([]byte, min(chunkBytes, len(hu)*t.size))
	var st clampStats
	for done := 0; done < len(hu); {
		n := min(len(buf)/t.size, len(hu)-done)
		if err := readFull(r, buf[:n*t.size]); err != nil {
			return "", err
		}
		if err := convert(hu[done:done+n], buf[:n*t.size], t, msb, &st); err != nil {
			return "", fmt.Errorf("voxel %d: %w", done+st.at, err)
		}
		done += n
	}
	return st.warning(t), nil
}

// readFull is io.ReadFull with a short read reported as errShort.
func readFull(r io.Reader, p []byte) error {
	n, err := io.ReadFull(r, p)
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%w (%d bytes short)", errShort, len(p)-n)
	}
	return err
}

// swap16 reverses the byte order of every element.
func swap16(hu []int16) {
	for i, v := range hu {
		hu[i] = int16(uint16(v)<<8 | uint16(v)>>8)
	}
}

// clampStats counts values outside the int16 range.
type clampStats struct {
	n        int     // values clamped
	min, max float64 // extreme original values
	at       int     // index within the chunk of a NaN, for the error
}

func (st *clampStats) note(v float64) {
	if st.n == 0 || v < st.min {
		st.min = v
	}
	if st.n == 0 || v > st.max {
		st.max = v
	}
	st.n++
}

func (st *clampStats) warning(t elemType) string {
	if st.n == 0 {
		return ""
	}
	return fmt.Sprintf("%d %s voxels outside the int16 range (min %g, max %g) were clamped to [-32768, 32767]",
		st.n, t.name, st.min, st.max)
}

// clampInt converts an integer voxel to int16, clamping.
func (st *clampStats) clampInt(v int64) int16 {
	switch {
	case v > math.MaxInt16:
		st.note(float64(v))
		return math.MaxInt16
	case v < math.MinInt16:
		st.note(float64(v))
		return math.MinInt16
	}
	return int16(v)
}

// clampFloat rounds a floating-point voxel half to even and clamps it.
func (st *clampStats) clampFloat(v float64) int16 {
	r := math.RoundToEven(v)
	switch {
	case r > math.MaxInt16:
		st.note(v)
		return math.MaxInt16
	case r < math.MinInt16:
		st.note(v)
		return math.MinInt16
	}
	return int16(r)
}

// convert decodes len(dst) elements of type t from src, which it may
// modify: it first brings src into host byte order in place, then reads it
// as a typed slice, so the loops below are plain conversions.
func convert(dst []int16, src []byte, t elemType, msb bool, st *clampStats) error {
	if t.size > 1 && msb == bigbuf.LittleEndian {
		swapBytes(src, t.size)
	}
	switch t.name {
	case "MET_CHAR":
		convertInts(dst, view[int8](src), st)
	case "MET_UCHAR":
		convertInts(dst, src, st)
	case "MET_USHORT":
		convertInts(dst, view[uint16](src), st)
	case "MET_INT":
		convertInts(dst, view[int32](src), st)
	case "MET_UINT":
		convertInts(dst, view[uint32](src), st)
	case "MET_FLOAT":
		return convertFloats(dst, view[float32](src), st)
	case "MET_DOUBLE":
		return convertFloats(dst, view[float64](src), st)
	default:
		return fmt.Errorf("no decoder for %s", t.name)
	}
	return nil
}

// view reinterprets host-order bytes as elements of type T. The chunk
// buffer comes from make, so it is aligned for any T.
func view[T any](b []byte) []T {
	var zero T
	size := int(unsafe.Sizeof(zero))
	return unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(b))), len(b)/size)
}

// swapBytes reverses the bytes of each size-byte element of b.
func swapBytes(b []byte, size int) {
	for i := 0; i+size <= len(b); i += size {
		e := b[i : i+size]
		for j, k := 0, size-1; j < k; j, k = j+1, k-1 {
			e[j], e[k] = e[k], e[j]
		}
	}
}

func convertInts[T int8 | uint8 | uint16 | int32 | uint32](dst []int16, src []T, st *clampStats) {
	for i, v := range src[:len(dst)] {
		dst[i] = st.clampInt(int64(v))
	}
}

// convertFloats converts floating-point voxels; NaN has no HU value.
func convertFloats[T float32 | float64](dst []int16, src []T, st *clampStats) error {
	for i, v := range src[:len(dst)] {
		f := float64(v)
		if f != f {
			st.at = i
			return errors.New("value is NaN")
		}
		dst[i] = st.clampFloat(f)
	}
	return nil
}
