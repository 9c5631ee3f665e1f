package format

import (
	"hash/crc32"
	"io"
	"sync"

	"github.com/klauspost/compress/zstd"

	"github.com/ctseg/ctseg/internal/bigbuf"
)

// frameWriter compresses what is written to it as independent zstd frames
// of up to size bytes, several frames at a time, and writes them in order.
// A streaming zstd encoder compresses on one core; cutting the stream into
// frames lets a CT record use every core, as `zstd -T0` does, for a small
// loss of ratio at frame edges. Before each frame goes a hint (hint.go), a
// skippable frame that ordinary zstd decoders ignore: readers see one
// ordinary zstd stream.
//
// A large tensor's data (WriteTensor) is compressed in place, without a
// copy, and the caller keeps it unchanged until Release returns.
type frameWriter struct {
	w        io.Writer
	enc      *zstd.Encoder // EncodeAll is safe for concurrent use
	size     int
	buf      []byte
	jobs     chan *frameJob // in write order; its capacity bounds the frames in flight
	done     chan struct{}  // closed when the writing goroutine ends
	free     chan []byte    // buffers for reuse: fresh memory costs page faults
	borrowed []*frameJob    // jobs compressing the caller's memory
	hints    bool           // put a hint (hint.go) before every frame
	zeros    zeroFrames

	mu  sync.Mutex
	err error
}

type frameJob struct {
	in, out  []byte
	borrowed bool // in belongs to the caller
	raw      bool // out is compressed frames from elsewhere, written as they are
	flags    uint32
	crc      uint32        // CRC-32C of in, once ready is closed
	ready    chan struct{} // closed once out (and crc) are set
	written  chan struct{} // for raw jobs: closed once out is written (or dropped)
}

func newFrameWriter(w io.Writer, enc *zstd.Encoder, size, inFlight int) *frameWriter {
	f := &frameWriter{w: w, enc: enc, size: size, jobs: make(chan *frameJob, inFlight),
		done: make(chan struct{}), free: make(chan []byte, 2*inFlight+2), hints: size <= maxHintFrame}
	go f.writeLoop()
	return f
}

// WriteTensor compresses a tensor's data as frames of its own, the first
// starting at its first byte and the last ending at its last, so that a
// reader can keep them compressed (Frames) and pass them on. Like Write,
// it compresses p in place. It returns p's CRC-32C, combined from the
// frames' checksums, which are computed on every core with the frames.
func (f *frameWriter) WriteTensor(p []byte) (uint32, error) {
	if err := f.Flush(); err != nil {
		return 0, err
	}
	first := len(f.borrowed)
	for i := 0; i < len(p); i += f.size {
		var flags uint32
		if i == 0 {
			flags |= hintFirst
		}
		end := min(i+f.size, len(p))
		if end == len(p) {
			flags |= hintLast
		}
		f.dispatch(p[i:end:end], true, flags)
	}
	var crc uint32
	for _, j := range f.borrowed[first:] {
		<-j.ready
		crc = crcCombine(crc, j.crc, int64(len(j.in)))
	}
	return crc, f.failed()
}

// WriteFrames writes complete compressed frames (with their hints), in
// order with what was written before. b must not change until Release
// returns.
func (f *frameWriter) WriteFrames(b [][]byte) error {
	if err := f.Flush(); err != nil {
		return err
	}
	for _, fr := range b {
		j := &frameJob{out: fr, raw: true, ready: make(chan struct{}), written: make(chan struct{})}
		close(j.ready)
		f.borrowed = append(f.borrowed, j)
		f.jobs <- j
	}
	return f.failed()
}

// Write copies p into frames. (It must copy: the caller may be a
// bufio.Writer that reuses its buffer as soon as Write returns.)
func (f *frameWriter) Write(p []byte) (int, error) {
	if err := f.failed(); err != nil {
		return 0, err
	}
	n := len(p)
	for len(p) > 0 {
		if f.buf == nil {
			f.buf = f.getBuf()
		}
		k := copy(f.buf[len(f.buf):f.size], p)
		f.buf = f.buf[:len(f.buf)+k]
		p = p[k:]
		if len(f.buf) == f.size {
			f.dispatch(f.buf, false, 0)
			f.buf = nil
		}
	}
	return n, nil
}

// Flush hands the buffered bytes to a compressor without waiting for it,
// so that the consumer gets every complete record soon.
func (f *frameWriter) Flush() error {
	if len(f.buf) > 0 {
		f.dispatch(f.buf, false, 0)
		f.buf = nil
	}
	return f.failed()
}

// Release waits until no frame refers to memory passed to WriteTensor or
// WriteFrames.
func (f *frameWriter) Release() {
	for _, j := range f.borrowed {
		<-j.ready
		if j.raw {
			<-j.written
		}
	}
	f.borrowed = f.borrowed[:0]
}

// Close compresses and writes everything, and waits for it.
func (f *frameWriter) Close() error {
	f.Flush()
	close(f.jobs)
	<-f.done
	f.borrowed = nil
	return f.failed()
}

func (f *frameWriter) dispatch(in []byte, borrowed bool, flags uint32) {
	j := &frameJob{in: in, borrowed: borrowed, flags: flags, ready: make(chan struct{})}
	if borrowed {
		f.borrowed = append(f.borrowed, j)
	}
	out := f.getBuf()[:0]
	go func() {
		defer close(j.ready)
		start := 0
		if f.hints {
			start = hintLen // the hint goes first in the same buffer: one write per frame
		}
		var ccrc uint32
		if z := f.zeros.frame(f.enc, j.in); z != nil {
			j.crc, ccrc, j.out = z.crc, z.ccrc, append(out[:start], z.comp...)
		} else {
			j.crc = crc32.Checksum(j.in, castagnoli)
			j.out = f.enc.EncodeAll(j.in, out[:start])
			if f.hints {
				ccrc = crc32.Checksum(j.out[start:], castagnoli)
			}
		}
		if f.hints {
			putHint(j.out, frameHint{csize: len(j.out) - hintLen, dsize: len(j.in), flags: j.flags, crc: j.crc, ccrc: ccrc})
		}
	}()
	f.jobs <- j
}

func (f *frameWriter) writeLoop() {
	defer close(f.done)
	for j := range f.jobs {
		<-j.ready
		if f.failed() == nil {
			if _, err := f.w.Write(j.out); err != nil {
				f.setErr(err)
			}
		}
		if j.raw {
			close(j.written) // not ours to reuse
			continue
		}
		if !j.borrowed {
			f.putBuf(j.in)
		}
		f.putBuf(j.out)
	}
}

func (f *frameWriter) getBuf() []byte {
	select {
	case b := <-f.free:
		return b[:0]
	default:
		return bigbuf.Bytes(hintLen + maxCompressed(f.size))[:0]
	}
}

func (f *frameWriter) putBuf(b []byte) {
	select {
	case f.free <- b:
	default:
	}
}

func (f *frameWriter) failed() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.err
}

func (f *frameWriter) setErr(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err == nil {
		f.err = err
	}
}
