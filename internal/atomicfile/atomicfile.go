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
	direct bool // writing path itself: a device or a pipe, not a regular file
}

// Create starts writing path through a temporary file in the same directory.
// A path that exists and is not a regular file (/dev/null, /dev/stdout, a
// named pipe) is written in place: renaming over it would replace the
// device or pipe with a regular file. A directory is an error up front.
func Create(path string) (*File, error) {
	if st, err := os.Stat(path); err == nil && !st.Mode().IsRegular() {
		if st.IsDir() {
			return nil, fmt.Errorf("create %s: is a directory", path)
		}
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			return nil, fmt.Errorf("create %s: %w", path, err)
		}
		return track(&File{File: f, path: path, direct: true}), nil
	}
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, "."+base+".tmp*")
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", path, err)
	}
	return track(&File{File: tmp, path: path}), nil
}

// Commit flushes the data to disk and renames it into place.
func (f *File) Commit() error {
	if f.done {
		return fmt.Errorf("%s: already committed or aborted", f.path)
	}
	f.done = true
	untrack(f)
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

// Abort removes the temporary file, leaving any existing target untouched.
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
