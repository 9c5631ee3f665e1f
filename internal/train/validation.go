package train

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sort"

	"github.com/ctseg/ctseg/format"
	"github.com/ctseg/ctseg/internal/progress"
	"github.com/ctseg/ctseg/internal/unet"
)

// ValSet is the validation slice stream (--val), read through once at the
// start to check it and to choose the slices to draw, then streamed from
// the file at each validation, a slice or two at a time.
type ValSet struct {
	Path   string
	Slices int
	Series []string       // sorted uids
	chosen map[valKey]int // slices drawn: 6 evenly spaced among those present, per image series
	series map[string]int // series index of each uid, for image tags
}

type valKey struct {
	uid   string
	slice int
}

// Image counts (SPEC "Training": the first 12 series, 6 slices each).
const (
	imageSeries = 12
	imageSlices = 6
)

// OpenValSet checks the validation stream at path: slice records of the
// model's channel count and a size it takes.
func OpenValSet(path string, cfg unet.Config) (*ValSet, error) {
	v := &ValSet{Path: path, chosen: map[valKey]int{}, series: map[string]int{}}
	present := map[string][]int{}
	err := v.each(func(s *format.Slice, where string) error {
		if err := CheckSlice(s, cfg); err != nil {
			return fmt.Errorf("%s: series %s slice %d: %w", where, s.SeriesUID, s.SliceIndex, err)
		}
		present[s.SeriesUID] = append(present[s.SeriesUID], s.SliceIndex)
		v.Slices++
		return nil
	})
	if err != nil {
		return nil, err
	}
	if v.Slices == 0 {
		return nil, fmt.Errorf("--val %s: no validation slices", path)
	}
	for uid := range present {
		v.Series = append(v.Series, uid)
	}
	sort.Strings(v.Series)
	for i, uid := range v.Series[:min(imageSeries, len(v.Series))] {
		v.series[uid] = i
		idx := present[uid]
		sort.Ints(idx)
		// The book's k·(depth−1)//5, over the slices the stream has.
		for k := 0; k < imageSlices; k++ {
			v.chosen[valKey{uid, idx[k*(len(idx)-1)/(imageSlices-1)]}] = k
		}
	}
	return v, nil
}

// CheckSlice refuses a slice a model of configuration cfg cannot take
// (segtrain's --val and segeval's input alike).
func CheckSlice(s *format.Slice, cfg unet.Config) error {
	switch mul := cfg.Multiple(); {
	case s.Shape[0] != cfg.InChannels:
		return fmt.Errorf("%d channels, the model takes %d", s.Shape[0], cfg.InChannels)
	case s.Shape[1]%mul != 0 || s.Shape[2]%mul != 0:
		return fmt.Errorf("%d×%d is not a multiple of %d", s.Shape[1], s.Shape[2], mul)
	case s.Padding.Top < 0 || s.Padding.Bottom < 0 || s.Padding.Left < 0 || s.Padding.Right < 0 ||
		s.Padding.Top+s.Padding.Bottom >= s.Shape[1] || s.Padding.Left+s.Padding.Right >= s.Shape[2]:
		return fmt.Errorf("padding %+v leaves no image", s.Padding)
	}
	return nil
}

// each calls f for every slice of the stream, in order.
func (v *ValSet) each(f func(s *format.Slice, where string) error) error {
	file, err := os.Open(v.Path)
	if err != nil {
		return fmt.Errorf("--val: %w", err)
	}
	defer file.Close()
	r := format.NewReader(file)
	defer r.Close()
	r.SetName(v.Path)
	r.Expect(format.KindSlice)
	for n := 1; ; n++ {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("--val: %w", err)
		}
		if err := f(rec.(*format.Slice), fmt.Sprintf("%s: record %d", v.Path, n)); err != nil {
			return err
		}
		r.Pool().Recycle(rec)
	}
}

// validationStopped is Validate's error when stop returned a signal.
type validationStopped struct{ sig os.Signal }

func (v *validationStopped) Error() string { return fmt.Sprintf("validation stopped by %v", v.sig) }

// Validate runs the model in evaluation mode over every validation slice
// and returns the pooled tally and the pictures of the chosen slices,
// drawn as they pass (with their labels too when withLabel). Before each
// slice it asks stop whether a signal came, and stops with a
// *validationStopped error if one did.
func (v *ValSet) Validate(e unet.Engine, withLabel bool, stop func() os.Signal, meter *progress.Meter) (Tally, []picture, error) {
	var t Tally
	var pics []picture
	var in []float32 // the input, reused from slice to slice
	defer meter.Done()
	err := v.each(func(s *format.Slice, where string) error {
		defer meter.Add(1)
		if sig := stop(); sig != nil {
			return &validationStopped{sig}
		}
		var b unet.Batch
		b, in = sliceBatch(s, in)
		p, err := e.Predict(b)
		if err != nil {
			return fmt.Errorf("%s: %w", where, err)
		}
		hu, prob, label := unpad(s, p.Prob)
		loss := unet.ComputeLoss(prob, label, 1)
		t.Add(loss.DiceLoss, unet.CountPixels(prob, label, 0.5))
		if k, ok := v.chosen[valKey{s.SeriesUID, s.SliceIndex}]; ok {
			rows, cols := unpaddedSize(s)
			ps, err := pictures("val", v.series[s.SeriesUID], k, hu, prob, label, rows, cols, withLabel)
			if err != nil {
				return err
			}
			pics = append(pics, ps...)
		}
		return nil
	})
	return t, pics, err
}

// sliceBatch is a one-slice batch of the slice's clipped HU as floats, in
// buf when it is large enough; it returns the buffer for the next slice.
func sliceBatch(s *format.Slice, buf []float32) (unet.Batch, []float32) {
	if cap(buf) < len(s.HU) {
		buf = make([]float32, len(s.HU))
	}
	in := buf[:len(s.HU)]
	for i, v := range s.HU {
		in[i] = float32(v)
	}
	return unet.Batch{N: 1, H: s.Shape[1], W: s.Shape[2], Input: in}, buf
}

func unpaddedSize(s *format.Slice) (rows, cols int) {
	return s.Shape[1] - s.Padding.Top - s.Padding.Bottom, s.Shape[2] - s.Padding.Left - s.Padding.Right
}

// unpad returns the slice's middle channel, probabilities and label in its
// original region, without the rows and columns padding added: metrics
// count the CT's pixels only.
func unpad(s *format.Slice, prob []float32) (hu []int16, p, label []float32) {
	rows, cols := unpaddedSize(s)
	w := s.Shape[2]
	mid := s.Shape[0] / 2 * s.Shape[1] * w
	hu, p, label = make([]int16, 0, rows*cols), make([]float32, 0, rows*cols), make([]float32, 0, rows*cols)
	for r := s.Padding.Top; r < s.Padding.Top+rows; r++ {
		from := r*w + s.Padding.Left
		hu = append(hu, s.HU[mid+from:mid+from+cols]...)
		p = append(p, prob[from:from+cols]...)
		for _, l := range s.Label[from : from+cols] {
			label = append(label, float32(l))
		}
	}
	return hu, p, label
}
