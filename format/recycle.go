package format

import (
	"sync"

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
	free freeList
}

type freeList struct {
	mu  sync.Mutex
	i16 [][]int16
	u8  [][]byte
	f32 [][]float32
}

// take removes and returns the smallest buffer that holds n elements.
func take[T any](mu *sync.Mutex, list *[][]T, n int) []T {
	mu.Lock()
	defer mu.Unlock()
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
	return b
}

func give[T any](mu *sync.Mutex, list *[][]T, b []T) {
	if cap(b) < bigbuf.Threshold/8 {
		return // small buffers are cheap to allocate
	}
	mu.Lock()
	defer mu.Unlock()
	if len(*list) < maxFree {
		*list = append(*list, b)
	}
}

func (f *freeList) int16s(n int) []int16 {
	if b := take(&f.mu, &f.i16, n); b != nil {
		return b
	}
	return bigbuf.Int16s(n)
}

func (f *freeList) bytes(n int) []byte {
	if b := take(&f.mu, &f.u8, n); b != nil {
		return b
	}
	return bigbuf.Bytes(n)
}

func (f *freeList) float32s(n int) []float32 {
	if b := take(&f.mu, &f.f32, n); b != nil {
		return b
	}
	return bigbuf.Float32s(n)
}

// Recycle hands a record's tensors back to the reader's pool, which reuses
// them for later records. The caller must not touch rec afterwards. It is
// safe to call while another goroutine is in Next.
func (r *Reader) Recycle(rec Record) { r.d.free.recycle(rec) }

// UsePool makes the reader decode into buffers from p, and recycle into it.
func (r *Reader) UsePool(p *Pool) { r.d.free = &p.free }

// Recycle hands a record's tensors back for reuse; the caller must not touch
// rec afterwards.
func (p *Pool) Recycle(rec Record) { p.free.recycle(rec) }

func (f *freeList) recycle(rec Record) {
	switch rec := rec.(type) {
	case *CT:
		give(&f.mu, &f.i16, rec.HU)
		give(&f.mu, &f.u8, rec.Mask)
		rec.HU, rec.Mask = nil, nil
	case *Crop:
		give(&f.mu, &f.i16, rec.HU)
		give(&f.mu, &f.u8, rec.Label)
		rec.HU, rec.Label = nil, nil
	case *Slice:
		give(&f.mu, &f.i16, rec.HU)
		give(&f.mu, &f.u8, rec.Label)
		rec.HU, rec.Label = nil, nil
	case *Prediction:
		give(&f.mu, &f.f32, rec.Prob)
		rec.Prob = nil
	}
}
