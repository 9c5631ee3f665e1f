package train

import (
	"slices"
	"testing"
)

// TestSampler: each epoch visits the nodules in a shuffled order, sample k
// taking nodule k mod n, with window offsets uniform in [0, 32) for a
// 96-pixel crop; the same (seed, epoch) gives the same samples.
func TestSampler(t *testing.T) {
	const n = 7
	s := NewSampler(1, 1, n, 96, 96)
	order := slices.Clone(s.order)
	sorted := slices.Clone(order)
	slices.Sort(sorted)
	if !slices.Equal(sorted, []int{0, 1, 2, 3, 4, 5, 6}) {
		t.Fatalf("order %v is not a permutation", order)
	}
	seenRow, seenCol := map[int]bool{}, map[int]bool{}
	for k := int64(0); k < 5000; k++ {
		c, r, col := s.Sample(k)
		if c != order[k%n] {
			t.Fatalf("sample %d: crop %d, want order[%d] = %d", k, c, k%n, order[k%n])
		}
		if r < 0 || r >= 32 || col < 0 || col >= 32 {
			t.Fatalf("sample %d: offsets (%d, %d) outside [0, 32)", k, r, col)
		}
		seenRow[r], seenCol[col] = true, true
	}
	if len(seenRow) != 32 || len(seenCol) != 32 {
		t.Errorf("offsets seen: %d rows, %d cols of 32", len(seenRow), len(seenCol))
	}
	again := NewSampler(1, 1, n, 96, 96)
	for k := int64(0); k < 100; k++ {
		a1, b1, c1 := s.Sample(k)
		a2, b2, c2 := again.Sample(k)
		if a1 != a2 || b1 != b2 || c1 != c2 {
			t.Fatal("the same seed and epoch give other samples")
		}
	}
	differ := 0
	for e := 2; e <= 10; e++ {
		if !slices.Equal(NewSampler(1, e, n, 96, 96).order, order) {
			differ++
		}
	}
	if differ < 8 {
		t.Errorf("only %d of 9 later epochs shuffle differently", differ)
	}
	if c, r, col := NewSampler(3, 1, 1, 64, 64).Sample(9); c != 0 || r != 0 || col != 0 {
		t.Errorf("a 64×64 crop: sample (%d, %d, %d), want the whole crop", c, r, col)
	}
}

// TestShuffleUniform: every nodule lands in every position about equally
// often over many epochs (Fisher–Yates with unbiased draws).
func TestShuffleUniform(t *testing.T) {
	const n, epochs = 4, 4000
	var count [n][n]int
	for e := 1; e <= epochs; e++ {
		for pos, id := range NewSampler(9, e, n, 96, 96).order {
			count[pos][id]++
		}
	}
	for pos := range count {
		for id, c := range count[pos] {
			if c < epochs/n*8/10 || c > epochs/n*12/10 {
				t.Errorf("nodule %d at position %d in %d of %d epochs", id, pos, c, epochs)
			}
		}
	}
}
