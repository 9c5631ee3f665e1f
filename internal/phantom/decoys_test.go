package phantom

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// Asking for more decoys than fit used to cost maxTries rejected tries per
// decoy that found no room, each checked against every decoy placed: 70 s
// of CPU for 100,000 decoys on 128×128×48. Now a kind that found no room
// for a few decoys in a row is given up, and the check is a grid lookup.
func TestManyDecoysAreCheap(t *testing.T) {
	o := smallOptions()
	o.Cols, o.Rows, o.Slices, o.Decoys = 128, 128, 48, MaxDecoys
	start := time.Now()
	s, err := Plan(o, 0)
	if err != nil {
		t.Fatal(err)
	}
	// About 30 ms on an idle core; generous for a loaded CI machine.
	if el := time.Since(start); el > 3*time.Second {
		t.Errorf("planning %d decoys on 128×128×48 took %v", MaxDecoys, el)
	}
	decoys := 0
	for _, c := range s.Candidates {
		if c.Class == 0 {
			decoys++
		}
	}
	if decoys == 0 || decoys == MaxDecoys || len(s.Warnings) == 0 {
		t.Errorf("%d decoys placed, warnings %q: want some, not all, and a warning", decoys, s.Warnings)
	}
	o.Decoys = MaxDecoys + 1
	if err := o.Validate(); err == nil {
		t.Errorf("%d decoys accepted", o.Decoys)
	}
}

// decoyGrid.near answers as a check against every placed decoy does.
func TestDecoyGrid(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	g := decoyGrid{}
	var all [][3]float64
	point := func() [3]float64 {
		return [3]float64{r.Float64()*60 - 5, r.Float64() * 60, r.Float64() * 30}
	}
	for range 200 {
		p := point()
		g.add(p)
		all = append(all, p)
	}
	for range 20000 {
		p := point()
		want := false
		for _, q := range all {
			if math.Sqrt((p[0]-q[0])*(p[0]-q[0])+(p[1]-q[1])*(p[1]-q[1])+(p[2]-q[2])*(p[2]-q[2])) < decoyGap {
				want = true
			}
		}
		if got := g.near(p); got != want {
			t.Fatalf("near(%v) = %v, want %v", p, got, want)
		}
	}
}
