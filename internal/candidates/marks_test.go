package candidates

import (
	"math"
	"slices"
	"testing"
)

func TestMaxMarks(t *testing.T) {
	in := []Candidate{
		{Label: 1, MeanLogit: 2},
		{Label: 2, MeanLogit: 50},
		{Label: 3, MeanLogit: 40},
		{Label: 4, MeanLogit: 2},
		{Label: 5, MeanLogit: 50},
		{Label: 6, MeanLogit: 0.5},
	}
	for i := range in {
		in[i].Probability = Sigmoid(in[i].MeanLogit)
	}
	got := MaxMarks(in, 5)
	order := []int{2, 5, 3, 1, 4}
	if len(got) != len(order) {
		t.Fatalf("kept %d, want %d", len(got), len(order))
	}
	for i, l := range order {
		if got[i].Label != l {
			t.Errorf("rank %d: label %d, want %d", i, got[i].Label, l)
		}
		if i > 0 && !(got[i].Probability < got[i-1].Probability) {
			t.Errorf("rank %d: probability %v not below %v", i, got[i].Probability, got[i-1].Probability)
		}
	}
	if got[0].Probability != 1 || got[2].Probability != math.Nextafter(math.Nextafter(1, 0), 0) {
		t.Errorf("saturated probabilities %v %v %v", got[0].Probability, got[1].Probability, got[2].Probability)
	}
	if got[3].Probability != Sigmoid(2) || got[4].Probability != math.Nextafter(Sigmoid(2), 0) {
		t.Errorf("tied probabilities %v %v", got[3].Probability, got[4].Probability)
	}
	if in[4].Probability != 1 || in[0].Label != 1 {
		t.Error("input modified")
	}
	if len(MaxMarks(in, 0)) != 0 || len(MaxMarks(in, 100)) != len(in) {
		t.Error("bounds")
	}
}

func TestMatchNodules(t *testing.T) {
	cands := []Candidate{
		{CenterXYZ: [3]float64{0, 0, 0}},
		{CenterXYZ: [3]float64{3, 4, 0}}, // 5 mm from the origin
		{CenterXYZ: [3]float64{100, 0, 0}},
		{CenterXYZ: [3]float64{0, 0, 6.9}},
	}
	nodules := []Nodule{
		{CenterXYZ: [3]float64{0, 0, 7}, DiameterMM: 10},    // cands 0 (0.7: not < 0.7), 1 (0.86), 3 (0.01)
		{CenterXYZ: [3]float64{3, 4, 0.1}, DiameterMM: 7.2}, // cand 1 (0.014), 0 (0.69)
		{CenterXYZ: [3]float64{50, 0, 0}, DiameterMM: 20},   // none
		{CenterXYZ: [3]float64{100, 0, 0}, DiameterMM: 0},   // diameter 0: never
	}
	m := MatchNodules(cands, nodules)
	if m.Found != 2 {
		t.Errorf("found %d, want 2", m.Found)
	}
	if want := []int{3, 1, -1, -1}; !slices.Equal(m.Nearest, want) {
		t.Errorf("nearest %v, want %v", m.Nearest, want)
	}
	if want := []bool{true, true, false, true}; !slices.Equal(m.Matched, want) {
		t.Errorf("matched %v, want %v", m.Matched, want)
	}
}
