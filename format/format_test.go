package format

import (
	"bytes"
	"errors"
	"io"
	"math/rand"
	"reflect"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/vmihailenco/msgpack/v5"

	"github.com/ctseg/ctseg/geom"
)

func testCT(uid string, withMask bool) *CT {
	shape := [3]int{3, 4, 5}
	n := shape[0] * shape[1] * shape[2]
	c := &CT{
		SeriesUID: uid,
		Shape:     shape,
		Geometry:  geom.Geometry{Origin: [3]float64{-160.5, -170.25, -300}, Spacing: [3]float64{0.7, 0.7, 2.5}, Direction: geom.Identity},
		HU:        make([]int16, n),
	}
	rng := rand.New(rand.NewSource(1))
	for i := range c.HU {
		c.HU[i] = int16(rng.Intn(4000) - 2048)
	}
	if withMask {
		c.Mask = make([]uint8, n)
		c.Mask[7], c.Mask[33] = 1, 1
		c.PositiveIndexes = []int{0, 1}
		c.Nodules = []Candidate{{CenterXYZ: [3]float64{1, 2, 3}, CenterIRC: [3]int{1, 2, 3}, DiameterMM: 6.5, IsNodule: true, IsMalignant: true}}
		c.Candidates = []Candidate{{CenterXYZ: [3]float64{4, 5, 6}, CenterIRC: [3]int{0, 1, 2}}}
	}
	return c
}

func testCrop() *Crop {
	c := &Crop{SeriesUID: "1.2.3", Candidate: Candidate{CenterIRC: [3]int{5, 6, 7}, IsNodule: true, DiameterMM: 4}, StartIRC: [3]int{2, 0, 1}, Shape: [3]int{7, 4, 8}}
	c.HU = make([]int16, 7*4*8)
	for i := range c.HU {
		c.HU[i] = int16(i*13%2001 - 1000)
	}
	c.Label = make([]uint8, 4*8)
	c.Label[5] = 1
	return c
}

func testSlice() *Slice {
	s := &Slice{SeriesUID: "1.2.3", SliceIndex: 17, Shape: [3]int{7, 8, 4}, Padding: Padding{Bottom: 1, Right: 2}}
	s.HU = make([]int16, 7*8*4)
	s.HU[3] = -1000
	s.Label = make([]uint8, 8*4)
	s.Label[0] = 1
	return s
}

func testPrediction() *Prediction {
	p := &Prediction{SeriesUID: "1.2.3", SliceIndex: 4, Shape: [2]int{4, 4}, Padding: Padding{Top: 1}}
	p.Prob = make([]float32, 16)
	for i := range p.Prob {
		p.Prob[i] = float32(i) / 16
	}
	return p
}

func encode(t testing.TB, kind Kind, recs ...Record) []byte {
	t.Helper()
	return encodeOpt(t, WriterOptions{}, kind, recs...)
}

func decodeAll(data []byte, want Kind) ([]Record, error) {
	r := NewReader(bytes.NewReader(data))
	defer r.Close()
	r.Expect(want)
	var out []Record
	for {
		rec, err := r.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, rec)
	}
}

func TestRoundTrip(t *testing.T) {
	cases := []struct {
		kind Kind
		recs []Record
	}{
		{KindCT, []Record{testCT("1.2.3", false), testCT("1.2.4", true)}},
		{KindCrop, []Record{testCrop(), testCrop()}},
		{KindSlice, []Record{testSlice()}},
		{KindPrediction, []Record{testPrediction()}},
		{KindCT, nil},
	}
	for _, tc := range cases {
		data := encode(t, tc.kind, tc.recs...)
		got, err := decodeAll(data, tc.kind)
		if err != nil {
			t.Fatalf("%s: %v", tc.kind, err)
		}
		if len(got) != len(tc.recs) {
			t.Fatalf("%s: got %d records, want %d", tc.kind, len(got), len(tc.recs))
		}
		for i := range got {
			if !reflect.DeepEqual(got[i], tc.recs[i]) {
				t.Errorf("%s record %d differs:\n got %+v\nwant %+v", tc.kind, i, got[i], tc.recs[i])
			}
		}
	}
}

func TestHeader(t *testing.T) {
	data := encode(t, KindCrop, testCrop())
	r := NewReader(bytes.NewReader(data))
	if _, err := r.Next(); err != nil {
		t.Fatal(err)
	}
	h := r.Header()
	if h.Kind != KindCrop || h.Program != "test" || !reflect.DeepEqual(h.Args, []string{"-x", "1"}) || h.Version != Version || h.Created == "" {
		t.Errorf("header %+v", h)
	}
}

func TestConcatenated(t *testing.T) {
	a := encode(t, KindCT, testCT("a", false))
	b := encode(t, KindCT, testCT("b", true), testCT("c", false))
	empty := encode(t, KindCT)
	got, err := decodeAll(append(append(append([]byte{}, a...), empty...), b...), KindCT)
	if err != nil {
		t.Fatal(err)
	}
	var uids []string
	for _, r := range got {
		uids = append(uids, r.(*CT).SeriesUID)
	}
	if strings.Join(uids, ",") != "a,b,c" {
		t.Errorf("got %v", uids)
	}
}

// rewrite decompresses a stream, lets f edit the msgpack bytes, and
// recompresses it, so tests can forge streams with valid zstd framing.
func rewrite(t *testing.T, data []byte, f func([]byte) []byte) []byte {
	t.Helper()
	d, _ := zstd.NewReader(nil)
	raw, err := d.DecodeAll(data, nil)
	if err != nil {
		t.Fatal(err)
	}
	e, _ := zstd.NewWriter(nil)
	return e.EncodeAll(f(raw), nil)
}

func TestErrors(t *testing.T) {
	good := encode(t, KindCT, testCT("1.2.3", true))
	replace := func(old, new []byte) func([]byte) []byte {
		return func(b []byte) []byte {
			if !bytes.Contains(b, old) {
				t.Fatalf("pattern %x not in stream", old)
			}
			return bytes.Replace(b, old, new, 1)
		}
	}
	cases := []struct {
		name string
		data []byte
		want error
		kind Kind
	}{
		{"empty", nil, ErrEmpty, KindCT},
		{"not zstd", []byte("seriesuid,coordX\n1.2.3,4\n"), ErrNotStream, KindCT},
		{"truncated", good[:len(good)/2], ErrTruncated, KindCT},
		{"no trailer", rewrite(t, good, func(b []byte) []byte { return b[:len(b)-12] }), ErrTruncated, KindCT},
		{"checksum", rewrite(t, good, func(b []byte) []byte {
			i := bytes.Index(b, []byte("positive_indexes"))
			b[i-5] ^= 0xff // last mask byte before the key
			return b
		}), ErrChecksum, KindCT},
		{"major version", rewrite(t, good, replace([]byte{'v', 'e', 'r', 's', 'i', 'o', 'n', 0x92, 1, byte(Version[1])}, []byte{'v', 'e', 'r', 's', 'i', 'o', 'n', 0x92, 2, byte(Version[1])})), ErrVersion, KindCT},
		{"wrong kind", good, ErrKind, KindCrop},
		{"shape mismatch", rewrite(t, good, replace([]byte("shape\x93\x03\x04\x05"), []byte("shape\x93\x03\x04\x06"))), ErrCorrupt, KindCT},
		{"bad magic", rewrite(t, good, replace([]byte("ctseg.stream"), []byte("ctseg.strean"))), ErrNotStream, KindCT},
	}
	for _, tc := range cases {
		_, err := decodeAll(tc.data, tc.kind)
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, err, tc.want)
		}
	}
}

func TestWriterRefusesBadRecords(t *testing.T) {
	w, err := NewWriter(io.Discard, Header{Kind: KindCT})
	if err != nil {
		t.Fatal(err)
	}
	c := testCT("x", false)
	c.HU = c.HU[1:]
	if err := w.Write(c); err == nil {
		t.Error("short HU accepted")
	}
	w2, _ := NewWriter(io.Discard, Header{Kind: KindCT})
	if err := w2.Write(testCrop()); err == nil {
		t.Error("crop accepted in a ct stream")
	}
	if _, err := NewWriter(io.Discard, Header{Kind: "bogus"}); err == nil {
		t.Error("unknown kind accepted")
	}
}

// FuzzReader fuzzes whole streams: hints, zstd frames and records. The
// records it reads lazily are written on with their frames and must read
// back the same.
func FuzzReader(f *testing.F) {
	oldConc, oldBulk := decoderConcurrency, bulkMin
	f.Cleanup(func() { decoderConcurrency, bulkMin = oldConc, oldBulk })
	decoderConcurrency = 1
	bulkMin = 64 // tensors of small seeds get frames of their own
	small := WriterOptions{FrameSize: 256}
	f.Add(encodeOpt(f, small, KindCT, testCT("1.2.3", true)))
	f.Add(encodeOpt(f, small, KindCrop, testCrop()))
	f.Add(encode(f, KindSlice, testSlice()))
	f.Add(encodeOpt(f, small, KindPrediction, testPrediction()))
	f.Add(append(encodeOpt(f, small, KindCT, testCT("a", false)), encodeOpt(f, WriterOptions{Window: 1 << 20}, KindCT, testCT("b", true))...))
	f.Add([]byte{})
	for _, raw := range hostileSeeds(f) {
		f.Add(compress(f, raw))
	}
	fuzzStack(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		recs := readValid(t, data, false)
		lazy := readValid(t, data, true)
		// A lazy reader checks the hints' checksums, which others ignore,
		// so it may stop earlier; it never reads other records.
		if len(lazy) > len(recs) || !bytes.Equal(recordBytes(lazy), recordBytes(recs[:len(lazy)])) {
			t.Fatal("a lazy reader reads other records")
		}
		if len(lazy) == 0 {
			return
		}
		out := encodeOpt(t, WriterOptions{FrameSize: 256}, lazy[0].Kind(), lazy...)
		got, err := decodeAll(out, "")
		if err != nil || !bytes.Equal(recordBytes(got), recordBytes(lazy)) {
			t.Fatalf("records written on with their frames read back differently (%v)", err)
		}
	})
}

// readValid reads the records of data up to the first error (or a change
// of kind), lazily or not. Lazy records count only when their frames
// decompress and match their checksums, as a stage reading them would
// find out (and the next stage would, from the trailer, had it not).
func readValid(t *testing.T, data []byte, lazy bool) []Record {
	var pool Pool
	r := NewReader(bytes.NewReader(data))
	defer r.Close()
	r.UsePool(&pool)
	r.SetLazy(lazy)
	var recs []Record
	for i := 0; i < 1000; i++ {
		rec, err := r.Next()
		if err != nil {
			break
		}
		if rec.check() != nil {
			t.Fatal("reader returned a record that fails its check")
		}
		if len(recs) > 0 && rec.Kind() != recs[0].Kind() {
			break
		}
		if c, ok := rec.(*CT); ok && c.HUFrames != nil {
			if _, err := c.HUFrames.ReadAt(make([]byte, c.HUFrames.Size()), 0); err != nil {
				break
			}
		}
		recs = append(recs, rec)
	}
	return recs
}

// recordBytes encodes records as msgpack, for comparisons in which NaN
// equals NaN.
func recordBytes(recs []Record) []byte {
	var buf bytes.Buffer
	e := enc{e: msgpack.NewEncoder(&buf), w: &buf}
	for _, r := range recs {
		encodeRecord(&e, r)
	}
	return buf.Bytes()
}

// FuzzDecode fuzzes the msgpack layer directly (uncompressed input), where
// mutations reach the record decoders far more often than through zstd.
func FuzzDecode(f *testing.F) {
	for _, s := range [][]byte{
		encode(f, KindCT, testCT("1.2.3", true)),
		encode(f, KindCrop, testCrop()),
		encode(f, KindSlice, testSlice()),
		encode(f, KindPrediction, testPrediction()),
	} {
		d, _ := zstd.NewReader(nil)
		raw, _ := d.DecodeAll(s, nil)
		f.Add(raw)
	}
	for _, raw := range hostileSeeds(f) {
		f.Add(raw)
	}
	fuzzStack(f)
	f.Fuzz(func(t *testing.T, raw []byte) {
		in := &countingReader{r: bytes.NewReader(raw)}
		r := newRawReader(in)
		for i := 0; i < 1000; i++ {
			rec, err := r.Next()
			if err != nil {
				return
			}
			if rec.check() != nil {
				t.Fatal("reader returned a record that fails its check")
			}
			// What a reader accepts nests no deeper than the limits say.
			if d := nesting(raw[:in.n-r.hr.buffered()]); d > maxRecordNesting {
				t.Fatalf("reader accepted values nested %d deep (at most %d)", d, maxRecordNesting)
			}
		}
	})
}

func TestRecycleReusesBuffers(t *testing.T) {
	a, b := testCT("a", true), testCT("b", true)
	big := func(c *CT) { // large enough to be worth recycling
		c.Shape = [3]int{8, 256, 256}
		c.HU = make([]int16, 8*256*256)
		c.Mask = make([]uint8, 8*256*256)
		for i := range c.HU {
			c.HU[i] = int16(i % 3000)
		}
		c.Mask[len(c.Mask)-1] = 1
	}
	big(a)
	big(b)
	b.HU[0] = 42
	r := NewReader(bytes.NewReader(encode(t, KindCT, a, b)))
	first, err := r.Next()
	if err != nil {
		t.Fatal(err)
	}
	p := &first.(*CT).HU[0]
	r.Pool().Recycle(first)
	second, err := r.Next()
	if err != nil {
		t.Fatal(err)
	}
	if &second.(*CT).HU[0] != p {
		t.Error("recycled HU buffer not reused")
	}
	if !reflect.DeepEqual(second, b) {
		t.Error("record decoded into a recycled buffer differs")
	}
}

func TestStreamingWindowRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	w, err := NewWriterOptions(&buf, Header{Kind: KindSlice}, WriterOptions{Level: zstd.SpeedDefault, Window: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	want := []Record{testSlice(), testSlice()}
	for _, r := range want {
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	got, err := decodeAll(buf.Bytes(), KindSlice)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Error("records differ after a streaming-window round trip")
	}
}

func TestHeaderOfEmptyStream(t *testing.T) {
	r := NewReader(bytes.NewReader(encode(t, KindSlice)))
	defer r.Close()
	if _, err := r.Next(); err != io.EOF {
		t.Fatalf("empty stream: %v, want io.EOF", err)
	}
	if h := r.Header(); h == nil || h.Kind != KindSlice || h.Program != "test" {
		t.Errorf("header after an empty stream: %+v", h)
	}
}

// TestFullCTRecordsRoundTrip: format 1.2's slice CT keys, a slice without
// a label and a prediction's logits read back as written; a slice outside
// its CT is refused.
func TestFullCTRecordsRoundTrip(t *testing.T) {
	ct := testCT("1.2.3", true)
	s := testSlice()
	s.Label, s.SliceIndex = nil, 2
	s.CT = &SliceCT{Shape: ct.Shape, Geometry: ct.Geometry, Nodules: ct.Nodules}
	got, err := decodeAll(encode(t, KindSlice, s), KindSlice)
	if err != nil || len(got) != 1 || !reflect.DeepEqual(got[0], s) {
		t.Errorf("full-CT slice: %v\n%+v\nwant %+v", err, got, s)
	}
	p := testPrediction()
	p.Logit = make([]float32, len(p.Prob))
	for i := range p.Logit {
		p.Logit[i] = float32(i) - 8
	}
	got, err = decodeAll(encode(t, KindPrediction, p), KindPrediction)
	if err != nil || len(got) != 1 || !reflect.DeepEqual(got[0], p) {
		t.Errorf("prediction with logits: %v", err)
	}
	bad := *s
	bad.SliceIndex = ct.Shape[0]
	var buf bytes.Buffer
	w, _ := NewWriter(&buf, Header{Kind: KindSlice})
	if err := w.Write(&bad); err == nil || !strings.Contains(err.Error(), "outside ct_shape") {
		t.Errorf("slice outside its CT: %v", err)
	}
	w.Close()
}
