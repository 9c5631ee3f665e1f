package main

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"

	"github.com/ctseg/ctseg/format"
	"github.com/ctseg/ctseg/internal/atomicfile"
	"github.com/ctseg/ctseg/internal/mask"
	"github.com/ctseg/ctseg/internal/pathsafe"
)

// Overlay colours of the check images.
var (
	boxColor = color.NRGBA{0, 255, 0, 255} // box outline, drawn just outside the box
)

// writePNGs writes DIR/SERIES_UID/slice_NNNN.png for each positive slice
// of ct: the CT in the window -1000…1000 HU, mask voxels tinted red, and
// the outline of each nodule box crossing the slice in green, so that a
// person can check the masks by eye as the book does in its notebook.
//
// The uid comes from the stream, so it is checked to be one path element:
// a crafted uid such as "../../x" would otherwise write outside DIR.
func writePNGs(dir string, ct *format.CT, vol mask.Volume, boxes []mask.Box) error {
	if err := pathsafe.Element(ct.SeriesUID); err != nil {
		return fmt.Errorf("--png: series uid: %w", err)
	}
	sdir := filepath.Join(dir, ct.SeriesUID)
	if err := os.MkdirAll(sdir, 0o755); err != nil {
		return fmt.Errorf("--png: %w", err)
	}
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	n := ct.Shape[1] * ct.Shape[2]
	for _, s := range ct.PositiveIndexes {
		if vol.Load != nil {
			if err := vol.Load(s*n, (s+1)*n); err != nil {
				return fmt.Errorf("--png: slice %d: %w", s, err)
			}
		}
		img := sliceImage(ct, vol.HU, s, boxes)
		var buf bytes.Buffer
		if err := enc.Encode(&buf, img); err != nil {
			return fmt.Errorf("--png: slice %d: %w", s, err)
		}
		path := filepath.Join(sdir, fmt.Sprintf("slice_%04d.png", s))
		if err := atomicfile.WriteFile(path, buf.Bytes()); err != nil {
			return fmt.Errorf("--png: %w", err)
		}
	}
	return nil
}

// sliceImage draws slice s of ct (voxels vol) with its mask and box
// outlines.
func sliceImage(ct *format.CT, vol []int16, s int, boxes []mask.Box) *image.NRGBA {
	rows, cols := ct.Shape[1], ct.Shape[2]
	img := image.NewNRGBA(image.Rect(0, 0, cols, rows))
	off := s * rows * cols
	for i, hu := range vol[off : off+rows*cols] {
		g := window(hu)
		px := img.Pix[4*i : 4*i+4 : 4*i+4]
		if ct.Mask[off+i] != 0 {
			// Half grey, half red: the anatomy stays visible under the mask.
			px[0], px[1], px[2] = uint8((uint16(g)+255)/2), g/2, g/2
		} else {
			px[0], px[1], px[2] = g, g, g
		}
		px[3] = 255
	}
	for _, b := range boxes {
		if s >= b.Lo[0] && s <= b.Hi[0] {
			outline(img, b.Lo[1]-1, b.Lo[2]-1, b.Hi[1]+1, b.Hi[2]+1)
		}
	}
	return img
}

// window maps HU -1000…1000 to grey 0…255, clipping outside.
func window(hu int16) uint8 {
	v := (int32(hu) + 1000) * 255 / 2000
	return uint8(max(0, min(255, v)))
}

// outline draws the rectangle with corners (r0, c0) and (r1, c1),
// inclusive; parts outside the image are left out.
func outline(img *image.NRGBA, r0, c0, r1, c1 int) {
	for c := c0; c <= c1; c++ {
		img.SetNRGBA(c, r0, boxColor)
		img.SetNRGBA(c, r1, boxColor)
	}
	for r := r0; r <= r1; r++ {
		img.SetNRGBA(c0, r, boxColor)
		img.SetNRGBA(c1, r, boxColor)
	}
}
