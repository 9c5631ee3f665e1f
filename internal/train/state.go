package train

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/ctseg/ctseg/internal/checkpoint"
	"github.com/ctseg/ctseg/internal/tensors"
	"github.com/ctseg/ctseg/internal/unet"
)

// state is where a run is. Every checkpoint carries it, so that --resume
// continues exactly where the checkpoint was taken.
type state struct {
	Params  Params  `json:"params"`
	Stamp   string  `json:"time_str"`      // the run's start, the book's time_str
	Epoch   int     `json:"epoch"`         // the epoch in progress, from 1
	Batch   int64   `json:"batch"`         // its next batch
	Samples int64   `json:"samples_seen"`  // training samples seen
	Tally   Tally   `json:"tally"`         // the epoch's counts so far
	Best    float64 `json:"best_score"`    // best validation recall, −1 before the first
	Seconds float64 `json:"seconds"`       // training time before this process
	Target  int     `json:"epochs_target"` // --epochs of the process that saved it
	Inputs  inputs  `json:"inputs"`        // what the run trains and validates on
}

// inputs identify a run's streams, so that a resumed run can check that it
// was given the same ones.
type inputs struct {
	Crops     int    `json:"crops"`        // nodule crops
	CropsCRC  uint32 `json:"crops_crc32c"` // CRC-32C of their HU and labels, in order
	ValSlices int    `json:"val_slices"`
}

// check compares the inputs of a resumed run with its checkpoint's (which
// older checkpoints lack).
func (in inputs) check(was inputs) error {
	switch {
	case was.Crops == 0:
		return nil
	case in.Crops != was.Crops || in.CropsCRC != was.CropsCRC:
		return fmt.Errorf("the run trained on %d nodule crops (CRC-32C %08x), the input holds %d (%08x): "+
			"resume with the same crop streams, in the same order (or start a new run with --init-weights)",
			was.Crops, was.CropsCRC, in.Crops, in.CropsCRC)
	case in.ValSlices != was.ValSlices:
		return fmt.Errorf("the run validated on %d slices, --val holds %d: resume with the same --val stream",
			was.ValSlices, in.ValSlices)
	}
	return nil
}

// stateKey is the checkpoint metadata key of the state.
const stateKey = "segtrain.state"

// save writes the engine and the state to path, atomically: a failed
// write leaves the previous file as it was.
func (s *state) save(path string, e unet.Engine, args []string, seconds float64) error {
	st := *s
	st.Seconds = seconds
	js, err := json.Marshal(st)
	if err != nil {
		return err
	}
	return checkpoint.Save(path, e, checkpoint.Meta{
		Program: "segtrain", Args: args, Time: time.Now(), Epoch: s.Epoch - 1,
		SamplesSeen: s.Samples, Extra: map[string]string{stateKey: string(js)},
	})
}

// resumeFrom reads a segtrain checkpoint: its tensors, its state, and the
// run directory it belongs to (OUT of OUT/models/FILE).
func resumeFrom(path string) (tensors.Dict, *state, string, error) {
	d, m, err := checkpoint.Load(path)
	if err != nil {
		return nil, nil, "", fmt.Errorf("--resume: %w", err)
	}
	js, ok := m.Extra[stateKey]
	if !ok {
		return nil, nil, "", fmt.Errorf("--resume %s: not a segtrain checkpoint (no %s; use --init-weights to start from its weights)", path, stateKey)
	}
	var st state
	if err := json.Unmarshal([]byte(js), &st); err != nil {
		return nil, nil, "", fmt.Errorf("--resume %s: %s: %w", path, stateKey, err)
	}
	if !unet.HasState(d) {
		return nil, nil, "", fmt.Errorf("--resume %s: no optimizer state", path)
	}
	out := filepath.Dir(filepath.Dir(path))
	return d, &st, out, nil
}

// initWeights loads the weights and buffers of a ctseg checkpoint or a
// PyTorch state (the book's published model included) into e, without
// optimizer state: training starts afresh from them.
func initWeights(path string, e unet.Engine) error {
	d, _, err := checkpoint.Load(path)
	if err != nil {
		return fmt.Errorf("--init-weights: %w", err)
	}
	for k := range d {
		if strings.HasPrefix(k, unet.OptimizerPrefix) {
			delete(d, k)
		}
	}
	if err := e.LoadStateDict(d); err != nil {
		return fmt.Errorf("--init-weights %s: %w", path, err)
	}
	return nil
}
