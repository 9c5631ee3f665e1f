package main

import (
	"fmt"

	"github.com/ctseg/ctseg/format"
)

// ctJSON summarises a CT record. The key names are an interface: scripts
// and tests read them.
type ctJSON struct {
	Kind            string             `json:"kind"`
	SeriesUID       string             `json:"series_uid"`
	Shape           [3]int             `json:"shape"`
	Origin          [3]float64         `json:"origin"`
	Spacing         [3]float64         `json:"spacing"`
	Direction       [9]float64         `json:"direction"`
	HUMin           int16              `json:"hu_min"`
	HUMax           int16              `json:"hu_max"`
	HUSum           int64              `json:"hu_sum"`
	MaskVoxels      *int64             `json:"mask_voxels,omitempty"`
	PositiveIndexes *[]int             `json:"positive_indexes,omitempty"`
	Nodules         []format.Candidate `json:"nodules,omitempty"`
	NumCandidates   int                `json:"num_candidates"`
}

func (s ctJSON) table() string {
	mask := ""
	if s.MaskVoxels != nil {
		mask = fmt.Sprintf(" mask=%d positive=%d slices", *s.MaskVoxels, len(*s.PositiveIndexes))
	}
	return fmt.Sprintf("ct    %s shape=%v spacing=%.4g HU=[%d,%d] sum=%d nodules=%d candidates=%d%s",
		s.SeriesUID, s.Shape, s.Spacing, s.HUMin, s.HUMax, s.HUSum, len(s.Nodules), s.NumCandidates, mask)
}

type cropJSON struct {
	Kind        string     `json:"kind"`
	SeriesUID   string     `json:"series_uid"`
	CenterXYZ   [3]float64 `json:"center_xyz"`
	CenterIRC   [3]int     `json:"center_irc"`
	DiameterMM  float64    `json:"diameter_mm"`
	IsNodule    bool       `json:"is_nodule"`
	IsMalignant bool       `json:"is_malignant"`
	StartIRC    [3]int     `json:"start_irc"`
	Shape       [3]int     `json:"shape"`
	HUSum       int64      `json:"hu_sum"`
	LabelSum    int64      `json:"label_sum"`
}

func (s cropJSON) table() string {
	return fmt.Sprintf("crop  %s centre=%v start=%v shape=%v nodule=%v hu_sum=%d label=%d",
		s.SeriesUID, s.CenterIRC, s.StartIRC, s.Shape, s.IsNodule, s.HUSum, s.LabelSum)
}

type sliceJSON struct {
	Kind       string         `json:"kind"`
	SeriesUID  string         `json:"series_uid"`
	SliceIndex int            `json:"slice_index"`
	Shape      [3]int         `json:"shape"`
	HUSum      int64          `json:"hu_sum"`
	LabelSum   int64          `json:"label_sum"`
	Padding    format.Padding `json:"padding"`
}

func (s sliceJSON) table() string {
	return fmt.Sprintf("slice %s #%d shape=%v hu_sum=%d label=%d", s.SeriesUID, s.SliceIndex, s.Shape, s.HUSum, s.LabelSum)
}

type predictionJSON struct {
	Kind       string         `json:"kind"`
	SeriesUID  string         `json:"series_uid"`
	SliceIndex int            `json:"slice_index"`
	Shape      [2]int         `json:"shape"`
	PSum       float64        `json:"p_sum"`
	Positives  int64          `json:"positives"`
	Padding    format.Padding `json:"padding"`
}

func (s predictionJSON) table() string {
	return fmt.Sprintf("pred  %s #%d shape=%v p_sum=%.3f positives=%d", s.SeriesUID, s.SliceIndex, s.Shape, s.PSum, s.Positives)
}

// Summarize turns a record into its printable summary.
func Summarize(rec format.Record) summary {
	switch r := rec.(type) {
	case *format.CT:
		return summarizeCT(r)
	case *format.Crop:
		return cropJSON{Kind: "crop", SeriesUID: r.SeriesUID, CenterXYZ: r.Candidate.CenterXYZ, CenterIRC: r.Candidate.CenterIRC,
			DiameterMM: r.Candidate.DiameterMM, IsNodule: r.Candidate.IsNodule, IsMalignant: r.Candidate.IsMalignant,
			StartIRC: r.StartIRC, Shape: r.Shape, HUSum: sum16(r.HU), LabelSum: sum8(r.Label)}
	case *format.Slice:
		return sliceJSON{Kind: "slice", SeriesUID: r.SeriesUID, SliceIndex: r.SliceIndex, Shape: r.Shape,
			HUSum: sum16(r.HU), LabelSum: sum8(r.Label), Padding: r.Padding}
	case *format.Prediction:
		s := predictionJSON{Kind: "prediction", SeriesUID: r.SeriesUID, SliceIndex: r.SliceIndex, Shape: r.Shape, Padding: r.Padding}
		for _, p := range r.Prob {
			s.PSum += float64(p)
			if p > 0.5 {
				s.Positives++
			}
		}
		return s
	}
	panic(fmt.Sprintf("streamcat: unknown record type %T", rec))
}

func summarizeCT(r *format.CT) ctJSON {
	s := ctJSON{Kind: "ct", SeriesUID: r.SeriesUID, Shape: r.Shape, Origin: r.Geometry.Origin, Spacing: r.Geometry.Spacing,
		Direction: r.Geometry.Direction, HUSum: sum16(r.HU), Nodules: r.Nodules,
		NumCandidates: len(r.Candidates)}
	if len(r.HU) > 0 {
		s.HUMin, s.HUMax = r.HU[0], r.HU[0]
		for _, v := range r.HU {
			s.HUMin, s.HUMax = min(s.HUMin, v), max(s.HUMax, v)
		}
	}
	if r.Mask != nil {
		n := sum8(r.Mask)
		s.MaskVoxels = &n
		pos := r.PositiveIndexes
		if pos == nil {
			pos = []int{}
		}
		s.PositiveIndexes = &pos
	}
	return s
}

func sum16(v []int16) int64 {
	var s int64
	for _, x := range v {
		s += int64(x)
	}
	return s
}

func sum8(v []uint8) int64 {
	var s int64
	for _, x := range v {
		s += int64(x)
	}
	return s
}

// headerJSON summarises a stream header. "version" is the format's
// version; "program_version" is the producing program's (absent in streams
// from before it was recorded).
type headerJSON struct {
	Kind           string   `json:"kind"`
	RecordKind     string   `json:"record_kind"`
	Program        string   `json:"program"`
	ProgramVersion string   `json:"program_version,omitempty"`
	Args           []string `json:"args"`
	Version        [2]int   `json:"version"`
	Created        string   `json:"created"`
}

func (h headerJSON) table() string {
	by := h.Program
	if h.ProgramVersion != "" {
		by += " " + h.ProgramVersion
	}
	return fmt.Sprintf("# stream of %s records, format %d.%d, by %s %v at %s", h.RecordKind, h.Version[0], h.Version[1], by, h.Args, h.Created)
}

func headerSummary(h *format.Header) headerJSON {
	return headerJSON{Kind: "header", RecordKind: string(h.Kind), Program: h.Program, ProgramVersion: h.ProgramVersion,
		Args: h.Args, Version: h.Version, Created: h.Created}
}
