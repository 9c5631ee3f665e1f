package format

// castagnoliPoly is the CRC-32C polynomial, bit-reversed (as hash/crc32
// computes it).
const castagnoliPoly = 0x82F63B78

// crcCombine returns the CRC-32C of a‖b from crcA = CRC-32C(a), crcB =
// CRC-32C(b) and len(b) (zlib's crc32_combine): a tensor's checksum, which
// passthrough needs, then extends a stream's running checksum without a
// second pass over the data.
func crcCombine(crcA, crcB uint32, lenB int64) uint32 {
	if lenB <= 0 {
		return crcA
	}
	// odd is the operator that appends one zero bit; squaring it doubles
	// the number of zero bits. Apply the operators for the bits of lenB's
	// zero bytes to crcA.
	var even, odd [32]uint32
	odd[0] = castagnoliPoly
	for n, row := 1, uint32(1); n < 32; n, row = n+1, row<<1 {
		odd[n] = row
	}
	gf2Square(&even, &odd) // 2 zero bits
	gf2Square(&odd, &even) // 4 zero bits
	for {
		gf2Square(&even, &odd) // first pass: one zero byte
		if lenB&1 != 0 {
			crcA = gf2Times(&even, crcA)
		}
		if lenB >>= 1; lenB == 0 {
			break
		}
		gf2Square(&odd, &even)
		if lenB&1 != 0 {
			crcA = gf2Times(&odd, crcA)
		}
		if lenB >>= 1; lenB == 0 {
			break
		}
	}
	return crcA ^ crcB
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
