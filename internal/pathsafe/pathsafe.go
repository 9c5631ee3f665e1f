// Package pathsafe checks names that come from input data before they
// become part of a file path. A series uid read from a stream or a CSV
// file is data, not a trusted name: a crafted uid such as "../../x" must
// not make a program write outside the directory it was given. Every
// program that writes DIR/<series_uid>/… (mkmask --png, and the training
// and evaluation stages that write images per series) checks the uid with
// Element first.
package pathsafe

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// maxShown bounds how much of a bad name an error message shows.
const maxShown = 80

// Element reports why name cannot be used as a single element of a file
// path, or nil when it can: it must be non-empty, not "." or "..", and
// hold no path separator ('/', nor '\\', which is one on Windows: a uid
// is refused the same way on every system) and no NUL byte.
func Element(name string) error {
	var why string
	switch {
	case name == "":
		return errors.New("empty name cannot be a file name")
	case name == "." || name == "..":
		why = "it names a directory, not a file"
	case strings.ContainsAny(name, `/\`):
		why = "it holds a path separator"
	case strings.IndexByte(name, 0) >= 0:
		why = "it holds a NUL byte"
	default:
		return nil
	}
	return fmt.Errorf("%s cannot be a file name: %s", quote(name), why)
}

// quote returns name quoted for an error message (control bytes and
// invalid UTF-8 escaped), cut so that the quoted form has at most maxShown
// bytes: a binary or huge name neither spoils the terminal nor floods the
// line.
func quote(name string) string {
	if q := strconv.Quote(name); len(q) <= maxShown {
		return q
	}
	head := name[:min(len(name), maxShown)]
	p := sort.Search(len(head), func(p int) bool { return len(strconv.Quote(head[:p+1])) > maxShown })
	return fmt.Sprintf("%s… (%d bytes)", strconv.Quote(head[:p]), len(name))
}
