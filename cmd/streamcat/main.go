// Command streamcat prints what a ctseg sample stream holds: one line per
// record, as a table or (--json) as one JSON object per line, with tensor
// summaries instead of tensor data.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/ctseg/ctseg/format"
	"github.com/ctseg/ctseg/internal/cliutil"
)

func main() { cliutil.Run(newApp()) }

func newApp() *cli.App {
	return &cli.App{
		Name:      "streamcat",
		Usage:     "inspect ctseg sample streams",
		UsageText: "streamcat [--json] [--headers] [FILE...]   (stdin when no FILE)",
		Description: "Prints one line per record. With --json, one JSON object per line with \"kind\" and the record's\n" +
			"metadata; tensors are summarised (sums, extremes, counts), never printed.",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "json", Usage: "one JSON object per record and line"},
			&cli.BoolFlag{Name: "headers", Usage: "also print each stream's header"},
		},
		Action: run,
	}
}

func run(c *cli.Context) error {
	in := cliutil.OpenInput(c, "")
	defer in.Close()
	out := bufio.NewWriter(os.Stdout)
	err := cat(in, out, c.Bool("json"), c.Bool("headers"))
	// The last lines are only written here: a full disk or a closed
	// pipe must fail the run, not lose them silently.
	if ferr := out.Flush(); err == nil && ferr != nil {
		err = fmt.Errorf("write output: %w", ferr)
	}
	return err
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

type headerJSON struct {
	Kind       string   `json:"kind"`
	RecordKind string   `json:"record_kind"`
	Program    string   `json:"program"`
	Args       []string `json:"args"`
	Version    [2]int   `json:"version"`
	Created    string   `json:"created"`
}

func (h headerJSON) table() string {
	return fmt.Sprintf("# stream of %s records, format %d.%d, by %s %v at %s", h.RecordKind, h.Version[0], h.Version[1], h.Program, h.Args, h.Created)
}

func headerSummary(h *format.Header) headerJSON {
	return headerJSON{Kind: "header", RecordKind: string(h.Kind), Program: h.Program, Args: h.Args, Version: h.Version, Created: h.Created}
}
