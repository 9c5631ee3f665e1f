package phantom

import (
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"testing"
)

// TestWritePNG writes, per series, a montage of a few slices (the nodule
// centre slices among them) for a visual check, in a lung window of
// −1000…+400 HU:
//
//	PHANTOM_PNG_DIR=/tmp/png [PHANTOM_PNG_SMALL=1] go test -run WritePNG ./internal/phantom/
//
// Skipped unless PHANTOM_PNG_DIR is set.
func TestWritePNG(t *testing.T) {
	dir := os.Getenv("PHANTOM_PNG_DIR")
	if dir == "" {
		t.Skip("set PHANTOM_PNG_DIR to write slice images")
	}
	opt := DefaultOptions()
	if os.Getenv("PHANTOM_PNG_SMALL") != "" {
		opt = smallOptions()
	}
	opt.Series = 3
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < opt.Series; i++ {
		s, err := Plan(opt, i)
		if err != nil {
			t.Fatal(err)
		}
		hu := s.Render(0)
		n := s.Size[2]
		ks := []int{n / 10, n / 3, n / 2, 2 * n / 3, n - 2}
		for _, nod := range s.Nodules {
			ks = append(ks, nod.CenterIRC[0])
			t.Logf("series %d nodule %+v", i, nod)
		}
		writeMontage(t, filepath.Join(dir, "series"+string(rune('0'+i))+".png"), hu, s.Size, ks)
	}
}

// writeMontage writes slices ks side by side, three to a row.
func writeMontage(t *testing.T, path string, hu []int16, size [3]int, ks []int) {
	cols, rows := size[0], size[1]
	img := image.NewGray(image.Rect(0, 0, 3*cols, rows*((len(ks)+2)/3)))
	for j, k := range ks {
		ox, oy := (j%3)*cols, (j/3)*rows
		for y := 0; y < rows; y++ {
			for x := 0; x < cols; x++ {
				v := (float64(hu[(k*rows+y)*cols+x]) + 1000) / 1400 * 255
				img.SetGray(ox+x, oy+y, color.Gray{uint8(min(max(v, 0), 255))})
			}
		}
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
}
