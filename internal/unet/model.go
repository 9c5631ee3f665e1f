// Package unet is the book's segmentation model (UNetWrapper of Deep
// Learning with PyTorch, chapter 13): its architecture, PyTorch state_dict
// names, weight initialisation, loss, pixel metrics and Adam optimiser, and
// an Engine interface for what runs it, whose contract package unettest
// checks. The CPU engine (NewCPU) runs the network as a gorgonia graph of
// custom operations backed by the float32 kernels of internal/nn.
package unet

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"

	"github.com/ctseg/ctseg/internal/tensors"
)

// Config is the UNetWrapper configuration. Padding, batch norm and the
// "upconv" up mode are fixed: they are the only ones ctseg implements.
type Config struct {
	InChannels int `json:"in_channels"`
	NClasses   int `json:"n_classes"`
	Depth      int `json:"depth"`
	WF         int `json:"wf"`
}

// BookConfig is the book's configuration: 7 input channels, 1 class, depth
// 3, wf 4 (118,271 parameters).
var BookConfig = Config{InChannels: 7, NClasses: 1, Depth: 3, WF: 4}

// Validate reports a configuration ctseg cannot build.
func (c Config) Validate() error {
	if c.InChannels < 1 || c.NClasses < 1 || c.Depth < 1 || c.WF < 0 || c.WF+c.Depth > 16 {
		return fmt.Errorf("unet: bad configuration %+v", c)
	}
	return nil
}

// Multiple is what the input height and width must be multiples of.
func (c Config) Multiple() int { return 1 << (c.Depth - 1) }

// BatchNorm constants, PyTorch's defaults.
const (
	BNEps      = 1e-5
	BNMomentum = 0.1
)

// Kind says what a state_dict entry is.
type Kind int

// Entry kinds.
const (
	ConvWeight  Kind = iota // Conv2d weight, Cout×Cin×K×K
	ConvTWeight             // ConvTranspose2d weight, Cin×Cout×2×2
	Bias                    // conv bias
	BNWeight                // BatchNorm weight (γ)
	BNBias                  // BatchNorm bias (β)
	RunningMean             // BatchNorm buffer
	RunningVar              // BatchNorm buffer
	NumBatches              // BatchNorm num_batches_tracked (int64 scalar)
)

// Trainable reports whether entries of this kind are parameters.
func (k Kind) Trainable() bool { return k <= BNBias }

// Entry is one state_dict tensor of the model.
type Entry struct {
	Name  string
	Kind  Kind
	Shape []int
	F32   []float32 // all kinds but NumBatches
	I64   []int64   // NumBatches, one element
}

// Model holds the weights and BatchNorm buffers of a UNetWrapper in
// PyTorch's state_dict order.
type Model struct {
	Config  Config
	Entries []*Entry
	byName  map[string]*Entry
}

// New returns a model with zero weights, BatchNorm weight 1, bias 0 and
// running statistics (0, 1): call Init for the book's random init.
func New(c Config) (*Model, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	m := &Model{Config: c, byName: map[string]*Entry{}}
	m.addBN("input_batchnorm", c.InChannels)
	prev := c.InChannels
	for i := 0; i < c.Depth; i++ {
		out := 1 << (c.WF + i)
		m.addBlock("unet.down_path."+strconv.Itoa(i)+".block", prev, out)
		prev = out
	}
	for j, i := 0, c.Depth-2; i >= 0; j, i = j+1, i-1 {
		out := 1 << (c.WF + i)
		p := "unet.up_path." + strconv.Itoa(j)
		m.add(p+".up.weight", ConvTWeight, prev, out, 2, 2)
		m.add(p+".up.bias", Bias, out)
		m.addBlock(p+".conv_block.block", prev, out)
		prev = out
	}
	m.add("unet.last.weight", ConvWeight, c.NClasses, prev, 1, 1)
	m.add("unet.last.bias", Bias, c.NClasses)
	return m, nil
}

func (m *Model) add(name string, k Kind, shape ...int) {
	e := &Entry{Name: name, Kind: k, Shape: shape}
	if k == NumBatches {
		e.I64 = make([]int64, 1)
	} else {
		n := 1
		for _, d := range shape {
			n *= d
		}
		e.F32 = make([]float32, n)
	}
	if k == BNWeight || k == RunningVar {
		for i := range e.F32 {
			e.F32[i] = 1
		}
	}
	m.Entries = append(m.Entries, e)
	m.byName[name] = e
}

// addBN adds a BatchNorm2d's parameters and buffers.
func (m *Model) addBN(p string, c int) {
	m.add(p+".weight", BNWeight, c)
	m.add(p+".bias", BNBias, c)
	m.add(p+".running_mean", RunningMean, c)
	m.add(p+".running_var", RunningVar, c)
	m.add(p+".num_batches_tracked", NumBatches)
}

// addBlock adds a UNetConvBlock: Conv3×3, ReLU, BN, Conv3×3, ReLU, BN at
// Sequential indexes 0…5.
func (m *Model) addBlock(p string, in, out int) {
	m.add(p+".0.weight", ConvWeight, out, in, 3, 3)
	m.add(p+".0.bias", Bias, out)
	m.addBN(p+".2", out)
	m.add(p+".3.weight", ConvWeight, out, out, 3, 3)
	m.add(p+".3.bias", Bias, out)
	m.addBN(p+".5", out)
}

// Entry returns the named entry, or nil.
func (m *Model) Entry(name string) *Entry { return m.byName[name] }

// Params returns the trainable entries in state_dict order.
func (m *Model) Params() []*Entry {
	var ps []*Entry
	for _, e := range m.Entries {
		if e.Kind.Trainable() {
			ps = append(ps, e)
		}
	}
	return ps
}

// ParamCount is the number of trainable scalars.
func (m *Model) ParamCount() int {
	n := 0
	for _, e := range m.Params() {
		n += len(e.F32)
	}
	return n
}

// Init draws the book's initial weights from rng: every conv and
// transposed-conv weight from Kaiming normal (fan_out, ReLU gain √2), each
// bias from Normal(−b, b) with b = 1/√fan_out, where fan_out is
// shape[0]·kernel area (for ConvTranspose2d shape[0] is in_channels, as in
// PyTorch's _calculate_fan_in_and_fan_out). BatchNorm starts at weight 1,
// bias 0, running statistics (0, 1), no batches tracked.
func (m *Model) Init(rng *rand.Rand) {
	var fanOut int
	for _, e := range m.Entries {
		switch e.Kind {
		case ConvWeight, ConvTWeight:
			fanOut = e.Shape[0] * e.Shape[2] * e.Shape[3]
			std := math.Sqrt(2) / math.Sqrt(float64(fanOut))
			for i := range e.F32 {
				e.F32[i] = float32(rng.NormFloat64() * std)
			}
		case Bias:
			b := 1 / math.Sqrt(float64(fanOut))
			for i := range e.F32 {
				e.F32[i] = float32(-b + b*rng.NormFloat64())
			}
		case BNWeight, RunningVar:
			fill(e.F32, 1)
		case BNBias, RunningMean:
			fill(e.F32, 0)
		case NumBatches:
			e.I64[0] = 0
		}
	}
}

func fill(s []float32, v float32) {
	for i := range s {
		s[i] = v
	}
}

// StateDict returns copies of the weights and buffers under PyTorch's
// state_dict names.
func (m *Model) StateDict() tensors.Dict {
	d := tensors.Dict{}
	for _, e := range m.Entries {
		t := tensors.Tensor{Shape: append([]int(nil), e.Shape...)}
		if e.Kind == NumBatches {
			t.DType, t.I64 = tensors.I64, append([]int64(nil), e.I64...)
		} else {
			t.DType, t.F32 = tensors.F32, append([]float32(nil), e.F32...)
		}
		d[e.Name] = t
	}
	return d
}

// LoadStateDict copies every model entry from d. Names in d that are not
// model entries are ignored (optimizer state travels in the same dict);
// a missing name or a wrong shape or type is an error, and the model is
// left unchanged then.
func (m *Model) LoadStateDict(d tensors.Dict) error {
	for _, e := range m.Entries {
		if err := checkEntry(e, d); err != nil {
			return err
		}
	}
	for _, e := range m.Entries {
		t := d[e.Name]
		if e.Kind == NumBatches {
			if t.DType == tensors.F32 {
				e.I64[0] = int64(t.F32[0])
			} else {
				e.I64[0] = t.I64[0]
			}
			continue
		}
		copy(e.F32, t.F32)
	}
	return nil
}

// checkEntry reports whether d holds a tensor that fits e.
func checkEntry(e *Entry, d tensors.Dict) error {
	t, ok := d[e.Name]
	if !ok {
		return fmt.Errorf("unet: state dict has no %q", e.Name)
	}
	if e.Kind == NumBatches {
		// PyTorch keeps it as a 0-d int64; accept a 1-element tensor too.
		if t.Len() != 1 || (t.DType != tensors.I64 && t.DType != tensors.F32) || len(t.I64)+len(t.F32) != 1 {
			return fmt.Errorf("unet: %q: want one int64, got %s %v", e.Name, t.DType, t.Shape)
		}
		return nil
	}
	if t.DType != tensors.F32 || len(t.F32) != len(e.F32) || !slices.Equal(t.Shape, e.Shape) {
		return fmt.Errorf("unet: %q: want F32 %v, got %s %v", e.Name, e.Shape, t.DType, t.Shape)
	}
	return nil
}
