// Command segeval evaluates a trained U-Net on a slice stream (crop --val,
// or crop --val --full-ct for whole CTs): the book's pixel metrics pooled
// and per series, nodule candidates of whole CTs with the book's nodule
// recall, a LUNA16 submission, LUNA16's FROC and CPM, overlays, a
// prediction stream and an HTML report. `segeval froc` scores submission
// files. See docs/segeval.md.
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/ctseg/ctseg/format"
	"github.com/ctseg/ctseg/internal/cliutil"
	"github.com/ctseg/ctseg/internal/evaluate"
	"github.com/ctseg/ctseg/internal/froc"
	"github.com/ctseg/ctseg/internal/version"
)

func main() { cliutil.Run(newApp()) }

func newApp() *cli.App {
	return &cli.App{
		Name:      "segeval",
		Usage:     "evaluate the U-Net on slice streams; score LUNA16 submissions (segeval froc)",
		UsageText: "… | crop --val [--full-ct] | segeval --model FILE [options] [SLICE-STREAM…]\n   segeval froc [options] SUBMISSION.csv…",
		Description: "Runs the model over every slice (batch norm in eval mode) and prints the book's metric lines\n" +
			"on stderr: one per series, labelled with its uid, then `E0 val` and `E0 val_all` for the pooled\n" +
			"pixels of the labelled slices (padding excluded, p > --prob-threshold). A series whose slices are\n" +
			"0…depth-1 of its CT (crop --val --full-ct) is a whole CT: its candidates (threshold, erosion,\n" +
			"6-connected components, HU-weighted centres) give the book's nodule recall, --candidates-out\n" +
			"a LUNA16 submission (probability = 1/2 + atan(mean logit)/π, at most --max-marks per scan) and\n" +
			"--froc LUNA16's FROC and CPM. See docs/segeval.md.",
		Flags:    flags(),
		Action:   run,
		Commands: []*cli.Command{frocCommand()},
	}
}

// refFlags are the FROC's reference files and bootstrap, in both commands.
func refFlags() []cli.Flag {
	return []cli.Flag{
		cliutil.DataFlag(),
		&cli.StringFlag{Name: "annotations", Usage: "included findings `FILE` (default: annotations.csv in --data)"},
		&cli.StringFlag{Name: "excluded", Usage: "excluded findings `FILE` (default: annotations_excluded.csv in --data; missing: none, with a warning)"},
		&cli.IntFlag{Name: "bootstrap", Value: 1000, Usage: "bootstrap resamples `N` of the scans for the 95 % intervals (0: none)"},
		&cli.Uint64Flag{Name: "seed", Value: 1, Usage: "`SEED` of the bootstrap's draws"},
		&cli.BoolFlag{Name: "json", Usage: "print the results as one JSON object on stdout"},
		&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "only the summary lines and warnings on stderr (segeval froc: only warnings)"},
	}
}

func flags() []cli.Flag {
	return append([]cli.Flag{
		&cli.StringFlag{Name: "model", Usage: "checkpoint `FILE`: a segtrain .safetensors or a PyTorch .state (the book's), required"},
		&cli.Float64Flag{Name: "prob-threshold", Value: 0.5, Usage: "a pixel is positive when its probability is above `P` (pixel metrics, candidates, overlays)"},
		&cli.StringFlag{Name: "device", Value: "cpu", Usage: "`DEVICE`: cpu, or cuda in a CUDA build"},
		&cli.IntFlag{Name: "threads", Usage: "CPU threads `N` (0: all)"},
		&cli.IntFlag{Name: "batch-size", Usage: "slices `N` per prediction (0: 1 on the CPU, 8 on a GPU)"},
		&cli.StringFlag{Name: "predictions", Usage: "write a prediction stream (prob and logit per slice, padded like the slice) to `FILE`"},
		&cli.StringFlag{Name: "png", Usage: "write the book's overlays to `DIR`/<series_uid>/<slice_index>.png"},
		&cli.IntFlag{Name: "png-every", Value: 1, Usage: "with --png: every `K`th slice of each series (the first included)"},
		&cli.StringFlag{Name: "candidates-out", Usage: "write the whole CTs' candidates as a LUNA16 submission `FILE` (and FILE.scans)"},
		&cli.IntFlag{Name: "max-marks", Value: 100, Usage: "at most `N` marks per scan in the submission, best first (LUNA16's cap; 0: all)"},
		&cli.BoolFlag{Name: "froc", Usage: "score the candidates with LUNA16's FROC (reference files from --data)"},
		&cli.StringFlag{Name: "seriesuids", Usage: "with --froc: the scans `FILE` (default: the series of the stream)"},
		&cli.StringFlag{Name: "out", Usage: "with --froc: write the official evaluation files to `DIR`"},
		&cli.StringFlag{Name: "report", Usage: "write an HTML report to `DIR` (index.html and images)"},
		&cli.IntFlag{Name: "report-top", Value: evaluate.DefaultReportTop, Usage: "the report shows the `N` slices with the most missed pixels"},
	}, refFlags()...)
}

func frocCommand() *cli.Command {
	return &cli.Command{
		Name:      "froc",
		Usage:     "LUNA16's FROC and CPM of submission CSVs",
		UsageText: "segeval froc [options] SUBMISSION.csv… (stdin when none)",
		Description: "Scores the files together (shards' files, or one file with repeated headers) as LUNA16's\n" +
			"noduleCADEvaluationLUNA16.py does: at most 100 marks per scan, hits within the finding's radius,\n" +
			"sensitivity at 1/8…8 false positives per scan and their mean, the CPM. The scans are the union\n" +
			"of the files' FILE.scans lists when every file has one, else --seriesuids (seriesuids.csv in --data).",
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "seriesuids", Usage: "the scans `FILE` (default: the inputs' .scans lists, else seriesuids.csv in --data)"},
			&cli.StringFlag{Name: "out", Usage: "write the official evaluation files to `DIR`"},
		}, refFlags()...),
		Action: runFROC,
	}
}

// ref is the reference files the flags name.
func ref(c *cli.Context) evaluate.Ref {
	return evaluate.Ref{Data: c.String("data"), Annotations: c.String("annotations"), Excluded: c.String("excluded"), SeriesUIDs: c.String("seriesuids")}
}

// frocOptions are the bootstrap settings of the flags.
func frocOptions(c *cli.Context) (froc.Options, error) {
	o := froc.DefaultOptions()
	o.Resamples, o.Seed = c.Int("bootstrap"), c.Uint64("seed")
	if o.Resamples < 0 {
		return o, fmt.Errorf("--bootstrap %d: must be ≥ 0", o.Resamples)
	}
	return o, nil
}

func run(c *cli.Context) error {
	o, err := options(c)
	if err != nil {
		return err
	}
	var preds *cliutil.Output
	if path := c.String("predictions"); path != "" {
		if path == "-" && c.Bool("json") {
			return errors.New("--predictions - and --json both write to stdout: name a file")
		}
		preds, err = cliutil.NewOutput(path, format.Header{Kind: format.KindPrediction, Program: c.App.Name,
			ProgramVersion: version.String(), Args: os.Args[1:]})
		if err != nil {
			return fmt.Errorf("--predictions: %w", err)
		}
		defer preds.Abort()
		o.Predictions = preds.Writer
	}
	in := cliutil.OpenInput(c, format.KindSlice)
	defer in.Close()
	res, err := evaluate.Run(o, in, in.Where)
	if err != nil {
		return err
	}
	if preds != nil {
		if err := preds.Close(); err != nil {
			return fmt.Errorf("--predictions: %w", err)
		}
	}
	return printJSON(c, res)
}

// options turns the flags into evaluate.Options.
func options(c *cli.Context) (evaluate.Options, error) {
	fo, err := frocOptions(c)
	o := evaluate.Options{
		Model: c.String("model"), Device: c.String("device"), Threads: c.Int("threads"), BatchSize: c.Int("batch-size"),
		Threshold: c.Float64("prob-threshold"), PNGDir: c.String("png"), PNGEvery: c.Int("png-every"),
		CandidatesOut: c.String("candidates-out"), MaxMarks: c.Int("max-marks"), FROC: c.Bool("froc"),
		Ref: ref(c), FROCOptions: fo, FROCOut: c.String("out"), Report: c.String("report"), ReportTop: c.Int("report-top"),
		Quiet: c.Bool("quiet"), Log: os.Stderr,
	}
	if err != nil {
		return o, err
	}
	for _, name := range []string{"seriesuids", "annotations", "excluded", "bootstrap", "seed"} {
		if c.IsSet(name) && !o.FROC {
			return o, fmt.Errorf("--%s applies to the FROC: it needs --froc", name)
		}
	}
	return o, nil
}

func runFROC(c *cli.Context) error {
	fo, err := frocOptions(c)
	if err != nil {
		return err
	}
	files := c.Args().Slice()
	if (len(files) == 0 || slices.Contains(files, "-")) && term.IsTerminal(int(os.Stdin.Fd())) {
		return errors.New("no input: name submission files or pipe one into stdin (see --help)")
	}
	r, err := evaluate.FROCFiles(evaluate.FROCOptions{Files: files, Ref: ref(c), Options: fo, Out: c.String("out"), Log: os.Stderr})
	if err != nil {
		return err
	}
	s := evaluate.Summarize(r)
	if !c.Bool("quiet") {
		for _, l := range s.Lines() {
			fmt.Fprintln(os.Stderr, l)
		}
	}
	return printJSON(c, s)
}

// printJSON prints v as JSON on stdout with --json.
func printJSON(c *cli.Context, v any) error {
	if !c.Bool("json") {
		return nil
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	if _, err := os.Stdout.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("write stdout: %w", err)
	}
	return nil
}
