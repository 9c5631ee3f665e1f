// Package sharedtest finds the real test material in ../shared beside the
// repository, for tests that use it and skip without it.
package sharedtest

import (
	"os"
	"path/filepath"
	"testing"
)

// Dir returns the shared data directory (the repository's ../shared/data,
// or $CTSEG_SHARED_DATA when set), or skips the test with a clear message
// when it is absent, as it is on a fresh clone.
func Dir(t testing.TB) string {
	t.Helper()
	if d := os.Getenv("CTSEG_SHARED_DATA"); d != "" {
		return d
	}
	root, err := repoRoot()
	if err == nil {
		d := filepath.Join(root, "..", "shared", "data")
		if st, err := os.Stat(d); err == nil && st.IsDir() {
			return d
		}
	}
	t.Skip("real LUNA16 test data not found (../shared/data beside the repository, or $CTSEG_SHARED_DATA): skipping")
	return ""
}

// LunaDir returns the shared LUNA16-layout directory, or skips.
func LunaDir(t testing.TB) string {
	return filepath.Join(Dir(t), "luna")
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
