package candidates

import (
	"fmt"
	"slices"

	"github.com/ctseg/ctseg/geom"
)

// Candidate is one 6-connected component of the eroded mask.
type Candidate struct {
	// Label is the component's number in scipy.ndimage.label's output:
	// 1-based, in raster (C) order of the component's first voxel.
	Label int
	// Voxels is the component's size after erosion.
	Voxels int
	// CenterIRC is the centre of mass [index, row, col] weighted by
	// clip(HU, −1000, 1000) + 1001, as scipy.ndimage.center_of_mass computes it.
	CenterIRC [3]float64
	// CenterXYZ is CenterIRC mapped to world millimetres, without rounding.
	CenterXYZ [3]float64
	// MeanLogit is the mean logit over the component's voxels: the score to
	// rank candidates by.
	MeanLogit float64
	// MaxLogit is the largest logit in the component.
	MaxLogit float32
	// Probability is Sigmoid(MeanLogit), in float64; see the package doc.
	Probability float64
}

// Grouper builds the candidates of one CT from its slices, fed in order
// with Add, and returned by Finish. It keeps only a few slices of state; the
// package doc gives the memory bound. A Grouper is not safe for concurrent use.
type Grouper struct {
	depth, rows, cols int
	wpr               int // 64-bit words per mask row
	geom              geom.Geometry
	cut               float32
	next              int
	finished          bool

	mask   [3][]uint64 // bit-packed mask of slice s at s%3
	zero   []uint64    // the background beyond the first and last slice
	eroded []uint64
	hu     [2][]int16   // HU of slice s at s%2
	logit  [2][]float32 // logits of slice s at s%2
	lab    labeler
}

// NewGrouper prepares to group a CT of shape [depth, rows, cols] placed in
// the world by g, with the mask rule p > threshold (see LogitCutoff;
// DefaultThreshold is the book's).
func NewGrouper(shape [3]int, g geom.Geometry, threshold float64) (*Grouper, error) {
	if shape[0] <= 0 || shape[1] <= 0 || shape[2] <= 0 {
		return nil, fmt.Errorf("candidates: shape %v must be positive", shape)
	}
	if int64(shape[0])*int64(shape[1])*int64(shape[2]) > 1<<40 {
		return nil, fmt.Errorf("candidates: shape %v is too large", shape)
	}
	if err := g.Validate(); err != nil {
		return nil, fmt.Errorf("candidates: %w", err)
	}
	cut, err := LogitCutoff(threshold)
	if err != nil {
		return nil, err
	}
	wpr := (shape[2] + 63) / 64
	plane := shape[1] * wpr
	gr := &Grouper{depth: shape[0], rows: shape[1], cols: shape[2], wpr: wpr, geom: g, cut: cut}
	for i := range gr.mask {
		gr.mask[i] = make([]uint64, plane)
	}
	gr.zero = make([]uint64, plane)
	gr.eroded = make([]uint64, plane)
	for i := range gr.hu {
		gr.hu[i] = make([]int16, shape[1]*shape[2])
		gr.logit[i] = make([]float32, shape[1]*shape[2])
	}
	gr.lab.init(shape[1], shape[2])
	return gr, nil
}

// Add feeds slice index (0, 1, 2, … in order) with its HU and the model's
// logits, both row-major rows×cols. What is needed of them (the rows that
// hold mask voxels) is copied; the caller may reuse them once Add returns.
func (gr *Grouper) Add(index int, hu []int16, logits []float32) error {
	switch {
	case gr.finished:
		return fmt.Errorf("candidates: Add after Finish")
	case index != gr.next:
		return fmt.Errorf("candidates: slice %d added, want slice %d", index, gr.next)
	case len(hu) != gr.rows*gr.cols || len(logits) != gr.rows*gr.cols:
		return fmt.Errorf("candidates: slice %d has %d HU and %d logits, want %d×%d",
			index, len(hu), len(logits), gr.rows, gr.cols)
	}
	threshold(gr.mask[index%3], logits, gr.cols, gr.wpr, gr.cut)
	gr.keep(index, hu, logits)
	if index > 0 {
		gr.process(index - 1)
	}
	gr.next++
	return nil
}

// Finish groups the last slice and returns the candidates in label order.
// Every slice must have been added.
func (gr *Grouper) Finish() ([]Candidate, error) {
	if gr.finished {
		return nil, fmt.Errorf("candidates: Finish called twice")
	}
	if gr.next != gr.depth {
		return nil, fmt.Errorf("candidates: %d of %d slices added", gr.next, gr.depth)
	}
	gr.finished = true
	gr.process(gr.depth - 1)
	gr.lab.flush()
	return gr.candidates(), nil
}

// keep copies the HU and logits of the rows of slice s that hold mask
// voxels: only those can survive the erosion and be read by process.
func (gr *Grouper) keep(s int, hu []int16, logits []float32) {
	m, h, l := gr.mask[s%3], gr.hu[s%2], gr.logit[s%2]
	for r := 0; r < gr.rows; r++ {
		for _, w := range m[r*gr.wpr : (r+1)*gr.wpr] {
			if w != 0 {
				o := r * gr.cols
				copy(h[o:o+gr.cols], hu[o:o+gr.cols])
				copy(l[o:o+gr.cols], logits[o:o+gr.cols])
				break
			}
		}
	}
}

// process erodes slice s, whose successor's mask is already in place, and
// labels it.
func (gr *Grouper) process(s int) {
	below, above := gr.zero, gr.zero
	if s > 0 {
		below = gr.mask[(s-1)%3]
	}
	if s+1 < gr.depth {
		above = gr.mask[(s+1)%3]
	}
	erode(gr.eroded, below, gr.mask[s%3], above, gr.rows, gr.wpr)
	gr.lab.slice(s, gr.eroded, gr.wpr, gr.hu[s%2], gr.logit[s%2])
}

// candidates turns the finished accumulators into candidates in label order.
func (gr *Grouper) candidates() []Candidate {
	done := gr.lab.done
	slices.SortFunc(done, func(a, b acc) int { return cmpInt64(a.first, b.first) })
	out := make([]Candidate, len(done))
	for i, a := range done {
		w := float64(a.w)
		irc := [3]float64{float64(a.wi) / w, float64(a.wr) / w, float64(a.wc) / w}
		mean := a.lsum / float64(a.n)
		out[i] = Candidate{
			Label: i + 1, Voxels: int(a.n), CenterIRC: irc, CenterXYZ: gr.geom.IRC2XYZ(irc),
			MeanLogit: mean, MaxLogit: a.lmax, Probability: Sigmoid(mean),
		}
	}
	return out
}

func cmpInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Group runs a Grouper over a whole CT held in memory: hu and logits are
// row-major [depth][rows][cols].
func Group(shape [3]int, g geom.Geometry, hu []int16, logits []float32, threshold float64) ([]Candidate, error) {
	gr, err := NewGrouper(shape, g, threshold)
	if err != nil {
		return nil, err
	}
	plane := shape[1] * shape[2]
	if len(hu) != shape[0]*plane || len(logits) != shape[0]*plane {
		return nil, fmt.Errorf("candidates: %d HU and %d logits for shape %v", len(hu), len(logits), shape)
	}
	for s := 0; s < shape[0]; s++ {
		if err := gr.Add(s, hu[s*plane:(s+1)*plane], logits[s*plane:(s+1)*plane]); err != nil {
			return nil, err
		}
	}
	return gr.Finish()
}
