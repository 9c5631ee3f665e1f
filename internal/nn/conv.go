package nn

// Conv is a stride-1 2-D convolution with an odd square kernel K and "same"
// zero padding K/2, as PyTorch's Conv2d(Cin, Cout, K, padding=K/2): input
// N×Cin×H×W, weight Cout×Cin×K×K, bias Cout, output N×Cout×H×W.
//
// The forward pass multiplies the weight matrix (Cout × Cin·K·K) by an
// im2col buffer built for a band of rows at a time, so the buffer stays in
// cache and its size does not grow with the image.
type Conv struct{ N, Cin, Cout, H, W, K int }

// colFloats is the target size of one im2col band, in floats (~256 KiB);
// a variable so that tests can force many bands on small images.
var colFloats = 64 << 10

// bandRows returns how many image rows one im2col band holds.
func bandRows(kc, h, w int) int {
	r := colFloats / (kc * w)
	if r < 1 {
		r = 1
	}
	if r > h {
		r = h
	}
	return r
}

// Epilogue is element-wise work applied to each band of a convolution's
// output while the band is still in cache: ReLU, then (when Scale is not
// nil) y·Scale[c] + Shift[c] per output channel, an evaluation-mode
// BatchNorm. Fusing them saves whole passes over large activations.
type Epilogue struct {
	ReLU         bool
	Scale, Shift []float32
}

// Forward computes y = conv(x, w) + b. b may be nil (no bias).
func (s Conv) Forward(x, w, b, y []float32, workers int) {
	s.ForwardEp(x, w, b, y, Epilogue{}, workers)
}

// ForwardEp computes y = ep(conv(x, w) + b).
func (s Conv) ForwardEp(x, w, b, y []float32, ep Epilogue, workers int) {
	s.ForwardCat(Cat{A: x, CA: s.Cin}, w, b, y, ep, workers)
}

// Cat is a convolution input given as two tensors joined on the channel
// axis, torch.cat([A, B], 1): channels [0, CA) come from A (N×CA×H×W),
// the rest from B. Reading both directly saves building the joined tensor.
type Cat struct {
	A  []float32
	CA int
	B  []float32
}

// plane returns channel ci of sample n of the joined input.
func (c Cat) plane(s Conv, n, ci int) []float32 {
	hw := s.H * s.W
	if ci < c.CA {
		return c.A[(n*c.CA+ci)*hw:][:hw]
	}
	cb := s.Cin - c.CA
	return c.B[(n*cb+ci-c.CA)*hw:][:hw]
}

// ForwardCat computes y = ep(conv(cat(x), w) + b).
func (s Conv) ForwardCat(x Cat, w, b, y []float32, ep Epilogue, workers int) {
	kc := s.Cin * s.K * s.K
	hw := s.H * s.W
	rows := bandRows(kc, s.H, s.W)
	forBands(s.N, s.H, rows, workers, func(n, r0, r1 int) {
		npx := (r1 - r0) * s.W
		colp := getBuf(kc * npx)
		col := *colp
		s.im2col(x, n, r0, r1, col)
		// Accumulate into a band-sized buffer that stays in cache, then
		// write each output value once, with bias and epilogue.
		tp := getBuf(s.Cout * npx)
		t := *tp
		clear(t)
		gemm(s.Cout, npx, kc, w, kc, col, npx, t, npx)
		putBuf(colp)
		yn := y[n*s.Cout*hw : (n+1)*s.Cout*hw]
		for co := 0; co < s.Cout; co++ {
			v := float32(0)
			if b != nil {
				v = b[co]
			}
			ep.write(yn[co*hw+r0*s.W:co*hw+r1*s.W], t[co*npx:(co+1)*npx], v, co)
		}
		putBuf(tp)
	})
}

// write stores dst = ep(src + bias), part of output channel c.
func (ep Epilogue) write(dst, src []float32, bias float32, c int) {
	dst = dst[:len(src)]
	switch {
	case ep.ReLU && ep.Scale != nil:
		sc, sh := ep.Scale[c], ep.Shift[c]
		for i, v := range src {
			dst[i] = relu32(v+bias)*sc + sh
		}
	case ep.ReLU:
		for i, v := range src {
			dst[i] = relu32(v + bias)
		}
	case ep.Scale != nil:
		sc, sh := ep.Scale[c], ep.Shift[c]
		for i, v := range src {
			dst[i] = (v+bias)*sc + sh
		}
	default:
		for i, v := range src {
			dst[i] = v + bias
		}
	}
}

// im2col fills col (Cin·K·K rows × (r1−r0)·W columns) with the input
// values each output pixel of rows [r0, r1) of sample n sees, zero outside
// the image.
func (s Conv) im2col(x Cat, n, r0, r1 int, col []float32) {
	p := s.K / 2
	npx := (r1 - r0) * s.W
	for ci := 0; ci < s.Cin; ci++ {
		plane := x.plane(s, n, ci)
		for ky := 0; ky < s.K; ky++ {
			for kx := 0; kx < s.K; kx++ {
				dst := col[((ci*s.K+ky)*s.K+kx)*npx:][:npx]
				shift := kx - p
				for r := r0; r < r1; r++ {
					seg := dst[(r-r0)*s.W : (r-r0+1)*s.W]
					sr := r + ky - p
					if sr < 0 || sr >= s.H {
						clear(seg)
						continue
					}
					shiftRow(seg, plane[sr*s.W:(sr+1)*s.W], shift)
				}
			}
		}
	}
}

// shiftRow sets dst[c] = src[c+shift], zero where c+shift is outside src.
func shiftRow(dst, src []float32, shift int) {
	w := len(src)
	switch {
	case shift >= w || -shift >= w:
		clear(dst)
	case shift >= 0:
		copy(dst, src[shift:])
		clear(dst[w-shift:])
	default:
		clear(dst[:-shift])
		copy(dst[-shift:], src[:w+shift])
	}
}

// BackwardData computes dx, the gradient with respect to the input, from
// dy. It is the convolution of dy with the flipped, transposed kernel.
func (s Conv) BackwardData(dy, w, dx []float32, workers int) {
	kk := s.K * s.K
	wtp := getBuf(len(w))
	defer putBuf(wtp)
	wt := *wtp
	for co := 0; co < s.Cout; co++ {
		for ci := 0; ci < s.Cin; ci++ {
			src := w[(co*s.Cin+ci)*kk:][:kk]
			dst := wt[(ci*s.Cout+co)*kk:][:kk]
			for i := range kk {
				dst[i] = src[kk-1-i]
			}
		}
	}
	Conv{N: s.N, Cin: s.Cout, Cout: s.Cin, H: s.H, W: s.W, K: s.K}.Forward(dy, wt, nil, dx, workers)
}

// BackwardWeight computes the weight and bias gradients dw (Cout×Cin×K×K)
// and db (Cout) from the input x and dy, overwriting them. Each sample's
// contribution is summed separately and the samples are then added in
// order, so the result does not depend on the worker count.
func (s Conv) BackwardWeight(x, dy, dw, db []float32, workers int) {
	s.BackwardWeightCat(Cat{A: x, CA: s.Cin}, dy, dw, db, workers)
}

// BackwardWeightCat is BackwardWeight for a joined input.
func (s Conv) BackwardWeightCat(x Cat, dy, dw, db []float32, workers int) {
	kc := s.Cin * s.K * s.K
	hw := s.H * s.W
	rows := bandRows(kc, s.H, s.W)
	// Per-sample parts (transposed: kc × Cout), pooled: a training step
	// would otherwise allocate megabytes per layer and keep the GC busy.
	partp, bpartp := getBuf(s.N*kc*s.Cout), getBuf(s.N*s.Cout)
	defer putBuf(partp)
	defer putBuf(bpartp)
	part, bpart := *partp, *bpartp
	clear(part)
	parallelFor(s.N, workers, func(n int) {
		pw := part[n*kc*s.Cout : (n+1)*kc*s.Cout]
		dyn := dy[n*s.Cout*hw : (n+1)*s.Cout*hw]
		for r0 := 0; r0 < s.H; r0 += rows {
			r1 := min(r0+rows, s.H)
			npx := (r1 - r0) * s.W
			colp, dytp := getBuf(kc*npx), getBuf(npx*s.Cout)
			col, dyt := *colp, *dytp
			s.im2col(x, n, r0, r1, col)
			transpose(dyn[r0*s.W:], hw, s.Cout, npx, dyt)
			gemm(kc, s.Cout, npx, col, npx, dyt, s.Cout, pw, s.Cout)
			putBuf(colp)
			putBuf(dytp)
		}
		for co := 0; co < s.Cout; co++ {
			bpart[n*s.Cout+co] = sum32(dyn[co*hw : (co+1)*hw])
		}
	})
	for co := 0; co < s.Cout; co++ {
		for k := 0; k < kc; k++ {
			v := float32(0)
			for n := 0; n < s.N; n++ {
				v += part[(n*kc+k)*s.Cout+co]
			}
			dw[co*kc+k] = v
		}
		if db != nil {
			v := float32(0)
			for n := 0; n < s.N; n++ {
				v += bpart[n*s.Cout+co]
			}
			db[co] = v
		}
	}
}

// transpose writes the rows×cols block of src (row stride ld) to dst as
// cols×rows.
func transpose(src []float32, ld, rows, cols int, dst []float32) {
	for r := 0; r < rows; r++ {
		row := src[r*ld : r*ld+cols]
		for c, v := range row {
			dst[c*rows+r] = v
		}
	}
}

// sum32 adds s in float64 and rounds once, which keeps long sums accurate.
func sum32(s []float32) float32 {
	var t float64
	for _, v := range s {
		t += float64(v)
	}
	return float32(t)
}
