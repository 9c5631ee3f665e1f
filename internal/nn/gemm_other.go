//go:build !amd64 || purego

package nn

// useAsm and use512 are false: no assembly micro-kernels on this platform.
const useAsm = false

var use512 = false

func kern4x16(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int) {
	panic("nn: kern4x16 without assembly")
}

func kern4x32(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int) {
	panic("nn: kern4x32 without assembly")
}
