package ctmask

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"

	"github.com/ctseg/ctseg/format"
	"github.com/ctseg/ctseg/internal/atomicfile"
	"github.com/ctseg/ctseg/internal/mask"
	"github.com/ctseg/ctseg/internal/pathsafe"
	"github.com/ctseg/ctseg/internal/render"
)

// WritePNGs writes DIR/SERIES_UID/slice_NNNN.png for each positive slice
// of ct (render.CheckImage): the CT in the window -1000…1000 HU, mask
// voxels tinted red, and the outline of each nodule box crossing the slice
// in green, so that a person can check the masks by eye as the book does
// in its notebook. Errors start "--png:", mkmask's flag.
//
// The uid comes from the stream, so it is checked to be one path element:
// a crafted uid such as "../../x" would otherwise write outside DIR.
func WritePNGs(dir string, ct *format.CT, vol mask.Volume, boxes []mask.Box) error {
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
		img := render.CheckImage(vol.HU[s*n:(s+1)*n], ct.Mask[s*n:(s+1)*n], ct.Shape[1], ct.Shape[2], inPlane(boxes, s))
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

// inPlane returns the in-plane extent (x columns, y rows) of each box
// that crosses slice s.
func inPlane(boxes []mask.Box, s int) []image.Rectangle {
	var out []image.Rectangle
	for _, b := range boxes {
		if s >= b.Lo[0] && s <= b.Hi[0] {
			out = append(out, image.Rect(b.Lo[2], b.Lo[1], b.Hi[2]+1, b.Hi[1]+1))
		}
	}
	return out
}
