//go:build amd64 && !purego

package nn

// hasAsm reports whether the AVX2/FMA micro-kernel may run on this CPU;
// useAsm whether it does and use512 whether the AVX-512 one does too
// (variables so that tests can compare them with the Go loops).
var (
	hasAsm = hasAVX2FMA()
	useAsm = hasAsm
	use512 = useAsm && hasAVX512()
)

// hasAVX512 reports AVX-512F with the OS saving the ZMM and mask registers.
func hasAVX512() bool {
	if eax, _ := xgetbv(); eax&0xe6 != 0xe6 {
		return false
	}
	_, b7, _, _ := cpuid(7, 0)
	return b7&(1<<16) != 0
}

func hasAVX2FMA() bool {
	_, _, c1, _ := cpuid(1, 0)
	const fma, osxsave, avx = 1 << 12, 1 << 27, 1 << 28
	if c1&fma == 0 || c1&osxsave == 0 || c1&avx == 0 {
		return false
	}
	// The OS must save the YMM registers on context switches.
	if eax, _ := xgetbv(); eax&6 != 6 {
		return false
	}
	_, b7, _, _ := cpuid(7, 0)
	return b7&(1<<5) != 0
}

// cpuid executes CPUID with the given leaf and sub-leaf.
func cpuid(leaf, sub uint32) (eax, ebx, ecx, edx uint32)

// xgetbv reads extended control register 0.
func xgetbv() (eax, edx uint32)

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
