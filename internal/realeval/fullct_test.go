package realeval

import (
	"math"
	"testing"

	"github.com/ctseg/ctseg/format"
	"github.com/ctseg/ctseg/internal/candidates"
	"github.com/ctseg/ctseg/internal/crop"
)

// Tolerances of the candidate comparison. Centres of mass are ratios of
// exact integer sums on both sides; logits are the engine's float32
// against PyTorch's (each component's mean and maximum).
const (
	centreTol = 1e-12 // voxels, relative to max(1, |x|)
	worldTol  = 1e-9  // mm
	logitTol  = 2e-3  // relative to max(1, |x|)
)

// fullCT runs every slice of ct through the engine and returns the
// logits and probabilities as [depth][rows][cols] volumes (padding cut).
func fullCT(t *testing.T, e *env, ct *format.CT) (logits, probs []float32) {
	t.Helper()
	depth, rows, cols := ct.Shape[0], ct.Shape[1], ct.Shape[2]
	plane := rows * cols
	logits = make([]float32, depth*plane)
	probs = make([]float32, depth*plane)
	n := 0
	predictSlices(t, e.engine, ct, crop.ValOptions{Context: crop.DefaultContext, FullCT: true}, func(p predicted) {
		s := p.slice
		if s.SliceIndex != n {
			t.Fatalf("full CT: slice %d where %d was due", s.SliceIndex, n)
		}
		w := s.Shape[2]
		for r := range rows {
			src := (s.Padding.Top+r)*w + s.Padding.Left
			dst := s.SliceIndex*plane + r*cols
			copy(logits[dst:dst+cols], p.logits[src:src+cols])
			copy(probs[dst:dst+cols], p.prob[src:src+cols])
		}
		n++
	})
	if n != depth {
		t.Fatalf("full CT: %d slices of %d", n, depth)
	}
	return logits, probs
}

// TestFullCTCandidates groups the engine's logits of each whole real slab
// into nodule candidates and compares them with SciPy's grouping of
// PyTorch's probabilities (see the package doc for how voxels within 1e-3
// of the threshold are allowed for).
func TestFullCTCandidates(t *testing.T) {
	e := setup(t)
	cut, err := candidates.LogitCutoff(e.fx.Threshold)
	if err != nil {
		t.Fatal(err)
	}
	var scans, total, nodules, found int
	for i := range e.fx.Series {
		sf := &e.fx.Series[i]
		ct := e.maskedCT(t, sf)
		logits, probs := fullCT(t, e, ct)
		var above int64
		for _, l := range logits {
			if l >= cut {
				above++
			}
		}

		// The borderline voxels take PyTorch's logit (decided as PyTorch
		// decided them); the engine's own decisions there are counted.
		b := sf.FullCT.Borderline
		adjusted := append([]float32(nil), logits...)
		flips, nudged := 0, 0
		var maxDP float64
		for k, j := range b.Index {
			if (logits[j] >= cut) != b.Above[k] {
				flips++
			}
			maxDP = math.Max(maxDP, math.Abs(float64(probs[j])-candidates.Sigmoid(float64(b.Logit[k]))))
			l := b.Logit[k]
			if (l >= cut) != b.Above[k] {
				// PyTorch's sigmoid off by an ulp at the cutoff: keep its decision.
				nudged++
				if l = cut; !b.Above[k] {
					l = math.Nextafter32(cut, float32(math.Inf(-1)))
				}
			}
			adjusted[j] = l
		}
		t.Logf("series %s: %d voxels > 0.5 (PyTorch %d); %d borderline voxels (|p−0.5| ≤ %g in PyTorch), "+
			"%d of them on the other side of 0.5 in the engine, max |p−PyTorch's p| there %.3g; %d nudged",
			sf.UID, above, sf.FullCT.VoxelsAbove, len(b.Index), e.fx.Borderline, flips, maxDP, nudged)
		if maxDP > e.fx.Borderline {
			t.Errorf("series %s: at a borderline voxel the engine's p is %.3g from PyTorch's (> %g)", sf.UID, maxDP, e.fx.Borderline)
		}

		got, err := candidates.Group(ct.Shape, ct.Geometry, ct.HU, adjusted, e.fx.Threshold)
		if err != nil {
			t.Fatal(err)
		}
		compareCandidates(t, sf, got)

		// The engine's own logits: the same components unless a borderline
		// voxel changed side.
		own, err := candidates.Group(ct.Shape, ct.Geometry, ct.HU, logits, e.fx.Threshold)
		if err != nil {
			t.Fatal(err)
		}
		if d := differing(own, got) + differing(got, own); d != 0 {
			t.Logf("series %s: the engine's own logits give %d candidates; %d differ from the list above (either way)",
				sf.UID, len(own), d)
			if flips == 0 {
				t.Errorf("series %s: %d candidates differ without any borderline voxel changing side", sf.UID, d)
			}
		}

		var nods []candidates.Nodule
		for _, n := range ct.Nodules {
			nods = append(nods, candidates.Nodule{CenterXYZ: n.CenterXYZ, DiameterMM: n.DiameterMM})
		}
		m := candidates.MatchNodules(own, nods)
		t.Logf("series %s: %d candidates (PyTorch+SciPy %d; %d at p > 0.499, %d at p > 0.501), %d of %d nodules found (PyTorch %d)",
			sf.UID, len(own), len(sf.FullCT.Candidates), sf.FullCT.CandidatesAtLower, sf.FullCT.CandidatesAtUpper,
			m.Found, len(nods), sf.FullCT.NodulesFound)
		if m.Found != sf.FullCT.NodulesFound {
			t.Errorf("series %s: %d nodules found, PyTorch's candidates find %d", sf.UID, m.Found, sf.FullCT.NodulesFound)
		}
		scans++
		total += len(own)
		nodules += len(nods)
		found += m.Found
	}
	perScan := float64(total) / float64(scans)
	recall := float64(found) / float64(nodules)
	t.Logf("%d scans: %.1f candidates per scan (PyTorch %.1f), recall %d/%d = %.3f (PyTorch %.3f)",
		scans, perScan, e.fx.Pooled.CandidatesPerScan, found, nodules, recall, e.fx.Pooled.Recall)
	if recall != e.fx.Pooled.Recall {
		t.Errorf("recall %.3f, PyTorch's %.3f", recall, e.fx.Pooled.Recall)
	}
}

// compareCandidates requires got to be the fixture's components.
func compareCandidates(t *testing.T, sf *seriesFixture, got []candidates.Candidate) {
	t.Helper()
	want := sf.FullCT.Candidates
	if len(got) != len(want) {
		t.Errorf("series %s: %d candidates, SciPy on PyTorch's output %d", sf.UID, len(got), len(want))
	}
	var dIRC, dXYZ, dMean, dMax float64
	bad := 0
	for k := range min(len(got), len(want)) {
		g, w := got[k], want[k]
		var ok = g.Voxels == w.Voxels
		for a := range 3 {
			di := math.Abs(g.CenterIRC[a]-w.CenterIRC[a]) / math.Max(1, math.Abs(w.CenterIRC[a]))
			dx := math.Abs(g.CenterXYZ[a] - w.CenterXYZ[a])
			dIRC, dXYZ = math.Max(dIRC, di), math.Max(dXYZ, dx)
			ok = ok && di <= centreTol && dx <= worldTol
		}
		dm := math.Abs(g.MeanLogit-w.MeanLogit) / math.Max(1, math.Abs(w.MeanLogit))
		dx := math.Abs(float64(g.MaxLogit)-w.MaxLogit) / math.Max(1, math.Abs(w.MaxLogit))
		dMean, dMax = math.Max(dMean, dm), math.Max(dMax, dx)
		ok = ok && dm <= logitTol && dx <= logitTol
		if !ok {
			if bad++; bad <= 5 {
				t.Errorf("series %s: candidate %d: %d voxels at irc %v (xyz %v), mean logit %v, max %v; SciPy's: %d at %v (%v), %v, %v",
					sf.UID, k+1, g.Voxels, g.CenterIRC, g.CenterXYZ, g.MeanLogit, g.MaxLogit,
					w.Voxels, w.CenterIRC, w.CenterXYZ, w.MeanLogit, w.MaxLogit)
			}
		}
	}
	t.Logf("series %s: %d candidates against SciPy's %d, %d differ; max differences: centre (irc) %.3g, world %.3g mm, "+
		"mean logit %.3g, max logit %.3g (relative to max(1, |x|))", sf.UID, len(got), len(want), bad, dIRC, dXYZ, dMean, dMax)
}

// differing counts the candidates of a that are not in b (same voxels and
// centre).
func differing(a, b []candidates.Candidate) int {
	in := map[[4]float64]int{}
	for _, c := range b {
		in[[4]float64{float64(c.Voxels), c.CenterIRC[0], c.CenterIRC[1], c.CenterIRC[2]}]++
	}
	n := 0
	for _, c := range a {
		k := [4]float64{float64(c.Voxels), c.CenterIRC[0], c.CenterIRC[1], c.CenterIRC[2]}
		if in[k] > 0 {
			in[k]--
		} else {
			n++
		}
	}
	return n
}
