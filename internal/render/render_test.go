package render

import (
	"image"
	"slices"
	"testing"
)

func TestWindow(t *testing.T) {
	for hu, want := range map[int16]uint8{-2000: 0, -1000: 0, -999: 0, -992: 1, 0: 127, 50: 133, 999: 254, 1000: 255, 3000: 255} {
		if got := Window(hu); got != want {
			t.Errorf("Window(%d) = %d, want %d", hu, got, want)
		}
	}
}

// px is one pixel's R, G, B (alpha is always 255).
type px [3]uint8

func pixels(img *image.NRGBA) []px {
	var out []px
	for i := 0; i < len(img.Pix); i += 4 {
		if img.Pix[i+3] != 255 {
			return nil
		}
		out = append(out, px{img.Pix[i], img.Pix[i+1], img.Pix[i+2]})
	}
	return out
}

func TestCheckImage(t *testing.T) {
	// 4 rows × 5 cols; the box covers row 1, cols 2…3, so its outline runs
	// over rows 0…2 and cols 1…4.
	hu := []int16{
		-1000, 0, 0, 0, 0,
		1000, 0, 50, 50, 0,
		-1000, 0, 0, 0, 0,
		-1000, -1000, 1000, 50, 50,
	}
	mask := []uint8{
		0, 0, 0, 0, 0,
		1, 0, 1, 0, 0,
		0, 0, 0, 0, 0,
		0, 1, 1, 1, 0,
	}
	var (
		k = px{0, 0, 0}       // -1000
		g = px{127, 127, 127} // 0
		n = px{133, 133, 133} // 50
		o = px{0, 255, 0}     // outline
		// Tinted: red (grey+255)/2, green and blue grey/2.
		tw = px{255, 127, 127}
		tn = px{194, 66, 66}
		tk = px{127, 0, 0}
	)
	want := []px{
		k, o, o, o, o,
		tw, o, tn, n, o,
		k, o, o, o, o,
		k, tk, tw, tn, n,
	}
	img := CheckImage(hu, mask, 4, 5, []image.Rectangle{image.Rect(2, 1, 4, 2)})
	if img.Rect != image.Rect(0, 0, 5, 4) || !slices.Equal(pixels(img), want) {
		t.Errorf("pixels\n%v\nwant\n%v", pixels(img), want)
	}
	// A box at the image's corner: the outline outside is left out.
	img = CheckImage(hu, mask, 4, 5, []image.Rectangle{image.Rect(0, 0, 1, 1)})
	got := pixels(img)
	if got[0] != k || got[1] != o || got[5] != o || got[6] != o || got[2] != g {
		t.Errorf("corner box: %v", got[:7])
	}
}

func TestPrediction(t *testing.T) {
	// Each pixel: HU, prediction, label; the expected colour worked out
	// by hand: grey = hu/2000 + 0.5, red += FP + FN, green += 0.5·FN + TP,
	// all ×0.5, clipped, ×255 truncated.
	cases := []struct {
		hu    int16
		pred  float32
		label uint8
		want  px
	}{
		{-1000, 0, 0, px{0, 0, 0}},
		{1000, 0, 0, px{127, 127, 127}}, // 0.5 → 127.5
		{0, 0, 0, px{63, 63, 63}},       // 0.25 → 63.75
		{-500, 0, 0, px{31, 31, 31}},    // 0.125 → 31.875
		{3000, 0, 0, px{127, 127, 127}}, // clipped to 1000 HU first
		{-3000, 0, 0, px{0, 0, 0}},
		{0, 0.5, 0, px{63, 63, 63}},       // 0.5 is not a prediction
		{0, 0.9, 0, px{191, 63, 63}},      // FP: red 0.75
		{0, 0.2, 1, px{191, 127, 63}},     // FN: red 0.75, green 0.5
		{0, 1, 1, px{63, 191, 63}},        // TP: green 0.75
		{1000, 1, 0, px{255, 127, 127}},   // FP: red 1
		{1000, 0, 1, px{255, 191, 127}},   // FN: red 1, green 0.75
		{1000, 0.7, 1, px{127, 255, 127}}, // TP: green 1
		{-1000, 0, 1, px{127, 63, 0}},     // FN on black: orange
		{-1000, 1, 0, px{127, 0, 0}},      // FP on black: red
		{-1000, 1, 1, px{0, 127, 0}},      // TP on black: green
	}
	hu := make([]int16, len(cases))
	pred := make([]float32, len(cases))
	label := make([]uint8, len(cases))
	var want []px
	for i, c := range cases {
		hu[i], pred[i], label[i] = c.hu, c.pred, c.label
		want = append(want, c.want)
	}
	// Two rows of 8.
	img := Prediction(hu, pred, label, 2, 8)
	if img.Rect != image.Rect(0, 0, 8, 2) {
		t.Fatalf("bounds %v", img.Rect)
	}
	got := pixels(img)
	for i, c := range cases {
		if got[i] != c.want {
			t.Errorf("hu %d pred %g label %d: %v, want %v", c.hu, c.pred, c.label, got[i], c.want)
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("no panic for a label of the wrong length")
		}
	}()
	Prediction(hu, pred, label[1:], 2, 8)
}
