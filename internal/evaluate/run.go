package evaluate

import (
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/ctseg/ctseg/format"
	"github.com/ctseg/ctseg/internal/candidates"
	"github.com/ctseg/ctseg/internal/froc"
	"github.com/ctseg/ctseg/internal/train"
	"github.com/ctseg/ctseg/internal/unet"
)

// RecordSource yields records until io.EOF (cliutil.Input, a
// format.Reader). When it also has Recycle(format.Record) (cliutil.Input),
// each slice is handed back once scored.
type RecordSource interface {
	Next() (format.Record, error)
}

type recycler interface{ Recycle(format.Record) }

// Run evaluates the model of o.Model on the slices src yields (where
// names the record src returned last, for errors) and writes the outputs
// the options ask for.
func Run(o Options, src RecordSource, where func() string) (*Result, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	eng, meta, err := LoadEngine(o.Model, o.Device, o.Threads)
	if err != nil {
		return nil, err
	}
	defer eng.Close()
	if o.Log != nil && !o.Quiet {
		desc := ""
		if meta.Epoch > 0 || meta.SamplesSeen > 0 {
			desc = fmt.Sprintf(" (epoch %d, %d samples)", meta.Epoch, meta.SamplesSeen)
		}
		fmt.Fprintf(o.Log, "Evaluating %s%s on %s, probability threshold %g\n", o.Model, desc, eng.Info().Name, o.Threshold)
	}
	return RunEngine(o, eng, src, where)
}

// RunEngine is Run with the model's engine given (o.Model only names it).
// The slices are read, predicted and scored in three goroutines, a batch
// at a time, so that reading, the model and the scoring overlap.
func RunEngine(o Options, eng unet.Engine, src RecordSource, where func() string) (*Result, error) {
	if o.Log == nil {
		o.Log = io.Discard
	}
	if err := o.check(); err != nil {
		return nil, err
	}
	if o.BatchSize == 0 {
		o.BatchSize = DefaultBatchSize(o.Device)
	}
	ev := &evaluator{o: o, eng: eng, cfg: eng.Config(), threshold: float32(o.Threshold), top: topSlices{n: o.ReportTop}}
	if o.Report == "" {
		ev.top.n = 0
	}
	var err error
	if o.CandidatesOut != "" {
		if ev.sub, err = CreateSubmission(o.CandidatesOut); err != nil {
			return nil, err
		}
		defer ev.sub.Abort()
	}
	if rc, ok := src.(recycler); ok {
		ev.recycle = rc.Recycle
	}
	if err := ev.pipeline(src, where); err != nil {
		return nil, err
	}
	res, err := ev.finish()
	if err != nil {
		return nil, err
	}
	if ev.sub != nil {
		if err := ev.sub.Commit(); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// evaluator is one evaluation in progress.
type evaluator struct {
	o         Options
	eng       unet.Engine
	cfg       unet.Config
	threshold float32
	recycle   func(format.Record)
	sub       *Submission

	// The scoring goroutine's state.
	pooled   train.Tally
	res      Result
	cur      *seriesState
	marks    []froc.Mark
	scans    []string
	nodules  NoduleRecall
	nCands   int
	nMarks   int
	top      topSlices
	slices   int
	labelled int
}

// seriesState is the series being scored.
type seriesState struct {
	r       SeriesResult
	grouper *candidates.Grouper
	nodules []candidates.Nodule
	last    arrival // of its last slice
	index   int     // its last slice
	depth   int     // its CT's slices, 0 without a CT
	n       int     // slices so far
}

// batch is a few consecutive slices of one size and what the model made
// of them.
type batch struct {
	slices []*format.Slice
	arr    []arrival
	input  []float32
	pred   unet.Prediction
}

// pipeline reads (this goroutine), predicts and scores (one goroutine
// each); the first error stops all three.
func (ev *evaluator) pipeline(src RecordSource, where func() string) error {
	toPredict, toScore := make(chan *batch, 1), make(chan *batch, 1)
	done := make(chan struct{})
	var (
		once     sync.Once
		firstErr error
		wg       sync.WaitGroup
	)
	fail := func(err error) {
		once.Do(func() { firstErr = err; close(done) })
	}
	wg.Add(2)
	go func() {
		defer wg.Done()
		defer close(toScore)
		for b := range toPredict {
			p, err := ev.eng.Predict(unet.Batch{N: len(b.slices), H: b.slices[0].Shape[1], W: b.slices[0].Shape[2], Input: b.input})
			if err != nil {
				fail(fmt.Errorf("%s: %w", b.arr[0].where, err))
				return
			}
			b.pred, b.input = p, nil
			select {
			case toScore <- b:
			case <-done:
				return
			}
		}
	}()
	go func() {
		defer wg.Done()
		for b := range toScore {
			if err := ev.score(b); err != nil {
				fail(err)
				return
			}
		}
		select {
		case <-done:
		default:
			if err := ev.endSeries(); err != nil {
				fail(err)
			}
		}
	}()
	if err := ev.read(src, where, toPredict, done); err != nil {
		fail(err)
	}
	close(toPredict)
	wg.Wait()
	return firstErr
}

// read reads the slices, checks them and their order, and sends them on
// in batches of up to BatchSize slices of one size.
func (ev *evaluator) read(src RecordSource, where func() string, out chan<- *batch, done <-chan struct{}) error {
	ord := newOrder(ev.o.Candidates())
	var b *batch
	send := func() bool {
		if b == nil {
			return true
		}
		select {
		case out <- b:
			b = nil
			return true
		case <-done:
			return false
		}
	}
	for {
		rec, err := src.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		s, ok := rec.(*format.Slice)
		if !ok {
			return fmt.Errorf("%s: %s record, want a slice (crop --val's output)", where(), rec.Kind())
		}
		if err := train.CheckSlice(s, ev.cfg); err != nil {
			return fmt.Errorf("%s: series %s slice %d: %w", where(), s.SeriesUID, s.SliceIndex, err)
		}
		a, err := ord.add(s, where())
		if err != nil {
			return err
		}
		if b != nil && (len(b.slices) == ev.o.BatchSize || b.slices[0].Shape != s.Shape) && !send() {
			return nil
		}
		if b == nil {
			b = &batch{}
		}
		b.slices, b.arr = append(b.slices, s), append(b.arr, a)
		for _, v := range s.HU {
			b.input = append(b.input, float32(v))
		}
	}
	if err := ord.end(); err != nil {
		return err
	}
	send()
	return nil
}

// score scores a predicted batch, slice by slice.
func (ev *evaluator) score(b *batch) error {
	for i, s := range b.slices {
		n := s.Shape[1] * s.Shape[2]
		if err := ev.scoreSlice(s, b.arr[i], b.pred.Prob[i*n:(i+1)*n], b.pred.Logits[i*n:(i+1)*n]); err != nil {
			return err
		}
		if ev.recycle != nil {
			ev.recycle(s)
		}
	}
	return nil
}
