// Package train is segtrain: the book's training loop for the U-Net
// (p2ch13/training.py's SegmentationTrainingApp) over ctseg's streams,
// with its metrics, log lines, TensorBoard events and pictures, and
// checkpoints from which a killed run resumes exactly (SPEC.md "Training").
package train

import (
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/ctseg/ctseg/internal/augment"
)

// Options are segtrain's settings. Those in Params fix the numbers a run
// computes, and a resumed run takes them from its checkpoint.
type Options struct {
	Params
	Inputs          []string      // training crop streams; "-" is stdin
	Val             string        // validation slice stream
	Out             string        // the run's directory; "" for runs/<TBPrefix>
	Epochs          int           // epochs to train in all; 0 on Resume: as many as the checkpoint's run was given
	Resume          string        // checkpoint to continue from
	InitWeights     string        // weights to start from (ctseg or PyTorch)
	CheckpointEvery time.Duration // how often to write the rolling last checkpoint
	Threads         int           // CPU threads, 0 for all
	Device          string        // "cpu" (or "cuda" in a CUDA build)
	Quiet           bool          // no progress
	Args            []string      // the command line, for logs and checkpoints
	Log             io.Writer     // log lines (stderr)
	Stop            <-chan os.Signal
}

// Params are the numbers that decide what a run computes.
type Params struct {
	BatchSize    int            `json:"batch_size"`
	EpochSamples int64          `json:"epoch_samples"`
	Cadence      int            `json:"validation_cadence"`
	Seed         uint64         `json:"seed"`
	LR           float64        `json:"lr"`
	Augment      augment.Config `json:"augment"`
	TBPrefix     string         `json:"tb_prefix"`
	Comment      string         `json:"comment"`
}

// check refuses settings that cannot run.
func (o *Options) check() error {
	switch {
	case o.BatchSize < 1:
		return fmt.Errorf("--batch-size %d: must be at least 1", o.BatchSize)
	case o.EpochSamples < 1 || o.EpochSamples > 1<<31:
		return fmt.Errorf("--epoch-samples %d: must be in [1, 2^31]", o.EpochSamples)
	case o.Epochs < 1:
		return fmt.Errorf("--epochs %d: must be at least 1", o.Epochs)
	case o.Cadence < 1:
		return fmt.Errorf("--validation-cadence %d: must be at least 1", o.Cadence)
	case !(o.LR > 0) || o.LR > 1:
		return fmt.Errorf("--lr %v: must be in (0, 1]", o.LR)
	case o.Val == "":
		return errors.New("no validation stream: give --val FILE (crop --val's output)")
	case o.Resume != "" && o.InitWeights != "":
		return errors.New("--resume and --init-weights: a resumed run has its own weights")
	case o.CheckpointEvery <= 0:
		return fmt.Errorf("--checkpoint-every %v: must be positive", o.CheckpointEvery)
	case o.Threads < 0:
		return fmt.Errorf("--threads %d: must be ≥ 0", o.Threads)
	}
	if err := pathElement("--comment", o.Comment); err != nil {
		return err
	}
	return pathElement("--tb-prefix", o.TBPrefix)
}
