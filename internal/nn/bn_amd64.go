//go:build amd64 && !purego

package nn

// bnAsm selects the AVX2 BatchNorm kernels; a variable so that tests can
// compare them with the Go loops.
var bnAsm = useAsm

// sumLanesAVX2 sets l[j] to the sum of p[i] over i < n, i ≡ j (mod 16), in
// index order; n is a positive multiple of 16.
//
//go:noescape
func sumLanesAVX2(p *float32, n int, l *[16]float64)

// sqDevLanesAVX2 is sumLanesAVX2 for the terms (p[i]−mean)².
//
//go:noescape
func sqDevLanesAVX2(p *float32, n int, mean float64, l *[16]float64)

// dotDevLanesAVX2 is sumLanesAVX2 for the terms dy[i] into s and
// dy[i]·(x[i]−mean) into t.
//
//go:noescape
func dotDevLanesAVX2(dy, x *float32, n int, mean float64, s, t *[16]float64)

// affineAVX2 writes y[i] = x[i]·scale + shift for i < n, a positive
// multiple of 8.
//
//go:noescape
func affineAVX2(x, y *float32, n int, scale, shift float32)

// gradAVX2 writes out[i] = a·dy[i] + bx·(x[i]−m) + k for i < n, a positive
// multiple of 8.
//
//go:noescape
func gradAVX2(x, dy, out *float32, n int, a, bx, k, m float32)

// gradReLUAVX2 is gradAVX2 with gradReLU32's mask on x.
//
//go:noescape
func gradReLUAVX2(x, dy, out *float32, n int, a, bx, k, m float32)
