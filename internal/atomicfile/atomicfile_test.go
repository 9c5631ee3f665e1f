package atomicfile

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestCommitAndAbort(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.bin")
	if err := WriteFile(path, []byte("first")); err != nil {
		t.Fatal(err)
	}
	f, err := Create(path)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte("second, never committed"))
	f.Abort()
	got, err := os.ReadFile(path)
	if err != nil || string(got) != "first" {
		t.Fatalf("after Abort: %q, %v; want the old file", got, err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("temporary files left behind: %v", entries)
	}
	f, _ = Create(path)
	f.Write([]byte("third"))
	if err := f.Commit(); err != nil {
		t.Fatal(err)
	}
	f.Abort() // after Commit: does nothing
	if got, _ := os.ReadFile(path); string(got) != "third" {
		t.Errorf("after Commit: %q", got)
	}
	if err := f.Commit(); err == nil {
		t.Error("second Commit succeeded")
	}
}

func TestCreateInMissingDir(t *testing.T) {
	if _, err := Create(filepath.Join(t.TempDir(), "no", "such", "x")); err == nil {
		t.Error("Create in a missing directory succeeded")
	}
}

// Renaming over /dev/null once replaced the device with a regular file.
func TestCreateSpecialFileWritesInPlace(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skip(err)
	}
	got := make(chan []byte)
	go func() {
		b, _ := os.ReadFile(fifo)
		got <- b
	}()
	if err := WriteFile(fifo, []byte("stream")); err != nil {
		t.Fatal(err)
	}
	if b := <-got; string(b) != "stream" {
		t.Errorf("read %q from the pipe, want %q", b, "stream")
	}
	if st, err := os.Lstat(fifo); err != nil || st.Mode()&os.ModeNamedPipe == 0 {
		t.Errorf("after the write: %v, %v; want the named pipe still there", st, err)
	}
	if _, err := Create(dir); err == nil || !strings.Contains(err.Error(), "is a directory") {
		t.Errorf("Create(dir): %v, want an is-a-directory error", err)
	}
}

func TestAbortPending(t *testing.T) {
	dir := t.TempDir()
	a, _ := Create(filepath.Join(dir, "a"))
	b, _ := Create(filepath.Join(dir, "b"))
	if err := b.Commit(); err != nil {
		t.Fatal(err)
	}
	a.Write([]byte("half"))
	AbortPending()
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 || entries[0].Name() != "b" {
		t.Errorf("after AbortPending: %v, want only the committed file", entries)
	}
}

// A failed run once left the directories it had made for its output.
func TestCreateAllAbortRemovesMadeDirs(t *testing.T) {
	root := t.TempDir()
	if err := os.Mkdir(filepath.Join(root, "old"), 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(root, "old", "new", "sub", "out.bin")
	f, err := CreateAll(path)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte("never committed"))
	f.Abort()
	if _, err := os.Stat(filepath.Join(root, "old", "new")); !os.IsNotExist(err) {
		t.Errorf("Abort left the directories it made: %v", err)
	}
	if _, err := os.Stat(filepath.Join(root, "old")); err != nil {
		t.Errorf("Abort removed a directory it did not make: %v", err)
	}
	f, err = CreateAll(path)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte("kept"))
	if err := f.Commit(); err != nil {
		t.Fatal(err)
	}
	f.Abort() // after Commit: keeps the file and its directories
	if got, err := os.ReadFile(path); err != nil || string(got) != "kept" {
		t.Errorf("after Commit: %q, %v", got, err)
	}
}

// A directory that something else wrote into while the file was pending
// is not the file's to remove.
func TestCreateAllAbortKeepsUsedDirs(t *testing.T) {
	root := t.TempDir()
	f, err := CreateAll(filepath.Join(root, "a", "b", "out.bin"))
	if err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(root, "a", "other.txt")
	if err := os.WriteFile(other, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	f.Abort()
	if _, err := os.Stat(filepath.Join(root, "a", "b")); !os.IsNotExist(err) {
		t.Errorf("empty made directory left: %v", err)
	}
	if _, err := os.Stat(other); err != nil {
		t.Errorf("Abort removed another file's directory: %v", err)
	}
}

func TestCreateAllOverAFile(t *testing.T) {
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "file"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := CreateAll(filepath.Join(root, "file", "sub", "out.bin")); err == nil {
		t.Error("CreateAll under a regular file succeeded")
	}
	if entries, _ := os.ReadDir(root); len(entries) != 1 {
		t.Errorf("left behind: %v", entries)
	}
}
