package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ctseg/ctseg/format"
	"github.com/ctseg/ctseg/geom"
	"github.com/ctseg/ctseg/internal/streamtest"
)

// writeCTStream writes a stream of n tiny CT records to a file.
func writeCTStream(t *testing.T, n int) string {
	t.Helper()
	var recs []format.Record
	for i := range n {
		recs = append(recs, &format.CT{SeriesUID: "1.2." + string(rune('a'+i)), Shape: [3]int{1, 2, 2}, HU: []int16{1, 2, 3, 4},
			Geometry: geom.Geometry{Spacing: [3]float64{1, 1, 1}, Direction: geom.Identity}})
	}
	return streamtest.Write(t, format.KindCT, recs...)
}

// runWithStdout runs streamcat with stdout redirected to out.
func runWithStdout(t *testing.T, out *os.File, args ...string) error {
	t.Helper()
	saved := os.Stdout
	os.Stdout = out
	defer func() { os.Stdout = saved }()
	return newApp().Run(append([]string{"streamcat"}, args...))
}

// A full disk once went unnoticed: the buffered lines were flushed by a
// deferred call whose error was dropped, and streamcat exited 0.
func TestWriteErrorFails(t *testing.T) {
	full, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
	if err != nil {
		t.Skipf("no /dev/full here: %v", err)
	}
	defer full.Close()
	in := writeCTStream(t, 3)
	for _, args := range [][]string{{in}, {"--json", in}} {
		err := runWithStdout(t, full, args...)
		if err == nil || !strings.Contains(err.Error(), "write output") {
			t.Errorf("streamcat %v > /dev/full: error %v, want a write error", args, err)
		}
	}
}

func TestLines(t *testing.T) {
	in := writeCTStream(t, 3)
	outPath := filepath.Join(t.TempDir(), "out.txt")
	out, err := os.Create(outPath)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	if err := runWithStdout(t, out, "--json", "--headers", in); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(outPath)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], `{"kind":"header"`) || !strings.Contains(lines[3], `"series_uid":"1.2.c"`) {
		t.Errorf("output:\n%s\nwant a header line and 3 CT lines", b)
	}
}

// -o writes the lines to a file, as every program's -o does; a failed run
// leaves none.
func TestOutputFile(t *testing.T) {
	in := writeCTStream(t, 2)
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "lines.txt")
	if err := newApp().Run([]string{"streamcat", "-o", path, in}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil || strings.Count(string(b), "\n") != 2 || !strings.Contains(string(b), "1.2.b") {
		t.Errorf("%s: %q, %v; want 2 lines", path, b, err)
	}
	failed := filepath.Join(dir, "new", "failed.txt")
	if err := newApp().Run([]string{"streamcat", "-o", failed, filepath.Join(dir, "missing.msz")}); err == nil {
		t.Fatal("no error for a missing input")
	}
	if _, err := os.Stat(filepath.Join(dir, "new")); !os.IsNotExist(err) {
		t.Errorf("a failed run left its output directory: %v", err)
	}
}
