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

// Int16s allocates n int16s.
func Int16s(n int) []int16 {
	s := make([]int16, n)
	if n > 0 {
		Advise(unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(s))), 2*n))
	}
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
	if n > 0 {
		Advise(unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(s))), 4*n))
	}
	return s
}
