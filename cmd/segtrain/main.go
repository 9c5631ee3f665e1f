// Command segtrain trains the book's U-Net (Deep Learning with PyTorch,
// chapter 13) on training crops from crop, scoring it on validation slices
// from crop --val: the book's training loop, metrics, log lines,
// TensorBoard events and pictures, with checkpoints that a killed run
// resumes from exactly. See docs/segtrain.md.
package main

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/ctseg/ctseg/format"
	"github.com/ctseg/ctseg/internal/augment"
	"github.com/ctseg/ctseg/internal/cliutil"
	"github.com/ctseg/ctseg/internal/train"
)

func main() { cliutil.Run(newApp()) }

func newApp() *cli.App {
	return &cli.App{
		Name:      "segtrain",
		Usage:     "train the U-Net on crop streams",
		UsageText: "ctread … | mkmask … | crop | segtrain --val val.msz [options] [CROP-STREAM…]",
		Description: "The book's loop: each epoch the nodule crops are shuffled, sample k takes nodule k mod n\n" +
			"and a random 64×64 window of its crop; --augmented applies one random affine transform per\n" +
			"batch (flip, ±0.03 offset, ±20 % scale, any rotation) and noise of σ = 25 HU; Dice loss\n" +
			"(+ 8 × the false-negative term), Adam. Validation at epoch 1 and every --validation-cadence\n" +
			"epochs on the --val slices; the score is recall, the best model kept. Outputs under --out:\n" +
			"metrics.csv, TensorBoard events, images/, models/ (see docs/segtrain.md).",
		Flags:  flags(),
		Action: run,
	}
}

func flags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "val", Usage: "validation slice stream `FILE` (crop --val's output), required"},
		&cli.IntFlag{Name: "batch-size", Value: 16, Usage: "samples per `BATCH`"},
		&cli.IntFlag{Name: "epochs", Value: 1, Usage: "train `N` epochs in all (a resumed run counts those done; without --epochs it trains to the N its checkpoint was written with)"},
		&cli.Int64Flag{Name: "epoch-samples", Value: 300000, Usage: "training samples per epoch, `N`"},
		&cli.IntFlag{Name: "validation-cadence", Value: 5, Usage: "validate at epoch 1 and every `N`th epoch"},
		&cli.BoolFlag{Name: "augmented", Usage: "all of the --augment-* flags"},
		&cli.BoolFlag{Name: "augment-flip", Usage: "mirror each axis with probability ½"},
		&cli.BoolFlag{Name: "augment-offset", Usage: "translate by up to ±0.03 of the image"},
		&cli.BoolFlag{Name: "augment-scale", Usage: "scale each axis by up to ±20 %"},
		&cli.BoolFlag{Name: "augment-rotate", Usage: "rotate by a random angle"},
		&cli.BoolFlag{Name: "augment-noise", Usage: "add Gaussian noise of σ = 25 HU"},
		&cli.StringFlag{Name: "tb-prefix", Value: "p2ch13", Usage: "run group `NAME`: the default --out is runs/NAME"},
		&cli.StringFlag{Name: "comment", Value: "none", Usage: "run `NAME` in file names (the book's positional comment)"},
		&cli.StringFlag{Name: "out", Aliases: []string{"o"}, Usage: "run `DIR` (default runs/<tb-prefix>; made if missing)"},
		&cli.Uint64Flag{Name: "seed", Value: 1, Usage: "random `SEED`: weights, shuffles, windows, augmentation"},
		&cli.Float64Flag{Name: "lr", Value: 1e-3, Usage: "Adam learning `RATE`"},
		&cli.StringFlag{Name: "resume", Usage: "continue the run of checkpoint `FILE` (its models/…last.safetensors)"},
		&cli.StringFlag{Name: "init-weights", Usage: "start from the weights of `FILE` (a ctseg checkpoint or a PyTorch .state)"},
		&cli.DurationFlag{Name: "checkpoint-every", Value: defaultEvery, Usage: "write the rolling last checkpoint every `DURATION` (10m, 1h30m, …)"},
		&cli.IntFlag{Name: "threads", Aliases: []string{"num-workers"}, Usage: "CPU threads `N` (0: all)"},
		&cli.StringFlag{Name: "device", Value: "cpu", Usage: "`DEVICE`: cpu, or cuda in a CUDA build"},
		cliutil.QuietFlag(),
	}
}

const defaultEvery = 10 * time.Minute

func run(c *cli.Context) error {
	o, err := options(c)
	if err != nil {
		return err
	}
	in := cliutil.OpenInput(c, format.KindCrop)
	defer in.Close()
	err = train.Run(o, in, in.Where)
	var stopped *train.Stopped
	if errors.As(err, &stopped) {
		return &cliutil.ExitError{Code: cliutil.SignalExitCode(stopped.Signal), Err: err}
	}
	return err
}

// epochs is --epochs, or 0 for the checkpoint's own target when a run is
// resumed without it.
func epochs(c *cli.Context) int {
	if c.String("resume") != "" && !c.IsSet("epochs") {
		return 0
	}
	return c.Int("epochs")
}

// options turns the flags into train.Options.
func options(c *cli.Context) (train.Options, error) {
	o := train.Options{
		Params: train.Params{
			BatchSize: c.Int("batch-size"), EpochSamples: c.Int64("epoch-samples"),
			Cadence: c.Int("validation-cadence"), Seed: c.Uint64("seed"), LR: c.Float64("lr"),
			Augment: augmentation(c), TBPrefix: c.String("tb-prefix"), Comment: c.String("comment"),
		},
		Val: c.String("val"), Out: c.String("out"), Epochs: epochs(c),
		Resume: c.String("resume"), InitWeights: c.String("init-weights"),
		CheckpointEvery: c.Duration("checkpoint-every"), Threads: c.Int("threads"),
		Device: c.String("device"), Quiet: c.Bool("quiet"), Args: os.Args[1:], Log: os.Stderr,
		Stop: cliutil.StopGracefully(),
	}
	if o.Resume != "" {
		for _, name := range []string{"batch-size", "epoch-samples", "validation-cadence", "seed", "lr", "tb-prefix",
			"comment", "out", "augmented", "augment-flip", "augment-offset", "augment-scale", "augment-rotate", "augment-noise"} {
			if c.IsSet(name) {
				return o, fmt.Errorf("--%s with --resume: a resumed run keeps its checkpoint's settings", name)
			}
		}
	}
	return o, nil
}

// augmentation is the augment.Config of the --augment* flags.
func augmentation(c *cli.Context) augment.Config {
	all := c.Bool("augmented")
	var a augment.Config
	a.Flip = all || c.Bool("augment-flip")
	a.Rotate = all || c.Bool("augment-rotate")
	if all || c.Bool("augment-offset") {
		a.Offset = augment.BookOffset
	}
	if all || c.Bool("augment-scale") {
		a.Scale = augment.BookScale
	}
	if all || c.Bool("augment-noise") {
		a.Noise = augment.BookNoise
	}
	return a
}
