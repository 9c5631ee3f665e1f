// Package ctmask masks CT records by the LUNA16 nodule lists: it joins the
// annotations and the candidate list to each record's series, turns their
// centres from xyz (mm) into voxels, builds the nodule mask (package mask,
// SPEC.md "Nodule mask"), keeps the nodules and candidates that lie in
// the volume, and can write check images of the masked slices. It is
// mkmask's work; see docs/mkmask.md.
package ctmask

import (
	"fmt"

	"github.com/ctseg/ctseg/format"
	"github.com/ctseg/ctseg/geom"
	"github.com/ctseg/ctseg/internal/bigbuf"
	"github.com/ctseg/ctseg/internal/lazyhu"
	"github.com/ctseg/ctseg/internal/luna"
	"github.com/ctseg/ctseg/internal/mask"
)

// Options are a Masker's settings.
type Options struct {
	Threshold float64 // HU a voxel must exceed to be in a nodule
	PNGDir    string  // where to write check images (WritePNGs); "" for none
	Verify    bool    // decompress and check all of every CT (lazyhu.Loader.Verify)
	// Warn prints a warning (a line without its end); nil drops them.
	Warn func(format string, args ...any)
}

// Masker masks one CT record after another: it holds what every record
// needs, the lists by series and the options, and the buffers it reuses.
type Masker struct {
	opt        Options
	nodules    map[string][]luna.Annotation
	candidates map[string][]luna.Candidate // class 0 only; a key for every series of the file
	// The list files, and the stream's series and whether each file named
	// any of them, for the warning at the end (WarnUnmatched).
	annPath, candPath       string
	series                  map[string]bool
	annMatched, candMatched bool
	hu                      lazyhu.Loader
	// last is the mask of the CT written last, cleared by Recycle for
	// the next CT; spare is the cleared buffer.
	last  *mask.Result
	spare []uint8
}

// New reads the nodule list annPath and, when candPath is not "", the
// class-0 rows of the candidate list, for a Masker with options o.
func New(annPath, candPath string, o Options) (*Masker, error) {
	m := &Masker{opt: o}
	m.hu.Verify = o.Verify
	if m.opt.Warn == nil {
		m.opt.Warn = func(string, ...any) {}
	}
	return m, m.load(annPath, candPath)
}

// Recycle clears the mask of a CT that is no longer used (written to the
// output), to be reused for the next CT: on some machines touching fresh
// memory costs more than the whole mask computation, and clearing only the
// boxes costs nothing next to clearing the whole buffer.
func (m *Masker) Recycle(ct *format.CT) {
	if m.last != nil {
		m.spare, m.last = m.last.Clear(), nil
	}
	m.hu.Release() // the reader reuses the frames' buffers
	ct.Mask = nil
}

func (m *Masker) load(annPath, candPath string) error {
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
func (m *Masker) note(uid string) {
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

// WarnUnmatched warns, once at the end of the stream, about a list file
// that names none of the stream's series. Each series alone may well have
// no nodules, but a file that matches none of them is most likely the
// wrong file (another data set's list, a stale copy), and every mask then
// comes out empty without a word.
func (m *Masker) WarnUnmatched() {
	n := len(m.series)
	if n == 0 {
		return
	}
	if !m.annMatched {
		m.opt.Warn("none of the %d series in the stream appear in %s: every mask is empty", n, m.annPath)
	}
	if m.candPath != "" && !m.candMatched {
		m.opt.Warn("none of the %d series in the stream appear in %s: no record has non-nodule candidates", n, m.candPath)
	}
}

// Apply replaces the mask, positive indexes, nodules and candidates of ct
// (any it had are dropped, so a stream can be masked again), and writes
// its check images when Options.PNGDir is set. The mask stays the
// Masker's until Recycle.
func (m *Masker) Apply(ct *format.CT) error {
	m.note(ct.SeriesUID)
	if err := ct.Geometry.Validate(); err != nil {
		return fmt.Errorf("CT record has no usable geometry: %w", err)
	}
	vol, err := m.hu.Volume(ct)
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
	res, err := mask.BuildInto(m.spare, vol, centers, m.opt.Threshold)
	if err != nil {
		return err
	}
	m.spare, m.last = nil, res
	for _, i := range res.Outside {
		m.opt.Warn("series %s: nodule at xyz %v (voxel %v) lies outside the volume %v: skipped",
			ct.SeriesUID, nodules[i].CenterXYZ, nodules[i].CenterIRC, ct.Shape)
	}
	ct.Mask = res.Mask
	ct.PositiveIndexes = nonNil(res.PositiveIndexes)
	ct.Nodules = inside(vol, nodules)
	if err := m.attachCandidates(ct, vol); err != nil {
		return err
	}
	if m.opt.PNGDir != "" {
		return WritePNGs(m.opt.PNGDir, ct, vol, res.Boxes)
	}
	return nil
}

// attachCandidates sets the class-0 candidates of the series that lie in
// the volume, warning about the others.
func (m *Masker) attachCandidates(ct *format.CT, vol mask.Volume) error {
	cands, err := toCandidates(ct.Geometry, m.candidates[ct.SeriesUID], func(c luna.Candidate) format.Candidate {
		return format.Candidate{CenterXYZ: c.CenterXYZ}
	})
	if err != nil {
		return err
	}
	ct.Candidates = inside(vol, cands)
	if out := len(cands) - len(ct.Candidates); out > 0 {
		m.opt.Warn("series %s: %d of %d non-nodule candidates lie outside the volume %v: skipped",
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
