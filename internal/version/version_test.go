package version

import (
	"strings"
	"testing"
)

func TestFormat(t *testing.T) {
	for _, c := range []struct {
		rev   string
		dirty bool
		want  string
	}{
		{"", false, Number},
		{"", true, Number}, // no revision: nothing to call dirty
		{"0123456789abcdef0123456789abcdef01234567", false, Number + " (rev 0123456789ab)"},
		{"0123456789abcdef0123456789abcdef01234567", true, Number + " (rev 0123456789ab+dirty)"},
		{"abc", false, Number + " (rev abc)"},
	} {
		if got := format(c.rev, c.dirty); got != c.want {
			t.Errorf("format(%q, %v) = %q, want %q", c.rev, c.dirty, got, c.want)
		}
	}
}

func TestString(t *testing.T) {
	if s := String(); !strings.HasPrefix(s, Number) {
		t.Errorf("String() = %q, want it to start with %q", s, Number)
	}
}
