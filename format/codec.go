package format

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxCandidates bounds the candidates of one series and its positive
// slices; LUNA16 has at most a few thousand candidates per series.
const maxCandidates = 1 << 20

// Record tags on the wire: these two, and a data record's Kind.
const (
	tagHeader  = "header"
	tagTrailer = "trailer"
)

func encodeRecord(e *enc, r Record) {
	switch r := r.(type) {
	case *CT:
		encodeCT(e, r)
	case *Crop:
		encodeCrop(e, r)
	case *Slice:
		encodeSlice(e, r)
	case *Prediction:
		encodePrediction(e, r)
	}
}

func encodeCT(e *enc, c *CT) {
	n := 9
	if c.Mask != nil {
		n++
	}
	e.mapLen(n)
	e.str("series_uid", c.SeriesUID)
	e.ints("shape", c.Shape[:])
	e.floats("origin", c.Geometry.Origin[:])
	e.floats("spacing", c.Geometry.Spacing[:])
	e.floats("direction", c.Geometry.Direction[:])
	if c.HUFrames != nil {
		e.tensorFrames("hu", dtInt16, c.Shape[:], c.HUFrames)
	} else {
		e.int16s("hu", c.Shape[:], c.HU)
	}
	if c.Mask != nil {
		e.uint8s("mask", c.Shape[:], c.Mask)
	}
	e.ints("positive_indexes", c.PositiveIndexes)
	encodeCandidates(e, "nodules", c.Nodules)
	encodeCandidates(e, "candidates", c.Candidates)
}

func encodeCandidates(e *enc, k string, cs []Candidate) {
	e.key(k)
	e.arrayLen(len(cs))
	for i := range cs {
		encodeCandidate(e, &cs[i])
	}
}

func encodeCandidate(e *enc, c *Candidate) {
	e.mapLen(5)
	e.floats("center_xyz", c.CenterXYZ[:])
	e.ints("center_irc", c.CenterIRC[:])
	e.float("diameter_mm", c.DiameterMM)
	e.bool("is_nodule", c.IsNodule)
	e.bool("is_malignant", c.IsMalignant)
}

func encodeCrop(e *enc, c *Crop) {
	e.mapLen(5)
	e.str("series_uid", c.SeriesUID)
	e.key("candidate")
	encodeCandidate(e, &c.Candidate)
	e.ints("start_irc", c.StartIRC[:])
	e.int16s("hu", c.Shape[:], c.HU)
	e.uint8s("label", c.Shape[1:], c.Label)
}

func encodeSlice(e *enc, s *Slice) {
	n := 4
	if s.Label != nil {
		n++
	}
	if s.CT != nil {
		n += 5
	}
	e.mapLen(n)
	e.str("series_uid", s.SeriesUID)
	e.int("slice_index", int64(s.SliceIndex))
	e.int16s("hu", s.Shape[:], s.HU)
	if s.Label != nil {
		e.uint8s("label", s.Shape[1:], s.Label)
	}
	e.ints("padding", paddingInts(s.Padding))
	if c := s.CT; c != nil {
		e.ints("ct_shape", c.Shape[:])
		e.floats("origin", c.Geometry.Origin[:])
		e.floats("spacing", c.Geometry.Spacing[:])
		e.floats("direction", c.Geometry.Direction[:])
		encodeCandidates(e, "nodules", c.Nodules)
	}
}

func encodePrediction(e *enc, p *Prediction) {
	n := 4
	if p.Logit != nil {
		n++
	}
	e.mapLen(n)
	e.str("series_uid", p.SeriesUID)
	e.int("slice_index", int64(p.SliceIndex))
	e.float32s("prob", p.Shape[:], p.Prob)
	if p.Logit != nil {
		e.float32s("logit", p.Shape[:], p.Logit)
	}
	e.ints("padding", paddingInts(p.Padding))
}

func paddingInts(p Padding) []int { return []int{p.Top, p.Bottom, p.Left, p.Right} }

func (d *dec) padding(p *Padding) error {
	var v [4]int
	if err := d.fixedInts(v[:]); err != nil {
		return err
	}
	*p = Padding{Top: v[0], Bottom: v[1], Left: v[2], Right: v[3]}
	return nil
}

func (d *dec) record(tag string) (Record, error) {
	switch Kind(tag) {
	case KindCT:
		return d.ct()
	case KindCrop:
		return d.crop()
	case KindSlice:
		return d.slice()
	case KindPrediction:
		return d.prediction()
	}
	return nil, fmt.Errorf("unknown record tag %q", tag)
}

func (d *dec) ct() (*CT, error) {
	c := &CT{}
	var hu, mask *rawTensor
	err := d.eachKey(func(k string) error {
		var err error
		switch k {
		case "series_uid":
			c.SeriesUID, err = d.str()
		case "shape":
			err = d.fixedInts(c.Shape[:])
		case "origin":
			err = d.fixedFloats(c.Geometry.Origin[:])
		case "spacing":
			err = d.fixedFloats(c.Geometry.Spacing[:])
		case "direction":
			err = d.fixedFloats(c.Geometry.Direction[:])
		case "hu":
			hu, err = d.tensorOrFrames(d.lazy)
		case "mask":
			mask, err = d.tensor()
		case "positive_indexes":
			c.PositiveIndexes, err = d.ints(maxCandidates)
		case "nodules":
			c.Nodules, err = d.candidates()
		case "candidates":
			c.Candidates, err = d.candidates()
		default:
			err = d.skip()
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	if hu == nil {
		return nil, fmt.Errorf("ct record without hu")
	}
	if err := hu.as(dtInt16, c.Shape[:]...); err != nil {
		return nil, fmt.Errorf("hu: %w", err)
	}
	c.HU, c.HUFrames = hu.i16, hu.frames
	if mask != nil {
		if err := mask.as(dtUint8, c.Shape[:]...); err != nil {
			return nil, fmt.Errorf("mask: %w", err)
		}
		c.Mask = mask.data
	}
	return c, nil
}

func (d *dec) candidates() ([]Candidate, error) {
	n, err := d.arrayLen(maxCandidates)
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, nil
	}
	// Grow as elements arrive: a corrupt length must not allocate up front.
	cs := make([]Candidate, 0, min(n, 1024))
	for i := 0; i < n; i++ {
		var c Candidate
		if err := d.candidate(&c); err != nil {
			return nil, fmt.Errorf("[%d]: %w", i, err)
		}
		cs = append(cs, c)
	}
	return cs, nil
}

func (d *dec) candidate(c *Candidate) error {
	return d.eachKey(func(k string) error {
		var err error
		switch k {
		case "center_xyz":
			err = d.fixedFloats(c.CenterXYZ[:])
		case "center_irc":
			err = d.fixedInts(c.CenterIRC[:])
		case "diameter_mm":
			c.DiameterMM, err = d.float()
		case "is_nodule":
			c.IsNodule, err = d.bool()
		case "is_malignant":
			c.IsMalignant, err = d.bool()
		default:
			err = d.skip()
		}
		return err
	})
}

func (d *dec) crop() (*Crop, error) {
	c := &Crop{}
	var hu, label *rawTensor
	err := d.eachKey(func(k string) error {
		var err error
		switch k {
		case "series_uid":
			c.SeriesUID, err = d.str()
		case "candidate":
			err = d.candidate(&c.Candidate)
		case "start_irc":
			err = d.fixedInts(c.StartIRC[:])
		case "hu":
			hu, err = d.tensor()
		case "label":
			label, err = d.tensor()
		default:
			err = d.skip()
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	c.Shape, c.HU, c.Label, err = image("crop", hu, label, false)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// image checks the hu and label tensors of a crop or slice record:
// hu int16 [channels, rows, cols], label uint8 [rows, cols].
// image checks and converts a record's hu and label; a slice's label may
// be absent (optional).
func image(kind string, hu, label *rawTensor, optional bool) (shape [3]int, v []int16, l []uint8, err error) {
	if hu == nil || (label == nil && !optional) {
		return shape, nil, nil, fmt.Errorf("%s record needs hu and label", kind)
	}
	if len(hu.shape) != 3 {
		return shape, nil, nil, fmt.Errorf("hu: shape %v, want 3 dimensions", hu.shape)
	}
	copy(shape[:], hu.shape)
	if err := hu.as(dtInt16, shape[:]...); err != nil {
		return shape, nil, nil, fmt.Errorf("hu: %w", err)
	}
	if label == nil {
		return shape, hu.i16, nil, nil
	}
	if err := label.as(dtUint8, shape[1:]...); err != nil {
		return shape, nil, nil, fmt.Errorf("label: %w", err)
	}
	return shape, hu.i16, label.data, nil
}

func (d *dec) slice() (*Slice, error) {
	s := &Slice{}
	var hu, label *rawTensor
	err := d.eachKey(func(k string) error {
		var err error
		switch k {
		case "series_uid":
			s.SeriesUID, err = d.str()
		case "slice_index":
			s.SliceIndex, err = d.int()
		case "hu":
			hu, err = d.tensor()
		case "label":
			label, err = d.tensor()
		case "padding":
			err = d.padding(&s.Padding)
		case "ct_shape", "origin", "spacing", "direction", "nodules":
			err = d.sliceCT(s, k)
		default:
			err = d.skip()
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	s.Shape, s.HU, s.Label, err = image("slice", hu, label, true)
	if err != nil {
		return nil, err
	}
	return s, nil
}

// sliceCT decodes one of the keys of a slice's CT (format 1.2).
func (d *dec) sliceCT(s *Slice, k string) error {
	if s.CT == nil {
		s.CT = &SliceCT{}
	}
	c := s.CT
	switch k {
	case "ct_shape":
		return d.fixedInts(c.Shape[:])
	case "origin":
		return d.fixedFloats(c.Geometry.Origin[:])
	case "spacing":
		return d.fixedFloats(c.Geometry.Spacing[:])
	case "direction":
		return d.fixedFloats(c.Geometry.Direction[:])
	}
	var err error
	c.Nodules, err = d.candidates()
	return err
}

func (d *dec) prediction() (*Prediction, error) {
	p := &Prediction{}
	var prob, logit *rawTensor
	err := d.eachKey(func(k string) error {
		var err error
		switch k {
		case "series_uid":
			p.SeriesUID, err = d.str()
		case "slice_index":
			p.SliceIndex, err = d.int()
		case "prob":
			prob, err = d.tensor()
		case "logit":
			logit, err = d.tensor()
		case "padding":
			err = d.padding(&p.Padding)
		default:
			err = d.skip()
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	if prob == nil {
		return nil, fmt.Errorf("prediction record needs prob")
	}
	if len(prob.shape) != 2 {
		return nil, fmt.Errorf("prob: shape %v, want 2 dimensions", prob.shape)
	}
	copy(p.Shape[:], prob.shape)
	if err := prob.as(dtFloat32, p.Shape[:]...); err != nil {
		return nil, fmt.Errorf("prob: %w", err)
	}
	p.Prob = prob.f32
	if logit != nil {
		if err := logit.as(dtFloat32, p.Shape[:]...); err != nil {
			return nil, fmt.Errorf("logit: %w", err)
		}
		p.Logit = logit.f32
	}
	return p, nil
}

// Checks that a record's tensors fit its shape; the writer runs them so that
// no stream is written that the reader would refuse.

// checkUID refuses a series uid that is empty or holds control characters
// or invalid UTF-8: uids end up in one-line messages and in file names.
func checkUID(uid string) error {
	if uid == "" {
		return fmt.Errorf("empty series_uid")
	}
	if !utf8.ValidString(uid) || strings.IndexFunc(uid, unicode.IsControl) >= 0 {
		return fmt.Errorf("series_uid %.80q holds control characters or invalid UTF-8", uid)
	}
	return nil
}

func (c *CT) check() error {
	if err := checkUID(c.SeriesUID); err != nil {
		return err
	}
	n := c.Shape[0] * c.Shape[1] * c.Shape[2]
	if c.Shape[0] <= 0 || c.Shape[1] <= 0 || c.Shape[2] <= 0 {
		return fmt.Errorf("ct %s: shape %v must be positive", c.SeriesUID, c.Shape)
	}
	switch {
	case c.HUFrames != nil && (c.HU != nil || c.HUFrames.Size() != 2*int64(n)):
		return fmt.Errorf("ct %s: HUFrames of %d bytes (and %d HU values) for shape %v (%d voxels)",
			c.SeriesUID, c.HUFrames.Size(), len(c.HU), c.Shape, n)
	case c.HUFrames == nil && len(c.HU) != n:
		return fmt.Errorf("ct %s: %d HU values for shape %v (%d)", c.SeriesUID, len(c.HU), c.Shape, n)
	}
	if c.Mask != nil && len(c.Mask) != n {
		return fmt.Errorf("ct %s: %d mask values for shape %v (%d)", c.SeriesUID, len(c.Mask), c.Shape, n)
	}
	if err := c.Geometry.Validate(); err != nil {
		return fmt.Errorf("ct %s: geometry: %w", c.SeriesUID, err)
	}
	return nil
}

func (c *Crop) check() error {
	if err := checkUID(c.SeriesUID); err != nil {
		return err
	}
	if err := checkImage(c.Shape, len(c.HU), len(c.Label)); err != nil {
		return fmt.Errorf("crop %s at %v: %w", c.SeriesUID, c.StartIRC, err)
	}
	return nil
}

func (s *Slice) check() error {
	if err := checkUID(s.SeriesUID); err != nil {
		return err
	}
	nLabel := len(s.Label)
	if s.Label == nil {
		nLabel = s.Shape[1] * s.Shape[2] // no label: nothing to mismatch
	}
	if err := checkImage(s.Shape, len(s.HU), nLabel); err != nil {
		return fmt.Errorf("slice %s #%d: %w", s.SeriesUID, s.SliceIndex, err)
	}
	if c := s.CT; c != nil {
		if err := c.check(s.SliceIndex); err != nil {
			return fmt.Errorf("slice %s #%d: %w", s.SeriesUID, s.SliceIndex, err)
		}
	}
	return nil
}

// check refuses a slice's CT description that cannot be its CT's.
func (c *SliceCT) check(slice int) error {
	if c.Shape[0] <= 0 || c.Shape[1] <= 0 || c.Shape[2] <= 0 {
		return fmt.Errorf("ct_shape %v must be positive", c.Shape)
	}
	if slice < 0 || slice >= c.Shape[0] {
		return fmt.Errorf("slice index outside ct_shape %v", c.Shape)
	}
	if err := c.Geometry.Validate(); err != nil {
		return fmt.Errorf("geometry: %w", err)
	}
	return nil
}

func (p *Prediction) check() error {
	if err := checkUID(p.SeriesUID); err != nil {
		return err
	}
	if p.Logit != nil && len(p.Logit) != len(p.Prob) {
		return fmt.Errorf("prediction %s #%d: %d logits for %d probabilities", p.SeriesUID, p.SliceIndex, len(p.Logit), len(p.Prob))
	}
	if p.Shape[0] <= 0 || p.Shape[1] <= 0 || len(p.Prob) != p.Shape[0]*p.Shape[1] {
		return fmt.Errorf("prediction %s #%d: %d probabilities for shape %v", p.SeriesUID, p.SliceIndex, len(p.Prob), p.Shape)
	}
	return nil
}

func checkImage(shape [3]int, nHU, nLabel int) error {
	if shape[0] <= 0 || shape[1] <= 0 || shape[2] <= 0 {
		return fmt.Errorf("shape %v must be positive", shape)
	}
	if nHU != shape[0]*shape[1]*shape[2] {
		return fmt.Errorf("%d HU values for shape %v", nHU, shape)
	}
	if nLabel != shape[1]*shape[2] {
		return fmt.Errorf("%d label values for shape %v", nLabel, shape[1:])
	}
	return nil
}
