package train

import (
	"fmt"
	"path/filepath"

	"github.com/ctseg/ctseg/internal/pathsafe"
)

// pathElement checks a name that becomes part of a file name.
func pathElement(flag, name string) error {
	if err := pathsafe.Element(name); err != nil {
		return fmt.Errorf("%s: %w", flag, err)
	}
	return nil
}

// layout names a run's files (segtrain's docs list them).
type layout struct {
	out, stamp, comment string
}

// TimeFormat is the book's time_str, %Y-%m-%d_%H.%M.%S.
const TimeFormat = "2006-01-02_15.04.05"

func (l layout) metrics() string { return filepath.Join(l.out, "metrics.csv") }

// events is the TensorBoard directory of a mode ("trn", "val"): the book's
// runs/<prefix>/<time>_<mode>_seg_<comment>.
func (l layout) events(mode string) string {
	return filepath.Join(l.out, fmt.Sprintf("%s_%s_seg_%s", l.stamp, mode, l.comment))
}

func (l layout) images(mode string) string { return filepath.Join(l.out, "images", mode) }

func (l layout) model(which string) string {
	return filepath.Join(l.out, "models", fmt.Sprintf("seg_%s_%s.%s.safetensors", l.stamp, l.comment, which))
}
