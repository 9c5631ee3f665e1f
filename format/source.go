package format

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync/atomic"

	"github.com/klauspost/compress/zstd"
)

// frameSource decompresses a reader's input. While the input has hinted
// frames (hint.go), a goroutine reads them ahead and decompresses up to
// `ahead` of them at once, and Read hands them out in order; at the first
// frame without a hint (another writer, the streaming mode of
// WriterOptions.Window, the end of the input) the rest of the input goes
// through zstd's streaming decoder, which skips skippable frames itself.
//
// Read never returns bytes of two frames at once, so a caller can tell
// where frames start; with capture, it keeps a tensor's compressed frames
// for passthrough (passthrough.go).
type frameSource struct {
	in    *bufio.Reader
	dec   *zstd.Decoder // DecodeAll, for hinted frames
	jobs  chan *srcFrame
	quit  chan struct{}
	free  chan []byte   // decompressed buffers for reuse
	zfree chan []byte   // compressed buffers for reuse
	cur   *srcFrame     // the frame Read hands out
	pos   int           // cur.out[pos:] is still to hand out
	zr    *zstd.Decoder // the streaming decoder, once the hints end
	err   error
	off   int64                // input bytes read by readAhead, for errors
	pool  atomic.Pointer[Pool] // where captured frames come back for reuse

	capturing bool
	captured  [][]byte
	capOK     bool
}

// srcFrame is one hinted frame, read and being decompressed.
type srcFrame struct {
	hint   frameHint
	comp   []byte // the hint and the frame, as read
	out    []byte
	err    error
	stream bool // no hint here: the rest is for the streaming decoder
	kept   bool // comp was captured: not ours to reuse
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
	go s.readAhead()
	return s, nil
}

// readAhead reads hinted frames and starts their decompression, until the
// first frame without a hint or an error; the last job it sends says which.
func (s *frameSource) readAhead() {
	defer close(s.jobs)
	for {
		j, last := s.readFrame()
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

// readFrame reads the next hinted frame and starts decompressing it; last
// says that it is the final job (no hint, or an error).
func (s *frameSource) readFrame() (j *srcFrame, last bool) {
	j = &srcFrame{ready: make(chan struct{})}
	b, err := s.in.Peek(hintLen)
	if !isHint(b) {
		if err != nil && !errors.Is(err, io.EOF) {
			j.err = err
		} else {
			j.stream = true
		}
		close(j.ready)
		return j, true
	}
	at := s.off
	if j.hint, j.err = parseHint(b); j.err != nil {
		j.err = fmt.Errorf("at byte %d of the input: %w", at, j.err)
		close(j.ready)
		return j, true
	}
	j.comp, j.err = readExactly(s.in, s.compBuf(hintLen+j.hint.csize), hintLen+j.hint.csize)
	s.off += int64(len(j.comp))
	if j.err != nil {
		if errors.Is(j.err, io.ErrUnexpectedEOF) {
			j.err = fmt.Errorf("%w: input ends inside the zstd frame at byte %d", ErrTruncated, at)
		}
		close(j.ready)
		return j, true
	}
	go s.decode(j, getOr(s.free), at)
	return j, false
}

// decode decompresses j's frame into out, and checks it against the hint.
func (s *frameSource) decode(j *srcFrame, out []byte, at int64) {
	defer close(j.ready)
	var err error
	j.out, err = s.dec.DecodeAll(j.comp[hintLen:], slices.Grow(out, j.hint.dsize))
	switch {
	case err != nil:
		j.err = fmt.Errorf("%w: the zstd frame at byte %d of the input: %v", ErrCorrupt, at, err)
	case len(j.out) != j.hint.dsize:
		j.err = fmt.Errorf("%w: the zstd frame at byte %d of the input holds %d bytes, its hint says %d",
			ErrCorrupt, at, len(j.out), j.hint.dsize)
	}
}

// compBuf is a buffer to read a frame into: one the source used before,
// else one of the captured frames that came back to the pool.
func (s *frameSource) compBuf(n int) []byte {
	if b := getOr(s.zfree); cap(b) >= n {
		return b
	} else if b != nil {
		putTo(s.zfree, b) // for a smaller frame
	}
	if p := s.pool.Load(); p != nil {
		return p.compBuf(n)
	}
	return nil
}

// readExactly reads n bytes into buf[:0]. It allocates at most 1 MiB on
// the word of a hint alone, and the rest once that much has arrived, so
// that a corrupt hint on a short input costs little.
func readExactly(r io.Reader, buf []byte, n int) ([]byte, error) {
	buf = buf[:0]
	if cap(buf) < n {
		buf = make([]byte, 0, min(n, 1<<20))
	}
	for len(buf) < n {
		if len(buf) == cap(buf) {
			// With room to spare, so that the buffer fits the frames of
			// later records when it comes back for reuse.
			buf = slices.Grow(buf, n-len(buf)+n/8)
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
			s.capOK = false
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
	if s.err != nil {
		return s.err
	}
	s.release()
	j, ok := <-s.jobs
	if !ok {
		s.err = errors.New("format: frame source closed")
		return s.err
	}
	<-j.ready
	switch {
	case j.err != nil:
		s.err = j.err
		return s.err
	case j.stream:
		// readAhead has stopped: the rest of the input is the decoder's.
		zr, err := zstd.NewReader(s.in, zstd.WithDecoderConcurrency(decoderConcurrency), zstd.WithDecoderMaxWindow(1<<27))
		if err != nil {
			s.err = err
			return err
		}
		s.zr = zr
		return nil
	}
	s.cur, s.pos = j, 0
	if s.capturing {
		s.captured = append(s.captured, j.comp)
		j.kept = true
	}
	return nil
}

// release hands the current frame's buffers back for reuse.
func (s *frameSource) release() {
	if s.cur == nil {
		return
	}
	putTo(s.free, s.cur.out)
	if !s.cur.kept {
		putTo(s.zfree, s.cur.comp)
	}
	s.cur = nil
}

// startCapture starts keeping the compressed frames that Read goes on to,
// when the next byte is the first of a frame. The caller must not have
// bytes of the current frame buffered.
func (s *frameSource) startCapture() bool {
	if s.zr != nil || (s.cur != nil && s.pos < len(s.cur.out)) {
		return false
	}
	s.capturing, s.capOK, s.captured = true, true, nil
	return true
}

// endCapture stops capturing and returns the frames read since
// startCapture if they hold exactly the bytes read since: the whole frames
// of one tensor, from its first to its last.
func (s *frameSource) endCapture() [][]byte {
	frames := s.captured
	ok := s.capturing && s.capOK && s.zr == nil && s.cur != nil && s.pos == len(s.cur.out) && len(frames) > 0
	s.capturing, s.captured = false, nil
	if !ok {
		return nil
	}
	first, _ := parseHint(frames[0])
	last, _ := parseHint(frames[len(frames)-1])
	if first.flags&hintFirst == 0 || last.flags&hintLast == 0 {
		return nil
	}
	return frames
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
