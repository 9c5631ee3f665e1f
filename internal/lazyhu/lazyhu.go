// Package lazyhu gives a CT record's HU as a mask volume (mask.Volume)
// read on demand from the compressed frames the stream brought it in
// (format.Frames): a mask reads a few thousand voxels of a CT's tens of
// millions, so only the starts of the frames that hold them are
// decompressed, each once, and the record goes on with its frames as they
// came. See docs/mkmask.md "Cost".
package lazyhu

import (
	"fmt"

	"github.com/ctseg/ctseg/format"
	"github.com/ctseg/ctseg/internal/bigbuf"
	"github.com/ctseg/ctseg/internal/mask"
)

// Loader makes the volumes of one CT after another, reusing its buffer.
// Its zero value is ready to use.
type Loader struct {
	// Verify makes Volume decompress all of every CT and check it
	// against its checksums (mkmask --verify).
	Verify bool

	frames *format.Frames
	hu     []int16         // laid out as the CT; only loaded bytes are valid
	loaded map[int64]int64 // frame start → bytes loaded from there (bytes)
	margin int64           // bytes loaded past what is asked for
	buf    []int16         // the volume buffer, kept for the next CT
}

// marginRows is how many rows past a voxel asked for are loaded with it.
// The first voxels a mask reads in a slice are on the nodule's centre row
// (the radius search along the slice axis); its box then needs the rows
// up to the centre row plus the row radius, which is under 64 rows for a
// nodule of up to 3 cm at 0.5 mm per pixel. Loading them at once spares
// decompressing the slice's start again.
const marginRows = 64

// Volume returns ct's voxels as a mask volume: the HU itself when the
// record brought it decompressed, else a volume that loads frames as the
// mask reads them (all of them at once with Verify, checking each against
// its checksum). The volume is valid until Release or the next Volume.
func (l *Loader) Volume(ct *format.CT) (mask.Volume, error) {
	if ct.HUFrames == nil {
		return mask.Volume{HU: ct.HU, Shape: ct.Shape}, nil
	}
	n := ct.Shape[0] * ct.Shape[1] * ct.Shape[2]
	if cap(l.buf) < n {
		// Only the pages of loaded frames are ever touched.
		l.buf = bigbuf.Int16s(n)
	}
	l.frames, l.hu = ct.HUFrames, l.buf[:n]
	l.margin = 2 * marginRows * int64(ct.Shape[2])
	clear(l.loaded)
	if l.loaded == nil {
		l.loaded = map[int64]int64{}
	}
	if l.Verify {
		// Every frame whole, which checks each against its checksum; then
		// the volume needs no loading.
		if _, err := l.frames.ReadAt(bigbuf.AsBytes(l.hu), 0); err != nil {
			return mask.Volume{}, err
		}
		return mask.Volume{HU: l.hu, Shape: ct.Shape}, nil
	}
	return mask.Volume{HU: l.hu, Shape: ct.Shape, Load: l.load}, nil
}

// Release lets go of the frames of the last volume, whose buffers the
// stream reader reuses.
func (l *Loader) Release() { l.frames = nil }

// load decompresses what is missing of the voxels hu[lo:hi], from the
// start of each frame that holds them to margin bytes past them.
func (l *Loader) load(lo, hi int) error {
	data := bigbuf.AsBytes(l.hu)
	for off, stop := 2*int64(lo), 2*int64(hi); off < stop; {
		start, end := l.frames.FrameOf(off)
		if end <= start {
			return fmt.Errorf("voxel %d is outside the HU data (%d bytes)", off/2, l.frames.Size())
		}
		if done := start + l.loaded[start]; done < min(stop, end) {
			to := min(stop+l.margin, end)
			if _, err := l.frames.ReadAt(data[start:to], start); err != nil {
				return err
			}
			l.loaded[start] = to - start
		}
		off = end
	}
	return nil
}
