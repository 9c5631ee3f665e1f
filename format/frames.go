package format

import (
	"io"
	"sync"

	"github.com/klauspost/compress/zstd"

	"github.com/ctseg/ctseg/internal/bigbuf"
)

// frameWriter compresses what is written to it as independent zstd frames
// of up to size bytes, several frames at a time, and writes them in order.
// A streaming zstd encoder compresses on one core; cutting the stream into
// frames lets a CT record use every core, as `zstd -T0` does, for a small
// loss of ratio at frame edges. Readers see one ordinary zstd stream.
//
// Large writes are compressed in place, without a copy: Write may keep
// references to p until Release returns.
type frameWriter struct {
	w        io.Writer
	enc      *zstd.Encoder // EncodeAll is safe for concurrent use
	size     int
	buf      []byte
	jobs     chan *frameJob // in write order; its capacity bounds the frames in flight
	done     chan struct{}  // closed when the writing goroutine ends
	free     chan []byte    // buffers for reuse: fresh memory costs page faults
	borrowed []*frameJob    // jobs compressing the caller's memory

	mu  sync.Mutex
	err error
}

type frameJob struct {
	in, out  []byte
	borrowed bool // in belongs to the caller
	ready    chan struct{}
}

func newFrameWriter(w io.Writer, enc *zstd.Encoder, size, inFlight int) *frameWriter {
	f := &frameWriter{w: w, enc: enc, size: size, jobs: make(chan *frameJob, inFlight),
		done: make(chan struct{}), free: make(chan []byte, 2*inFlight+2)}
	go f.writeLoop()
	return f
}

// Write takes p. Whole frames of p are compressed where they lie, so the
// caller must not change p until Release.
func (f *frameWriter) Write(p []byte) (int, error) {
	if err := f.failed(); err != nil {
		return 0, err
	}
	n := len(p)
	for len(p) > 0 {
		if len(f.buf) == 0 && len(p) >= f.size {
			f.dispatch(p[:f.size:f.size], true)
			p = p[f.size:]
			continue
		}
		if f.buf == nil {
			f.buf = f.getBuf()
		}
		k := copy(f.buf[len(f.buf):f.size], p)
		f.buf = f.buf[:len(f.buf)+k]
		p = p[k:]
		if len(f.buf) == f.size {
			f.dispatch(f.buf, false)
			f.buf = nil
		}
	}
	return n, nil
}

// Flush hands the buffered bytes to a compressor without waiting for it,
// so that the consumer gets every complete record soon.
func (f *frameWriter) Flush() error {
	if len(f.buf) > 0 {
		f.dispatch(f.buf, false)
		f.buf = nil
	}
	return f.failed()
}

// Release waits until no frame refers to memory passed to Write.
func (f *frameWriter) Release() {
	for _, j := range f.borrowed {
		<-j.ready
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

func (f *frameWriter) dispatch(in []byte, borrowed bool) {
	j := &frameJob{in: in, borrowed: borrowed, ready: make(chan struct{})}
	if borrowed {
		f.borrowed = append(f.borrowed, j)
	}
	out := f.getBuf()[:0]
	go func() {
		j.out = f.enc.EncodeAll(j.in, out)
		close(j.ready)
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
		return bigbuf.Bytes(f.size + f.size/64 + 1024)[:0]
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
