package augment

import "math"

// Affine is a 2-D affine transform of the normalised [−1, 1] sampling
// grid, F.affine_grid's 2×3 theta in row-major order: an output pixel at
// (x, y) samples the input at (θ0·x + θ1·y + θ2, θ3·x + θ4·y + θ5), x
// running along the width. Float32, as the book and a GPU kernel hold it.
type Affine [6]float32

// Identity is the transform that leaves a batch as it is.
var Identity = Affine{1, 0, 0, 0, 1, 0}

// Finite reports whether every coefficient is a finite number.
func (a Affine) Finite() bool {
	for _, v := range a {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return false
		}
	}
	return true
}

// The SPEC's augmentation sizes, those of the book's --augmented.
const (
	BookOffset = 0.03 // maximal translation, normalised grid units
	BookScale  = 0.2  // maximal relative change of scale per axis
	BookNoise  = 25   // σ of the input noise, HU
)

// Config selects the parts of the augmentation (segtrain's
// --augment-flip, -offset, -scale, -rotate and -noise flags). A zero size
// switches its part off.
type Config struct {
	Flip   bool    // mirror each axis with probability ½
	Offset float64 // translate each axis by Offset·u, u ∈ [−1, 1)
	Scale  float64 // scale each axis by 1 + Scale·u, u ∈ [−1, 1)
	Rotate bool    // rotate by an angle uniform in [0, 2π)
	Noise  float32 // σ of the Gaussian noise added to the input, HU
}

// Augmented is every part at the SPEC's size: segtrain's --augmented.
var Augmented = Config{Flip: true, Offset: BookOffset, Scale: BookScale, Rotate: true, Noise: BookNoise}

// TransformWords returns the eight words w0…w7 of the transform of k,
// blocks 0 and 1 of stream StreamTransform.
func TransformWords(k Key) [8]uint32 {
	a, b := k.Block(StreamTransform, 0), k.Block(StreamTransform, 1)
	return [8]uint32{a[0], a[1], a[2], a[3], b[0], b[1], b[2], b[3]}
}

// Transform returns the batch's random transform for key k, composed as
// the package doc says; Identity when no geometric part is on.
func (c Config) Transform(k Key) Affine {
	w := TransformWords(k)
	var diag, off [2]float64
	for i := range 2 {
		diag[i] = 1
		if c.Flip && Float64(w[i]) > 0.5 {
			diag[i] = -1
		}
		off[i] = c.Offset * symmetric(w[2+i])
		diag[i] *= 1 + c.Scale*symmetric(w[4+i])
	}
	sin, cos := 0.0, 1.0
	if c.Rotate {
		sin, cos = math.Sincos(2 * math.Pi * Float64(w[6]))
	}
	// The first two rows of T·R (the book's transform_t @= rotation_t).
	return Affine{
		float32(diag[0] * cos), float32(-diag[0] * sin), float32(off[0]),
		float32(diag[1] * sin), float32(diag[1] * cos), float32(off[1]),
	}
}

// symmetric maps a word to [−1, 1) as the book's random.random()*2 − 1.
func symmetric(x uint32) float64 { return 2*Float64(x) - 1 }
