package format

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"os/exec"
	"reflect"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// bigCT is a CT whose HU tensor (2.5 MiB) gets frames of its own.
func bigCT(uid string) *CT {
	c := testCT(uid, false)
	c.Shape = [3]int{20, 256, 256}
	c.HU = make([]int16, 20*256*256)
	for i := range c.HU {
		c.HU[i] = int16(i%1777 - 1000 + i/65536)
	}
	return c
}

func encodeOpt(t testing.TB, opt WriterOptions, kind Kind, recs ...Record) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := NewWriterOptions(&buf, Header{Kind: kind, Program: "test", Args: []string{"-x", "1"}}, opt)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// hintedFrames walks a stream's leading hints and frames, as a reader
// that knows the layout from the package doc would; it stops at the first
// byte that is not a hint and returns its offset.
func hintedFrames(t *testing.T, data []byte) (hints []frameHint, offsets []int, rest int) {
	t.Helper()
	o := 0
	for o+24 <= len(data) && binary.LittleEndian.Uint32(data[o:]) == 0x184D2A5C && string(data[o+8:o+12]) == "ctsH" {
		h := frameHint{csize: int(binary.LittleEndian.Uint32(data[o+12:])), dsize: int(binary.LittleEndian.Uint32(data[o+16:])),
			flags: binary.LittleEndian.Uint32(data[o+20:])}
		hints, offsets = append(hints, h), append(offsets, o)
		o += 24 + h.csize
	}
	return hints, offsets, o
}

func TestWriterHintsFrames(t *testing.T) {
	c := bigCT("a")
	data := encodeOpt(t, WriterOptions{FrameSize: 1 << 20}, KindCT, c)
	hints, offsets, rest := hintedFrames(t, data)
	if rest != len(data) {
		t.Fatalf("hints cover %d of %d bytes", rest, len(data))
	}
	// The header and the CT's keys up to the HU data, 3 HU frames (1, 1
	// and 0.5 MiB), the rest of the record, the trailer.
	var flags []uint32
	var sizes []int
	d, _ := zstd.NewReader(nil)
	defer d.Close()
	for i, h := range hints {
		flags, sizes = append(flags, h.flags), append(sizes, h.dsize)
		out, err := d.DecodeAll(data[offsets[i]+24:offsets[i]+24+h.csize], nil)
		if err != nil || len(out) != h.dsize {
			t.Fatalf("frame %d: %d bytes, %v; hint says %d", i, len(out), err, h.dsize)
		}
	}
	if len(hints) != 6 || !reflect.DeepEqual(flags, []uint32{0, hintFirst, 0, hintLast, 0, 0}) ||
		!reflect.DeepEqual(sizes[1:4], []int{1 << 20, 1 << 20, 1 << 19}) {
		t.Errorf("frames: flags %v sizes %v", flags, sizes)
	}
	// A decoder that knows nothing of hints reads the same bytes as ours.
	raw, err := d.DecodeAll(data, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(raw, int16Bytes(c.HU)) {
		t.Error("HU bytes not in the plainly decoded stream")
	}
	// So does the reference implementation, when it is installed.
	if zstdCLI, err := exec.LookPath("zstd"); err == nil {
		cmd := exec.Command(zstdCLI, "-d", "-c")
		cmd.Stdin = bytes.NewReader(data)
		got, err := cmd.Output()
		if err != nil || !bytes.Equal(got, raw) {
			t.Errorf("zstd -d: %d bytes, %v; want the %d bytes klauspost decodes", len(got), err, len(raw))
		}
	}
}

// passOnce reads data with a pool, writes every record on with that pool,
// optionally changing each first, and returns the new stream.
func passOnce(t *testing.T, data []byte, change func(*CT)) (out []byte, passed int) {
	t.Helper()
	var pool Pool
	r := NewReader(bytes.NewReader(data))
	defer r.Close()
	r.UsePool(&pool)
	var buf bytes.Buffer
	w, err := NewWriterOptions(&buf, Header{Kind: KindCT}, WriterOptions{FrameSize: 1 << 20, Pool: &pool})
	if err != nil {
		t.Fatal(err)
	}
	for {
		rec, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		c := rec.(*CT)
		if known(&pool, int16Bytes(c.HU)) {
			passed++
		}
		if change != nil {
			change(c)
		}
		if err := w.Write(c); err != nil {
			t.Fatal(err)
		}
		r.Recycle(c)
		if len(pool.free.pass) != 0 {
			t.Errorf("%d pool entries after recycling the record", len(pool.free.pass))
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), passed
}

func TestPassthroughRoundTrip(t *testing.T) {
	a, b := bigCT("a"), bigCT("b")
	b.HU[3] = 1234
	in := encodeOpt(t, WriterOptions{FrameSize: 1 << 20}, KindCT, a, testCT("small", true), b)
	out, passed := passOnce(t, in, nil)
	if passed != 2 {
		t.Errorf("%d tensors known to the pool, want 2", passed)
	}
	// The HU frames of the input are in the output, byte for byte.
	hints, offs, _ := hintedFrames(t, in)
	for i, h := range hints {
		if h.flags != 0 && !bytes.Contains(out, in[offs[i]:offs[i]+24+h.csize]) {
			t.Errorf("tensor frame %d was not passed through", i)
		}
	}
	got, err := decodeAll(out, KindCT)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, []Record{a, testCT("small", true), b}) {
		t.Error("records differ after passthrough")
	}
	// And once more: passed-through frames pass through again.
	if _, passed := passOnce(t, out, nil); passed != 2 {
		t.Errorf("second pass: %d tensors known to the pool, want 2", passed)
	}
}

func TestPassthroughModifiedTensor(t *testing.T) {
	in := encodeOpt(t, WriterOptions{FrameSize: 1 << 20}, KindCT, bigCT("a"))
	out, _ := passOnce(t, in, func(c *CT) { c.HU[len(c.HU)-1] = -7 })
	want := bigCT("a")
	want.HU[len(want.HU)-1] = -7
	got, err := decodeAll(out, KindCT)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || !reflect.DeepEqual(got[0], want) {
		t.Error("the modified tensor did not come out modified")
	}
}

func TestRecycledBufferForgotten(t *testing.T) {
	// The second stream is one streaming frame: its HU decodes into the
	// first record's recycled buffer, which must not pass for the first
	// record's frames.
	a, b := bigCT("a"), bigCT("b")
	b.HU[0] = 99
	in := append(encodeOpt(t, WriterOptions{FrameSize: 1 << 20}, KindCT, a),
		encodeOpt(t, WriterOptions{Window: 1 << 20}, KindCT, b)...)
	var pool Pool
	if _, err := NewWriterOptions(io.Discard, Header{Kind: KindCT}, WriterOptions{Pool: &pool}); err != nil {
		t.Fatal(err)
	}
	r := NewReader(bytes.NewReader(in))
	defer r.Close()
	r.UsePool(&pool)
	first, err := r.Next()
	if err != nil {
		t.Fatal(err)
	}
	hu := int16Bytes(first.(*CT).HU)
	if !known(&pool, hu) {
		t.Fatal("first HU not in the pool")
	}
	r.Recycle(first)
	second, err := r.Next()
	if err != nil {
		t.Fatal(err)
	}
	if hu2 := int16Bytes(second.(*CT).HU); &hu2[0] != &hu[0] {
		t.Fatal("recycled buffer not reused")
	} else if known(&pool, hu2) {
		t.Error("a reused buffer kept the frames of its earlier data")
	}
}

func TestHintedUnhintedConcatenation(t *testing.T) {
	hinted := encodeOpt(t, WriterOptions{FrameSize: 1 << 20}, KindCT, bigCT("h1"))
	window := encodeOpt(t, WriterOptions{Window: 1 << 20}, KindCT, testCT("w", true))
	plain := rewrite(t, encode(t, KindCT, testCT("p", false)), func(b []byte) []byte { return b })
	hinted2 := encode(t, KindCT, testCT("h2", true))
	for _, tc := range []struct {
		name  string
		parts [][]byte
		uids  []string
	}{
		{"hinted, window, hinted", [][]byte{hinted, window, hinted2}, []string{"h1", "w", "h2"}},
		{"plain, hinted", [][]byte{plain, hinted}, []string{"p", "h1"}},
		{"hinted, plain, hinted", [][]byte{hinted2, plain, hinted}, []string{"h2", "p", "h1"}},
	} {
		got, err := decodeAll(bytes.Join(tc.parts, nil), KindCT)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		var uids []string
		for _, r := range got {
			uids = append(uids, r.(*CT).SeriesUID)
		}
		if !reflect.DeepEqual(uids, tc.uids) {
			t.Errorf("%s: got %v", tc.name, uids)
		}
	}
}

func TestCorruptHints(t *testing.T) {
	good := encodeOpt(t, WriterOptions{FrameSize: 1 << 20}, KindCT, bigCT("a"))
	hints, offs, _ := hintedFrames(t, good)
	edit := func(frame, field int, v uint32) []byte {
		b := bytes.Clone(good)
		binary.LittleEndian.PutUint32(b[offs[frame]+12+4*field:], v)
		return b
	}
	cs, ds := 0, 1
	for _, tc := range []struct {
		name string
		data []byte
		want []error
	}{
		{"huge compressed size", edit(1, cs, 0xFFFFFFF0), []error{ErrCorrupt}},
		{"huge decompressed size", edit(1, ds, 1<<30), []error{ErrCorrupt}},
		{"zero compressed size", edit(0, cs, 0), []error{ErrCorrupt}},
		{"decompressed size off by one", edit(2, ds, uint32(hints[2].dsize+1)), []error{ErrCorrupt}},
		{"compressed size short", edit(1, cs, uint32(hints[1].csize-10)), []error{ErrCorrupt}},
		{"compressed size long", edit(1, cs, uint32(hints[1].csize+10)), []error{ErrCorrupt, ErrTruncated}},
		{"last frame too long", edit(len(hints)-1, cs, uint32(hints[len(hints)-1].csize+100)), []error{ErrTruncated}},
		{"truncated in a frame", good[:offs[2]+24+hints[2].csize/2], []error{ErrTruncated}},
		{"truncated in a hint", good[:offs[2]+10], []error{ErrTruncated}},
	} {
		_, err := decodeAll(tc.data, KindCT)
		t.Logf("%s: %v", tc.name, err)
		ok := false
		for _, w := range tc.want {
			ok = ok || errors.Is(err, w)
		}
		if !ok {
			t.Errorf("%s: got %v, want %v", tc.name, err, tc.want)
		}
	}
}

// known reports whether the pool would pass data through.
func known(p *Pool, data []byte) bool {
	return p.frames(data, crc32.Checksum(data, castagnoli)) != nil
}

func TestPoolWithoutWriterKeepsNothing(t *testing.T) {
	// A consumer that writes nothing on (crop) must not have its readers
	// keep compressed frames, nor the tensors they belong to.
	var pool Pool
	r := NewReader(bytes.NewReader(encodeOpt(t, WriterOptions{FrameSize: 1 << 20}, KindCT, bigCT("a"))))
	defer r.Close()
	r.UsePool(&pool)
	if _, err := r.Next(); err != nil {
		t.Fatal(err)
	}
	if len(pool.free.pass) != 0 {
		t.Errorf("%d pool entries without a passthrough writer", len(pool.free.pass))
	}
}
