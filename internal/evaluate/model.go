package evaluate

import (
	"fmt"

	"github.com/ctseg/ctseg/internal/checkpoint"
	"github.com/ctseg/ctseg/internal/unet"
)

// LoadEngine loads the weights of the checkpoint at path (a ctseg
// safetensors checkpoint, or a PyTorch torch.save file such as the book's
// published model) into an engine of the device. A checkpoint that does
// not record its configuration is taken for the book's model; a tensor
// that the model lacks, or of another shape, is an error that names it.
func LoadEngine(path, device string, threads int) (unet.Engine, checkpoint.Meta, error) {
	d, meta, err := checkpoint.Load(path)
	if err != nil {
		return nil, meta, fmt.Errorf("--model: %w", err)
	}
	cfg := meta.Config
	if cfg == (unet.Config{}) {
		cfg = unet.BookConfig
	}
	m, err := unet.New(cfg)
	if err != nil {
		return nil, meta, fmt.Errorf("--model %s: %w", path, err)
	}
	if err := m.LoadStateDict(d); err != nil {
		return nil, meta, fmt.Errorf("--model %s: not the U-Net it should hold (%d channels in, %d out, depth %d, wf %d): %w",
			path, cfg.InChannels, cfg.NClasses, cfg.Depth, cfg.WF, err)
	}
	if cfg.NClasses != 1 {
		return nil, meta, fmt.Errorf("--model %s: %d classes; segeval scores one-class (nodule) models", path, cfg.NClasses)
	}
	e, err := unet.NewEngine(device, m, unet.DefaultAdam, threads)
	if err != nil {
		return nil, meta, fmt.Errorf("--device: %w", err)
	}
	return e, meta, nil
}
