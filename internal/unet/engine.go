package unet

import (
	"fmt"

	"github.com/ctseg/ctseg/internal/tensors"
)

// Batch is a training batch: N samples of InChannels×H×W inputs (clipped
// HU, NCHW) and NClasses×H×W labels (0 or 1).
type Batch struct {
	N, H, W int
	Input   []float32
	Label   []float32
}

// StepResult describes one training step, measured on the forward pass
// before the update (as the book logs it).
type StepResult struct {
	Loss    float64   // the book's loss of the batch
	Dice    []float64 // per sample 1 − Dice(p, l) (the book's loss/all)
	Metrics Metrics   // pixel counts of the training-mode output at 0.5
}

// Engine runs a model. segtrain and segeval talk to the model only
// through this interface, so another engine (a GPU one) can replace the
// CPU engine without changing them.
type Engine interface {
	// TrainStep runs the model in training mode on b (BatchNorm batch
	// statistics, running statistics updated), computes the loss and its
	// gradients and takes one Adam step.
	TrainStep(b Batch) (StepResult, error)
	// Predict returns the N×NClasses×H×W probabilities of an
	// N×InChannels×H×W input in evaluation mode (running statistics).
	Predict(input []float32, n, h, w int) ([]float32, error)
	// StateDict returns the weights and buffers under PyTorch's
	// state_dict names plus the optimizer state under OptimizerPrefix.
	StateDict() tensors.Dict
	// LoadStateDict loads a dict from StateDict (or a PyTorch state_dict,
	// without optimizer state, which then starts afresh).
	LoadStateDict(d tensors.Dict) error
	// Config is the model's configuration.
	Config() Config
}

// checkInput reports an input batch whose sizes do not fit the model.
func checkInput(c Config, input []float32, n, h, w int, train bool) error {
	mul := c.Multiple()
	switch {
	case n < 1 || h < 1 || w < 1:
		return fmt.Errorf("unet: bad input size %d×%d×%d", n, h, w)
	case h%mul != 0 || w%mul != 0:
		return fmt.Errorf("unet: input %d×%d: height and width must be multiples of %d", h, w, mul)
	case len(input) != n*c.InChannels*h*w:
		return fmt.Errorf("unet: input has %d values, want %d×%d×%d×%d", len(input), n, c.InChannels, h, w)
	case train && n*(h/mul)*(w/mul) < 2:
		// PyTorch refuses this too: the batch variance of one value.
		return fmt.Errorf("unet: training needs more than one value per channel at the deepest level (input %d×%d×%d)", n, h, w)
	}
	return nil
}
