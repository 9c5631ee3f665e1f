package cuda

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/ctseg/ctseg/internal/tensors"
	"github.com/ctseg/ctseg/internal/unet"
)

// Engine runs the model on a Device: unet.Engine, unet.Tracer and
// unet.Augmenter. The weights, gradients, Adam moments and BatchNorm
// running statistics live on the device; a training step uploads the
// batch (int16 windows and uint8 labels, or floats), runs the augmentation,
// forward pass, loss, backward pass and Adam there, and downloads the loss,
// the per-sample Dice losses and the pixel counts. Adam's step counts and
// num_batches_tracked, which need no device, are counted on the host.
// Not safe for concurrent use.
type Engine struct {
	dev     Device
	model   *unet.Model // names and shapes; its weights are updated by StateDict
	l       *layout
	opt     unet.AdamConfig
	steps   []int64 // Adam's step per parameter, l.params order
	st      statePtrs
	stMem   Ptr
	stSize  int64
	trainP  *program
	evalP   *program
	closed  bool
	devName string
	guard   int64     // guard bytes after each buffer (a guarded device)
	stRegs  []*region // the state arrays, for the guard check
}

// guarded is a Device that wants guard bytes after every buffer, filled
// with 0xFF when allocated: the engine then checks after each call that
// they still are, i.e. that no kernel wrote outside its buffers. The CPU
// emulator is one.
type guarded interface{ GuardBytes() int64 }

var (
	_ unet.Tracer    = (*Engine)(nil)
	_ unet.Augmenter = (*Engine)(nil)
)

// New returns an engine on dev that starts from m's weights and buffers,
// with a fresh Adam of opt. The engine owns dev and closes it.
func New(dev Device, m *unet.Model, opt unet.AdamConfig) (*Engine, error) {
	l, err := newLayout(m)
	if err != nil {
		dev.Close()
		return nil, err
	}
	e := &Engine{dev: dev, model: m, l: l, opt: opt, steps: make([]int64, len(l.params)), devName: dev.Name()}
	if g, ok := dev.(guarded); ok {
		e.guard = g.GuardBytes()
	}
	p := newPlanner(e.guard)
	planState(p, l)
	p.place(0)
	if e.stMem, err = dev.Alloc(p.size); err != nil {
		dev.Close()
		return nil, fmt.Errorf("cuda: allocating the model's %d bytes: %w", p.size, err)
	}
	e.stSize = p.size
	p.base = e.stMem
	e.st = planState(p, l)
	e.stRegs = p.order
	if err := e.upload(m, nil); err != nil {
		e.Close()
		return nil, err
	}
	return e, nil
}

// upload copies the weights and running statistics of m and Adam's
// moments (zero when d is nil, else d's optimizer state) to the device.
func (e *Engine) upload(m *unet.Model, d tensors.Dict) error {
	params := make([]float32, e.l.nParams)
	mom, sq := make([]float32, e.l.nParams), make([]float32, e.l.nParams)
	for i, p := range e.l.params {
		o := e.l.off[p.Name]
		copy(params[o:], m.Entry(p.Name).F32)
		if d != nil {
			copy(mom[o:], d[unet.OptimizerPrefix+"exp_avg."+p.Name].F32)
			copy(sq[o:], d[unet.OptimizerPrefix+"exp_avg_sq."+p.Name].F32)
			e.steps[i] = d[unet.OptimizerPrefix+"step."+p.Name].I64[0]
		} else {
			e.steps[i] = 0
		}
	}
	bufs := make([]float32, e.l.nBufs)
	for _, en := range m.Entries {
		if en.Kind == unet.RunningMean || en.Kind == unet.RunningVar {
			copy(bufs[e.l.off[en.Name]:], en.F32)
		}
	}
	for _, c := range []struct {
		dst Ptr
		src []float32
	}{{e.st.params, params}, {e.st.m, mom}, {e.st.v, sq}, {e.st.bufs, bufs},
		{e.st.grads, make([]float32, e.l.nParams)}} {
		if err := e.dev.Upload(c.dst, bytesOf(c.src)); err != nil {
			return fmt.Errorf("cuda: uploading the model: %w", err)
		}
	}
	return nil
}

// Config is the model's configuration.
func (e *Engine) Config() unet.Config { return e.l.cfg }

// Info says that the engine is deterministic: every reduction adds its
// terms in an order fixed by the batch's shape, with no atomics, so the
// same computation gives the same bits, resumed or straight through, and
// a sample's prediction does not depend on the batch around it.
func (e *Engine) Info() unet.Info { return unet.Info{Name: "cuda", Deterministic: true} }

// DeviceName describes the device, e.g. "NVIDIA H200 (sm_90, 140 GiB)".
func (e *Engine) DeviceName() string { return e.devName }

// MemoryBytes is the device memory the engine holds: the model's arrays
// and the buffers of its current training and evaluation shapes.
func (e *Engine) MemoryBytes() int64 {
	n := e.stSize
	for _, p := range []*program{e.trainP, e.evalP} {
		if p != nil {
			n += p.size
		}
	}
	return n
}

// Close frees the device memory and the device; see unet.Engine.
func (e *Engine) Close() error {
	if e.closed {
		return nil
	}
	e.closed = true
	var errs []error
	for _, p := range []**program{&e.trainP, &e.evalP} {
		errs = append(errs, e.drop(p))
	}
	if e.stMem != 0 {
		errs = append(errs, e.dev.Free(e.stMem))
		e.stMem = 0
	}
	errs = append(errs, e.dev.Close())
	return errors.Join(errs...)
}

// drop frees a program's memory and forgets it.
func (e *Engine) drop(p **program) error {
	if *p == nil {
		return nil
	}
	err := e.dev.Free((*p).mem)
	*p = nil
	return err
}

// program returns the compiled pass for the shape, compiling it (and
// freeing the previous one of the mode) when the shape changes.
func (e *Engine) program(n, h, w int, train bool) (*program, error) {
	cur := &e.evalP
	if train {
		cur = &e.trainP
	}
	if p := *cur; p != nil && p.n == n && p.h == h && p.w == w {
		return p, nil
	}
	if err := e.drop(cur); err != nil {
		return nil, err
	}
	p, err := compile(e.l, e.st, n, h, w, train, e.guard, e.dev.Alloc)
	if err != nil {
		return nil, fmt.Errorf("cuda: %d×%d×%d batch: %w", n, h, w, err)
	}
	*cur = p
	return p, nil
}

// run launches a program's kernels in order.
func (e *Engine) run(ls []Launch) error {
	for _, l := range ls {
		if l.Threads <= 0 {
			continue
		}
		blocks, threads := l.Grid()
		if blocks > maxGrid {
			return fmt.Errorf("cuda: %s: %d blocks exceed the grid", l.Kernel, blocks)
		}
		if err := e.dev.Launch(l.Kernel, blocks, threads, l.Args); err != nil {
			return fmt.Errorf("cuda: %s: %w", l.Kernel, err)
		}
	}
	return nil
}

// AugmentLaunches are the launches that turn a checked batch of windows,
// uploaded to io.win and io.lab8, into io.input and io.label.
func augmentLaunches(io ioPtrs, c unet.Config, b unet.Batch) []Launch {
	hw := b.H * b.W
	t := b.Transform
	th := []Arg{f32Arg(t[0]), f32Arg(t[1]), f32Arg(t[2]), f32Arg(t[3]), f32Arg(t[4]), f32Arg(t[5])}
	in := int64(b.N) * int64(c.InChannels) * int64(hw)
	win := append([]Arg{ptrArg(io.win), ptrArg(io.input), intArg(b.N * c.InChannels), intArg(b.H), intArg(b.W)}, th...)
	win = append(win, uintArg(uint32(b.NoiseKey.Seed)), uintArg(uint32(b.NoiseKey.Seed>>32)),
		uintArg(uint32(b.NoiseKey.Step)), uintArg(uint32(b.NoiseKey.Step>>32)), f32Arg(b.NoiseSigma))
	lab := append([]Arg{ptrArg(io.lab8), ptrArg(io.label), intArg(b.N * c.NClasses), intArg(b.H), intArg(b.W)}, th...)
	return []Launch{
		{Kernel: "augment_windows", Threads: (in + 3) / 4, Args: win},
		{Kernel: "augment_labels", Threads: int64(b.N) * int64(c.NClasses) * int64(hw), Args: lab},
	}
}

// load puts a checked training batch into the program's input and label:
// augmented on the device from windows, or copied.
func (e *Engine) load(p *program, b unet.Batch) error {
	if !b.Augmented() {
		if err := e.dev.Upload(p.io.input, bytesOf(b.Input)); err != nil {
			return err
		}
		return e.dev.Upload(p.io.label, bytesOf(b.Label))
	}
	if err := e.dev.Upload(p.io.win, bytesOf(b.Windows)); err != nil {
		return err
	}
	if err := e.dev.Upload(p.io.lab8, bytesOf(b.Labels)); err != nil {
		return err
	}
	return e.run(augmentLaunches(p.io, e.l.cfg, b))
}

// TrainStep runs one training step; see unet.Engine.
func (e *Engine) TrainStep(b unet.Batch) (unet.StepResult, error) {
	res, _, err := e.step(b, false)
	return res, err
}

// TraceStep is TrainStep with the training output and gradients; see
// unet.Tracer.
func (e *Engine) TraceStep(b unet.Batch) (unet.StepResult, unet.StepTrace, error) {
	return e.step(b, true)
}

func (e *Engine) step(b unet.Batch, trace bool) (unet.StepResult, unet.StepTrace, error) {
	if e.closed {
		return unet.StepResult{}, unet.StepTrace{}, unet.ErrClosed
	}
	if err := b.Check(e.l.cfg, true); err != nil {
		return unet.StepResult{}, unet.StepTrace{}, err
	}
	p, err := e.program(b.N, b.H, b.W, true)
	if err != nil {
		return unet.StepResult{}, unet.StepTrace{}, err
	}
	if err := e.load(p, b); err != nil {
		return unet.StepResult{}, unet.StepTrace{}, fmt.Errorf("cuda: training step: %w", err)
	}
	if err := e.run(p.launches); err != nil {
		return unet.StepResult{}, unet.StepTrace{}, fmt.Errorf("cuda: training step: %w", err)
	}
	for _, bn := range e.l.bns {
		bn.numBatches.I64[0]++
	}
	raw := make([]float64, b.N+4)
	if err := e.dev.Download(bytesOf(raw), p.io.res); err != nil {
		return unet.StepResult{}, unet.StepTrace{}, fmt.Errorf("cuda: training step: %w", err)
	}
	res := unet.StepResult{Loss: raw[0], DiceLoss: slices.Clone(raw[1 : b.N+1]),
		Metrics: unet.Metrics{TP: int64(raw[b.N+1]), FN: int64(raw[b.N+2]), FP: int64(raw[b.N+3])}}
	var tr unet.StepTrace
	if trace {
		if tr, err = e.trace(p); err != nil {
			return unet.StepResult{}, unet.StepTrace{}, err
		}
	}
	if err := e.adam(); err != nil {
		return unet.StepResult{}, unet.StepTrace{}, err
	}
	if err := e.checkGuards(); err != nil {
		return unet.StepResult{}, unet.StepTrace{}, err
	}
	return res, tr, nil
}

// trace downloads the training output and the gradients of a step.
func (e *Engine) trace(p *program) (unet.StepTrace, error) {
	c := e.l.cfg
	tr := unet.StepTrace{Prob: make([]float32, p.n*c.NClasses*p.h*p.w), Grads: map[string][]float32{}}
	grads := make([]float32, e.l.nParams)
	if err := e.dev.Download(bytesOf(tr.Prob), p.io.prob); err != nil {
		return tr, err
	}
	if err := e.dev.Download(bytesOf(grads), e.st.grads); err != nil {
		return tr, err
	}
	for _, prm := range e.l.params {
		o := e.l.off[prm.Name]
		tr.Grads[prm.Name] = slices.Clone(grads[o : o+len(prm.F32)])
	}
	return tr, nil
}

// adamScalars are unet.Adam.Step's per-step factors for step t.
func adamScalars(c unet.AdamConfig, t int64) (stepSize, bc2 float32) {
	return float32(-c.LR / (1 - math.Pow(c.Beta1, float64(t)))), float32(math.Sqrt(1 - math.Pow(c.Beta2, float64(t))))
}

// adamLaunches are the launches of one Adam step from the per-parameter
// step counts before it: one over all parameters when the counts agree,
// as they do unless a state dict said otherwise, else one per parameter.
func (e *Engine) adamLaunches() []Launch {
	c := e.opt
	fixed := []Arg{f32Arg(float32(c.Beta1)), f32Arg(float32(c.Beta2)), f32Arg(float32(1 - c.Beta1)), f32Arg(float32(1 - c.Beta2)),
		f32Arg(float32(c.Eps))}
	launch := func(off, n int, t int64) Launch {
		ss, bc2 := adamScalars(c, t)
		at := Ptr(4 * off)
		args := append([]Arg{ptrArg(e.st.params + at), ptrArg(e.st.grads + at), ptrArg(e.st.m + at), ptrArg(e.st.v + at), intArg(n)},
			fixed...)
		return Launch{Kernel: "adam", Threads: int64(n), Args: append(args, f32Arg(ss), f32Arg(bc2))}
	}
	if !slices.ContainsFunc(e.steps, func(s int64) bool { return s != e.steps[0] }) {
		return []Launch{launch(0, e.l.nParams, e.steps[0]+1)}
	}
	var ls []Launch
	for i, p := range e.l.params {
		ls = append(ls, launch(e.l.off[p.Name], len(p.F32), e.steps[i]+1))
	}
	return ls
}

// adam takes one Adam step with the gradients on the device.
func (e *Engine) adam() error {
	if err := e.run(e.adamLaunches()); err != nil {
		return err
	}
	for i := range e.steps {
		e.steps[i]++
	}
	return nil
}

// Predict runs the model in evaluation mode; see unet.Engine.
func (e *Engine) Predict(b unet.Batch) (unet.Prediction, error) {
	if e.closed {
		return unet.Prediction{}, unet.ErrClosed
	}
	if err := b.Check(e.l.cfg, false); err != nil {
		return unet.Prediction{}, err
	}
	p, err := e.program(b.N, b.H, b.W, false)
	if err != nil {
		return unet.Prediction{}, err
	}
	if err := e.dev.Upload(p.io.input, bytesOf(b.Input)); err != nil {
		return unet.Prediction{}, fmt.Errorf("cuda: prediction: %w", err)
	}
	if err := e.run(p.launches); err != nil {
		return unet.Prediction{}, fmt.Errorf("cuda: prediction: %w", err)
	}
	k := b.N * e.l.cfg.NClasses * b.H * b.W
	out := unet.Prediction{Prob: make([]float32, k), Logits: make([]float32, k)}
	if err := e.dev.Download(bytesOf(out.Logits), p.io.logits); err != nil {
		return unet.Prediction{}, fmt.Errorf("cuda: prediction: %w", err)
	}
	if err := e.dev.Download(bytesOf(out.Prob), p.io.prob); err != nil {
		return unet.Prediction{}, fmt.Errorf("cuda: prediction: %w", err)
	}
	if err := e.checkGuards(); err != nil {
		return unet.Prediction{}, err
	}
	return out, nil
}

// Augment returns what TrainStep trains on for a batch of windows; see
// unet.Augmenter.
func (e *Engine) Augment(b unet.Batch) (input, label []float32, err error) {
	if e.closed {
		return nil, nil, unet.ErrClosed
	}
	if err := b.Check(e.l.cfg, true); err != nil {
		return nil, nil, err
	}
	if !b.Augmented() {
		return nil, nil, errors.New("unet: Augment needs a batch of Windows")
	}
	p, err := e.program(b.N, b.H, b.W, true)
	if err != nil {
		return nil, nil, err
	}
	if err := e.load(p, b); err != nil {
		return nil, nil, fmt.Errorf("cuda: augmentation: %w", err)
	}
	input, label = make([]float32, len(b.Windows)), make([]float32, len(b.Labels))
	if err := e.dev.Download(bytesOf(input), p.io.input); err != nil {
		return nil, nil, err
	}
	if err := e.dev.Download(bytesOf(label), p.io.label); err != nil {
		return nil, nil, err
	}
	if err := e.checkGuards(); err != nil {
		return nil, nil, err
	}
	return input, label, nil
}

// StateDict returns the weights, buffers and Adam state; see unet.Engine.
func (e *Engine) StateDict() (tensors.Dict, error) {
	if e.closed {
		return nil, unet.ErrClosed
	}
	n := e.l.nParams
	params, mom, sq, bufs := make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, e.l.nBufs)
	for _, c := range []struct {
		dst []float32
		src Ptr
	}{{params, e.st.params}, {mom, e.st.m}, {sq, e.st.v}, {bufs, e.st.bufs}} {
		if err := e.dev.Download(bytesOf(c.dst), c.src); err != nil {
			return nil, fmt.Errorf("cuda: reading the model: %w", err)
		}
	}
	for _, en := range e.model.Entries {
		switch {
		case en.Kind.Trainable():
			o := e.l.off[en.Name]
			copy(en.F32, params[o:])
		case en.Kind == unet.RunningMean || en.Kind == unet.RunningVar:
			o := e.l.off[en.Name]
			copy(en.F32, bufs[o:])
		}
	}
	d := e.model.StateDict()
	for i, p := range e.l.params {
		o := e.l.off[p.Name]
		shape := slices.Clone(p.Shape)
		d[unet.OptimizerPrefix+"exp_avg."+p.Name] = tensors.Tensor{DType: tensors.F32, Shape: shape,
			F32: slices.Clone(mom[o : o+len(p.F32)])}
		d[unet.OptimizerPrefix+"exp_avg_sq."+p.Name] = tensors.Tensor{DType: tensors.F32, Shape: slices.Clone(shape),
			F32: slices.Clone(sq[o : o+len(p.F32)])}
		d[unet.OptimizerPrefix+"step."+p.Name] = tensors.Tensor{DType: tensors.I64, Shape: []int{}, I64: []int64{e.steps[i]}}
	}
	return d, nil
}

// LoadStateDict loads weights, buffers and (when present) Adam state;
// nothing changes on error. See unet.Engine.
func (e *Engine) LoadStateDict(d tensors.Dict) error {
	if e.closed {
		return unet.ErrClosed
	}
	// Check everything on a scratch model first, in the CPU engine's
	// order (model entries, then optimizer state) and with its messages.
	tmp, err := unet.New(e.l.cfg)
	if err != nil {
		return err
	}
	if err := tmp.LoadStateDict(d); err != nil {
		return err
	}
	opt := d
	if unet.HasState(d) {
		if err := unet.NewAdam(tmp, e.opt).LoadStateDict(d); err != nil {
			return err
		}
	} else {
		opt = nil
	}
	if err := e.upload(tmp, opt); err != nil {
		return err
	}
	for i, en := range e.model.Entries {
		src := tmp.Entries[i]
		copy(en.F32, src.F32)
		copy(en.I64, src.I64)
	}
	return nil
}

// checkGuards reports a guard byte that is no longer 0xFF: a kernel wrote
// outside its buffer. Only on a guarded device.
func (e *Engine) checkGuards() error {
	if e.guard == 0 {
		return nil
	}
	check := func(what string, base Ptr, regs []*region, size int64) error {
		for i, r := range regs {
			end := size
			if i+1 < len(regs) {
				end = regs[i+1].off
			}
			gap := make([]byte, end-r.off-r.bytes)
			if err := e.dev.Download(gap, base+Ptr(r.off+r.bytes)); err != nil {
				return err
			}
			for j, v := range gap {
				if v != 0xff {
					return fmt.Errorf("cuda: %s buffer %q: byte %d past its end was written", what, r.name, j)
				}
			}
		}
		return nil
	}
	if err := check("model", e.stMem, e.stRegs, e.stSize); err != nil {
		return err
	}
	for _, p := range []*program{e.trainP, e.evalP} {
		if p != nil {
			if err := check(fmt.Sprintf("%d×%d×%d", p.n, p.h, p.w), p.mem, p.regions, p.size); err != nil {
				return err
			}
		}
	}
	return nil
}
