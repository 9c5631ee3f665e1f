package format

import (
	"bytes"
	"errors"
	"hash/crc32"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/vmihailenco/msgpack/v5"
)

// The places a stream can carry a key its reader does not know.
var unknownKeyPlaces = []string{"header", "ct", "crop", "slice", "prediction", "trailer"}

// rawWithUnknown is the decompressed stream of one record of kind k (none
// when place is "header" or "trailer": a CT then) with one more key,
// "x_unknown", whose value value writes, in the map named by place.
func rawWithUnknown(t testing.TB, place string, value func(e *msgpack.Encoder)) []byte {
	t.Helper()
	var rec Record
	switch place {
	case "crop":
		rec = testCrop()
	case "slice":
		rec = testSlice()
	case "prediction":
		rec = testPrediction()
	default:
		rec = testCT("1.2.3", true)
	}
	var buf bytes.Buffer
	e := msgpack.NewEncoder(&buf)
	extra := func(m map[string]any) {
		e.EncodeMapLen(len(m) + 1)
		for _, k := range []string{"magic", "version", "kind", "program", "count", "crc32c"} {
			if v, ok := m[k]; ok {
				e.EncodeString(k)
				e.Encode(v)
			}
		}
		e.EncodeString("x_unknown")
		value(e)
	}
	head := map[string]any{"magic": Magic, "version": Version[:], "kind": string(rec.Kind()), "program": "test"}
	e.EncodeArrayLen(2)
	e.EncodeString(tagHeader)
	if place == "header" {
		extra(head)
	} else {
		e.Encode(head)
	}
	var body bytes.Buffer
	encodeRecord(&enc{e: msgpack.NewEncoder(&body), w: &body}, rec)
	b := body.Bytes()
	e.EncodeArrayLen(2)
	e.EncodeString(string(rec.Kind()))
	if place == string(rec.Kind()) {
		if b[0]&0xf0 != 0x80 || b[0] == 0x8f {
			t.Fatalf("record body is not a small fixmap (%#x)", b[0])
		}
		b[0]++ // the key appended below
		buf.Write(b)
		e.EncodeString("x_unknown")
		value(e)
	} else {
		buf.Write(b)
	}
	crc := crc32.Checksum(buf.Bytes(), castagnoli)
	tr := map[string]any{"count": 1, "crc32c": crc}
	e.EncodeArrayLen(2)
	e.EncodeString(tagTrailer)
	if place == "trailer" {
		extra(tr)
	} else {
		e.Encode(tr)
	}
	return buf.Bytes()
}

// nested writes depth arrays, each holding the next, around a nil.
func nested(depth int) func(e *msgpack.Encoder) {
	return func(e *msgpack.Encoder) {
		// fixarray headers of one element each, written at once: ten
		// million encoder calls would dominate the test.
		e.Writer().Write(bytes.Repeat([]byte{0x91}, depth))
		e.EncodeNil()
	}
}

func compress(t testing.TB, raw []byte) []byte {
	t.Helper()
	z, err := zstd.NewWriter(nil)
	if err != nil {
		t.Fatal(err)
	}
	return z.EncodeAll(raw, nil)
}

// TestUnknownKeysSkipped: every map of a stream may carry keys this
// reader does not know, with values of any shape within the limits.
func TestUnknownKeysSkipped(t *testing.T) {
	values := map[string]func(e *msgpack.Encoder){
		"nested to the limit": nested(MaxSkipDepth),
		"map":                 func(e *msgpack.Encoder) { e.Encode(map[string]any{"a": []any{1, "b", 2.5, map[string]any{}}}) },
		"big bin":             func(e *msgpack.Encoder) { e.EncodeBytes(make([]byte, 1<<20)) },
		"ext":                 func(e *msgpack.Encoder) { e.EncodeExtHeader(5, 3); e.Writer().Write([]byte{1, 2, 3}) },
	}
	for _, place := range unknownKeyPlaces {
		for name, v := range values {
			data := compress(t, rawWithUnknown(t, place, v))
			recs, err := decodeAll(data, "")
			if err != nil || len(recs) != 1 {
				t.Errorf("%s, %s: %d records, %v", place, name, len(recs), err)
			}
		}
	}
}

// TestDeepNesting: a value nested ten million arrays deep under an
// unknown key (a few hundred bytes compressed) is refused with an error;
// it used to exhaust the stack.
func TestDeepNesting(t *testing.T) {
	for _, place := range unknownKeyPlaces {
		for _, depth := range []int{MaxSkipDepth + 1, 10_000_000} {
			data := compress(t, rawWithUnknown(t, place, nested(depth)))
			if depth > 1000 && len(data) > 4096 {
				t.Fatalf("the deep stream compresses to %d bytes", len(data))
			}
			_, err := decodeAll(data, "")
			if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "nested more than") {
				t.Errorf("%s, depth %d: %v, want a corrupt-record error about nesting", place, depth, err)
			}
		}
	}
}

// TestHugeFields: lengths that claim more than a reader accepts are
// refused before anything that size is allocated.
func TestHugeFields(t *testing.T) {
	// A series uid that claims 4 GiB.
	raw := rawWithUnknown(t, "slice", nested(0))
	i := bytes.Index(raw, []byte("\xaaseries_uid"))
	if i < 0 {
		t.Fatal("no series_uid key")
	}
	at := i + len("\xaaseries_uid")
	huge := append(append(bytes.Clone(raw[:at]), 0xdb, 0xff, 0xff, 0xff, 0xff), raw[at+6:]...) // str32
	_, err := decodeAll(compress(t, huge), "")
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "string of 4294967295 bytes") {
		t.Errorf("4 GiB series uid: %v", err)
	}
	// An unknown bin that claims 4 GiB and ends early: truncated.
	raw = rawWithUnknown(t, "header", func(e *msgpack.Encoder) { e.Writer().Write([]byte{0xc6, 0xff, 0xff, 0xff, 0xff, 1, 2}) })
	raw = raw[:bytes.Index(raw, []byte{0xc6, 0xff, 0xff, 0xff, 0xff})+7]
	if _, err := decodeAll(compress(t, raw), ""); !errors.Is(err, ErrTruncated) {
		t.Errorf("4 GiB unknown bin, cut short: %v", err)
	}
}

// hostileSeeds are fuzz seeds with unknown, deep and huge fields in every
// kind of map, as decompressed stream bytes.
func hostileSeeds(t testing.TB) [][]byte {
	var seeds [][]byte
	for _, place := range unknownKeyPlaces {
		seeds = append(seeds,
			rawWithUnknown(t, place, nested(40)),
			rawWithUnknown(t, place, func(e *msgpack.Encoder) { e.Encode(map[string]any{"k": []any{"s", 1, []byte{2}}}) }),
			rawWithUnknown(t, place, func(e *msgpack.Encoder) { e.EncodeBytes(make([]byte, 300)) }))
	}
	return seeds
}

// fuzzStack makes deep recursion fail a fuzz run at fuzzing's input sizes:
// with the default 1 GB stack only megabytes of nesting overflow it.
func fuzzStack(f *testing.F) {
	old := debug.SetMaxStack(1 << 20)
	f.Cleanup(func() { debug.SetMaxStack(old) })
}

// TestTrailingData: bytes after a complete stream that start no stream
// are reported as such, not as a stream that is not one.
func TestTrailingData(t *testing.T) {
	good := encode(t, KindCrop, testCrop())
	for name, tail := range map[string][]byte{
		"text":              []byte("garbage\n"),
		"zstd, not msgpack": compress(t, []byte("hello")),
	} {
		recs, err := decodeAll(append(bytes.Clone(good), tail...), KindCrop)
		if len(recs) != 1 || !errors.Is(err, ErrTrailing) || errors.Is(err, ErrNotStream) ||
			!strings.Contains(err.Error(), "after the trailer of stream 1") {
			t.Errorf("%s after a stream: %d records, %v", name, len(recs), err)
		}
	}
	if _, err := decodeAll([]byte("garbage\n"), KindCrop); !errors.Is(err, ErrNotStream) {
		t.Errorf("garbage alone: %v, want %v", err, ErrNotStream)
	}
}

// TestTruncatedInTensor: a lazy reader whose input ends between the
// frames of a tensor calls the stream truncated (a killed producer), not
// corrupt.
func TestTruncatedInTensor(t *testing.T) {
	data := encodeOpt(t, WriterOptions{FrameSize: 1 << 20}, KindCT, bigCT("a"))
	_, offs, _ := hintedFrames(t, data)
	for _, cut := range offs[2:4] { // before the second and third HU frames
		for _, lazy := range []bool{false, true} {
			r := NewReader(bytes.NewReader(data[:cut]))
			r.SetLazy(lazy)
			_, err := r.Next()
			r.Close()
			if !errors.Is(err, ErrTruncated) {
				t.Errorf("cut at byte %d, lazy %v: %v, want %v", cut, lazy, err, ErrTruncated)
			}
		}
	}
}

// maxRecordNesting is the deepest a record a reader accepts may nest
// arrays and maps: the record, its body, a candidate list, a candidate,
// and under an unknown key of the candidate MaxSkipDepth more.
const maxRecordNesting = 4 + MaxSkipDepth

// nesting returns how deep arrays and maps nest in the msgpack values
// of b, read one after the other (iteratively: b may nest millions deep).
func nesting(b []byte) int {
	var open []int // elements still to come in each open container
	deepest := 0
	for len(b) > 0 {
		c := b[0]
		n, size, head := 0, 0, 1 // container elements, payload bytes, header bytes
		be := func(k int) int {
			if len(b) < 1+k {
				return -1
			}
			v := 0
			for _, x := range b[1 : 1+k] {
				v = v<<8 | int(x)
			}
			return v
		}
		switch {
		case c <= 0x7f || c >= 0xe0 || c == 0xc0 || c == 0xc2 || c == 0xc3:
		case c >= 0x80 && c <= 0x8f:
			n = 2 * int(c&0x0f)
		case c >= 0x90 && c <= 0x9f:
			n = int(c & 0x0f)
		case c >= 0xa0 && c <= 0xbf:
			size = int(c & 0x1f)
		case c == 0xc4 || c == 0xd9:
			size, head = be(1), 2
		case c == 0xc5 || c == 0xda:
			size, head = be(2), 3
		case c == 0xc6 || c == 0xdb:
			size, head = be(4), 5
		case c == 0xdc:
			n, head = be(2), 3
		case c == 0xdd:
			n, head = be(4), 5
		case c == 0xde:
			n, head = 2*be(2), 3
		case c == 0xdf:
			n, head = 2*be(4), 5
		case c == 0xcc || c == 0xd0:
			size = 1
		case c == 0xcd || c == 0xd1:
			size = 2
		case c == 0xca || c == 0xce || c == 0xd2:
			size = 4
		case c == 0xcb || c == 0xcf || c == 0xd3:
			size = 8
		case c >= 0xd4 && c <= 0xd8: // fixext 1…16
			size = 1 + 1<<(c-0xd4)
		case c == 0xc7:
			size, head = 1+be(1), 2
		case c == 0xc8:
			size, head = 1+be(2), 3
		case c == 0xc9:
			size, head = 1+be(4), 5
		default:
			return deepest // 0xc1: never used
		}
		if size < 0 || n < 0 || head+size > len(b) {
			return deepest
		}
		b = b[head+size:]
		if len(open) > 0 {
			open[len(open)-1]--
		}
		if c >= 0x80 && c <= 0x9f || c >= 0xdc && c <= 0xdf {
			if n > 0 {
				open = append(open, n)
				deepest = max(deepest, len(open))
			} else {
				deepest = max(deepest, len(open)+1)
			}
		}
		for len(open) > 0 && open[len(open)-1] == 0 {
			open = open[:len(open)-1]
		}
	}
	return deepest
}

func TestNesting(t *testing.T) {
	for _, tc := range []struct {
		b    []byte
		want int
	}{
		{[]byte{0x01, 0xa1, 'x'}, 0},
		{[]byte{0x90}, 1},
		{[]byte{0x91, 0x91, 0xc0, 0x91, 0x80}, 2},
		{append(bytes.Repeat([]byte{0x91}, 1000), 0xc0), 1000},
		{[]byte{0x82, 0xa1, 'a', 0x91, 0x90, 0xa1, 'b', 0x01}, 3},
	} {
		if got := nesting(tc.b); got != tc.want {
			t.Errorf("nesting(%x) = %d, want %d", tc.b, got, tc.want)
		}
	}
}

// countingReader counts the bytes read from r.
type countingReader struct {
	r *bytes.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

// TestBadSeriesUID: a uid that would break a one-line message (or name no
// series) is refused by the writer and by the reader.
func TestBadSeriesUID(t *testing.T) {
	for _, uid := range []string{"", "1.2\n3", "1.2\x00", "\xff\xfe"} {
		c := testCrop()
		c.SeriesUID = uid
		var buf bytes.Buffer
		w, err := NewWriter(&buf, Header{Kind: KindCrop})
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Write(c); err == nil {
			t.Errorf("writer took series_uid %q", uid)
		}
		w.Close()
		raw := bytes.Replace(rawWithUnknown(t, "crop", nested(0)), []byte("\xa51.2.3"), append([]byte{0xa0 | byte(len(uid))}, uid...), 1)
		if _, err := decodeAll(compress(t, raw), KindCrop); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "series_uid") {
			t.Errorf("reader, series_uid %q: %v", uid, err)
		}
	}
}
