package format

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
)

// A hint is a zstd skippable frame (RFC 8878 §3.1.2) that the frame writer
// puts before every zstd frame it writes. It tells a reader how long the
// next frame is, compressed and decompressed, the CRC-32C of its
// decompressed bytes, and the CRC-32C of the compressed frame, so that the
// reader can read whole frames ahead and decompress several at once, and a
// stage can pass a tensor's frames on to another stream without
// decompressing them (Frames) while both streams' trailer checksums stay
// exact, and check what it passes on at the cost of a checksum over the
// compressed bytes. Decoders that know nothing of hints (zstd -d) skip
// skippable frames.
//
//	magic    uint32 LE  0x184D2A5C (a skippable frame magic)
//	length   uint32 LE  24, the payload's length
//	id       4 bytes    "ctsC"
//	csize    uint32 LE  compressed size of the next frame
//	dsize    uint32 LE  its decompressed size
//	flags    uint32 LE  hintFirst | hintLast; other bits are reserved (0)
//	crc32c   uint32 LE  CRC-32C of the frame's decompressed bytes
//	ccrc32c  uint32 LE  CRC-32C of the frame's compressed bytes
//
// Format 1.0 wrote hints with the id "ctsH", a 20-byte payload and no
// ccrc32c; readers still read them, but never pass such frames on unread.
const (
	hintMagic   = 0x184D2A5C
	hintPayload = 24
	hintLen     = 8 + hintPayload // the hints this package writes
	hintID      = "ctsC"

	legacyHintPayload = 20
	legacyHintID      = "ctsH"

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
	len          int // of the hint itself, in bytes: the frame starts there
	csize, dsize int
	flags        uint32
	crc          uint32 // of the decompressed bytes
	ccrc         uint32 // of the compressed frame, when hasCCRC
	hasCCRC      bool   // false for a format 1.0 hint
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
	binary.LittleEndian.PutUint32(b[28:], h.ccrc)
}

// hintSize returns the length of the ctseg hint b starts with, of either
// version, and 0 when b does not start with one: other skippable frames are
// not hints.
func hintSize(b []byte) int {
	if len(b) < 12 || binary.LittleEndian.Uint32(b) != hintMagic {
		return 0
	}
	n, id := binary.LittleEndian.Uint32(b[4:]), string(b[8:12])
	switch {
	case n == hintPayload && id == hintID && len(b) >= hintLen:
		return hintLen
	case n == legacyHintPayload && id == legacyHintID && len(b) >= 8+legacyHintPayload:
		return 8 + legacyHintPayload
	}
	return 0
}

// parseHint decodes a hint of the length hintSize gave, refusing sizes
// that no writer produces.
func parseHint(b []byte) (frameHint, error) {
	h := frameHint{
		len:   hintSize(b),
		csize: int(binary.LittleEndian.Uint32(b[12:])),
		dsize: int(binary.LittleEndian.Uint32(b[16:])),
		flags: binary.LittleEndian.Uint32(b[20:]),
		crc:   binary.LittleEndian.Uint32(b[24:]),
	}
	if h.len == hintLen {
		h.ccrc, h.hasCCRC = binary.LittleEndian.Uint32(b[28:]), true
	}
	if h.dsize > maxHintFrame || h.csize < 1 || h.csize > maxCompressed(h.dsize) {
		return h, fmt.Errorf("%w: frame hint says %d bytes compressed, %d decompressed (at most %d)",
			ErrCorrupt, h.csize, h.dsize, maxHintFrame)
	}
	if h.flags&^(hintFirst|hintLast) != 0 {
		return h, fmt.Errorf("%w: frame hint has reserved flag bits set (%#x)", ErrCorrupt, h.flags)
	}
	return h, nil
}

// checkCompressed checks a frame read with its hint (comp) against the
// checksum of the compressed bytes, when the hint has one.
func checkCompressed(comp []byte, h frameHint) error {
	if !h.hasCCRC {
		return nil
	}
	if c := crc32.Checksum(comp[h.len:], castagnoli); c != h.ccrc {
		return fmt.Errorf("%w: compressed bytes have CRC-32C %08x, their hint says %08x", ErrChecksum, c, h.ccrc)
	}
	return nil
}
