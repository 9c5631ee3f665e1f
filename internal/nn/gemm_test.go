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
	for _, sz := range [][3]int{{4, 16, 5}, {7, 37, 13}, {64, 256, 576}, {1, 16, 16}, {63, 33, 1}, {5, 3, 0}} {
		m, n, k := sz[0], sz[1], sz[2]
		lda, ldb, ldc := k+3, n+5, n+2
		a := randSlice(r, m*lda+1)
		b := randSlice(r, (k+1)*ldb)
		c := randSlice(r, m*ldc)
		want := naiveGemm(m, n, k, a, lda, b, ldb, c, ldc)
		gemm(m, n, k, a, lda, b, ldb, c, ldc)
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
	m, n, k := 16, 96, 150
	a, b := randSlice(r, m*k), randSlice(r, k*n)
	c1, c2 := make([]float32, m*n), make([]float32, m*n)
	gemm(m, n, k, a, k, b, n, c1, n)
	use512 = false
	gemm(m, n, k, a, k, b, n, c2, n)
	for i := range c1 {
		if math.Float32bits(c1[i]) != math.Float32bits(c2[i]) {
			t.Fatalf("C[%d]: AVX-512 %v, AVX2 %v", i, c1[i], c2[i])
		}
	}
}
