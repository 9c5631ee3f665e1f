// Package safetensors reads and writes the safetensors file format
// (huggingface/safetensors), the checkpoint format ctseg uses because the
// PyTorch world loads it with one call and because, unlike a pickle, reading
// one cannot run code.
//
// A file is: an 8-byte little-endian u64 N, N bytes of JSON header, then the
// raw little-endian C-order tensor data. The header maps each tensor name to
// {"dtype", "shape", "data_offsets": [begin, end]} (offsets relative to the
// data section) and may hold "__metadata__", a string→string map. This
// package writes exactly what the reference implementation writes: tensors
// ordered by descending dtype alignment and then by name, compact JSON,
// "__metadata__" first (omitted when empty), the header padded with spaces
// to a multiple of 8 bytes.
//
// Element types: F32 and I64 are read and written as is; F64 is read and
// converted to F32 (ctseg computes in float32); every other dtype is
// rejected with an error naming the tensor.
package safetensors

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sort"

	"github.com/ctseg/ctseg/internal/atomicfile"
	"github.com/ctseg/ctseg/internal/tensors"
)

// MaxHeaderSize is the largest JSON header accepted, the reference's limit.
const MaxHeaderSize = 100_000_000

// metadataKey is the reserved header key holding the string→string metadata.
const metadataKey = "__metadata__"

// f64 is the one dtype read but not kept: it is converted to F32.
const f64 tensors.DType = "F64"

// dtypeSizes lists every dtype of the reference's Dtype enum with its size in
// bytes, so that known-but-unsupported dtypes get a precise error message.
var dtypeSizes = map[tensors.DType]uint64{
	"BOOL": 1, "U8": 1, "I8": 1, "F8_E5M2": 1, "F8_E4M3": 1,
	"I16": 2, "U16": 2, "F16": 2, "BF16": 2,
	"I32": 4, "U32": 4, "F32": 4,
	"F64": 8, "I64": 8, "U64": 8,
}

// alignRank orders the dtypes ctseg writes as the reference's Dtype enum
// does (F32 < F64 < I64); the reference writes higher ranks first.
var alignRank = map[tensors.DType]int{tensors.F32: 0, f64: 1, tensors.I64: 2}

// tensorInfo is one header entry.
type tensorInfo struct {
	DType       tensors.DType `json:"dtype"`
	Shape       []uint64      `json:"shape"`
	DataOffsets []uint64      `json:"data_offsets"`
}

// WriteFile writes d and metadata to path atomically (see Write).
func WriteFile(path string, d tensors.Dict, metadata map[string]string) error {
	f, err := atomicfile.Create(path)
	if err != nil {
		return err
	}
	defer f.Abort()
	if err := Write(f, d, metadata); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return f.Commit()
}

// Write writes d and metadata to w in safetensors format. Every tensor must
// be F32 or I64 with as many elements as its shape calls for.
func Write(w io.Writer, d tensors.Dict, metadata map[string]string) error {
	names, err := writeOrder(d)
	if err != nil {
		return err
	}
	header, err := encodeHeader(d, names, metadata)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(w, 1<<16)
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], uint64(len(header)))
	bw.Write(n[:])
	bw.Write(header)
	buf := make([]byte, 0, 8*writeChunk)
	for _, name := range names {
		writeData(bw, d[name], buf)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("safetensors: write: %w", err)
	}
	return nil
}

// writeOrder checks every tensor and returns the names in the reference's
// order: descending dtype alignment, then name.
func writeOrder(d tensors.Dict) ([]string, error) {
	names := d.Names()
	for _, name := range names {
		if err := checkTensor(name, d[name]); err != nil {
			return nil, err
		}
	}
	sort.SliceStable(names, func(i, j int) bool {
		return alignRank[d[names[i]].DType] > alignRank[d[names[j]].DType]
	})
	return names, nil
}

// checkTensor rejects tensors that Write cannot represent faithfully.
func checkTensor(name string, t tensors.Tensor) error {
	if name == metadataKey {
		return fmt.Errorf("safetensors: tensor name %q is reserved for metadata", name)
	}
	for _, s := range t.Shape {
		if s < 0 {
			return fmt.Errorf("safetensors: tensor %q: negative dimension in shape %v", name, t.Shape)
		}
	}
	var have int
	switch t.DType {
	case tensors.F32:
		have = len(t.F32)
	case tensors.I64:
		have = len(t.I64)
	default:
		return fmt.Errorf("safetensors: tensor %q: cannot write dtype %q (only F32 and I64)", name, t.DType)
	}
	if have != t.Len() {
		return fmt.Errorf("safetensors: tensor %q: shape %v needs %d elements, have %d", name, t.Shape, t.Len(), have)
	}
	return nil
}

// encodeHeader builds the padded JSON header, key order as the reference.
func encodeHeader(d tensors.Dict, names []string, metadata map[string]string) ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	if len(metadata) > 0 {
		b.WriteString(`"` + metadataKey + `":`)
		if err := encodeJSON(&b, metadata); err != nil {
			return nil, fmt.Errorf("safetensors: metadata: %w", err)
		}
	}
	var offset uint64
	for i, name := range names {
		if i > 0 || len(metadata) > 0 {
			b.WriteByte(',')
		}
		t := d[name]
		shape := make([]uint64, len(t.Shape))
		for k, s := range t.Shape {
			shape[k] = uint64(s)
		}
		size := uint64(t.Len()) * dtypeSizes[t.DType]
		info := tensorInfo{DType: t.DType, Shape: shape, DataOffsets: []uint64{offset, offset + size}}
		offset += size
		if err := encodeJSON(&b, name); err != nil {
			return nil, fmt.Errorf("safetensors: tensor name %q: %w", name, err)
		}
		b.WriteByte(':')
		if err := encodeJSON(&b, info); err != nil {
			return nil, fmt.Errorf("safetensors: tensor %q: %w", name, err)
		}
	}
	b.WriteByte('}')
	for b.Len()%8 != 0 {
		b.WriteByte(' ')
	}
	return b.Bytes(), nil
}

// encodeJSON appends the compact JSON of v without HTML escaping (the
// reference's serde_json does not escape <, > and &).
func encodeJSON(b *bytes.Buffer, v any) error {
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	b.Truncate(b.Len() - 1) // Encode appends a newline
	return nil
}

// writeChunk is how many elements writeData encodes per Write.
const writeChunk = 8192

// writeData appends a tensor's elements in little-endian order, encoded
// in chunks (one Write per element would dominate the cost); errors are
// sticky in the bufio.Writer and reported by Flush.
func writeData(bw *bufio.Writer, t tensors.Tensor, buf []byte) {
	const chunk = writeChunk
	for i := 0; i < len(t.F32); i += chunk {
		buf = buf[:0]
		for _, v := range t.F32[i:min(i+chunk, len(t.F32))] {
			buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
		}
		bw.Write(buf)
	}
	for i := 0; i < len(t.I64); i += chunk {
		buf = buf[:0]
		for _, v := range t.I64[i:min(i+chunk, len(t.I64))] {
			buf = binary.LittleEndian.AppendUint64(buf, uint64(v))
		}
		bw.Write(buf)
	}
}
