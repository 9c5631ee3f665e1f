package progress

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestLines(t *testing.T) {
	old := Interval
	Interval = 0 // every Add writes a line
	defer func() { Interval = old }()
	var buf bytes.Buffer
	m := NewTo(&buf, false, "crop", 4, "series", false)
	m.Add(1)
	m.Add(3)
	m.Done()
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "crop: 1/4 series (25%)") || !strings.HasPrefix(lines[2], "crop: 4/4 series (100%)") {
		t.Errorf("lines:\n%s", buf.String())
	}
	if strings.Contains(buf.String(), "\r") {
		t.Error("carriage return in log lines")
	}
}

func TestBarAndQuiet(t *testing.T) {
	var buf bytes.Buffer
	m := NewTo(&buf, true, "read", 2, "ct", false)
	m.last = time.Time{}
	m.Add(1)
	m.Done()
	if !strings.Contains(buf.String(), "\rread [") || !strings.HasSuffix(buf.String(), "\n") {
		t.Errorf("bar output %q", buf.String())
	}
	buf.Reset()
	q := NewTo(&buf, true, "read", 0, "ct", true)
	q.Add(5)
	q.Done()
	if buf.Len() != 0 {
		t.Errorf("quiet meter wrote %q", buf.String())
	}
}
