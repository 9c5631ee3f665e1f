package nn

// ConvT is PyTorch's ConvTranspose2d(Cin, Cout, kernel_size=2, stride=2):
// input N×Cin×H×W, weight Cin×Cout×2×2, bias Cout, output N×Cout×2H×2W.
// Every output pixel receives exactly one input pixel, so the layer is one
// matrix product per sample followed by a scatter.
type ConvT struct{ N, Cin, Cout, H, W int }

// Forward computes y = convtranspose(x, w) + b.
func (s ConvT) Forward(x, w, b, y []float32, workers int) {
	c4 := s.Cout * 4
	hw := s.H * s.W
	wtp := floats.get(len(w)) // c4 × Cin
	defer floats.put(wtp)
	wt := *wtp
	transpose(w, c4, s.Cin, c4, wt)
	wm := strided(wt, c4, s.Cin)
	defer wm.release()
	rows := bandRows(c4, s.H, s.W)
	forBands(s.N, s.H, rows, workers, func(n, r0, r1 int) {
		npx := (r1 - r0) * s.W
		tp := floats.get(c4 * npx)
		t := *tp
		clear(t)
		xm := strided(x[n*s.Cin*hw+r0*s.W:], s.Cin, hw)
		gemm(c4, npx, s.Cin, wm, xm, t, npx)
		xm.release()
		yn := y[n*s.Cout*4*hw : (n+1)*s.Cout*4*hw]
		w2 := 2 * s.W
		for co := 0; co < s.Cout; co++ {
			for k := 0; k < 4; k++ {
				dy, dx := k/2, k%2
				src := t[(co*4+k)*npx:][:npx]
				for r := r0; r < r1; r++ {
					dst := yn[co*4*hw+(2*r+dy)*w2+dx:]
					row := src[(r-r0)*s.W : (r-r0+1)*s.W]
					for c, v := range row {
						dst[2*c] = v + b[co]
					}
				}
			}
		}
		floats.put(tp)
	})
}

// gather copies the gradient of output rows [r0, r1) of sample dyn into g
// laid out as (co·4 + dy·2 + dx) × pixel, or, when transposed, pixel ×
// (co·4 + dy·2 + dx).
func (s ConvT) gather(dyn []float32, r0, r1 int, g []float32, transposed bool) {
	hw := s.H * s.W
	npx := (r1 - r0) * s.W
	w2 := 2 * s.W
	c4 := s.Cout * 4
	for co := 0; co < s.Cout; co++ {
		for k := 0; k < 4; k++ {
			dy, dx := k/2, k%2
			row := co*4 + k
			for r := r0; r < r1; r++ {
				src := dyn[co*4*hw+(2*r+dy)*w2+dx:]
				base := (r - r0) * s.W
				for c := 0; c < s.W; c++ {
					if transposed {
						g[(base+c)*c4+row] = src[2*c]
					} else {
						g[row*npx+base+c] = src[2*c]
					}
				}
			}
		}
	}
}

// BackwardData computes dx from dy: dx = wᵀ-product of the gathered dy.
func (s ConvT) BackwardData(dy, w, dx []float32, workers int) {
	c4 := s.Cout * 4
	hw := s.H * s.W
	wm := strided(w, s.Cin, c4)
	defer wm.release()
	rows := bandRows(c4, s.H, s.W)
	forBands(s.N, s.H, rows, workers, func(n, r0, r1 int) {
		npx := (r1 - r0) * s.W
		gp := floats.get(c4 * npx)
		g := *gp
		s.gather(dy[n*c4*hw:(n+1)*c4*hw], r0, r1, g, false)
		dxn := dx[n*s.Cin*hw:]
		for ci := 0; ci < s.Cin; ci++ {
			clear(dxn[ci*hw+r0*s.W : ci*hw+r1*s.W])
		}
		gm := strided(g, c4, npx)
		gemm(s.Cin, npx, c4, wm, gm, dxn[r0*s.W:], hw)
		gm.release()
		floats.put(gp)
	})
}

// BackwardWeight computes dw (Cin×Cout×2×2) and db (Cout), overwriting
// them, summing per-sample parts in sample order.
func (s ConvT) BackwardWeight(x, dy, dw, db []float32, workers int) {
	c4 := s.Cout * 4
	hw := s.H * s.W
	rows := bandRows(c4, s.H, s.W)
	partp, bpartp := floats.get(s.N*s.Cin*c4), floats.get(s.N*s.Cout)
	defer floats.put(partp)
	defer floats.put(bpartp)
	part, bpart := *partp, *bpartp
	clear(part)
	parallelFor(s.N, workers, func(n int) {
		pw := part[n*s.Cin*c4 : (n+1)*s.Cin*c4]
		dyn := dy[n*c4*hw : (n+1)*c4*hw]
		for r0 := 0; r0 < s.H; r0 += rows {
			r1 := min(r0+rows, s.H)
			npx := (r1 - r0) * s.W
			gp := floats.get(npx * c4)
			g := *gp
			s.gather(dyn, r0, r1, g, true)
			xm, gm := strided(x[n*s.Cin*hw+r0*s.W:], s.Cin, hw), strided(g, npx, c4)
			gemm(s.Cin, c4, npx, xm, gm, pw, c4)
			xm.release()
			gm.release()
			floats.put(gp)
		}
		for co := 0; co < s.Cout; co++ {
			bpart[n*s.Cout+co] = sum32(dyn[co*4*hw : (co+1)*4*hw])
		}
	})
	for i := 0; i < s.Cin*c4; i++ {
		v := float32(0)
		for n := 0; n < s.N; n++ {
			v += part[n*s.Cin*c4+i]
		}
		dw[i] = v
	}
	for co := 0; co < s.Cout; co++ {
		v := float32(0)
		for n := 0; n < s.N; n++ {
			v += bpart[n*s.Cout+co]
		}
		db[co] = v
	}
}
