package train

import (
	"bytes"
	"fmt"
	"image/png"
	"os"
	"path/filepath"

	"github.com/ctseg/ctseg/internal/atomicfile"
	"github.com/ctseg/ctseg/internal/render"
	"github.com/ctseg/ctseg/internal/tbevent"
	"github.com/ctseg/ctseg/internal/unet"
)

// picture is one image of the book's logImages: a prediction, or (at
// epoch 1) the label, kept PNG-encoded (a 512×512 picture is about 120 KB
// as a PNG, against 2.5 MB for the HU, probabilities and label it is drawn
// from, which a validation would otherwise hold for all 72 pictures).
type picture struct {
	mode          string // "trn", "val"
	series, slice int
	what          string // "prediction", "label"
	png           []byte
	width, height int
}

// tag is the TensorBoard tag, the book's "{mode}/{series}_{what}_{slice}".
func (p picture) tag() string { return fmt.Sprintf("%s/%d_%s_%d", p.mode, p.series, p.what, p.slice) }

// pictures draws what the model made of hu (its middle channel), with the
// label drawn too when withLabel (the book's epoch 1).
func pictures(mode string, series, slice int, hu []int16, prob, label []float32, rows, cols int, withLabel bool) ([]picture, error) {
	lab := make([]uint8, len(label))
	for i, l := range label {
		if l > 0.5 {
			lab[i] = 1
		}
	}
	draw := func(what string, p []float32) (picture, error) {
		var buf bytes.Buffer
		if err := png.Encode(&buf, render.Prediction(hu, p, lab, rows, cols)); err != nil {
			return picture{}, fmt.Errorf("pictures: %w", err)
		}
		return picture{mode, series, slice, what, buf.Bytes(), cols, rows}, nil
	}
	pic, err := draw("prediction", prob)
	if err != nil || !withLabel {
		return []picture{pic}, err
	}
	lpic, err := draw("label", label)
	return []picture{pic, lpic}, err
}

// writePictures writes each picture to TensorBoard at step samples and to
// DIR/<series>_<what>_<slice>.<samples>.png.
func writePictures(pics []picture, tb *tbevent.Writer, dir string, samples int64) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, p := range pics {
		if err := tb.Image(p.tag(), samples, p.png, p.width, p.height, 3); err != nil {
			return err
		}
		name := fmt.Sprintf("%d_%s_%d.%d.png", p.series, p.what, p.slice, samples)
		if err := atomicfile.WriteFile(filepath.Join(dir, name), p.png); err != nil {
			return err
		}
	}
	return nil
}

// trainingPictures runs the first 12 training series' crops (up to 6
// each) through the model in evaluation mode, whole (96×96), as the
// book's logImages does with whole training slices. One crop at a time:
// evaluation mode makes a sample's output independent of its batch, and
// the engine keeps a single graph for them all instead of one per batch
// size.
func trainingPictures(e unet.Engine, c *Crops, withLabel bool) ([]picture, error) {
	var out []picture
	m := c.Rows * c.Cols
	in := make([]float32, c.Channels*m)
	for s, ids := range c.imageSeries(imageSeries, imageSlices) {
		for k, i := range ids {
			hu, label := c.crop(i)
			for j, v := range hu {
				in[j] = float32(v)
			}
			p, err := e.Predict(unet.Batch{N: 1, H: c.Rows, W: c.Cols, Input: in})
			if err != nil {
				return nil, fmt.Errorf("training pictures: %w", err)
			}
			mid := hu[c.Channels/2*m : (c.Channels/2+1)*m]
			pics, err := pictures("trn", s, k, mid, p.Prob, floats(label), c.Rows, c.Cols, withLabel)
			if err != nil {
				return nil, err
			}
			out = append(out, pics...)
		}
	}
	return out, nil
}

// floats converts a 0/1 mask to float32.
func floats(m []uint8) []float32 {
	f := make([]float32, len(m))
	for i, v := range m {
		f[i] = float32(v)
	}
	return f
}
