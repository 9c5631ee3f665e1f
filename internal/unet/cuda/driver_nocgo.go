//go:build ctseg_cuda && !cgo

package cuda

import "errors"

// OpenDevice fails: the driver layer is cgo (driver.go).
func OpenDevice() (Device, error) {
	return nil, errors.New("cuda: this binary was built with -tags ctseg_cuda but without cgo (CGO_ENABLED=0); rebuild it with cgo")
}
