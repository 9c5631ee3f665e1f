//go:build !linux

package bigbuf

// advise is a no-op where transparent huge pages are not available.
func advise([]byte) {}
