package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"os"
	"sort"
	"unicode/utf8"

	"github.com/ctseg/ctseg/internal/tensors"
)

// ReadFile reads a safetensors file; errors name the file.
func ReadFile(path string) (tensors.Dict, map[string]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("safetensors: %w", err)
	}
	d, meta, err := Parse(b)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return d, meta, nil
}

// Read reads a whole safetensors stream from r (see Parse).
func Read(r io.Reader) (tensors.Dict, map[string]string, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, nil, fmt.Errorf("safetensors: read: %w", err)
	}
	return Parse(b)
}

// entry is a validated header entry with its name.
type entry struct {
	name       string
	dtype      tensors.DType
	shape      []int
	begin, end uint64
}

// Parse decodes a complete safetensors file held in b. It checks everything
// the reference checks (header size, UTF-8 JSON object, offsets contiguous
// from 0 and covering the data section exactly, size = elements × dtype
// size) plus duplicate keys, and returns the tensors and the metadata (an
// empty map when the file has none).
func Parse(b []byte) (tensors.Dict, map[string]string, error) {
	header, data, err := split(b)
	if err != nil {
		return nil, nil, err
	}
	entries, meta, err := parseHeader(header)
	if err != nil {
		return nil, nil, err
	}
	if err := checkLayout(entries, uint64(len(data))); err != nil {
		return nil, nil, err
	}
	d := make(tensors.Dict, len(entries))
	for _, e := range entries {
		d[e.name] = decode(e, data[e.begin:e.end])
	}
	return d, meta, nil
}

// split separates the JSON header from the data section.
func split(b []byte) (header, data []byte, err error) {
	if len(b) < 8 {
		return nil, nil, fmt.Errorf("safetensors: file too short (%d bytes) for the 8-byte header size", len(b))
	}
	n := binary.LittleEndian.Uint64(b[:8])
	if n > MaxHeaderSize {
		return nil, nil, fmt.Errorf("safetensors: header size %d exceeds the limit %d (not a safetensors file?)", n, MaxHeaderSize)
	}
	if n > uint64(len(b)-8) {
		return nil, nil, fmt.Errorf("safetensors: header size %d runs past the end of the %d-byte file", n, len(b))
	}
	header = b[8 : 8+n]
	if !utf8.Valid(header) {
		return nil, nil, errors.New("safetensors: header is not valid UTF-8")
	}
	if len(header) == 0 || header[0] != '{' {
		return nil, nil, errors.New("safetensors: header does not start with '{' (not a safetensors file?)")
	}
	return header, b[8+n:], nil
}

// parseHeader decodes the header object key by key, so that duplicate
// keys, which a map decode would silently merge, are caught.
func parseHeader(header []byte) ([]entry, map[string]string, error) {
	dec := json.NewDecoder(bytes.NewReader(header))
	if _, err := dec.Token(); err != nil {
		return nil, nil, fmt.Errorf("safetensors: header JSON: %w", err)
	}
	meta := map[string]string{}
	var entries []entry
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, nil, fmt.Errorf("safetensors: header JSON: %w", err)
		}
		key := tok.(string) // an object key is always a string
		if seen[key] {
			return nil, nil, fmt.Errorf("safetensors: header: duplicate key %q", key)
		}
		seen[key] = true
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, nil, fmt.Errorf("safetensors: header JSON at key %q: %w", key, err)
		}
		if key == metadataKey {
			if err := json.Unmarshal(raw, &meta); err != nil || meta == nil {
				return nil, nil, fmt.Errorf("safetensors: header: %s must map strings to strings: %v", metadataKey, err)
			}
			continue
		}
		e, err := parseEntry(key, raw)
		if err != nil {
			return nil, nil, err
		}
		entries = append(entries, e)
	}
	if err := checkEnd(dec); err != nil {
		return nil, nil, err
	}
	return entries, meta, nil
}

// checkEnd requires the closing brace followed by nothing but padding.
func checkEnd(dec *json.Decoder) error {
	if _, err := dec.Token(); err != nil {
		return fmt.Errorf("safetensors: header JSON: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("safetensors: header: unexpected data after the JSON object")
	}
	return nil
}

// parseEntry decodes and checks one tensor's header entry.
func parseEntry(name string, raw json.RawMessage) (entry, error) {
	var info tensorInfo
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&info); err != nil {
		return entry{}, fmt.Errorf("safetensors: tensor %q: bad header entry: %w", name, err)
	}
	size, known := dtypeSizes[info.DType]
	switch {
	case info.DType == "":
		return entry{}, fmt.Errorf("safetensors: tensor %q: missing dtype", name)
	case !known:
		return entry{}, fmt.Errorf("safetensors: tensor %q: unknown dtype %q", name, info.DType)
	case info.DType != tensors.F32 && info.DType != tensors.I64 && info.DType != f64:
		return entry{}, fmt.Errorf("safetensors: tensor %q: unsupported dtype %s (ctseg reads F32, F64 and I64)", name, info.DType)
	case info.Shape == nil:
		return entry{}, fmt.Errorf("safetensors: tensor %q: missing shape", name)
	case len(info.DataOffsets) != 2:
		return entry{}, fmt.Errorf("safetensors: tensor %q: data_offsets must be [begin, end], got %v", name, info.DataOffsets)
	}
	e := entry{name: name, dtype: info.DType, begin: info.DataOffsets[0], end: info.DataOffsets[1]}
	nbytes := size
	for _, s := range info.Shape {
		// No real dimension exceeds 2³¹; the bound keeps int(s) and the
		// element count exact on every platform.
		hi, lo := bits.Mul64(nbytes, s)
		if hi != 0 || s > math.MaxInt32 {
			return entry{}, fmt.Errorf("safetensors: tensor %q: shape %v is too large", name, info.Shape)
		}
		nbytes = lo
		e.shape = append(e.shape, int(s))
	}
	if e.end < e.begin || e.end-e.begin != nbytes {
		return entry{}, fmt.Errorf("safetensors: tensor %q: data_offsets %v hold %d bytes, but %s%v needs %d",
			name, info.DataOffsets, int64(e.end-e.begin), info.DType, info.Shape, nbytes)
	}
	return e, nil
}

// checkLayout requires the tensors, in offset order, to tile the data
// section from 0 to its end without gaps or overlaps.
func checkLayout(entries []entry, dataLen uint64) error {
	sort.Slice(entries, func(i, j int) bool {
		if entries[i].begin != entries[j].begin {
			return entries[i].begin < entries[j].begin
		}
		return entries[i].end < entries[j].end
	})
	var next uint64
	for _, e := range entries {
		if e.begin != next {
			return fmt.Errorf("safetensors: tensor %q: data starts at %d, expected %d (tensors must be contiguous and not overlap)",
				e.name, e.begin, next)
		}
		next = e.end
	}
	if next != dataLen {
		return fmt.Errorf("safetensors: tensors cover %d bytes, but the data section has %d", next, dataLen)
	}
	return nil
}

// decode converts one tensor's validated bytes; F64 becomes F32.
func decode(e entry, raw []byte) tensors.Tensor {
	t := tensors.Tensor{DType: e.dtype, Shape: e.shape}
	if t.Shape == nil {
		t.Shape = []int{}
	}
	switch e.dtype {
	case tensors.F32:
		t.F32 = make([]float32, len(raw)/4)
		for i := range t.F32 {
			t.F32[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
		}
	case f64:
		t.DType = tensors.F32
		t.F32 = make([]float32, len(raw)/8)
		for i := range t.F32 {
			t.F32[i] = float32(math.Float64frombits(binary.LittleEndian.Uint64(raw[8*i:])))
		}
	case tensors.I64:
		t.I64 = make([]int64, len(raw)/8)
		for i := range t.I64 {
			t.I64[i] = int64(binary.LittleEndian.Uint64(raw[8*i:]))
		}
	}
	return t
}
