package unet

import (
	"fmt"
	"runtime"

	"github.com/ctseg/ctseg/internal/nn"
	"github.com/ctseg/ctseg/internal/tensors"
)

// CPU is the Engine that runs the model on the CPU as gorgonia graphs of
// custom operations (internal/nn kernels). It keeps one compiled graph per
// mode, rebuilt when the input shape changes. Not safe for concurrent use.
type CPU struct {
	model   *Model
	adam    *Adam
	workers int
	train   *net
	eval    *net
	closed  bool
}

var (
	_ Tracer    = (*CPU)(nil)
	_ Augmenter = (*CPU)(nil)
)

// NewCPU returns a CPU engine over m (whose weights it updates in place)
// with a fresh Adam; workers <= 0 means GOMAXPROCS goroutines. Every
// reduction runs in an order fixed by the shapes, so results are
// bit-for-bit the same for any worker count.
func NewCPU(m *Model, opt AdamConfig, workers int) *CPU {
	return &CPU{model: m, adam: NewAdam(m, opt), workers: nn.Workers(workers)}
}

// Model returns the engine's model.
func (e *CPU) Model() *Model { return e.model }

// Config is the model's configuration.
func (e *CPU) Config() Config { return e.model.Config }

// Info says that the CPU engine is deterministic.
func (e *CPU) Info() Info { return Info{Name: "cpu", Deterministic: true} }

// Close lets the compiled graphs go; see Engine.
func (e *CPU) Close() error {
	e.drop(&e.train)
	e.drop(&e.eval)
	e.closed = true
	return nil
}

// drop closes a compiled graph and forgets it.
func (e *CPU) drop(cur **net) {
	if *cur != nil {
		(*cur).vm.Close()
		// The tape machine has a finalizer and the graph's op closures
		// point back to it: a cycle with a finalizer is never collected.
		runtime.SetFinalizer((*cur).vm, nil)
		*cur = nil
	}
}

// graph returns the compiled net for the shape and mode, building it if
// needed.
func (e *CPU) graph(n, h, w int, train bool) (*net, error) {
	if e.closed {
		return nil, ErrClosed
	}
	cur := &e.eval
	if train {
		cur = &e.train
	}
	if *cur != nil && (*cur).n == n && (*cur).h == h && (*cur).w == w {
		return *cur, nil
	}
	// Let the old graph's buffers go before building the new one.
	e.drop(cur)
	nt, err := buildNet(e.model, n, h, w, train, e.workers)
	if err != nil {
		return nil, err
	}
	*cur = nt
	return nt, nil
}

// pass is what a training graph run leaves: the gradients and output
// (views of graph buffers, valid until the next run), the labels it was
// scored against and the loss.
type pass struct {
	grads map[string][]float32
	prob  []float32
	label []float32
	loss  Loss
}

// forwardBackward runs the training graph on b, augmenting a batch of
// windows into the graph's input and label buffers.
func (e *CPU) forwardBackward(b Batch) (pass, error) {
	if err := b.Check(e.model.Config, true); err != nil {
		return pass{}, err
	}
	nt, err := e.graph(b.N, b.H, b.W, true)
	if err != nil {
		return pass{}, err
	}
	if b.Augmented() {
		augmentInto(nt.input, nt.label, b)
	} else {
		copy(nt.input, b.Input)
		copy(nt.label, b.Label)
	}
	defer nt.vm.Reset()
	if err := nt.vm.RunAll(); err != nil {
		return pass{}, fmt.Errorf("unet: training step: %w", err)
	}
	grads := make(map[string][]float32, len(nt.grads))
	for name, g := range nt.grads {
		v := g.Value()
		if v == nil {
			return pass{}, fmt.Errorf("unet: no gradient computed for %q", name)
		}
		d, ok := v.Data().([]float32)
		if !ok {
			return pass{}, fmt.Errorf("unet: gradient of %q is %T", name, v.Data())
		}
		grads[name] = d
	}
	return pass{grads: grads, prob: nt.prob.out, label: nt.label, loss: nt.loss}, nil
}

// TrainStep runs one training step; see Engine.
func (e *CPU) TrainStep(b Batch) (StepResult, error) {
	res, _, err := e.step(b, false)
	return res, err
}

// TraceStep is TrainStep with its intermediate values; see Tracer.
func (e *CPU) TraceStep(b Batch) (StepResult, StepTrace, error) {
	return e.step(b, true)
}

// step runs one training step and, when trace is set, copies out the
// output and gradients before Adam moves on.
func (e *CPU) step(b Batch, trace bool) (StepResult, StepTrace, error) {
	p, err := e.forwardBackward(b)
	if err != nil {
		return StepResult{}, StepTrace{}, err
	}
	res := StepResult{Loss: p.loss.Total, DiceLoss: p.loss.DiceLoss, Metrics: CountPixels(p.prob, p.label, 0.5)}
	var tr StepTrace
	if trace {
		tr = StepTrace{Prob: append([]float32(nil), p.prob...), Grads: make(map[string][]float32, len(p.grads))}
		for name, g := range p.grads {
			tr.Grads[name] = append([]float32(nil), g...)
		}
	}
	if err := e.adam.Step(p.grads); err != nil {
		return StepResult{}, StepTrace{}, err
	}
	return res, tr, nil
}

// Predict runs the evaluation graph; see Engine.
func (e *CPU) Predict(b Batch) (Prediction, error) {
	if err := b.Check(e.model.Config, false); err != nil {
		return Prediction{}, err
	}
	nt, err := e.graph(b.N, b.H, b.W, false)
	if err != nil {
		return Prediction{}, err
	}
	copy(nt.input, b.Input)
	defer nt.vm.Reset()
	if err := nt.vm.RunAll(); err != nil {
		return Prediction{}, fmt.Errorf("unet: prediction: %w", err)
	}
	return Prediction{Prob: append([]float32(nil), nt.prob.out...), Logits: append([]float32(nil), nt.logits.out...)}, nil
}

// StateDict returns the model's state_dict plus the Adam state.
func (e *CPU) StateDict() (tensors.Dict, error) {
	if e.closed {
		return nil, ErrClosed
	}
	d := e.model.StateDict()
	for k, v := range e.adam.StateDict() {
		d[k] = v
	}
	return d, nil
}

// LoadStateDict loads weights, buffers and (when present) Adam state. A
// dict without optimizer state resets Adam. Nothing changes on error.
func (e *CPU) LoadStateDict(d tensors.Dict) error {
	if e.closed {
		return ErrClosed
	}
	for _, en := range e.model.Entries {
		if err := checkEntry(en, d); err != nil {
			return err
		}
	}
	if HasState(d) {
		if err := e.adam.LoadStateDict(d); err != nil {
			return err
		}
	} else {
		e.adam = NewAdam(e.model, e.adam.Config)
	}
	return e.model.LoadStateDict(d)
}
