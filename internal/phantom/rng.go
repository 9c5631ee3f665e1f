package phantom

import (
	"math"
	"math/rand/v2"
)

// mix64 is the splitmix64 finaliser: a cheap, well-spread hash of a 64-bit
// value, used to derive independent seeds from (seed, series, slice).
func mix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// Stream numbers keep the random draws of the different parts of a series
// independent, so that changing, say, the number of decoys does not move
// the nodules.
const (
	streamUID uint64 = iota + 1
	streamGeometry
	streamAnatomy
	streamVessels
	streamNodules
	streamDecoys
	streamNoise
)

// newRand returns the generator of one stream of one series. Series are
// independent of each other, so series i is the same whatever --series is.
func newRand(seed uint64, series int, stream uint64) *rand.Rand {
	return rand.New(rand.NewPCG(mix64(seed^mix64(uint64(series))), mix64(stream^mix64(seed+uint64(series)))))
}

// uniform returns a float uniform in [lo, hi).
func uniform(r *rand.Rand, lo, hi float64) float64 {
	return lo + (hi-lo)*r.Float64()
}

// noiseSource produces approximately Gaussian integer noise very cheaply:
// each value is the sum of four random bytes (an Irwin–Hall distribution,
// within a few per cent of a normal one), scaled to the wanted sigma. A CT
// has ~10⁸ voxels, so per-voxel math/rand calls would dominate the run time.
type noiseSource struct {
	state uint64
	buf   uint64 // unused bits of the last draw
	left  int    // how many 32-bit halves of buf remain
	scale int32  // sigma in HU × 2¹⁶ / 147.8 (the sd of a 4-byte sum)
}

// irwinHallSD is the standard deviation of the sum of four uniform bytes:
// sqrt(4·(256²−1)/12).
const irwinHallSD = 147.80

func newNoise(seed uint64, sigma float64) *noiseSource {
	return &noiseSource{state: seed, scale: int32(math.Round(sigma * 65536 / irwinHallSD))}
}

// next returns one noise value in HU.
func (n *noiseSource) next() int32 {
	if n.left == 0 {
		n.state += 0x9e3779b97f4a7c15
		n.buf = mix64(n.state)
		n.left = 2
	}
	w := uint32(n.buf)
	n.buf >>= 32
	n.left--
	s := int32(w&0xff) + int32(w>>8&0xff) + int32(w>>16&0xff) + int32(w>>24) - 510
	return (s*n.scale + 1<<15) >> 16 // rounded, not floored: no bias
}
