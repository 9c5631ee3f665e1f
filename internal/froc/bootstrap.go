package froc

import (
	"math"
	"math/bits"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
)

// Bootstrap is the script's computeFROC_bootstrap: Resamples draws of the
// scans with replacement, each scored as a whole evaluation (every drawn
// scan with all its findings and marks, a scan drawn twice counting twice,
// the FPs per scan still divided by the number of scans).
type Bootstrap struct {
	Resamples  int
	Seed       uint64
	Confidence float64
	// FPsPerScan are the rates every resampled curve is read at:
	// numpy.linspace(1/8, 8, 10000), as in the script.
	FPsPerScan []float64
	// Mean, Lower and Upper are, at each of FPsPerScan, the mean of the
	// resampled sensitivities and the values at ⌊Pz·N⌋ and ⌊(1−Pz)·N⌋ of
	// them sorted (N resamples, Pz = (1−Confidence)/2), in float32 as the
	// script keeps them.
	Mean, Lower, Upper []float32
	// Sensitivity and CPM are the same statistics, in float64, of the
	// resampled curves read at OperatingPoints and of their CPM (the
	// script reports no such intervals).
	Sensitivity [7]Interval
	CPM         Interval
}

// Interval is a bootstrap mean and its confidence interval.
type Interval struct{ Mean, Lower, Upper float64 }

// bootstrapPoints is the number of points of the script's bootstrap bands.
const bootstrapPoints = 10000

// bootstrap resamples the scans of entries (scans in all).
func bootstrap(entries []entry, scans int, opt Options) *Bootstrap {
	b := &Bootstrap{Resamples: opt.Resamples, Seed: opt.Seed, Confidence: opt.Confidence,
		FPsPerScan: linspace(OperatingPoints[0], OperatingPoints[6], bootstrapPoints)}
	weights := drawResamples(opt.Resamples, scans, opt.Seed)
	lesions := make([]int, scans)
	for _, e := range entries {
		if e.positive {
			lesions[e.scan]++
		}
	}
	sorted := rocEntries(entries)
	sens := make([]float32, opt.Resamples*bootstrapPoints) // resample-major
	ops := make([][len(OperatingPoints) + 1]float64, opt.Resamples)
	parallelFor(opt.Resamples, func(r int) {
		w := weights[r]
		n := 0
		for s, k := range w {
			n += k * lesions[s]
		}
		c := frocCurve(clfCurve(sorted, w), float64(n), scans)
		row := sens[r*bootstrapPoints : (r+1)*bootstrapPoints]
		for k, fp := range b.FPsPerScan {
			row[k] = float32(c.SensitivityAt(fp))
		}
		s, cpm := operatingPoints(c)
		copy(ops[r][:], s[:])
		ops[r][len(s)] = cpm
	})
	b.bands(sens)
	b.intervals(ops)
	return b
}

// bands sets Mean, Lower and Upper from the resampled sensitivities.
func (b *Bootstrap) bands(sens []float32) {
	n := b.Resamples
	lo, hi := ciIndices(b.Confidence, n)
	b.Mean = make([]float32, bootstrapPoints)
	b.Lower = make([]float32, bootstrapPoints)
	b.Upper = make([]float32, bootstrapPoints)
	parallelFor(bootstrapPoints, func(k int) {
		col := make([]float32, n)
		for r := range col {
			col[r] = sens[r*bootstrapPoints+k]
		}
		slices.Sort(col)
		b.Mean[k] = float32(float64(pairwiseSum32(col)) / float64(n))
		b.Lower[k], b.Upper[k] = col[lo], col[hi]
	})
}

// intervals sets Sensitivity and CPM from the resamples' operating points.
func (b *Bootstrap) intervals(ops [][len(OperatingPoints) + 1]float64) {
	lo, hi := ciIndices(b.Confidence, len(ops))
	col := make([]float64, len(ops))
	for k := range len(OperatingPoints) + 1 {
		sum := 0.0
		for r := range ops {
			col[r] = ops[r][k]
			sum += col[r]
		}
		slices.Sort(col)
		iv := Interval{Mean: sum / float64(len(col)), Lower: col[lo], Upper: col[hi]}
		if k < len(OperatingPoints) {
			b.Sensitivity[k] = iv
		} else {
			b.CPM = iv
		}
	}
}

// ciIndices are the script's interval positions in n sorted values:
// ⌊Pz·n⌋ and ⌊(1−Pz)·n⌋ with Pz = (1−confidence)/2, computed in float64
// as Python does (for 0.95 and 1000: 25 and 975).
func ciIndices(confidence float64, n int) (lo, hi int) {
	pz := (1.0 - confidence) / 2.0
	lo = int(math.Floor(pz * float64(n)))
	hi = min(int(math.Floor((1.0-pz)*float64(n))), n-1)
	return lo, hi
}

// drawResamples draws, for each resample, scans indices uniformly with
// replacement and returns how many times each scan was drawn.
func drawResamples(resamples, scans int, seed uint64) [][]int {
	rng := splitMix64{state: seed}
	out := make([][]int, resamples)
	for r := range out {
		w := make([]int, scans)
		for range scans {
			w[rng.intn(scans)]++
		}
		out[r] = w
	}
	return out
}

// splitMix64 is Steele, Lea and Flood's SplitMix64 generator: simple
// enough to be reproduced in Python (tools/luna16/froc_fixture.py), which
// numpy's Mersenne Twister stream is not without numpy itself.
type splitMix64 struct{ state uint64 }

// next returns the next 64 random bits.
func (g *splitMix64) next() uint64 {
	g.state += 0x9e3779b97f4a7c15
	z := g.state
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

// intn returns a number in [0, n): the high word of next()·n (Lemire's
// multiply-shift, whose bias of under n/2⁶⁴ does not matter here).
func (g *splitMix64) intn(n int) int {
	hi, _ := bits.Mul64(g.next(), uint64(n))
	return int(hi)
}

// pairwiseSum32 sums in float32 as numpy's pairwise summation does (blocks
// of 128 with eight accumulators), so that the bootstrap mean is numpy's
// np.average of the float32 column to the bit.
func pairwiseSum32(a []float32) float32 {
	n := len(a)
	switch {
	case n < 8:
		var s float32
		for _, v := range a {
			s += v
		}
		return s
	case n <= 128:
		var r [8]float32
		copy(r[:], a[:8])
		i := 8
		for ; i < n-n%8; i += 8 {
			for j := range r {
				r[j] += a[i+j]
			}
		}
		s := ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
		for ; i < n; i++ {
			s += a[i]
		}
		return s
	}
	n2 := n / 2
	n2 -= n2 % 8
	return pairwiseSum32(a[:n2]) + pairwiseSum32(a[n2:])
}

// parallelFor runs f(0) … f(n-1) on all CPUs.
func parallelFor(n int, f func(i int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				f(i)
			}
		}()
	}
	wg.Wait()
}
