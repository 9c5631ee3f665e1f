package bigbuf

import (
	"encoding/binary"
	"math"
	"testing"
)

func TestAsBytes(t *testing.T) {
	if AsBytes([]int16(nil)) != nil {
		t.Error("empty slice gave bytes")
	}
	s := Int16s(3)
	s[0], s[2] = 0x0102, -2
	b := AsBytes(s)
	if len(b) != 6 || binary.NativeEndian.Uint16(b[0:]) != 0x0102 || int16(binary.NativeEndian.Uint16(b[4:])) != -2 {
		t.Errorf("int16 view %v", b)
	}
	b[2] = 7 // a view, not a copy
	if s[1] == 0 {
		t.Error("writing the view did not change the slice")
	}
	f := Float32s(2)
	f[1] = 1.5
	fb := AsBytes(f)
	if len(fb) != 8 || math.Float32frombits(binary.NativeEndian.Uint32(fb[4:])) != 1.5 {
		t.Errorf("float32 view %v", fb)
	}
	if len(Bytes(5)) != 5 {
		t.Error("Bytes length")
	}
}

func TestSlab(t *testing.T) {
	var s Slab
	a, b := s.Bytes(1000), s.Bytes(3000)
	if len(a) != 1000 || cap(a) != 1000 || len(b) != 3000 || cap(b) != 3000 {
		t.Fatalf("len/cap %d/%d and %d/%d", len(a), cap(a), len(b), cap(b))
	}
	for i := range a {
		a[i] = 1
	}
	for _, v := range b {
		if v != 0 {
			t.Fatal("buffers overlap")
		}
	}
	big := s.Bytes(slabSize) // over an eighth of a block: on its own
	if len(big) != slabSize {
		t.Errorf("len %d", len(big))
	}
	// Many buffers: the blocks grow to slabSize, and no buffer spans two.
	total := 0
	for range 200 {
		p := s.Bytes(300 << 10)
		total += len(p)
		if len(p) != 300<<10 {
			t.Fatal("short buffer")
		}
	}
	if s.next != slabSize {
		t.Errorf("next block %d after %d bytes, want %d", s.next, total, slabSize)
	}
}
