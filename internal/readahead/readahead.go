// Package readahead runs a producer on its own goroutine a fixed number of
// items ahead of its consumer, so that reading the next item (decoding a
// record, reading a file) overlaps the work on the current one.
package readahead

import (
	"context"
	"sync"
)

// Reader hands out, in order, the items a producer makes on its own
// goroutine. Next and Stop are for one consumer goroutine.
type Reader[T any] struct {
	items  chan item[T]
	cancel context.CancelFunc
	done   chan struct{} // closed when the goroutine has returned
	stop   sync.Once
	err    error // the error that ended the items, once Next has returned it
}

type item[T any] struct {
	v   T
	err error
}

// Start calls produce again and again on a new goroutine, keeping up to
// depth items (at least 1) made and not yet taken by Next. The first
// error produce returns (io.EOF, by convention, at the end) is the last
// thing it is asked for: Next returns it after every item made before it.
// produce is given a context that is cancelled by Stop, for it to give up
// waiting (for a free buffer, say); what it returns then is dropped.
func Start[T any](depth int, produce func(ctx context.Context) (T, error)) *Reader[T] {
	ctx, cancel := context.WithCancel(context.Background())
	r := &Reader[T]{items: make(chan item[T], max(depth, 1)-1), cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(r.done)
		defer close(r.items)
		for {
			v, err := produce(ctx)
			select {
			case r.items <- item[T]{v, err}:
			case <-ctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()
	return r
}

// Next returns the next item, or the error that ended them; it returns
// that error again on every later call. It is not for use after Stop.
func (r *Reader[T]) Next() (T, error) {
	if r.err == nil {
		it, ok := <-r.items
		if ok {
			r.err = it.err
			return it.v, it.err
		}
		r.err = context.Canceled // only after Stop
	}
	var zero T
	return zero, r.err
}

// Stop cancels the producer's context and waits for its goroutine to
// return, after which whatever produce reads from (an input stream, a
// list) may be closed. It may be called more than once, and after the
// items have ended.
func (r *Reader[T]) Stop() {
	r.stop.Do(r.cancel)
	<-r.done
}
