//go:build !amd64 || purego

package augment

// No assembly noise kernels on this platform.
var noiseAsm = false

// philoxAVX2 panics: callers check the assembly variable first.
func philoxAVX2(out *uint32, stride int, ctr *[4]uint32, key *[2]uint32, n int) {
	panic("augment: philoxAVX2 without assembly")
}

// boxMullerAVX2 panics: callers check the assembly variable first.
func boxMullerAVX2(a, b *uint32, s, c *float64, n int) {
	panic("augment: boxMullerAVX2 without assembly")
}
