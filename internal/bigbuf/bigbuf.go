// Package bigbuf allocates the large buffers that hold CT voxels, masks
// and samples, so that filling them costs as little kernel time as can be
// had: on Linux a fresh large buffer is backed by huge pages.
package bigbuf

import "unsafe"

// Threshold is the size from which a buffer is worth the huge-page hint.
const Threshold = 4 << 20

// Advise hints that b, freshly allocated and not yet written, should be
// backed by huge pages. Small buffers are left alone.
func Advise(b []byte) {
	if len(b) >= Threshold {
		advise(b)
	}
}

// AsBytes views s as its bytes in host order, without a copy, so that
// data can be read into it or written from it directly.
func AsBytes[T any](s []T) []byte {
	if len(s) == 0 {
		return nil
	}
	var zero T
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(s))), len(s)*int(unsafe.Sizeof(zero)))
}

// Int16s allocates n int16s.
func Int16s(n int) []int16 {
	s := make([]int16, n)
	Advise(AsBytes(s))
	return s
}

// Bytes allocates n bytes.
func Bytes(n int) []byte {
	b := make([]byte, n)
	Advise(b)
	return b
}

// Float32s allocates n float32s.
func Float32s(n int) []float32 {
	s := make([]float32, n)
	Advise(AsBytes(s))
	return s
}
