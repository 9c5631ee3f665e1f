package unet

import (
	"errors"

	"github.com/ctseg/ctseg/internal/augment"
)

// Augment returns the input and label TrainStep trains on for a batch of
// windows; see Augmenter.
func (e *CPU) Augment(b Batch) (input, label []float32, err error) {
	if e.closed {
		return nil, nil, ErrClosed
	}
	if err := b.Check(e.model.Config, true); err != nil {
		return nil, nil, err
	}
	if !b.Augmented() {
		return nil, nil, errors.New("unet: Augment needs a batch of Windows")
	}
	input, label = make([]float32, len(b.Windows)), make([]float32, len(b.Labels))
	augmentInto(input, label, b)
	return input, label, nil
}

// augmentInto writes the augmented windows and labels of a checked batch
// to input and label: both sampled on the batch's transform (one grid for
// all planes), the label thresholded, then the noise added to the input.
func augmentInto(input, label []float32, b Batch) {
	g := augment.NewGrid(b.H, b.W, b.Transform)
	augment.Sample(g, input, b.Windows)
	augment.Sample(g, label, b.Labels)
	augment.Threshold(label)
	augment.AddNoise(input, b.NoiseKey, b.NoiseSigma)
}
