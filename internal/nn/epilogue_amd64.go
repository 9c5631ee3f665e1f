//go:build amd64 && !purego

package nn

// epAsm selects the AVX2 epilogue kernel; a variable so that tests can
// compare it with the Go loop.
var epAsm = useAsm

// epilogueAVX2 is epilogueGo on n elements, a positive multiple of 8.
//
//go:noescape
func epilogueAVX2(dst, src *float32, n int, bias, scale, shift float32, mode int)
