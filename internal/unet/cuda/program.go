package cuda

import (
	"fmt"
	"strconv"

	"github.com/ctseg/ctseg/internal/unet"
)

// The memory plan and the programs. A program is the list of launches of
// one pass (training: forward, loss, backward; evaluation: forward) for
// one batch shape, built once per shape with every address resolved. Its
// buffers are named: a sizing pass of the same builder records the largest
// request of each name, the planner lays them out in one allocation, and
// the emitting pass hands out their addresses. One code path thus decides
// both what memory a shape needs and how the kernels use it.

// align is the alignment of every buffer in an allocation.
const align = 256

// maxElems bounds a buffer's elements: kernels index with 32-bit ints.
const maxElems = 1<<31 - 1

// region is one named buffer of a plan.
type region struct {
	name  string
	off   int64
	bytes int64
}

// planner hands out the buffers of an allocation by name.
type planner struct {
	guard  int64 // bytes left unused after each buffer (see guarded)
	sizing bool
	base   Ptr
	regs   map[string]*region
	order  []*region
	size   int64
	err    error
}

func newPlanner(guard int64) *planner {
	return &planner{guard: guard, sizing: true, regs: map[string]*region{}}
}

// buf returns the address of the named buffer of at least bytes bytes
// (0 in the sizing pass).
func (p *planner) buf(name string, bytes int64) Ptr {
	r := p.regs[name]
	if p.sizing {
		if r == nil {
			r = &region{name: name}
			p.regs[name] = r
			p.order = append(p.order, r)
		}
		r.bytes = max(r.bytes, bytes)
		return 0
	}
	if r == nil || bytes > r.bytes {
		p.fail(fmt.Errorf("cuda: internal error: buffer %q of %d bytes not planned", name, bytes))
		return 0
	}
	return p.base + Ptr(r.off)
}

func (p *planner) fail(err error) {
	if p.err == nil {
		p.err = err
	}
}

// place lays the sized buffers out one after the other, aligned, and
// switches to emitting at base.
func (p *planner) place(base Ptr) {
	var off int64
	for _, r := range p.order {
		r.off = off
		off += (r.bytes + p.guard + align - 1) / align * align
	}
	p.size = off
	p.sizing = false
	p.base = base
}

// statePtrs are the engine's arrays that outlive a batch shape (see
// layout): parameters, their gradients, Adam's moments, running
// statistics, flipped weights, evaluation affines.
type statePtrs struct {
	params, grads, m, v, bufs, flip, evScale, evShift Ptr
}

// planState sizes or places the state arrays of l.
func planState(p *planner, l *layout) statePtrs {
	np, nb, ne := int64(l.nParams)*4, int64(l.nBufs)*4, int64(l.nEval)*4
	return statePtrs{
		params: p.buf("params", np), grads: p.buf("grads", np), m: p.buf("adam.m", np), v: p.buf("adam.v", np),
		bufs: p.buf("running", nb), flip: p.buf("flipped", np), evScale: p.buf("eval.scale", ne), evShift: p.buf("eval.shift", ne),
	}
}

// ioPtrs are a program's buffers the host copies to or from.
type ioPtrs struct {
	win, lab8    Ptr // training: int16 windows and uint8 labels to augment
	input, label Ptr // float input and label
	prob, logits Ptr
	res          Ptr // training: float64 (loss, 1 − Dice per sample…, TP, FN, FP)
}

// program is a pass compiled for one shape.
type program struct {
	n, h, w  int
	train    bool
	io       ioPtrs
	launches []Launch
	regions  []*region
	size     int64 // bytes of the allocation
	guard    int64
	mem      Ptr // the allocation (0 until allocated)
}

// builder emits the launches of one program.
type builder struct {
	l       *layout
	st      statePtrs
	p       *planner
	n, h, w int
	prog    []Launch
}

func (b *builder) launch(kernel string, threads int64, args ...Arg) {
	b.prog = append(b.prog, Launch{Kernel: kernel, Threads: threads, Args: args})
}

// f32 and f64 return the named buffer of elems values.
func (b *builder) f32(name string, elems int64) Ptr {
	b.checkElems(name, elems)
	return b.p.buf(name, 4*elems)
}

func (b *builder) f64(name string, elems int64) Ptr {
	b.checkElems(name, elems)
	return b.p.buf(name, 8*elems)
}

func (b *builder) checkElems(name string, elems int64) {
	if elems > maxElems {
		b.p.fail(fmt.Errorf("cuda: batch too large: %s would hold %d values (at most %d)", name, elems, maxElems))
	}
}

// integer is an int argument, which must fit a C int.
func (b *builder) integer(v int64) Arg {
	if v < 0 || v > maxElems {
		b.p.fail(fmt.Errorf("cuda: batch too large: a kernel argument of %d", v))
	}
	return intArg(int(v))
}

func (b *builder) param(off int) Ptr { return b.st.params + Ptr(4*off) }
func (b *builder) grad(off int) Ptr  { return b.st.grads + Ptr(4*off) }
func (b *builder) flip(off int) Ptr  { return b.st.flip + Ptr(4*off) }

// reduce adds partials in[len][nw] (float32 when inF32, else float64)
// along len into dst[nw] (float32 when dstF32, else float64).
func (b *builder) reduce(in Ptr, inF32 bool, length, nw int, dst Ptr, dstF32 bool) {
	cur, curF32, curLen := in, inF32, length
	levels := sumLevels(length)
	for i, groups := range levels {
		last := i == len(levels)-1
		var out, fout Ptr
		switch {
		case last && dstF32:
			fout = dst
		case last:
			out = dst
		default:
			out = b.f64("sum."+strconv.Itoa(i%2), int64(groups)*int64(nw))
		}
		k := "sum_d"
		if curF32 {
			k = "sum_f"
		}
		b.launch(k, int64(groups)*int64(nw), ptrArg(cur), b.integer(int64(curLen)), b.integer(int64(nw)),
			intArg(sumGroup), ptrArg(out), ptrArg(fout))
		cur, curF32, curLen = out, false, groups
	}
}

// chanSums adds, per channel of channels c0… of an n×ctot×hw tensor x,
// the values mode selects (see chan_partial): for modes 0 and 1 two a
// channel, into the float64 buffer it returns; for mode 2 one, into the
// float32 array dst.
func (b *builder) chanSums(x, y, mean Ptr, ctot, c0, c, hw int, mode int, dst Ptr) Ptr {
	count := int64(b.n) * int64(hw)
	j := split(count, maxChanSplit)
	vals := 2
	if mode == 2 {
		vals = 1
	}
	part := b.f64("part.f64", int64(j)*int64(c)*int64(vals))
	b.launch("chan_partial", int64(c)*int64(j), ptrArg(x), ptrArg(y), ptrArg(mean), b.integer(int64(ctot)),
		intArg(c0), intArg(c), intArg(b.n), b.integer(int64(hw)), intArg(j), intArg(mode), ptrArg(part))
	if mode == 2 {
		b.reduce(part, false, j, c, dst, true)
		return dst
	}
	sums := b.f64("sums", int64(c)*int64(vals))
	b.reduce(part, false, j, c*vals, sums, false)
	return sums
}

// bnStats are the per-channel buffers of a training BatchNorm.
type bnStats struct{ mean, invstd, scale, shift, coef Ptr }

func (b *builder) bnStats(bn *bnSpec) bnStats {
	c := int64(bn.c)
	return bnStats{mean: b.f64(bn.name+":mean", c), invstd: b.f64(bn.name+":invstd", c),
		scale: b.f32(bn.name+":scale", c), shift: b.f32(bn.name+":shift", c), coef: b.f32(bn.name+":coef", 4*c)}
}

// bnTrain normalises x (n×C×hw) into y with batch statistics, updating the
// running statistics.
func (b *builder) bnTrain(bn *bnSpec, x, y Ptr, hw int) {
	st := b.bnStats(bn)
	count := float64(b.n) * float64(hw)
	sums := b.chanSums(x, 0, 0, bn.c, 0, bn.c, hw, 0, 0)
	b.launch("bn_stats_final", int64(bn.c), ptrArg(sums), intArg(bn.c), f64Arg(count),
		ptrArg(b.param(bn.gamma)), ptrArg(b.param(bn.beta)),
		ptrArg(b.st.bufs+Ptr(4*bn.mean)), ptrArg(b.st.bufs+Ptr(4*bn.vr)), f64Arg(unet.BNMomentum), f64Arg(unet.BNEps),
		ptrArg(st.mean), ptrArg(st.invstd), ptrArg(st.scale), ptrArg(st.shift))
	total := int64(b.n) * int64(bn.c) * int64(hw)
	b.launch("bn_apply", total, ptrArg(x), ptrArg(y), ptrArg(st.scale), ptrArg(st.shift), intArg(bn.c),
		b.integer(int64(hw)), b.integer(total))
}

// bnBackward turns d (∂/∂ the output of a BatchNorm of input x) into the
// γ and β gradients and, when relu (the input is a ReLU's output), into
// ∂/∂ the ReLU's input, in place. Without relu (the input BatchNorm) only
// γ and β.
func (b *builder) bnBackward(bn *bnSpec, x, d Ptr, hw int, relu bool) {
	st := b.bnStats(bn)
	count := float64(b.n) * float64(hw)
	sums := b.chanSums(x, d, st.mean, bn.c, 0, bn.c, hw, 1, 0)
	coef := st.coef
	if !relu {
		coef = 0
	}
	b.launch("bn_bwd_final", int64(bn.c), ptrArg(sums), intArg(bn.c), f64Arg(count), ptrArg(b.param(bn.gamma)),
		ptrArg(st.mean), ptrArg(st.invstd), ptrArg(b.grad(bn.gamma)), ptrArg(b.grad(bn.beta)), ptrArg(coef))
	if relu {
		total := int64(b.n) * int64(bn.c) * int64(hw)
		b.launch("bn_bwd_apply", total, ptrArg(x), ptrArg(d), ptrArg(coef), intArg(bn.c), b.integer(int64(hw)),
			b.integer(total), intArg(1))
	}
}

// input is a convolution's input: cat(a, b) on channels, b optional.
type input struct {
	a      Ptr
	ca     int
	b      Ptr
	cb     int
	h, w   int
	concat bool
}

func (in input) args() []Arg {
	return []Arg{ptrArg(in.a), intArg(in.ca), ptrArg(in.b), intArg(in.cb)}
}

// tensors of a convBN in training.
type cbTensors struct{ r, y, dy Ptr }

func (b *builder) cbTensors(cb convBN, h, w int) cbTensors {
	e := int64(b.n) * int64(cb.conv.cout) * int64(h) * int64(w)
	return cbTensors{r: b.f32(cb.conv.name+":r", e), y: b.f32(cb.conv.name+":y", e), dy: b.f32(cb.conv.name+":dy", e)}
}

// convBNTrain runs conv → ReLU → BatchNorm on in and returns the output.
func (b *builder) convBNTrain(cb convBN, in input) Ptr {
	t := b.cbTensors(cb, in.h, in.w)
	c := cb.conv
	b.launch("conv3x3", conv3x3Threads(b.n, c.cout, in.h, in.w), append(in.args(),
		ptrArg(b.param(c.w)), ptrArg(b.param(c.b)), ptrArg(t.r), intArg(b.n), intArg(c.cout),
		intArg(in.h), intArg(in.w), intArg(1), ptrArg(0), ptrArg(0))...)
	b.bnTrain(cb.bn, t.r, t.y, in.h*in.w)
	return t.y
}

// convBNBackward takes the gradient in the convBN's dy buffer to the
// gradients of its parameters and, when dx is set, of its input (n ×
// (ca+cb) × h × w at dx).
func (b *builder) convBNBackward(cb convBN, in input, dx Ptr) {
	t := b.cbTensors(cb, in.h, in.w)
	c := cb.conv
	hw := in.h * in.w
	b.bnBackward(cb.bn, t.r, t.dy, hw, true) // t.dy now holds ∂/∂(conv output)
	nw := int64(c.weights())
	rows := wgradRows(b.n, in.h, in.w, nw)
	chunks := b.n * ceilDiv(in.h, rows)
	part := b.f32("part.f32", int64(chunks)*nw)
	b.launch("conv3x3_wgrad", conv3x3WgradThreads(b.n, c.cin, c.cout, in.h, rows), append(in.args(),
		ptrArg(t.dy), ptrArg(part), intArg(b.n), intArg(c.cout), intArg(in.h), intArg(in.w), intArg(rows))...)
	b.reduce(part, true, chunks, int(nw), b.grad(c.w), true)
	b.chanSums(t.dy, 0, 0, c.cout, 0, c.cout, hw, 2, b.grad(c.b))
	if dx != 0 {
		b.launch("flip_weights", nw, ptrArg(b.param(c.w)), ptrArg(b.flip(c.w)), intArg(c.cout), intArg(c.cin), intArg(9))
		b.launch("conv3x3", conv3x3Threads(b.n, c.cin, in.h, in.w), ptrArg(t.dy), intArg(c.cout), ptrArg(0), intArg(0),
			ptrArg(b.flip(c.w)), ptrArg(0), ptrArg(dx), intArg(b.n), intArg(c.cin), intArg(in.h), intArg(in.w),
			intArg(0), ptrArg(0), ptrArg(0))
	}
}

// levelSize is the height and width at depth level i.
func (b *builder) levelSize(i int) (h, w int) { return b.h >> i, b.w >> i }

// buildTrain is the training program of an n×h×w batch: the input
// BatchNorm and the U-Net in training mode, the sigmoid, the loss, its
// gradient and every parameter's gradient (Adam runs after it, see
// Engine). The input and label are read from io.input and io.label.
func buildTrain(l *layout, st statePtrs, p *planner, n, h, w int) (ioPtrs, []Launch) {
	b := &builder{l: l, st: st, p: p, n: n, h: h, w: w}
	c := l.cfg
	hw := int64(h) * int64(w)
	var io ioPtrs
	io.win = p.buf("windows", 2*int64(n)*int64(c.InChannels)*hw)
	io.lab8 = p.buf("labels", int64(n)*int64(c.NClasses)*hw)
	io.input = b.f32("input", int64(n)*int64(c.InChannels)*hw)
	io.label = b.f32("label", int64(n)*int64(c.NClasses)*hw)
	x1 := b.f32("input_batchnorm:y", int64(n)*int64(c.InChannels)*hw)
	b.bnTrain(l.inBN, io.input, x1, int(hw))

	// Forward.
	depth := len(l.down)
	ins := make([]input, depth) // each down level's input
	pools := make([]Ptr, depth) // each down level's pooled output
	skips := make([]Ptr, depth) // each down level's output
	cur := input{a: x1, ca: c.InChannels, h: h, w: w}
	for i, lv := range l.down {
		hi, wi := b.levelSize(i)
		cur.h, cur.w = hi, wi
		ins[i] = cur
		ya := b.convBNTrain(lv.a, cur)
		skips[i] = b.convBNTrain(lv.b, input{a: ya, ca: lv.a.conv.cout, h: hi, w: wi})
		cur = input{a: skips[i], ca: lv.b.conv.cout}
		if i < depth-1 {
			pools[i] = b.f32("pool."+strconv.Itoa(i), int64(n)*int64(lv.b.conv.cout)*int64(hi/2)*int64(wi/2))
			b.launch("avgpool", int64(n)*int64(lv.b.conv.cout)*int64(hi/2)*int64(wi/2), ptrArg(skips[i]), ptrArg(pools[i]),
				b.integer(int64(n)*int64(lv.b.conv.cout)), intArg(hi), intArg(wi))
			cur.a = pools[i]
		}
	}
	ups := make([]Ptr, len(l.up))
	upIns := make([]input, len(l.up)) // each transposed convolution's input
	for j, up := range l.up {
		i := depth - 2 - j
		hi, wi := b.levelSize(i)
		upIns[j] = input{a: cur.a, ca: up.t.cin, h: hi / 2, w: wi / 2}
		ups[j] = b.f32(up.t.name+":y", int64(n)*int64(up.t.cout)*int64(hi)*int64(wi))
		b.launch("convt_fwd", int64(n)*int64(up.t.cout)*int64(hi)*int64(wi), ptrArg(cur.a), ptrArg(b.param(up.t.w)),
			ptrArg(b.param(up.t.b)), ptrArg(ups[j]), intArg(n), intArg(up.t.cin), intArg(up.t.cout), intArg(hi/2), intArg(wi/2))
		ya := b.convBNTrain(up.a, b.catInput(up, ups[j], skips[i], hi, wi))
		yb := b.convBNTrain(up.b, input{a: ya, ca: up.a.conv.cout, h: hi, w: wi})
		cur = input{a: yb, ca: up.b.conv.cout, h: hi, w: wi}
	}
	top := cur.a
	k := int64(c.NClasses) * hw
	io.logits = b.f32("logits", int64(n)*k)
	io.prob = b.f32("prob", int64(n)*k)
	b.launch("conv1x1", int64(n)*hw, ptrArg(top), intArg(l.last.cin), ptrArg(b.param(l.last.w)), ptrArg(b.param(l.last.b)),
		ptrArg(io.logits), intArg(n), intArg(c.NClasses), b.integer(hw))
	b.launch("sigmoid", int64(n)*k, ptrArg(io.logits), ptrArg(io.prob), b.integer(int64(n)*k))

	// Loss, pixel counts and ∂loss/∂logits.
	j := split(k, maxLossSplit)
	part := b.f64("part.f64", int64(j)*int64(n)*6)
	b.launch("loss_partial", int64(n)*int64(j), ptrArg(io.prob), ptrArg(io.label), intArg(n), b.integer(k), intArg(j), ptrArg(part))
	sums := b.f64("sums", int64(n)*6)
	b.reduce(part, false, j, 6*n, sums, false)
	lcoef := b.f64("loss.coef", int64(n)*8)
	io.res = b.f64("result", int64(n)+4)
	b.launch("loss_sample", int64(n), ptrArg(sums), intArg(n), ptrArg(lcoef))
	b.launch("loss_total", 1, ptrArg(lcoef), intArg(n), ptrArg(io.res))
	dz := b.f32("logits:d", int64(n)*k)
	b.launch("loss_grad", int64(n)*k, ptrArg(io.prob), ptrArg(io.label), ptrArg(lcoef), ptrArg(dz), intArg(n), b.integer(k))

	// Backward: the head.
	topCB := l.top()
	topT := b.cbTensors(topCB, h, w)
	nw := int64(l.last.weights())
	pix := wgradPix(n, int(hw), nw)
	chunks := n * ceilDiv(int(hw), pix)
	pf := b.f32("part.f32", int64(chunks)*nw)
	b.launch("conv1x1_wgrad", int64(chunks)*nw, ptrArg(top), intArg(l.last.cin), ptrArg(dz), ptrArg(pf), intArg(n),
		intArg(c.NClasses), b.integer(hw), intArg(pix))
	b.reduce(pf, true, chunks, int(nw), b.grad(l.last.w), true)
	b.chanSums(dz, 0, 0, c.NClasses, 0, c.NClasses, int(hw), 2, b.grad(l.last.b))
	b.launch("flip_weights", nw, ptrArg(b.param(l.last.w)), ptrArg(b.flip(l.last.w)), intArg(c.NClasses), intArg(l.last.cin), intArg(1))
	b.launch("conv1x1", int64(n)*hw, ptrArg(dz), intArg(c.NClasses), ptrArg(b.flip(l.last.w)), ptrArg(0), ptrArg(topT.dy),
		intArg(n), intArg(l.last.cin), b.integer(hw))

	// The up levels, last first.
	gcats := make([]Ptr, len(l.up))
	for j := len(l.up) - 1; j >= 0; j-- {
		up := l.up[j]
		i := depth - 2 - j
		hi, wi := b.levelSize(i)
		ta := b.cbTensors(up.a, hi, wi)
		b.convBNBackward(up.b, input{a: ta.y, ca: up.a.conv.cout, h: hi, w: wi}, ta.dy)
		gcats[j] = b.f32(up.a.conv.name+":dx", int64(n)*int64(up.a.conv.cin)*int64(hi)*int64(wi))
		b.convBNBackward(up.a, b.catInput(up, ups[j], skips[i], hi, wi), gcats[j])
		// The transposed convolution, whose output gradient is the
		// first cout channels of gcat.
		in := upIns[j]
		var dx Ptr
		if j > 0 {
			dx = b.cbTensors(l.up[j-1].b, in.h, in.w).dy
		} else {
			dx = b.cbTensors(l.down[depth-1].b, in.h, in.w).dy
		}
		b.convTBackward(up.t, in, gcats[j], up.a.conv.cin, dx)
	}
	// The down levels, deepest first.
	for i := depth - 1; i >= 0; i-- {
		lv := l.down[i]
		hi, wi := b.levelSize(i)
		tb := b.cbTensors(lv.b, hi, wi)
		if i < depth-1 {
			// The skip's gradient: through the pooling, plus its part
			// of the concatenation's gradient.
			jj := depth - 2 - i
			cc := lv.b.conv.cout
			b.launch("avgpool_bwd", int64(n)*int64(cc)*int64(hi)*int64(wi), ptrArg(b.poolGrad(i)), ptrArg(gcats[jj]),
				intArg(l.up[jj].a.conv.cin), intArg(l.up[jj].t.cout), ptrArg(tb.dy), intArg(n), intArg(cc), intArg(hi), intArg(wi))
		}
		ta := b.cbTensors(lv.a, hi, wi)
		b.convBNBackward(lv.b, input{a: ta.y, ca: lv.a.conv.cout, h: hi, w: wi}, ta.dy)
		var dx Ptr
		if i > 0 {
			dx = b.poolGrad(i - 1)
		} else {
			dx = b.f32("input_batchnorm:dy", int64(n)*int64(c.InChannels)*hw)
		}
		b.convBNBackward(lv.a, ins[i], dx)
	}
	// The input BatchNorm: γ and β only.
	b.bnBackward(l.inBN, io.input, b.f32("input_batchnorm:dy", int64(n)*int64(c.InChannels)*hw), int(hw), false)
	return io, b.prog
}

// catInput is an up level's first input: cat(up, skip).
func (b *builder) catInput(up upLevel, u, skip Ptr, h, w int) input {
	return input{a: u, ca: up.t.cout, b: skip, cb: up.a.conv.cin - up.t.cout, h: h, w: w, concat: true}
}

// poolGrad is the gradient of down level i's pooled output.
func (b *builder) poolGrad(i int) Ptr {
	lv := b.l.down[i]
	hi, wi := b.levelSize(i + 1)
	return b.f32("pool."+strconv.Itoa(i)+":d", int64(b.n)*int64(lv.b.conv.cout)*int64(hi)*int64(wi))
}

// convTBackward computes the transposed convolution's parameter gradients
// and its input gradient dx from dy, its output gradient, channels
// [0, t.cout) of an n×dctot×2h×2w tensor.
func (b *builder) convTBackward(t *convSpec, in input, dy Ptr, dctot int, dx Ptr) {
	nw := int64(t.weights())
	rows := wgradRows(b.n, in.h, in.w, nw)
	chunks := b.n * ceilDiv(in.h, rows)
	part := b.f32("part.f32", int64(chunks)*nw)
	b.launch("convt_wgrad", int64(chunks)*int64(t.cout)*int64(t.cin), ptrArg(in.a), ptrArg(dy), intArg(dctot), ptrArg(part),
		intArg(b.n), intArg(t.cin), intArg(t.cout), intArg(in.h), intArg(in.w), intArg(rows))
	b.reduce(part, true, chunks, int(nw), b.grad(t.w), true)
	b.chanSums(dy, 0, 0, dctot, 0, t.cout, 4*in.h*in.w, 2, b.grad(t.b))
	b.launch("convt_bwd_data", int64(b.n)*int64(t.cin)*int64(in.h)*int64(in.w), ptrArg(dy), intArg(dctot),
		ptrArg(b.param(t.w)), ptrArg(dx), intArg(b.n), intArg(t.cin), intArg(t.cout), intArg(in.h), intArg(in.w))
}

// buildEval is the evaluation program of an n×h×w batch: running
// statistics, ReLU and BatchNorm folded into each convolution.
func buildEval(l *layout, st statePtrs, p *planner, n, h, w int) (ioPtrs, []Launch) {
	b := &builder{l: l, st: st, p: p, n: n, h: h, w: w}
	c := l.cfg
	hw := int64(h) * int64(w)
	for _, bn := range l.bns {
		b.launch("bn_eval_affine", int64(bn.c), ptrArg(b.param(bn.gamma)), ptrArg(b.param(bn.beta)),
			ptrArg(st.bufs+Ptr(4*bn.mean)), ptrArg(st.bufs+Ptr(4*bn.vr)), f64Arg(unet.BNEps),
			ptrArg(st.evScale+Ptr(4*bn.ev)), ptrArg(st.evShift+Ptr(4*bn.ev)), intArg(bn.c))
	}
	var io ioPtrs
	io.input = b.f32("input", int64(n)*int64(c.InChannels)*hw)
	x1 := b.f32("input_batchnorm:y", int64(n)*int64(c.InChannels)*hw)
	total := int64(n) * int64(c.InChannels) * hw
	b.launch("bn_apply", total, ptrArg(io.input), ptrArg(x1), ptrArg(st.evScale+Ptr(4*l.inBN.ev)),
		ptrArg(st.evShift+Ptr(4*l.inBN.ev)), intArg(c.InChannels), b.integer(hw), b.integer(total))
	conv := func(cb convBN, in input) Ptr {
		cv := cb.conv
		y := b.f32(cv.name+":y", int64(n)*int64(cv.cout)*int64(in.h)*int64(in.w))
		b.launch("conv3x3", conv3x3Threads(n, cv.cout, in.h, in.w), append(in.args(),
			ptrArg(b.param(cv.w)), ptrArg(b.param(cv.b)), ptrArg(y), intArg(n), intArg(cv.cout), intArg(in.h), intArg(in.w),
			intArg(1), ptrArg(st.evScale+Ptr(4*cb.bn.ev)), ptrArg(st.evShift+Ptr(4*cb.bn.ev)))...)
		return y
	}
	depth := len(l.down)
	skips := make([]Ptr, depth)
	cur := input{a: x1, ca: c.InChannels}
	for i, lv := range l.down {
		hi, wi := b.levelSize(i)
		cur.h, cur.w = hi, wi
		ya := conv(lv.a, cur)
		skips[i] = conv(lv.b, input{a: ya, ca: lv.a.conv.cout, h: hi, w: wi})
		cur = input{a: skips[i], ca: lv.b.conv.cout}
		if i < depth-1 {
			e := int64(n) * int64(lv.b.conv.cout) * int64(hi/2) * int64(wi/2)
			pool := b.f32("pool."+strconv.Itoa(i), e)
			b.launch("avgpool", e, ptrArg(skips[i]), ptrArg(pool), b.integer(int64(n)*int64(lv.b.conv.cout)), intArg(hi), intArg(wi))
			cur.a = pool
		}
	}
	for j, up := range l.up {
		i := depth - 2 - j
		hi, wi := b.levelSize(i)
		e := int64(n) * int64(up.t.cout) * int64(hi) * int64(wi)
		u := b.f32(up.t.name+":y", e)
		b.launch("convt_fwd", e, ptrArg(cur.a), ptrArg(b.param(up.t.w)), ptrArg(b.param(up.t.b)), ptrArg(u),
			intArg(n), intArg(up.t.cin), intArg(up.t.cout), intArg(hi/2), intArg(wi/2))
		ya := conv(up.a, b.catInput(up, u, skips[i], hi, wi))
		yb := conv(up.b, input{a: ya, ca: up.a.conv.cout, h: hi, w: wi})
		cur = input{a: yb, ca: up.b.conv.cout, h: hi, w: wi}
	}
	k := int64(c.NClasses) * hw
	io.logits = b.f32("logits", int64(n)*k)
	io.prob = b.f32("prob", int64(n)*k)
	b.launch("conv1x1", int64(n)*hw, ptrArg(cur.a), intArg(l.last.cin), ptrArg(b.param(l.last.w)), ptrArg(b.param(l.last.b)),
		ptrArg(io.logits), intArg(n), intArg(c.NClasses), b.integer(hw))
	b.launch("sigmoid", int64(n)*k, ptrArg(io.logits), ptrArg(io.prob), b.integer(int64(n)*k))
	return io, b.prog
}

// compile plans and builds the program of a shape: a sizing pass, the
// layout, then (once alloc returns the memory) the emitting pass. alloc
// may be nil, for tests: the program is then built at address base 0x1000.
func compile(l *layout, st statePtrs, n, h, w int, train bool, guard int64, alloc func(int64) (Ptr, error)) (*program, error) {
	build := buildEval
	if train {
		build = buildTrain
	}
	p := newPlanner(guard)
	build(l, st, p, n, h, w)
	if p.err != nil {
		return nil, p.err
	}
	base := Ptr(0x1000)
	p.place(0)
	if alloc != nil {
		var err error
		if base, err = alloc(p.size); err != nil {
			return nil, err
		}
	}
	p.base = base
	io, launches := build(l, st, p, n, h, w)
	if p.err != nil {
		return nil, p.err
	}
	return &program{n: n, h: h, w: w, train: train, io: io, launches: launches, regions: p.order, size: p.size, mem: base, guard: guard}, nil
}
