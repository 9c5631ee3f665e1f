package nn

// kBlock is how many products one partial sum holds. Summing blocks of k
// separately and adding the block sums to C cuts float32 rounding error
// roughly by the square root of kBlock compared with one long running sum
// (the U-Net's convolutions sum up to 576 products); it costs one extra
// load, add and store of C per block.
const kBlock = 64

// mat is a matrix operand of gemm: row i is data[off[i]:], its elements
// contiguous. Rows need not be evenly spaced, which lets a convolution
// name the shifted rows of a zero-padded image as its im2col matrix
// without copying them (an indirect GEMM).
type mat struct {
	data []float32
	off  []int
	pool *[]int // where off came from, for release; nil if not pooled
}

// pooledMat returns a matrix of data with rows row offsets, uncomputed,
// from a pool: hand them back with release.
func pooledMat(data []float32, rows int) mat {
	p := offsets.get(rows)
	return mat{data, *p, p}
}

// strided returns the rows×cols matrix of data with row stride ld, its
// offsets pooled.
func strided(data []float32, rows, ld int) mat {
	x := pooledMat(data, rows)
	for i := range x.off {
		x.off[i] = i * ld
	}
	return x
}

// release returns x's row offsets to the pool.
func (x mat) release() {
	if x.pool != nil {
		offsets.put(x.pool)
	}
}

// gemm computes C += A·B for A (m×k), B (k×n) and row-major C (m×n, row
// stride ldc), in blocks of kBlock along k, on the AVX-512 or AVX2/FMA
// micro-kernels when the CPU has them, the ragged edges too (through
// padded copies), so every element is summed by the same instructions in
// the same order whatever the shapes and the worker count: the result
// depends only on the operands. Other CPUs use the Go loops of gemmGo.
func gemm(m, n, k int, a, b mat, c []float32, ldc int) {
	if m == 0 || n == 0 || k == 0 {
		return
	}
	// Bounds are checked once here so that the kernels may trust them.
	checkMat("A", a, m, k)
	checkMat("B", b, k, n)
	_ = c[(m-1)*ldc+n-1]
	for p := 0; p < k; p += kBlock {
		kb := min(kBlock, k-p)
		bb := mat{data: b.data, off: b.off[p : p+kb]}
		if useAsm {
			gemmBlock(m, n, kb, a, p, bb, c, ldc)
		} else {
			gemmGo(m, n, kb, a, p, bb, c, ldc)
		}
	}
}

// checkMat panics unless all rows×cols elements of x are in range.
func checkMat(name string, x mat, rows, cols int) {
	if len(x.off) < rows {
		panic("nn: gemm operand " + name + " has too few rows")
	}
	for _, o := range x.off[:rows] {
		if o < 0 || o > len(x.data)-cols {
			panic("nn: gemm operand " + name + " out of range")
		}
	}
}

// gemmBlock is gemm for k ≤ kBlock on the assembly kernels, A's columns
// counted from column a0: blocks of 8 rows × 32 or 16 columns with
// AVX-512, 4 × 16 with AVX2.
func gemmBlock(m, n, k int, a mat, a0 int, b mat, c []float32, ldc int) {
	mr := 4
	if use512 {
		mr = 8
	}
	mb, n16 := m-m%mr, n&^15
	for j := 0; j < n16; {
		w := 16
		if use512 && j+32 <= n16 {
			w = 32
		}
		for i := 0; i < mb; i += mr {
			kernel(mr, w, k, a, a0, a.off[i:i+mr], b, j, c[i*ldc+j:], ldc)
		}
		if mb < m {
			edgeRows(mr, m-mb, w, k, a, a0, a.off[mb:m], b, j, c[mb*ldc+j:], ldc)
		}
		j += w
	}
	if n16 < n {
		edgeCols(m, n-n16, k, a, a0, b, n16, c[n16:], ldc)
	}
}

// kernel adds rows aoff (mr of them) of A times columns [j, j+w) of B to
// the mr×w block of C at c, on the micro-kernel of that shape. All the
// kernels sum each element of C alike (from zero, one FMA per product in
// order, then added to C), so they give the same bits.
func kernel(mr, w, k int, a mat, a0 int, aoff []int, b mat, j int, c []float32, ldc int) {
	_ = c[(mr-1)*ldc+w-1]
	_ = aoff[mr-1]
	switch {
	case mr == 8 && w == 32:
		kern8x32(k, &a.data[a0], &aoff[0], &b.data[j], &b.off[0], &c[0], ldc)
	case mr == 8 && w == 16:
		kern8x16(k, &a.data[a0], &aoff[0], &b.data[j], &b.off[0], &c[0], ldc)
	case mr == 4 && w == 16:
		kern4x16(k, &a.data[a0], &aoff[0], &b.data[j], &b.off[0], &c[0], ldc)
	default:
		panic("nn: no micro-kernel for this block")
	}
}

// edgeRows is kernel for the last r < mr rows: the missing rows repeat the
// last one and their sums go to a scratch block that is then added to C,
// which gives the same bits as the kernel adding to C itself.
func edgeRows(mr, r, w, k int, a mat, a0 int, rows []int, b mat, j int, c []float32, ldc int) {
	var aoff [8]int
	for i := range aoff[:mr] {
		aoff[i] = rows[min(i, r-1)]
	}
	var t [8 * 32]float32 // the largest block; the kernels do not keep it
	kernel(mr, w, k, a, a0, aoff[:mr], b, j, t[:], w)
	for i := 0; i < r; i++ {
		addTo(c[i*ldc:i*ldc+w], t[i*w:(i+1)*w])
	}
}

// edgeCols is gemmBlock for the last r < 16 columns of B, starting at
// column j: they are copied into a zero-padded k×16 block, multiplied
// into a scratch C and the r real columns added to C.
func edgeCols(m, r, k int, a mat, a0 int, b mat, j int, c []float32, ldc int) {
	bp, tp := floats.get(k*16), floats.get(m*16)
	defer floats.put(bp)
	defer floats.put(tp)
	bs, t := *bp, *tp
	clear(bs)
	clear(t)
	for p, o := range b.off[:k] {
		copy(bs[p*16:p*16+r], b.data[o+j:o+j+r])
	}
	bm := strided(bs, k, 16)
	defer bm.release()
	gemmBlock(m, 16, k, a, a0, bm, t, 16)
	for i := 0; i < m; i++ {
		addTo(c[i*ldc:i*ldc+r], t[i*16:i*16+r])
	}
}

// gemmGo is the portable C += A·B for k ≤ kBlock: four rows at a time,
// each sum over k accumulated from zero in a small buffer and then added to
// C, as the assembly kernels do.
func gemmGo(m, n, k int, a mat, a0 int, b mat, c []float32, ldc int) {
	accp := floats.get(4 * n)
	defer floats.put(accp)
	acc := *accp
	i := 0
	for ; i+4 <= m; i += 4 {
		clear(acc)
		a0s, a1s, a2s, a3s := acc[:n], acc[n:2*n], acc[2*n:3*n], acc[3*n:4*n]
		r0, r1, r2, r3 := a.data[a.off[i]+a0:], a.data[a.off[i+1]+a0:], a.data[a.off[i+2]+a0:], a.data[a.off[i+3]+a0:]
		for p := 0; p < k; p++ {
			v0, v1, v2, v3 := r0[p], r1[p], r2[p], r3[p]
			bp := b.data[b.off[p]:][:n]
			for j, bv := range bp {
				a0s[j] += v0 * bv
				a1s[j] += v1 * bv
				a2s[j] += v2 * bv
				a3s[j] += v3 * bv
			}
		}
		for r := 0; r < 4; r++ {
			addTo(c[(i+r)*ldc:(i+r)*ldc+n], acc[r*n:(r+1)*n])
		}
	}
	for ; i < m; i++ {
		s := acc[:n]
		clear(s)
		row := a.data[a.off[i]+a0:]
		for p := 0; p < k; p++ {
			av := row[p]
			bp := b.data[b.off[p]:][:n]
			for j, bv := range bp {
				s[j] += av * bv
			}
		}
		addTo(c[i*ldc:i*ldc+n], s)
	}
}

// addTo adds src to dst element-wise.
func addTo(dst, src []float32) {
	dst = dst[:len(src)]
	for j, v := range src {
		dst[j] += v
	}
}
