// Package atomicfile writes a file so that it appears complete or not at
// all: data goes to a temporary file beside the target, which is renamed
// over the target only on Commit.
package atomicfile

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
)

// pending holds the files being written, so that a program stopped by a
// signal can remove its temporary files (AbortPending).
var pending = struct {
	sync.Mutex
	files map[*File]bool
}{files: map[*File]bool{}}

func track(f *File) *File {
	pending.Lock()
	defer pending.Unlock()
	pending.files[f] = true
	return f
}

func untrack(f *File) {
	pending.Lock()
	defer pending.Unlock()
	delete(pending.files, f)
}

// AbortPending removes the temporary files of every File not yet committed
// or aborted; a signal handler calls it before the program exits.
func AbortPending() {
	pending.Lock()
	files := make([]*File, 0, len(pending.files))
	for f := range pending.files {
		files = append(files, f)
	}
	pending.Unlock()
	for _, f := range files {
		f.Abort()
	}
}

// File is a pending file. Write to it, then Commit, or Abort to discard it.
// Abort after Commit does nothing, so `defer f.Abort()` is the usual idiom.
type File struct {
	*os.File
	path   string
	done   bool
	direct bool     // writing path itself: a device or a pipe, not a regular file
	dirs   []string // directories CreateAll made for path, deepest first
}

// CreateAll is Create that first makes the missing directories of path.
// They belong to the file: Abort, or a failed Commit, removes them again
// (those still empty), so a failed run leaves no trace of its output.
func CreateAll(path string) (*File, error) {
	dir := filepath.Dir(path)
	made := missingDirs(dir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		removeDirs(made)
		return nil, fmt.Errorf("create %s: %w", path, err)
	}
	f, err := create(path, made)
	if err != nil {
		removeDirs(made)
	}
	return f, err
}

// missingDirs lists dir and those of its parents that do not exist,
// deepest first: what MkdirAll(dir) is about to make.
func missingDirs(dir string) []string {
	var missing []string
	for d := filepath.Clean(dir); ; d = filepath.Dir(d) {
		if _, err := os.Lstat(d); !os.IsNotExist(err) {
			return missing
		}
		missing = append(missing, d)
		if filepath.Dir(d) == d {
			return missing
		}
	}
}

// removeDirs removes directories, deepest first, and stops at the first
// that cannot go: one that something else has written into meanwhile
// stays, and so do its parents.
func removeDirs(dirs []string) {
	for _, d := range dirs {
		if os.Remove(d) != nil {
			return
		}
	}
}

// Create starts writing path through a temporary file in the same directory.
// A path that exists and is not a regular file (/dev/null, /dev/stdout, a
// named pipe) is written in place: renaming over it would replace the
// device or pipe with a regular file. A directory is an error up front.
func Create(path string) (*File, error) { return create(path, nil) }

// create is Create for a file that owns dirs. They are in the File before
// it is tracked, so AbortPending (on a signal) removes them too.
func create(path string, dirs []string) (*File, error) {
	if st, err := os.Stat(path); err == nil && !st.Mode().IsRegular() {
		if st.IsDir() {
			return nil, fmt.Errorf("create %s: is a directory", path)
		}
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			return nil, fmt.Errorf("create %s: %w", path, err)
		}
		return track(&File{File: f, path: path, direct: true, dirs: dirs}), nil
	}
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, "."+base+".tmp*")
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", path, err)
	}
	return track(&File{File: tmp, path: path, dirs: dirs}), nil
}

// Commit flushes the data to disk and renames it into place. When it
// fails, the directories CreateAll made are removed.
func (f *File) Commit() error {
	if f.done {
		return fmt.Errorf("%s: already committed or aborted", f.path)
	}
	f.done = true
	untrack(f)
	err := f.commit()
	if err != nil {
		removeDirs(f.dirs)
	}
	return err
}

func (f *File) commit() error {
	if f.direct {
		if err := f.File.Close(); err != nil {
			return fmt.Errorf("write %s: %w", f.path, err)
		}
		return nil
	}
	if err := f.File.Sync(); err != nil {
		f.File.Close()
		os.Remove(f.File.Name())
		return fmt.Errorf("write %s: %w", f.path, err)
	}
	if err := f.File.Close(); err != nil {
		os.Remove(f.File.Name())
		return fmt.Errorf("write %s: %w", f.path, err)
	}
	if err := os.Chmod(f.File.Name(), 0o644); err != nil {
		os.Remove(f.File.Name())
		return fmt.Errorf("write %s: %w", f.path, err)
	}
	if err := os.Rename(f.File.Name(), f.path); err != nil {
		os.Remove(f.File.Name())
		return fmt.Errorf("write %s: %w", f.path, err)
	}
	return nil
}

// Abort removes the temporary file, leaving any existing target untouched,
// and the directories CreateAll made for it.
func (f *File) Abort() {
	if f.done {
		return
	}
	f.done = true
	untrack(f)
	f.File.Close()
	if !f.direct {
		os.Remove(f.File.Name())
	}
	removeDirs(f.dirs)
}

// WriteFile writes data to path atomically.
func WriteFile(path string, data []byte) error {
	f, err := Create(path)
	if err != nil {
		return err
	}
	defer f.Abort()
	if _, err := f.Write(data); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Commit()
}
