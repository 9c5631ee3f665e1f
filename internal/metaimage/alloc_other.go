//go:build !linux

package metaimage

// adviseHuge is a no-op where transparent huge pages are not available.
func adviseHuge([]byte) {}
