package main

import (
	"fmt"
	"io"

	"github.com/ctseg/ctseg/format"
	"github.com/ctseg/ctseg/internal/bigbuf"
	"github.com/ctseg/ctseg/internal/geom"
	"github.com/ctseg/ctseg/internal/luna"
	"github.com/ctseg/ctseg/internal/mask"
)

// masker holds what every CT record needs: the lists by series and the
// options.
type masker struct {
	threshold  float64
	pngDir     string // "" for no PNGs
	warn       io.Writer
	nodules    map[string][]luna.Annotation
	candidates map[string][]luna.Candidate // class 0 only; a key for every series of the file
	// The list files, and the stream's series and whether each file named
	// any of them, for the warning at the end (warnUnmatched).
	annPath, candPath       string
	series                  map[string]bool
	annMatched, candMatched bool
	hu                      lazyHU
	// last is the mask of the CT written last, cleared by recycle for
	// the next CT; spare is the cleared buffer.
	last  *mask.Result
	spare []uint8
}

// recycle clears the mask of a CT that is no longer used (written to the
// output), to be reused for the next CT: on some machines touching fresh
// memory costs more than the whole mask computation, and clearing only the
// boxes costs nothing next to clearing the whole buffer.
func (m *masker) recycle(ct *format.CT) {
	if m.last != nil {
		m.spare, m.last = m.last.Clear(), nil
	}
	m.hu.frames = nil // the reader reuses their buffers
	ct.Mask = nil
}

// load reads the nodule list and, when candPath is not "", the class-0
// rows of the candidate list.
func (m *masker) load(annPath, candPath string) error {
	ann, err := luna.LoadAnnotations(annPath)
	if err != nil {
		return err
	}
	m.annPath, m.candPath = annPath, candPath
	m.nodules = luna.BySeries(ann)
	m.candidates = map[string][]luna.Candidate{}
	if candPath == "" {
		return nil
	}
	cands, err := luna.LoadCandidates(candPath, nil)
	if err != nil {
		return err
	}
	for _, c := range cands {
		// The book takes nodules from the annotation file only; class 1
		// rows are LUNA16's copies of the same nodules.
		if c.Class == 0 {
			m.candidates[c.SeriesUID] = append(m.candidates[c.SeriesUID], c)
		} else if _, ok := m.candidates[c.SeriesUID]; !ok {
			m.candidates[c.SeriesUID] = nil // the file names the series all the same
		}
	}
	return nil
}

// note records that the stream holds series uid, and whether the list
// files name it.
func (m *masker) note(uid string) {
	if m.series == nil {
		m.series = map[string]bool{}
	}
	m.series[uid] = true
	if _, ok := m.nodules[uid]; ok {
		m.annMatched = true
	}
	if _, ok := m.candidates[uid]; ok {
		m.candMatched = true
	}
}

// warnUnmatched warns, once at the end of the stream, about a list file
// that names none of the stream's series. Each series alone may well have
// no nodules, but a file that matches none of them is most likely the
// wrong file (another data set's list, a stale copy), and every mask then
// comes out empty without a word.
func (m *masker) warnUnmatched() {
	n := len(m.series)
	if n == 0 {
		return
	}
	if !m.annMatched {
		fmt.Fprintf(m.warn, "mkmask: warning: none of the %d series in the stream appear in %s: every mask is empty\n", n, m.annPath)
	}
	if m.candPath != "" && !m.candMatched {
		fmt.Fprintf(m.warn, "mkmask: warning: none of the %d series in the stream appear in %s: no record has non-nodule candidates\n", n, m.candPath)
	}
}

// apply replaces the mask, positive indexes, nodules and candidates of ct
// (any it had are dropped, so a stream can be masked again).
func (m *masker) apply(ct *format.CT) error {
	m.note(ct.SeriesUID)
	if err := ct.Geometry.Validate(); err != nil {
		return fmt.Errorf("CT record has no usable geometry: %w", err)
	}
	vol, err := m.hu.volume(ct)
	if err != nil {
		return err
	}
	if n := len(vol.HU); cap(m.spare) < n {
		m.spare = bigbuf.Bytes(n) // zero, as BuildInto needs it
	}
	nodules, err := toCandidates(ct.Geometry, m.nodules[ct.SeriesUID], func(a luna.Annotation) format.Candidate {
		return format.Candidate{CenterXYZ: a.CenterXYZ, DiameterMM: a.DiameterMM, IsNodule: true, IsMalignant: a.IsMalignant}
	})
	if err != nil {
		return err
	}
	centers := make([][3]int, len(nodules))
	for i, n := range nodules {
		centers[i] = n.CenterIRC
	}
	res, err := mask.BuildInto(m.spare, vol, centers, m.threshold)
	if err != nil {
		return err
	}
	m.spare, m.last = nil, res
	for _, i := range res.Outside {
		fmt.Fprintf(m.warn, "mkmask: warning: series %s: nodule at xyz %v (voxel %v) lies outside the volume %v: skipped\n",
			ct.SeriesUID, nodules[i].CenterXYZ, nodules[i].CenterIRC, ct.Shape)
	}
	ct.Mask = res.Mask
	ct.PositiveIndexes = nonNil(res.PositiveIndexes)
	ct.Nodules = inside(vol, nodules)
	if err := m.attachCandidates(ct, vol); err != nil {
		return err
	}
	if m.pngDir != "" {
		return writePNGs(m.pngDir, ct, vol, res.Boxes)
	}
	return nil
}

// attachCandidates sets the class-0 candidates of the series that lie in
// the volume, warning about the others.
func (m *masker) attachCandidates(ct *format.CT, vol mask.Volume) error {
	cands, err := toCandidates(ct.Geometry, m.candidates[ct.SeriesUID], func(c luna.Candidate) format.Candidate {
		return format.Candidate{CenterXYZ: c.CenterXYZ}
	})
	if err != nil {
		return err
	}
	ct.Candidates = inside(vol, cands)
	if out := len(cands) - len(ct.Candidates); out > 0 {
		fmt.Fprintf(m.warn, "mkmask: warning: series %s: %d of %d non-nodule candidates lie outside the volume %v: skipped\n",
			ct.SeriesUID, out, len(cands), ct.Shape)
	}
	return nil
}

// toCandidates converts CSV rows to record candidates with voxel centres.
func toCandidates[T any](g geom.Geometry, rows []T, conv func(T) format.Candidate) ([]format.Candidate, error) {
	out := make([]format.Candidate, 0, len(rows))
	for _, r := range rows {
		c := conv(r)
		irc, err := g.XYZ2IRC(c.CenterXYZ)
		if err != nil {
			return nil, fmt.Errorf("xyz %v: %w", c.CenterXYZ, err)
		}
		c.CenterIRC = irc
		out = append(out, c)
	}
	return out, nil
}

// inside keeps the candidates whose centre voxel is in the volume.
func inside(vol mask.Volume, cs []format.Candidate) []format.Candidate {
	out := make([]format.Candidate, 0, len(cs))
	for _, c := range cs {
		if vol.Contains(c.CenterIRC) {
			out = append(out, c)
		}
	}
	return out
}

func nonNil(s []int) []int {
	if s == nil {
		return []int{}
	}
	return s
}
