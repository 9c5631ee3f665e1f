package augment

import "math/bits"

// Philox4x32-10's multipliers and Weyl key increments (Salmon et al.
// 2011, Random123's PHILOX_M4x32_* and PHILOX_W32_*).
const (
	philoxM0 = 0xD2511F53
	philoxM1 = 0xCD9E8D57
	philoxW0 = 0x9E3779B9
	philoxW1 = 0xBB67AE85
)

// Philox4x32 is Philox4x32-10: ten rounds of the Philox bijection of the
// 128-bit counter ctr under the 64-bit key, as Random123's philox4x32 and
// cuRAND's curand_Philox4x32_10 compute it.
func Philox4x32(ctr [4]uint32, key [2]uint32) [4]uint32 {
	for r := 0; r < 10; r++ {
		if r > 0 {
			key[0] += philoxW0
			key[1] += philoxW1
		}
		hi0, lo0 := bits.Mul32(philoxM0, ctr[0])
		hi1, lo1 := bits.Mul32(philoxM1, ctr[2])
		ctr = [4]uint32{hi1 ^ ctr[1] ^ key[0], lo1, hi0 ^ ctr[3] ^ key[1], lo0}
	}
	return ctr
}

// Key names the random numbers of one training step: the run's seed and
// the step's number. Equal keys give equal numbers on every engine.
type Key struct {
	Seed, Step uint64
}

// The streams of a key, the counter's second word (see the package doc).
const (
	StreamNoise     uint32 = 0 // the input noise, block j for elements 4j…4j+3
	StreamTransform uint32 = 1 // the batch's transform, blocks 0 and 1
)

// Block returns the four words of block index of a stream: Philox4x32 of
// counter (index, stream, step mod 2³², step >> 32) under key
// (seed mod 2³², seed >> 32).
func (k Key) Block(stream, index uint32) [4]uint32 {
	return Philox4x32(
		[4]uint32{index, stream, uint32(k.Step), uint32(k.Step >> 32)},
		[2]uint32{uint32(k.Seed), uint32(k.Seed >> 32)})
}

// twoM32 is 2⁻³².
const twoM32 = 1.0 / (1 << 32)

// Float64 maps a word uniformly to [0, 1): x·2⁻³², exact in float64.
func Float64(x uint32) float64 { return float64(x) * twoM32 }

// Float32 maps a word uniformly to [0, 1) with 24 bits: (x >> 8)·2⁻²⁴,
// exact in float32.
func Float32(x uint32) float32 { return float32(x>>8) * (1.0 / (1 << 24)) }
