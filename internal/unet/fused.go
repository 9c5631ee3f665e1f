package unet

import (
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/ctseg/ctseg/internal/nn"
)

// convReLUBN adds Conv2d → ReLU → BatchNorm2d as one operation, with
// inputs (x…, conv weight, conv bias, BN weight, BN bias); two x inputs
// are joined on the channel axis (torch.cat([x0, x1], 1)) without building
// the joined tensor. Evaluation folds ReLU and BatchNorm into the
// convolution's epilogue: one pass over the output. Training keeps the
// ReLU output (the BatchNorm input) inside the op, and its backward op runs
// BatchNorm backward with the ReLU mask, then both convolution gradients,
// in one step.
func (b *builder) convReLUBN(cp, bp string, xs ...*G.Node) *G.Node {
	w, bias := b.param(cp+".weight"), b.param(cp+".bias")
	gamma, beta := b.param(bp+".weight"), b.param(bp+".bias")
	rm, rv, nb := b.m.Entry(bp+".running_mean"), b.m.Entry(bp+".running_var"), b.m.Entry(bp+".num_batches_tracked")
	if b.err != nil || rm == nil || rv == nil || nb == nil || len(xs) < 1 || len(xs) > 2 || xs[0] == nil || xs[len(xs)-1] == nil {
		b.fail(fmt.Errorf("unet: %s/%s: missing input or buffer", cp, bp))
		return nil
	}
	n, ca, h, wd := dims(xs[0])
	ws := b.m.Entry(cp + ".weight").Shape
	cs := nn.Conv{N: n, Cin: ws[1], Cout: ws[0], H: h, W: wd, K: ws[2]}
	if len(xs) == 1 {
		ca = cs.Cin
	}
	cat := func(in [][]float32) nn.Cat {
		if len(xs) == 1 {
			return nn.Cat{A: in[0], CA: ca}
		}
		return nn.Cat{A: in[0], CA: ca, B: in[1]}
	}
	nx := len(xs)
	bs := nn.BN{N: n, C: cs.Cout, HW: h * wd, Eps: BNEps}
	k := b.workers
	shape := tensor.Shape{n, cs.Cout, h, wd}
	inDims := append(make([]int, 0, nx+4), 4)
	if nx == 2 {
		inDims = append(inDims, 4)
	}
	inDims = append(inDims, 4, 1, 1, 1)
	args := append(append(G.Nodes{}, xs...), w, bias, gamma, beta)
	if !b.net.train {
		op := newKernelOp("conv-relu-bn(eval) "+cp, shape, inDims, func(in [][]float32, out []float32) error {
			p := in[nx:]
			scale, shift := bs.EvalAffine(p[2], p[3], rm.F32, rv.F32)
			cs.ForwardCat(cat(in), p[0], p[1], out, nn.Epilogue{ReLU: true, Scale: scale, Shift: shift}, k)
			return nil
		})
		return b.apply(op, args...)
	}
	r := make([]float32, shape.TotalSize()) // ReLU output = BatchNorm input
	st := &nn.Stats{}
	op := newKernelOp("conv-relu-bn "+cp, shape, inDims, func(in [][]float32, out []float32) error {
		p := in[nx:]
		cs.ForwardCat(cat(in), p[0], p[1], r, nn.Epilogue{ReLU: true}, k)
		bs.TrainForward(r, p[2], p[3], out, st, k)
		bs.UpdateRunning(st, rm.F32, rv.F32, BNMomentum)
		nb.I64[0]++
		return nil
	})
	op.wrt = make([]bool, len(args))
	for i := range op.wrt {
		op.wrt[i] = true
	}
	op.diff = func(in G.Nodes, _, grad *G.Node) (G.Nodes, error) {
		dpre := make([]float32, shape.TotalSize())
		dw, db := make([]float32, len(b.m.Entry(cp+".weight").F32)), make([]float32, cs.Cout)
		dg, dbeta := make([]float32, cs.Cout), make([]float32, cs.Cout)
		bwIn := append(append(G.Nodes{}, in[:nx]...), in[nx], in[nx+2], grad)
		bwDims := append(append([]int{}, inDims[:nx]...), 4, 1, 4)
		bw := newKernelOp("d(conv-relu-bn) "+cp, tensor.Shape{n, cs.Cin, h, wd}, bwDims,
			func(in [][]float32, dx []float32) error {
				p := in[nx:]
				bs.BackwardReLU(r, p[1], p[2], st, dpre, dg, dbeta, k)
				cs.BackwardWeightCat(cat(in), dpre, dw, db, k)
				cs.BackwardData(dpre, p[0], dx, k)
				return nil
			})
		dx := b.apply(bw, bwIn...)
		grads := G.Nodes{dx}
		if nx == 2 {
			grads = G.Nodes{b.channels(dx, 0, ca), b.channels(dx, ca, cs.Cin)}
		}
		return append(grads,
			b.stash("dconv/dw "+cp, dx, tensor.Shape(ws).Clone(), dw),
			b.stash("dconv/db "+cp, dx, tensor.Shape{cs.Cout}, db),
			b.stash("dbn/dgamma "+bp, dx, tensor.Shape{cs.Cout}, dg),
			b.stash("dbn/dbeta "+bp, dx, tensor.Shape{cs.Cout}, dbeta)), b.err
	}
	return b.apply(op, args...)
}

// channels adds an op that copies channels [c0, c1) of an NCHW node: the
// gradient of one part of a channel concatenation.
func (b *builder) channels(x *G.Node, c0, c1 int) *G.Node {
	if b.err != nil || x == nil {
		return nil
	}
	n, c, h, wd := dims(x)
	op := newKernelOp("channels", tensor.Shape{n, c1 - c0, h, wd}, []int{4}, func(in [][]float32, out []float32) error {
		nn.SplitChannels(in[0], n, c, c0, c1, h*wd, out)
		return nil
	})
	return b.apply(op, x)
}
