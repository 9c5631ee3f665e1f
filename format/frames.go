package format

import (
	"io"
	"sync"

	"github.com/klauspost/compress/zstd"
)

// frameWriter compresses what is written to it as independent zstd frames
// of up to size bytes, several frames at a time, and writes them in order.
// A streaming zstd encoder compresses on one core; cutting the stream into
// frames lets a CT record use every core, as `zstd -T0` does, for a small
// loss of ratio at frame edges. Readers see one ordinary zstd stream.
type frameWriter struct {
	w    io.Writer
	enc  *zstd.Encoder // EncodeAll is safe for concurrent use
	size int
	buf  []byte
	jobs chan *frameJob // in write order; its capacity bounds the frames in flight
	done chan struct{}  // closed when the writing goroutine ends
	pool sync.Pool

	mu  sync.Mutex
	err error
}

type frameJob struct {
	in, out []byte
	ready   chan struct{}
}

func newFrameWriter(w io.Writer, enc *zstd.Encoder, size, inFlight int) *frameWriter {
	f := &frameWriter{w: w, enc: enc, size: size, jobs: make(chan *frameJob, inFlight), done: make(chan struct{})}
	go f.writeLoop()
	return f
}

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
			f.dispatch()
		}
	}
	return n, nil
}

// Flush hands the buffered bytes to a compressor without waiting for it,
// so that the consumer gets every complete record soon.
func (f *frameWriter) Flush() error {
	if len(f.buf) > 0 {
		f.dispatch()
	}
	return f.failed()
}

// Close compresses and writes everything, and waits for it.
func (f *frameWriter) Close() error {
	f.Flush()
	close(f.jobs)
	<-f.done
	return f.failed()
}

func (f *frameWriter) dispatch() {
	j := &frameJob{in: f.buf, ready: make(chan struct{})}
	f.buf = nil
	go func() {
		j.out = f.enc.EncodeAll(j.in, f.getBuf()[:0])
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
		f.pool.Put(j.in[:0])
		f.pool.Put(j.out[:0])
	}
}

func (f *frameWriter) getBuf() []byte {
	if b, ok := f.pool.Get().([]byte); ok {
		return b
	}
	return make([]byte, 0, f.size+f.size/64+1024)
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
