package format

import "github.com/ctseg/ctseg/geom"

// Kind names a record kind. A stream holds records of one kind, which its
// header announces.
type Kind string

// The record kinds.
const (
	KindCT         Kind = "ct"
	KindCrop       Kind = "crop"
	KindSlice      Kind = "slice"
	KindPrediction Kind = "prediction"
)

// valid reports whether k is one of the record kinds.
func (k Kind) valid() bool {
	switch k {
	case KindCT, KindCrop, KindSlice, KindPrediction:
		return true
	}
	return false
}

// Record is one sample of a stream: *CT, *Crop, *Slice or *Prediction.
type Record interface {
	Kind() Kind
	// check reports a record whose tensors do not fit its shape.
	check() error
}

// Candidate is a nodule or non-nodule position of a series, with its
// annotation metadata.
type Candidate struct {
	CenterXYZ   [3]float64 `json:"center_xyz"`   // world position, mm
	CenterIRC   [3]int     `json:"center_irc"`   // xyz2irc(CenterXYZ): index, row, col
	DiameterMM  float64    `json:"diameter_mm"`  // 0 when unknown (candidates.csv)
	IsNodule    bool       `json:"is_nodule"`    // from the annotation file, or class 1
	IsMalignant bool       `json:"is_malignant"` // mal_bool; false when unknown
}

// CT is one CT series in Hounsfield units, with its geometry and, after
// mkmask, its nodule mask and candidates.
type CT struct {
	SeriesUID string
	Shape     [3]int // index, row, col (z, y, x)
	Geometry  geom.Geometry
	HU        []int16 // Shape[0]*Shape[1]*Shape[2] voxels, [index][row][col]
	// HUFrames, set by a Reader in lazy mode (Reader.SetLazy) in place of
	// HU, holds the HU data (little-endian int16, laid out as HU) still
	// compressed: read what you need with ReadAt. A Writer writes it on
	// as it came. HU is nil while HUFrames is set.
	HUFrames *Frames
	// Mask is nil until mkmask adds it; then 0/1 per voxel, same layout as HU.
	Mask []uint8
	// PositiveIndexes are the ascending slice indexes holding mask voxels.
	PositiveIndexes []int
	Nodules         []Candidate // annotated nodules of the series
	Candidates      []Candidate // non-nodule candidates (candidates.csv class 0)
}

// Kind reports KindCT.
func (*CT) Kind() Kind { return KindCT }

// Crop is a training sample: a window of clipped HU around a candidate, and
// the mask of its middle slice.
type Crop struct {
	SeriesUID string
	Candidate Candidate
	StartIRC  [3]int  // window start in the CT: index, row, col
	Shape     [3]int  // channels (slices), rows, cols; 7, 96, 96 by default
	HU        []int16 // Shape[0]*Shape[1]*Shape[2], clipped to [-1000, 1000]
	Label     []uint8 // Shape[1]*Shape[2], 0/1: mask of channel Shape[0]/2
}

// Kind reports KindCrop.
func (*Crop) Kind() Kind { return KindCrop }

// Padding records rows and columns added around an image so that its
// in-plane size is a multiple of 4. The original image is
// [Top, H-Bottom) × [Left, W-Right).
type Padding struct {
	Top    int `json:"top"`
	Bottom int `json:"bottom"`
	Left   int `json:"left"`
	Right  int `json:"right"`
}

// Slice is a validation (or inference) sample: the full in-plane slice with
// context slices on each side, and the mask of the centre slice.
type Slice struct {
	SeriesUID  string
	SliceIndex int
	Shape      [3]int  // channels, rows, cols (after padding)
	HU         []int16 // Shape[0]*Shape[1]*Shape[2], clipped to [-1000, 1000]
	// Label is the mask of the centre slice, Shape[1]*Shape[2], 0/1; nil
	// for a CT without a mask (an unannotated scan, format 1.2).
	Label   []uint8
	Padding Padding
	// CT describes the slice's CT, for evaluation over whole CTs (format
	// 1.2); nil in older streams.
	CT *SliceCT
}

// SliceCT is what a slice record carries of its CT: the CT record's
// shape, geometry and annotated nodules.
type SliceCT struct {
	Shape    [3]int // index, row, col = z, y, x
	Geometry geom.Geometry
	Nodules  []Candidate
}

// Kind reports KindSlice.
func (*Slice) Kind() Kind { return KindSlice }

// Prediction is a model's per-pixel nodule probability for one slice.
type Prediction struct {
	SeriesUID  string
	SliceIndex int
	Shape      [2]int    // rows, cols
	Prob       []float32 // Shape[0]*Shape[1], in [0, 1]
	// Logit holds the values before the sigmoid, Shape[0]*Shape[1]; nil
	// when absent (format 1.2). Probabilities saturate at 1 in float32,
	// logits keep their order.
	Logit   []float32
	Padding Padding // copied from the Slice it was computed from
}

// Kind reports KindPrediction.
func (*Prediction) Kind() Kind { return KindPrediction }
