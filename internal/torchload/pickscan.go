package torchload

import (
	"bytes"
	"encoding/binary"
	"fmt"
)

// Argument kinds of pickle opcodes (Python's pickletools).
const (
	argNone   = iota
	argFixed  // n bytes (n in the table)
	argLen1   // 1-byte length, then that many bytes
	argLen4   // 4-byte little-endian length, then that many bytes
	argLen8   // 8-byte little-endian length, then that many bytes
	argLine   // text up to a newline
	argLine2  // two newline-terminated lines (GLOBAL, INST)
	argFrame8 // 8-byte frame size, then the frame's opcodes
)

type opArg struct{ kind, n int }

// pickleOps describes the argument of every opcode of protocols 0–5.
var pickleOps = func() map[byte]opArg {
	m := map[byte]opArg{}
	for _, op := range []byte("N\x88\x89]ael)t\x85\x86\x87}dsu\x8f\x90\x910\x32(1\x94\x93RboQ\x81\x92\x97\x98.") {
		m[op] = opArg{argNone, 0}
	}
	for op, n := range map[byte]int{'J': 4, 'K': 1, 'M': 2, 'G': 8, 'h': 1, 'j': 4, 'q': 1, 'r': 4, 0x82: 1, 0x83: 2, 0x84: 4, 0x80: 1} {
		m[op] = opArg{argFixed, n}
	}
	for _, op := range []byte("ILSVFgpP") {
		m[op] = opArg{argLine, 0}
	}
	m['c'], m['i'] = opArg{argLine2, 0}, opArg{argLine2, 0}
	for _, op := range []byte{0x8a, 'U', 'C', 0x8c} {
		m[op] = opArg{argLen1, 0}
	}
	for _, op := range []byte{0x8b, 'T', 'B', 'X'} {
		m[op] = opArg{argLen4, 0}
	}
	for _, op := range []byte{0x8e, 0x8d, 0x96} {
		m[op] = opArg{argLen8, 0}
	}
	m[0x95] = opArg{argFrame8, 0}
	return m
}()

// pickleEnd walks the opcodes of the pickle starting at b[0] without
// building anything and returns the offset just past its STOP. It checks
// that every length-prefixed argument fits in the bytes present, because
// gopickle allocates whatever a length field asks for before reading: a
// corrupt 4-byte length would otherwise cost gigabytes.
func pickleEnd(b []byte) (int, error) {
	pos := 0
	for pos < len(b) {
		op := b[pos]
		arg, ok := pickleOps[op]
		if !ok {
			return 0, fmt.Errorf("pickle: unknown opcode 0x%02x at byte %d", op, pos)
		}
		pos++
		n, err := argSize(b[pos:], arg)
		if err != nil {
			return 0, fmt.Errorf("pickle: opcode 0x%02x at byte %d: %w", op, pos-1, err)
		}
		pos += n
		if op == '.' {
			return pos, nil
		}
	}
	return 0, fmt.Errorf("pickle: no STOP opcode before the end of the data (%d bytes)", len(b))
}

// argSize is the byte length of an opcode's argument at the start of b.
func argSize(b []byte, arg opArg) (int, error) {
	var prefix int
	var n uint64
	switch arg.kind {
	case argNone:
		return 0, nil
	case argFixed:
		n = uint64(arg.n)
	case argLen1, argLen4, argLen8:
		prefix = map[int]int{argLen1: 1, argLen4: 4, argLen8: 8}[arg.kind]
		if len(b) < prefix {
			return 0, fmt.Errorf("truncated length")
		}
		n = lengthField(b[:prefix])
	case argLine:
		return lineEnd(b, 1)
	case argLine2:
		return lineEnd(b, 2)
	case argFrame8:
		// The frame's contents are ordinary opcodes, walked next, but
		// gopickle allocates the frame size up front: bound it too.
		if len(b) < 8 || binary.LittleEndian.Uint64(b) > uint64(len(b)-8) {
			return 0, fmt.Errorf("frame runs past the end of the data")
		}
		n = 8
	}
	if n > uint64(len(b)-prefix) {
		return 0, fmt.Errorf("argument of %d bytes runs past the end of the data", n)
	}
	return prefix + int(n), nil
}

// lengthField decodes a little-endian length of 1, 4 or 8 bytes.
func lengthField(b []byte) uint64 {
	switch len(b) {
	case 1:
		return uint64(b[0])
	case 4:
		return uint64(binary.LittleEndian.Uint32(b))
	}
	return binary.LittleEndian.Uint64(b)
}

// lineEnd is the length of the first `lines` newline-terminated lines.
func lineEnd(b []byte, lines int) (int, error) {
	n := 0
	for range lines {
		i := bytes.IndexByte(b[n:], '\n')
		if i < 0 {
			return 0, fmt.Errorf("unterminated text argument")
		}
		n += i + 1
	}
	return n, nil
}
