package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
)

// runApp runs mkphantom with args, capturing its help/usage output.
func runApp(t *testing.T, args ...string) (string, error) {
	t.Helper()
	app := newApp()
	var out bytes.Buffer
	app.Writer, app.ErrWriter = &out, &out
	app.ExitErrHandler = func(*cli.Context, error) {}
	err := app.Run(append([]string{"mkphantom"}, args...))
	return out.String(), err
}

func TestGeneratesALunaDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "luna")
	if _, err := runApp(t, "--out", dir, "--series", "3", "--seed", "5", "--size", "64x80x16", "--subsets", "2",
		"--nodules", "1-2", "--decoys", "6", "--compressed", "--quiet"); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"annotations_with_malignancy.csv", "annotations.csv", "candidates.csv", "annotations_excluded.csv", "seriesuids.csv"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Error(err)
		}
	}
	uids, err := os.ReadFile(filepath.Join(dir, "seriesuids.csv"))
	if err != nil {
		t.Fatal(err)
	}
	zraw, _ := filepath.Glob(filepath.Join(dir, "subset*", "*.zraw"))
	mhd, _ := filepath.Glob(filepath.Join(dir, "subset*", "*.mhd"))
	in1, _ := filepath.Glob(filepath.Join(dir, "subset1", "*.mhd"))
	if n := strings.Count(string(uids), "\n"); n != 3 || len(zraw) != 3 || len(mhd) != 3 || len(in1) != 1 {
		t.Errorf("%d uids, %d .zraw, %d .mhd (%d in subset1); want 3, 3, 3 (1)", n, len(zraw), len(mhd), len(in1))
	}
	hdr, err := os.ReadFile(mhd[0])
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(hdr), "DimSize = 64 80 16") || !strings.Contains(string(hdr), "CompressedData = True") {
		t.Errorf("header:\n%s", hdr)
	}
}

// -o names the output directory too, as the one output of mkphantom;
// --output, once an alias, still works (deprecated: --output is a stream
// FILE in every other program).
func TestOutputAliases(t *testing.T) {
	for _, flag := range []string{"-o", "--out", "--output"} {
		dir := filepath.Join(t.TempDir(), "luna")
		out, err := runApp(t, flag, dir, "--series", "1", "--size", "32x32x8", "--nodules", "0", "--decoys", "0", "-q")
		if err != nil {
			t.Fatalf("%s: %v", flag, err)
		}
		warned := strings.Contains(out, "--output is deprecated, use --out")
		if warned != (flag == "--output") {
			t.Errorf("%s: printed %q", flag, out)
		}
		if _, err := os.Stat(filepath.Join(dir, "seriesuids.csv")); err != nil {
			t.Errorf("%s: %v", flag, err)
		}
	}
}

// A missing --out is one error line; it once printed the whole help on
// stdout as well.
func TestMissingOutIsOneLine(t *testing.T) {
	out, err := runApp(t, "--series", "2")
	if err == nil || err.Error() != "no output directory: pass --out DIR (see --help)" {
		t.Errorf("error %v, want the missing --out error", err)
	}
	if out != "" {
		t.Errorf("printed %q besides the error", out)
	}
}

func TestBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--series", "2"}, // no --out
		{"--out", "x", "--size", "512"},
		{"--out", "x", "--size", "512x0"},
		{"--out", "x", "--size", "axb"},
		{"--out", "x", "--nodules", "3-1"},
		{"--out", "x", "--nodules", "many"},
		{"--out", "x", "--series", "0"},
		{"--out", "x", "--subsets", "0"},
		{"--out", "x", "--threads", "-1"},
		{"--out", "x", "--workers", "-1"},
		{"--out", "x", "stray"},
	} {
		if _, err := runApp(t, args...); err == nil {
			t.Errorf("%q accepted", args)
		}
	}
}

func TestHelpNamesEveryFlag(t *testing.T) {
	out, err := runApp(t, "--help")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"--out", "--series", "--seed", "--size", "--subsets", "--nodules", "--decoys", "--compressed", "--threads", "--quiet"} {
		if !strings.Contains(out, f) {
			t.Errorf("--help does not mention %s", f)
		}
	}
	for _, f := range []string{"--workers", "--output"} {
		if strings.Contains(out, f) {
			t.Errorf("--help mentions the deprecated %s", f)
		}
	}
}

// --workers, the old name of --threads, still works and says so.
func TestWorkersIsThreads(t *testing.T) {
	out, err := runApp(t, "--out", filepath.Join(t.TempDir(), "luna"), "--workers", "2", "--series", "1", "--size", "32x32x8",
		"--nodules", "0", "--decoys", "0", "-q")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "mkphantom: warning: --workers is deprecated, use --threads") {
		t.Errorf("printed %q, want the deprecation warning", out)
	}
}

func TestParseSize(t *testing.T) {
	c, r, s, err := parseSize("128x96x48")
	if err != nil || c != 128 || r != 96 || s != 48 {
		t.Errorf("128x96x48: %d %d %d %v", c, r, s, err)
	}
	c, r, s, err = parseSize("512X512")
	if err != nil || c != 512 || r != 512 || s != 0 {
		t.Errorf("512X512: %d %d %d %v", c, r, s, err)
	}
}

func TestParseRange(t *testing.T) {
	for in, want := range map[string][2]int{"1-3": {1, 3}, "2": {2, 2}, "0-0": {0, 0}} {
		lo, hi, err := parseRange(in)
		if err != nil || lo != want[0] || hi != want[1] {
			t.Errorf("%s: %d-%d %v", in, lo, hi, err)
		}
	}
}
