package sharedtest

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// skipped runs f on a fake testing.TB and reports whether it skipped.
func skipped(f func(t testing.TB)) bool {
	done := make(chan bool)
	var ft fakeT
	go func() {
		defer func() { done <- ft.skipped }()
		f(&ft)
	}()
	return <-done
}

// fakeT records a skip, which ends the goroutine as testing's SkipNow does.
type fakeT struct {
	testing.TB
	skipped bool
}

func (f *fakeT) Helper() {}
func (f *fakeT) Skipf(string, ...any) {
	f.skipped = true
	runtime.Goexit()
}

// TestPartialSharedSkips: a shared directory that lacks what a test needs
// skips that test instead of failing it.
func TestPartialSharedSkips(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("CTSEG_SHARED_DATA", filepath.Join(dir, "nowhere"))
	if !skipped(func(t testing.TB) { Dir(t) }) {
		t.Error("Dir did not skip for a missing directory")
	}
	t.Setenv("CTSEG_SHARED_DATA", dir)
	if skipped(func(t testing.TB) { Dir(t) }) {
		t.Error("Dir skipped for an existing directory")
	}
	if !skipped(func(t testing.TB) { ModelPath(t) }) {
		t.Error("ModelPath did not skip without the model")
	}
	os.MkdirAll(filepath.Join(dir, "luna", "subset0"), 0o755)
	for _, f := range LunaFiles[:3] {
		os.WriteFile(filepath.Join(dir, "luna", f), nil, 0o644)
	}
	if !skipped(func(t testing.TB) { LunaDir(t) }) {
		t.Error("LunaDir did not skip a partial luna directory")
	}
	for _, f := range LunaFiles {
		os.WriteFile(filepath.Join(dir, "luna", filepath.FromSlash(f)), nil, 0o644)
	}
	if skipped(func(t testing.TB) { LunaDir(t) }) {
		t.Error("LunaDir skipped a complete luna directory")
	}
}
