package format

import (
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/ctseg/ctseg/internal/bigbuf"
)

// maxFree is how many buffers of each element type a reader keeps for
// reuse: enough for a stage that decodes one record while it writes the one
// before.
const maxFree = 4

// Pool holds tensor buffers that a consumer handed back with Recycle, for
// readers to decode later records into. Reusing them spares the kernel from
// mapping and zeroing fresh memory for every CT, which costs more than
// decompressing it. A Pool is safe for concurrent use; several readers may
// share one (see Reader.UsePool).
type Pool struct {
	free    freeList
	writers atomic.Bool // a Writer passes tensors through (passthrough.go)
}

type freeList struct {
	mu   sync.Mutex
	i16  [][]int16
	u8   [][]byte
	f32  [][]float32
	pass []*passEntry // passthrough.go
	comp [][]byte     // compressed-frame buffers of forgotten entries
}

// take removes and returns the smallest buffer that holds n elements.
func take[T any](f *freeList, list *[][]T, n int) []T {
	f.mu.Lock()
	defer f.mu.Unlock()
	best := -1
	for i, b := range *list {
		if cap(b) >= n && (best < 0 || cap(b) < cap((*list)[best])) {
			best = i
		}
	}
	if best < 0 {
		return nil
	}
	b := (*list)[best][:n]
	*list = append((*list)[:best], (*list)[best+1:]...)
	f.forgetLocked(bytePtr(b), false) // about to hold other data
	return b
}

func give[T any](f *freeList, list *[][]T, b []T) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.forgetLocked(bytePtr(b), true)
	if cap(b) < bigbuf.Threshold/8 {
		return // small buffers are cheap to allocate
	}
	if len(*list) < maxFree {
		*list = append(*list, b)
	}
}

func (f *freeList) int16s(n int) []int16 {
	if b := take(f, &f.i16, n); b != nil {
		return b
	}
	return bigbuf.Int16s(n)
}

func (f *freeList) bytes(n int) []byte {
	if b := take(f, &f.u8, n); b != nil {
		return b
	}
	return bigbuf.Bytes(n)
}

func (f *freeList) float32s(n int) []float32 {
	if b := take(f, &f.f32, n); b != nil {
		return b
	}
	return bigbuf.Float32s(n)
}

// Recycle hands a record's tensors back to the reader's pool, which reuses
// them for later records. The caller must not touch rec afterwards. It is
// safe to call while another goroutine is in Next.
func (r *Reader) Recycle(rec Record) { r.d.free.recycle(rec) }

// UsePool makes the reader decode into buffers from p, and recycle into it.
// The reader also tells p which large tensors it decoded from frames of
// their own, so that a Writer with WriterOptions.Pool p can write them on
// without recompressing them.
func (r *Reader) UsePool(p *Pool) {
	r.d.free, r.d.pool = &p.free, p
	if r.src != nil {
		r.src.pool.Store(p)
	}
}

// Recycle hands a record's tensors back for reuse; the caller must not touch
// rec afterwards.
func (p *Pool) Recycle(rec Record) { p.free.recycle(rec) }

func (f *freeList) recycle(rec Record) {
	switch rec := rec.(type) {
	case *CT:
		give(f, &f.i16, rec.HU)
		give(f, &f.u8, rec.Mask)
		rec.HU, rec.Mask = nil, nil
	case *Crop:
		give(f, &f.i16, rec.HU)
		give(f, &f.u8, rec.Label)
		rec.HU, rec.Label = nil, nil
	case *Slice:
		give(f, &f.i16, rec.HU)
		give(f, &f.u8, rec.Label)
		rec.HU, rec.Label = nil, nil
	case *Prediction:
		give(f, &f.f32, rec.Prob)
		rec.Prob = nil
	}
}

// bytePtr is the address of b's first element, nil for an empty slice.
func bytePtr[T any](b []T) *byte {
	if cap(b) == 0 {
		return nil
	}
	return (*byte)(unsafe.Pointer(unsafe.SliceData(b)))
}
