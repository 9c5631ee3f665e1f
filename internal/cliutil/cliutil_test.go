package cliutil

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"

	"github.com/ctseg/ctseg/format"
	"github.com/ctseg/ctseg/geom"
	"github.com/ctseg/ctseg/internal/version"
)

func ct(uid string) *format.CT {
	return &format.CT{SeriesUID: uid, Shape: [3]int{1, 2, 2}, HU: []int16{1, 2, 3, 4},
		Geometry: geom.Geometry{Spacing: [3]float64{1, 1, 1}, Direction: geom.Identity}}
}

func writeStream(t *testing.T, path string, uids ...string) {
	t.Helper()
	out, err := NewOutput(path, format.Header{Kind: format.KindCT, Program: "test"})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range uids {
		if err := out.Write(ct(u)); err != nil {
			t.Fatal(err)
		}
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestOutputAndInput(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.msz"), filepath.Join(dir, "sub", "b.msz")
	writeStream(t, a, "1", "2")
	writeStream(t, b, "3")
	in := NewInput([]string{a, b}, format.KindCT)
	defer in.Close()
	var got []string
	for {
		rec, err := in.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, rec.(*format.CT).SeriesUID)
		in.Recycle(rec)
	}
	if len(got) != 3 || got[0] != "1" || got[2] != "3" {
		t.Errorf("records %v", got)
	}
}

func TestAbortLeavesNoFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.msz")
	out, err := NewOutput(path, format.Header{Kind: format.KindCT})
	if err != nil {
		t.Fatal(err)
	}
	out.Write(ct("1"))
	out.Abort()
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("aborted output exists: %v", err)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 0 {
		t.Errorf("left behind: %v", entries)
	}
}

func TestInputErrorsNameTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "crops.msz")
	out, _ := NewOutput(path, format.Header{Kind: format.KindCrop})
	out.Close()
	in := NewInput([]string{path}, format.KindCT)
	defer in.Close()
	_, err := in.Next()
	if !errors.Is(err, format.ErrKind) || !contains(err.Error(), path) {
		t.Errorf("error %v: want a wrong-kind error naming %s", err, path)
	}
	in2 := NewInput([]string{filepath.Join(t.TempDir(), "missing.msz")}, format.KindCT)
	if _, err := in2.Next(); err == nil || !contains(err.Error(), "missing.msz") {
		t.Errorf("missing file: %v", err)
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

// testFlags are flags with and without values, of several types.
func testFlags() []cli.Flag {
	return []cli.Flag{OutputFlag(), QuietFlag(), &cli.IntFlag{Name: "context"}, &cli.Float64Flag{Name: "threshold"},
		&cli.StringFlag{Name: "width"}, &cli.BoolFlag{Name: "val"}}
}

func TestFlagsFirst(t *testing.T) {
	for _, c := range []struct{ args, want string }{
		{"a.msz -o out.msz b.msz -q --context=2 --context -3 - -- -odd", "-o out.msz -q --context=2 --context -3 -- a.msz b.msz - -odd"},
		{"a.msz --output out.msz", "--output out.msz a.msz"},
		{"a.msz -o -", "-o - a.msz"},   // "-" is stdout
		{"a.msz -o=-q", "-o=-q a.msz"}, // said on purpose
		{"a.msz -o=", "-o= a.msz"},     // CreateOutput refuses the empty name
		{"a.msz --threshold -700.5", "--threshold -700.5 a.msz"},
		{"a.msz --threshold -.5", "--threshold -.5 a.msz"},
		{"a.msz --width -7,96,96", "--width -7,96,96 a.msz"}, // crop's parser says what is wrong
		{"a.msz -o -3", "-o -3 a.msz"},                       // no input file can be called -3
		{"a.msz --val -q", "--val -q a.msz"},
		{"a.msz -- -o", "-- a.msz -o"},         // after "--", "-o" is a file
		{"a.msz --bogus x", "--bogus a.msz x"}, // urfave/cli reports --bogus
		{"", ""},
	} {
		got, err := FlagsFirst(testFlags(), append([]string{"crop"}, strings.Fields(c.args)...))
		if err != nil {
			t.Errorf("%q: %v", c.args, err)
			continue
		}
		if g := strings.Join(got[1:], " "); g != c.want {
			t.Errorf("%q: got %q, want %q", c.args, g, c.want)
		}
	}
}

// `cat a.msz | crop b.msz -o` once wrote the stream over b.msz: FlagsFirst
// moved the bare -o in front of b.msz. No input may become a flag's value.
func TestFlagsFirstRefusesAMissingValue(t *testing.T) {
	for _, c := range []struct{ args, want string }{
		{"b.msz -o", "flag -o needs a value"},
		{"b.msz --output", "flag --output needs a value"},
		{"b.msz -output", "flag -output needs a value"},
		{"b.msz -q -o", "flag -o needs a value"},
		{"-o", "flag -o needs a value"},
		{"b.msz -o out.msz --width", "flag --width needs a value"},
		{"b.msz --context", "flag --context needs a value"},
		{"b.msz -o -q", `flag -o needs a value, not "-q" (write -o=-q to mean it)`},
		{"b.msz -o --val", `flag -o needs a value, not "--val"`},
		{"b.msz -o -- c.msz", `flag -o needs a value, not "--"`},
		{"b.msz -o -out.msz", `flag -o needs a value, not "-out.msz"`},
		{"b.msz --context -q", `flag --context needs a value, not "-q"`},
	} {
		got, err := FlagsFirst(testFlags(), append([]string{"crop"}, strings.Fields(c.args)...))
		if err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%q: got %q, %v; want the error %q", c.args, got, err, c.want)
		}
	}
}

// An empty --output is an error: it once meant stdout, so `-o "$OUT"` with
// OUT unset wrote the stream down the pipe or to the terminal.
func TestEmptyOutputName(t *testing.T) {
	for _, args := range [][]string{{"-o="}, {"--output", ""}, {"-o", ""}} {
		app := &cli.App{Name: "prog", Flags: []cli.Flag{OutputFlag()}, Action: func(c *cli.Context) error {
			_, err := CreateOutput(c, format.KindCT)
			return err
		}}
		err := app.Run(append([]string{"prog"}, args...))
		if err == nil || err.Error() != "--output: empty file name" {
			t.Errorf("%q: %v, want the empty file name error", args, err)
		}
	}
}

// The stream header names the program's version.
func TestOutputHeaderHasVersion(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.msz")
	app := &cli.App{Name: "prog", Flags: []cli.Flag{OutputFlag()}, Action: func(c *cli.Context) error {
		out, err := CreateOutput(c, format.KindCT)
		if err != nil {
			return err
		}
		return out.Close()
	}}
	if err := app.Run([]string{"prog", "-o", path}); err != nil {
		t.Fatal(err)
	}
	in := NewInput([]string{path}, format.KindCT)
	defer in.Close()
	if _, err := in.Next(); err != io.EOF {
		t.Fatal(err)
	}
	if in.Header == nil || in.Header.ProgramVersion != version.String() || in.Header.Program != "prog" {
		t.Errorf("header %+v, want program prog, version %q", in.Header, version.String())
	}
}

// A failed run removes the directories made for its output, and only those.
func TestAbortRemovesMadeDirs(t *testing.T) {
	root := t.TempDir()
	out, err := NewOutput(filepath.Join(root, "new", "sub", "x.msz"), format.Header{Kind: format.KindCT})
	if err != nil {
		t.Fatal(err)
	}
	out.Write(ct("1"))
	out.Abort()
	if entries, _ := os.ReadDir(root); len(entries) != 0 {
		t.Errorf("left behind: %v", entries)
	}
}

// An old flag name still works, says it is deprecated, and its value
// reaches the new name (under which the program reads it).
func TestRenamed(t *testing.T) {
	var got []string
	app := &cli.App{Name: "prog", Flags: []cli.Flag{
		&cli.BoolFlag{Name: "negatives"}, RenamedBool("candidates", "negatives"),
		&cli.IntFlag{Name: "threads"}, RenamedInt("workers", "threads"),
		&cli.StringFlag{Name: "out"}, RenamedString("output", "out"),
	}, Action: func(c *cli.Context) error {
		got = []string{fmt.Sprint(c.Bool("negatives"), c.IsSet("negatives")), fmt.Sprint(c.Int("threads")), c.String("out")}
		return nil
	}}
	var stderr, stdout strings.Builder
	app.ErrWriter, app.Writer = &stderr, &stdout
	if err := app.Run([]string{"prog", "--candidates", "--workers", "3", "--output", "d"}); err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, " ") != "true true 3 d" {
		t.Errorf("new flags got %q", got)
	}
	want := "prog: warning: --candidates is deprecated, use --negatives\n" +
		"prog: warning: --workers is deprecated, use --threads\n" +
		"prog: warning: --output is deprecated, use --out\n"
	if stderr.String() != want {
		t.Errorf("stderr %q, want %q", stderr.String(), want)
	}
	if err := app.Run([]string{"prog", "--help"}); err != nil {
		t.Fatal(err)
	}
	for _, old := range []string{"--candidates", "--workers", "--output"} {
		if strings.Contains(stdout.String(), old) {
			t.Errorf("--help shows the deprecated %s", old)
		}
	}
}

// TextOutput writes a file atomically, and nothing when aborted.
func TestTextOutput(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "lines.txt")
	run := func(fail bool) error {
		app := &cli.App{Name: "prog", Flags: []cli.Flag{OutputFlag()}, Action: func(c *cli.Context) error {
			out, err := CreateTextOutput(c)
			if err != nil {
				return err
			}
			defer out.Abort()
			fmt.Fprintln(out, "a line")
			if fail {
				return errors.New("failed")
			}
			return out.Close()
		}}
		return app.Run([]string{"prog", "-o", path})
	}
	if err := run(true); err == nil {
		t.Fatal("no error")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("a failed run left %v", entries)
	}
	if err := run(false); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(path); err != nil || string(b) != "a line\n" {
		t.Errorf("%q, %v", b, err)
	}
}

// TestFlagsFirstCommands: a subcommand's flags may follow its files too
// (`segeval froc a.csv --json`); the program's flags before the command
// stay there, and only the first non-flag argument can name a command.
func TestFlagsFirstCommands(t *testing.T) {
	froc := &cli.Command{Name: "froc", Aliases: []string{"f"}, Flags: []cli.Flag{
		&cli.BoolFlag{Name: "json"}, &cli.StringFlag{Name: "out"}, &cli.IntFlag{Name: "bootstrap"}}}
	cmds := []*cli.Command{froc}
	for _, c := range []struct{ args, want string }{
		{"froc a.csv --json b.csv --out d", "froc --json --out d a.csv b.csv"},
		{"-q froc a.csv --bootstrap 0", "-q froc --bootstrap 0 a.csv"},
		{"f a.csv --json", "f --json a.csv"},
		{"a.msz froc -o x", "-o x a.msz froc"}, // after a file, froc is a file
		{"-o froc a.msz", "-o froc a.msz"},     // a flag's value is no command
		{"froc -- --json", "froc -- --json"},
		{"froc", "froc"},
		{"a.msz -q", "-q a.msz"},
	} {
		got, err := FlagsFirstCommands(testFlags(), cmds, append([]string{"segeval"}, strings.Fields(c.args)...))
		if err != nil {
			t.Errorf("%q: %v", c.args, err)
			continue
		}
		if g := strings.Join(got[1:], " "); g != c.want {
			t.Errorf("%q: got %q, want %q", c.args, g, c.want)
		}
	}
	if _, err := FlagsFirstCommands(testFlags(), cmds, []string{"segeval", "froc", "a.csv", "--out"}); err == nil || !strings.Contains(err.Error(), "--out needs a value") {
		t.Errorf("froc a.csv --out: %v", err)
	}
}
