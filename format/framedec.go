package format

import (
	"bufio"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"slices"
	"sync/atomic"

	"github.com/klauspost/compress/zstd"

	"github.com/ctseg/ctseg/internal/bigbuf"
)

// frameSource decompresses a reader's input. While the input has hinted
// frames (hint.go), a goroutine reads them ahead and decompresses up to
// `ahead` of them at once, and Read hands them out in order; at the first
// frame without a hint (another writer, the streaming mode of
// WriterOptions.Window, the end of the input) the rest of the input goes
// through zstd's streaming decoder, which skips skippable frames itself.
//
// Read never returns bytes of two frames at once, so a caller can tell
// where frames start, and take a tensor's frames whole and compressed
// (takeTensor) instead of reading them. In lazy mode the read-ahead does
// not decompress a tensor's frames: a frame is decompressed when Read
// reaches it, if it does.
type frameSource struct {
	in      *bufio.Reader
	dec     *zstd.Decoder // DecodeAll, for hinted frames
	jobs    chan *srcFrame
	quit    chan struct{}
	free    chan []byte   // decompressed buffers for reuse
	zfree   chan []byte   // compressed buffers for reuse
	started bool          // readAhead runs (from the first peek on)
	cur     *srcFrame     // the frame Read hands out
	pos     int           // cur.out[pos:] is still to hand out
	next    *srcFrame     // a frame taken from jobs and not yet handed out
	zr      *zstd.Decoder // the streaming decoder, once the hints end
	err     error
	off     int64                // input bytes read by readAhead, for errors
	pool    atomic.Pointer[Pool] // where kept frames come back for reuse
	slab    bigbuf.Slab          // where new frame buffers come from
	lazy    atomic.Bool          // leave tensor frames compressed until read
	// eagerTo is the last tensor (numbered from 1 in input order) that
	// Read met undecompressed: nobody took it whole, so the read-ahead
	// decompresses the rest of its frames.
	eagerTo atomic.Int64
}

// srcFrame is one hinted frame, read and being decompressed.
type srcFrame struct {
	hint   frameHint
	comp   []byte // the hint and the frame, as read
	out    []byte
	err    error
	at     int64 // input offset of its hint, for errors
	tensor int64 // the tensor it holds data of (numbered from 1), 0 for none
	stream bool  // no hint here: the rest is for the streaming decoder
	end    bool  // a stream job where the input ends
	lazy   bool  // not decompressed by the read-ahead
	ready  chan struct{}
}

func newFrameSource(r io.Reader, ahead int) (*frameSource, error) {
	dec, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(ahead+1), zstd.WithDecoderMaxWindow(1<<27),
		zstd.WithDecoderMaxMemory(maxHintFrame))
	if err != nil {
		return nil, err
	}
	s := &frameSource{in: bufio.NewReaderSize(r, 64<<10), dec: dec, jobs: make(chan *srcFrame, ahead),
		quit: make(chan struct{}), free: make(chan []byte, ahead+2), zfree: make(chan []byte, ahead+2)}
	return s, nil
}

// readAhead reads hinted frames and starts their decompression, until the
// first frame without a hint or an error; the last job it sends says which.
func (s *frameSource) readAhead() {
	defer close(s.jobs)
	var tensors tensorTracker
	for {
		j, last := s.readFrame(&tensors)
		select {
		case s.jobs <- j:
		case <-s.quit:
			return
		}
		if last {
			return
		}
	}
}

// tensorTracker follows the hints' flags: which tensor's frames the
// read-ahead is in.
type tensorTracker struct {
	count int64 // tensors begun
	in    bool  // inside tensor count
}

// next returns the tensor a frame with the given flags holds data of, 0
// for none.
func (t *tensorTracker) next(flags uint32) int64 {
	if flags&hintFirst != 0 {
		t.count++
		t.in = true
	}
	at := int64(0)
	if t.in {
		at = t.count
	}
	t.in = t.in && flags&hintLast == 0
	return at
}

// readFrame reads the next hinted frame and starts decompressing it,
// unless the source is lazy and the frame holds tensor data that Read has
// not shown it must decompress; last says that it is the final job (no
// hint, or an error).
func (s *frameSource) readFrame(tensors *tensorTracker) (j *srcFrame, last bool) {
	j = &srcFrame{ready: make(chan struct{})}
	b, err := s.in.Peek(hintLen)
	if hintSize(b) == 0 {
		if err != nil && !errors.Is(err, io.EOF) {
			j.err = err
		} else {
			j.stream, j.end = true, len(b) == 0
			j.at = s.off
		}
		close(j.ready)
		return j, true
	}
	at := s.off
	j.at = at
	if j.hint, j.err = parseHint(b); j.err != nil {
		j.err = fmt.Errorf("at byte %d of the input: %w", at, j.err)
		close(j.ready)
		return j, true
	}
	n := j.hint.len + j.hint.csize
	j.comp, j.err = readExactly(s.in, s.compBuf(n), n)
	s.off += int64(len(j.comp))
	if j.err != nil {
		if errors.Is(j.err, io.ErrUnexpectedEOF) {
			j.err = fmt.Errorf("%w: input ends inside the zstd frame at byte %d", ErrTruncated, at)
		}
		close(j.ready)
		return j, true
	}
	j.tensor = tensors.next(j.hint.flags)
	// Only frames whose hints checksum the compressed bytes stay
	// compressed: a stage never passes on bytes it has not checked.
	if j.tensor > s.eagerTo.Load() && s.lazy.Load() && j.hint.hasCCRC {
		j.lazy = true
		if j.err = checkCompressed(j.comp, j.hint); j.err != nil {
			j.err = fmt.Errorf("the zstd frame at byte %d of the input: %w", at, j.err)
			close(j.ready)
			return j, true
		}
		close(j.ready)
	} else {
		go func() {
			defer close(j.ready)
			j.decode(s.dec, getOr(s.free))
		}()
	}
	return j, false
}

// decode decompresses j's frame into out, and checks it against the hint,
// checksum included: a damaged frame is reported at the frame, rather than
// at the stream's trailer.
func (j *srcFrame) decode(dec *zstd.Decoder, out []byte) {
	var err error
	if j.out, err = decodeFrame(dec, j.comp, j.hint, slices.Grow(out, j.hint.dsize)); err != nil {
		j.err = fmt.Errorf("the zstd frame at byte %d of the input: %w", j.at, err)
	}
}

// decodeFrame decompresses a hinted frame (comp: the hint and the zstd
// frame) into dst[:0:cap] and checks it against its hint: size and
// CRC-32C. Errors wrap ErrCorrupt or ErrChecksum and say what is wrong;
// the caller says where.
func decodeFrame(dec *zstd.Decoder, comp []byte, h frameHint, dst []byte) ([]byte, error) {
	// The compressed bytes first: damage to them, or to the hint, must not
	// pass because the zstd decoder happens to get the bytes right anyway
	// (a csize that takes in the next hint, say).
	if err := checkCompressed(comp, h); err != nil {
		return dst[:0], err
	}
	out, err := dec.DecodeAll(comp[h.len:], dst[:0])
	switch {
	case err != nil:
		return out, fmt.Errorf("%w: %v", ErrCorrupt, err)
	case len(out) != h.dsize:
		return out, fmt.Errorf("%w: holds %d bytes, its hint says %d", ErrCorrupt, len(out), h.dsize)
	}
	if c := crc32.Checksum(out, castagnoli); c != h.crc {
		return out, fmt.Errorf("%w: CRC-32C %08x, its hint says %08x", ErrChecksum, c, h.crc)
	}
	return out, nil
}

// compBuf is a buffer to read a frame into: one the source used before,
// else one of the kept frames that came back to the pool.
func (s *frameSource) compBuf(n int) []byte {
	if b := getOr(s.zfree); cap(b) >= n {
		return b
	} else if b != nil {
		putTo(s.zfree, b) // for a smaller frame
	}
	if p := s.pool.Load(); p != nil {
		if b := p.compBuf(n); b != nil {
			return b
		}
	}
	if n <= 1<<20 { // more waits for the data to arrive (readExactly)
		return s.slab.Bytes(roomy(n))[:0]
	}
	return nil
}

// readExactly reads n bytes into buf[:0]. It allocates at most 1 MiB on
// the word of a hint alone, and the rest once that much has arrived, so
// that a corrupt hint on a short input costs little.
func readExactly(r io.Reader, buf []byte, n int) ([]byte, error) {
	buf = buf[:0]
	if cap(buf) < n {
		buf = make([]byte, 0, min(roomy(n), 1<<20))
	}
	for len(buf) < n {
		if len(buf) == cap(buf) {
			buf = slices.Grow(buf, roomy(n)-len(buf))
		}
		k, err := r.Read(buf[len(buf):min(n, cap(buf))])
		buf = buf[:len(buf)+k]
		if err == io.EOF && len(buf) < n {
			return buf, io.ErrUnexpectedEOF
		}
		if err != nil && len(buf) < n {
			return buf, err
		}
	}
	return buf, nil
}

// roomy is the capacity to give a buffer for a frame of n bytes: with room
// to spare, in steps of 4 KiB, so that the buffer fits the frames of later
// records when it comes back for reuse (compressed sizes vary from frame
// to frame; a buffer that fits none is garbage, and fresh memory costs
// page faults).
func roomy(n int) int { return (n + n/4 + 4095) &^ 4095 }

func getOr(c chan []byte) []byte {
	select {
	case b := <-c:
		return b[:0]
	default:
		return nil
	}
}

func putTo(c chan []byte, b []byte) {
	if b == nil {
		return
	}
	select {
	case c <- b:
	default:
	}
}

// Read hands out decompressed bytes, never from two frames at once.
func (s *frameSource) Read(p []byte) (int, error) {
	for s.cur == nil || s.pos == len(s.cur.out) {
		if s.zr != nil {
			return s.zr.Read(p)
		}
		if err := s.nextFrame(); err != nil {
			return 0, err
		}
	}
	n := copy(p, s.cur.out[s.pos:])
	s.pos += n
	return n, nil
}

// nextFrame moves on to the next frame, or to the streaming decoder.
func (s *frameSource) nextFrame() error {
	s.release()
	j, err := s.peek()
	if err != nil {
		return err
	}
	s.next = nil
	if j.stream {
		// readAhead has stopped: the rest of the input is the decoder's.
		zr, err := zstd.NewReader(s.in, zstd.WithDecoderConcurrency(decoderConcurrency), zstd.WithDecoderMaxWindow(1<<27))
		if err != nil {
			s.err = err
			return err
		}
		s.zr = zr
		return nil
	}
	if j.lazy {
		// Nobody took this tensor whole: decompress this frame now, and
		// let the read-ahead decompress the rest of the tensor's.
		if j.tensor > s.eagerTo.Load() {
			s.eagerTo.Store(j.tensor)
		}
		if j.decode(s.dec, getOr(s.free)); j.err != nil {
			s.err = j.err
			return s.err
		}
	}
	s.cur, s.pos = j, 0
	return nil
}

// peek returns the next frame job, ready, without moving on to it.
func (s *frameSource) peek() (*srcFrame, error) {
	if s.err != nil {
		return nil, s.err
	}
	if !s.started {
		// Not before: whether a frame is decompressed ahead depends on
		// lazy, which the reader's owner sets after NewReader.
		s.started = true
		go s.readAhead()
	}
	if s.next == nil {
		j, ok := <-s.jobs
		if !ok {
			s.err = errors.New("format: frame source closed")
			return nil, s.err
		}
		<-j.ready
		s.next = j
	}
	if s.next.err != nil {
		s.err = s.next.err
		return nil, s.err
	}
	return s.next, nil
}

// atFrameStart reports whether the next byte Read returns is the first of
// a hinted frame's.
func (s *frameSource) atFrameStart() bool {
	return s.zr == nil && (s.cur == nil || s.pos == len(s.cur.out))
}

// takeTensor returns the next n bytes as the compressed frames that hold
// them, without decompressing them, when they are one tensor's frames, from
// the one flagged first to the one flagged last (see the package doc); ok
// is false, and nothing is consumed, when they are not. The caller must
// have consumed everything Read returned (atFrameStart).
func (s *frameSource) takeTensor(n int64) (fs *Frames, ok bool, err error) {
	if !s.atFrameStart() {
		return nil, false, nil
	}
	j, err := s.peek()
	if err != nil {
		return nil, false, err
	}
	if j.stream || j.hint.flags&hintFirst == 0 {
		return nil, false, nil
	}
	s.release()
	fs = &Frames{dec: s.dec}
	for {
		s.next = nil
		fs.add(j)
		putTo(s.free, j.out) // decompressed before the source turned lazy
		if fs.size > n {
			break
		}
		if j.hint.flags&hintLast != 0 {
			break
		}
		if j, err = s.peek(); err != nil {
			return nil, false, err
		}
		if j.stream {
			break
		}
	}
	switch {
	case fs.size < n && j.end:
		s.err = fmt.Errorf("%w: input ends at byte %d, %d bytes into a tensor of %d", ErrTruncated, j.at, fs.size, n)
	case fs.size != n:
		s.err = fmt.Errorf("%w: a tensor of %d bytes starts at the zstd frame at byte %d of the input, but its frames hold %d bytes",
			ErrCorrupt, n, fs.frames[0].at, fs.size)
	case j.hint.flags&hintLast == 0:
		s.err = fmt.Errorf("%w: the tensor whose frames start at byte %d of the input ends in a frame not flagged last",
			ErrCorrupt, fs.frames[0].at)
	default:
		return fs, true, nil
	}
	return nil, false, s.err
}

// release hands the current frame's buffers back for reuse.
func (s *frameSource) release() {
	if s.cur == nil {
		return
	}
	putTo(s.free, s.cur.out)
	putTo(s.zfree, s.cur.comp) // frames taken whole (takeTensor) never become cur
	s.cur = nil
}

// Close stops the read-ahead and the decoders. A read-ahead goroutine
// blocked on the input ends when the input does.
func (s *frameSource) Close() {
	select {
	case <-s.quit:
		return
	default:
	}
	close(s.quit)
	// s.dec has no goroutines of its own (DecodeAll only), and frames may
	// still be decompressing with it: it is left to the collector.
	if s.zr != nil {
		s.zr.Close()
	}
}
