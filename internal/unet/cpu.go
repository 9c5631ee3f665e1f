package unet

import (
	"fmt"

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
}

var _ Engine = (*CPU)(nil)

// NewCPU returns a CPU engine over m (whose weights it updates in place)
// with a fresh Adam; workers <= 0 means GOMAXPROCS goroutines. Results are
// bit-for-bit reproducible for a given worker count.
func NewCPU(m *Model, opt AdamConfig, workers int) *CPU {
	return &CPU{model: m, adam: NewAdam(m, opt), workers: nn.Workers(workers)}
}

// Model returns the engine's model.
func (e *CPU) Model() *Model { return e.model }

// Config is the model's configuration.
func (e *CPU) Config() Config { return e.model.Config }

// graph returns the compiled net for the shape and mode, building it if
// needed.
func (e *CPU) graph(n, h, w int, train bool) (*net, error) {
	cur := &e.eval
	if train {
		cur = &e.train
	}
	if *cur != nil && (*cur).n == n && (*cur).h == h && (*cur).w == w {
		return *cur, nil
	}
	if *cur != nil {
		// Let the old graph's buffers go before building the new one.
		(*cur).vm.Close()
		*cur = nil
	}
	nt, err := buildNet(e.model, n, h, w, train, e.workers)
	if err != nil {
		return nil, err
	}
	*cur = nt
	return nt, nil
}

// forwardBackward runs the training graph on b and returns the gradients
// (views of graph buffers, valid until the next run) and the output.
func (e *CPU) forwardBackward(b Batch) (grads map[string][]float32, prob []float32, loss Loss, err error) {
	if err := checkInput(e.model.Config, b.Input, b.N, b.H, b.W, true); err != nil {
		return nil, nil, Loss{}, err
	}
	if want := b.N * e.model.Config.NClasses * b.H * b.W; len(b.Label) != want {
		return nil, nil, Loss{}, fmt.Errorf("unet: label has %d values, want %d", len(b.Label), want)
	}
	nt, err := e.graph(b.N, b.H, b.W, true)
	if err != nil {
		return nil, nil, Loss{}, err
	}
	copy(nt.input, b.Input)
	copy(nt.label, b.Label)
	defer nt.vm.Reset()
	if err := nt.vm.RunAll(); err != nil {
		return nil, nil, Loss{}, fmt.Errorf("unet: training step: %w", err)
	}
	grads = make(map[string][]float32, len(nt.grads))
	for name, g := range nt.grads {
		v := g.Value()
		if v == nil {
			return nil, nil, Loss{}, fmt.Errorf("unet: no gradient computed for %q", name)
		}
		d, ok := v.Data().([]float32)
		if !ok {
			return nil, nil, Loss{}, fmt.Errorf("unet: gradient of %q is %T", name, v.Data())
		}
		grads[name] = d
	}
	return grads, nt.prob.out, nt.loss, nil
}

// TrainStep runs one training step; see Engine.
func (e *CPU) TrainStep(b Batch) (StepResult, error) {
	grads, prob, loss, err := e.forwardBackward(b)
	if err != nil {
		return StepResult{}, err
	}
	res := StepResult{Loss: loss.Total, Dice: loss.Dice, Metrics: CountPixels(prob, b.Label, 0.5)}
	if err := e.adam.Step(grads); err != nil {
		return StepResult{}, err
	}
	return res, nil
}

// Predict runs the evaluation graph; see Engine.
func (e *CPU) Predict(input []float32, n, h, w int) ([]float32, error) {
	if err := checkInput(e.model.Config, input, n, h, w, false); err != nil {
		return nil, err
	}
	nt, err := e.graph(n, h, w, false)
	if err != nil {
		return nil, err
	}
	copy(nt.input, input)
	defer nt.vm.Reset()
	if err := nt.vm.RunAll(); err != nil {
		return nil, fmt.Errorf("unet: prediction: %w", err)
	}
	return append([]float32(nil), nt.prob.out...), nil
}

// StateDict returns the model's state_dict plus the Adam state.
func (e *CPU) StateDict() tensors.Dict {
	d := e.model.StateDict()
	for k, v := range e.adam.StateDict() {
		d[k] = v
	}
	return d
}

// LoadStateDict loads weights, buffers and (when present) Adam state. A
// dict without optimizer state resets Adam. Nothing changes on error.
func (e *CPU) LoadStateDict(d tensors.Dict) error {
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
