// Package version says which ctseg build a program is: a release number
// plus, for a binary built from a git checkout, the commit it was built
// from. Every program prints it for --version and writes it into the
// header of every stream it makes, so a stream names the code that made it.
package version

import (
	"runtime/debug"
	"sync"
)

// Number is the release number of the programs. Raise it with a change
// of a program's flags or output.
const Number = "0.1.0"

// String is Number with the VCS revision the binary was built from, when
// the build recorded one: "0.1.0 (rev 1a2b3c4d5e6f)", with "+dirty" when
// the checkout had uncommitted changes. `go test` and `go run` binaries and
// builds with -buildvcs=false record none and give Number alone.
func String() string {
	once.Do(func() { str = format(readRevision()) })
	return str
}

var (
	once sync.Once
	str  string
)

// format builds the version string from a revision and its dirty flag.
func format(rev string, dirty bool) string {
	if rev == "" {
		return Number
	}
	// 12 hex digits, as Go's pseudo-versions use: unique in any repository
	// of a sane size.
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if dirty {
		rev += "+dirty"
	}
	return Number + " (rev " + rev + ")"
}

// readRevision reads vcs.revision and vcs.modified from the build info.
func readRevision() (rev string, dirty bool) {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "", false
	}
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	return rev, dirty
}
