// Command mkmask adds the nodule mask to CT records (from ctread): for each
// series it finds the annotated nodules, grows the book's boxes around
// them (SPEC.md "Nodule mask"), keeps the box voxels above the threshold,
// and attaches the mask, the positive slice indexes, the nodules and the
// non-nodule candidates (with their voxel centres) to the record, which
// goes on to stdout. A series without nodules gets an all-zero mask. See
// docs/mkmask.md.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/ctseg/ctseg/format"
	"github.com/ctseg/ctseg/internal/bigbuf"
	"github.com/ctseg/ctseg/internal/cliutil"
	"github.com/ctseg/ctseg/internal/ctmask"
	"github.com/ctseg/ctseg/internal/luna"
	"github.com/ctseg/ctseg/internal/mask"
	"github.com/ctseg/ctseg/internal/progress"
	"github.com/ctseg/ctseg/internal/readahead"
)

func main() { cliutil.Run(newApp()) }

func newApp() *cli.App {
	return &cli.App{
		Name:      "mkmask",
		Usage:     "attach nodule masks, nodules and candidates to CT records",
		UsageText: "ctread … | mkmask [options] [CT-STREAM…] > masked.stream",
		Description: "Per nodule of the series (from the annotation file): three radius searches through the\n" +
			"centre voxel, one per axis, from r = 2 while the HU at c+r and c-r both exceed --threshold\n" +
			"(a step leaving the volume stops with r-1); the box c±r on each axis. Mask = union of the\n" +
			"boxes ∧ (HU > threshold). Nodules whose centre lies outside the volume are skipped with a\n" +
			"warning. Non-nodule candidates are the class-0 rows of candidates.csv.",
		Flags: []cli.Flag{
			cliutil.DataFlag(),
			&cli.StringFlag{Name: "annotations", Usage: "nodule list `FILE` (default: DIR/" + luna.MalignancyFile +
				", else DIR/" + luna.AnnotationsFile + ")"},
			&cli.StringFlag{Name: "candidates", Usage: "candidate list `FILE` (default: DIR/" + luna.CandidatesFile +
				" when present; without one, records carry no non-nodule candidates)"},
			&cli.Float64Flag{Name: "threshold", Value: mask.DefaultThreshold, Usage: "`HU` a voxel must exceed to be in a nodule"},
			&cli.StringFlag{Name: "png", Usage: "write, per series, a PNG of each positive slice (CT window -1000…1000, " +
				"mask in red, boxes outlined in green) under `DIR`/SERIES_UID/"},
			&cli.BoolFlag{Name: "verify", Usage: "decompress every CT's HU and check it against its checksums; " +
				"by default only the parts the masks read are decompressed, and the rest is checked compressed"},
			cliutil.OutputFlag(),
			cliutil.QuietFlag(),
		},
		Action: run,
	}
}

func run(c *cli.Context) error {
	m, err := newMasker(c)
	if err != nil {
		return err
	}
	in := cliutil.OpenInput(c, format.KindCT)
	// The HU stays compressed, but for the frames the masks read, and goes
	// on as it came. Frames hold little-endian int16s, which lazyhu
	// decompresses straight into its volume: on other hosts the reader
	// converts whole CTs.
	in.SetLazy(bigbuf.LittleEndian)
	defer in.Close()
	out, err := cliutil.CreateOutput(c, format.KindCT)
	if err != nil {
		return err
	}
	defer out.Abort()
	meter := progress.New("mkmask", 0, "series", c.Bool("quiet"))
	if err := maskAll(in, out.Writer, m, meter); err != nil {
		return err
	}
	meter.Done()
	return out.Close()
}

// newMasker checks the flags and loads the CSV files they name.
func newMasker(c *cli.Context) (*ctmask.Masker, error) {
	th := c.Float64("threshold")
	if math.IsNaN(th) || math.IsInf(th, 0) {
		return nil, fmt.Errorf("--threshold %v: must be a finite number of HU", th)
	}
	if c.IsSet("annotations") && c.String("annotations") == "" {
		// Not a silent fall-back to DIR's list: `--annotations "$F"` with F
		// unset is a mistake, as it is for --candidates.
		return nil, errors.New("--annotations: empty file name")
	}
	annPath, candPath, err := csvPaths(c.String("data"), c.String("annotations"), c.String("candidates"), c.IsSet("candidates"))
	if err != nil {
		return nil, err
	}
	return ctmask.New(annPath, candPath, ctmask.Options{Threshold: th, PNGDir: c.String("png"), Verify: c.Bool("verify"),
		Warn: func(format string, args ...any) { fmt.Fprintf(os.Stderr, "mkmask: warning: "+format+"\n", args...) }})
}

// csvPaths resolves the annotation and candidate files from the flags.
// candPath is "" when no candidate file is named and the data directory
// has none.
func csvPaths(dir, annFlag, candFlag string, candSet bool) (annPath, candPath string, err error) {
	annPath = annFlag
	if annPath == "" {
		if dir == "" {
			return "", "", errors.New("no nodule list: give --data DIR (or set $LUNA16_DIR) or --annotations FILE")
		}
		if annPath, err = luna.AnnotationsPath(dir); err != nil {
			return "", "", fmt.Errorf("--data: %w", err)
		}
	}
	switch {
	case candSet && candFlag == "":
		return "", "", errors.New("--candidates: empty file name")
	case candSet:
		return annPath, candFlag, nil
	}
	if candPath, err = luna.CandidatesPath(dir); err != nil {
		return "", "", fmt.Errorf("--data: %w", err)
	}
	return annPath, candPath, nil
}

// record is one CT record of the input and its 1-based number.
type record struct {
	ct *format.CT
	n  int
}

// maskAll reads CT records, masks them and writes them on, in order. The
// next record is decoded while the current one is masked and encoded, so
// the two halves of the stream codec run side by side (two CTs and one
// mask are live at a time).
func maskAll(in *cliutil.Input, w *format.Writer, m *ctmask.Masker, meter *progress.Meter) error {
	n := 0
	cts := readahead.Start(1, func(context.Context) (record, error) {
		n++
		rec, err := in.Next()
		if err != nil {
			return record{}, err
		}
		ct, ok := rec.(*format.CT)
		if !ok {
			return record{}, fmt.Errorf("input record %d: %s record, want a CT", n, rec.Kind())
		}
		return record{ct, n}, nil
	})
	// Stopped before the input is closed: the goroutine reads from it.
	defer cts.Stop()
	for {
		r, err := cts.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		if err := m.Apply(r.ct); err != nil {
			return fmt.Errorf("input record %d (series %s): %w", r.n, r.ct.SeriesUID, err)
		}
		if err := w.Write(r.ct); err != nil {
			return fmt.Errorf("input record %d (series %s): %w", r.n, r.ct.SeriesUID, err)
		}
		m.Recycle(r.ct) // Write has handed the bytes to the compressor
		in.Recycle(r.ct)
		meter.Add(1)
	}
	m.WarnUnmatched()
	return nil
}
