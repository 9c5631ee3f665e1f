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

// slicePool hands out reusable slices so that the kernels do not allocate
// on every call.
type slicePool[T any] struct{ p sync.Pool }

// get returns a slice of length n (contents undefined).
func (q *slicePool[T]) get(n int) *[]T {
	if p, ok := q.p.Get().(*[]T); ok && cap(*p) >= n {
		*p = (*p)[:n]
		return p
	}
	b := make([]T, n)
	return &b
}

// put returns a slice from get.
func (q *slicePool[T]) put(p *[]T) { q.p.Put(p) }

// floats are the kernels' scratch buffers; offsets the row offsets of
// gemm's operands.
var (
	floats  slicePool[float32]
	offsets slicePool[int]
)

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
