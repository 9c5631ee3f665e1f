package format

import (
	"bytes"
	"hash/crc32"
	"sync"

	"github.com/klauspost/compress/zstd"
)

// zeroFrames caches the compressed frame and the checksum of all-zero
// frames, by size. A mask tensor is zero nearly everywhere (a nodule
// covers a few slices of hundreds), and recognising a zero frame costs a
// fraction of checksumming and compressing it.
type zeroFrames struct {
	mu sync.Mutex
	m  map[int]*zeroFrame
}

type zeroFrame struct {
	comp []byte // the zstd frame, without a hint
	crc  uint32 // of the decompressed frame
	ccrc uint32 // of comp
}

// zeroBlock is compared with a frame, piece by piece, to find zero
// frames; small enough to stay in the cache.
var zeroBlock [16 << 10]byte

// isZero reports whether p is all zero.
func isZero(p []byte) bool {
	for len(p) > 0 {
		k := min(len(p), len(zeroBlock))
		if !bytes.Equal(p[:k], zeroBlock[:k]) {
			return false
		}
		p = p[k:]
	}
	return true
}

// frame returns the cached zero frame of p's size when p is all zero, nil
// otherwise.
func (z *zeroFrames) frame(enc *zstd.Encoder, p []byte) *zeroFrame {
	if len(p) == 0 || p[0] != 0 || p[len(p)-1] != 0 || !isZero(p) {
		return nil
	}
	z.mu.Lock()
	defer z.mu.Unlock()
	if f := z.m[len(p)]; f != nil {
		return f
	}
	if z.m == nil {
		z.m = map[int]*zeroFrame{}
	}
	f := &zeroFrame{comp: enc.EncodeAll(p, nil), crc: crc32.Checksum(p, castagnoli)}
	f.ccrc = crc32.Checksum(f.comp, castagnoli)
	z.m[len(p)] = f
	return f
}
