package phantom

import (
	"math"
	"math/rand/v2"
)

// texture is a smooth random field (a few plane waves of 15–60 mm
// wavelength, ±25 HU in all) that makes the lung parenchyma uneven, as
// real lungs are, rather than one flat value plus white noise.
type texture struct {
	waves [4]wave
}

// wave is amp·cos(k·p + phase), k in radians per mm.
type wave struct {
	k          [3]float64
	amp, phase float64
}

func newTexture(r *rand.Rand, size float64) texture {
	var t texture
	for i := range t.waves {
		dir := normalize([3]float64{r.NormFloat64(), r.NormFloat64(), r.NormFloat64()})
		lambda := uniform(r, 15, 60) * math.Max(size, 0.3)
		t.waves[i] = wave{k: scale(dir, 2*math.Pi/lambda), amp: uniform(r, 3, 8), phase: uniform(r, 0, 2*math.Pi)}
	}
	return t
}

// row adds the field along image row y of the slice at height z (mm) to
// dst, one value per column, with pixels mm wide. Each wave advances by a
// rotation per column instead of a cos call per pixel.
func (t *texture) row(dst []float32, y, z, mm float64) {
	for _, w := range t.waves {
		ph := w.k[1]*y*mm + w.k[2]*z + w.phase
		c, s := math.Cos(ph), math.Sin(ph)
		dc, ds := math.Cos(w.k[0]*mm), math.Sin(w.k[0]*mm)
		for x := range dst {
			dst[x] += float32(w.amp * c)
			c, s = c*dc-s*ds, s*dc+c*ds
		}
	}
}
