package train

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"

	"github.com/ctseg/ctseg/internal/atomicfile"
	"github.com/ctseg/ctseg/internal/render"
	"github.com/ctseg/ctseg/internal/tbevent"
	"github.com/ctseg/ctseg/internal/unet"
)

// picture is one image of the book's logImages: a prediction, or (at
// epoch 1) the label.
type picture struct {
	mode          string // "trn", "val"
	series, slice int
	what          string // "prediction", "label"
	img           *image.NRGBA
}

// tag is the TensorBoard tag, the book's "{mode}/{series}_{what}_{slice}".
func (p picture) tag() string { return fmt.Sprintf("%s/%d_%s_%d", p.mode, p.series, p.what, p.slice) }

// pictures draws what the model made of hu (its middle channel), with the
// label drawn too when withLabel (the book's epoch 1).
func pictures(mode string, series, slice int, hu []int16, prob, label []float32, rows, cols int, withLabel bool) []picture {
	lab := make([]uint8, len(label))
	for i, l := range label {
		if l > 0.5 {
			lab[i] = 1
		}
	}
	out := []picture{{mode, series, slice, "prediction", render.Prediction(hu, prob, lab, rows, cols)}}
	if withLabel {
		out = append(out, picture{mode, series, slice, "label", render.Prediction(hu, label, lab, rows, cols)})
	}
	return out
}

// writePictures writes each picture to TensorBoard at step samples and to
// DIR/<series>_<what>_<slice>.<samples>.png.
func writePictures(pics []picture, tb *tbevent.Writer, dir string, samples int64) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, p := range pics {
		var buf bytes.Buffer
		if err := png.Encode(&buf, p.img); err != nil {
			return err
		}
		b := p.img.Bounds()
		if err := tb.Image(p.tag(), samples, buf.Bytes(), b.Dx(), b.Dy(), 3); err != nil {
			return err
		}
		name := fmt.Sprintf("%d_%s_%d.%d.png", p.series, p.what, p.slice, samples)
		if err := atomicfile.WriteFile(filepath.Join(dir, name), buf.Bytes()); err != nil {
			return err
		}
	}
	return nil
}

// trainingPictures runs the first 12 training series' crops (up to 6
// each) through the model in evaluation mode, whole (96×96), as the
// book's logImages does with whole training slices.
func trainingPictures(e unet.Engine, c *Crops, withLabel bool) ([]picture, error) {
	var out []picture
	for s, ids := range c.imageSeries(imageSeries, imageSlices) {
		b := unet.Batch{N: len(ids), H: c.Rows, W: c.Cols}
		for _, i := range ids {
			hu, _ := c.crop(i)
			for _, v := range hu {
				b.Input = append(b.Input, float32(v))
			}
		}
		p, err := e.Predict(b)
		if err != nil {
			return nil, fmt.Errorf("training pictures: %w", err)
		}
		m := c.Rows * c.Cols
		for k, i := range ids {
			hu, label := c.crop(i)
			mid := hu[c.Channels/2*m : (c.Channels/2+1)*m]
			out = append(out, pictures("trn", s, k, mid, p.Prob[k*m:(k+1)*m], floats(label), c.Rows, c.Cols, withLabel)...)
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
