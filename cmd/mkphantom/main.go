// Command mkphantom writes a synthetic, LUNA16-layout CT data set,
// deterministic from a seed: DIR/subsetK/<uid>.mhd + .raw (MET_SHORT HU),
// annotations_with_malignancy.csv, annotations.csv, candidates.csv,
// annotations_excluded.csv and seriesuids.csv. Each phantom is a chest
// (body, fat, muscle, ribs, spine, heart, airways, two lungs with branching
// vessels) with nodules of 3–30 mm. See docs/mkphantom.md.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/ctseg/ctseg/internal/cliutil"
	"github.com/ctseg/ctseg/internal/phantom"
	"github.com/ctseg/ctseg/internal/progress"
)

func main() { cliutil.Run(newApp()) }

func newApp() *cli.App {
	def := phantom.DefaultOptions()
	return &cli.App{
		Name:      "mkphantom",
		Usage:     "write a synthetic LUNA16-layout CT data set",
		UsageText: "mkphantom -o DIR [--series N] [--seed S] [--size COLSxROWS[xSLICES]] [options]",
		Description: "Writes DIR/subsetK/<uid>.mhd + .raw and the five LUNA16 list files. The same seed and\n" +
			"flags give the same bytes. Series 0's first nodule touches the chest wall; series 1's first\n" +
			"nodule is centred on the second-to-last slice (see docs/mkphantom.md).",
		Flags: []cli.Flag{
			// --out DIR: a directory of outputs, where --output FILE is one
			// stream in every other program; -o because it is the only
			// output. Not Required: urfave prints the whole help on stdout
			// for a missing required flag; run reports it in one line.
			&cli.StringFlag{Name: "out", Aliases: []string{"o"},
				Usage: "output `DIR`, required (created if needed; files it writes are replaced)"},
			cliutil.RenamedString("output", "out"),
			&cli.IntFlag{Name: "series", Value: def.Series, Usage: "number of CT series `N`"},
			&cli.Uint64Flag{Name: "seed", Value: def.Seed, Usage: "random `SEED`; the data set is a function of it and the flags"},
			&cli.StringFlag{Name: "size", Value: "512x512", Usage: "volume size `COLSxROWS[xSLICES]`; without SLICES each series draws " +
				"a LUNA16-like count (95–764)"},
			&cli.IntFlag{Name: "subsets", Value: def.Subsets, Usage: "spread the series over `K` subsets: series i goes to subset(i mod K)"},
			&cli.StringFlag{Name: "nodules", Value: fmt.Sprintf("%d-%d", def.NodulesMin, def.NodulesMax),
				Usage: "nodules per series, `MIN-MAX` (or N), drawn uniformly"},
			&cli.IntFlag{Name: "decoys", Value: def.Decoys, Usage: "class-0 candidates per series, `N` (vessel, wall and lung points)"},
			&cli.BoolFlag{Name: "compressed", Usage: "write zlib-compressed .zraw data files (CompressedData = True)"},
			&cli.IntFlag{Name: "threads", Usage: "threads rendering slices, `N` (0: one per CPU)"},
			cliutil.RenamedInt("workers", "threads"),
			cliutil.QuietFlag(),
		},
		Action: run,
	}
}

func run(c *cli.Context) error {
	if c.Args().Present() {
		return fmt.Errorf("unexpected argument %q (all settings are flags, see --help)", c.Args().First())
	}
	if c.String("out") == "" {
		return errors.New("no output directory: pass --out DIR (see --help)")
	}
	opt, err := options(c)
	if err != nil {
		return err
	}
	quiet := c.Bool("quiet")
	meter := progress.New("mkphantom", int64(opt.Series), "series", quiet)
	series, err := phantom.WriteDataset(c.String("out"), opt, func(s *phantom.Series) {
		if !quiet {
			describe(os.Stderr, s)
		}
		meter.Add(1)
	})
	if err != nil {
		return err
	}
	meter.Done()
	for _, s := range series {
		for _, w := range s.Warnings {
			fmt.Fprintf(os.Stderr, "mkphantom: warning: %s\n", w)
		}
	}
	return nil
}

// options turns the flags into phantom options.
func options(c *cli.Context) (phantom.Options, error) {
	opt := phantom.DefaultOptions()
	opt.Series, opt.Seed, opt.Subsets = c.Int("series"), c.Uint64("seed"), c.Int("subsets")
	opt.Decoys, opt.Compressed, opt.Workers = c.Int("decoys"), c.Bool("compressed"), c.Int("threads")
	var err error
	if opt.Cols, opt.Rows, opt.Slices, err = parseSize(c.String("size")); err != nil {
		return opt, fmt.Errorf("--size: %w", err)
	}
	if opt.NodulesMin, opt.NodulesMax, err = parseRange(c.String("nodules")); err != nil {
		return opt, fmt.Errorf("--nodules: %w", err)
	}
	if opt.Decoys < 0 || opt.Decoys > phantom.MaxDecoys {
		// Named here as a flag; Validate's bound is the same.
		return opt, fmt.Errorf("--decoys %d: must be in [0, %d] (LUNA16 has about 620 per series)", opt.Decoys, phantom.MaxDecoys)
	}
	if opt.Workers < 0 {
		return opt, fmt.Errorf("--threads %d: must be 0 (one per CPU) or more", opt.Workers)
	}
	return opt, opt.Validate()
}

// parseSize reads COLSxROWS or COLSxROWSxSLICES; slices is 0 when absent.
func parseSize(s string) (cols, rows, slices int, err error) {
	parts := strings.Split(strings.ToLower(s), "x")
	if len(parts) != 2 && len(parts) != 3 {
		return 0, 0, 0, fmt.Errorf("%q: want COLSxROWS or COLSxROWSxSLICES, e.g. 512x512 or 128x128x48", s)
	}
	n := make([]int, 3)
	for i, p := range parts {
		if n[i], err = strconv.Atoi(p); err != nil || n[i] <= 0 {
			return 0, 0, 0, fmt.Errorf("%q: %q is not a positive whole number", s, p)
		}
	}
	return n[0], n[1], n[2], nil
}

// parseRange reads MIN-MAX or a single N.
func parseRange(s string) (lo, hi int, err error) {
	a, b, found := strings.Cut(s, "-")
	if lo, err = strconv.Atoi(a); err != nil {
		return 0, 0, fmt.Errorf("%q: want MIN-MAX or N, e.g. 1-3", s)
	}
	hi = lo
	if found {
		if hi, err = strconv.Atoi(b); err != nil {
			return 0, 0, fmt.Errorf("%q: want MIN-MAX or N, e.g. 1-3", s)
		}
	}
	if lo < 0 || hi < lo {
		return 0, 0, errors.New(s + ": need 0 ≤ MIN ≤ MAX")
	}
	return lo, hi, nil
}

// describe writes one line about a finished series.
func describe(w io.Writer, s *phantom.Series) {
	sp := s.Geometry.Spacing
	var marks []string
	for _, n := range s.Nodules {
		m := fmt.Sprintf("%.1fmm@irc%v", n.DiameterMM, n.CenterIRC)
		if n.Juxtapleural {
			m += "(wall)"
		}
		if n.NearEdge {
			m += "(edge)"
		}
		marks = append(marks, m)
	}
	fmt.Fprintf(w, "mkphantom: subset%d/%s.mhd %dx%dx%d spacing %g×%g×%g, %d nodules %s\n",
		s.Subset, s.UID, s.Size[0], s.Size[1], s.Size[2], sp[0], sp[1], sp[2], len(s.Nodules), strings.Join(marks, " "))
}
