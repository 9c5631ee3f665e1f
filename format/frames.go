package format

import (
	"bytes"
	"fmt"
	"io"
	"sort"
	"sync"

	"github.com/klauspost/compress/zstd"
)

// Frames is a large tensor's data kept as the compressed zstd frames it
// came in (see "Frames and hints" in the package doc), by a Reader in lazy
// mode (Reader.SetLazy). A stage that needs only part of a tensor
// decompresses only the frames it reads with ReadAt, and a Writer writes
// the record on with the very same frames, so the rest of the tensor is
// never decompressed, checksummed or compressed again.
//
// The checksums in the frames' hints stand in for the bytes: the Reader
// checked each frame's compressed bytes against its hint before it handed
// the Frames out, ReadAt checks each frame it decompresses whole against
// the checksum of the decompressed bytes, and so does every Reader that
// decompresses the frame later.
type Frames struct {
	frames   []lazyFrame
	size     int64
	crc      uint32 // CRC-32C of all the data, from the hints
	dec      *zstd.Decoder
	name     string // what errors call the tensor, set by the Reader
	recycled bool   // its buffers went back to a Pool (Reader.Recycle)
}

type lazyFrame struct {
	comp []byte // the hint and the zstd frame, as read
	off  int64  // of the frame's first byte in the tensor's data
	at   int64  // of the hint in the input, for errors
	hint frameHint
}

// add appends a frame read from the input.
func (f *Frames) add(j *srcFrame) {
	f.frames = append(f.frames, lazyFrame{comp: j.comp, off: f.size, at: j.at, hint: j.hint})
	f.crc = crcCombine(f.crc, j.hint.crc, int64(j.hint.dsize))
	f.size += int64(j.hint.dsize)
}

// Size is the tensor's data size in bytes, decompressed.
func (f *Frames) Size() int64 { return f.size }

// FrameOf returns the byte range [start, end) of the frame that holds the
// data byte at off, so that a caller can read whole frames, which ReadAt
// decompresses without a copy.
func (f *Frames) FrameOf(off int64) (start, end int64) {
	i := f.index(off)
	if i < 0 {
		return off, off
	}
	return f.frames[i].off, f.frames[i].off + int64(f.frames[i].hint.dsize)
}

// index returns the frame holding byte off, -1 when off is outside.
func (f *Frames) index(off int64) int {
	if off < 0 || off >= f.size {
		return -1
	}
	return sort.Search(len(f.frames), func(i int) bool {
		return f.frames[i].off+int64(f.frames[i].hint.dsize) > off
	})
}

// ReadAt decompresses the data bytes [off, off+len(p)) into p, frame by
// frame. A frame that p covers whole is decompressed in place and checked
// against its hint's checksum. Of a frame that p covers in part, only the
// zstd blocks up to the last byte wanted are decompressed (in place when p
// starts with the frame): reading the start of a frame costs that part of
// it. Such a partial read cannot be checked against the checksum; the
// next stage that reads the frame whole still checks it (see Frames). It
// is safe for concurrent use.
func (f *Frames) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("%s: ReadAt at negative offset %d", f.name, off)
	}
	if f.recycled {
		return 0, fmt.Errorf("%s: ReadAt after the record was recycled", f.name)
	}
	n := 0
	for n < len(p) {
		i := f.index(off + int64(n))
		if i < 0 {
			return n, io.EOF
		}
		fr := &f.frames[i]
		skip := int(off + int64(n) - fr.off)
		want := min(fr.hint.dsize, skip+len(p)-n) // bytes of the frame to decompress
		var err error
		switch {
		case skip == 0 && want == fr.hint.dsize:
			err = f.decode(i, p[n:n+want:n+want])
		case skip == 0:
			err = f.decodePrefix(i, p[n:n+want:n+want])
		default:
			tmp := make([]byte, want)
			if err = f.decodePrefix(i, tmp); err == nil {
				copy(p[n:], tmp[skip:])
			}
		}
		if err != nil {
			return n, err
		}
		n += want - skip
	}
	return n, nil
}

// prefixDecoders decompress the start of a frame, block by block; a
// streaming decoder with concurrency 1 has no goroutines of its own.
var prefixDecoders = sync.Pool{New: func() any {
	d, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxWindow(1<<27),
		zstd.WithDecoderMaxMemory(maxHintFrame))
	if err != nil {
		panic(err) // only for invalid options
	}
	return d
}}

// decodePrefix decompresses the first len(dst) bytes of frame i into dst.
func (f *Frames) decodePrefix(i int, dst []byte) error {
	fr := &f.frames[i]
	d := prefixDecoders.Get().(*zstd.Decoder)
	defer prefixDecoders.Put(d)
	// Hidden behind an io.Reader: the decoder would decompress a
	// *bytes.Reader whole.
	err := d.Reset(struct{ io.Reader }{bytes.NewReader(fr.comp[fr.hint.len:])})
	if err == nil {
		_, err = io.ReadFull(d, dst)
	}
	d.Reset(nil) // drop the reference to the frame
	if err != nil {
		return fmt.Errorf("%s: %w: %v", f.where(i), ErrCorrupt, err)
	}
	return nil
}

// decode decompresses frame i into dst, exactly its size (and capacity,
// so that a lying hint cannot make it write past), and checks the bytes
// against the hint's checksum.
func (f *Frames) decode(i int, dst []byte) error {
	out, err := decodeFrame(f.dec, f.frames[i].comp, f.frames[i].hint, dst)
	if err != nil {
		return fmt.Errorf("%s: %w", f.where(i), err)
	}
	if &out[0] != &dst[0] {
		copy(dst, out) // cannot happen with the size checked, but cheap to be sure
	}
	return nil
}

// where names frame i in errors.
func (f *Frames) where(i int) string {
	fr := &f.frames[i]
	return fmt.Sprintf("%s: frame %d of %d (data bytes %d–%d, input byte %d)",
		f.name, i+1, len(f.frames), fr.off, fr.off+int64(fr.hint.dsize), fr.at)
}

// compressed returns the frames, each with its hint, for a Writer to write.
func (f *Frames) compressed() [][]byte {
	b := make([][]byte, len(f.frames))
	for i := range f.frames {
		b[i] = f.frames[i].comp
	}
	return b
}
