package phantom

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Decoy kinds: the class-0 rows of candidates.csv, like those of the
// shared test data: dense points on vessels, points just outside the lung
// in the chest wall or mediastinum, and plain lung parenchyma.
var decoyKinds = [3]string{"vessel", "wall", "lung"}

// decoyGap is the least distance between two decoys, in mm.
const decoyGap = 6

// giveUpAfter is how many decoys of a kind in a row may find no room
// before placeDecoys stops trying that kind.
const giveUpAfter = 3

// MaxDecoys bounds the decoys per series (LUNA16 has about 620 class-0
// candidates per series): beyond it the 6 mm spacing fills the lungs of a
// small volume, and the list is of no use as LUNA16-like data anyway.
const MaxDecoys = 10000

// placeDecoys draws n class-0 candidates (a third of each kind) at least
// max(diameter, 10 mm) from every nodule and 6 mm from each other, then
// shuffles them with the nodules into the Candidates list.
//
// A kind that found no room for giveUpAfter decoys in a row (maxTries
// tries each) gets no more tries: the room only shrinks as decoys are
// placed, and each further decoy would burn maxTries tries again (100,000
// decoys on a 128×128×48 volume took 70 s of CPU this way).
func (s *Series) placeDecoys(r *rand.Rand, n int) {
	var cands []Candidate
	for _, nod := range s.Nodules {
		cands = append(cands, Candidate{CenterXYZ: nod.CenterXYZ, Class: 1, Kind: "nodule"})
	}
	placed := decoyGrid{}
	dropped, misses := map[string]int{}, map[string]int{}
	for k := 0; k < n; k++ {
		kind := decoyKinds[k%3]
		if misses[kind] >= giveUpAfter {
			dropped[kind]++
			continue
		}
		p, ok := s.findDecoy(r, kind, placed)
		if !ok {
			dropped[kind]++
			misses[kind]++
			continue
		}
		misses[kind] = 0
		placed.add(p)
		xyz := s.gridToWorld(p)
		for i := range xyz {
			xyz[i] = round2(xyz[i])
		}
		cands = append(cands, Candidate{CenterXYZ: xyz, Class: 0, Kind: kind})
	}
	for _, kind := range decoyKinds {
		if dropped[kind] > 0 {
			s.Warnings = append(s.Warnings, fmt.Sprintf("series %s: no room for %d of the %s decoys, dropped", s.UID, dropped[kind], kind))
		}
	}
	r.Shuffle(len(cands), func(i, j int) { cands[i], cands[j] = cands[j], cands[i] })
	s.Candidates = cands
}

// findDecoy searches a position (grid mm) for one decoy of the kind. The
// tests that make a position fit its kind are made at the voxel centre
// nearest to it, the one xyz2irc will name, and the position returned is
// that voxel centre jittered by up to ±0.3 voxel (as in the shared test
// data's candidates.csv).
func (s *Series) findDecoy(r *rand.Rand, kind string, placed decoyGrid) ([3]float64, bool) {
	a := s.anat
	zlo, zhi := math.Max(a.zBase, 0), math.Min(a.zApex, s.length(2))
	if zhi <= zlo {
		return [3]float64{}, false
	}
	for try := 0; try < maxTries; try++ {
		var p [3]float64
		var sg *segment
		switch kind {
		case "vessel":
			p, sg = s.vesselPoint(r)
		case "wall":
			p, _ = s.wallPoint(r, uniform(r, zlo, zhi), uniform(r, 2, 4)*a.mmPerPx)
		default:
			p = s.lungPoint(r, uniform(r, zlo, zhi))
		}
		v := s.voxelCentre(p)
		jittered := v
		for i := range jittered {
			jittered[i] += uniform(r, -0.3, 0.3) * s.Geometry.Spacing[i]
		}
		if s.decoyFits(jittered, placed) && s.fitsKind(v, kind, sg) {
			return jittered, true
		}
	}
	return [3]float64{}, false
}

// voxelCentre returns the centre of the voxel nearest to p (grid mm).
func (s *Series) voxelCentre(p [3]float64) [3]float64 {
	var v [3]float64
	for i := range p {
		sp := s.Geometry.Spacing[i]
		v[i] = math.Round(p[i]/sp) * sp
	}
	return v
}

// fitsKind checks that voxel centre v is in the tissue of its kind: well
// inside a vessel (sg) in the lung; in the chest wall (not lung, inside
// the fat layer); or plain lung at least 3 mm from every vessel.
func (s *Series) fitsKind(v [3]float64, kind string, sg *segment) bool {
	a := s.anat
	switch kind {
	case "vessel":
		return sg != nil && sg.dist(v) <= 0.5*sg.r && a.lungAlpha(v) >= 0.9
	case "wall":
		inner := newEllipse(a.cx, a.cy, a.bodyA-a.fat, a.bodyB-a.fat, 0, 1)
		return a.lungAlpha(v) == 0 && inner.alpha(v[0]/a.mmPerPx, v[1]/a.mmPerPx) == 1
	default:
		return a.lungAlpha(v) == 1 && s.clearOfVessels(v, 3)
	}
}

// vesselPoint returns a point on the axis of a vessel at least 1 mm thick
// (less in small chests), and the vessel.
func (s *Series) vesselPoint(r *rand.Rand) ([3]float64, *segment) {
	if len(s.vessels) == 0 {
		return [3]float64{-1, -1, -1}, nil
	}
	sg := &s.vessels[r.IntN(len(s.vessels))]
	if sg.r < math.Min(1, 0.4*s.vessels[0].r) { // trunks are thickest
		return [3]float64{-1, -1, -1}, nil
	}
	return add(sg.a, scale(sub(sg.b, sg.a), r.Float64())), sg
}

// clearOfVessels reports whether p is at least gap mm outside every vessel.
func (s *Series) clearOfVessels(p [3]float64, gap float64) bool {
	for i := range s.vessels {
		if s.vessels[i].dist(p) < s.vessels[i].r+gap {
			return false
		}
	}
	return true
}

// decoyFits checks a decoy position: inside the volume, far enough from
// the nodules and the other decoys.
func (s *Series) decoyFits(p [3]float64, placed decoyGrid) bool {
	for i := 0; i < 3; i++ {
		if p[i] < 0 || p[i] > s.length(i) {
			return false
		}
	}
	for _, e := range s.shapes {
		if norm(sub(p, e.c)) < math.Max(2*e.req, 10) {
			return false
		}
	}
	return !placed.near(p)
}

// decoyGrid holds the placed decoys (grid mm) in cubic cells of decoyGap
// mm, so that the decoys closer than decoyGap to a point are all in the 27
// cells around its own: checking a position costs the same with 10 decoys
// placed as with 10,000, where a list made placing n decoys cost n².
type decoyGrid map[[3]int][][3]float64

func decoyCell(p [3]float64) [3]int {
	var c [3]int
	for i := range p {
		c[i] = int(math.Floor(p[i] / decoyGap))
	}
	return c
}

func (g decoyGrid) add(p [3]float64) {
	c := decoyCell(p)
	g[c] = append(g[c], p)
}

// near reports whether a placed decoy lies closer than decoyGap to p.
func (g decoyGrid) near(p [3]float64) bool {
	c := decoyCell(p)
	for dz := -1; dz <= 1; dz++ {
		for dy := -1; dy <= 1; dy++ {
			for dx := -1; dx <= 1; dx++ {
				for _, q := range g[[3]int{c[0] + dx, c[1] + dy, c[2] + dz}] {
					if norm(sub(p, q)) < decoyGap {
						return true
					}
				}
			}
		}
	}
	return false
}
