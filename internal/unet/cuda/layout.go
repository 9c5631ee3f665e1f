package cuda

import (
	"fmt"
	"strconv"

	"github.com/ctseg/ctseg/internal/unet"
)

// layout places a model's tensors in the engine's flat device arrays and
// describes its layers: the trainable parameters, in state_dict order, in
// one float32 array (their gradients and Adam moments in arrays of the same
// layout), the BatchNorm running statistics in another, and each layer's
// offsets into them.
type layout struct {
	cfg     unet.Config
	params  []*unet.Entry  // trainable entries, state_dict order
	off     map[string]int // float offset of a parameter in the parameter array, of a running statistic in the buffer array
	nParams int            // floats in the parameter array
	nBufs   int            // floats in the running-statistics array
	nEval   int            // floats in each evaluation affine array (Σ BatchNorm channels)
	bns     []*bnSpec      // every BatchNorm, state_dict order
	convs   []*convSpec    // every convolution with a data gradient, for the flipped weights
	inBN    *bnSpec
	down    []level
	up      []upLevel
	last    *convSpec
}

// convSpec is a convolution (K 3 or 1) or transposed convolution (K 2).
type convSpec struct {
	name      string // state_dict prefix
	cin, cout int
	k         int
	w, b      int // parameter offsets of weight and bias
}

// weights is the size of the weight.
func (c *convSpec) weights() int { return c.cin * c.cout * c.k * c.k }

// bnSpec is a BatchNorm2d.
type bnSpec struct {
	name        string // state_dict prefix
	c           int
	gamma, beta int         // parameter offsets
	mean, vr    int         // running-statistics offsets
	ev          int         // offset in the evaluation affine arrays
	numBatches  *unet.Entry // num_batches_tracked, counted on the host
}

// convBN is a UNetConvBlock half: Conv3×3, ReLU, BatchNorm.
type convBN struct {
	conv *convSpec
	bn   *bnSpec
}

// level is a down block; up levels add the transposed convolution.
type level struct{ a, b convBN }

type upLevel struct {
	t    *convSpec
	a, b convBN
}

// newLayout lays out m, whose entries unet.New made.
func newLayout(m *unet.Model) (*layout, error) {
	c := m.Config
	l := &layout{cfg: c, params: m.Params(), off: map[string]int{}}
	for _, e := range l.params {
		l.off[e.Name] = l.nParams
		l.nParams += len(e.F32)
	}
	for _, e := range m.Entries {
		if e.Kind == unet.RunningMean || e.Kind == unet.RunningVar {
			l.off[e.Name] = l.nBufs
			l.nBufs += len(e.F32)
		}
	}
	var err error
	nconv := 0
	entry := func(name string, k unet.Kind, size int) *unet.Entry {
		e := m.Entry(name)
		switch {
		case err != nil:
		case e == nil:
			err = fmt.Errorf("cuda: model has no %q", name)
		case e.Kind != k || (k != unet.NumBatches && len(e.F32) != size):
			err = fmt.Errorf("cuda: model entry %q is not what the layout expects", name)
		}
		return e
	}
	bn := func(p string, ch int) *bnSpec {
		entry(p+".weight", unet.BNWeight, ch)
		entry(p+".bias", unet.BNBias, ch)
		entry(p+".running_mean", unet.RunningMean, ch)
		entry(p+".running_var", unet.RunningVar, ch)
		b := &bnSpec{name: p, c: ch, ev: l.nEval, numBatches: entry(p+".num_batches_tracked", unet.NumBatches, 1)}
		b.gamma, b.beta = l.off[p+".weight"], l.off[p+".bias"]
		b.mean, b.vr = l.off[p+".running_mean"], l.off[p+".running_var"]
		l.nEval += ch
		l.bns = append(l.bns, b)
		return b
	}
	conv := func(p string, cin, cout, k int, kind unet.Kind, dgrad bool) *convSpec {
		cs := &convSpec{name: p, cin: cin, cout: cout, k: k}
		nconv++
		entry(p+".weight", kind, cin*cout*k*k)
		entry(p+".bias", unet.Bias, cout)
		cs.w, cs.b = l.off[p+".weight"], l.off[p+".bias"]
		if dgrad {
			l.convs = append(l.convs, cs)
		}
		return cs
	}
	block := func(p string, cin, cout int, dgrad bool) level {
		return level{
			a: convBN{conv(p+".0", cin, cout, 3, unet.ConvWeight, dgrad), bn(p+".2", cout)},
			b: convBN{conv(p+".3", cout, cout, 3, unet.ConvWeight, true), bn(p+".5", cout)},
		}
	}
	l.inBN = bn("input_batchnorm", c.InChannels)
	prev := c.InChannels
	for i := 0; i < c.Depth; i++ {
		out := 1 << (c.WF + i)
		// The first convolution's input is the input BatchNorm's output:
		// its data gradient feeds only that BatchNorm's γ and β, which
		// are parameters, so it is computed too.
		l.down = append(l.down, block("unet.down_path."+strconv.Itoa(i)+".block", prev, out, true))
		prev = out
	}
	for j, i := 0, c.Depth-2; i >= 0; j, i = j+1, i-1 {
		out := 1 << (c.WF + i)
		p := "unet.up_path." + strconv.Itoa(j)
		up := upLevel{t: conv(p+".up", prev, out, 2, unet.ConvTWeight, false)}
		lv := block(p+".conv_block.block", prev, out, true)
		up.a, up.b = lv.a, lv.b
		l.up = append(l.up, up)
		prev = out
	}
	l.last = conv("unet.last", prev, c.NClasses, 1, unet.ConvWeight, true)
	if err != nil {
		return nil, err
	}
	if n := len(l.params); n != 2*len(l.bns)+2*nconv {
		// Two parameters a layer: the count guards against a model with
		// layers the layout does not know.
		return nil, fmt.Errorf("cuda: layout found %d BatchNorms and %d convolutions for %d parameters", len(l.bns), nconv, n)
	}
	return l, nil
}

// top is the last convBN, whose output the 1×1 head reads.
func (l *layout) top() convBN {
	if len(l.up) > 0 {
		return l.up[len(l.up)-1].b
	}
	return l.down[len(l.down)-1].b
}
