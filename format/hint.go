package format

import (
	"encoding/binary"
	"fmt"
)

// A hint is a zstd skippable frame (RFC 8878 §3.1.2) that the frame writer
// puts before every zstd frame it writes. It tells a reader how long the
// next frame is, compressed and decompressed, and the CRC-32C of its
// decompressed bytes, so that the reader can read whole frames ahead and
// decompress several at once, and a stage can pass a tensor's frames on to
// another stream without decompressing them (Frames) while both streams'
// trailer checksums stay exact. Decoders that know nothing of hints
// (zstd -d) skip skippable frames.
//
//	magic    uint32 LE  0x184D2A5C (a skippable frame magic)
//	length   uint32 LE  20, the payload's length
//	id       4 bytes    "ctsH"
//	csize    uint32 LE  compressed size of the next frame
//	dsize    uint32 LE  its decompressed size
//	flags    uint32 LE  hintFirst | hintLast; other bits are reserved (0)
//	crc32c   uint32 LE  CRC-32C of the frame's decompressed bytes
const (
	hintMagic   = 0x184D2A5C
	hintPayload = 20
	hintLen     = 8 + hintPayload
	hintID      = "ctsH"

	// hintFirst marks the first frame of a tensor's data, hintLast its
	// last: a tensor's data is exactly the frames from one to the other.
	hintFirst = 1
	hintLast  = 2

	// maxHintFrame bounds the decompressed size of a hinted frame, so that a
	// corrupt hint cannot make a reader allocate without limit. A writer
	// with larger frames writes no hints.
	maxHintFrame = 32 << 20
)

// maxCompressed bounds the compressed size of a frame of n bytes, after
// zstd's ZSTD_COMPRESSBOUND (incompressible blocks are stored raw, with a
// few bytes of block and frame headers), with room to spare.
func maxCompressed(n int) int { return n + n/256 + 1024 }

// frameHint describes the zstd frame that follows a hint.
type frameHint struct {
	csize, dsize int
	flags        uint32
	crc          uint32
}

// putHint writes h into b[:hintLen].
func putHint(b []byte, h frameHint) {
	binary.LittleEndian.PutUint32(b[0:], hintMagic)
	binary.LittleEndian.PutUint32(b[4:], hintPayload)
	copy(b[8:12], hintID)
	binary.LittleEndian.PutUint32(b[12:], uint32(h.csize))
	binary.LittleEndian.PutUint32(b[16:], uint32(h.dsize))
	binary.LittleEndian.PutUint32(b[20:], h.flags)
	binary.LittleEndian.PutUint32(b[24:], h.crc)
}

// isHint reports whether b (at least hintLen bytes) starts with a ctseg
// hint; other skippable frames are not hints.
func isHint(b []byte) bool {
	return len(b) >= hintLen && binary.LittleEndian.Uint32(b) == hintMagic &&
		binary.LittleEndian.Uint32(b[4:]) == hintPayload && string(b[8:12]) == hintID
}

// parseHint decodes a hint that isHint accepted, refusing sizes that no
// writer produces.
func parseHint(b []byte) (frameHint, error) {
	h := frameHint{
		csize: int(binary.LittleEndian.Uint32(b[12:])),
		dsize: int(binary.LittleEndian.Uint32(b[16:])),
		flags: binary.LittleEndian.Uint32(b[20:]),
		crc:   binary.LittleEndian.Uint32(b[24:]),
	}
	if h.dsize > maxHintFrame || h.csize < 1 || h.csize > maxCompressed(h.dsize) {
		return h, fmt.Errorf("%w: frame hint says %d bytes compressed, %d decompressed (at most %d)",
			ErrCorrupt, h.csize, h.dsize, maxHintFrame)
	}
	return h, nil
}
