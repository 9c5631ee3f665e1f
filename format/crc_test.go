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
