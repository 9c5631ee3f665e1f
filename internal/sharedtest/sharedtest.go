// Package sharedtest finds the real test material in ../shared beside the
// repository, for tests that use it and skip without it. What it returns
// exists: a partial ../shared, or $CTSEG_SHARED_DATA naming a directory
// that lacks a file, skips the tests that need the file, and only those.
package sharedtest

import (
	"os"
	"path/filepath"
	"testing"
)

// LunaFiles are what a test of the real LUNA16 material may read in
// LunaDir: the list files and the two real series.
var LunaFiles = []string{
	"annotations.csv", "annotations_excluded.csv", "annotations_with_malignancy.csv",
	"candidates.csv", "seriesuids.csv",
	"subset0/1.3.6.1.4.1.14519.5.2.1.6279.6001.170706757615202213033480003264.mhd",
	"subset0/1.3.6.1.4.1.14519.5.2.1.6279.6001.170706757615202213033480003264.zraw",
	"subset0/1.3.6.1.4.1.14519.5.2.1.6279.6001.179049373636438705059720603192.mhd",
	"subset0/1.3.6.1.4.1.14519.5.2.1.6279.6001.179049373636438705059720603192.raw",
}

// Dir returns the shared data directory (the repository's ../shared/data,
// or $CTSEG_SHARED_DATA when set), or skips the test with a clear message
// when it is absent, as it is on a fresh clone.
func Dir(t testing.TB) string {
	t.Helper()
	d := os.Getenv("CTSEG_SHARED_DATA")
	if d == "" {
		root, err := repoRoot()
		if err != nil {
			t.Skipf("real LUNA16 test data: no repository root (%v): skipping", err)
		}
		d = filepath.Join(root, "..", "shared", "data")
	}
	if st, err := os.Stat(d); err != nil || !st.IsDir() {
		t.Skipf("real LUNA16 test data not found (%s; ../shared/data beside the repository, or $CTSEG_SHARED_DATA): skipping", d)
	}
	return d
}

// Path returns the file or directory elem… under Dir, or skips the test
// when it does not exist.
func Path(t testing.TB, elem ...string) string {
	t.Helper()
	p := filepath.Join(append([]string{Dir(t)}, elem...)...)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("real test data %s not found: skipping", p)
	}
	return p
}

// Find returns the file or directory elem… of the shared data, and
// whether it exists, for a test that uses it when it can and goes on
// without it otherwise.
func Find(elem ...string) (string, bool) {
	d := os.Getenv("CTSEG_SHARED_DATA")
	if d == "" {
		root, err := repoRoot()
		if err != nil {
			return "", false
		}
		d = filepath.Join(root, "..", "shared", "data")
	}
	p := filepath.Join(append([]string{d}, elem...)...)
	_, err := os.Stat(p)
	return p, err == nil
}

// LunaDir returns the shared LUNA16-layout directory, or skips unless it
// holds every one of LunaFiles.
func LunaDir(t testing.TB) string {
	t.Helper()
	dir := Path(t, "luna")
	for _, f := range LunaFiles {
		if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(f))); err != nil {
			t.Skipf("real LUNA16 test data incomplete (%s missing): skipping", f)
		}
	}
	return dir
}

// ModelPath returns the book's published segmentation checkpoint, or skips.
func ModelPath(t testing.TB) string {
	t.Helper()
	return Path(t, "models", "seg_2020-01-26_19.45.12_w4d3c1-bal_1_nodupe-label_pos-d1_fn8-adam.best.state")
}

func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", os.ErrNotExist
		}
		dir = parent
	}
}
