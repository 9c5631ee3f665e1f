package augment

import (
	"runtime"
	"sync"
)

// Normal is the standard normal sample of flat input element e under k
// (stream StreamNoise; see the package doc), the reference every engine's
// noise is checked against.
func Normal(k Key, e uint64) float64 {
	return normals(k, uint32(e>>2))[e&3]
}

// normals returns the four samples of block j: elements 4j … 4j+3.
func normals(k Key, j uint32) [4]float64 {
	w := k.Block(StreamNoise, j)
	n0, n1 := BoxMuller(w[0], w[1])
	n2, n3 := BoxMuller(w[2], w[3])
	return [4]float64{n0, n1, n2, n3}
}

// parallelNoise is the size from which AddNoise splits the work across
// goroutines: below it, starting them costs more than it saves.
const parallelNoise = 1 << 16

// AddNoise adds Gaussian noise of standard deviation sigma to x, the flat
// N×C×H×W input of a batch: x[e] += float32(sigma·Normal(k, e)). Sigma 0
// leaves x as it is. Every element's noise depends on its index alone, so
// the work is split across GOMAXPROCS goroutines with the same result.
func AddNoise(x []float32, k Key, sigma float32) {
	if sigma == 0 {
		return
	}
	parts := 1
	if len(x) >= parallelNoise {
		parts = runtime.GOMAXPROCS(0)
	}
	// Chunks of whole blocks, so that each block is drawn once.
	chunk := ((len(x)+parts-1)/parts + 3) &^ 3
	var wg sync.WaitGroup
	for lo := 0; lo < len(x); lo += chunk {
		wg.Go(func() { addNoise(x[lo:min(lo+chunk, len(x))], k, float64(sigma), lo) })
	}
	wg.Wait()
}

// noiseChunk is how many blocks addNoise draws at a time.
const noiseChunk = 64

// addNoise adds σ·n(e) to x[e − first] for the elements from first on, a
// multiple of 4, drawing the blocks noiseChunk at a time.
func addNoise(x []float32, k Key, sigma float64, first int) {
	var w [4][noiseChunk]uint32
	var n [4][noiseChunk]float64
	for j := 0; j < len(x); j += 4 * noiseChunk {
		nb := min(noiseChunk, (len(x)-j+3)/4)
		philoxBlocks(k, StreamNoise, uint32((first+j)>>2), &w, nb)
		boxMullers(w[0][:nb], w[1][:nb], n[0][:nb], n[1][:nb])
		boxMullers(w[2][:nb], w[3][:nb], n[2][:nb], n[3][:nb])
		xs := x[j:min(j+4*nb, len(x))]
		for e := range xs {
			xs[e] += float32(sigma * n[e&3][e>>2])
		}
	}
}

// philoxBlocks sets w[i][l] to word i of block j0+l of stream under k,
// for l < nb.
func philoxBlocks(k Key, stream, j0 uint32, w *[4][noiseChunk]uint32, nb int) {
	l := 0
	if noiseAsm && nb >= 8 {
		l = nb &^ 7
		ctr := [4]uint32{j0, stream, uint32(k.Step), uint32(k.Step >> 32)}
		key := [2]uint32{uint32(k.Seed), uint32(k.Seed >> 32)}
		philoxAVX2(&w[0][0], noiseChunk, &ctr, &key, l)
	}
	for ; l < nb; l++ {
		b := k.Block(stream, j0+uint32(l))
		w[0][l], w[1][l], w[2][l], w[3][l] = b[0], b[1], b[2], b[3]
	}
}

// boxMullers sets s[i], c[i] = BoxMuller(a[i], b[i]).
func boxMullers(a, b []uint32, s, c []float64) {
	i := 0
	if noiseAsm && len(a) >= 4 {
		i = len(a) &^ 3
		boxMullerAVX2(&a[0], &b[0], &s[0], &c[0], i)
	}
	for ; i < len(a); i++ {
		s[i], c[i] = BoxMuller(a[i], b[i])
	}
}
