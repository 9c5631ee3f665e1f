package main

import (
	"context"
	"fmt"
	"io"

	"github.com/ctseg/ctseg/format"
	"github.com/ctseg/ctseg/internal/luna"
	"github.com/ctseg/ctseg/internal/metaimage"
	"github.com/ctseg/ctseg/internal/readahead"
)

// loaded is one series read from disk, or why it could not be read.
type loaded struct {
	s   luna.Series
	ct  *format.CT
	img *metaimage.Image
	buf []int16 // the buffer lent to the read, to recycle
	err error
}

// readAhead reads the series in order on its own goroutine, so the next
// file is read and decoded while the current one is compressed. Memory is
// bounded by recycling two voxel buffers: one CT being written, one being
// read. The caller hands each CT's HU back through recycle once written.
func readAhead(list []luna.Series) (*readahead.Reader[loaded], chan<- []int16) {
	free := make(chan []int16, 2)
	free <- nil
	free <- nil
	next := 0
	return readahead.Start(1, func(ctx context.Context) (loaded, error) {
		if next == len(list) {
			return loaded{}, io.EOF
		}
		var buf []int16
		select {
		case buf = <-free:
		case <-ctx.Done():
			return loaded{}, ctx.Err()
		}
		next++
		return load(list[next-1], buf), nil
	}), free
}

// load reads one series into buf (when large enough).
func load(s luna.Series, buf []int16) loaded {
	img, err := metaimage.ReadFileInto(s.Path, buf)
	if err != nil {
		return loaded{s: s, err: err, buf: buf}
	}
	ct := &format.CT{
		SeriesUID: s.UID,
		Shape:     [3]int{img.Size[2], img.Size[1], img.Size[0]},
		Geometry:  img.Geometry,
		HU:        img.HU,
	}
	return loaded{s: s, ct: ct, img: img, buf: img.HU}
}

// sink receives the read series; main's implementation writes them.
type sink interface {
	Write(format.Record) error
}

// logger prints a warning line on stderr.
type logger func(format string, args ...any)

// copyAll writes every series of list to w, in order. A series that cannot
// be read fails the run, or with skipBad is logged and counted.
func copyAll(list []luna.Series, w sink, skipBad bool, warn logger, done func()) (skipped int, err error) {
	in, recycle := readAhead(list)
	defer in.Stop()
	for {
		l, err := in.Next()
		if err == io.EOF {
			return skipped, nil
		} else if err != nil {
			return skipped, err
		}
		if l.err != nil {
			if !skipBad {
				return skipped, fmt.Errorf("series %s: %w (--skip-bad skips unreadable series)", l.s.UID, l.err)
			}
			warn("skipping series %s: %v", l.s.UID, l.err)
			skipped++
			recycle <- l.buf
			continue
		}
		for _, m := range l.img.Warnings {
			warn("series %s: %s", l.s.UID, m)
		}
		if err := w.Write(l.ct); err != nil {
			return skipped, fmt.Errorf("series %s: %w", l.s.UID, err)
		}
		done()
		recycle <- l.buf
	}
}
