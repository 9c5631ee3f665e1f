// Package progress reports the progress of long work on stderr: a bar
// redrawn in place on a terminal, and a plain line every few seconds
// otherwise (logs, CI, pipelines redirected to files).
package progress

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"
)

// Interval is how often a Meter writes a line when its output is not a
// terminal.
var Interval = 10 * time.Second

// Meter counts work done towards an optional total.
type Meter struct {
	mu       sync.Mutex
	w        io.Writer
	label    string
	unit     string
	total    int64 // 0: unknown
	done     int64
	start    time.Time
	last     time.Time
	terminal bool
	quiet    bool
}

// New starts a meter on stderr. total may be 0 when unknown; unit names what
// is counted ("series", "crops"). A quiet meter writes nothing.
func New(label string, total int64, unit string, quiet bool) *Meter {
	return NewTo(os.Stderr, isTerminal(os.Stderr), label, total, unit, quiet)
}

// NewTo starts a meter on w, drawing a bar when terminal is true.
func NewTo(w io.Writer, terminal bool, label string, total int64, unit string, quiet bool) *Meter {
	now := time.Now()
	return &Meter{w: w, label: label, unit: unit, total: total, start: now, last: now, terminal: terminal, quiet: quiet}
}

// Add records n more units done.
func (m *Meter) Add(n int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.done += n
	now := time.Now()
	if m.quiet {
		return
	}
	if m.terminal {
		if now.Sub(m.last) >= 100*time.Millisecond || m.done == m.total {
			m.last = now
			fmt.Fprintf(m.w, "\r%s", m.line(now))
		}
		return
	}
	if now.Sub(m.last) >= Interval {
		m.last = now
		fmt.Fprintln(m.w, m.line(now))
	}
}

// Done writes the final count and elapsed time.
func (m *Meter) Done() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.quiet {
		return
	}
	now := time.Now()
	if m.terminal {
		fmt.Fprintf(m.w, "\r%s\n", m.line(now))
		return
	}
	fmt.Fprintln(m.w, m.line(now))
}

func (m *Meter) line(now time.Time) string {
	el := now.Sub(m.start).Seconds()
	rate := 0.0
	if el > 0 {
		rate = float64(m.done) / el
	}
	if m.total <= 0 {
		return fmt.Sprintf("%s: %d %s, %.1fs, %.2f %s/s", m.label, m.done, m.unit, el, rate, m.unit)
	}
	frac := float64(m.done) / float64(m.total)
	if frac > 1 {
		frac = 1
	}
	eta := ""
	if rate > 0 && m.done < m.total {
		eta = fmt.Sprintf(", eta %.0fs", float64(m.total-m.done)/rate)
	}
	if !m.terminal {
		return fmt.Sprintf("%s: %d/%d %s (%.0f%%), %.1fs, %.2f %s/s%s", m.label, m.done, m.total, m.unit, 100*frac, el, rate, m.unit, eta)
	}
	const width = 30
	n := int(frac * width)
	bar := strings.Repeat("=", n) + strings.Repeat(" ", width-n)
	return fmt.Sprintf("%s [%s] %d/%d %s %.1fs%s ", m.label, bar, m.done, m.total, m.unit, el, eta)
}

func isTerminal(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }
