package tbevent

import (
	"bytes"
	"errors"
	"fmt"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"
)

// ErrClosed is returned by a Writer's methods after Close.
var ErrClosed = errors.New("tbevent: writer is closed")

// Writer writes TensorBoard events to an io.Writer. Each event goes to the
// destination in a single Write and is flushed at once, so a run that is
// killed keeps every event logged before. A Writer is safe for concurrent
// use.
type Writer struct {
	mu    sync.Mutex
	dst   io.Writer
	owned *os.File         // the file Create opened, closed by Close; nil otherwise
	now   func() time.Time // the clock for wall_time; tests replace it
	err   error            // first write error, returned from then on
	done  bool             // Close was called
}

// NewWriter returns a Writer on dst and writes the file_version event that
// starts every event file. If dst has a Flush() error method (as
// *bufio.Writer has), it is called after each event. Close does not close
// dst.
func NewWriter(dst io.Writer) (*Writer, error) {
	return newWriter(dst, time.Now)
}

func newWriter(dst io.Writer, now func() time.Time) (*Writer, error) {
	w := &Writer{dst: dst, now: now}
	if err := w.write("file_version", fileVersionEvent(w.wallTime())); err != nil {
		return nil, err
	}
	return w, nil
}

// fileSeq numbers the files this process creates, as tensorboard's
// EventFileWriter does with its _global_uid, so that two writers started
// in the same second in one directory get different names.
var fileSeq atomic.Uint64

// FileName returns the name PyTorch's SummaryWriter (through tensorboard's
// EventFileWriter) gives an event file:
// events.out.tfevents.<unix seconds, 10 digits>.<hostname>.<pid>.<seq>.
// TensorBoard reads any file whose name contains "tfevents".
func FileName(t time.Time, hostname string, pid int, seq uint64) string {
	// A hostname never holds a path separator, but a name is not a path.
	host := strings.NewReplacer("/", "_", `\`, "_").Replace(hostname)
	return fmt.Sprintf("events.out.tfevents.%010d.%s.%d.%d", t.Unix(), host, pid, seq)
}

// Create makes dir (and its parents) if needed, creates a new event file
// in it named by FileName, and returns a Writer on it and the file's path.
// The Writer owns the file: Close syncs and closes it.
func Create(dir string) (*Writer, string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, "", fmt.Errorf("tbevent: create log dir: %w", err)
	}
	host, err := os.Hostname()
	if err != nil {
		return nil, "", fmt.Errorf("tbevent: event file name: %w", err)
	}
	now := time.Now()
	path := filepath.Join(dir, FileName(now, host, os.Getpid(), fileSeq.Add(1)-1))
	// O_EXCL: never append to or truncate another writer's file.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return nil, "", fmt.Errorf("tbevent: create event file: %w", err)
	}
	w, err := newWriter(f, time.Now)
	if err != nil {
		// Leave no empty, headerless file for TensorBoard to trip over.
		f.Close()
		os.Remove(path)
		return nil, "", fmt.Errorf("%w (file %s)", err, path)
	}
	w.owned = f
	return w, path, nil
}

// Scalar writes value under tag at step, as SummaryWriter.add_scalar(tag,
// value, step) does: a Summary.Value with simple_value, which is a
// float32, so value is rounded to the nearest float32.
func (w *Writer) Scalar(tag string, step int64, value float64) error {
	if err := checkTag(tag); err != nil {
		return fmt.Errorf("tbevent: scalar: %w", err)
	}
	return w.write("scalar "+tag, scalarEvent(w.wallTime(), step, tag, float32(value)))
}

// Image writes a PNG image under tag at step, as SummaryWriter.add_image
// does: a Summary.Value with a Summary.Image whose colorspace is the
// number of channels (1 grey, 2 grey+alpha, 3 RGB, 4 RGBA). width and
// height must match the PNG's header.
func (w *Writer) Image(tag string, step int64, pngData []byte, width, height, channels int) error {
	m, err := checkImage(tag, pngData, width, height, channels)
	if err != nil {
		return fmt.Errorf("tbevent: image: %w", err)
	}
	return w.write("image "+tag, imageEvent(w.wallTime(), step, tag, m, pngData))
}

// Restart writes the event that makes TensorBoard forget what earlier
// event files of the run logged at step and later (a SessionLog START at
// step, as SummaryWriter(purge_step=step) writes it), for a run resumed
// from a checkpoint taken before step.
func (w *Writer) Restart(step int64) error {
	return w.write("restart", restartEvent(w.wallTime(), step))
}

// Close marks the Writer closed; for a Writer from Create it also syncs
// the file to disk and closes it. It returns the first write error, if
// any. Calling Close again returns nil.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		return nil
	}
	w.done = true
	err := w.err
	if w.owned != nil {
		// Sync once at the end: the kernel already has every event, this
		// makes the finished log survive a power loss too.
		if serr := w.owned.Sync(); serr != nil && err == nil {
			err = fmt.Errorf("tbevent: sync %s: %w", w.owned.Name(), serr)
		}
		if cerr := w.owned.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("tbevent: close %s: %w", w.owned.Name(), cerr)
		}
	}
	return err
}

// wallTime is time.time() as PyTorch stamps events: seconds since the
// epoch as a double. Whole seconds and the fraction are converted apart
// because nanoseconds since the epoch exceed float64's 53-bit mantissa.
func (w *Writer) wallTime() float64 {
	t := w.now()
	return float64(t.Unix()) + float64(t.Nanosecond())/1e9
}

// write frames event as a TFRecord and writes it in one call, then
// flushes. The first error sticks: after a partial record the stream is
// no longer framed, and a later record would be unreadable anyway.
func (w *Writer) write(what string, event []byte) error {
	rec := appendRecord(make([]byte, 0, len(event)+16), event)
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		return ErrClosed
	}
	if w.err != nil {
		return w.err
	}
	if _, err := w.dst.Write(rec); err != nil {
		w.err = fmt.Errorf("tbevent: write %s event: %w", what, err)
		return w.err
	}
	if f, ok := w.dst.(interface{ Flush() error }); ok {
		if err := f.Flush(); err != nil {
			w.err = fmt.Errorf("tbevent: flush %s event: %w", what, err)
			return w.err
		}
	}
	return nil
}

// checkTag rejects tags TensorBoard cannot show: empty, or not UTF-8
// (a proto3 string must be valid UTF-8).
func checkTag(tag string) error {
	if tag == "" {
		return errors.New("empty tag")
	}
	if !utf8.ValidString(tag) {
		return fmt.Errorf("tag %q is not valid UTF-8", tag)
	}
	return nil
}

// checkImage validates Image's arguments and returns the Summary.Image
// fields. It reads the PNG header so that a caller passing the wrong
// size, or bytes that are not a PNG, finds out here rather than in
// TensorBoard.
func checkImage(tag string, pngData []byte, width, height, channels int) (imageMeta, error) {
	if err := checkTag(tag); err != nil {
		return imageMeta{}, err
	}
	if width <= 0 || height <= 0 || width > math.MaxInt32 || height > math.MaxInt32 {
		return imageMeta{}, fmt.Errorf("%s: bad size %dx%d", tag, width, height)
	}
	if channels < 1 || channels > 4 {
		return imageMeta{}, fmt.Errorf("%s: %d channels, want 1 to 4", tag, channels)
	}
	cfg, err := png.DecodeConfig(bytes.NewReader(pngData))
	if err != nil {
		return imageMeta{}, fmt.Errorf("%s: not a PNG: %w", tag, err)
	}
	if cfg.Width != width || cfg.Height != height {
		return imageMeta{}, fmt.Errorf("%s: PNG is %dx%d, not %dx%d", tag, cfg.Width, cfg.Height, width, height)
	}
	return imageMeta{height: int32(height), width: int32(width), colorspace: int32(channels)}, nil
}
