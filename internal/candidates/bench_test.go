package candidates

import (
	"math/rand/v2"
	"sync"
	"testing"
)

var benchCT struct {
	once   sync.Once
	shape  [3]int
	hu     []int16
	logits []float32
	pos    float64 // fraction of voxels with a positive logit
}

// makeBenchCT builds a 250×512×512 CT with about 1,000 ellipsoidal blobs of
// positive logits (a few % of the voxels) in a background of negative
// logits, plus scattered single positive voxels.
func makeBenchCT() {
	d, h, w := 250, 512, 512
	rng := rand.New(rand.NewPCG(7, 8))
	hu := make([]int16, d*h*w)
	logits := make([]float32, d*h*w)
	for i := range logits {
		hu[i] = int16(-900 + rng.IntN(400))
		logits[i] = -4 - 4*rng.Float32()
		if rng.IntN(500) == 0 {
			logits[i] = 3
		}
	}
	for b := 0; b < 1000; b++ {
		cz, cy, cx := rng.Float64()*float64(d), rng.Float64()*float64(h), rng.Float64()*float64(w)
		rz, ry, rx := 3+rng.Float64()*6, 4+rng.Float64()*10, 4+rng.Float64()*10
		amp := float32(2 + rng.Float64()*30)
		for z := max(0, int(cz-rz)); z <= min(d-1, int(cz+rz)); z++ {
			for y := max(0, int(cy-ry)); y <= min(h-1, int(cy+ry)); y++ {
				for x := max(0, int(cx-rx)); x <= min(w-1, int(cx+rx)); x++ {
					fz, fy, fx := (float64(z)-cz)/rz, (float64(y)-cy)/ry, (float64(x)-cx)/rx
					if q := fz*fz + fy*fy + fx*fx; q < 1 {
						i := (z*h+y)*w + x
						logits[i] = amp * float32(1.1-q)
						hu[i] = int16(-100 + 200*q)
					}
				}
			}
		}
	}
	n := 0
	for _, x := range logits {
		if x > 0 {
			n++
		}
	}
	benchCT.shape, benchCT.hu, benchCT.logits = [3]int{d, h, w}, hu, logits
	benchCT.pos = float64(n) / float64(len(logits))
}

// BenchmarkGroup groups a 250×512×512 CT fed slice by slice. SetBytes
// counts the input (6 bytes a voxel: HU and logit); B/op is all the memory
// the grouping allocates, a bound on its extra working set.
func BenchmarkGroup(b *testing.B) {
	benchCT.once.Do(makeBenchCT)
	s := benchCT.shape
	b.SetBytes(int64(s[0] * s[1] * s[2] * 6))
	b.ReportAllocs()
	var n int
	for b.Loop() {
		c, err := Group(s, unitGeom(), benchCT.hu, benchCT.logits, DefaultThreshold)
		if err != nil {
			b.Fatal(err)
		}
		n = len(c)
	}
	b.ReportMetric(float64(n), "candidates")
	b.ReportMetric(100*benchCT.pos, "%positive")
}
