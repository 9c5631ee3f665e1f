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
