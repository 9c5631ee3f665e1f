package main

import (
	"fmt"

	"github.com/ctseg/ctseg/format"
	"github.com/ctseg/ctseg/internal/metaimage"
)

// loaded is one series read from disk, or why it could not be read.
type loaded struct {
	s   series
	ct  *format.CT
	img *metaimage.Image
	buf []int16 // the buffer lent to the read, to recycle
	err error
}

// readAhead reads the series in order on its own goroutine, so the next
// file is read and decoded while the current one is compressed. Memory is
// bounded by recycling two voxel buffers: one CT being written, one being
// read. The caller hands each CT's HU back through recycle once written,
// and closes stop to end early.
func readAhead(list []series, stop <-chan struct{}) (<-chan loaded, chan<- []int16) {
	out := make(chan loaded)
	free := make(chan []int16, 2)
	free <- nil
	free <- nil
	go func() {
		defer close(out)
		for _, s := range list {
			var buf []int16
			select {
			case buf = <-free:
			case <-stop:
				return
			}
			l := load(s, buf)
			select {
			case out <- l:
			case <-stop:
				return
			}
		}
	}()
	return out, free
}

// load reads one series into buf (when large enough).
func load(s series, buf []int16) loaded {
	img, err := metaimage.ReadFileInto(s.path, buf)
	if err != nil {
		return loaded{s: s, err: err, buf: buf}
	}
	ct := &format.CT{
		SeriesUID: s.uid,
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
func copyAll(list []series, w sink, skipBad bool, warn logger, done func()) (skipped int, err error) {
	stop := make(chan struct{})
	defer close(stop)
	in, recycle := readAhead(list, stop)
	for l := range in {
		if l.err != nil {
			if !skipBad {
				return skipped, fmt.Errorf("series %s: %w (--skip-bad skips unreadable series)", l.s.uid, l.err)
			}
			warn("skipping series %s: %v", l.s.uid, l.err)
			skipped++
			recycle <- l.buf
			continue
		}
		for _, m := range l.img.Warnings {
			warn("series %s: %s", l.s.uid, m)
		}
		if err := w.Write(l.ct); err != nil {
			return skipped, fmt.Errorf("series %s: %w", l.s.uid, err)
		}
		done()
		recycle <- l.buf
	}
	return skipped, nil
}
