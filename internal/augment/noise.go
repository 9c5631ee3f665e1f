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

// addNoise adds σ·n(e) to x[e − first] for the elements from first on, a
// multiple of 4.
func addNoise(x []float32, k Key, sigma float64, first int) {
	for j := 0; j < len(x); j += 4 {
		n := normals(k, uint32((first+j)>>2))
		for i := range min(4, len(x)-j) {
			x[j+i] += float32(sigma * n[i])
		}
	}
}
