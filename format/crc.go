package format

import "sync"

// castagnoliPoly is the CRC-32C polynomial, bit-reversed (as hash/crc32
// computes it).
const castagnoliPoly = 0x82F63B78

// crcCombine returns the CRC-32C of a‖b from crcA = CRC-32C(a), crcB =
// CRC-32C(b) and len(b) (zlib's crc32_combine): a stream's checksum takes
// in a tensor's frames by the checksums in their hints, without a pass
// over their bytes, so a stage can pass frames on undecoded.
func crcCombine(crcA, crcB uint32, lenB int64) uint32 {
	if lenB <= 0 {
		return crcA
	}
	return gf2Times(zerosOperator(lenB), crcA) ^ crcB
}

// zeroOps caches the operators of the lengths met: a stream's frames are
// nearly all of one size, so combining a frame's checksum costs 32 steps
// instead of building the operator (about 20,000) every time.
var zeroOps struct {
	sync.Mutex
	m map[int64]*[32]uint32
}

// maxZeroOps bounds the cache; record lengths vary, frame sizes do not.
const maxZeroOps = 64

// zerosOperator returns the GF(2) matrix that appends n zero bytes to a
// CRC's message (the pre- and post-conditioning cancel out in crcCombine).
func zerosOperator(n int64) *[32]uint32 {
	zeroOps.Lock()
	defer zeroOps.Unlock()
	if op := zeroOps.m[n]; op != nil {
		return op
	}
	if zeroOps.m == nil || len(zeroOps.m) >= maxZeroOps {
		zeroOps.m = map[int64]*[32]uint32{}
	}
	op := buildZerosOperator(n)
	zeroOps.m[n] = op
	return op
}

func buildZerosOperator(n int64) *[32]uint32 {
	// bit is the operator for one zero bit, then for 2, 4, … bits by
	// squaring; the result multiplies in those of n's bits (as bytes).
	var bit, sq, res [32]uint32
	bit[0] = castagnoliPoly
	for i, row := 1, uint32(1); i < 32; i, row = i+1, row<<1 {
		bit[i] = row
	}
	for i := range res {
		res[i] = 1 << i // identity
	}
	gf2Square(&sq, &bit) // 2 bits
	gf2Square(&bit, &sq) // 4 bits
	gf2Square(&sq, &bit) // 8 bits: one byte
	bit = sq
	for ; n > 0; n >>= 1 {
		if n&1 != 0 {
			var t [32]uint32
			for i := range t {
				t[i] = gf2Times(&bit, res[i])
			}
			res = t
		}
		gf2Square(&sq, &bit)
		bit = sq
	}
	return &res
}

func gf2Times(mat *[32]uint32, vec uint32) uint32 {
	var sum uint32
	for i := 0; vec != 0; i, vec = i+1, vec>>1 {
		if vec&1 != 0 {
			sum ^= mat[i]
		}
	}
	return sum
}

func gf2Square(square, mat *[32]uint32) {
	for n := range mat {
		square[n] = gf2Times(mat, mat[n])
	}
}
