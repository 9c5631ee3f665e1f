package readahead

import (
	"context"
	"errors"
	"io"
	"sync/atomic"
	"testing"
	"time"
)

// counter produces 0, 1, 2, … and then err after n items, counting the
// calls.
func counter(n int, err error, calls *atomic.Int64) func(context.Context) (int, error) {
	i := 0
	return func(context.Context) (int, error) {
		calls.Add(1)
		if i == n {
			return 0, err
		}
		i++
		return i - 1, nil
	}
}

func TestOrderAndError(t *testing.T) {
	bad := errors.New("bad record")
	for _, depth := range []int{0, 1, 3} {
		var calls atomic.Int64
		r := Start(depth, counter(5, bad, &calls))
		for want := range 5 {
			v, err := r.Next()
			if v != want || err != nil {
				t.Fatalf("depth %d: item %d = %d, %v", depth, want, v, err)
			}
		}
		for range 2 { // the error, and again
			if _, err := r.Next(); err != bad {
				t.Errorf("depth %d: err %v, want %v", depth, err, bad)
			}
		}
		r.Stop()
		r.Stop()
		if n := calls.Load(); n != 6 {
			t.Errorf("depth %d: produce called %d times after its error, want 6 calls in all", depth, n)
		}
	}
}

func TestEOF(t *testing.T) {
	var calls atomic.Int64
	r := Start(1, counter(0, io.EOF, &calls))
	defer r.Stop()
	if _, err := r.Next(); err != io.EOF {
		t.Errorf("err %v, want EOF", err)
	}
}

// TestAhead checks that the producer runs depth items ahead of the
// consumer, and no further.
func TestAhead(t *testing.T) {
	for _, depth := range []int{1, 2, 4} {
		var calls atomic.Int64
		r := Start(depth, counter(100, io.EOF, &calls))
		for taken := range 3 {
			// Give the producer every chance to run further ahead.
			deadline := time.Now().Add(time.Second)
			for calls.Load() < int64(taken+depth) && time.Now().Before(deadline) {
				time.Sleep(time.Millisecond)
			}
			time.Sleep(10 * time.Millisecond)
			if n := calls.Load(); n != int64(taken+depth) {
				t.Errorf("depth %d, %d taken: produce called %d times, want %d", depth, taken, n, taken+depth)
			}
			if v, err := r.Next(); v != taken || err != nil {
				t.Fatalf("depth %d: item %d = %d, %v", depth, taken, v, err)
			}
		}
		r.Stop()
	}
}

// TestStopWaits: Stop ends a producer blocked on the consumer and one
// waiting on its context, and returns only once the goroutine has.
func TestStopWaits(t *testing.T) {
	var running atomic.Bool
	waiting := make(chan struct{})
	r := Start(1, func(ctx context.Context) (int, error) {
		running.Store(true)
		defer running.Store(false)
		select {
		case waiting <- struct{}{}:
		default:
		}
		<-ctx.Done() // like waiting for a buffer the consumer will never free
		return 0, ctx.Err()
	})
	<-waiting
	r.Stop()
	if running.Load() {
		t.Error("Stop returned while produce still ran")
	}

	var calls atomic.Int64
	r = Start(1, counter(100, io.EOF, &calls))
	if v, err := r.Next(); v != 0 || err != nil {
		t.Fatalf("first item %d, %v", v, err)
	}
	r.Stop() // the producer is blocked handing over item 1
	n := calls.Load()
	time.Sleep(10 * time.Millisecond)
	if calls.Load() != n {
		t.Error("produce called after Stop returned")
	}
}
