package phantom

import (
	"math"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
)

// HU range of the reconstructed field of view (12-bit CT values).
const (
	huMin = -1024
	huMax = 3071
)

// Render draws the series' voxels, [z][y][x] int16 HU, slices in parallel
// on workers goroutines (≤ 0: GOMAXPROCS). Every slice has its own noise
// stream, so the result does not depend on the number of workers.
func (s *Series) Render(workers int) []int16 {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	cols, rows, n := s.Size[0], s.Size[1], s.Size[2]
	hu := make([]int16, cols*rows*n)
	mm := s.anat.mmPerPx // soft edges reach half a pixel past the outline
	vessels := bucket(n, s.Geometry.Spacing[2], len(s.vessels), func(i int) (float64, float64) {
		lo, hi := s.vessels[i].zRange()
		return lo - mm, hi + mm
	})
	nodules := bucket(n, s.Geometry.Spacing[2], len(s.shapes), func(i int) (float64, float64) {
		return s.shapes[i].c[2] - s.shapes[i].reach(2), s.shapes[i].c[2] + s.shapes[i].reach(2)
	})
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(workers, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sc := newScratch(cols, rows)
			for k := int(next.Add(1) - 1); k < n; k = int(next.Add(1) - 1) {
				s.renderSlice(k, sc, vessels[k], nodules[k], hu[k*cols*rows:(k+1)*cols*rows])
			}
		}()
	}
	wg.Wait()
	return hu
}

// bucket lists, for each of n slices spaced sz apart, the objects whose z
// range (mm) reaches the slice's centre plane.
func bucket(n int, sz float64, count int, zRange func(int) (float64, float64)) [][]int32 {
	b := make([][]int32, n)
	for i := 0; i < count; i++ {
		lo, hi := zRange(i)
		for k := max(int(math.Ceil(lo/sz)), 0); k <= min(int(math.Floor(hi/sz)), n-1); k++ {
			b[k] = append(b[k], int32(i))
		}
	}
	return b
}

// scratch holds one worker's per-slice buffers: HU as float before noise
// and rounding, and the lung coverage (vessels show only inside lungs).
type scratch struct {
	value, lung []float32
	tex         []float32 // one row of lung texture
}

func newScratch(cols, rows int) *scratch {
	return &scratch{value: make([]float32, cols*rows), lung: make([]float32, cols*rows), tex: make([]float32, cols)}
}

// renderSlice draws slice k into out: anatomy row by row, then the vessels
// and nodules crossing the slice, then noise and the field-of-view circle.
func (s *Series) renderSlice(k int, sc *scratch, vessels, nodules []int32, out []int16) {
	cols := s.Size[0]
	z := float64(k) * s.Geometry.Spacing[2]
	s.drawAnatomy(z, sc)
	for _, i := range vessels {
		s.drawVessel(&s.vessels[i], z, sc)
	}
	for _, i := range nodules {
		s.drawNodule(&s.shapes[i], z, sc)
	}
	noise := newNoise(mix64(s.seed^mix64(uint64(s.Index)<<24^uint64(k))^streamNoise), s.noiseSigma)
	for y := 0; y < s.Size[1]; y++ {
		s.finishRow(y, sc.value[y*cols:(y+1)*cols], out[y*cols:(y+1)*cols], noise)
	}
}

// finishRow adds noise to image row y, rounds and clips it into dst, and
// pads what lies outside the reconstruction circle.
func (s *Series) finishRow(y int, row []float32, dst []int16, noise *noiseSource) {
	a := s.anat
	dy := float64(y) - a.fovY
	x0, x1 := len(dst), -1 // columns inside the circle
	if h := a.fovR*a.fovR - dy*dy; h >= 0 {
		w := math.Sqrt(h)
		x0, x1 = max(int(math.Ceil(a.fovX-w)), 0), min(int(math.Floor(a.fovX+w)), len(dst)-1)
	}
	for x := range dst {
		if x < x0 || x > x1 {
			dst[x] = s.PadHU
			continue
		}
		// Round half away from zero (as math.Round) without the call:
		// this loop touches every voxel.
		v := row[x]
		var iv int32
		if v >= 0 {
			iv = int32(v + 0.5)
		} else {
			iv = int32(v - 0.5)
		}
		iv += noise.next()
		dst[x] = int16(min(max(iv, huMin), huMax))
	}
}

// drawAnatomy paints the body, bones, heart, lungs and airways of the
// slice at height z into sc.value, and the lung coverage into sc.lung.
func (s *Series) drawAnatomy(z float64, sc *scratch) {
	a := s.anat
	cols := s.Size[0]
	ops := a.bodyOps(z)
	airways := a.airwayOps(z)
	ls := a.lungsAt(z)
	top, height := a.cy+a.lungV-a.lungB, 2*a.lungB
	for y := 0; y < s.Size[1]; y++ {
		fy := float64(y)
		row, lung := sc.value[y*cols:(y+1)*cols], sc.lung[y*cols:(y+1)*cols]
		for x := range row {
			row[x], lung[x] = huAir, 0
		}
		for i := range ops {
			ops[i].e.paint(row, fy, ops[i].hu)
		}
		if ls.nLung > 0 {
			for i := 0; i < ls.nLung; i++ {
				ls.lungs[i].cover(lung, fy)
			}
			for i := 0; i < ls.nCut; i++ {
				ls.cuts[i].cut(lung, fy)
			}
			// Dependent (back) parts of the lungs are denser.
			hu := float32(a.lungHU + a.lungGrad*clamp01((fy-top)/height))
			if slices.ContainsFunc(lung, func(c float32) bool { return c > 0 }) {
				clear(sc.tex)
				s.texture.row(sc.tex, fy, z, a.mmPerPx)
				for x, c := range lung {
					if c > 0 {
						row[x] += (hu + sc.tex[x] - row[x]) * c
					}
				}
			}
		}
		for i := range airways {
			airways[i].e.paint(row, fy, airways[i].hu)
		}
	}
}

// drawVessel blends one vessel segment into the slice at height z, inside
// the lungs only. Thin vessels are fainter (partial volume).
func (s *Series) drawVessel(sg *segment, z float64, sc *scratch) {
	mm := s.anat.mmPerPx
	x0, x1, y0, y1, ok := sg.sliceBox(z, mm, s.Size[0], s.Size[1])
	if !ok {
		return
	}
	contrast := math.Min(1, 2*sg.r/math.Max(mm, 0.6*s.Geometry.Spacing[2]))
	hu, cols := s.vesselHU, s.Size[0]
	for y := y0; y <= y1; y++ {
		for x := x0; x <= x1; x++ {
			i := y*cols + x
			if sc.lung[i] == 0 {
				continue
			}
			d := sg.dist([3]float64{float64(x) * mm, float64(y) * mm, z})
			al := clamp01(0.5+(sg.r-d)/mm) * contrast
			if al > 0 {
				sc.value[i] += (hu - sc.value[i]) * float32(al) * sc.lung[i]
			}
		}
	}
}

// sliceBox returns the pixel box where the tube can cross the plane z.
func (sg *segment) sliceBox(z, mm float64, cols, rows int) (x0, x1, y0, y1 int, ok bool) {
	t0, t1 := 0.0, 1.0
	reach := sg.r + mm
	if dz := sg.b[2] - sg.a[2]; math.Abs(dz) > 1e-9 {
		t0, t1 = (z-reach-sg.a[2])/dz, (z+reach-sg.a[2])/dz
		if t0 > t1 {
			t0, t1 = t1, t0
		}
		t0, t1 = math.Max(t0, 0), math.Min(t1, 1)
	} else if math.Abs(z-sg.a[2]) > reach {
		return 0, 0, 0, 0, false
	}
	if t0 > t1 {
		return 0, 0, 0, 0, false
	}
	p0 := add(sg.a, scale(sub(sg.b, sg.a), t0))
	p1 := add(sg.a, scale(sub(sg.b, sg.a), t1))
	pad := sg.r + mm
	x0 = max(int(math.Floor((math.Min(p0[0], p1[0])-pad)/mm)), 0)
	x1 = min(int(math.Ceil((math.Max(p0[0], p1[0])+pad)/mm)), cols-1)
	y0 = max(int(math.Floor((math.Min(p0[1], p1[1])-pad)/mm)), 0)
	y1 = min(int(math.Ceil((math.Max(p0[1], p1[1])+pad)/mm)), rows-1)
	return x0, x1, y0, y1, x0 <= x1 && y0 <= y1
}

// drawNodule blends one nodule into the slice at height z.
func (s *Series) drawNodule(e *ellipsoid, z float64, sc *scratch) {
	mm, cols := s.anat.mmPerPx, s.Size[0]
	x0 := max(int(math.Floor((e.c[0]-e.reach(0))/mm)), 0)
	x1 := min(int(math.Ceil((e.c[0]+e.reach(0))/mm)), cols-1)
	y0 := max(int(math.Floor((e.c[1]-e.reach(1))/mm)), 0)
	y1 := min(int(math.Ceil((e.c[1]+e.reach(1))/mm)), s.Size[1]-1)
	for y := y0; y <= y1; y++ {
		for x := x0; x <= x1; x++ {
			al := e.alpha([3]float64{float64(x) * mm, float64(y) * mm, z})
			if al > 0 {
				i := y*cols + x
				sc.value[i] += (e.hu - sc.value[i]) * float32(al)
			}
		}
	}
}
