package candidates

import (
	"math"

	"github.com/ctseg/ctseg/geom"
)

// refComponent is what the naive reference computes for one component.
type refComponent struct {
	voxels           int
	irc              [3]float64
	lsum             float64
	lmax             float32
	firstIndex       int
	wsum, wi, wr, wc float64
}

// reference groups a whole in-memory volume the plain way: full 3-D arrays,
// probability rule fl32(σ(x)) > fl32(t) voxel by voxel, erosion by checking
// the six neighbours with bounds, labelling by breadth-first search from
// seeds in raster order, and float64 sums in raster order as SciPy's
// bincount does.
func reference(shape [3]int, hu []int16, logits []float32, t float64) []refComponent {
	d, h, w := shape[0], shape[1], shape[2]
	at := func(z, y, x int) int { return (z*h+y)*w + x }
	in := func(z, y, x int) bool { return z >= 0 && z < d && y >= 0 && y < h && x >= 0 && x < w }
	mask := make([]bool, len(logits))
	for i, x := range logits {
		mask[i] = float32(Sigmoid(float64(x))) > float32(t)
	}
	nb := [6][3]int{{-1, 0, 0}, {1, 0, 0}, {0, -1, 0}, {0, 1, 0}, {0, 0, -1}, {0, 0, 1}}
	er := make([]bool, len(mask))
	for z := 0; z < d; z++ {
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				ok := mask[at(z, y, x)]
				for _, o := range nb {
					zz, yy, xx := z+o[0], y+o[1], x+o[2]
					ok = ok && in(zz, yy, xx) && mask[at(zz, yy, xx)]
				}
				er[at(z, y, x)] = ok
			}
		}
	}
	labels := make([]int, len(er))
	n := 0
	for i := range er {
		if !er[i] || labels[i] != 0 {
			continue
		}
		n++
		labels[i] = n
		queue := []int{i}
		for len(queue) > 0 {
			v := queue[0]
			queue = queue[1:]
			z, y, x := v/(h*w), v/w%h, v%w
			for _, o := range nb {
				zz, yy, xx := z+o[0], y+o[1], x+o[2]
				if in(zz, yy, xx) && er[at(zz, yy, xx)] && labels[at(zz, yy, xx)] == 0 {
					labels[at(zz, yy, xx)] = n
					queue = append(queue, at(zz, yy, xx))
				}
			}
		}
	}
	comps := make([]refComponent, n)
	for i := range comps {
		comps[i].firstIndex = -1
		comps[i].lmax = float32(math.Inf(-1))
	}
	for v, l := range labels {
		if l == 0 {
			continue
		}
		c := &comps[l-1]
		if c.firstIndex < 0 {
			c.firstIndex = v
		}
		wt := float64(min(max(hu[v], -1000), 1000)) + 1001
		c.voxels++
		c.wsum += wt
		c.wi += wt * float64(v/(h*w))
		c.wr += wt * float64(v/w%h)
		c.wc += wt * float64(v%w)
		c.lsum += float64(logits[v])
		c.lmax = max(c.lmax, logits[v])
	}
	for i := range comps {
		c := &comps[i]
		c.irc = [3]float64{c.wi / c.wsum, c.wr / c.wsum, c.wc / c.wsum}
	}
	return comps
}

// unitGeom is the identity geometry with unit spacing.
func unitGeom() geom.Geometry {
	return geom.Geometry{Spacing: [3]float64{1, 1, 1}, Direction: geom.Identity}
}
