package format

import (
	"bufio"
	"fmt"
	"io"
	"runtime"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/vmihailenco/msgpack/v5"
)

// Magic identifies a ctseg stream in its header record.
const Magic = "ctseg.stream"

// Version is the format version this package writes. Readers accept any
// minor version of their major version: a minor version only adds keys,
// which older readers skip.
var Version = [2]int{1, 2}

// Header opens a stream: what it holds and who wrote it.
type Header struct {
	Kind    Kind   // kind of every record in the stream
	Program string // producing program, e.g. "ctread"
	// ProgramVersion is the producing program's version ("0.3.0 (rev
	// 1a2b3c4)"), written as the key "program_version" when not empty.
	ProgramVersion string
	Args           []string // its arguments, for provenance
	Version        [2]int   // format version: set by the writer; filled in by the reader
	Created        string   // RFC 3339 time the stream was started; set by the writer
}

// Trailer closes a stream.
type Trailer struct {
	Count  uint64 // number of data records
	CRC32C uint32 // CRC-32C (Castagnoli) of every byte from the header record to the trailer record
}

// DefaultFrameSize is the most bytes a Writer compresses as one zstd
// frame: one slice of a 512×512 int16 CT, so that a stage reading a CT
// compressed (Frames) decompresses only the slices it needs. Frames this
// small cost no ratio on CT data (66.62 MB for a 512×512×250 phantom,
// against 66.67 MB with 8 MiB frames and 66.65 MB for plain zstd), but
// below 512 KiB the fastest level loses 7 % (256 KiB) to 15 % (64 KiB).
const DefaultFrameSize = 512 << 10

// WriterOptions tunes a Writer.
type WriterOptions struct {
	// Level is the zstd level; zero means zstd.SpeedFastest, the speed of
	// `zstd -1`.
	Level zstd.EncoderLevel
	// Concurrency is the number of frames compressed at once; zero means
	// GOMAXPROCS.
	Concurrency int
	// FrameSize is the most bytes compressed as one independent zstd frame;
	// zero means DefaultFrameSize. Frames of more than 32 MiB get no hints (see the
	// package doc), so readers decode them on one core.
	FrameSize int
	// Window, when not zero, makes the stream one zstd frame compressed on
	// one core, with matches up to Window bytes back. Records that repeat
	// much of the record before (validation slices share 6 of 7 context
	// slices) compress several times smaller so; independent frames cannot
	// see across their edges.
	Window int
}

// bulkMin is the size from which a tensor's data gets zstd frames of its
// own (with Window zero), so that a reader can keep them compressed
// (Frames). The fuzz tests lower it, to reach Frames with small inputs.
var bulkMin = 1 << 20

// compressor is the zstd layer under a Writer: independent frames
// compressed in parallel (frameWriter), or one streaming frame
// (streamWriter).
type compressor interface {
	io.Writer
	Flush() error // hand buffered bytes on towards the output
	Release()     // wait until nothing refers to memory passed to Write
	Close() error
}

// streamWriter is a single-frame streaming encoder. It copies what it is
// given, so Release has nothing to wait for.
type streamWriter struct{ *zstd.Encoder }

func (streamWriter) Release() {}

// Writer writes one stream: a header, records, and (on Close) a trailer.
type Writer struct {
	kind  Kind
	zw    compressor
	fw    *frameWriter // zw, when the stream is independent frames
	bw    *bufio.Writer
	hw    *hashWriter
	e     enc
	count uint64
	err   error
}

// NewWriter starts a stream of h.Kind records on w with the options that
// suit the kind (KindOptions).
func NewWriter(w io.Writer, h Header) (*Writer, error) {
	return NewWriterOptions(w, h, KindOptions(h.Kind))
}

// KindOptions are the writer options for a kind of stream. Consecutive
// validation slices share all but one of their context slices, which only
// one streaming frame at zstd's default level finds (about 4× smaller than
// independent frames at the fastest level on the real series); the other
// kinds gain little from it and compress faster in parallel frames, which
// also let a reader keep large tensors compressed.
func KindOptions(k Kind) WriterOptions {
	if k == KindSlice {
		return WriterOptions{Level: zstd.SpeedDefault, Window: 16 << 20}
	}
	return WriterOptions{}
}

// NewWriterOptions starts a stream of h.Kind records on w.
func NewWriterOptions(w io.Writer, h Header, opt WriterOptions) (*Writer, error) {
	if !h.Kind.valid() {
		return nil, fmt.Errorf("format: unknown record kind %q", h.Kind)
	}
	if opt.Level == 0 {
		opt.Level = zstd.SpeedFastest
	}
	if opt.Concurrency <= 0 {
		opt.Concurrency = runtime.GOMAXPROCS(0)
	}
	if opt.FrameSize <= 0 {
		opt.FrameSize = DefaultFrameSize
	}
	zw, err := newCompressor(w, opt)
	if err != nil {
		return nil, fmt.Errorf("format: %w", err)
	}
	sw := &Writer{kind: h.Kind, zw: zw, bw: bufio.NewWriterSize(zw, 256<<10)}
	sw.hw = &hashWriter{w: sw.bw}
	sw.e = enc{e: msgpack.NewEncoder(sw.hw), w: sw.hw}
	if fw, ok := zw.(*frameWriter); ok {
		sw.fw = fw
		sw.e.bulk, sw.e.frames = sw.writeBulk, sw.writeFrames
	}
	sw.writeHeader(h)
	if sw.err != nil {
		return nil, sw.err
	}
	return sw, nil
}

func (w *Writer) writeHeader(h Header) {
	e := &w.e
	e.arrayLen(2)
	if e.err == nil {
		e.err = e.e.EncodeString(tagHeader)
	}
	n := 6
	if h.ProgramVersion != "" {
		n++
	}
	e.mapLen(n)
	e.str("magic", Magic)
	e.ints("version", Version[:])
	e.str("kind", string(h.Kind))
	e.str("program", h.Program)
	if h.ProgramVersion != "" {
		e.str("program_version", h.ProgramVersion)
	}
	e.strs("args", h.Args)
	e.str("created", time.Now().UTC().Format(time.RFC3339))
	w.err = e.err
}

func newCompressor(w io.Writer, opt WriterOptions) (compressor, error) {
	// No zstd checksum: the trailer's CRC-32C already covers every byte.
	zopt := []zstd.EOption{zstd.WithEncoderLevel(opt.Level), zstd.WithEncoderConcurrency(opt.Concurrency), zstd.WithEncoderCRC(false)}
	if opt.Window > 0 {
		zenc, err := zstd.NewWriter(w, append(zopt, zstd.WithWindowSize(windowSize(opt.Window)))...)
		return streamWriter{zenc}, err
	}
	zenc, err := zstd.NewWriter(nil, append(zopt, zstd.WithWindowSize(windowSize(opt.FrameSize)))...)
	if err != nil {
		return nil, err
	}
	return newFrameWriter(w, zenc, opt.FrameSize, opt.Concurrency+1), nil
}

// windowSize is the zstd window for frames of n bytes: the power of two
// that covers the frame, within zstd's limits for decoders we accept.
func windowSize(n int) int {
	w := zstd.MinWindowSize
	for w < n && w < 1<<27 {
		w <<= 1
	}
	return w
}

// writeBulk writes a large tensor's data as frames of its own.
func (w *Writer) writeBulk(data []byte) error {
	if err := w.bw.Flush(); err != nil {
		return err
	}
	crc, err := w.fw.WriteTensor(data)
	w.hw.add(crc, int64(len(data)))
	return err
}

// writeFrames writes a tensor's data that a Reader kept compressed as the
// very same frames.
func (w *Writer) writeFrames(f *Frames) error {
	if err := w.bw.Flush(); err != nil {
		return err
	}
	w.hw.add(f.crc, f.size)
	return w.fw.WriteFrames(f.compressed())
}

// Write appends one record. Its kind must be the stream's.
func (w *Writer) Write(r Record) error {
	if w.err != nil {
		return w.err
	}
	if r.Kind() != w.kind {
		return fmt.Errorf("format: %s record written to a stream of %s records", r.Kind(), w.kind)
	}
	if err := r.check(); err != nil {
		return fmt.Errorf("format: %w", err)
	}
	e := &w.e
	e.arrayLen(2)
	if e.err == nil {
		e.err = e.e.EncodeString(string(r.Kind()))
	}
	encodeRecord(e, r)
	if e.err == nil {
		// Hand the whole record to the compressor now, so that the next
		// stage of a pipeline can start on it without waiting for more.
		e.err = w.bw.Flush()
	}
	if e.err == nil {
		e.err = w.zw.Flush()
	}
	w.zw.Release() // the caller may reuse the record's memory once we return
	if e.err != nil {
		w.err = fmt.Errorf("format: write %s record: %w", r.Kind(), e.err)
		return w.err
	}
	w.count++
	return nil
}

// Count is the number of records written so far.
func (w *Writer) Count() uint64 { return w.count }

// Close writes the trailer and flushes the compressor. It does not close
// the underlying writer. A stream that was not closed reads as truncated.
func (w *Writer) Close() error {
	if w.err != nil {
		w.zw.Close()
		return w.err
	}
	crc := w.hw.crc
	e := &w.e
	e.arrayLen(2)
	if e.err == nil {
		e.err = e.e.EncodeString(tagTrailer)
	}
	e.mapLen(2)
	e.int("count", int64(w.count))
	e.int("crc32c", int64(crc))
	if e.err == nil {
		e.err = w.bw.Flush()
	}
	if err := w.zw.Close(); e.err == nil {
		e.err = err
	}
	if e.err != nil {
		w.err = fmt.Errorf("format: close stream: %w", e.err)
		return w.err
	}
	w.err = fmt.Errorf("format: stream already closed")
	return nil
}
