package format

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"iter"
	"os/exec"
	"reflect"
	"slices"
	"strings"
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
// that knows the layout from the package doc would (format 1.1 hints,
// "ctsC", and 1.0 hints, "ctsH"); it stops at the first byte that is not
// a hint and returns its offset.
func hintedFrames(t *testing.T, data []byte) (hints []frameHint, offsets []int, rest int) {
	t.Helper()
	o := 0
	for o+12 <= len(data) && binary.LittleEndian.Uint32(data[o:]) == 0x184D2A5C {
		var h frameHint
		switch id := string(data[o+8 : o+12]); {
		case id == "ctsC" && binary.LittleEndian.Uint32(data[o+4:]) == 24:
			h.len, h.hasCCRC, h.ccrc = 32, true, binary.LittleEndian.Uint32(data[o+28:])
		case id == "ctsH" && binary.LittleEndian.Uint32(data[o+4:]) == 20:
			h.len = 28
		default:
			return hints, offsets, o
		}
		h.csize, h.dsize = int(binary.LittleEndian.Uint32(data[o+12:])), int(binary.LittleEndian.Uint32(data[o+16:]))
		h.flags, h.crc = binary.LittleEndian.Uint32(data[o+20:]), binary.LittleEndian.Uint32(data[o+24:])
		hints, offsets = append(hints, h), append(offsets, o)
		o += h.len + h.csize
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
		comp := data[offsets[i]+h.len : offsets[i]+h.len+h.csize]
		if !h.hasCCRC || h.len != 32 {
			t.Fatalf("frame %d: a format 1.0 hint", i)
		}
		if c := crc32.Checksum(comp, castagnoli); c != h.ccrc {
			t.Errorf("frame %d: compressed CRC-32C %08x, hint says %08x", i, c, h.ccrc)
		}
		out, err := d.DecodeAll(comp, nil)
		if err != nil || len(out) != h.dsize {
			t.Fatalf("frame %d: %d bytes, %v; hint says %d", i, len(out), err, h.dsize)
		}
		if c := crc32.Checksum(out, castagnoli); c != h.crc {
			t.Errorf("frame %d: CRC-32C %08x, hint says %08x", i, c, h.crc)
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

// cts yields the CT records of r, failing the test on an error.
func cts(t *testing.T, r *Reader) iter.Seq[*CT] {
	return func(yield func(*CT) bool) {
		for {
			rec, err := r.Next()
			if err == io.EOF {
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !yield(rec.(*CT)) {
				return
			}
		}
	}
}

// lazyPass reads data lazily, as mkmask does, writes every record on and
// returns the new stream, with the number of HU tensors that came as
// Frames.
func lazyPass(t *testing.T, data []byte, change func(*CT)) (out []byte, lazy int) {
	t.Helper()
	var pool Pool
	r := NewReader(bytes.NewReader(data))
	defer r.Close()
	r.UsePool(&pool)
	r.SetLazy(true)
	var buf bytes.Buffer
	w, err := NewWriterOptions(&buf, Header{Kind: KindCT}, WriterOptions{FrameSize: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	for c := range cts(t, r) {
		if c.HUFrames != nil {
			lazy++
		}
		if change != nil {
			change(c)
		}
		if err := w.Write(c); err != nil {
			t.Fatal(err)
		}
		r.Pool().Recycle(c)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), lazy
}

func TestLazyRoundTrip(t *testing.T) {
	a, b := bigCT("a"), bigCT("b")
	b.HU[3] = 1234
	in := encodeOpt(t, WriterOptions{FrameSize: 1 << 20}, KindCT, a, testCT("small", true), b)
	out, lazy := lazyPass(t, in, func(c *CT) { c.Mask = nil })
	if lazy != 2 {
		t.Errorf("%d HU tensors kept compressed, want 2", lazy)
	}
	// The HU frames of the input are in the output, byte for byte.
	hints, offs, _ := hintedFrames(t, in)
	for i, h := range hints {
		if h.flags != 0 && !bytes.Contains(out, in[offs[i]:offs[i]+h.len+h.csize]) {
			t.Errorf("tensor frame %d was not passed on", i)
		}
	}
	got, err := decodeAll(out, KindCT)
	if err != nil {
		t.Fatal(err)
	}
	small := testCT("small", true)
	small.Mask = nil
	if !reflect.DeepEqual(got, []Record{a, small, b}) {
		t.Error("records differ after a lazy pass")
	}
	// And once more: frames passed on pass on again.
	if _, lazy := lazyPass(t, out, nil); lazy != 2 {
		t.Errorf("second pass: %d HU tensors kept compressed, want 2", lazy)
	}
}

// firstLazy writes cts as a stream of 1 MiB frames and reads the first
// record lazily; the reader is closed when the test ends.
func firstLazy(t *testing.T, cts ...Record) (*Reader, *CT) {
	t.Helper()
	r := NewReader(bytes.NewReader(encodeOpt(t, WriterOptions{FrameSize: 1 << 20}, KindCT, cts...)))
	t.Cleanup(r.Close)
	r.SetLazy(true)
	rec, err := r.Next()
	if err != nil {
		t.Fatal(err)
	}
	return r, rec.(*CT)
}

func TestLazyReadAt(t *testing.T) {
	c := bigCT("a")
	want := bytes.Clone(int16Bytes(c.HU))
	r, rec := firstLazy(t, c)
	f := rec.HUFrames
	if f == nil || rec.HU != nil || f.Size() != int64(len(want)) {
		t.Fatalf("HUFrames %v, HU of %d: want frames of %d bytes only", f, len(rec.HU), len(want))
	}
	for _, span := range [][2]int{{0, len(want)}, {0, 1 << 20}, {0, 1000}, {1 << 20, 1<<20 + 77}, {1 << 20, 2 << 20}, {5, 17}, {1<<20 - 3, 1<<20 + 5}, {100, 2<<20 + 100}, {len(want) - 1, len(want)}} {
		p := make([]byte, span[1]-span[0])
		n, err := f.ReadAt(p, int64(span[0]))
		if err != nil || n != len(p) || !bytes.Equal(p, want[span[0]:span[1]]) {
			t.Errorf("ReadAt [%d, %d): %d bytes, %v, equal %v", span[0], span[1], n, err, bytes.Equal(p, want[span[0]:span[1]]))
		}
	}
	if n, err := f.ReadAt(make([]byte, 10), int64(len(want)-4)); n != 4 || err != io.EOF {
		t.Errorf("ReadAt past the end: %d bytes, %v; want 4, EOF", n, err)
	}
	for _, tc := range [][3]int64{{0, 0, 1 << 20}, {1<<20 + 9, 1 << 20, 2 << 20}, {int64(len(want) - 1), 2 << 20, int64(len(want))}} {
		if s, e := f.FrameOf(tc[0]); s != tc[1] || e != tc[2] {
			t.Errorf("FrameOf(%d) = [%d, %d), want [%d, %d)", tc[0], s, e, tc[1], tc[2])
		}
	}
	if _, err := r.Next(); err != io.EOF {
		t.Errorf("after the record: %v, want EOF (trailer checked with the hints' checksums)", err)
	}
}

func TestLazyFallsBack(t *testing.T) {
	// A streaming frame has no hints: the lazy reader decompresses. A
	// masked CT's mask is read through, decompressed on the way.
	a, b := bigCT("a"), bigCT("b")
	b.Mask = make([]uint8, len(b.HU))
	b.Mask[12345] = 1
	// (Once the hints end, a reader decodes the rest of its input as
	// plain zstd: the streaming stream comes second.)
	in := append(encodeOpt(t, WriterOptions{FrameSize: 1 << 20}, KindCT, b), encodeOpt(t, WriterOptions{Window: 1 << 20}, KindCT, a)...)
	r := NewReader(bytes.NewReader(in))
	defer r.Close()
	r.SetLazy(true)
	got := slices.Collect(cts(t, r))
	if len(got) != 2 || got[1].HUFrames != nil || !reflect.DeepEqual(got[1], a) {
		t.Fatal("streaming-frame CT not read whole")
	}
	if got[0].HUFrames == nil || !reflect.DeepEqual(got[0].Mask, b.Mask) {
		t.Error("hinted CT: HU not kept compressed, or mask wrong")
	}
}

// legacyHints rewrites a stream's hints as format 1.0 wrote them: id
// "ctsH", no checksum of the compressed frame.
func legacyHints(t *testing.T, data []byte) []byte {
	hints, offs, rest := hintedFrames(t, data)
	var out []byte
	for i, h := range hints {
		var b [28]byte
		binary.LittleEndian.PutUint32(b[0:], 0x184D2A5C)
		binary.LittleEndian.PutUint32(b[4:], 20)
		copy(b[8:], "ctsH")
		copy(b[12:], data[offs[i]+12:offs[i]+28])
		out = append(append(out, b[:]...), data[offs[i]+h.len:offs[i]+h.len+h.csize]...)
	}
	return append(out, data[rest:]...)
}

// TestLazyCorruptFrames: a lazy reader checks the frames it keeps
// compressed against the checksum of their compressed bytes, so damage is
// reported by Next, at the record, before a stage could pass it on; and
// always there, however far the read-ahead got.
func TestLazyCorruptFrames(t *testing.T) {
	good := encodeOpt(t, WriterOptions{FrameSize: 1 << 20}, KindCT, bigCT("a"))
	hints, offs, _ := hintedFrames(t, good)
	// Damage the middle of the second HU frame's compressed bytes.
	bad := bytes.Clone(good)
	bad[offs[2]+hints[2].len+hints[2].csize/2] ^= 0x5A
	for range 20 {
		r := NewReader(bytes.NewReader(bad))
		r.SetLazy(true)
		r.SetName("bad.stream")
		_, err := r.Next()
		r.Close()
		if !errors.Is(err, ErrChecksum) || !strings.Contains(err.Error(), fmt.Sprintf("bad.stream: in record 1 (ct): hu: data: the zstd frame at byte %d", offs[2])) {
			t.Fatalf("lazy Next over a damaged frame: %v", err)
		}
	}
	// Format 1.0 hints have no such checksum: a lazy reader decompresses
	// their frames, and still reports the damage at Next.
	old := legacyHints(t, good)
	if got, err := decodeAll(old, KindCT); err != nil || !reflect.DeepEqual(got[0], bigCT("a")) {
		t.Fatalf("a stream with format 1.0 hints: %v", err)
	}
	oldHints, oldOffs, _ := hintedFrames(t, old)
	oldBad := bytes.Clone(old)
	oldBad[oldOffs[2]+oldHints[2].len+oldHints[2].csize/2] ^= 0x5A
	for range 20 {
		r := NewReader(bytes.NewReader(oldBad))
		r.SetLazy(true)
		_, err := r.Next()
		r.Close()
		if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrChecksum) {
			t.Fatalf("lazy Next over a damaged frame with a format 1.0 hint: %v", err)
		}
	}
	// A hint whose checksum of the decompressed bytes lies: the lazy
	// reader's trailer check fails, and ReadAt of the frame names it.
	lie := bytes.Clone(good)
	binary.LittleEndian.PutUint32(lie[offs[1]+24:], hints[1].crc^1)
	r := NewReader(bytes.NewReader(lie))
	defer r.Close()
	r.SetLazy(true)
	r.SetName("lie.stream")
	rec, err := r.Next()
	if err != nil {
		t.Fatal(err)
	}
	_, err = rec.(*CT).HUFrames.ReadAt(make([]byte, 1<<20), 0)
	if !errors.Is(err, ErrChecksum) || !strings.Contains(err.Error(), "lie.stream: record 1 (ct): hu: frame 1 of 3") {
		t.Errorf("ReadAt of the frame with a lying hint: %v", err)
	}
	if _, err := r.Next(); !errors.Is(err, ErrChecksum) {
		t.Errorf("trailer after a lying hint: %v, want %v", err, ErrChecksum)
	}
	// A reader that decompresses the frame catches the lie at the frame.
	_, err = decodeAll(lie, KindCT)
	if !errors.Is(err, ErrChecksum) || !strings.Contains(err.Error(), fmt.Sprintf("frame at byte %d", offs[1])) {
		t.Errorf("eager reader, lying hint: %v, want a checksum error at byte %d", err, offs[1])
	}
}

func TestFramesAfterRecycle(t *testing.T) {
	r, rec := firstLazy(t, bigCT("a"), bigCT("b"))
	f := rec.HUFrames
	r.Pool().Recycle(rec)
	if _, err := r.Next(); err != nil {
		t.Fatal(err)
	}
	if _, err := f.ReadAt(make([]byte, 10), 0); err == nil || !strings.Contains(err.Error(), "recycled") {
		t.Errorf("ReadAt after Recycle: %v, want an error", err)
	}
}

func TestLargeFramesHaveNoHints(t *testing.T) {
	// Frames over 32 MiB get no hints; the trailer must still be right.
	c := bigCT("a")
	data := encodeOpt(t, WriterOptions{FrameSize: 64 << 20}, KindCT, c)
	if hints, _, _ := hintedFrames(t, data); len(hints) != 0 {
		t.Errorf("%d hints with 64 MiB frames", len(hints))
	}
	got, err := decodeAll(data, KindCT)
	if err != nil || len(got) != 1 || !reflect.DeepEqual(got[0], c) {
		t.Errorf("64 MiB frames: %v", err)
	}
}

func TestZeroFramesCached(t *testing.T) {
	c := bigCT("z")
	c.Mask = make([]uint8, len(c.HU)) // 1.25 MiB: two frames, both zero
	c2 := bigCT("z2")
	c2.Mask = make([]uint8, len(c.HU))
	c2.Mask[len(c2.Mask)-1] = 1
	data := encodeOpt(t, WriterOptions{FrameSize: 1 << 20}, KindCT, c, c2)
	hints, offs, _ := hintedFrames(t, data)
	frames := map[uint32][]string{}
	for i, h := range hints {
		if h.dsize == 1<<20 {
			frames[h.crc] = append(frames[h.crc], string(data[offs[i]+h.len:offs[i]+h.len+h.csize]))
		}
	}
	zero := crc32.Checksum(make([]byte, 1<<20), castagnoli)
	if z := frames[zero]; len(z) != 2 || z[0] != z[1] {
		t.Errorf("zero frames of 1 MiB: %d, want 2 equal ones", len(z))
	}
	got, err := decodeAll(data, KindCT)
	if err != nil || !reflect.DeepEqual(got, []Record{c, c2}) {
		t.Errorf("masks do not read back: %v", err)
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
		{"compressed size short", edit(1, cs, uint32(hints[1].csize-10)), []error{ErrCorrupt, ErrChecksum}},
		{"compressed size long", edit(1, cs, uint32(hints[1].csize+10)), []error{ErrCorrupt, ErrTruncated, ErrChecksum}},
		// 32 more takes in the next hint, which zstd would skip unnoticed.
		{"compressed size takes in the next hint", edit(1, cs, uint32(hints[1].csize+32)), []error{ErrChecksum}},
		{"reserved flag bits", edit(1, 2, hints[1].flags|4), []error{ErrCorrupt}},
		{"compressed checksum", edit(1, 4, hints[1].ccrc^1), []error{ErrChecksum}},
		{"last frame too long", edit(len(hints)-1, cs, uint32(hints[len(hints)-1].csize+100)), []error{ErrTruncated}},
		{"truncated in a frame", good[:offs[2]+hints[2].len+hints[2].csize/2], []error{ErrTruncated}},
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

// TestFrameBoundaryInvariant checks the invariant of the package doc
// ("Frames and hints") on streams written with several frame and tensor
// sizes: the frames from one flagged 1 to the next flagged 2 hold exactly
// one large tensor's data, in order, and nothing else.
func TestFrameBoundaryInvariant(t *testing.T) {
	d, _ := zstd.NewReader(nil)
	defer d.Close()
	for _, tc := range []struct{ frame, slices int }{
		{1 << 20, 20}, {1 << 20, 16}, {512 << 10, 9}, {300 << 10, 33},
	} {
		c := bigCT("a")
		c.Shape[0] = tc.slices
		c.HU = c.HU[:0]
		for i := range tc.slices * c.Shape[1] * c.Shape[2] {
			c.HU = append(c.HU, int16(i*31%2000-1000))
		}
		c.Mask = make([]uint8, len(c.HU))
		c.Mask[len(c.Mask)/3] = 1
		data := encodeOpt(t, WriterOptions{FrameSize: tc.frame}, KindCT, c)
		hints, offs, _ := hintedFrames(t, data)
		var tensors [][]byte
		var cur []byte
		in := false
		for i, h := range hints {
			out, err := d.DecodeAll(data[offs[i]+h.len:offs[i]+h.len+h.csize], nil)
			if err != nil {
				t.Fatal(err)
			}
			if h.flags&hintFirst != 0 {
				if in {
					t.Fatalf("frame size %d: frame %d starts a tensor inside another", tc.frame, i)
				}
				in, cur = true, nil
			}
			if in {
				cur = append(cur, out...)
			}
			if h.flags&hintLast != 0 {
				if !in {
					t.Fatalf("frame size %d: frame %d ends a tensor never started", tc.frame, i)
				}
				in, tensors = false, append(tensors, cur)
			}
		}
		// Tensors of 1 MiB or more (bulkMin) get frames of their own.
		var want [][]byte
		for _, b := range [][]byte{int16Bytes(c.HU), c.Mask} {
			if len(b) >= bulkMin {
				want = append(want, b)
			}
		}
		if !reflect.DeepEqual(tensors, want) {
			t.Errorf("frame size %d, %d slices: %d tensors framed, want exactly the %d of 1 MiB or more", tc.frame, tc.slices, len(tensors), len(want))
		}
	}
}

// failingWriter accepts n bytes, then fails every write.
type failingWriter struct{ n int }

var errDiskFull = errors.New("disk full")

func (f *failingWriter) Write(p []byte) (int, error) {
	if len(p) > f.n {
		k := f.n
		f.n = 0
		return k, errDiskFull
	}
	f.n -= len(p)
	return len(p), nil
}

// TestWriterFailedWrite: when the output fails, in a frame of a large
// tensor or of the records around it, the Writer reports the error (from
// Write or at the latest from Close), never hangs, and writes no trailer.
func TestWriterFailedWrite(t *testing.T) {
	good := encodeOpt(t, WriterOptions{FrameSize: 1 << 20}, KindCT, bigCT("a"), bigCT("b"))
	var out bytes.Buffer
	w, err := NewWriterOptions(&out, Header{Kind: KindCT}, WriterOptions{FrameSize: 1 << 20})
	if err != nil || writeAll(t, w, good, false) != nil || w.Close() != nil {
		t.Fatal("writing to memory failed")
	}
	size := out.Len()
	for _, limit := range []int{0, 100, size / 4, size / 2, size - 10} {
		for _, passOn := range []bool{false, true} {
			fw := &failingWriter{n: limit}
			w, err := NewWriterOptions(fw, Header{Kind: KindCT}, WriterOptions{FrameSize: 1 << 20})
			if err == nil {
				err = writeAll(t, w, good, passOn)
			}
			if err == nil {
				err = w.Close()
			} else {
				w.Close()
			}
			if !errors.Is(err, errDiskFull) {
				t.Errorf("output failing after %d bytes (frames passed on %v): %v, want %v", limit, passOn, err, errDiskFull)
			}
		}
	}
}

// writeAll writes the records of data to w, read lazily (their HU written
// on as frames) when passOn is set; it returns the first write error.
func writeAll(t *testing.T, w *Writer, data []byte, passOn bool) error {
	r := NewReader(bytes.NewReader(data))
	defer r.Close()
	r.SetLazy(passOn)
	for {
		rec, err := r.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Write(rec); err != nil {
			return err
		}
	}
}
