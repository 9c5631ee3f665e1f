package format

import "unsafe"

// maxPassEntries bounds the tensors whose compressed frames a Pool keeps:
// a stage holds a record or two (decoding one while writing another), each
// with a tensor or two. Older entries are dropped first.
const maxPassEntries = 4

// maxFreeFrames bounds the compressed-frame buffers a Pool keeps for reuse:
// enough for the frames of one CT's HU tensor (16 frames of 8 MiB).
const maxFreeFrames = 20

// passEntry is what a Reader kept of a tensor it decoded from frames of its
// own: the data (held, so that its memory cannot be freed and reused for
// other data while the entry lives), the data's CRC-32C, and the compressed
// frames with their hints.
type passEntry struct {
	data   []byte
	crc    uint32
	frames [][]byte
}

// passing reports whether a Writer passes tensors through this pool
// (WriterOptions.Pool); only then do readers keep compressed frames, which
// cost memory, and the tensors they belong to.
func (p *Pool) passing() bool { return p.writers.Load() }

// remember records that data, of CRC-32C crc, was decoded from frames.
func (p *Pool) remember(data []byte, crc uint32, frames [][]byte) {
	e := &passEntry{data: data, crc: crc, frames: frames}
	f := &p.free
	f.mu.Lock()
	defer f.mu.Unlock()
	f.forgetLocked(unsafe.SliceData(data), false)
	if len(f.pass) == maxPassEntries {
		f.pass = append(f.pass[:0], f.pass[1:]...)
	}
	f.pass = append(f.pass, e)
}

// frames returns the compressed frames of data, of CRC-32C crc, when the
// pool knows them and data is unchanged since it was decoded; nil
// otherwise (also for a nil pool).
func (p *Pool) frames(data []byte, crc uint32) [][]byte {
	if p == nil || len(data) == 0 {
		return nil
	}
	f := &p.free
	f.mu.Lock()
	var e *passEntry
	for _, x := range f.pass {
		if unsafe.SliceData(x.data) == unsafe.SliceData(data) && len(x.data) == len(data) {
			e = x
		}
	}
	f.mu.Unlock()
	// The checksum guards against a consumer that changed the data in
	// place.
	if e == nil || crc != e.crc {
		return nil
	}
	return e.frames
}

// forgetLocked drops the entry for the memory at ptr, when its buffer is
// recycled or handed out again. When the buffer is recycled (reuse), the
// entry's compressed frames are kept for readers to read frames into: the
// record's owner has written it by then (Writer.Write waits until its
// frames are out), so nothing refers to them. f.mu must be held.
func (f *freeList) forgetLocked(ptr *byte, reuse bool) {
	if ptr == nil {
		return
	}
	for i, e := range f.pass {
		if unsafe.SliceData(e.data) == ptr {
			f.pass = append(f.pass[:i], f.pass[i+1:]...)
			for _, b := range e.frames {
				if reuse {
					f.keepFrameBuf(b)
				}
			}
			return
		}
	}
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
