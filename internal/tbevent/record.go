package tbevent

import (
	"encoding/binary"
	"hash/crc32"
)

// castagnoli is the CRC-32C table that TFRecord checksums use; hash/crc32
// picks the SSE4.2 instruction for it where the CPU has one.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// maskDelta is added to the rotated CRC by the TFRecord mask.
const maskDelta = 0xa282ead8

// maskedCRC returns the masked CRC-32C of data, the checksum TFRecord
// stores after the length and after the data of each record.
func maskedCRC(data []byte) uint32 {
	return mask(crc32.Checksum(data, castagnoli))
}

// mask rotates crc right by 15 bits and adds maskDelta; TensorFlow masks
// stored CRCs because the CRC of data that embeds its own CRC is
// degenerate.
func mask(crc uint32) uint32 {
	return ((crc >> 15) | (crc << 17)) + maskDelta
}

// appendRecord appends data framed as one TFRecord to b, so the caller can
// hand the whole record to a single Write.
func appendRecord(b, data []byte) []byte {
	var hdr [8]byte
	binary.LittleEndian.PutUint64(hdr[:], uint64(len(data)))
	b = append(b, hdr[:]...)
	b = binary.LittleEndian.AppendUint32(b, maskedCRC(hdr[:]))
	b = append(b, data...)
	return binary.LittleEndian.AppendUint32(b, maskedCRC(data))
}
