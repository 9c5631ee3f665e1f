//go:build !amd64 || purego

package nn

// No assembly micro-kernels on this platform.
var hasAsm, useAsm, use512 = false, false, false

// kern4x16 panics: callers check the assembly variable first.
func kern4x16(k int, a *float32, aoff *int, b *float32, boff *int, c *float32, ldc int) {
	panic("nn: kern4x16 without assembly")
}

// kern8x16 panics: callers check the assembly variable first.
func kern8x16(k int, a *float32, aoff *int, b *float32, boff *int, c *float32, ldc int) {
	panic("nn: kern8x16 without assembly")
}

// kern8x32 panics: callers check the assembly variable first.
func kern8x32(k int, a *float32, aoff *int, b *float32, boff *int, c *float32, ldc int) {
	panic("nn: kern8x32 without assembly")
}
