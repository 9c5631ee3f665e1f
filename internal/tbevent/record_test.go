package tbevent

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"math"
	"testing"
)

// rfc3720Vectors are the CRC-32C results of RFC 3720 appendix B.4, the
// same vectors TensorFlow's core/lib/hash/crc32c_test.cc checks.
func rfc3720Vectors() []struct {
	name string
	data []byte
	crc  uint32
} {
	inc, dec := make([]byte, 32), make([]byte, 32)
	for i := range 32 {
		inc[i], dec[i] = byte(i), byte(31-i)
	}
	iscsi := []byte{ // an iSCSI SCSI read (10) command PDU
		0x01, 0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00,
		0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x18,
		0x28, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	}
	return []struct {
		name string
		data []byte
		crc  uint32
	}{
		{"32 zeros", make([]byte, 32), 0x8a9136aa},
		{"32 0xff", bytes.Repeat([]byte{0xff}, 32), 0x62a8ab43},
		{"0..31", inc, 0x46dd794e},
		{"31..0", dec, 0x113fdb5c},
		{"iSCSI read", iscsi, 0xd9963a56},
	}
}

func TestCRC32CVectors(t *testing.T) {
	for _, v := range rfc3720Vectors() {
		if got := crc32.Checksum(v.data, castagnoli); got != v.crc {
			t.Errorf("%s: castagnoli table CRC %#08x, want %#08x", v.name, got, v.crc)
		}
		if got := crc32cRef(v.data); got != v.crc {
			t.Errorf("%s: test reader's bitwise CRC %#08x, want %#08x", v.name, got, v.crc)
		}
		if got, want := maskedCRC(v.data), maskRef(v.crc); got != want {
			t.Errorf("%s: masked CRC %#08x, want %#08x", v.name, got, want)
		}
	}
}

// TestMask follows TensorFlow's crc32c_test.cc Mask test: masking changes
// the CRC, twice too, and unmasking undoes it.
func TestMask(t *testing.T) {
	crc := uint32(0x8a9136aa) // CRC-32C of 32 zero bytes
	if mask(crc) == crc || mask(mask(crc)) == crc {
		t.Errorf("mask left %#08x unchanged", crc)
	}
	if unmaskRef(mask(crc)) != crc || unmaskRef(unmaskRef(mask(mask(crc)))) != crc {
		t.Errorf("unmask(mask(%#08x)) != itself", crc)
	}
	// The spec, written out: rotate right by 15, add 0xa282ead8.
	if got, want := mask(crc), ((crc>>15)|(crc<<17))+0xa282ead8; got != want {
		t.Errorf("mask(%#08x) = %#08x, want %#08x", crc, got, want)
	}
}

// TestFirstRecordHeader checks the 12 bytes every PyTorch event file
// starts with: length 24 (wall_time 9 bytes + file_version 15) and its
// masked CRC, which hexdumps of real files show as a3 7f 4b 22.
func TestFirstRecordHeader(t *testing.T) {
	rec := appendRecord(nil, fileVersionEvent(1.5))
	want := []byte{0x18, 0, 0, 0, 0, 0, 0, 0, 0xa3, 0x7f, 0x4b, 0x22}
	if !bytes.Equal(rec[:12], want) {
		t.Errorf("header % x, want % x", rec[:12], want)
	}
}

func TestAppendRecordLayout(t *testing.T) {
	for _, data := range [][]byte{nil, []byte("x"), bytes.Repeat([]byte("abc"), 1000)} {
		rec := appendRecord([]byte("prefix"), data)
		if !bytes.HasPrefix(rec, []byte("prefix")) {
			t.Fatal("appendRecord dropped what b held")
		}
		rec = rec[len("prefix"):]
		if len(rec) != 8+4+len(data)+4 {
			t.Fatalf("record of %d bytes is %d long", len(data), len(rec))
		}
		if n := binary.LittleEndian.Uint64(rec); n != uint64(len(data)) {
			t.Errorf("length %d, want %d", n, len(data))
		}
		got, err := readRecords(rec)
		if err != nil || len(got) != 1 || !bytes.Equal(got[0], data) {
			t.Errorf("test reader: %q, %v", got, err)
		}
	}
}

// TestReaderCatchesCorruption makes sure the test reader's CRC checks
// bite, so the other tests mean something.
func TestReaderCatchesCorruption(t *testing.T) {
	rec := appendRecord(nil, []byte("payload"))
	for i := range rec {
		bad := bytes.Clone(rec)
		bad[i] ^= 0x40
		if _, err := readRecords(bad); err == nil {
			t.Errorf("flipping byte %d went unnoticed", i)
		}
	}
	if _, err := readRecords(rec[:len(rec)-1]); err == nil {
		t.Error("truncated record went unnoticed")
	}
}

// knownRecords are complete records written by other writers, copied from
// their tests: TensorFlow's C++ EventsWriter (the MOCK_RECORDS of
// tensorflow/python/summary/impl/gcs_file_loader_test.py) and the
// tensorboard_logger package (test_serialization, wall_time 256.5).
var knownRecords = []struct {
	name string
	rec  string
	make func() []byte // the same event from this package's encoder
}{
	{
		"tensorflow brain.Event:2",
		"\x18\x00\x00\x00\x00\x00\x00\x00\xa3\x7fK\"\t\x00\x00\x00'\xe6\xb3\xd5A\x1a\rbrain.Event:2jM\x0b\x15",
		func() []byte { return fileVersionEvent(leFloat64("\x00\x00\x00'\xe6\xb3\xd5A")) },
	},
	{
		"tensorboard_logger file_version",
		"\x18\x00\x00\x00\x00\x00\x00\x00\xa3\x7fK\"\t\x00\x00\x00\x00\x00\x08p@\x1a\rbrain.Event:2\xbc\x98!+",
		func() []byte { return fileVersionEvent(256.5) },
	},
	{
		"tensorboard_logger v/1",
		"\x19\x00\x00\x00\x00\x00\x00\x00\x8b\xf1\x08(\t\x00\x00\x00\x00\x00\x08p@\x10\x01*\x0c\n\n\n\x03v/1\x15\x00\x00\xc0?,\xec\xc0\x87",
		func() []byte { return scalarEvent(256.5, 1, "v/1", 1.5) },
	},
	{
		"tensorboard_logger v/22",
		"\x1a\x00\x00\x00\x00\x00\x00\x00\x12\x9b\xd8-\t\x00\x00\x00\x00\x00\x08p@\x10\x02*\r\n\x0b\n\x04v/22\x15\x00\x00\x80A\x8f\xa3\xb6\x88",
		func() []byte { return scalarEvent(256.5, 2, "v/22", 16) },
	},
}

func leFloat64(s string) float64 {
	return math.Float64frombits(binary.LittleEndian.Uint64([]byte(s)))
}

func TestKnownRecords(t *testing.T) {
	for _, k := range knownRecords {
		if got := appendRecord(nil, k.make()); !bytes.Equal(got, []byte(k.rec)) {
			t.Errorf("%s:\n got % x\nwant % x", k.name, got, []byte(k.rec))
		}
		if _, err := readRecords([]byte(k.rec)); err != nil {
			t.Errorf("%s: test reader: %v", k.name, err)
		}
	}
}
