package format

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/klauspost/compress/zstd"
	"github.com/vmihailenco/msgpack/v5"
)

// Errors a Reader reports, wrapped with context; test with errors.Is.
var (
	ErrEmpty     = errors.New("empty input: no stream header")
	ErrNotStream = errors.New("not a ctseg stream")
	ErrTruncated = errors.New("truncated stream")
	ErrChecksum  = errors.New("checksum mismatch")
	ErrVersion   = errors.New("unsupported format version")
	ErrKind      = errors.New("wrong record kind")
	ErrCorrupt   = errors.New("corrupt record")
	// ErrTrailing: the input goes on after a stream's trailer with bytes
	// that do not start another stream.
	ErrTrailing = errors.New("trailing data after the stream")
)

// decoderConcurrency is how many hinted frames a reader reads ahead and
// decompresses at once (and the streaming decoder's concurrency): 2 lets
// decompression run ahead of record decoding on two cores. Fuzz tests set
// it to 1.
var decoderConcurrency = 2

// Reader reads records from one or more concatenated streams.
type Reader struct {
	src     *frameSource
	pool    *Pool // where tensors are decoded into and recycled to
	hr      *hashReader
	d       dec
	name    string  // for errors: the input's name
	want    Kind    // "" accepts any kind
	header  *Header // of the stream being read; nil between streams
	last    *Header // of the last stream started
	streams int     // headers seen
	count   uint64  // records in the current stream
	index   uint64  // records in all streams
	err     error
}

// NewReader reads streams from r.
func NewReader(r io.Reader) *Reader {
	src, err := newFrameSource(r, decoderConcurrency)
	rd := &Reader{src: src}
	if err != nil {
		rd.err = rd.wrap(err)
		return rd
	}
	rd.setSource(src)
	rd.d.src = src
	src.pool.Store(rd.pool)
	return rd
}

// newRawReader reads decompressed stream bytes; the fuzz tests use it to
// reach the record decoders without going through zstd.
func newRawReader(r io.Reader) *Reader {
	rd := &Reader{}
	rd.setSource(r)
	return rd
}

func (r *Reader) setSource(src io.Reader) {
	r.hr = newHashReader(src)
	r.pool = new(Pool)
	r.d = dec{d: msgpack.NewDecoder(r.hr), r: r.hr, hr: r.hr, free: &r.pool.free, framesName: r.framesName}
}

// SetName sets what errors call the input ("stdin", a file name).
func (r *Reader) SetName(name string) { r.name = name }

// SetLazy makes the reader keep a CT record's HU tensor compressed, as
// CT.HUFrames, when it came as frames of its own (any stream of this
// package's frame writer does), instead of decompressing it into CT.HU. A
// stage that reads only part of the HU, and writes the CT on, then spends
// nothing on the rest. Call it before the first Next.
func (r *Reader) SetLazy(lazy bool) {
	r.d.lazy = lazy
	if r.src != nil {
		r.src.lazy.Store(lazy)
	}
}

// Expect makes the reader fail on a stream whose records are not of kind k,
// naming the stage that wanted them.
func (r *Reader) Expect(k Kind) { r.want = k }

// Header is the header of the stream being read, or of the last stream
// finished (so an empty stream's header can still be seen after Next
// returned io.EOF); nil before the first.
func (r *Reader) Header() *Header {
	if r.header != nil {
		return r.header
	}
	return r.last
}

// Close releases the decompressor's goroutines.
func (r *Reader) Close() {
	if r.src != nil {
		r.src.Close()
	}
}

func (r *Reader) wrap(err error) error {
	return fmt.Errorf("%s: %w", r.inputName(), err)
}

// framesName is what errors call the HU Frames of the record being
// decoded (only CT records keep tensors compressed).
func (r *Reader) framesName() string {
	return fmt.Sprintf("%s: record %d (%s): hu", r.inputName(), r.count+1, r.header.Kind)
}

// inputName is what errors call the input.
func (r *Reader) inputName() string {
	if r.name != "" {
		return r.name
	}
	return "stream"
}

// Next returns the next record, or io.EOF after the trailer of the last
// stream. Any other error is final.
func (r *Reader) Next() (Record, error) {
	if r.err != nil {
		return nil, r.err
	}
	rec, err := r.next()
	if err != nil {
		if err != io.EOF {
			err = r.wrap(err)
		}
		r.err = err
	}
	return rec, err
}

func (r *Reader) next() (Record, error) {
	for {
		if r.header == nil {
			if err := r.readHeader(); err != nil {
				return nil, err
			}
			continue
		}
		crc := r.hr.sum()
		tag, err := r.readTag()
		if err != nil {
			return nil, r.truncated(err, "before the trailer")
		}
		if tag == tagTrailer {
			if err := r.readTrailer(crc); err != nil {
				return nil, err
			}
			r.header = nil
			continue
		}
		if tag != string(r.header.Kind) {
			return nil, fmt.Errorf("record %d: %w: %q in a stream of %s records", r.count+1, ErrCorrupt, tag, r.header.Kind)
		}
		rec, err := r.d.record(tag)
		if err != nil {
			return nil, r.truncated(err, fmt.Sprintf("in record %d (%s)", r.count+1, tag))
		}
		if err := rec.check(); err != nil {
			return nil, fmt.Errorf("record %d: %w: %v", r.count+1, ErrCorrupt, err)
		}
		r.count++
		r.index++
		return rec, nil
	}
}

// truncated classifies a decoding error: an early end of input is a
// truncated stream, anything else a corrupt one.
func (r *Reader) truncated(err error, where string) error {
	if errors.Is(err, ErrTruncated) || errors.Is(err, ErrCorrupt) || errors.Is(err, ErrChecksum) {
		return fmt.Errorf("%s: %w", where, err) // from the frame source
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%w: input ends %s", ErrTruncated, where)
	}
	return fmt.Errorf("%w: %s: %v", ErrCorrupt, where, err) // zstd's errors too
}

// readTag reads the [tag, body] array header and the tag.
func (r *Reader) readTag() (string, error) {
	n, err := r.d.d.DecodeArrayLen()
	if err != nil {
		return "", err
	}
	if n != 2 {
		return "", fmt.Errorf("record is an array of %d, want [tag, body]", n)
	}
	return r.d.str()
}

func (r *Reader) readHeader() error {
	err := r.startStream()
	if err != nil && err != io.EOF && r.streams > 0 && !errors.Is(err, ErrTruncated) {
		// The streams before were complete: what follows is not a stream
		// cut short but something else appended.
		what := strings.TrimPrefix(err.Error(), ErrNotStream.Error()+": ")
		return fmt.Errorf("%w: after the trailer of stream %d: %s", ErrTrailing, r.streams, what)
	}
	return err
}

// startStream reads the header of the next stream, io.EOF at the clean end
// of the input.
func (r *Reader) startStream() error {
	// Detect the clean end: no byte after the last trailer.
	if _, err := r.hr.ReadByte(); err != nil {
		switch {
		case err == io.EOF && r.streams > 0:
			return io.EOF
		case err == io.EOF:
			return ErrEmpty
		case errors.Is(err, ErrTruncated) || errors.Is(err, ErrCorrupt) || errors.Is(err, ErrChecksum):
			return err
		case errors.Is(err, zstd.ErrMagicMismatch):
			return fmt.Errorf("%w: input is not zstd-compressed", ErrNotStream)
		case errors.Is(err, io.ErrUnexpectedEOF):
			return fmt.Errorf("%w: input ends inside a zstd frame", ErrTruncated)
		default:
			return fmt.Errorf("%w: %v", ErrNotStream, err)
		}
	}
	r.hr.UnreadByte()
	r.hr.crc, r.hr.hashedTo = 0, r.hr.pos // the checksum covers one stream
	tag, err := r.readTag()
	if err != nil || tag != tagHeader {
		return fmt.Errorf("%w: no header record at the start of stream %d", ErrNotStream, r.streams+1)
	}
	h, err := r.d.header()
	if err != nil {
		return r.truncated(err, "in the header")
	}
	if h.magic != Magic {
		return fmt.Errorf("%w: header magic %q", ErrNotStream, h.magic)
	}
	if h.Version[0] != Version[0] {
		return fmt.Errorf("%w: %d.%d (this program reads %d.x)", ErrVersion, h.Version[0], h.Version[1], Version[0])
	}
	if !h.Kind.valid() {
		return fmt.Errorf("%w: unknown record kind %q in the header", ErrCorrupt, h.Kind)
	}
	if r.want != "" && h.Kind != r.want {
		return fmt.Errorf("%w: the stream holds %s records (written by %s), this program reads %s records", ErrKind, h.Kind, h.Program, r.want)
	}
	r.header = &h.Header
	r.last = r.header
	r.streams++
	r.count = 0
	return nil
}

func (r *Reader) readTrailer(crc uint32) error {
	var t Trailer
	err := r.d.eachKey(func(k string) error {
		switch k {
		case "count":
			v, err := r.d.d.DecodeUint64()
			t.Count = v
			return err
		case "crc32c":
			v, err := r.d.d.DecodeUint32()
			t.CRC32C = v
			return err
		}
		return r.d.skip()
	})
	if err != nil {
		return r.truncated(err, "in the trailer")
	}
	if t.Count != r.count {
		return fmt.Errorf("%w: trailer counts %d records, stream %d held %d", ErrCorrupt, t.Count, r.streams, r.count)
	}
	if t.CRC32C != crc {
		return fmt.Errorf("%w: stream %d: trailer says CRC-32C %08x, records give %08x", ErrChecksum, r.streams, t.CRC32C, crc)
	}
	return nil
}

type wireHeader struct {
	Header
	magic string
}

func (d *dec) header() (*wireHeader, error) {
	h := &wireHeader{}
	err := d.eachKey(func(k string) error {
		var err error
		switch k {
		case "magic":
			h.magic, err = d.str()
		case "version":
			err = d.fixedInts(h.Version[:])
		case "kind":
			var s string
			s, err = d.str()
			h.Kind = Kind(s)
		case "program":
			h.Program, err = d.str()
		case "program_version":
			h.ProgramVersion, err = d.str()
		case "args":
			h.Args, err = d.strs(1 << 16)
		case "created":
			h.Created, err = d.str()
		default:
			err = d.skip()
		}
		return err
	})
	return h, err
}
