package nn

// Conv is a stride-1 2-D convolution with an odd square kernel K and "same"
// zero padding K/2, as PyTorch's Conv2d(Cin, Cout, K, padding=K/2): input
// N×Cin×H×W, weight Cout×Cin×K×K, bias Cout, output N×Cout×H×W.
//
// Both the forward pass and the weight gradient are matrix products with
// the im2col matrix (Cin·K·K rows, one per input pixel offset), built for a
// band of rows at a time so that it stays in cache. The matrix is never
// written out: a band of the input is copied once, zero-padded (see
// padded), and every im2col row is a contiguous run of that copy, which
// gemm reads through row offsets.
type Conv struct{ N, Cin, Cout, H, W, K int }

// colFloats is the target size of one band's buffers, in floats (~512 KiB;
// a convolution counts its input and output channels per pixel, leaving
// out halo, padding and rounding): larger bands copy fewer halo rows, but
// must stay in the L2 cache. A variable so that tests can
// force many bands on small images.
var colFloats = 128 << 10

// bandRows returns how many image rows one band holds when each pixel of
// a row takes perPixel floats of buffers.
func bandRows(perPixel, h, w int) int {
	r := colFloats / (perPixel * w)
	if r < 1 {
		r = 1
	}
	if r > h {
		r = h
	}
	return r
}

// padded is the zero-padded copy of the input rows that output rows
// [r0, r1) of one sample read. Each channel is a plane of rows+2p rows
// (p = K/2 above and below the band) of stride W+p: p zeros, then the W
// values, the zeros doubling as the right padding of the row before. The
// input pixel at offset (ky, kx) from output pixel q lies at
// plane·ci + q + ky·stride + kx when q counts output pixels with the same
// stride; the p extra outputs per row are computed and discarded, and so
// are the outputs that round the band up to cols, a multiple of 32 (the
// micro-kernels' width), for which each plane has a zero tail.
type padded struct {
	buf                 *[]float32
	stride, plane, cols int
}

// pad copies rows [r0, r1) of sample n of x, with their halo, into a
// pooled padded buffer; release it with free.
func (s Conv) pad(x Cat, n, r0, r1 int) padded {
	p := s.K / 2
	rows := r1 - r0
	b := padded{stride: s.W + p}
	b.cols = (rows*b.stride + 31) &^ 31
	b.plane = (rows+2*p)*b.stride + 2*p + 32
	b.buf = floats.get(s.Cin * b.plane)
	buf := *b.buf
	for ci := 0; ci < s.Cin; ci++ {
		src := x.plane(s, n, ci)
		dst := buf[ci*b.plane : (ci+1)*b.plane]
		for i := 0; i < rows+2*p; i++ {
			row := dst[i*b.stride : (i+1)*b.stride]
			clear(row[:p])
			if sr := r0 - p + i; sr >= 0 && sr < s.H {
				copy(row[p:], src[sr*s.W:(sr+1)*s.W])
			} else {
				clear(row[p:])
			}
		}
		clear(dst[(rows+2*p)*b.stride:])
	}
	return b
}

// im2col returns the band's im2col matrix (Cin·K·K rows of cols values)
// as rows of the padded copy.
func (s Conv) im2col(b padded) mat {
	kk := s.K * s.K
	m := pooledMat(*b.buf, s.Cin*kk)
	for ci := 0; ci < s.Cin; ci++ {
		for ky := 0; ky < s.K; ky++ {
			for kx := 0; kx < s.K; kx++ {
				m.off[ci*kk+ky*s.K+kx] = ci*b.plane + ky*b.stride + kx
			}
		}
	}
	return m
}

func (b padded) free() { floats.put(b.buf) }

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
	wm := strided(w, s.Cout, kc)
	defer wm.release()
	rows := bandRows(s.Cin+s.Cout, s.H, s.W)
	forBands(s.N, s.H, rows, workers, func(n, r0, r1 int) {
		pb := s.pad(x, n, r0, r1)
		col := s.im2col(pb)
		// Accumulate into a band-sized buffer that stays in cache, then
		// write each output value once, with bias and epilogue.
		tp := floats.get(s.Cout * pb.cols)
		t := *tp
		clear(t)
		gemm(s.Cout, pb.cols, kc, wm, col, t, pb.cols)
		col.release()
		pb.free()
		yn := y[n*s.Cout*hw : (n+1)*s.Cout*hw]
		for co := 0; co < s.Cout; co++ {
			v := float32(0)
			if b != nil {
				v = b[co]
			}
			tc := t[co*pb.cols:]
			for r := r0; r < r1; r++ {
				ep.write(yn[co*hw+r*s.W:][:s.W], tc[(r-r0)*pb.stride:][:s.W], v, co)
			}
		}
		floats.put(tp)
	})
}

// write stores dst = ep(src + bias), part of output channel c.
func (ep Epilogue) write(dst, src []float32, bias float32, c int) {
	dst = dst[:len(src)]
	mode, sc, sh := 0, float32(1), float32(0)
	if ep.ReLU {
		mode |= epReLU
	}
	if ep.Scale != nil {
		mode |= epScale
		sc, sh = ep.Scale[c], ep.Shift[c]
	}
	i := 0
	if epAsm && len(src) >= 8 {
		i = len(src) &^ 7
		epilogueAVX2(&dst[0], &src[0], i, bias, sc, sh, mode)
	}
	epilogueGo(dst[i:], src[i:], bias, sc, sh, mode)
}

// The epilogue's modes: bits of its mode argument.
const (
	epReLU  = 1
	epScale = 2
)

// epilogueGo is write's loop in Go: the same operations as the AVX2
// kernel in the same order (the conversion keeps the product from being
// fused with the addition), so the two give the same bits.
func epilogueGo(dst, src []float32, bias, sc, sh float32, mode int) {
	dst = dst[:len(src)]
	switch mode {
	case epReLU | epScale:
		for i, v := range src {
			dst[i] = float32(relu32(v+bias)*sc) + sh
		}
	case epReLU:
		for i, v := range src {
			dst[i] = relu32(v + bias)
		}
	case epScale:
		for i, v := range src {
			dst[i] = float32((v+bias)*sc) + sh
		}
	default:
		for i, v := range src {
			dst[i] = v + bias
		}
	}
}

// BackwardData computes dx, the gradient with respect to the input, from
// dy. It is the convolution of dy with the flipped, transposed kernel.
func (s Conv) BackwardData(dy, w, dx []float32, workers int) {
	kk := s.K * s.K
	wtp := floats.get(len(w))
	defer floats.put(wtp)
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
// order, so the result does not depend on the worker count. The discarded
// outputs of the padded bands multiply input pixels by a zero gradient, so
// an infinite input also turns into NaN taps that PyTorch's gradient keeps
// finite; such an input has made the loss non-finite already.
func (s Conv) BackwardWeight(x, dy, dw, db []float32, workers int) {
	s.BackwardWeightCat(Cat{A: x, CA: s.Cin}, dy, dw, db, workers)
}

// BackwardWeightCat is BackwardWeight for a joined input.
func (s Conv) BackwardWeightCat(x Cat, dy, dw, db []float32, workers int) {
	kc := s.Cin * s.K * s.K
	hw := s.H * s.W
	rows := bandRows(s.Cin+s.Cout, s.H, s.W)
	// Per-sample parts (transposed: kc × Cout), pooled: a training step
	// would otherwise allocate megabytes per layer and keep the GC busy.
	partp, bpartp := floats.get(s.N*kc*s.Cout), floats.get(s.N*s.Cout)
	defer floats.put(partp)
	defer floats.put(bpartp)
	part, bpart := *partp, *bpartp
	clear(part)
	parallelFor(s.N, workers, func(n int) {
		pw := part[n*kc*s.Cout : (n+1)*kc*s.Cout]
		dyn := dy[n*s.Cout*hw : (n+1)*s.Cout*hw]
		for r0 := 0; r0 < s.H; r0 += rows {
			r1 := min(r0+rows, s.H)
			pb := s.pad(x, n, r0, r1)
			col := s.im2col(pb)
			dytp := floats.get(pb.cols * s.Cout)
			dyt := *dytp
			s.transposeBand(dyn, r0, r1, pb, dyt)
			dm := strided(dyt, pb.cols, s.Cout)
			gemm(kc, s.Cout, pb.cols, col, dm, pw, s.Cout)
			dm.release()
			col.release()
			pb.free()
			floats.put(dytp)
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

// transposeBand writes rows [r0, r1) of the output gradient dyn (one
// sample, Cout×H×W) to dyt as b.cols pixels × Cout, pixels on the padded
// band's stride; the extra pixels are zero, so they add nothing to the
// weight gradient.
func (s Conv) transposeBand(dyn []float32, r0, r1 int, b padded, dyt []float32) {
	clear(dyt)
	for r := r0; r < r1; r++ {
		transpose(dyn[r*s.W:], s.H*s.W, s.Cout, s.W, dyt[(r-r0)*b.stride*s.Cout:])
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
