// Package render draws CT slices as images for people to look at:
// mkmask's check images (the mask and its boxes over the CT) and the
// training images of SPEC.md "Training" (prediction against label over
// the CT), which segtrain and segeval show.
package render

import (
	"fmt"
	"image"
	"image/color"
)

// Window maps HU -1000…1000 to grey 0…255 (truncating), clipping outside.
func Window(hu int16) uint8 {
	v := (int32(hu) + 1000) * 255 / 2000
	return uint8(max(0, min(255, v)))
}

// boxColor outlines the boxes of a check image.
var boxColor = color.NRGBA{0, 255, 0, 255}

// CheckImage draws a slice of rows×cols voxels (hu, and mask: 0/1 per
// voxel) in the window -1000…1000 HU, mask voxels tinted red (half grey,
// half red: the anatomy stays visible under the mask), and the outline of
// each box (its in-plane extent: x columns, y rows) in green, one pixel
// outside the box; parts of an outline outside the image are left out.
func CheckImage(hu []int16, mask []uint8, rows, cols int, boxes []image.Rectangle) *image.NRGBA {
	check(rows, cols, len(hu), len(mask))
	img := image.NewNRGBA(image.Rect(0, 0, cols, rows))
	for i, v := range hu {
		g := Window(v)
		px := img.Pix[4*i : 4*i+4 : 4*i+4]
		if mask[i] != 0 {
			px[0], px[1], px[2] = uint8((uint16(g)+255)/2), g/2, g/2
		} else {
			px[0], px[1], px[2] = g, g, g
		}
		px[3] = 255
	}
	for _, b := range boxes {
		outline(img, b.Min.Y-1, b.Min.X-1, b.Max.Y, b.Max.X)
	}
	return img
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

// Prediction draws a slice of rows×cols pixels the way SPEC.md "Training"
// (and the book's logImages) shows a prediction: grey = hu/2000 + 0.5 (HU
// clipped to -1000…1000 first, as the model's input is); a pixel predicted
// (pred > 0.5) but not labelled (label != 0) adds 1 to red (false
// positive: red), one labelled but not predicted adds 1 to red and 0.5 to
// green (false negative: orange), one both adds 1 to green (true
// positive: green); then every channel is halved and clipped to [0, 1],
// and turned into 0…255 as TensorBoard does (×255, truncated). The
// arithmetic is float32, the book's. With pred = label it is the book's
// label image.
func Prediction(hu []int16, pred []float32, label []uint8, rows, cols int) *image.NRGBA {
	check(rows, cols, len(hu), len(pred), len(label))
	img := image.NewNRGBA(image.Rect(0, 0, cols, rows))
	for i, v := range hu {
		// Each conversion rounds to float32, so no step is fused.
		grey := float32(float32(max(-1000, min(1000, v)))/2000) + 0.5
		r, g := grey, grey
		switch p, l := pred[i] > 0.5, label[i] != 0; {
		case p && !l:
			r++
		case !p && l:
			r, g = r+1, float32(g+0.5)
		case p && l:
			g++
		}
		px := img.Pix[4*i : 4*i+4 : 4*i+4]
		px[0], px[1], px[2], px[3] = unit(r), unit(g), unit(grey), 255
	}
	return img
}

// unit halves v, clips it to [0, 1] and scales it to 0…255, truncating.
func unit(v float32) uint8 {
	return uint8(float32(max(0, min(1, float32(v*0.5)))) * 255)
}

// check panics unless every length is rows·cols.
func check(rows, cols int, lens ...int) {
	for _, n := range lens {
		if rows < 0 || cols < 0 || n != rows*cols {
			panic(fmt.Sprintf("render: %d values for a %d×%d slice", n, rows, cols))
		}
	}
}
