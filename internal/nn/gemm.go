package nn

// kBlock is how many products one partial sum holds. Summing blocks of k
// separately and adding the block sums to C cuts float32 rounding error
// roughly by the square root of kBlock compared with one long running sum
// (the U-Net's convolutions sum up to 576 products); it costs one extra
// load, add and store of C per block.
const kBlock = 64

// gemm computes C += A·B for row-major A (m×k, row stride lda), B (k×n,
// stride ldb) and C (m×n, stride ldc), in blocks of kBlock along k. Blocks
// of 4 rows × 32 columns go to the AVX-512 micro-kernel and 4 × 16 to the
// AVX2/FMA one when the CPU has them; the edges (and everything on other CPUs) use the Go loops
// below. Every element's sum runs in the same order whatever the worker
// count, so the result depends only on the operands.
func gemm(m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	for p := 0; p < k; p += kBlock {
		kb := min(kBlock, k-p)
		gemmBlock(m, n, kb, a[p:], lda, b[p*ldb:], ldb, c, ldc)
	}
}

// gemmBlock is gemm for k ≤ kBlock.
func gemmBlock(m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	if m == 0 || n == 0 || k == 0 {
		return
	}
	// Bounds are checked once here so that the kernels may trust them.
	_ = a[(m-1)*lda+k-1]
	_ = b[(k-1)*ldb+n-1]
	_ = c[(m-1)*ldc+n-1]
	m4, n16 := 0, 0
	if useAsm {
		m4, n16 = m&^3, n&^15
		j := 0
		if use512 {
			for ; j+32 <= n16; j += 32 {
				for i := 0; i < m4; i += 4 {
					kern4x32(k, &a[i*lda], lda, &b[j], ldb, &c[i*ldc+j], ldc)
				}
			}
		}
		for ; j < n16; j += 16 {
			for i := 0; i < m4; i += 4 {
				kern4x16(k, &a[i*lda], lda, &b[j], ldb, &c[i*ldc+j], ldc)
			}
		}
	}
	if n16 > 0 && m4 < m {
		// Rows below the 4-row blocks, over the 16-column blocks.
		gemmGo(m-m4, n16, k, a[m4*lda:], lda, b, ldb, c[m4*ldc:], ldc)
	}
	if n16 < n {
		// Columns right of the 16-column blocks, all rows.
		gemmGo(m, n-n16, k, a, lda, b[n16:], ldb, c[n16:], ldc)
	}
}

// gemmGo is the portable C += A·B for k ≤ kBlock: four rows at a time,
// each sum over k accumulated from zero in a small buffer and then added to
// C, as the assembly kernel does.
func gemmGo(m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	if m <= 0 || n <= 0 {
		return
	}
	accp := getBuf(4 * n)
	defer putBuf(accp)
	acc := *accp
	i := 0
	for ; i+4 <= m; i += 4 {
		clear(acc)
		a0s, a1s, a2s, a3s := acc[:n], acc[n:2*n], acc[2*n:3*n], acc[3*n:4*n]
		for p := 0; p < k; p++ {
			a0, a1, a2, a3 := a[i*lda+p], a[(i+1)*lda+p], a[(i+2)*lda+p], a[(i+3)*lda+p]
			bp := b[p*ldb : p*ldb+n]
			for j, bv := range bp {
				a0s[j] += a0 * bv
				a1s[j] += a1 * bv
				a2s[j] += a2 * bv
				a3s[j] += a3 * bv
			}
		}
		for r := 0; r < 4; r++ {
			addTo(c[(i+r)*ldc:(i+r)*ldc+n], acc[r*n:(r+1)*n])
		}
	}
	for ; i < m; i++ {
		s := acc[:n]
		clear(s)
		for p := 0; p < k; p++ {
			av := a[i*lda+p]
			bp := b[p*ldb : p*ldb+n]
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
