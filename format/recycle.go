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
	mu   sync.Mutex
	i16  [][]int16
	u8   [][]byte
	f32  [][]float32
	comp [][]byte // compressed-frame buffers of recycled Frames
}

// maxFreeFrames bounds the compressed-frame buffers a Pool keeps for reuse:
// enough for the frames of one CT's HU tensor (250 frames of 512 KiB,
// about half that compressed).
const maxFreeFrames = 320

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
	return b
}

func give[T any](f *freeList, list *[][]T, b []T) {
	f.mu.Lock()
	defer f.mu.Unlock()
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

// Pool is the pool the reader decodes into: its own, or the one UsePool
// gave it. Records go back to it with Pool().Recycle, the one way tensors
// are recycled.
func (r *Reader) Pool() *Pool { return r.pool }

// UsePool makes the reader decode into buffers from p, and recycle into it;
// in lazy mode it also reads frames into the buffers of recycled Frames.
// Several readers may share a pool (streams read one after the other).
func (r *Reader) UsePool(p *Pool) {
	r.pool = p
	r.d.free = &p.free
	if r.src != nil {
		r.src.pool.Store(p)
	}
}

// Recycle hands a record's tensors back for reuse by the readers of the
// pool. The caller must not touch rec afterwards. It is safe to call while
// a reader of the pool is in Next.
func (p *Pool) Recycle(rec Record) { p.free.recycle(rec) }

func (f *freeList) recycle(rec Record) {
	switch rec := rec.(type) {
	case *CT:
		give(f, &f.i16, rec.HU)
		give(f, &f.u8, rec.Mask)
		f.keepFrames(rec.HUFrames)
		rec.HU, rec.Mask, rec.HUFrames = nil, nil, nil
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

// keepFrames keeps the compressed-frame buffers of fs for reuse. The
// record's owner has written it by then (Writer.Write waits until its
// frames are out), so nothing refers to them.
func (f *freeList) keepFrames(fs *Frames) {
	if fs == nil {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, fr := range fs.frames {
		f.keepFrameBuf(fr.comp)
	}
	// Later records are read into those buffers: fs must not read them.
	fs.frames, fs.size, fs.recycled = nil, 0, true
}

// keepFrameBuf keeps b for reuse; when the list is full, in place of the
// smallest buffer, if b is larger: frames vary in size, and small buffers
// must not crowd out the ones that later frames fit. f.mu must be held.
func (f *freeList) keepFrameBuf(b []byte) {
	if len(f.comp) < maxFreeFrames {
		f.comp = append(f.comp, b[:0])
		return
	}
	small := 0
	for i, c := range f.comp {
		if cap(c) < cap(f.comp[small]) {
			small = i
		}
	}
	if cap(b) > cap(f.comp[small]) {
		f.comp[small] = b[:0]
	}
}

// compBuf returns the smallest free buffer for compressed frames that
// holds n bytes, nil if there is none.
func (p *Pool) compBuf(n int) []byte {
	return take(&p.free, &p.free.comp, n)
}
