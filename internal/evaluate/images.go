package evaluate

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strconv"

	"github.com/ctseg/ctseg/internal/atomicfile"
	"github.com/ctseg/ctseg/internal/pathsafe"
	"github.com/ctseg/ctseg/internal/render"
)

// view is one slice's unpadded region: the middle channel's HU, the
// model's output and the label (nil without one).
type view struct {
	uid        string
	index      int
	rows, cols int
	hu         []int16
	prob       []float32
	logit      []float32
	label      []uint8
}

// overlay draws the book's picture of the view (render.Prediction), the
// prediction taken at threshold; a slice without a label is drawn against
// an empty one, so that every predicted pixel is red.
func (v *view) overlay(threshold float32) *image.NRGBA {
	pred := v.prob
	if threshold != 0.5 {
		pred = make([]float32, len(v.prob))
		for i, p := range v.prob {
			if p > threshold {
				pred[i] = 1
			}
		}
	}
	label := v.label
	if label == nil {
		label = make([]uint8, len(v.prob))
	}
	return render.Prediction(v.hu, pred, label, v.rows, v.cols)
}

// encodePNG encodes an image as PNG.
func encodePNG(img image.Image) ([]byte, error) {
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// writeOverlay writes the view's overlay to dir/<uid>/<slice>.png.
func writeOverlay(dir string, v *view, threshold float32) error {
	if err := pathsafe.Element(v.uid); err != nil {
		return fmt.Errorf("--png: series uid %w", err)
	}
	sub := filepath.Join(dir, v.uid)
	if err := os.MkdirAll(sub, 0o755); err != nil {
		return fmt.Errorf("--png: %w", err)
	}
	b, err := encodePNG(v.overlay(threshold))
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(filepath.Join(sub, strconv.Itoa(v.index)+".png"), b)
}

// shownSlice is a slice the report shows: its overlay and counts.
type shownSlice struct {
	UID        string
	Index      int
	TP, FN, FP int64
	seq        int // arrival order, which breaks ties
	png        []byte
}

// topSlices keeps the n slices with the most missed pixels (false
// negatives), earlier slices first among equals.
type topSlices struct {
	n     int
	seq   int
	items []shownSlice // best first
}

// wants reports whether a slice with fn missed pixels would be kept.
func (t *topSlices) wants(fn int64) bool {
	return fn > 0 && t.n > 0 && (len(t.items) < t.n || fn > t.items[len(t.items)-1].FN)
}

// add offers a slice; draw renders its overlay, only when it is kept.
func (t *topSlices) add(s shownSlice, draw func() ([]byte, error)) error {
	t.seq++
	if !t.wants(s.FN) {
		return nil
	}
	b, err := draw()
	if err != nil {
		return err
	}
	s.seq, s.png = t.seq, b
	i := len(t.items)
	for i > 0 && t.items[i-1].FN < s.FN {
		i--
	}
	t.items = append(t.items, shownSlice{})
	copy(t.items[i+1:], t.items[i:])
	t.items[i] = s
	if len(t.items) > t.n {
		t.items = t.items[:t.n]
	}
	return nil
}
