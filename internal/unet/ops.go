package unet

import (
	"fmt"
	"hash"
	"hash/fnv"
	"sync/atomic"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	// gorgonia's dependencies refuse to start on a Go release they have not
	// vetted unless this package vouches for the runtime's non-moving GC.
	_ "go4.org/unsafe/assume-no-moving-gc"
)

// opIDs makes every kernelOp's hash unique: gorgonia merges nodes whose op
// hash and children are equal, and two layers must never be merged.
var opIDs atomic.Uint64

// kernelOp is a gorgonia Op whose work is a Go function over the float32
// data of its inputs. It owns its output buffer, allocated once for the
// graph's fixed shapes and overwritten on each run, which keeps a training
// step free of per-step tensor allocations.
type kernelOp struct {
	name   string
	id     uint64
	inDims []int        // rank of each input; 0 is a scalar
	shape  tensor.Shape // output shape; empty for a scalar
	out    []float32
	run    func(in [][]float32, out []float32) error
	// diff returns the gradient nodes of the inputs (nil where wrt is false).
	diff func(in G.Nodes, out, grad *G.Node) (G.Nodes, error)
	wrt  []bool
}

func newKernelOp(name string, shape tensor.Shape, inDims []int, run func(in [][]float32, out []float32) error) *kernelOp {
	return &kernelOp{name: name, id: opIDs.Add(1), inDims: inDims, shape: shape,
		out: make([]float32, max(shape.TotalSize(), 1)), run: run, wrt: make([]bool, len(inDims))}
}

// Arity is the number of inputs.
func (o *kernelOp) Arity() int { return len(o.inDims) }

// Type is a → … → a over float tensors of the inputs' ranks.
func (o *kernelOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	ts := make([]hm.Type, 0, len(o.inDims)+1)
	for _, d := range append(append([]int(nil), o.inDims...), len(o.shape)) {
		if d == 0 {
			ts = append(ts, a)
		} else {
			ts = append(ts, &G.TensorType{Dims: d, Of: a})
		}
	}
	return hm.NewFnType(ts...)
}

// InferShape returns the fixed output shape.
func (o *kernelOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	if len(o.shape) == 0 {
		return tensor.ScalarShape(), nil
	}
	return o.shape.Clone(), nil
}

// Do runs the kernel on the inputs' data.
func (o *kernelOp) Do(vals ...G.Value) (G.Value, error) {
	if len(vals) != len(o.inDims) {
		return nil, fmt.Errorf("%s: %d inputs, want %d", o.name, len(vals), len(o.inDims))
	}
	in := make([][]float32, len(vals))
	for i, v := range vals {
		switch d := v.Data().(type) {
		case []float32:
			in[i] = d
		case float32:
			in[i] = []float32{d}
		default:
			return nil, fmt.Errorf("%s: input %d is %T, want float32", o.name, i, d)
		}
	}
	if err := o.run(in, o.out); err != nil {
		return nil, fmt.Errorf("%s: %w", o.name, err)
	}
	if len(o.shape) == 0 {
		return G.NewF32(o.out[0]), nil
	}
	return tensor.New(tensor.WithBacking(o.out), tensor.WithShape(o.shape...)), nil
}

// ReturnsPtr is false: the output is the op's own buffer, not an input.
func (o *kernelOp) ReturnsPtr() bool { return false }

// CallsExtern is false: pure Go.
func (o *kernelOp) CallsExtern() bool { return false }

// OverwritesInput is -1: inputs are never written.
func (o *kernelOp) OverwritesInput() int { return -1 }

// WriteHash writes the op's unique name.
func (o *kernelOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "%s#%d", o.name, o.id) }

// Hashcode is the FNV hash of WriteHash.
func (o *kernelOp) Hashcode() uint32 {
	h := fnv.New32a()
	o.WriteHash(h)
	return h.Sum32()
}

// String names the op (layer) for gorgonia's messages.
func (o *kernelOp) String() string { return o.name }

// DiffWRT reports which inputs have gradients.
func (o *kernelOp) DiffWRT(n int) []bool {
	w := make([]bool, n)
	copy(w, o.wrt)
	return w
}

// SymDiff builds the gradient nodes of the inputs.
func (o *kernelOp) SymDiff(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	if o.diff == nil {
		return nil, fmt.Errorf("%s is not differentiable", o.name)
	}
	return o.diff(in, out, grad)
}
