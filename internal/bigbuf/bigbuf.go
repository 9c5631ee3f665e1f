// Package bigbuf allocates the large buffers that hold CT voxels, masks
// and samples, so that filling them costs as little kernel time as can be
// had: on Linux a fresh large buffer is backed by huge pages.
package bigbuf

import (
	"encoding/binary"
	"sync"
	"unsafe"
)

// Threshold is the size from which a buffer is worth the huge-page hint.
const Threshold = 4 << 20

// Advise hints that b, freshly allocated and not yet written, should be
// backed by huge pages. Small buffers are left alone.
func Advise(b []byte) {
	if len(b) >= Threshold {
		advise(b)
	}
}

// LittleEndian reports whether the host stores numbers little-endian (the
// usual amd64 and arm64 machines), as stream tensors and most MetaImage
// files do: then AsBytes's views hold those files' bytes, and data can be
// read into typed slices without converting.
var LittleEndian = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

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

// slabSize is the largest block a Slab carves buffers from: a few huge
// pages. The first block is 1 MiB and each next one twice the last, so a
// short stream does not cost 16 MiB.
const (
	slabSize  = 16 << 20
	slabFirst = 1 << 20
)

// Slab hands out many mid-sized buffers (compressed frames, a few hundred
// KiB each) carved from huge-page-backed blocks, so that filling them
// costs a page fault per 2 MiB rather than per 4 KiB: on virtual machines
// a fault costs tens of microseconds, more than reading the page. Callers
// keep and reuse the buffers (a block lives while any of its buffers
// does). A Slab is safe for concurrent use; the zero value is ready.
type Slab struct {
	mu   sync.Mutex
	cur  []byte
	next int // size of the next block; 0 for slabFirst
}

// Bytes returns a buffer of n bytes, capacity n: from the current block
// when n fits, from a new block when it does not, and allocated on its
// own when n is over an eighth of a block.
func (s *Slab) Bytes(n int) []byte {
	if n > slabSize/8 {
		return Bytes(n)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if cap(s.cur)-len(s.cur) < n {
		size := max(s.next, slabFirst, n)
		s.cur, s.next = Bytes(size)[:0], min(2*size, slabSize)
	}
	at := len(s.cur)
	s.cur = s.cur[:at+n]
	return s.cur[at : at+n : at+n]
}
