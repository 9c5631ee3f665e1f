// Command streamcat prints what a ctseg sample stream holds: one line per
// record, as a table or (--json) as one JSON object per line, with tensor
// summaries instead of tensor data.
package main

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/urfave/cli/v2"

	"github.com/ctseg/ctseg/format"
	"github.com/ctseg/ctseg/internal/cliutil"
)

func main() { cliutil.Run(newApp()) }

func newApp() *cli.App {
	return &cli.App{
		Name:      "streamcat",
		Usage:     "inspect ctseg sample streams",
		UsageText: "streamcat [--json] [--headers] [-o FILE] [STREAM...]   (stdin when no STREAM)",
		Description: "Prints one line per record. With --json, one JSON object per line with \"kind\" and the record's\n" +
			"metadata; tensors are summarised (sums, extremes, counts), never printed.",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "json", Usage: "one JSON object per record and line"},
			&cli.BoolFlag{Name: "headers", Usage: "also print each stream's header (with the program and version that wrote it)"},
			outputFlag(),
			cliutil.QuietFlag(),
		},
		Action: run,
	}
}

// outputFlag is the shared -o/--output, for text rather than a stream.
func outputFlag() *cli.StringFlag {
	f := cliutil.OutputFlag()
	f.Usage = "write the lines to `FILE` (atomically; missing directories are made, and removed again if the run fails) instead of stdout"
	return f
}

func run(c *cli.Context) error {
	in := cliutil.OpenInput(c, "")
	defer in.Close()
	out, err := cliutil.CreateTextOutput(c)
	if err != nil {
		return err
	}
	// After an error, the lines so far still reach stdout (a file output
	// is discarded).
	defer out.Abort()
	if err := cat(in, out, c.Bool("json"), c.Bool("headers")); err != nil {
		return err
	}
	// The last lines are only written here: a full disk or a closed pipe
	// fails the run rather than losing them silently.
	return out.Close()
}

// cat prints one line per record of in (and per stream header with
// headers) to w.
func cat(in *cliutil.Input, w io.Writer, asJSON, headers bool) error {
	var lastHeader *format.Header
	for {
		rec, err := in.Next()
		if in.Header != nil && in.Header != lastHeader && headers {
			lastHeader = in.Header
			if err := emit(w, asJSON, headerSummary(in.Header)); err != nil {
				return err
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if err := emit(w, asJSON, Summarize(rec)); err != nil {
			return err
		}
		in.Recycle(rec)
	}
}

type summary interface{ table() string }

func emit(w io.Writer, asJSON bool, s summary) (err error) {
	if asJSON {
		var b []byte
		if b, err = json.Marshal(s); err != nil {
			return err
		}
		_, err = fmt.Fprintf(w, "%s\n", b)
	} else {
		_, err = fmt.Fprintln(w, s.table())
	}
	if err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	return nil
}
