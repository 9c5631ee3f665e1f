package phantom

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"

	"github.com/ctseg/ctseg/geom"
)

// UIDPrefix is the root all LUNA16 series uids share.
const UIDPrefix = "1.3.6.1.4.1.14519.5.2.1.6279.6001."

// Options say what data set to generate.
type Options struct {
	Seed   uint64
	Series int // number of series
	// Cols, Rows and Slices are the volume size; Slices 0 draws a
	// LUNA16-like slice count per series (a 260–380 mm scan).
	Cols, Rows, Slices int
	Subsets            int // series i goes to subset i mod Subsets
	// NodulesMin and NodulesMax bound the nodules per series (drawn
	// uniformly). Series 0 and 1 get at least one when NodulesMax > 0.
	NodulesMin, NodulesMax int
	Decoys                 int  // class-0 candidates per series
	Compressed             bool // write .zraw (zlib) instead of .raw
	Workers                int  // goroutines rendering slices; ≤ 0 means GOMAXPROCS
}

// DefaultOptions are the flag defaults of mkphantom.
func DefaultOptions() Options {
	return Options{Seed: 1, Series: 4, Cols: 512, Rows: 512, Subsets: 1, NodulesMin: 1, NodulesMax: 3, Decoys: 30}
}

// Validate reports options that cannot produce a data set, all problems
// in one error.
func (o *Options) Validate() error {
	var errs []string
	if o.Series < 1 {
		errs = append(errs, fmt.Sprintf("series count %d: must be at least 1", o.Series))
	}
	if o.Cols < 32 || o.Rows < 32 || o.Cols > 4096 || o.Rows > 4096 {
		errs = append(errs, fmt.Sprintf("size %dx%d: columns and rows must be in [32, 4096]", o.Cols, o.Rows))
	}
	if o.Slices != 0 && (o.Slices < 8 || o.Slices > 2048) {
		errs = append(errs, fmt.Sprintf("slice count %d: must be in [8, 2048]", o.Slices))
	}
	if o.Subsets < 1 || o.Subsets > 1000 {
		errs = append(errs, fmt.Sprintf("subset count %d: must be in [1, 1000]", o.Subsets))
	}
	if o.NodulesMin < 0 || o.NodulesMax < o.NodulesMin || o.NodulesMax > 100 {
		errs = append(errs, fmt.Sprintf("nodules %d-%d: need 0 ≤ MIN ≤ MAX ≤ 100", o.NodulesMin, o.NodulesMax))
	}
	if o.Decoys < 0 || o.Decoys > MaxDecoys {
		errs = append(errs, fmt.Sprintf("decoy count %d: must be in [0, %d]", o.Decoys, MaxDecoys))
	}
	if len(errs) > 0 {
		return errors.New(strings.Join(errs, "; "))
	}
	return nil
}

// Series is one planned CT: its identity, geometry, nodules and decoy
// candidates. Render draws its voxels.
type Series struct {
	Index    int
	UID      string
	Subset   int
	Size     [3]int // x (cols), y (rows), z (slices), as MetaImage DimSize
	Geometry geom.Geometry
	PadHU    int16 // out-of-field value
	Nodules  []Nodule
	// Candidates are the candidates.csv rows of the series: the nodules
	// (class 1) and the decoys (class 0), shuffled.
	Candidates []Candidate
	// Warnings are nodules or decoys that found no room and were dropped.
	Warnings []string

	anat       *anatomy
	vessels    []segment
	shapes     []ellipsoid // parallel to Nodules
	vesselHU   float32
	texture    texture
	noiseSigma float64
	seed       uint64
}

// Candidate is a candidates.csv row.
type Candidate struct {
	CenterXYZ [3]float64
	Class     int    // 1 nodule, 0 not
	Kind      string // "nodule", "vessel", "wall" or "lung"
}

// Plan draws series i of the data set: everything but the voxels. It is
// cheap (milliseconds) and depends only on the seed, i and the sizes.
func Plan(opt Options, i int) (*Series, error) {
	if err := opt.Validate(); err != nil {
		return nil, err
	}
	if i < 0 {
		return nil, fmt.Errorf("series index %d: must not be negative", i)
	}
	s := &Series{Index: i, Subset: i % opt.Subsets, seed: opt.Seed}
	s.UID = makeUID(newRand(opt.Seed, i, streamUID))
	s.drawGeometry(newRand(opt.Seed, i, streamGeometry), opt)
	ar := newRand(opt.Seed, i, streamAnatomy)
	s.anat = newAnatomy(ar, s.Size[0], s.Size[1], s.Size[2], s.Geometry.Spacing[0], s.Geometry.Spacing[2], i == edgeSeries)
	s.vesselHU = float32(uniform(ar, 20, 60))
	if ar.Float64() < 0.15 { // contrast-enhanced scan
		s.vesselHU = float32(uniform(ar, 150, 260))
	}
	s.noiseSigma = math.Min(uniform(ar, 10, 20)*math.Sqrt(2.5/s.Geometry.Spacing[2]), 35)
	s.texture = newTexture(ar, s.anat.scale)
	s.vessels = growVessels(newRand(opt.Seed, i, streamVessels), s.anat)
	s.placeNodules(newRand(opt.Seed, i, streamNodules), opt)
	s.placeDecoys(newRand(opt.Seed, i, streamDecoys), opt.Decoys)
	return s, nil
}

// makeUID returns a LUNA16-style series uid: the common root and 30 digits.
func makeUID(r *rand.Rand) string {
	var b strings.Builder
	b.WriteString(UIDPrefix)
	b.WriteByte(byte('1' + r.IntN(9)))
	for range 29 {
		b.WriteByte(byte('0' + r.IntN(10)))
	}
	return b.String()
}

// sliceSpacings are LUNA16's common slice spacings (mm) and how often to
// draw them (relative weights).
var sliceSpacings = []struct{ mm, w float64 }{
	{2.5, 30}, {1.25, 20}, {0.625, 14}, {1.0, 10}, {2.0, 10}, {1.5, 5}, {0.7, 4}, {0.8, 4}, {1.8, 3},
}

// drawSliceSpacing draws a slice spacing with the weights of sliceSpacings.
func drawSliceSpacing(r *rand.Rand) float64 {
	var total float64
	for _, c := range sliceSpacings {
		total += c.w
	}
	u := r.Float64() * total
	for _, c := range sliceSpacings {
		if u < c.w {
			return c.mm
		}
		u -= c.w
	}
	return sliceSpacings[len(sliceSpacings)-1].mm // rounding: u ≈ total
}

// drawGeometry draws spacing, origin, size and the out-of-field value. The
// in-plane spacing is a whole-millimetre display field of view over 512,
// as scanners write it (0.703125 = 360/512), rounded to 6 decimals.
func (s *Series) drawGeometry(r *rand.Rand, opt Options) {
	sx := round6(float64(256+r.IntN(246)) / 512)
	sz := drawSliceSpacing(r)
	n := opt.Slices
	if n == 0 {
		n = min(max(int(math.Round(uniform(r, 260, 380)/sz)), 95), 764)
	} else {
		r.Float64() // keep the draws below independent of --size
	}
	s.Size = [3]int{opt.Cols, opt.Rows, n}
	s.Geometry = geom.Geometry{
		Spacing:   [3]float64{sx, sx, sz},
		Direction: geom.Identity,
		Origin: [3]float64{
			round6(-float64(opt.Cols)*sx/2 + uniform(r, -15, 15)),
			round6(-float64(opt.Rows)*sx/2 + uniform(r, -30, 30)),
			round6(uniform(r, -400, 50)),
		},
	}
	s.PadHU = -2048
	if r.Float64() < 0.2 {
		s.PadHU = -3024
	}
}

// round6 rounds to 6 decimals, the precision the CSV files carry.
func round6(v float64) float64 { return math.Round(v*1e6) / 1e6 }

// round2 rounds to 2 decimals, the precision of LUNA16's candidates.csv.
func round2(v float64) float64 { return math.Round(v*100) / 100 }

// gridToWorld maps grid millimetres (col·sx, row·sy, index·sz) to world
// xyz (the direction is the identity).
func (s *Series) gridToWorld(p [3]float64) [3]float64 {
	return add(p, s.Geometry.Origin)
}

// worldToGrid is the inverse of gridToWorld.
func (s *Series) worldToGrid(xyz [3]float64) [3]float64 {
	return sub(xyz, s.Geometry.Origin)
}

// length returns the volume's extent along axis i (grid order x, y, z) in
// mm between the first and the last voxel centre.
func (s *Series) length(i int) float64 {
	return float64(s.Size[i]-1) * s.Geometry.Spacing[i]
}
