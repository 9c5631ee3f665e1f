package nn

import (
	"runtime"
	"sync"
)

// Workers returns the number of goroutines kernels use when given workers <= 0.
func Workers(workers int) int {
	if workers > 0 {
		return workers
	}
	return runtime.GOMAXPROCS(0)
}

// parallelFor runs fn(i) for i in [0, n) on up to workers goroutines. Job i
// always does the same work whatever the worker count, so callers that
// write disjoint outputs per job stay deterministic.
func parallelFor(n, workers int, fn func(i int)) {
	workers = Workers(workers)
	if workers > n {
		workers = n
	}
	if workers <= 1 {
		for i := 0; i < n; i++ {
			fn(i)
		}
		return
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	next := 0
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				i := next
				next++
				mu.Unlock()
				if i >= n {
					return
				}
				fn(i)
			}
		}()
	}
	wg.Wait()
}

// scratch hands out reusable float32 buffers so that the kernels do not
// allocate on every call.
var scratch sync.Pool

// getBuf returns a buffer of length n (contents undefined).
func getBuf(n int) *[]float32 {
	if p, ok := scratch.Get().(*[]float32); ok && cap(*p) >= n {
		*p = (*p)[:n]
		return p
	}
	b := make([]float32, n)
	return &b
}

// putBuf returns a buffer from getBuf.
func putBuf(p *[]float32) { scratch.Put(p) }

// forBands runs fn for every sample n of a batch of N images H rows high
// and every band [r0, r1) of at most rows rows, as parallelFor jobs: bands
// keep a convolution's padded input and accumulator buffers in cache.
func forBands(N, H, rows, workers int, fn func(n, r0, r1 int)) {
	bands := (H + rows - 1) / rows
	parallelFor(N*bands, workers, func(job int) {
		n, band := job/bands, job%bands
		r0 := band * rows
		fn(n, r0, min(r0+rows, H))
	})
}

// offsets hands out reusable row-offset buffers for gemm's operands.
var offsets sync.Pool

// getOff returns an int buffer of length n (contents undefined).
func getOff(n int) *[]int {
	if p, ok := offsets.Get().(*[]int); ok && cap(*p) >= n {
		*p = (*p)[:n]
		return p
	}
	o := make([]int, n)
	return &o
}

// putOff returns a buffer from getOff.
func putOff(p *[]int) { offsets.Put(p) }
