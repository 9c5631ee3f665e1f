package tbevent

// A minimal event-file reader that shares no code with the writer: its
// CRC-32C is computed bit by bit from the polynomial, its mask from the
// spec, and it walks the protobuf wire format field by field, failing on
// any field or wire type that event.proto and summary.proto do not give.

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"

	"google.golang.org/protobuf/encoding/protowire"
)

// crc32cRef is CRC-32C (Castagnoli, reflected polynomial 0x82F63B78),
// one bit at a time.
func crc32cRef(p []byte) uint32 {
	crc := ^uint32(0)
	for _, b := range p {
		crc ^= uint32(b)
		for range 8 {
			if crc&1 != 0 {
				crc = crc>>1 ^ 0x82F63B78
			} else {
				crc >>= 1
			}
		}
	}
	return ^crc
}

// maskRef and unmaskRef are TensorFlow's crc32c::Mask and Unmask.
func maskRef(crc uint32) uint32 { return bits.RotateLeft32(crc, -15) + 0xa282ead8 }
func unmaskRef(m uint32) uint32 { return bits.RotateLeft32(m-0xa282ead8, 15) }
func maskedRef(p []byte) uint32 { return maskRef(crc32cRef(p)) }

func le32(p []byte) uint32 { return binary.LittleEndian.Uint32(p) }

// i32 decodes an int32 varint, which protobuf sign-extends to 64 bits.
func i32(v uint64) (int32, error) {
	x := int64(v)
	if x != int64(int32(x)) {
		return 0, fmt.Errorf("%d overflows int32", x)
	}
	return int32(x), nil
}

// readRecords splits a TFRecord stream into its payloads, checking both
// CRCs of every record and that nothing trails the last one.
func readRecords(b []byte) ([][]byte, error) {
	var out [][]byte
	for off := 0; off < len(b); {
		if len(b)-off < 12 {
			return nil, fmt.Errorf("record %d: truncated header", len(out))
		}
		hdr := b[off : off+8]
		if got, want := le32(b[off+8:]), maskedRef(hdr); got != want {
			return nil, fmt.Errorf("record %d: length CRC %#x, want %#x", len(out), got, want)
		}
		n := binary.LittleEndian.Uint64(hdr)
		off += 12
		if uint64(len(b)-off) < n+4 {
			return nil, fmt.Errorf("record %d: truncated data", len(out))
		}
		data := b[off : off+int(n)]
		if got, want := le32(b[off+int(n):]), maskedRef(data); got != want {
			return nil, fmt.Errorf("record %d: data CRC %#x, want %#x", len(out), got, want)
		}
		out = append(out, data)
		off += int(n) + 4
	}
	return out, nil
}

// Decoded messages. Pointers tell "absent" from "zero" where the test
// needs to.
type tEvent struct {
	WallTime    *float64
	Step        int64
	FileVersion *string
	Summary     *tSummary
	SessionLog  *int64 // SessionLog.status
}

type tSummary struct{ Values []tValue }

type tValue struct {
	Tag         string
	SimpleValue *float32
	Image       *tImage
}

type tImage struct {
	Height, Width, Colorspace int32
	PNG                       []byte
}

// field is one decoded wire field.
type field struct {
	num protowire.Number
	typ protowire.Type
	v   uint64 // varint, fixed32, fixed64
	b   []byte // bytes
}

// fields walks a message, returning its fields in wire order.
func fields(msg []byte) ([]field, error) {
	var out []field
	for len(msg) > 0 {
		num, typ, n := protowire.ConsumeTag(msg)
		if n < 0 {
			return nil, protowire.ParseError(n)
		}
		msg = msg[n:]
		f := field{num: num, typ: typ}
		switch typ {
		case protowire.VarintType:
			f.v, n = protowire.ConsumeVarint(msg)
		case protowire.Fixed32Type:
			var v uint32
			v, n = protowire.ConsumeFixed32(msg)
			f.v = uint64(v)
		case protowire.Fixed64Type:
			f.v, n = protowire.ConsumeFixed64(msg)
		case protowire.BytesType:
			f.b, n = protowire.ConsumeBytes(msg)
		default:
			return nil, fmt.Errorf("field %d: unexpected wire type %d", num, typ)
		}
		if n < 0 {
			return nil, fmt.Errorf("field %d: %w", num, protowire.ParseError(n))
		}
		msg = msg[n:]
		out = append(out, f)
	}
	return out, nil
}

// walk decodes msg, calling handle for each field; handle reports whether
// it knew the field. Fields must come in increasing number order, as the
// reference serializers write them, and each at most once.
func walk(what string, msg []byte, handle func(f field) (bool, error)) error {
	fs, err := fields(msg)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	last := protowire.Number(0)
	for _, f := range fs {
		if f.num <= last {
			return fmt.Errorf("%s: field %d after field %d", what, f.num, last)
		}
		last = f.num
		ok, err := handle(f)
		if err != nil {
			return fmt.Errorf("%s field %d: %w", what, f.num, err)
		}
		if !ok {
			return fmt.Errorf("%s: unexpected field %d (wire type %d)", what, f.num, f.typ)
		}
	}
	return nil
}

func decodeEvent(msg []byte) (tEvent, error) {
	var e tEvent
	err := walk("Event", msg, func(f field) (bool, error) {
		switch {
		case f.num == 1 && f.typ == protowire.Fixed64Type:
			w := math.Float64frombits(f.v)
			e.WallTime = &w
		case f.num == 2 && f.typ == protowire.VarintType:
			e.Step = int64(f.v)
		case f.num == 3 && f.typ == protowire.BytesType:
			s := string(f.b)
			e.FileVersion = &s
		case f.num == 5 && f.typ == protowire.BytesType:
			s, err := decodeSummary(f.b)
			e.Summary = &s
			return true, err
		case f.num == 6 && f.typ == protowire.BytesType:
			var status int64
			err := walk("SessionLog", f.b, func(f field) (bool, error) {
				status = int64(f.v)
				return f.num == 1 && f.typ == protowire.VarintType, nil
			})
			e.SessionLog = &status
			return true, err
		default:
			return false, nil
		}
		return true, nil
	})
	return e, err
}

func decodeSummary(msg []byte) (tSummary, error) {
	var s tSummary
	// value is repeated, so walk's order check does not apply here.
	fs, err := fields(msg)
	if err != nil {
		return s, fmt.Errorf("Summary: %w", err)
	}
	for _, f := range fs {
		if f.num != 1 || f.typ != protowire.BytesType {
			return s, fmt.Errorf("Summary: unexpected field %d", f.num)
		}
		v, err := decodeValue(f.b)
		if err != nil {
			return s, err
		}
		s.Values = append(s.Values, v)
	}
	return s, nil
}

func decodeValue(msg []byte) (tValue, error) {
	var v tValue
	err := walk("Summary.Value", msg, func(f field) (bool, error) {
		switch {
		case f.num == 1 && f.typ == protowire.BytesType:
			v.Tag = string(f.b)
		case f.num == 2 && f.typ == protowire.Fixed32Type:
			x := math.Float32frombits(uint32(f.v))
			v.SimpleValue = &x
		case f.num == 4 && f.typ == protowire.BytesType:
			img, err := decodeImage(f.b)
			v.Image = &img
			return true, err
		default:
			return false, nil
		}
		return true, nil
	})
	return v, err
}

func decodeImage(msg []byte) (tImage, error) {
	var img tImage
	err := walk("Summary.Image", msg, func(f field) (bool, error) {
		var err error
		switch {
		case f.num == 1 && f.typ == protowire.VarintType:
			img.Height, err = i32(f.v)
		case f.num == 2 && f.typ == protowire.VarintType:
			img.Width, err = i32(f.v)
		case f.num == 3 && f.typ == protowire.VarintType:
			img.Colorspace, err = i32(f.v)
		case f.num == 4 && f.typ == protowire.BytesType:
			img.PNG = f.b
		default:
			return false, nil
		}
		return true, err
	})
	return img, err
}

// decodeFile reads every record of an event file and decodes its Event.
func decodeFile(b []byte) ([]tEvent, [][]byte, error) {
	recs, err := readRecords(b)
	if err != nil {
		return nil, nil, err
	}
	evs := make([]tEvent, len(recs))
	for i, r := range recs {
		if evs[i], err = decodeEvent(r); err != nil {
			return nil, nil, fmt.Errorf("record %d: %w", i, err)
		}
	}
	return evs, recs, nil
}

// stripWallTime returns an encoded Event without its wall_time field,
// which comes first when present: tag byte 0x09 (field 1, fixed64) and 8
// bytes.
func stripWallTime(event []byte) []byte {
	if len(event) >= 9 && event[0] == 0x09 {
		return event[9:]
	}
	return event
}
