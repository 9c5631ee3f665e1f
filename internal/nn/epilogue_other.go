//go:build !amd64 || purego

package nn

// No assembly epilogue on this platform.
var epAsm = false

// epilogueAVX2 panics: callers check the assembly variable first.
func epilogueAVX2(dst, src *float32, n int, bias, scale, shift float32, mode int) {
	panic("nn: epilogueAVX2 without assembly")
}
