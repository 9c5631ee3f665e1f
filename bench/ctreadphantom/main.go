// Command ctreadphantom writes the benchmark volume of bench/ctread.sh: a
// 512×512×N int16 MetaImage whose slices are real CT slices (the LUNA16
// series given with -from, repeated) so that it compresses like a real
// scan, or a synthetic body phantom with noise when -from is empty.
package main

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"os"

	"github.com/ctseg/ctseg/geom"
	"github.com/ctseg/ctseg/internal/metaimage"
)

func main() {
	out := flag.String("o", "phantom.mhd", "output `FILE` (.mhd: data goes to a .raw beside it)")
	slices := flag.Int("slices", 250, "number of `N` slices")
	from := flag.String("from", "", "real series `HEADER` (.mhd) whose slices are repeated; empty: synthetic")
	flag.Parse()
	if err := run(*out, *slices, *from); err != nil {
		fmt.Fprintln(os.Stderr, "ctreadphantom:", err)
		os.Exit(1)
	}
}

func run(out string, slices int, from string) error {
	img := &metaimage.Image{
		Size:     [3]int{512, 512, slices},
		Geometry: geom.Geometry{Origin: [3]float64{-166, -171.7, -340}, Spacing: [3]float64{0.703125, 0.703125, 1.25}, Direction: geom.Identity},
		HU:       make([]int16, 512*512*slices),
	}
	if from != "" {
		src, err := metaimage.ReadFile(from)
		if err != nil {
			return err
		}
		if src.Size[0] != 512 || src.Size[1] != 512 {
			return fmt.Errorf("%s: %v slices, want 512×512", from, src.Size)
		}
		for off := 0; off < len(img.HU); off += copy(img.HU[off:], src.HU) {
		}
	} else {
		synthetic(img.HU, slices)
	}
	return metaimage.WriteFile(out, img, metaimage.WriteOptions{})
}

// synthetic fills a body-like ellipse of soft tissue with two lungs of
// air, noise of ±20 HU, and -2048 padding outside the field of view.
func synthetic(hu []int16, slices int) {
	rng := rand.New(rand.NewPCG(1, 2))
	for z := 0; z < slices; z++ {
		for y := 0; y < 512; y++ {
			for x := 0; x < 512; x++ {
				dx, dy := float64(x-256)/220, float64(y-256)/160
				lx, ly := (float64(x)-170)/70, (float64(y)-250)/100
				rx, ry := (float64(x)-342)/70, (float64(y)-250)/100
				v := -2048.0
				switch {
				case lx*lx+ly*ly < 1 || rx*rx+ry*ry < 1:
					v = -850
				case dx*dx+dy*dy < 1:
					v = 40
				case (x-256)*(x-256)+(y-256)*(y-256) < 256*256:
					v = -1000
				}
				if v > -2048 {
					v += rng.NormFloat64() * 20
				}
				hu[(z*512+y)*512+x] = int16(v)
			}
		}
	}
}
