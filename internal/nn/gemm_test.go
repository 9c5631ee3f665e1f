package nn

import (
	"math"
	"math/rand/v2"
	"testing"
)

// naiveGemm is the textbook triple loop in float64, the reference.
func naiveGemm(m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) []float64 {
	out := make([]float64, m*n)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			s := float64(c[i*ldc+j])
			for p := 0; p < k; p++ {
				s += float64(a[i*lda+p]) * float64(b[p*ldb+j])
			}
			out[i*n+j] = s
		}
	}
	return out
}

func randSlice(r *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(r.NormFloat64())
	}
	return s
}

func TestGemm(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, sz := range [][3]int{{4, 16, 5}, {7, 37, 13}, {64, 256, 576}, {1, 16, 16}, {63, 33, 1}, {5, 3, 0}, {6, 50, 130}, {3, 9, 70}} {
		m, n, k := sz[0], sz[1], sz[2]
		lda, ldb, ldc := k+3, n+5, n+2
		a := randSlice(r, m*lda+1)
		b := randSlice(r, (k+1)*ldb)
		c := randSlice(r, m*ldc)
		want := naiveGemm(m, n, k, a, lda, b, ldb, c, ldc)
		gemm(m, n, k, strided(a, m, lda), strided(b, k, ldb), c, ldc)
		for i := 0; i < m; i++ {
			for j := 0; j < n; j++ {
				if d := math.Abs(float64(c[i*ldc+j]) - want[i*n+j]); d > 1e-4*math.Sqrt(float64(k+1)) {
					t.Fatalf("%v: C[%d][%d] = %v, want %v", sz, i, j, c[i*ldc+j], want[i*n+j])
				}
			}
		}
	}
	t.Logf("assembly kernels in use: AVX2 %v, AVX-512 %v", useAsm, use512)
}

// TestGemmKernelsAgree: the AVX-512 and AVX2 kernels sum each element in
// the same order, so they give the same bits (and so do checkpoints made
// on either kind of CPU).
func TestGemmKernelsAgree(t *testing.T) {
	if !use512 {
		t.Skip("no AVX-512 on this CPU")
	}
	defer func() { use512 = true }()
	r := rand.New(rand.NewPCG(5, 5))
	for _, sz := range [][3]int{{16, 96, 150}, {7, 101, 70}} {
		m, n, k := sz[0], sz[1], sz[2]
		a, b := randSlice(r, m*k), randSlice(r, k*n)
		c1, c2 := make([]float32, m*n), make([]float32, m*n)
		use512 = true
		gemm(m, n, k, strided(a, m, k), strided(b, k, n), c1, n)
		use512 = false
		gemm(m, n, k, strided(a, m, k), strided(b, k, n), c2, n)
		for i := range c1 {
			if math.Float32bits(c1[i]) != math.Float32bits(c2[i]) {
				t.Fatalf("%v: C[%d]: AVX-512 %v, AVX2 %v", sz, i, c1[i], c2[i])
			}
		}
	}
}

// TestGemmEdgesAgree: a product's ragged rows and columns run on the same
// kernel as the rest (through padded copies), so an element of C has the
// same bits whether or not it lies on an edge of the matrices.
func TestGemmEdgesAgree(t *testing.T) {
	if !useAsm {
		t.Skip("no assembly kernels on this CPU")
	}
	r := rand.New(rand.NewPCG(6, 6))
	m, n, k := 11, 75, 90
	a, b := randSlice(r, m*k), randSlice(r, k*n)
	whole := make([]float32, m*n)
	gemm(m, n, k, strided(a, m, k), strided(b, k, n), whole, n)
	// Row 10 and column 70 lie in the edges of the whole product and in
	// the 4×16 interior of a product of rows 7–10 with columns 59–74.
	part := make([]float32, 4*16)
	gemm(4, 16, k, strided(a[7*k:], 4, k), strided(b[59:], k, n), part, 16)
	for i := 0; i < 4; i++ {
		for j := 0; j < 16; j++ {
			if got, want := part[i*16+j], whole[(7+i)*n+59+j]; math.Float32bits(got) != math.Float32bits(want) {
				t.Fatalf("C[%d][%d]: %v in the interior, %v on the edge", 7+i, 59+j, got, want)
			}
		}
	}
}

// TestGemmRowOffsets: rows of A and B may lie anywhere in their slices
// (the indirect GEMM of the convolutions).
func TestGemmRowOffsets(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	m, n, k := 9, 40, 70
	data := randSlice(r, 2000)
	a, b := mat{data: data, off: make([]int, m)}, mat{data: data, off: make([]int, k)}
	for i := range a.off {
		a.off[i] = r.IntN(len(data) - k)
	}
	for p := range b.off {
		b.off[p] = r.IntN(len(data) - n)
	}
	c := randSlice(r, m*n)
	want := make([]float64, m*n)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			v := float64(c[i*n+j])
			for p := 0; p < k; p++ {
				v += float64(data[a.off[i]+p]) * float64(data[b.off[p]+j])
			}
			want[i*n+j] = v
		}
	}
	for _, asm := range []bool{true, false} {
		if asm && !useAsm {
			continue
		}
		got := append([]float32(nil), c...)
		useAsm = asm
		gemm(m, n, k, a, b, got, n)
		useAsm = hasAsm
		for i, w := range want {
			if d := math.Abs(float64(got[i]) - w); d > 1e-4*math.Sqrt(float64(k+1)) {
				t.Fatalf("assembly %v: C[%d] = %v, want %v", asm, i, got[i], w)
			}
		}
	}
}
