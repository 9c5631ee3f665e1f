// Command crop turns masked CT records (from mkmask) into model samples:
// training crops around the nodules (and optionally the non-nodule
// candidates), or validation slices with context (--val), per SPEC.md
// "Crops". It reads CT streams from the files named as arguments (stdin
// when none), keeps one CT in memory at a time, and writes one stream in
// the input's series order. See docs/crop.md.
package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/urfave/cli/v2"

	"github.com/ctseg/ctseg/format"
	"github.com/ctseg/ctseg/internal/cliutil"
	"github.com/ctseg/ctseg/internal/crop"
	"github.com/ctseg/ctseg/internal/progress"
)

func main() { cliutil.Run(newApp()) }

func newApp() *cli.App {
	return &cli.App{
		Name:      "crop",
		Usage:     "cut training crops or validation slices out of masked CT records",
		UsageText: "ctread … | mkmask … | crop [options] [CT-STREAM…] > crops.stream",
		Description: "Training (default): one crop per nodule, window start = round_half_even(centre − width/2)\n" +
			"per axis, shifted into the volume at its edges; HU clipped to [-1000, 1000]; label = mask of\n" +
			"the middle channel. --val: one slice record per positive slice (every slice with --full-ct),\n" +
			"channels s-N…s+N clamped into the volume, full in-plane size padded at the bottom/right to a\n" +
			"multiple of 4 with -1000 HU (label 0); the padding is recorded in the record, and so are the\n" +
			"CT's shape, geometry and nodules (segeval's whole-CT evaluation). --val --full-ct also takes a CT\n" +
			"without a mask (an unannotated scan): its slices have no label.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "width", Value: "7,96,96", Usage: "training crop size `I,R,C` (slices, rows, cols; rows and cols multiples of 4)"},
			// --negatives, not --candidates: that is mkmask's candidates.csv FILE.
			&cli.BoolFlag{Name: "negatives", Usage: "also emit crops around the non-nodule candidates (is_nodule false)"},
			cliutil.RenamedBool("candidates", "negatives"),
			&cli.BoolFlag{Name: "val", Usage: "write validation slices instead of training crops"},
			&cli.BoolFlag{Name: "full-ct", Usage: "with --val: every slice of each CT, not only the positive ones"},
			&cli.IntFlag{Name: "context", Value: crop.DefaultContext, Usage: fmt.Sprintf("with --val: `N` context slices each side (2N+1 channels, N ≤ %d)", crop.MaxContext)},
			cliutil.OutputFlag(),
			cliutil.QuietFlag(),
		},
		Action: run,
	}
}

// options are the checked flags.
type options struct {
	val   bool
	train crop.TrainOptions
	slice crop.ValOptions
}

func parseOptions(c *cli.Context) (options, error) {
	o := options{val: c.Bool("val")}
	if o.val {
		for _, name := range []string{"width", "negatives"} {
			if c.IsSet(name) {
				return o, fmt.Errorf("--%s applies to training crops, not to --val", name)
			}
		}
		o.slice = crop.ValOptions{Context: c.Int("context"), FullCT: c.Bool("full-ct")}
		if n := o.slice.Context; n < 0 || n > crop.MaxContext {
			return o, fmt.Errorf("--context %d: must be in [0, %d]", n, crop.MaxContext)
		}
		return o, nil
	}
	for _, name := range []string{"full-ct", "context"} {
		if c.IsSet(name) {
			return o, fmt.Errorf("--%s needs --val", name)
		}
	}
	w, err := crop.ParseWidth(c.String("width"))
	if err != nil {
		return o, fmt.Errorf("--width: %w", err)
	}
	o.train = crop.TrainOptions{Width: w, Candidates: c.Bool("negatives")}
	return o, nil
}

func run(c *cli.Context) error {
	o, err := parseOptions(c)
	if err != nil {
		return err
	}
	kind := format.KindCrop
	if o.val {
		kind = format.KindSlice
	}
	in := cliutil.OpenInput(c, format.KindCT)
	defer in.Close()
	out, err := cliutil.CreateOutput(c, kind)
	if err != nil {
		return err
	}
	defer out.Abort()
	meter := progress.New("crop", 0, "series", c.Bool("quiet"))
	if err := cutAll(in, out.Writer, o, meter); err != nil {
		return err
	}
	meter.Done()
	return out.Close()
}

// cutAll reads CT records one at a time and writes their samples.
func cutAll(in *cliutil.Input, w *format.Writer, o options, meter *progress.Meter) error {
	for {
		rec, err := in.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		ct, ok := rec.(*format.CT)
		if !ok {
			return fmt.Errorf("%s: %s record, want a CT", in.Where(), rec.Kind())
		}
		if err := cutOne(ct, w, o); err != nil {
			return fmt.Errorf("%s: %w", in.Where(), err)
		}
		in.Recycle(ct)
		meter.Add(1)
	}
}

func cutOne(ct *format.CT, w *format.Writer, o options) error {
	if o.val {
		return crop.Slices(ct, o.slice, func(s *format.Slice) error { return w.Write(s) })
	}
	return crop.Crops(ct, o.train, func(c *format.Crop) error { return w.Write(c) })
}
