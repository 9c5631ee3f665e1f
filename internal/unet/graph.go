package unet

import (
	"fmt"
	"strconv"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/ctseg/ctseg/internal/nn"
)

// net is the gorgonia graph of the model for one input shape and mode,
// with its compiled machine. Parameter nodes wrap the model's own slices,
// so updates to the model are seen by the next run without copying.
type net struct {
	n, h, w int
	train   bool
	g       *G.ExprGraph
	vm      G.VM
	input   []float32 // backing of the input node
	label   []float32 // backing of the label node (training only)
	logits  *kernelOp // the last convolution, whose buffer holds the logits
	prob    *kernelOp // the sigmoid, whose buffer holds the output
	loss    Loss      // the last run's loss (training only)
	grads   map[string]*G.Node
}

// builder assembles a net; the first error sticks and later calls no-op.
type builder struct {
	m       *Model
	net     *net
	workers int
	params  map[string]*G.Node
	err     error
}

func buildNet(m *Model, n, h, w int, train bool, workers int) (*net, error) {
	c := m.Config
	nt := &net{n: n, h: h, w: w, train: train, g: G.NewGraph()}
	b := &builder{m: m, net: nt, workers: workers, params: map[string]*G.Node{}}
	nt.input = make([]float32, n*c.InChannels*h*w)
	out := b.forward(dataNode(nt.g, "input", nt.input, n, c.InChannels, h, w))
	if b.err != nil {
		return nil, b.err
	}
	if !train {
		nt.vm = G.NewTapeMachine(nt.g, G.EvalMode())
		return nt, nil
	}
	nt.label = make([]float32, n*c.NClasses*h*w)
	cost := b.loss(out, dataNode(nt.g, "label", nt.label, n, c.NClasses, h, w))
	if b.err != nil {
		return nil, b.err
	}
	if err := b.gradients(cost); err != nil {
		return nil, err
	}
	nt.vm = G.NewTapeMachine(nt.g)
	return nt, nil
}

// dataNode adds an input node backed by buf, which the engine fills
// before each run.
func dataNode(g *G.ExprGraph, name string, buf []float32, shape ...int) *G.Node {
	return G.NewTensor(g, G.Float32, len(shape), G.WithShape(shape...), G.WithName(name),
		G.WithValue(tensor.New(tensor.WithBacking(buf), tensor.WithShape(shape...))))
}

// gradients adds the backward graph of cost (symbolic differentiation
// through the ops' SymDiff) and records each parameter's gradient node.
func (b *builder) gradients(cost *G.Node) error {
	params := b.m.Params()
	wrt := make(G.Nodes, len(params))
	for i, p := range params {
		wrt[i] = b.params[p.Name]
	}
	grads, err := G.Grad(cost, wrt...)
	if err != nil {
		return fmt.Errorf("unet: building gradients: %w", err)
	}
	b.net.grads = map[string]*G.Node{}
	for i, p := range params {
		b.net.grads[p.Name] = grads[i]
	}
	return nil
}

// forward adds UNetWrapper: input BatchNorm, the U-Net, sigmoid.
func (b *builder) forward(x *G.Node) *G.Node {
	c := b.m.Config
	x = b.bn(x, "input_batchnorm", false)
	var skips []*G.Node
	for i := 0; i < c.Depth; i++ {
		x = b.block("unet.down_path."+strconv.Itoa(i)+".block", x)
		if i != c.Depth-1 {
			skips = append(skips, x)
			x = b.pool(x)
		}
	}
	for j := 0; j < c.Depth-1; j++ {
		p := "unet.up_path." + strconv.Itoa(j)
		up := b.convT(x, p+".up")
		// torch.cat([up, skip], 1) is read in place by the first conv.
		x = b.block(p+".conv_block.block", up, skips[len(skips)-1-j])
	}
	x = b.conv(x, "unet.last")
	if x != nil {
		b.net.logits = x.Op().(*kernelOp)
	}
	return b.sigmoid(x)
}

// block adds a UNetConvBlock: conv, ReLU, BN, conv, ReLU, BN, as two
// fused conv-ReLU-BN operations. Two inputs are joined on channels.
func (b *builder) block(p string, xs ...*G.Node) *G.Node {
	x := b.convReLUBN(p+".0", p+".2", xs...)
	return b.convReLUBN(p+".3", p+".5", x)
}

// param returns the node of a model entry, creating it on first use.
func (b *builder) param(name string) *G.Node {
	if n, ok := b.params[name]; ok {
		return n
	}
	e := b.m.Entry(name)
	if e == nil {
		b.fail(fmt.Errorf("unet: no model entry %q", name))
		return nil
	}
	n := dataNode(b.net.g, name, e.F32, e.Shape...)
	b.params[name] = n
	return n
}

func (b *builder) fail(err error) {
	if b.err == nil {
		b.err = err
	}
}

// apply adds op to the graph with the given inputs.
func (b *builder) apply(op *kernelOp, in ...*G.Node) *G.Node {
	if b.err != nil {
		return nil
	}
	for _, n := range in {
		if n == nil {
			b.fail(fmt.Errorf("unet: %s: missing input", op.name))
			return nil
		}
	}
	n, err := G.ApplyOp(op, in...)
	if err != nil {
		b.fail(fmt.Errorf("unet: adding %s: %w", op.name, err))
		return nil
	}
	return n
}

// dims returns the 4 dimensions of an NCHW node.
func dims(x *G.Node) (n, c, h, w int) {
	s := x.Shape()
	return s[0], s[1], s[2], s[3]
}

// stash passes a value computed by another op on as its own node: ops
// that produce several gradients at once return one and stash the others.
func (b *builder) stash(name string, src *G.Node, shape tensor.Shape, data []float32) *G.Node {
	op := newKernelOp(name, shape, []int{src.Dims()}, func(_ [][]float32, out []float32) error {
		copy(out, data)
		return nil
	})
	return b.apply(op, src)
}

// conv adds Conv2d (3×3 padding 1, or 1×1) with bias, from the entry's shape.
func (b *builder) conv(x *G.Node, p string) *G.Node {
	w, bias := b.param(p+".weight"), b.param(p+".bias")
	if b.err != nil || x == nil {
		b.fail(fmt.Errorf("unet: conv %s: missing input", p))
		return nil
	}
	n, _, h, wd := dims(x)
	ws := b.m.Entry(p + ".weight").Shape
	s := nn.Conv{N: n, Cin: ws[1], Cout: ws[0], H: h, W: wd, K: ws[2]}
	k := b.workers
	op := newKernelOp("conv "+p, tensor.Shape{n, s.Cout, h, wd}, []int{4, 4, 1}, func(in [][]float32, out []float32) error {
		s.Forward(in[0], in[1], in[2], out, k)
		return nil
	})
	op.wrt = []bool{true, true, true}
	op.diff = func(in G.Nodes, _, grad *G.Node) (G.Nodes, error) {
		dx := newKernelOp("dconv/dx "+p, tensor.Shape{n, s.Cin, h, wd}, []int{4, 4}, func(in [][]float32, out []float32) error {
			s.BackwardData(in[0], in[1], out, k)
			return nil
		})
		db := make([]float32, s.Cout)
		dw := newKernelOp("dconv/dw "+p, tensor.Shape(ws).Clone(), []int{4, 4}, func(in [][]float32, out []float32) error {
			s.BackwardWeight(in[0], in[1], out, db, k)
			return nil
		})
		dwn := b.apply(dw, in[0], grad)
		return G.Nodes{b.apply(dx, grad, in[1]), dwn, b.stash("dconv/db "+p, dwn, tensor.Shape{s.Cout}, db)}, b.err
	}
	return b.apply(op, x, w, bias)
}

// convT adds ConvTranspose2d(k 2, s 2) with bias.
func (b *builder) convT(x *G.Node, p string) *G.Node {
	w, bias := b.param(p+".weight"), b.param(p+".bias")
	if b.err != nil || x == nil {
		b.fail(fmt.Errorf("unet: convT %s: missing input", p))
		return nil
	}
	n, _, h, wd := dims(x)
	ws := b.m.Entry(p + ".weight").Shape
	s := nn.ConvT{N: n, Cin: ws[0], Cout: ws[1], H: h, W: wd}
	k := b.workers
	op := newKernelOp("convT "+p, tensor.Shape{n, s.Cout, 2 * h, 2 * wd}, []int{4, 4, 1}, func(in [][]float32, out []float32) error {
		s.Forward(in[0], in[1], in[2], out, k)
		return nil
	})
	op.wrt = []bool{true, true, true}
	op.diff = func(in G.Nodes, _, grad *G.Node) (G.Nodes, error) {
		dx := newKernelOp("dconvT/dx "+p, tensor.Shape{n, s.Cin, h, wd}, []int{4, 4}, func(in [][]float32, out []float32) error {
			s.BackwardData(in[0], in[1], out, k)
			return nil
		})
		db := make([]float32, s.Cout)
		dw := newKernelOp("dconvT/dw "+p, tensor.Shape(ws).Clone(), []int{4, 4}, func(in [][]float32, out []float32) error {
			s.BackwardWeight(in[0], in[1], out, db, k)
			return nil
		})
		dwn := b.apply(dw, in[0], grad)
		return G.Nodes{b.apply(dx, grad, in[1]), dwn, b.stash("dconvT/db "+p, dwn, tensor.Shape{s.Cout}, db)}, b.err
	}
	return b.apply(op, x, w, bias)
}

// bn adds BatchNorm2d: batch statistics and running-statistics update in
// training, running statistics in evaluation. needDx is false for the
// input BatchNorm, whose input (the data) needs no gradient.
func (b *builder) bn(x *G.Node, p string, needDx bool) *G.Node {
	gamma, beta := b.param(p+".weight"), b.param(p+".bias")
	rm, rv, nb := b.m.Entry(p+".running_mean"), b.m.Entry(p+".running_var"), b.m.Entry(p+".num_batches_tracked")
	if b.err != nil || x == nil || rm == nil || rv == nil || nb == nil {
		b.fail(fmt.Errorf("unet: batchnorm %s: missing input or buffer", p))
		return nil
	}
	n, c, h, wd := dims(x)
	s := nn.BN{N: n, C: c, HW: h * wd, Eps: BNEps}
	k := b.workers
	shape := tensor.Shape{n, c, h, wd}
	if !b.net.train {
		op := newKernelOp("bn(eval) "+p, shape, []int{4, 1, 1}, func(in [][]float32, out []float32) error {
			s.EvalForward(in[0], in[1], in[2], rm.F32, rv.F32, out, k)
			return nil
		})
		return b.apply(op, x, gamma, beta)
	}
	st := &nn.Stats{}
	op := newKernelOp("bn "+p, shape, []int{4, 1, 1}, func(in [][]float32, out []float32) error {
		s.TrainForward(in[0], in[1], in[2], out, st, k)
		s.UpdateRunning(st, rm.F32, rv.F32, BNMomentum)
		nb.I64[0]++
		return nil
	})
	op.wrt = []bool{needDx, true, true}
	op.diff = func(in G.Nodes, _, grad *G.Node) (G.Nodes, error) {
		dg, db := make([]float32, c), make([]float32, c)
		bw := newKernelOp("dbn "+p, shape, []int{4, 1, 4}, func(in [][]float32, out []float32) error {
			dx := out
			if !needDx {
				dx = nil
			}
			s.Backward(in[0], in[1], in[2], st, dx, dg, db, k)
			return nil
		})
		bwn := b.apply(bw, in[0], in[1], grad)
		var dxn *G.Node
		if needDx {
			dxn = bwn
		}
		return G.Nodes{dxn, b.stash("dbn/dgamma "+p, bwn, tensor.Shape{c}, dg),
			b.stash("dbn/dbeta "+p, bwn, tensor.Shape{c}, db)}, b.err
	}
	return b.apply(op, x, gamma, beta)
}

// unary adds an element-wise op whose backward pass needs its output and
// the incoming gradient.
func (b *builder) unary(name string, x *G.Node, fwd, bwd func(a, b, out []float32, workers int)) *G.Node {
	if b.err != nil || x == nil {
		b.fail(fmt.Errorf("unet: %s: missing input", name))
		return nil
	}
	shape := x.Shape().Clone()
	k := b.workers
	op := newKernelOp(name, shape, []int{4}, func(in [][]float32, out []float32) error {
		fwd(in[0], nil, out, k)
		return nil
	})
	op.wrt = []bool{true}
	op.diff = func(_ G.Nodes, out, grad *G.Node) (G.Nodes, error) {
		d := newKernelOp("d"+name, shape, []int{4, 4}, func(in [][]float32, o []float32) error {
			bwd(in[0], in[1], o, k)
			return nil
		})
		return G.Nodes{b.apply(d, out, grad)}, b.err
	}
	return b.apply(op, x)
}

func (b *builder) sigmoid(x *G.Node) *G.Node {
	out := b.unary("sigmoid", x, func(a, _, o []float32, k int) { nn.Sigmoid(a, o, k) }, nn.SigmoidBackward)
	if out != nil {
		b.net.prob = out.Op().(*kernelOp)
	}
	return out
}

// pool adds avg_pool2d(2).
func (b *builder) pool(x *G.Node) *G.Node {
	if b.err != nil || x == nil {
		b.fail(fmt.Errorf("unet: pool: missing input"))
		return nil
	}
	n, c, h, wd := dims(x)
	s := nn.AvgPool2{Planes: n * c, H: h, W: wd}
	k := b.workers
	op := newKernelOp("avgpool", tensor.Shape{n, c, h / 2, wd / 2}, []int{4}, func(in [][]float32, out []float32) error {
		s.Forward(in[0], out, k)
		return nil
	})
	op.wrt = []bool{true}
	op.diff = func(_ G.Nodes, _, grad *G.Node) (G.Nodes, error) {
		d := newKernelOp("davgpool", tensor.Shape{n, c, h, wd}, []int{4}, func(in [][]float32, out []float32) error {
			s.Backward(in[0], out, k)
			return nil
		})
		return G.Nodes{b.apply(d, grad)}, b.err
	}
	return b.apply(op, x)
}

// loss adds the book's loss as a scalar node; its value also lands in
// net.loss.
func (b *builder) loss(p, label *G.Node) *G.Node {
	if b.err != nil || p == nil {
		b.fail(fmt.Errorf("unet: loss: missing input"))
		return nil
	}
	n := p.Shape()[0]
	nt := b.net
	op := newKernelOp("diceloss", tensor.Shape{}, []int{4, 4}, func(in [][]float32, out []float32) error {
		nt.loss = ComputeLoss(in[0], in[1], n)
		out[0] = float32(nt.loss.Total)
		return nil
	})
	op.wrt = []bool{true, false}
	op.diff = func(in G.Nodes, _, grad *G.Node) (G.Nodes, error) {
		d := newKernelOp("ddiceloss", p.Shape().Clone(), []int{4, 4, 0}, func(in [][]float32, out []float32) error {
			LossGrad(in[0], in[1], n, float64(in[2][0]), out)
			return nil
		})
		return G.Nodes{b.apply(d, in[0], in[1], grad), nil}, b.err
	}
	return b.apply(op, p, label)
}
