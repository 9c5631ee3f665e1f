//go:build amd64 && !purego

package augment

import "golang.org/x/sys/cpu"

// noiseAsm selects the AVX2 noise kernels; a variable so that tests can
// compare them with the Go code.
var noiseAsm = cpu.X86.HasAVX2

// philoxAVX2 computes the Philox4x32 blocks of counters (ctr[0]+l, ctr[1],
// ctr[2], ctr[3]) under key for l < n, a positive multiple of 8, and
// writes word w of block l to out[w·stride + l].
//
//go:noescape
func philoxAVX2(out *uint32, stride int, ctr *[4]uint32, key *[2]uint32, n int)

// boxMullerAVX2 sets s[i], c[i] = BoxMuller(a[i], b[i]) for i < n, a
// positive multiple of 4.
//
//go:noescape
func boxMullerAVX2(a, b *uint32, s, c *float64, n int)
