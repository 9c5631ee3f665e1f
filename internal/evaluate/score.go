package evaluate

import (
	"fmt"

	"github.com/ctseg/ctseg/format"
	"github.com/ctseg/ctseg/internal/candidates"
	"github.com/ctseg/ctseg/internal/unet"
)

// region returns the rows×cols region at (top, left) of a row-major plane
// of width w, copied.
func region[T any](plane []T, w, top, left, rows, cols int) []T {
	out := make([]T, 0, rows*cols)
	for r := top; r < top+rows; r++ {
		out = append(out, plane[r*w+left:r*w+left+cols]...)
	}
	return out
}

// unpadded cuts the slice's middle channel, the model's output and the
// label back to the CT's pixels: metrics count those only.
func unpadded(s *format.Slice, prob, logit []float32) *view {
	p := s.Padding
	h, w := s.Shape[1], s.Shape[2]
	rows, cols := h-p.Top-p.Bottom, w-p.Left-p.Right
	mid := s.HU[s.Shape[0]/2*h*w : (s.Shape[0]/2+1)*h*w]
	v := &view{uid: s.SeriesUID, index: s.SliceIndex, rows: rows, cols: cols,
		hu: region(mid, w, p.Top, p.Left, rows, cols), prob: region(prob, w, p.Top, p.Left, rows, cols),
		logit: region(logit, w, p.Top, p.Left, rows, cols)}
	if s.Label != nil {
		v.label = region(s.Label, w, p.Top, p.Left, rows, cols)
	}
	return v
}

// scoreSlice scores one slice: pixel metrics, candidates, outputs.
func (ev *evaluator) scoreSlice(s *format.Slice, a arrival, prob, logit []float32) error {
	if a.first {
		if err := ev.endSeries(); err != nil {
			return err
		}
		if err := ev.startSeries(s, a); err != nil {
			return err
		}
	}
	cur := ev.cur
	cur.n++
	cur.last, cur.index = a, s.SliceIndex
	ev.slices++
	if ev.o.Predictions != nil {
		p := &format.Prediction{SeriesUID: s.SeriesUID, SliceIndex: s.SliceIndex, Shape: [2]int{s.Shape[1], s.Shape[2]},
			Prob: prob, Logit: logit, Padding: s.Padding}
		if err := ev.o.Predictions.Write(p); err != nil {
			return fmt.Errorf("--predictions: %w", err)
		}
	}
	v := unpadded(s, prob, logit)
	var m unet.Metrics
	if v.label != nil {
		lab := make([]float32, len(v.label))
		for i, l := range v.label {
			lab[i] = float32(l)
		}
		m = unet.CountPixels(v.prob, lab, ev.threshold)
		loss := unet.ComputeLoss(v.prob, lab, 1).DiceLoss
		cur.r.tally.Add(loss, m)
		ev.pooled.Add(loss, m)
		ev.labelled++
	}
	if cur.grouper != nil && !a.whole {
		cur.grouper = nil // not a whole CT after all: no candidates
	}
	if cur.grouper != nil {
		if v.rows != s.CT.Shape[1] || v.cols != s.CT.Shape[2] {
			return fmt.Errorf("%s: series %s slice %d: %d×%d without its padding, but its CT is %d×%d",
				a.where, s.SeriesUID, s.SliceIndex, v.rows, v.cols, s.CT.Shape[1], s.CT.Shape[2])
		}
		if err := cur.grouper.Add(s.SliceIndex, v.hu, v.logit); err != nil {
			return fmt.Errorf("series %s: %w", s.SeriesUID, err)
		}
	}
	if ev.o.PNGDir != "" && (cur.n-1)%ev.o.PNGEvery == 0 {
		if err := writeOverlay(ev.o.PNGDir, v, ev.threshold); err != nil {
			return err
		}
	}
	return ev.top.add(shownSlice{UID: s.SeriesUID, Index: s.SliceIndex, TP: m.TP, FN: m.FN, FP: m.FP},
		func() ([]byte, error) { return encodePNG(v.overlay(ev.threshold)) })
}

// startSeries begins the series of slice s; a grouper when it may be a
// whole CT.
func (ev *evaluator) startSeries(s *format.Slice, a arrival) error {
	cur := &seriesState{r: SeriesResult{SeriesUID: s.SeriesUID}}
	if s.CT != nil {
		cur.depth = s.CT.Shape[0]
		for _, n := range s.CT.Nodules {
			cur.nodules = append(cur.nodules, candidates.Nodule{CenterXYZ: n.CenterXYZ, DiameterMM: n.DiameterMM})
		}
	}
	if a.whole {
		g, err := candidates.NewGrouper(s.CT.Shape, s.CT.Geometry, ev.o.Threshold)
		if err != nil {
			return fmt.Errorf("%s: series %s: %w", a.where, s.SeriesUID, err)
		}
		cur.grouper = g
	}
	ev.cur = cur
	return nil
}

// endSeries finishes the current series: its candidates when it was a
// whole CT, its result and log line.
func (ev *evaluator) endSeries() error {
	cur := ev.cur
	if cur == nil {
		return nil
	}
	ev.cur = nil
	r := &cur.r
	r.Slices = cur.n
	if cur.r.tally.Samples > 0 {
		px := pixels(cur.r.tally.Summary())
		r.Pixels = &px
		r.fn = px.FN
	}
	if cur.grouper != nil && cur.last.whole && cur.index == cur.depth-1 {
		if err := ev.candidates(cur); err != nil {
			return err
		}
	}
	ev.res.PerSeries = append(ev.res.PerSeries, *r)
	if !ev.o.Quiet {
		fmt.Fprintln(ev.o.Log, r.Line())
	}
	return nil
}

// candidates groups a whole CT's candidates, matches them with its nodules
// and keeps its marks.
func (ev *evaluator) candidates(cur *seriesState) error {
	cands, err := cur.grouper.Finish()
	cur.grouper = nil
	if err != nil {
		return fmt.Errorf("series %s: %w", cur.r.SeriesUID, err)
	}
	match := candidates.MatchNodules(cands, cur.nodules)
	marks := Marks(cands, ev.o.MaxMarks)
	nc, nm, nn, nf := len(cands), len(marks), len(cur.nodules), match.Found
	r := &cur.r
	r.WholeCT, r.Candidates, r.Marks, r.Nodules, r.NodulesFound = true, &nc, &nm, &nn, &nf
	ev.nodules.Total += nn
	ev.nodules.Found += nf
	ev.nCands += nc
	ev.nMarks += nm
	ev.scans = append(ev.scans, r.SeriesUID)
	if ev.o.FROC {
		ev.marks = append(ev.marks, FROCMarks(r.SeriesUID, marks)...)
	}
	if ev.sub != nil {
		return ev.sub.Add(r.SeriesUID, marks)
	}
	return nil
}
