// Command ctread is the pipeline's source: it finds the CT series of a
// LUNA16-layout directory (DIR/subset*/<uid>.mhd and DIR/<uid>.mhd), reads
// each MetaImage (.mhd + .raw/.zraw, or .mha) into int16 HU with its exact
// geometry, and writes one CT record per series, sorted by uid, to a
// stream. The selection flags pick series, subsets, the book's
// train/validation split, and a shard for spreading the work over many
// machines. See docs/ctread.md.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/ctseg/ctseg/format"
	"github.com/ctseg/ctseg/internal/cliutil"
	"github.com/ctseg/ctseg/internal/luna"
	"github.com/ctseg/ctseg/internal/progress"
	"github.com/ctseg/ctseg/internal/shard"
)

func main() { cliutil.Run(newApp()) }

func newApp() *cli.App {
	return &cli.App{
		Name:      "ctread",
		Usage:     "read LUNA16 CT series (MetaImage) into a stream of CT records",
		UsageText: "ctread [options] --data DIR > cts.stream",
		Description: "Finds DIR/subset*/<uid>.mhd and DIR/<uid>.mhd (.mha too) and writes one CT record per series,\n" +
			"sorted by uid, in int16 HU (other element types are converted, clamped with a warning).\n" +
			"Selection is applied in this order: --series, --subset, --split, --shard.\n" +
			"Without --shard the shard comes from a Slurm job array (SLURM_ARRAY_TASK_ID/_COUNT) or a\n" +
			"Kubernetes Indexed Job (JOB_COMPLETION_INDEX with CTSEG_SHARD_COUNT); see docs/ctread.md.",
		Flags: []cli.Flag{
			cliutil.DataFlag(),
			&cli.StringSliceFlag{Name: "series", Usage: "only the series `UID[,UID…]` (each must be found)"},
			&cli.StringSliceFlag{Name: "subset", Usage: "only the series in DIR/subset`N[,N…]`"},
			&cli.StringFlag{Name: "split", Value: "all", Usage: "`MODE`: train, val or all, the book's split of the CSV series lists in DIR"},
			&cli.IntFlag{Name: "val-stride", Value: 10, Usage: "with --split: every `N`th sorted series uid (from the first) is validation"},
			&cli.StringFlag{Name: "shard", EnvVars: []string{"CTSEG_SHARD"}, Usage: "read part `I/N` (0 ≤ I < N) of the selected series"},
			&cli.BoolFlag{Name: "skip-bad", Usage: "skip unreadable series with a warning instead of failing"},
			&cli.BoolFlag{Name: "list", Usage: "print the selected series (uid and header path) instead of reading them"},
			cliutil.OutputFlag(),
			cliutil.QuietFlag(),
		},
		Action: run,
	}
}

// selection is what the selection flags ask for.
type selection struct {
	luna.Selection
	shard shard.Shard
}

// parseSelection checks the selection flags.
func parseSelection(c *cli.Context) (selection, error) {
	sel := selection{Selection: luna.Selection{UIDs: splitCommas(c.StringSlice("series")), Split: c.String("split"), ValStride: c.Int("val-stride")}}
	// An empty list (`--series "$UIDS"` with UIDS unset) would mean "no
	// filter" and quietly read every series on disk.
	if c.IsSet("series") && len(sel.UIDs) == 0 {
		return sel, errors.New("--series: empty list of series uids")
	}
	if err := sel.Check(); err != nil {
		return sel, err
	}
	if c.IsSet("val-stride") && sel.Split == "all" {
		return sel, errors.New("--val-stride needs --split train or val")
	}
	var err error
	if sel.Subsets, err = parseSubsets(c.StringSlice("subset")); err != nil {
		return sel, err
	}
	if c.IsSet("subset") && len(sel.Subsets) == 0 {
		return sel, errors.New("--subset: empty list of subset numbers")
	}
	sel.shard, err = shard.Resolve(c.String("shard"), os.Getenv)
	return sel, err
}

// splitCommas flattens flag values that may hold comma lists. (urfave's
// StringSliceFlag splits on commas itself; this keeps "a, b" working.)
func splitCommas(vals []string) []string {
	var out []string
	for _, v := range vals {
		out = append(out, cliSplit(v)...)
	}
	return out
}

// parseSubsets parses --subset values (each may hold a comma list).
func parseSubsets(vals []string) ([]int, error) {
	var out []int
	for _, f := range splitCommas(vals) {
		n, err := strconv.Atoi(f)
		if err != nil || n < 0 {
			return nil, errors.New("--subset " + strconv.Quote(f) + ": want a subset number such as 0 or 0,1,2")
		}
		out = append(out, n)
	}
	return out, nil
}

// cliSplit splits a comma list, trimming blanks and dropping empty items.
func cliSplit(v string) []string {
	var out []string
	for _, f := range strings.Split(v, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func run(c *cli.Context) error {
	if c.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q: ctread reads --data DIR, not streams", c.Args().First())
	}
	dir := c.String("data")
	if dir == "" {
		return errors.New("no data directory: pass --data DIR or set LUNA16_DIR")
	}
	sel, err := parseSelection(c)
	if err != nil {
		return err
	}
	quiet := c.Bool("quiet")
	warn := func(format string, args ...any) { fmt.Fprintf(os.Stderr, "ctread: warning: "+format+"\n", args...) }
	all, err := luna.Discover(dir)
	if err != nil {
		return err
	}
	list, warnings, err := sel.Apply(dir, all)
	if err != nil {
		return err
	}
	// An empty shard is fine: there may be more machines than series.
	list = shard.Part(sel.shard, list)
	for _, w := range warnings {
		warn("%s", w)
	}
	if sel.shard.Count > 1 && !quiet {
		fmt.Fprintf(os.Stderr, "ctread: shard %s (from %s): %d series\n", sel.shard, sel.shard.Source, len(list))
	}
	if c.Bool("list") {
		return printList(c.App.Writer, list)
	}
	return write(c, list, warn)
}

// printList writes "uid<TAB>header path" per series. A failed write (a
// full disk) fails the run rather than leaving a silently short list.
func printList(w io.Writer, list []luna.Series) error {
	for _, s := range list {
		if _, err := fmt.Fprintf(w, "%s\t%s\n", s.UID, s.Path); err != nil {
			return fmt.Errorf("--list: %w", err)
		}
	}
	return nil
}

// write reads the series and writes the stream.
func write(c *cli.Context, list []luna.Series, warn logger) error {
	out, err := cliutil.CreateOutput(c, format.KindCT)
	if err != nil {
		return err
	}
	defer out.Abort()
	meter := progress.New("ctread", int64(len(list)), "series", c.Bool("quiet"))
	skipped, err := copyAll(list, out.Writer, c.Bool("skip-bad"), warn, func() { meter.Add(1) })
	if err != nil {
		return err
	}
	meter.Done()
	if skipped > 0 {
		warn("skipped %d of %d series (--skip-bad)", skipped, len(list))
		if skipped == len(list) {
			return fmt.Errorf("none of the %d selected series could be read", len(list))
		}
	}
	return out.Close()
}
