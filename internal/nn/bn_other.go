//go:build !amd64 || purego

package nn

// bnAsm is false: no assembly BatchNorm kernels on this platform. It is a
// variable, as on amd64, so that the tests compile everywhere.
var bnAsm = false

// sumLanesAVX2 panics: bn.go calls it only when bnAsm is set.
func sumLanesAVX2(p *float32, n int, l *[16]float64) {
	panic("nn: sumLanesAVX2 without assembly")
}

// sqDevLanesAVX2 panics: bn.go calls it only when bnAsm is set.
func sqDevLanesAVX2(p *float32, n int, mean float64, l *[16]float64) {
	panic("nn: sqDevLanesAVX2 without assembly")
}

// dotDevLanesAVX2 panics: bn.go calls it only when bnAsm is set.
func dotDevLanesAVX2(dy, x *float32, n int, mean float64, s, t *[16]float64) {
	panic("nn: dotDevLanesAVX2 without assembly")
}

// affineAVX2 panics: bn.go calls it only when bnAsm is set.
func affineAVX2(x, y *float32, n int, scale, shift float32) {
	panic("nn: affineAVX2 without assembly")
}

// gradAVX2 panics: bn.go calls it only when bnAsm is set.
func gradAVX2(x, dy, out *float32, n int, a, bx, k, m float32) {
	panic("nn: gradAVX2 without assembly")
}

// gradReLUAVX2 panics: bn.go calls it only when bnAsm is set.
func gradReLUAVX2(x, dy, out *float32, n int, a, bx, k, m float32) {
	panic("nn: gradReLUAVX2 without assembly")
}
