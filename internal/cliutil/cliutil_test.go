package cliutil

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"

	"github.com/ctseg/ctseg/format"
	"github.com/ctseg/ctseg/internal/geom"
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

func TestFlagsFirst(t *testing.T) {
	flags := []cli.Flag{OutputFlag(), QuietFlag(), &cli.IntFlag{Name: "context"}}
	got := FlagsFirst(flags, []string{"crop", "a.msz", "-o", "out.msz", "b.msz", "-q", "--context=2", "--context", "-3", "-", "--", "-odd"})
	want := []string{"crop", "-o", "out.msz", "-q", "--context=2", "--context", "-3", "--", "a.msz", "b.msz", "-", "-odd"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("got  %v\nwant %v", got, want)
	}
}
