package format

import (
	"hash/crc32"
	"math/rand"
	"testing"
)

func TestCRCCombine(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	data := make([]byte, 1<<16)
	rng.Read(data)
	for _, split := range []int{0, 1, 2, 3, 7, 100, 4096, 65535, 65536} {
		a, b := data[:split], data[split:]
		got := crcCombine(crc32.Checksum(a, castagnoli), crc32.Checksum(b, castagnoli), int64(len(b)))
		if want := crc32.Checksum(data, castagnoli); got != want {
			t.Errorf("split at %d: %08x, want %08x", split, got, want)
		}
	}
}

func TestCRCCombineLengths(t *testing.T) {
	rng := rand.New(rand.NewSource(4))
	for _, n := range []int{1, 2, 255, 256, 1 << 20, 1<<20 + 3} {
		a, b := make([]byte, 17), make([]byte, n)
		rng.Read(a)
		rng.Read(b)
		for range 2 { // built, then from the cache
			got := crcCombine(crc32.Checksum(a, castagnoli), crc32.Checksum(b, castagnoli), int64(n))
			if want := crc32.Checksum(append(a, b...), castagnoli); got != want {
				t.Errorf("len(b) %d: %08x, want %08x", n, got, want)
			}
		}
	}
}
