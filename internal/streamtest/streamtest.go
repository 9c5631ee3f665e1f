// Package streamtest holds what the tests of the cmd programs share: write
// a record stream, and run a program in-process on streams and read back
// what it wrote; never import it from production code.
package streamtest

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/urfave/cli/v2"

	"github.com/ctseg/ctseg/format"
)

// Write writes recs as one stream of the given kind to a new temporary
// file and returns its path.
func Write(t testing.TB, kind format.Kind, recs ...format.Record) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), string(kind)+".stream")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := format.NewWriter(f, format.Header{Kind: kind, Program: "test"})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// Read returns every record of the stream file at path, failing the test
// unless all of it is a well-formed stream of the given kind.
func Read(t testing.TB, path string, kind format.Kind) []format.Record {
	t.Helper()
	return read(t, path, kind)
}

// read is Read.
func read(t testing.TB, path string, kind format.Kind) []format.Record {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := format.NewReader(f)
	defer r.Close()
	r.Expect(kind)
	var out []format.Record
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		out = append(out, rec)
	}
}

// Run runs app in-process as `NAME -q -o FILE ARGS…` and returns the
// records of FILE, which must be a stream of the given kind. On failure it
// returns the error, and checks that the run left no FILE behind.
func Run(t testing.TB, app *cli.App, kind format.Kind, args ...string) ([]format.Record, error) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "out.stream")
	if err := app.Run(append([]string{app.Name, "-q", "-o", out}, args...)); err != nil {
		if _, serr := os.Stat(out); !os.IsNotExist(serr) {
			t.Errorf("%s %v failed but left %s behind", app.Name, args, out)
		}
		return nil, err
	}
	return read(t, out, kind), nil
}
