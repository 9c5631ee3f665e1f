//go:build amd64 && !purego

package nn

import "golang.org/x/sys/cpu"

// hasAsm reports whether the AVX2/FMA micro-kernel may run on this CPU;
// useAsm whether it does and use512 whether the AVX-512 ones do too
// (variables so that tests can compare them with the Go loops). Package
// cpu also checks that the OS saves the YMM and ZMM registers.
var (
	hasAsm = cpu.X86.HasAVX2 && cpu.X86.HasFMA
	useAsm = hasAsm
	use512 = useAsm && cpu.X86.HasAVX512F
)

// The micro-kernels (gemm_kernels_amd64.s, made by gen_kernels.go)
// compute C[0:R][0:W] += A[0:R][0:k]·B[0:k][0:W], row r of A starting at
// a[aoff[r]] and row p of B at b[boff[p]] (offsets in elements), C's
// rows ldc elements apart; the caller guarantees the bounds. kern4x16
// needs AVX2 and FMA, the others AVX-512.

//go:generate go run gen_kernels.go

//go:noescape
func kern4x16(k int, a *float32, aoff *int, b *float32, boff *int, c *float32, ldc int)

//go:noescape
func kern8x16(k int, a *float32, aoff *int, b *float32, boff *int, c *float32, ldc int)

//go:noescape
func kern8x32(k int, a *float32, aoff *int, b *float32, boff *int, c *float32, ldc int)
