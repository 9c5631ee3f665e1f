package blackbox

// A regression suite of bad inputs: every case feeds one program something
// broken, derived from a small valid data set made once per run, and
// checks that the program fails cleanly (failsCleanly) with the words that
// name the problem, and leaves no output file behind. A few controls check
// that the valid inputs the bad ones are derived from still pass.
//
// Cases whose behaviour is known to be wrong and is being fixed elsewhere
// are deliberately absent: a trailing -o without value, deeply nested
// msgpack, series uids with path elements under mkmask --png, trailing
// garbage after a stream, DimSize 4294967296, CSV headers holding binary,
// and CSV rows with implausible values (negative diameter, centre outside
// the volume).

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// regressFixture holds the valid inputs the bad ones are made from.
type regressFixture struct {
	data string // a mkphantom data set (LUNA16 layout)
	uid  string // the first series uid of it, by name
	mhd  string // that series' header file
	raw  string // and its data file

	ct, masked, crops, val []byte // streams: ctread, mkmask, crop, crop --val
}

// newRegressFixture makes the fixture in t's temporary directory: two
// 128×128×24 series, read, masked and cropped. The programs run there
// with relative paths, so that the streams' headers, and so their frames,
// are the same from run to run but for the time in them.
func newRegressFixture(t *testing.T) *regressFixture {
	t.Helper()
	dir := t.TempDir()
	f := &regressFixture{data: filepath.Join(dir, "luna16")}
	ok := func(r result, what string) []byte {
		t.Helper()
		if r.code != 0 || len(r.stdout) == 0 && what != "mkphantom" {
			t.Fatalf("making the fixture, %s: %v", what, r)
		}
		return r.stdout
	}
	ok(run(t, dir, nil, "mkphantom", "-q", "--out", "luna16", "--series", "2", "--size", "128x128x24", "--seed", "1"), "mkphantom")
	f.ct = ok(run(t, dir, nil, "ctread", "-q", "--data", "luna16"), "ctread")
	f.masked = ok(run(t, dir, f.ct, "mkmask", "-q", "--data", "luna16"), "mkmask")
	f.crops = ok(run(t, dir, f.masked, "crop", "-q"), "crop")
	f.val = ok(run(t, dir, f.masked, "crop", "-q", "--val"), "crop --val")
	mhds, err := filepath.Glob(filepath.Join(f.data, "subset*", "*.mhd"))
	if err != nil || len(mhds) != 2 {
		t.Fatalf("making the fixture: headers %v (%v), want 2", mhds, err)
	}
	sort.Strings(mhds)
	f.mhd = mhds[0]
	f.raw = strings.TrimSuffix(f.mhd, ".mhd") + ".raw"
	f.uid = strings.TrimSuffix(filepath.Base(f.mhd), ".mhd")
	return f
}

// badCase is one bad input to one program.
type badCase struct {
	name  string
	prog  string
	args  []string
	stdin []byte
	files map[string][]byte                        // written into the case's directory first
	setup func(t *testing.T, dir string)           // further preparation, after files
	want  []string                                 // words the error must hold, every one
	anyOf []string                                 // words of which the error must hold one
	after func(t *testing.T, dir string, r result) // further checks; replaces the failure checks when set with mayPass
	// partial: stdout may hold what the program wrote before it found
	// the problem (streamcat prints as it reads; stages stream).
	partial bool
	// mayPass: the program may succeed (it does not read what is damaged,
	// by design); after then checks that the damage is caught downstream.
	mayPass bool
}

// outputArg returns the value of -o/--output/--out in args, or "".
func outputArg(args []string) string {
	for i, a := range args {
		switch a {
		case "-o", "--output", "-output", "--out", "-out":
			if i+1 < len(args) {
				return args[i+1]
			}
		}
		for _, p := range []string{"--output=", "-o=", "--out="} {
			if strings.HasPrefix(a, p) {
				return a[len(p):]
			}
		}
	}
	return ""
}

func runBadCases(t *testing.T, cases []badCase) {
	t.Helper()
	seen := map[string]bool{}
	for _, c := range cases {
		if seen[c.name] {
			t.Fatalf("two cases named %q", c.name)
		}
		seen[c.name] = true
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			for name, b := range c.files {
				p := filepath.Join(dir, name)
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, b, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if c.setup != nil {
				c.setup(t, dir)
			}
			out := outputArg(c.args)
			if out != "" && !filepath.IsAbs(out) {
				out = filepath.Join(dir, out)
			}
			var before []byte
			existed, isDir := false, false
			if out != "" {
				if fi, err := os.Stat(out); err == nil {
					existed, isDir = true, fi.IsDir()
					if !isDir {
						before, _ = os.ReadFile(out)
					}
				}
			}
			entries := dirNames(t, dir)
			r := run(t, dir, c.stdin, c.prog, c.args...)
			if c.mayPass && r.code == 0 {
				if c.after == nil {
					t.Fatal("mayPass without after")
				}
				c.after(t, dir, r)
				return
			}
			fr := r
			if c.partial {
				fr.stdout = nil
			}
			failsCleanly(t, c.prog, fr, c.want...)
			if len(c.anyOf) > 0 {
				msg := lastStderrLine(r.stderr)
				found := false
				for _, w := range c.anyOf {
					found = found || strings.Contains(msg, w)
				}
				if !found {
					t.Errorf("%s: error %q says none of %q", c.prog, msg, c.anyOf)
				}
			}
			if out != "" {
				fi, err := os.Stat(out)
				switch {
				case !existed && err == nil:
					t.Errorf("%s: output %s left behind after a failure", c.prog, filepath.Base(out))
				case existed && err != nil:
					t.Errorf("%s: the existing %s is gone after a failure: %v", c.prog, filepath.Base(out), err)
				case existed && !isDir && fi.IsDir() != isDir:
					t.Errorf("%s: the existing %s changed type after a failure", c.prog, filepath.Base(out))
				case existed && !isDir:
					if now, _ := os.ReadFile(out); !bytes.Equal(now, before) {
						t.Errorf("%s: the existing %s was changed by a failed run", c.prog, filepath.Base(out))
					}
				}
			}
			// Nor a temporary file or anything else.
			for name := range dirNames(t, dir) {
				if !entries[name] {
					t.Errorf("%s: %s left behind after a failure", c.prog, name)
				}
			}
			if c.after != nil && !c.mayPass {
				c.after(t, dir, r)
			}
		})
	}
}

// dirNames returns the names in directory dir.
func dirNames(t *testing.T, dir string) map[string]bool {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	m := make(map[string]bool, len(es))
	for _, e := range es {
		m[e.Name()] = true
	}
	return m
}

func lastStderrLine(b []byte) string {
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return lines[len(lines)-1]
}

// hintedFrame is one hinted zstd frame of a stream: the offsets of its hint,
// of the frame itself, and of the byte after it, its size decompressed,
// and whether its hint carries the checksum of the compressed bytes.
type hintedFrame struct {
	hint, start, end, dsize int
	ccrc                    bool
}

// hintedFrames lists the hinted frames at the start of stream b (format
// doc: a skippable frame before each frame, with id "ctsC" and a 24-byte
// payload, or, as format 1.0 wrote them, "ctsH" and 20 bytes).
func hintedFrames(b []byte) []hintedFrame {
	var fs []hintedFrame
	le := binary.LittleEndian
	for i := 0; i+28 <= len(b); {
		size, id := le.Uint32(b[i+4:]), string(b[i+8:i+12])
		if le.Uint32(b[i:]) != 0x184D2A5C || !(id == "ctsH" && size == 20 || id == "ctsC" && size == 24) {
			break
		}
		cs, ds := int(le.Uint32(b[i+12:])), int(le.Uint32(b[i+16:]))
		start := i + 8 + int(size)
		fs = append(fs, hintedFrame{i, start, start + cs, ds, id == "ctsC"})
		i = start + cs
	}
	return fs
}

// trailerAt returns the offset from which a cut leaves the stream whole
// but for its trailer: the hint of a last frame that holds the trailer
// alone, or -1 when the stream has no such frame.
func trailerAt(b []byte) int {
	fs := hintedFrames(b)
	if len(fs) < 2 || fs[len(fs)-1].end != len(b) || fs[len(fs)-1].dsize > 64 {
		return -1
	}
	return fs[len(fs)-1].hint
}

// cutPoints returns lengths to cut stream b to: inside and at the edges of
// its hints and frames, or spread over it when it has no hints; a few of
// them only unless full.
func cutPoints(b []byte, full bool) []int {
	n := len(b)
	fs := hintedFrames(b)
	var pts []int
	switch {
	case !full && len(fs) > 2:
		pts = []int{8, fs[1].start + 6, (fs[len(fs)-2].start + fs[len(fs)-2].end) / 2, fs[len(fs)-1].hint}
	case !full:
		pts = []int{8, n / 2, n - 1}
	case len(fs) == 0:
		pts = []int{1, 4, 8, 10, 100, n / 8, n / 4, n / 2, 3 * n / 4, n - 1}
	default:
		pts = []int{1, 4, 8, n - 1}
		for _, f := range fs {
			pts = append(pts, f.hint, f.start+6, (f.start+f.end)/2)
		}
	}
	sort.Ints(pts)
	var out []int
	for _, p := range pts {
		if p > 0 && p < n && (len(out) == 0 || out[len(out)-1] != p) {
			out = append(out, p)
		}
	}
	return out
}

// flipAt is a bit to flip in a stream, the words of which the error must
// hold one, and whether the bit is inside a zstd frame (not a hint).
type flipAt struct {
	at      int
	bit     uint
	words   []string
	inFrame bool
}

// flipPoints returns bits to flip in the parts of stream b that carry data
// or sizes. It leaves out a hint's magic, id and flags: a hint so damaged
// is no hint, or an odd one, and the frame behind it still decodes to the
// very same bytes, which a reader rightly accepts. So does a frame's
// compressed-bytes checksum (ccrc32c) when the frame is decompressed (all
// of this small data set's are): the checksum of its decompressed bytes
// is checked instead. A bit changing a frame's compressed size by 32 is
// left out too: then the frame takes in the 32-byte hint after it, a
// skippable frame, and decodes the same. (Bits inside frames that no
// decoder reads are left out by the caller.)
func flipPoints(b []byte, full bool) []flipAt {
	n := len(b)
	fs := hintedFrames(b)
	damaged := []string{"corrupt", "checksum", "not a ctseg stream"}
	var pts []flipAt
	add := func(at int, words []string, inFrame bool) {
		pts = append(pts, flipAt{at, uint(len(pts)%2) * 6, words, inFrame})
	}
	mid := func(f hintedFrame) int { return (f.start + f.end) / 2 }
	switch {
	case !full && len(fs) > 2:
		add(mid(fs[0]), damaged, true)
		add(mid(fs[len(fs)-2]), damaged, true)
	case !full || len(fs) == 0:
		for _, at := range []int{0, 4, 100, n / 4, n / 2, 3 * n / 4, n - 1} {
			if full || at == n/2 {
				add(at, damaged, true)
			}
		}
	default:
		for i, f := range fs {
			// A frame size too big can look like a cut stream.
			add(f.hint+12, append([]string{"truncated"}, damaged...), false)
			add(f.hint+25, damaged, false)
			add(mid(f), damaged, true)
			if i == 0 || i == len(fs)-1 {
				add(f.hint+16, damaged, false)
				add(f.start, damaged, true)
				add(f.start+7, damaged, true)
				add(f.end-1, damaged, true)
			}
		}
	}
	return pts
}

// zstdSame says whether plain zstd decodes b, hints skipped, to raw: a
// bit flipped in b that no decoder reads (padding, a window size that is
// big enough either way) leaves a stream a reader rightly accepts.
func zstdSame(b, raw []byte) bool {
	d, err := zstd.NewReader(nil)
	if err != nil {
		return false
	}
	defer d.Close()
	got, err := d.DecodeAll(b, nil)
	return err == nil && bytes.Equal(got, raw)
}

func cutStream(b []byte, n int) []byte { return append([]byte(nil), b[:n]...) }

func flipBit(b []byte, at int, bit uint) []byte {
	c := append([]byte(nil), b...)
	c[at] ^= 1 << bit
	return c
}

func concat(bs ...[]byte) []byte { return bytes.Join(bs, nil) }

// unzstd returns the msgpack bytes of stream b (hints skipped).
func unzstd(t testing.TB, b []byte) []byte {
	t.Helper()
	d, err := zstd.NewReader(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	raw, err := d.DecodeAll(b, nil)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// zstdOf makes a stream (one plain zstd frame, no hints) of msgpack raw.
func zstdOf(t testing.TB, raw []byte) []byte {
	t.Helper()
	e, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest))
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	return e.EncodeAll(raw, nil)
}

// editRaw returns stream b decompressed, changed by edit and compressed
// again, so that only the format's own checks can catch the change.
func editRaw(t testing.TB, b []byte, edit func(raw []byte) []byte) []byte {
	t.Helper()
	return zstdOf(t, edit(append([]byte(nil), unzstd(t, b)...)))
}

// reseal returns raw, one stream, with its trailer's crc32c recomputed
// for its edited records.
func reseal(t testing.TB, raw []byte) []byte {
	t.Helper()
	tr := mustIndex(t, raw, "\x92\xa7trailer")
	k := bytes.LastIndex(raw, []byte("\xa6crc32c"))
	if k < tr {
		t.Fatal("no crc32c in the trailer")
	}
	v := k + 7
	size := map[byte]int{0xcc: 2, 0xcd: 3, 0xce: 5}[raw[v]]
	if raw[v] < 0x80 {
		size = 1
	}
	if size == 0 || v+size > len(raw) {
		t.Fatalf("trailer crc32c encoded as %#x", raw[v])
	}
	sum := make([]byte, 5)
	sum[0] = 0xce
	binary.BigEndian.PutUint32(sum[1:], crc32.Checksum(raw[:tr], crc32.MakeTable(crc32.Castagnoli)))
	return concat(raw[:v], sum, raw[v+size:])
}

// mustIndex returns the offset of s in raw, failing t when absent.
func mustIndex(t testing.TB, raw []byte, s string) int {
	t.Helper()
	i := bytes.Index(raw, []byte(s))
	if i < 0 {
		t.Fatalf("%q not in the stream", s)
	}
	return i
}

// tensorByte returns the offset of a byte 1000 bytes into the data of the
// first big tensor in raw (msgpack "data" key, bin32 value).
func tensorByte(t testing.TB, raw []byte) int {
	t.Helper()
	i := bytes.Index(raw, []byte("\xa4data\xc6"))
	if i < 0 {
		t.Fatal("no bin32 tensor data in the stream")
	}
	i += 6
	if n := int(binary.BigEndian.Uint32(raw[i:])); n < 2000 {
		t.Fatalf("tensor of %d bytes, want a bigger one", n)
	}
	return i + 4 + 1000
}

// streamInput is a valid stream as a program's input, and its file name.
type streamInput struct {
	name string
	b    []byte
}

func TestRegress(t *testing.T) {
	f := newRegressFixture(t)
	t.Run("streams", func(t *testing.T) { runBadCases(t, streamCases(t, f)) })
	t.Run("ctread", func(t *testing.T) { runBadCases(t, ctreadCases(f)) })
	t.Run("mkmask", func(t *testing.T) { runBadCases(t, mkmaskCases(f)) })
	t.Run("crop", func(t *testing.T) { runBadCases(t, cropCases(f)) })
	t.Run("mkphantom", func(t *testing.T) { runBadCases(t, mkphantomCases()) })
	t.Run("valid", func(t *testing.T) { validControls(t, f) })
}

// streamReader is one way a program reads streams: its arguments before the
// input file, and the kind of stream it wants.
type streamReader struct {
	label string // case name prefix
	prog  string
	args  []string // the input file (and -o out.msz for the stages) follow
	input streamInput
	stage bool // writes a stream: gets -o out.msz
	full  bool // cut and flip the input at many points, not a few
}

func streamReaderCases(f *regressFixture) []streamReader {
	return []streamReader{
		{"mkmask", "mkmask", []string{"-q", "--data", f.data}, streamInput{"ct.msz", f.ct}, true, true},
		{"mkmask-verify", "mkmask", []string{"-q", "--verify", "--data", f.data}, streamInput{"ct.msz", f.ct}, true, false},
		{"crop", "crop", []string{"-q"}, streamInput{"masked.msz", f.masked}, true, true},
		{"crop-val", "crop", []string{"-q", "--val"}, streamInput{"masked.msz", f.masked}, true, false},
		{"streamcat-ct", "streamcat", nil, streamInput{"ct.msz", f.ct}, false, false},
		{"streamcat-masked", "streamcat", nil, streamInput{"masked.msz", f.masked}, false, false},
		{"streamcat-crops", "streamcat", []string{"--json"}, streamInput{"crops.msz", f.crops}, false, true},
		{"streamcat-val", "streamcat", []string{"--headers"}, streamInput{"val.msz", f.val}, false, true},
	}
}

// withInput returns rd's arguments for input file name.
func (rd streamReader) withInput(name string) []string {
	args := append([]string(nil), rd.args...)
	if rd.stage {
		args = append(args, "-o", "out.msz")
	}
	return append(args, name)
}

// streamCases: the damaged, cut, wrong and missing streams, for every
// program that reads streams.
func streamCases(t *testing.T, f *regressFixture) []badCase {
	var cs []badCase
	for _, rd := range streamReaderCases(f) {
		in := rd.input
		add := func(name, file string, b []byte, want ...string) *badCase {
			cs = append(cs, badCase{
				name:    rd.label + "/" + name,
				prog:    rd.prog,
				args:    rd.withInput(file),
				files:   map[string][]byte{file: b},
				want:    append([]string{file}, want...),
				partial: rd.prog == "streamcat",
			})
			return &cs[len(cs)-1]
		}
		// Truncation, at every edge of every frame and inside them.
		ta := trailerAt(in.b)
		for _, n := range cutPoints(in.b, rd.full) {
			want := []string{"truncated"}
			if ta >= 0 && n >= ta {
				want = append(want, "before the trailer")
			}
			add(fmt.Sprintf("cut-%d", n), "cut.msz", cutStream(in.b, n), want...)
		}
		// The stream whole but for its trailer, or cut inside a record,
		// compressed afresh: the reader sees a clean end of zstd input.
		raw := unzstd(t, in.b)
		tr := mustIndex(t, raw, "\x92\xa7trailer")
		add("recompressed-no-trailer", "cut.msz", zstdOf(t, raw[:tr]), "truncated", "before the trailer")
		add("recompressed-cut-in-record", "cut.msz", zstdOf(t, raw[:tr/2]), "truncated", "in record")
		// Single bit flips.
		for _, p := range flipPoints(in.b, rd.full) {
			b := flipBit(in.b, p.at, p.bit)
			if p.inFrame && zstdSame(b, raw) {
				continue
			}
			c := add(fmt.Sprintf("flip-%d.%d", p.at, p.bit), "flip.msz", b)
			c.anyOf = p.words
			if rd.prog == "mkmask" && !strings.Contains(rd.label, "verify") {
				// mkmask decompresses only the parts of the HU its
				// masks read: damage elsewhere must be caught by crop.
				c.mayPass = true
				c.after = cropCatches
			}
		}
		// Damage that only the format's own checks see: the zstd layer
		// is whole.
		add("tensor-byte-changed", "edit.msz", editRaw(t, in.b, func(raw []byte) []byte {
			raw[tensorByte(t, raw)] ^= 0x10
			return raw
		}), "checksum mismatch", "trailer says")
		add("trailer-count-wrong", "edit.msz", editRaw(t, in.b, func(raw []byte) []byte {
			raw[mustIndex(t, raw, "\xa5count")+6]++
			return raw
		}), "trailer counts")
		add("trailer-crc-wrong", "edit.msz", editRaw(t, in.b, func(raw []byte) []byte {
			raw[len(raw)-1] ^= 1
			return raw
		}), "checksum mismatch")
		add("header-magic", "edit.msz", editRaw(t, in.b, func(raw []byte) []byte {
			raw[mustIndex(t, raw, "ctseg.stream")] = 'x'
			return reseal(t, raw)
		}), "not a ctseg stream", "xtseg.stream")
		add("header-major-version-2", "edit.msz", editRaw(t, in.b, func(raw []byte) []byte {
			raw[mustIndex(t, raw, "\xa7version\x92")+9] = 2
			return reseal(t, raw)
		}), "unsupported format version", "2.")
		add("header-unknown-kind", "edit.msz", editRaw(t, in.b, func(raw []byte) []byte {
			i := mustIndex(t, raw, "\xa4kind") + 6
			raw[i] = 'x'
			return reseal(t, raw)
		}), "unknown record kind")
		add("header-tag-not-header", "edit.msz", editRaw(t, in.b, func(raw []byte) []byte {
			raw[mustIndex(t, raw, "header")] = 'x'
			return reseal(t, raw)
		}), "not a ctseg stream", "no header")
		// Not streams at all.
		add("empty", "empty.msz", []byte{}, "empty input")
		add("random-bytes", "random.msz", pseudoRandom(5000, 7), "not a ctseg stream", "not zstd")
		add("zstd-text", "text.zst", zstdOf(t, []byte("hello, world\n")), "not a ctseg stream", "no header")
		add("zstd-random", "random.zst", zstdOf(t, pseudoRandom(100000, 3)), "not a ctseg stream")
		add("zstd-magic-only", "magic.zst", []byte{0x28, 0xb5, 0x2f, 0xfd}, "truncated")
		add("text", "notes.txt", []byte("seriesuid,coordX\n"), "not a ctseg stream")
		// A whole stream followed by a cut one: the second is named.
		cs = append(cs, badCase{
			name:    rd.label + "/whole-then-cut-file",
			prog:    rd.prog,
			args:    append(rd.withInput("whole.msz"), "cut.msz"),
			files:   map[string][]byte{"whole.msz": in.b, "cut.msz": cutStream(in.b, len(in.b)/2)},
			want:    []string{"cut.msz", "truncated"},
			partial: rd.prog == "streamcat",
		})
		add("whole-then-cut-concatenated", "two.msz", concat(in.b, cutStream(in.b, len(in.b)/2)), "truncated")
		add("whole-then-cut-before-trailer", "two.msz", concat(in.b, zstdOf(t, raw[:tr])), "truncated", "before the trailer")
		// Missing, directory, unreadable.
		cs = append(cs,
			badCase{name: rd.label + "/missing-file", prog: rd.prog, args: rd.withInput("nosuch.msz"),
				want: []string{"nosuch.msz", "no such file"}},
			badCase{name: rd.label + "/missing-second-file", prog: rd.prog, args: append(rd.withInput("in.msz"), "nosuch.msz"),
				files: map[string][]byte{"in.msz": in.b}, want: []string{"nosuch.msz", "no such file"}, partial: rd.prog == "streamcat"},
			badCase{name: rd.label + "/directory", prog: rd.prog, args: rd.withInput("adir"),
				setup: func(t *testing.T, dir string) { mustMkdir(t, filepath.Join(dir, "adir")) },
				want:  []string{"adir", "is a directory"}},
			badCase{name: rd.label + "/unreadable", prog: rd.prog, args: rd.withInput("secret.msz"),
				setup: func(t *testing.T, dir string) {
					if os.Geteuid() == 0 {
						t.Skip("root reads files of mode 000")
					}
					p := filepath.Join(dir, "secret.msz")
					if err := os.WriteFile(p, in.b, 0o644); err != nil {
						t.Fatal(err)
					}
					if err := os.Chmod(p, 0); err != nil {
						t.Fatal(err)
					}
				},
				want: []string{"secret.msz", "permission denied"}},
			// On stdin, named so.
			badCase{name: rd.label + "/stdin-empty", prog: rd.prog, args: stdinArgs(rd), stdin: []byte{},
				want: []string{"stdin", "empty input"}},
			badCase{name: rd.label + "/stdin-cut", prog: rd.prog, args: stdinArgs(rd), stdin: cutStream(in.b, len(in.b)*2/3),
				want: []string{"stdin", "truncated"}, partial: rd.prog == "streamcat"},
			badCase{name: rd.label + "/stdin-flip", prog: rd.prog, args: stdinArgs(rd), stdin: flipBit(in.b, len(in.b)/3, 3),
				want: []string{"stdin"}, anyOf: []string{"corrupt", "checksum"}, partial: rd.prog == "streamcat",
				mayPass: rd.label == "mkmask", after: onlyIf(rd.label == "mkmask", cropCatches)},
			badCase{name: rd.label + "/unknown-flag", prog: rd.prog, args: append([]string{"--no-such-flag"}, rd.withInput("in.msz")...),
				files: map[string][]byte{"in.msz": in.b}, want: []string{"no-such-flag", "not defined"}},
		)
	}
	// Streams of the wrong kind for each stage.
	for _, w := range []struct {
		label string
		prog  string
		args  []string
		in    []byte
		want  []string
	}{
		{"mkmask-crops", "mkmask", []string{"-q", "--data", f.data}, f.crops, []string{"wrong record kind", "crop records"}},
		{"mkmask-val", "mkmask", []string{"-q", "--data", f.data}, f.val, []string{"wrong record kind", "slice records"}},
		{"mkmask-ct-then-crops", "mkmask", []string{"-q", "--data", f.data}, concat(f.ct, f.crops), []string{"wrong record kind", "crop records"}},
		{"crop-crops", "crop", []string{"-q"}, f.crops, []string{"wrong record kind", "crop records"}},
		{"crop-val", "crop", []string{"-q"}, f.val, []string{"wrong record kind", "slice records"}},
		{"crop-val-val", "crop", []string{"-q", "--val"}, f.val, []string{"wrong record kind", "slice records"}},
		{"crop-val-crops", "crop", []string{"-q", "--val"}, f.crops, []string{"wrong record kind", "crop records"}},
		{"crop-masked-then-crops", "crop", []string{"-q"}, concat(f.masked, f.crops), []string{"wrong record kind", "crop records"}},
		{"crop-unmasked-ct", "crop", []string{"-q"}, f.ct, []string{"record 1", "no mask", "run mkmask"}},
		{"crop-val-unmasked-ct", "crop", []string{"-q", "--val"}, f.ct, []string{"record 1", "no mask", "run mkmask"}},
	} {
		cs = append(cs, badCase{
			name:  "wrong-kind/" + w.label,
			prog:  w.prog,
			args:  append(append([]string(nil), w.args...), "-o", "out.msz", "in.msz"),
			files: map[string][]byte{"in.msz": w.in},
			want:  w.want,
		})
	}
	// A stage that fails mid-stream on stdout leaves a stream that the
	// next stage refuses: never a finished one.
	for _, c := range []struct {
		label string
		prog  string
		args  []string
		in    []byte
	}{
		{"mkmask-cut", "mkmask", []string{"-q", "--data", f.data}, cutStream(f.ct, len(f.ct)-10)},
		{"mkmask-cut-at-trailer", "mkmask", []string{"-q", "--data", f.data}, cutStream(f.ct, max(trailerAt(f.ct), len(f.ct)/2))},
		{"crop-cut", "crop", []string{"-q"}, cutStream(f.masked, len(f.masked)-10)},
		{"crop-val-cut", "crop", []string{"-q", "--val"}, cutStream(f.masked, len(f.masked)-10)},
		{"crop-val-cut-mid", "crop", []string{"-q", "--val"}, cutStream(f.masked, len(f.masked)*3/4)},
	} {
		cs = append(cs, badCase{
			name:    "stdout-left-unfinished/" + c.label,
			prog:    c.prog,
			args:    c.args,
			stdin:   c.in,
			want:    []string{"stdin", "truncated"},
			partial: true,
			after: func(t *testing.T, dir string, r result) {
				if len(r.stdout) == 0 {
					return
				}
				r2 := run(t, dir, r.stdout, "streamcat")
				r2.stdout = nil
				failsCleanly(t, "streamcat", r2, "stdin", "truncated")
			},
		})
	}
	return cs
}

// stdinArgs are rd's arguments reading stdin.
func stdinArgs(rd streamReader) []string {
	args := append([]string(nil), rd.args...)
	if rd.stage {
		args = append(args, "-o", "out.msz")
	}
	return args
}

// cropCatches checks, after mkmask passed a damaged CT stream on, that crop
// finds the damage in mkmask's output.
func cropCatches(t *testing.T, dir string, r result) {
	t.Helper()
	out := filepath.Join(dir, "out.msz")
	var in []byte
	if _, err := os.Stat(out); err != nil {
		in = r.stdout
	} else if in, err = os.ReadFile(out); err != nil {
		t.Fatal(err)
	}
	r2 := run(t, dir, in, "crop", "-q", "-o", "crops.msz")
	failsCleanly(t, "crop", r2)
	if msg := lastStderrLine(r2.stderr); !strings.Contains(msg, "checksum") && !strings.Contains(msg, "corrupt") {
		t.Errorf("mkmask passed a damaged stream on, and crop says %q, not checksum or corrupt", msg)
	}
	if _, err := os.Stat(filepath.Join(dir, "crops.msz")); err == nil {
		t.Error("crop: output crops.msz left behind after a failure")
	}
}

func onlyIf(ok bool, f func(*testing.T, string, result)) func(*testing.T, string, result) {
	if ok {
		return f
	}
	return nil
}

// pseudoRandom returns n bytes of a fixed pseudo-random sequence.
func pseudoRandom(n int, seed uint64) []byte {
	b := make([]byte, n)
	x := seed*0x9E3779B97F4A7C15 + 1
	for i := range b {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		b[i] = byte(x >> 24)
	}
	return b
}

func mustMkdir(t *testing.T, p string) {
	t.Helper()
	if err := os.MkdirAll(p, 0o755); err != nil {
		t.Fatal(err)
	}
}

// seriesDir makes DIR/luna with one series whose header is the fixture's
// with the edit applied, and whose data file is raw, or the fixture's
// (linked) when raw is nil.
func (f *regressFixture) seriesDir(edit func(h string) string, raw []byte) func(t *testing.T, dir string) {
	return func(t *testing.T, dir string) {
		t.Helper()
		sub := filepath.Join(dir, "luna", "subset0")
		mustMkdir(t, sub)
		h, err := os.ReadFile(f.mhd)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(sub, f.uid+".mhd"), []byte(edit(string(h))), 0o644); err != nil {
			t.Fatal(err)
		}
		if raw != nil {
			if err := os.WriteFile(filepath.Join(sub, f.uid+".raw"), raw, 0o644); err != nil {
				t.Fatal(err)
			}
		} else if err := os.Symlink(f.raw, filepath.Join(sub, f.uid+".raw")); err != nil {
			t.Fatal(err)
		}
	}
}

// setMHDKey returns an edit that sets header key k to v ("" drops the line).
func setMHDKey(k, v string) func(string) string {
	return func(h string) string {
		var out []string
		for _, line := range strings.Split(h, "\n") {
			if strings.HasPrefix(line, k+" ") || strings.HasPrefix(line, k+"=") {
				if v == "" {
					continue
				}
				line = k + " = " + v
			}
			out = append(out, line)
		}
		return strings.Join(out, "\n")
	}
}

func ctreadCases(f *regressFixture) []badCase {
	mhd, raw := f.uid+".mhd", f.uid+".raw"
	series := func(name string, edit func(string) string, data []byte, want ...string) badCase {
		return badCase{
			name:  name,
			prog:  "ctread",
			args:  []string{"-q", "--data", "luna", "-o", "out.msz"},
			setup: f.seriesDir(edit, data),
			want:  append([]string{"series " + f.uid}, want...),
		}
	}
	same := func(h string) string { return h }
	const kv = `is not a "Key = Value" line`
	short, _ := os.ReadFile(f.raw)
	cs := []badCase{
		series("no-DimSize", setMHDKey("DimSize", ""), nil, mhd, "missing key DimSize"),
		series("DimSize-two-values", setMHDKey("DimSize", "128 128"), nil, mhd, "want 3 sizes"),
		series("DimSize-not-a-number", setMHDKey("DimSize", "128 128 x"), nil, mhd, `"x" is not a positive integer`),
		series("DimSize-zero", setMHDKey("DimSize", "0 128 24"), nil, mhd, `"0" is not a positive integer`),
		series("DimSize-negative", setMHDKey("DimSize", "-1 128 24"), nil, mhd, `"-1" is not a positive integer`),
		series("DimSize-too-big-for-data", setMHDKey("DimSize", "128 128 25"), nil, raw, "shorter than the header says"),
		series("ElementType-unknown", setMHDKey("ElementType", "MET_BOGUS"), nil, mhd, "unsupported ElementType", "MET_BOGUS"),
		series("ElementType-empty", setMHDKey("ElementType", " "), nil, mhd, "unsupported ElementType"),
		series("ElementType-uchar-data-too-long", setMHDKey("ElementType", "MET_UCHAR"), nil, raw, "longer than the header says"),
		series("ElementType-float-data-too-short", setMHDKey("ElementType", "MET_FLOAT"), nil, raw, "shorter than the header says"),
		series("NDims-2", setMHDKey("NDims", "2"), nil, mhd, "NDims = 2", "only 3-D"),
		series("ObjectType-mesh", setMHDKey("ObjectType", "Mesh"), nil, mhd, "only Image"),
		series("BinaryData-false", setMHDKey("BinaryData", "False"), nil, mhd, "ASCII voxel data"),
		series("ElementSpacing-not-numbers", setMHDKey("ElementSpacing", "a b c"), nil, mhd, `"a" is not a finite number`),
		series("ElementSpacing-zero", setMHDKey("ElementSpacing", "0 0 0"), nil, mhd, "spacing", "positive"),
		series("Offset-two-numbers", setMHDKey("Offset", "1 2"), nil, mhd, "Offset", "want 3 numbers"),
		series("TransformMatrix-three-numbers", setMHDKey("TransformMatrix", "1 0 0"), nil, mhd, "TransformMatrix", "want 9 numbers"),
		series("CompressedData-on-raw-data", setMHDKey("CompressedData", "True"), nil, raw, "corrupt zlib data"),
		series("ElementDataFile-missing-file", setMHDKey("ElementDataFile", "missing.raw"), nil, "missing.raw", "no such file"),
		series("ElementDataFile-absent", setMHDKey("ElementDataFile", ""), nil, mhd, "missing key ElementDataFile"),
		series("line-without-equals", func(h string) string { return "garbage line without equals\n" + h }, nil, mhd, "line 1", kv),
		series("header-empty", func(string) string { return "" }, nil, mhd, "missing key"),
		series("data-short", same, short[:1000], raw, "shorter than the header says", "1000 bytes"),
		series("data-empty", same, []byte{}, raw, "shorter than the header says", "0 bytes"),
		series("data-too-long", same, concat(short, short), raw, "longer than the header says"),
		{name: "data-dir-missing", prog: "ctread", args: []string{"-q", "--data", "nosuch", "-o", "out.msz"},
			want: []string{"nosuch", "no such file"}},
		{name: "data-dir-a-file", prog: "ctread", args: []string{"-q", "--data", "file", "-o", "out.msz"},
			files: map[string][]byte{"file": []byte("x")}, want: []string{"file", "not a directory"}},
		{name: "data-dir-empty", prog: "ctread", args: []string{"-q", "--data", "empty", "-o", "out.msz"},
			setup: func(t *testing.T, dir string) { mustMkdir(t, filepath.Join(dir, "empty")) }, want: []string{"no series found"}},
		{name: "no-data-dir", prog: "ctread", args: []string{"-q", "-o", "out.msz"}, want: []string{"no data directory"}},
		{name: "series-not-found", prog: "ctread", args: []string{"-q", "--data", f.data, "--series", "1.2.3", "-o", "out.msz"},
			want: []string{"--series", "1.2.3", "not found"}},
		{name: "subset-not-found", prog: "ctread", args: []string{"-q", "--data", f.data, "--subset", "7", "-o", "out.msz"},
			want: []string{"--subset", "subset7"}},
		{name: "split-bad", prog: "ctread", args: []string{"-q", "--data", f.data, "--split", "foo", "-o", "out.msz"},
			want: []string{"--split", `"foo"`}},
		{name: "shard-out-of-range", prog: "ctread", args: []string{"-q", "--data", f.data, "--shard", "2/2", "-o", "out.msz"},
			want: []string{"--shard", `"2/2"`}},
		{name: "shard-garbage", prog: "ctread", args: []string{"-q", "--data", f.data, "--shard", "x", "-o", "out.msz"},
			want: []string{"--shard", `"x"`}},
		{name: "shard-of-zero", prog: "ctread", args: []string{"-q", "--data", f.data, "--shard", "1/0", "-o", "out.msz"},
			want: []string{"--shard", `"1/0"`}},
		{name: "shard-negative", prog: "ctread", args: []string{"-q", "--data", f.data, "--shard", "-1/2", "-o", "out.msz"},
			want: []string{"--shard", `"-1/2"`}},
		{name: "output-empty-name", prog: "ctread", args: []string{"-q", "--data", f.data, "-o", ""},
			want: []string{"--output", "empty file name"}},
		{name: "val-stride-zero", prog: "ctread", args: []string{"-q", "--data", f.data, "--val-stride", "0", "-o", "out.msz"},
			want: []string{"--val-stride", "at least 1"}},
		{name: "unknown-flag", prog: "ctread", args: []string{"-q", "--data", f.data, "--no-such-flag", "-o", "out.msz"},
			want: []string{"no-such-flag", "not defined"}},
		{name: "stream-argument", prog: "ctread", args: []string{"-q", "--data", f.data, "-o", "out.msz", "cts.msz"},
			want: []string{`unexpected argument "cts.msz"`}},
		{name: "output-a-directory", prog: "ctread", args: []string{"-q", "--data", f.data, "-o", "adir"},
			setup: func(t *testing.T, dir string) { mustMkdir(t, filepath.Join(dir, "adir")) }, want: []string{"adir", "is a directory"}},
		{name: "output-kept-after-failure", prog: "ctread", args: []string{"-q", "--data", f.data, "--series", "1.2.3", "-o", "out.msz"},
			files: map[string][]byte{"out.msz": []byte("old\n")}, want: []string{"not found"}},
	}
	return cs
}

// csvCase is a mkmask case with an annotation or candidate file.
func mkmaskCSV(f *regressFixture, name, flag, body string, want ...string) badCase {
	return badCase{
		name:  name,
		prog:  "mkmask",
		args:  []string{"-q", "--data", f.data, flag, "list.csv", "-o", "out.msz", "ct.msz"},
		files: map[string][]byte{"list.csv": []byte(body), "ct.msz": f.ct},
		want:  append([]string{"list.csv"}, want...),
	}
}

func mkmaskCases(f *regressFixture) []badCase {
	const ah = "seriesuid,coordX,coordY,coordZ,diameter_mm\n"
	const ch = "seriesuid,coordX,coordY,coordZ,class\n"
	u := f.uid
	ct := map[string][]byte{"ct.msz": f.ct}
	return []badCase{
		mkmaskCSV(f, "annotations-bad-float", "--annotations", ah+u+",abc,1,2,3\n", "list.csv:2", "coordX", `"abc" is not a number`),
		mkmaskCSV(f, "annotations-float-overflow", "--annotations", ah+u+",1e999,1,2,3\n", "list.csv:2", "coordX", `"1e999"`),
		mkmaskCSV(f, "annotations-NaN", "--annotations", ah+u+",NaN,1,2,3\n", "list.csv:2", "coordX", "not a finite number"),
		mkmaskCSV(f, "annotations-Inf-diameter", "--annotations", ah+u+",1,2,3,Inf\n", "list.csv:2", "diameter_mm", "not a finite number"),
		mkmaskCSV(f, "annotations-missing-column", "--annotations", ah+u+",1,2,3\n", "line 2", "wrong number of fields"),
		mkmaskCSV(f, "annotations-extra-column", "--annotations", ah+u+",1,2,3,4,5\n", "line 2", "wrong number of fields"),
		mkmaskCSV(f, "annotations-bad-quote", "--annotations", ah+`"`+u+",1,2,3,4\n", "line 2", "parse error"),
		mkmaskCSV(f, "annotations-empty-uid", "--annotations", ah+",1,2,3,4\n", "list.csv:2", "empty seriesuid"),
		mkmaskCSV(f, "annotations-empty-file", "--annotations", "", "empty file"),
		mkmaskCSV(f, "annotations-header-lacks-coordZ", "--annotations", "seriesuid,coordX,coordY\n"+u+",1,2\n", "coordZ"),
		mkmaskCSV(f, "candidates-bad-float", "--candidates", ch+u+",1,2,x,0\n", "list.csv:2", "coordZ", `"x" is not a number`),
		mkmaskCSV(f, "candidates-missing-column", "--candidates", ch+u+",1,2,3\n", "list.csv:2", "4 fields"),
		mkmaskCSV(f, "candidates-class-7", "--candidates", ch+u+",1,2,3,7\n", "list.csv:2", "class", "not 0 or 1"),
		mkmaskCSV(f, "candidates-class-word", "--candidates", ch+u+",1,2,3,zero\n", "list.csv:2", "class", "not 0 or 1"),
		{name: "annotations-missing-file", prog: "mkmask", args: []string{"-q", "--data", f.data, "--annotations", "nosuch.csv", "-o", "out.msz", "ct.msz"},
			files: ct, want: []string{"nosuch.csv", "no such file"}},
		{name: "annotations-a-directory", prog: "mkmask", args: []string{"-q", "--data", f.data, "--annotations", "adir", "-o", "out.msz", "ct.msz"},
			files: ct, setup: func(t *testing.T, dir string) { mustMkdir(t, filepath.Join(dir, "adir")) }, want: []string{"adir", "is a directory"}},
		{name: "candidates-missing-file", prog: "mkmask", args: []string{"-q", "--data", f.data, "--candidates", "nosuch.csv", "-o", "out.msz", "ct.msz"},
			files: ct, want: []string{"nosuch.csv", "no such file"}},
		{name: "data-dir-missing", prog: "mkmask", args: []string{"-q", "--data", "nosuch", "-o", "out.msz", "ct.msz"},
			files: ct, want: []string{"--data", "nosuch", "no such file"}},
		{name: "no-nodule-list", prog: "mkmask", args: []string{"-q", "-o", "out.msz", "ct.msz"},
			files: ct, want: []string{"no nodule list"}},
		{name: "threshold-garbage", prog: "mkmask", args: []string{"-q", "--data", f.data, "--threshold", "abc", "-o", "out.msz", "ct.msz"},
			files: ct, want: []string{"invalid value", `"abc"`, "threshold"}},
		{name: "png-dir-is-a-file", prog: "mkmask", args: []string{"-q", "--data", f.data, "--png", "afile", "-o", "out.msz", "ct.msz"},
			files: map[string][]byte{"ct.msz": f.ct, "afile": []byte("x")}, want: []string{"--png", "not a directory"}},
		{name: "output-empty-name", prog: "mkmask", args: []string{"-q", "--data", f.data, "-o", "", "ct.msz"},
			files: ct, want: []string{"--output", "empty file name"}},
		{name: "output-a-directory", prog: "mkmask", args: []string{"-q", "--data", f.data, "-o", "adir", "ct.msz"},
			files: ct, setup: func(t *testing.T, dir string) { mustMkdir(t, filepath.Join(dir, "adir")) }, want: []string{"adir", "is a directory"}},
		{name: "output-kept-after-failure", prog: "mkmask", args: []string{"-q", "--data", f.data, "-o", "out.msz", "cut.msz"},
			files: map[string][]byte{"out.msz": []byte("old\n"), "cut.msz": cutStream(f.ct, len(f.ct)-5)}, want: []string{"cut.msz", "truncated"}},
	}
}

func cropCases(f *regressFixture) []badCase {
	in := map[string][]byte{"in.msz": f.masked}
	flagCase := func(name string, args []string, want ...string) badCase {
		return badCase{
			name:  name,
			prog:  "crop",
			args:  append(append([]string{"-q"}, args...), "-o", "out.msz", "in.msz"),
			files: in,
			want:  want,
		}
	}
	return []badCase{
		flagCase("width-rows-not-multiple-of-4", []string{"--width", "7,95,96"}, "--width", "7,95,96", "multiples of 4"),
		flagCase("width-two-sizes", []string{"--width", "7,96"}, "--width", "three"),
		flagCase("width-four-sizes", []string{"--width", "7,96,96,96"}, "--width", "three"),
		flagCase("width-zero-slices", []string{"--width", "0,96,96"}, "--width", "at least 1"),
		flagCase("width-zero-rows", []string{"--width", "7,0,96"}, "--width", "at least 1"),
		flagCase("width-negative", []string{"--width", "-7,96,96"}, "--width", "at least 1"),
		flagCase("width-letters", []string{"--width", "a,b,c"}, "--width", `"a" is not a whole number`),
		flagCase("width-more-slices-than-the-ct", []string{"--width", "200,96,96"}, "record 1", "width 200 larger than the axis size 24"),
		flagCase("width-wider-than-the-ct", []string{"--width", "7,400,400"}, "record 1", "width 400 larger than the axis size 128"),
		flagCase("context-negative", []string{"--val", "--context", "-1"}, "--context -1", "[0, 255]"),
		flagCase("context-256", []string{"--val", "--context", "256"}, "--context 256", "[0, 255]"),
		flagCase("context-garbage", []string{"--val", "--context", "x"}, "invalid value", `"x"`, "context"),
		flagCase("context-without-val", []string{"--context", "5"}, "--context needs --val"),
		flagCase("full-ct-without-val", []string{"--full-ct"}, "--full-ct needs --val"),
		{name: "output-empty-name", prog: "crop", args: []string{"-q", "-o", "", "in.msz"}, files: in,
			want: []string{"--output", "empty file name"}},
		{name: "output-a-directory", prog: "crop", args: []string{"-q", "-o", "adir", "in.msz"}, files: in,
			setup: func(t *testing.T, dir string) { mustMkdir(t, filepath.Join(dir, "adir")) }, want: []string{"adir", "is a directory"}},
		{name: "output-kept-after-failure", prog: "crop", args: []string{"-q", "-o", "out.msz", "cut.msz"},
			files: map[string][]byte{"out.msz": []byte("old\n"), "cut.msz": cutStream(f.masked, len(f.masked)/2)}, want: []string{"cut.msz", "truncated"}},
		{name: "data-flag", prog: "crop", args: []string{"-q", "--data", f.data, "-o", "out.msz", "in.msz"}, files: in,
			want: []string{"-data", "not defined"}},
	}
}

func mkphantomCases() []badCase {
	c := func(name string, args []string, want ...string) badCase {
		return badCase{name: name, prog: "mkphantom", args: append([]string{"-q", "--out", "ph"}, args...), want: want}
	}
	return []badCase{
		c("series-0", []string{"--series", "0"}, "series", "0"),
		c("series-negative", []string{"--series", "-1"}, "series", "-1"),
		c("size-garbage", []string{"--size", "garbage"}, "--size", `"garbage"`),
		c("size-four-parts", []string{"--size", "128x128x24x5"}, "--size", `"128x128x24x5"`),
		c("size-zero", []string{"--size", "0x0"}, "--size", "positive whole number"),
		c("size-zero-slices", []string{"--size", "128x128x0"}, "--size", "positive whole number"),
		c("size-too-small", []string{"--size", "3x3x3"}, "[32, 4096]", "[8, 2048]"),
		c("nodules-min-over-max", []string{"--nodules", "3-1"}, "--nodules", "MIN ≤ MAX"),
		c("nodules-garbage", []string{"--nodules", "x"}, "--nodules", `"x"`),
		c("subsets-0", []string{"--subsets", "0"}, "subset", "0"),
		c("decoys-negative", []string{"--decoys", "-1"}, "decoy", "-1"),
		c("workers-negative", []string{"--workers", "-1"}, "-1", "one per CPU"),
		c("seed-garbage", []string{"--seed", "x"}, "invalid value", `"x"`, "seed"),
		c("unknown-flag", []string{"--no-such-flag"}, "no-such-flag", "not defined"),
		c("extra-argument", []string{"extra"}, `unexpected argument "extra"`),
		{name: "no-out", prog: "mkphantom", args: []string{"-q", "--series", "1"}, want: []string{"no output directory"}},
		{name: "out-is-a-file", prog: "mkphantom", args: []string{"-q", "--out", "afile", "--series", "1", "--size", "64x64x8"},
			files: map[string][]byte{"afile": []byte("x")}, want: []string{"afile", "not a directory"}},
	}
}

// validControls: the valid inputs the bad ones come from, and streams
// that concatenate, pass.
func validControls(t *testing.T, f *regressFixture) {
	lines := func(b []byte) int { return strings.Count(string(b), "\n") }
	for _, c := range []struct {
		name  string
		prog  string
		args  []string
		in    []byte
		check func(t *testing.T, dir string, r result)
	}{
		{"streamcat-all-kinds-concatenated", "streamcat", nil, concat(f.ct, f.masked, f.crops, f.val), func(t *testing.T, dir string, r result) {
			want := 0
			for _, b := range [][]byte{f.ct, f.masked, f.crops, f.val} {
				want += lines(run(t, dir, b, "streamcat").stdout)
			}
			if got := lines(r.stdout); got != want {
				t.Errorf("streamcat of four streams: %d lines, want %d", got, want)
			}
		}},
		{"mkmask-two-ct-streams", "mkmask", []string{"-q", "--data", f.data}, concat(f.ct, f.ct), func(t *testing.T, dir string, r result) {
			s := run(t, dir, r.stdout, "streamcat")
			if s.code != 0 || lines(s.stdout) != 4 || strings.Count(string(s.stdout), "mask=") != 4 {
				t.Errorf("mkmask of two CT streams: streamcat says %v:\n%s", s, s.stdout)
			}
		}},
		{"mkmask-masked-stream", "mkmask", []string{"-q", "--data", f.data}, f.masked, nil},
		{"crop-two-masked-streams", "crop", []string{"-q"}, concat(f.masked, f.masked), func(t *testing.T, dir string, r result) {
			want := 2 * lines(run(t, dir, f.crops, "streamcat").stdout)
			if got := lines(run(t, dir, r.stdout, "streamcat").stdout); got != want {
				t.Errorf("crop of two masked streams: %d crops, want %d", got, want)
			}
		}},
		{"crop-val-two-masked-streams", "crop", []string{"-q", "--val"}, concat(f.masked, f.masked), nil},
		{"streamcat-minor-version-1.9", "streamcat", nil, editRaw(t, f.val, func(raw []byte) []byte {
			raw[mustIndex(t, raw, "\xa7version\x92\x01")+10] = 9
			return reseal(t, raw)
		}), nil},
		{"streamcat-recompressed-without-hints", "streamcat", nil, zstdOf(t, unzstd(t, f.masked)), nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			r := run(t, dir, c.in, c.prog, c.args...)
			if r.code != 0 || len(r.stdout) == 0 {
				t.Fatalf("%s: %v", c.prog, r)
			}
			if c.check != nil {
				c.check(t, dir, r)
			}
		})
	}
}
