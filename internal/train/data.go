package train

import (
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"sort"

	"github.com/ctseg/ctseg/format"
	"github.com/ctseg/ctseg/internal/bigbuf"
)

// Crops are the nodule crops a run trains on, held in memory as int16 (the
// book's pos_list; all of LUNA16 is about 150 MB). Each crop keeps the
// buffers its record was decoded into: gathering them into one growing
// array would copy them again and again and, at its last doubling, hold
// the set about 2.25 times over.
type Crops struct {
	N         int
	Channels  int
	Rows      int
	Cols      int
	HU        [][]int16 // per crop, Channels×Rows×Cols clipped HU
	Label     [][]uint8 // per crop, Rows×Cols: the middle channel's mask
	Series    []string  // series uid of each crop
	Skipped   int       // non-nodule crops left out
	bySeries  map[string][]int
	seriesIDs []string // sorted
}

// RecordSource yields records until io.EOF (cliutil.Input, a format.Reader).
type RecordSource interface {
	Next() (format.Record, error)
}

// LoadCrops reads every crop record of src, keeping the nodule crops;
// channels is the model's input channel count, which the crops must have.
func LoadCrops(src RecordSource, channels int, where func() string) (*Crops, error) {
	c := &Crops{Channels: channels, bySeries: map[string][]int{}}
	for {
		rec, err := src.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		cr, ok := rec.(*format.Crop)
		if !ok {
			return nil, fmt.Errorf("%s: %s record, want a training crop (crop's output without --val)", where(), rec.Kind())
		}
		if err := c.add(cr); err != nil {
			return nil, fmt.Errorf("%s: series %s: %w", where(), cr.SeriesUID, err)
		}
	}
	if c.N == 0 {
		if c.Skipped > 0 {
			return nil, fmt.Errorf("no nodule crops to train on (%d non-nodule crops)", c.Skipped)
		}
		return nil, errors.New("no training crops: the input holds no crop records")
	}
	for uid := range c.bySeries {
		c.seriesIDs = append(c.seriesIDs, uid)
	}
	sort.Strings(c.seriesIDs)
	return c, nil
}

// add keeps a nodule crop, checking that every crop has the same shape.
func (c *Crops) add(cr *format.Crop) error {
	if !cr.Candidate.IsNodule {
		c.Skipped++
		return nil
	}
	ch, rows, cols := cr.Shape[0], cr.Shape[1], cr.Shape[2]
	switch {
	case ch != c.Channels:
		return fmt.Errorf("crop has %d channels, the model takes %d", ch, c.Channels)
	case rows < Window || cols < Window:
		return fmt.Errorf("crop is %d×%d, smaller than the %d×%d training window", rows, cols, Window, Window)
	case c.N > 0 && (rows != c.Rows || cols != c.Cols):
		return fmt.Errorf("crop is %d×%d, earlier crops are %d×%d", rows, cols, c.Rows, c.Cols)
	}
	c.Rows, c.Cols = rows, cols
	c.HU = append(c.HU, cr.HU)
	c.Label = append(c.Label, cr.Label)
	c.Series = append(c.Series, cr.SeriesUID)
	c.bySeries[cr.SeriesUID] = append(c.bySeries[cr.SeriesUID], c.N)
	c.N++
	return nil
}

// crc is the CRC-32C of the crops' HU and labels, in order.
func (c *Crops) crc() uint32 {
	h := crc32.New(crc32.MakeTable(crc32.Castagnoli))
	for i := range c.N {
		h.Write(bigbuf.AsBytes(c.HU[i]))
		h.Write(c.Label[i])
	}
	return h.Sum32()
}

// crop returns crop i's HU and label.
func (c *Crops) crop(i int) (hu []int16, label []uint8) {
	return c.HU[i], c.Label[i]
}

// window copies the Window×Window window at (row, col) of crop i into hu
// (Channels×Window×Window) and label (Window×Window).
func (c *Crops) window(i, row, col int, hu []int16, label []uint8) {
	src, lab := c.crop(i)
	for ch := 0; ch < c.Channels; ch++ {
		for r := 0; r < Window; r++ {
			from := (ch*c.Rows+row+r)*c.Cols + col
			copy(hu[(ch*Window+r)*Window:][:Window], src[from:from+Window])
		}
	}
	for r := 0; r < Window; r++ {
		from := (row+r)*c.Cols + col
		copy(label[r*Window:][:Window], lab[from:from+Window])
	}
}

// imageSeries returns, for the training images, the first 12 series
// (sorted uids) and up to perSeries crops of each.
func (c *Crops) imageSeries(series, perSeries int) [][]int {
	var out [][]int
	for _, uid := range c.seriesIDs[:min(series, len(c.seriesIDs))] {
		ids := c.bySeries[uid]
		out = append(out, ids[:min(perSeries, len(ids))])
	}
	return out
}
