package train

import (
	"math/bits"

	"github.com/ctseg/ctseg/internal/augment"
)

// Streams of the sampler's random numbers: Philox blocks of the key
// (seed, epoch), apart from augment's streams (0 and 1), which are keyed
// by (seed, step).
const (
	streamShuffle uint32 = 16 // block i: the draw of Fisher–Yates step i
	streamWindow  uint32 = 17 // block k: the window of sample k
)

// Window is the side of the training window cut from a crop (SPEC: a
// random 64×64 window of the 96×96 crop).
const Window = 64

// Sampler says which crop and which window each training sample of an
// epoch uses, as a pure function of (seed, epoch, sample): the book's
// shuffleSamples at each epoch start and getitem_trainingCrop's
// random.randrange(0, 32) offsets, drawn from Philox instead, so a
// resumed run needs no generator state.
type Sampler struct {
	seed    uint64
	epoch   int
	order   []int // the nodule list shuffled for the epoch
	rows    int   // crop rows and cols
	cols    int
	maxOffR uint32 // offsets are uniform in [0, maxOff)
	maxOffC uint32
}

// NewSampler shuffles n nodule crops of rows×cols for epoch (from 1).
func NewSampler(seed uint64, epoch, n, rows, cols int) *Sampler {
	s := &Sampler{seed: seed, epoch: epoch, order: make([]int, n), rows: rows, cols: cols,
		maxOffR: uint32(max(rows-Window, 1)), maxOffC: uint32(max(cols-Window, 1))}
	for i := range s.order {
		s.order[i] = i
	}
	key := s.key()
	// Fisher–Yates as random.shuffle: for i from the end, swap with j in [0, i].
	for i := n - 1; i > 0; i-- {
		j := below(key.Block(streamShuffle, uint32(i))[0], uint32(i+1))
		s.order[i], s.order[j] = s.order[j], s.order[i]
	}
	return s
}

func (s *Sampler) key() augment.Key { return augment.Key{Seed: s.seed, Step: uint64(s.epoch)} }

// Sample returns the crop and window offsets of sample k of the epoch:
// nodule k mod n of the shuffled list (the book's pos_list[ndx %
// len(pos_list)]).
func (s *Sampler) Sample(k int64) (crop, row, col int) {
	w := s.key().Block(streamWindow, uint32(k))
	return s.order[int(k%int64(len(s.order)))], int(below(w[0], s.maxOffR)), int(below(w[1], s.maxOffC))
}

// below maps a uniform word to [0, n) (Lemire's multiply-shift; exact
// when n divides 2³², as the 32 offsets of a 96-pixel crop do).
func below(x, n uint32) uint32 {
	hi, _ := bits.Mul32(x, n)
	return hi
}
