package unet

import (
	"errors"
	"fmt"
	"math"

	"github.com/ctseg/ctseg/internal/augment"
	"github.com/ctseg/ctseg/internal/tensors"
)

// Batch is the input of both TrainStep and Predict: N samples of
// InChannels×H×W clipped HU (NCHW float32) and, for training, their
// NClasses×H×W labels (0 or 1). Predict does not read Label.
//
// A training batch may instead carry what the book's
// SegmentationAugmentation starts from, so that the engine augments it
// where it runs (a GPU engine on the device): Windows and Labels in place
// of Input and Label (left nil), the batch's one Transform, and the noise
// to add, drawn from NoiseKey (see package augment for every number). The
// engine then trains on the windows sampled under Transform with noise of
// σ = NoiseSigma added, and on the labels sampled the same way and
// thresholded at 0.5; StepResult's metrics count against those labels.
// Check says which combinations are valid.
type Batch struct {
	N, H, W int
	Input   []float32
	Label   []float32

	Windows    []int16        // N×InChannels×H×W clipped HU, augmented training only
	Labels     []uint8        // N×NClasses×H×W, 0 or 1, with Windows
	Transform  augment.Affine // with Windows: augment.Identity for no geometric change
	NoiseKey   augment.Key    // with Windows: the step's key (seed, step)
	NoiseSigma float32        // with Windows: σ of the noise in HU, 0 for none
}

// Augmented reports whether b carries windows to augment rather than a
// ready float input.
func (b Batch) Augmented() bool { return b.Windows != nil || b.Labels != nil }

// Check reports a batch that does not fit a model of configuration c, for
// training or for prediction. Every engine calls it first, so that all of
// them refuse the same batches with the same messages.
func (b Batch) Check(c Config, train bool) error {
	mul := c.Multiple()
	var err error
	switch {
	case b.N < 1 || b.H < 1 || b.W < 1:
		return fmt.Errorf("unet: bad input size %d×%d×%d", b.N, b.H, b.W)
	case b.H%mul != 0 || b.W%mul != 0:
		return fmt.Errorf("unet: input %d×%d: height and width must be multiples of %d", b.H, b.W, mul)
	case b.Augmented():
		err = b.checkAugmented(c, train)
	default:
		err = b.checkFloat(c, train)
	}
	if err == nil && train && b.N*(b.H/mul)*(b.W/mul) < 2 {
		// PyTorch refuses this too: the batch variance of one value.
		err = fmt.Errorf("unet: training needs more than one value per channel at the deepest level (input %d×%d×%d)", b.N, b.H, b.W)
	}
	return err
}

// checkFloat checks a batch of ready float inputs and labels.
func (b Batch) checkFloat(c Config, train bool) error {
	switch {
	case len(b.Input) != b.N*c.InChannels*b.H*b.W:
		return fmt.Errorf("unet: input has %d values, want %d×%d×%d×%d", len(b.Input), b.N, c.InChannels, b.H, b.W)
	case b.Transform != (augment.Affine{}) || b.NoiseSigma != 0:
		// Most likely a caller that forgot to set Windows: say so
		// rather than train on unaugmented data.
		return errors.New("unet: Transform and NoiseSigma apply to Windows, but the batch has none")
	case train && len(b.Label) != b.N*c.NClasses*b.H*b.W:
		return fmt.Errorf("unet: label has %d values, want %d×%d×%d×%d", len(b.Label), b.N, c.NClasses, b.H, b.W)
	}
	return nil
}

// checkAugmented checks a batch of windows to augment.
func (b Batch) checkAugmented(c Config, train bool) error {
	sigma := float64(b.NoiseSigma)
	switch {
	case !train:
		return errors.New("unet: prediction takes Input; Windows are for augmented training")
	case b.Input != nil || b.Label != nil:
		return errors.New("unet: a batch holds either Input and Label or Windows and Labels, not both")
	case len(b.Windows) != b.N*c.InChannels*b.H*b.W:
		return fmt.Errorf("unet: windows have %d values, want %d×%d×%d×%d", len(b.Windows), b.N, c.InChannels, b.H, b.W)
	case len(b.Labels) != b.N*c.NClasses*b.H*b.W:
		return fmt.Errorf("unet: labels have %d values, want %d×%d×%d×%d", len(b.Labels), b.N, c.NClasses, b.H, b.W)
	case b.Transform == augment.Affine{}:
		return errors.New("unet: augmented batch without a transform (augment.Identity for none)")
	case !b.Transform.Finite():
		return fmt.Errorf("unet: transform %v is not finite", b.Transform)
	case !(sigma >= 0) || math.IsInf(sigma, 0):
		return fmt.Errorf("unet: noise σ %v must be finite and ≥ 0", b.NoiseSigma)
	}
	return nil
}

// StepResult describes one training step, measured on the forward pass
// before the update (as the book logs it).
type StepResult struct {
	Loss     float64   // the book's loss of the batch
	DiceLoss []float64 // per sample 1 − Dice(p, l): the book's loss/all
	Metrics  Metrics   // pixel counts of the training-mode output at 0.5
}

// Prediction is the evaluation-mode output of a batch, N×NClasses×H×W.
type Prediction struct {
	Prob []float32 // the sigmoid's probabilities
	// Logits are the values before the sigmoid. Rank by them: in float32
	// the probabilities of confident pixels are exactly 1, and so are tied.
	Logits []float32
}

// Info describes an engine, for logs and for the conformance suite.
type Info struct {
	Name string // e.g. "cpu"
	// Deterministic engines give the same bits for the same computation
	// however it is arranged: resumed from a state dict or run straight
	// through, a sample predicted alone or within a batch.
	Deterministic bool
	// Tolerance is, for an engine that is not deterministic, how far two
	// such arrangements may differ, relative to each tensor's scale
	// (max|Δ|/max|x|). Zero for a deterministic engine.
	Tolerance float64
}

// ErrClosed is the error of an engine's methods after Close.
var ErrClosed = errors.New("unet: engine is closed")

// Engine runs a model. segtrain and segeval talk to the model only
// through this interface, so another engine (a GPU one) can replace the
// CPU engine without changing them; unettest.Conformance checks that an
// engine keeps this contract. An engine is not safe for concurrent use.
type Engine interface {
	// TrainStep runs the model in training mode on b (BatchNorm batch
	// statistics, running statistics updated), computes the loss and its
	// gradients and takes one Adam step. A batch of Windows is augmented
	// first, as Augmenter.Augment does it.
	TrainStep(b Batch) (StepResult, error)
	// Predict runs the model in evaluation mode (running statistics) on
	// b.Input.
	Predict(b Batch) (Prediction, error)
	// StateDict returns copies of the weights and buffers under PyTorch's
	// state_dict names plus the optimizer state under OptimizerPrefix.
	StateDict() (tensors.Dict, error)
	// LoadStateDict loads a dict from StateDict (or a PyTorch state_dict,
	// without optimizer state, which then starts afresh). Nothing changes
	// on error.
	LoadStateDict(d tensors.Dict) error
	// Config is the model's configuration.
	Config() Config
	// Info describes the engine.
	Info() Info
	// Close releases what the engine holds (a GPU engine's device
	// memory). Afterwards every method but Config, Info and Close fails
	// with ErrClosed; closing again does nothing.
	Close() error
}

// Tracer is an optional interface of an engine for the conformance
// suite, which checks a training step's intermediate values against
// PyTorch through it. segtrain does not use it.
type Tracer interface {
	Engine
	// TraceStep is TrainStep that also returns copies of what the step
	// computed on the way.
	TraceStep(b Batch) (StepResult, StepTrace, error)
}

// StepTrace holds a training step's intermediate values.
type StepTrace struct {
	Prob  []float32            // training-mode probabilities, N×NClasses×H×W
	Grads map[string][]float32 // ∂loss/∂parameter by state_dict name, as applied
}

// Augmenter is an optional interface of an engine for the conformance
// suite, which checks an engine's augmentation against PyTorch and
// package augment through it. segtrain does not use it.
type Augmenter interface {
	Engine
	// Augment returns the input (N×InChannels×H×W) and the 0/1 label
	// (N×NClasses×H×W) that TrainStep trains on for a batch of Windows.
	Augment(b Batch) (input, label []float32, err error)
}
