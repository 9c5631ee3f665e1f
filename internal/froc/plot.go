package froc

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"io"
	"math"
	"strconv"
	"sync"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"
	"golang.org/x/image/vector"
)

// Plot layout in pixels: the image and the plot area inside it.
const (
	plotWidth, plotHeight = 1200, 900
	areaLeft, areaRight   = 110, 1160
	areaTop, areaBottom   = 70, 790
)

// Plot colours: the script's blue ('b') for the curve and its band.
var (
	curveColor = color.NRGBA{0, 0, 255, 255}
	bandColor  = color.NRGBA{0, 0, 255, 38}
	gridColor  = color.NRGBA{220, 220, 220, 255}
	inkColor   = color.NRGBA{0, 0, 0, 255}
)

// WritePNG draws the FROC plot of r (see Plot) as a PNG.
func WritePNG(w io.Writer, name string, r *Result) error {
	return png.Encode(w, Plot(name, r))
}

// Plot draws the script's froc_<name>.png: sensitivity against false
// positives per scan on a log₂ axis from 1/8 to 8, the curve read at
// numpy.linspace(1/8, 8, 10001) as the script draws it, and with a
// bootstrap its mean (dashed), its interval (dotted) and the band between.
func Plot(name string, r *Result) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, plotWidth, plotHeight))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
	drawGrid(img)
	if b := r.Bootstrap; b != nil {
		drawBand(img, b)
	}
	xs := linspace(OperatingPoints[0], OperatingPoints[6], 10001)
	ys := make([]float64, len(xs))
	for i, x := range xs {
		ys[i] = r.Curve.SensitivityAt(x)
	}
	stroke(img, curveColor, 3, curvePoints(xs, ys))
	drawAxes(img, name)
	drawLegend(img, name, r)
	return img
}

// pt is a point in pixels.
type pt struct{ x, y float32 }

// toPixel maps (false positives per scan, sensitivity) into the plot area.
func toPixel(fps, sens float64) pt {
	u := (math.Log2(fps) + 3) / 6
	return pt{float32(areaLeft + u*(areaRight-areaLeft)), float32(areaBottom - sens*(areaBottom-areaTop))}
}

// curvePoints maps a curve to pixels, dropping points under half a pixel
// from the last one kept.
func curvePoints(xs []float64, ys []float64) []pt {
	var out []pt
	for i := range xs {
		p := toPixel(xs[i], ys[i])
		if n := len(out); n > 0 && i < len(xs)-1 && dist(out[n-1], p) < 0.5 {
			continue
		}
		out = append(out, p)
	}
	return out
}

// dist is the distance between two points.
func dist(a, b pt) float32 {
	return float32(math.Hypot(float64(b.x-a.x), float64(b.y-a.y)))
}

// drawBand fills the bootstrap interval and strokes its mean and bounds.
func drawBand(img *image.RGBA, b *Bootstrap) {
	n := len(b.FPsPerScan)
	lo, hi, mean := make([]float64, n), make([]float64, n), make([]float64, n)
	for i := range n {
		lo[i], hi[i], mean[i] = float64(b.Lower[i]), float64(b.Upper[i]), float64(b.Mean[i])
	}
	upper, lower := curvePoints(b.FPsPerScan, hi), curvePoints(b.FPsPerScan, lo)
	poly := append([]pt(nil), upper...)
	for i := len(lower) - 1; i >= 0; i-- {
		poly = append(poly, lower[i])
	}
	z := vector.NewRasterizer(plotWidth, plotHeight)
	addPolygon(z, poly)
	paint(img, z, bandColor)
	stroke(img, curveColor, 1.5, append(dashes(upper, 2, 4), dashes(lower, 2, 4)...)...)
	stroke(img, curveColor, 2, dashes(curvePoints(b.FPsPerScan, mean), 10, 6)...)
}

// drawGrid draws the grid lines at the ticks.
func drawGrid(img *image.RGBA) {
	for _, x := range OperatingPoints {
		px := int(math.Round(float64(toPixel(x, 0).x)))
		fillRect(img, image.Rect(px, areaTop, px+1, areaBottom), gridColor)
	}
	for i := range 11 {
		py := int(math.Round(float64(toPixel(1, float64(i)/10).y)))
		fillRect(img, image.Rect(areaLeft, py, areaRight, py+1), gridColor)
	}
}

// drawAxes draws the frame, ticks, tick labels, axis labels and title.
func drawAxes(img *image.RGBA, name string) {
	fillRect(img, image.Rect(areaLeft-1, areaTop-1, areaRight+1, areaTop+1), inkColor)
	fillRect(img, image.Rect(areaLeft-1, areaBottom-1, areaRight+1, areaBottom+1), inkColor)
	fillRect(img, image.Rect(areaLeft-1, areaTop-1, areaLeft+1, areaBottom+1), inkColor)
	fillRect(img, image.Rect(areaRight-1, areaTop-1, areaRight+1, areaBottom+1), inkColor)
	tick := face(18)
	for _, x := range OperatingPoints {
		px := int(math.Round(float64(toPixel(x, 0).x)))
		fillRect(img, image.Rect(px-1, areaBottom, px+1, areaBottom+8), inkColor)
		drawText(img, tick, strconv.FormatFloat(x, 'g', -1, 64), px, areaBottom+12, 0.5, 0)
	}
	for i := range 11 {
		py := int(math.Round(float64(toPixel(1, float64(i)/10).y)))
		fillRect(img, image.Rect(areaLeft-8, py-1, areaLeft, py+1), inkColor)
		drawText(img, tick, fmt.Sprintf("%.1f", float64(i)/10), areaLeft-12, py, 1, 0.5)
	}
	label := face(22)
	mid := (areaLeft + areaRight) / 2
	drawText(img, label, "Average number of false positives per scan", mid, areaBottom+50, 0.5, 0)
	drawTextUp(img, label, "Sensitivity", 22, (areaTop+areaBottom)/2)
	drawText(img, face(26), "FROC performance - "+name, mid, areaTop-20, 0.5, 1)
}

// drawLegend draws the legend in the lower right corner of the plot area.
func drawLegend(img *image.RGBA, name string, r *Result) {
	fc := face(18)
	type item struct {
		text string
		draw func(x, y int)
	}
	line := func(width float32, on, off float32) func(x, y int) {
		return func(x, y int) {
			p := []pt{{float32(x), float32(y)}, {float32(x + 40), float32(y)}}
			segs := [][]pt{p}
			if on > 0 {
				segs = dashes(p, on, off)
			}
			stroke(img, curveColor, width, segs...)
		}
	}
	items := []item{{fmt.Sprintf("%s (CPM %.3f)", name, r.CPM), line(3, 0, 0)}}
	if b := r.Bootstrap; b != nil {
		items = append(items,
			item{fmt.Sprintf("bootstrap mean (%d resamples)", b.Resamples), line(2, 10, 6)},
			item{fmt.Sprintf("%g %% interval", b.Confidence*100), func(x, y int) {
				fillRect(img, image.Rect(x, y-8, x+40, y+8), bandColor)
				line(1.5, 2, 4)(x, y-8)
				line(1.5, 2, 4)(x, y+8)
			}})
	}
	width := 0
	for _, it := range items {
		width = max(width, font.MeasureString(fc, it.text).Ceil())
	}
	const rowH, pad = 32, 12
	box := image.Rect(areaRight-width-3*pad-40-10, areaBottom-len(items)*rowH-2*pad-10, areaRight-10, areaBottom-10)
	fillRect(img, box, color.NRGBA{255, 255, 255, 230})
	outline(img, box, color.NRGBA{170, 170, 170, 255})
	for i, it := range items {
		y := box.Min.Y + pad + i*rowH + rowH/2
		it.draw(box.Min.X+pad, y)
		drawText(img, fc, it.text, box.Min.X+2*pad+40, y, 0, 0.5)
	}
}

// fillRect fills r with c, blending.
func fillRect(img *image.RGBA, r image.Rectangle, c color.Color) {
	draw.Draw(img, r, image.NewUniform(c), image.Point{}, draw.Over)
}

// outline draws a one-pixel border inside r.
func outline(img *image.RGBA, r image.Rectangle, c color.Color) {
	fillRect(img, image.Rect(r.Min.X, r.Min.Y, r.Max.X, r.Min.Y+1), c)
	fillRect(img, image.Rect(r.Min.X, r.Max.Y-1, r.Max.X, r.Max.Y), c)
	fillRect(img, image.Rect(r.Min.X, r.Min.Y, r.Min.X+1, r.Max.Y), c)
	fillRect(img, image.Rect(r.Max.X-1, r.Min.Y, r.Max.X, r.Max.Y), c)
}

// paint blends the shape accumulated in z onto img in colour c.
func paint(img *image.RGBA, z *vector.Rasterizer, c color.Color) {
	z.Draw(img, img.Bounds(), image.NewUniform(c), image.Point{})
}

// stroke draws anti-aliased polylines of the given width with round
// joins and caps: a rectangle per segment and a disc per vertex, all of
// one orientation so that their overlaps do not cancel.
func stroke(img *image.RGBA, c color.Color, width float32, lines ...[]pt) {
	z := vector.NewRasterizer(plotWidth, plotHeight)
	for _, pts := range lines {
		addStroke(z, width/2, pts)
	}
	paint(img, z, c)
}

// addStroke adds one polyline of half-width h to z.
func addStroke(z *vector.Rasterizer, h float32, pts []pt) {
	for i, p := range pts {
		addPolygon(z, disc(p, h))
		if i == 0 {
			continue
		}
		q := pts[i-1]
		d := dist(q, p)
		if d == 0 {
			continue
		}
		nx, ny := -(p.y-q.y)/d*h, (p.x-q.x)/d*h
		addPolygon(z, []pt{{q.x + nx, q.y + ny}, {p.x + nx, p.y + ny}, {p.x - nx, p.y - ny}, {q.x - nx, q.y - ny}})
	}
}

// disc approximates a disc by a 16-gon.
func disc(c pt, r float32) []pt {
	out := make([]pt, 16)
	for i := range out {
		a := float64(i) * 2 * math.Pi / 16
		out[i] = pt{c.x + r*float32(math.Cos(a)), c.y + r*float32(math.Sin(a))}
	}
	return out
}

// addPolygon adds a closed polygon to z, turned to positive orientation.
func addPolygon(z *vector.Rasterizer, poly []pt) {
	if len(poly) < 3 {
		return
	}
	var area float32
	for i, p := range poly {
		q := poly[(i+1)%len(poly)]
		area += p.x*q.y - q.x*p.y
	}
	first, step := 0, 1
	if area < 0 {
		first, step = len(poly)-1, -1
	}
	z.MoveTo(poly[first].x, poly[first].y)
	for i, k := first+step, 1; k < len(poly); i, k = i+step, k+1 {
		z.LineTo(poly[i].x, poly[i].y)
	}
	z.ClosePath()
}

// dashes cuts a polyline into dashes on pixels long with gaps off long.
func dashes(pts []pt, on, off float32) [][]pt {
	if len(pts) == 0 {
		return nil
	}
	var out [][]pt
	cur := []pt{pts[0]}
	drawing, left := true, on // in a dash or a gap, and how much of it is left
	for i := 1; i < len(pts); i++ {
		a, b := pts[i-1], pts[i]
		seg := dist(a, b)
		pos := float32(0) // how far along a→b
		for seg-pos > left {
			pos += left
			t := pos / seg
			p := pt{a.x + (b.x-a.x)*t, a.y + (b.y-a.y)*t}
			if drawing {
				out = append(out, append(cur, p))
				cur, left = nil, off
			} else {
				cur, left = []pt{p}, on
			}
			drawing = !drawing
		}
		left -= seg - pos
		if drawing {
			cur = append(cur, b)
		}
	}
	if drawing && len(cur) > 1 {
		out = append(out, cur)
	}
	return out
}

// faces caches the font faces by size.
var faces sync.Map // float64 → font.Face

// face returns Go Regular at size pixels.
func face(size float64) font.Face {
	if f, ok := faces.Load(size); ok {
		return f.(font.Face)
	}
	f, err := opentype.Parse(goregular.TTF)
	if err != nil {
		panic("froc: the embedded Go font does not parse: " + err.Error())
	}
	fc, err := opentype.NewFace(f, &opentype.FaceOptions{Size: size, DPI: 72, Hinting: font.HintingFull})
	if err != nil {
		panic("froc: " + err.Error())
	}
	got, _ := faces.LoadOrStore(size, fc)
	return got.(font.Face)
}

// drawText draws s in black with its anchor at (x, y): ax is the anchor's
// horizontal place in the text (0 left, 0.5 centre, 1 right), ay its
// vertical place (0 the top of the capitals, 0.5 their middle, 1 the
// baseline).
func drawText(img draw.Image, fc font.Face, s string, x, y int, ax, ay float64) {
	w := font.MeasureString(fc, s).Ceil()
	capH := fc.Metrics().CapHeight.Ceil()
	d := font.Drawer{Dst: img, Src: image.NewUniform(inkColor), Face: fc,
		Dot: fixed.P(x-int(ax*float64(w)), y+int((1-ay)*float64(capH)))}
	d.DrawString(s)
}

// drawTextUp draws s turned a quarter left (reading upwards), centred
// vertically on y, its capitals' top at x.
func drawTextUp(img *image.RGBA, fc font.Face, s string, x, y int) {
	m := fc.Metrics()
	w := font.MeasureString(fc, s).Ceil()
	h := (m.Ascent + m.Descent).Ceil()
	flat := image.NewAlpha(image.Rect(0, 0, w, h))
	d := font.Drawer{Dst: flat, Src: image.Opaque, Face: fc, Dot: fixed.P(0, m.Ascent.Ceil())}
	d.DrawString(s)
	up := image.NewAlpha(image.Rect(0, 0, h, w))
	for py := range h {
		for px := range w {
			up.SetAlpha(py, w-1-px, flat.AlphaAt(px, py))
		}
	}
	top := x - (m.Ascent - m.CapHeight).Ceil()
	r := image.Rect(top, y-w/2, top+h, y-w/2+w)
	draw.DrawMask(img, r, image.NewUniform(inkColor), image.Point{}, up, image.Point{}, draw.Over)
}
