package blackbox

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/vmihailenco/msgpack/v5"
)

// streamReaders are the programs that read streams.
var streamReaders = [][]string{{"streamcat"}, {"mkmask", "--annotations", "ann.csv"}, {"crop"}}

// deepStream is a stream whose header holds an unknown key with ten
// million nested arrays: a few hundred bytes once compressed.
func deepStream(t *testing.T) []byte {
	var raw bytes.Buffer
	e := msgpack.NewEncoder(&raw)
	e.EncodeArrayLen(2)
	e.EncodeString("header")
	e.EncodeMapLen(4)
	e.EncodeString("magic")
	e.EncodeString("ctseg.stream")
	e.EncodeString("version")
	e.Encode([]int{1, 1})
	e.EncodeString("kind")
	e.EncodeString("ct")
	e.EncodeString("x")
	raw.Write(bytes.Repeat([]byte{0x91}, 10_000_000))
	raw.WriteByte(0xc0)
	z, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedBestCompression))
	if err != nil {
		t.Fatal(err)
	}
	return z.EncodeAll(raw.Bytes(), nil)
}

// TestDeeplyNestedStream: every stream reader refuses the 10-million-deep
// header with one line, instead of dying of a stack overflow.
func TestDeeplyNestedStream(t *testing.T) {
	data := deepStream(t)
	if len(data) > 1024 {
		t.Fatalf("the deep stream is %d bytes", len(data))
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "ann.csv"), []byte("seriesuid,coordX,coordY,coordZ,diameter_mm\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range streamReaders {
		r := run(t, dir, data, args[0], args[1:]...)
		failsCleanly(t, args[0], r, "stdin", "nested more than 32 deep")
	}
}

var (
	ctOnce   sync.Once
	ctDir    string
	ctStream []byte
)

// phantomStream is a CT stream of two generated series, and the data
// directory it came from.
func phantomStream(t *testing.T) (dir string, data []byte) {
	ctOnce.Do(func() {
		d, err := os.MkdirTemp("", "ctseg-blackbox-ct-")
		if err != nil {
			t.Fatal(err)
		}
		if r := run(t, d, nil, "mkphantom", "-q", "--out", "data", "--series", "2", "--size", "128x128x40", "--seed", "3"); r.code != 0 {
			t.Fatalf("mkphantom: %v", r)
		}
		r := run(t, d, nil, "ctread", "-q", "--data", "data")
		if r.code != 0 {
			t.Fatalf("ctread: %v", r)
		}
		ctDir, ctStream = filepath.Join(d, "data"), r.stdout
	})
	if ctStream == nil {
		t.Fatal("no phantom stream")
	}
	return ctDir, ctStream
}

// TestMkmaskDamagedFrame: mkmask passes HU frames on undecompressed, and
// still refuses one damaged in transit, leaving no output that looks
// complete: it checks the compressed bytes against the frame's hint.
func TestMkmaskDamagedFrame(t *testing.T) {
	data, stream := phantomStream(t)
	// The last frame of the first CT's HU: hints are 32 bytes, flags at
	// offset 20 (2: last frame of a tensor), csize at 12.
	last := -1
	for off := 0; off+32 <= len(stream) && binary.LittleEndian.Uint32(stream[off:]) == 0x184D2A5C; {
		if binary.LittleEndian.Uint32(stream[off+20:])&2 != 0 {
			last = off
			break
		}
		off += 32 + int(binary.LittleEndian.Uint32(stream[off+12:]))
	}
	if last < 0 {
		t.Fatal("no tensor frame in the stream")
	}
	bad := bytes.Clone(stream)
	bad[last+32+int(binary.LittleEndian.Uint32(stream[last+12:]))/2] ^= 0x5A
	dir := t.TempDir()
	good := run(t, dir, stream, "mkmask", "-q", "--data", data, "-o", "good.msz")
	if good.code != 0 {
		t.Fatalf("mkmask on the intact stream: %v", good)
	}
	r := run(t, dir, bad, "mkmask", "-q", "--data", data, "-o", "out.msz")
	failsCleanly(t, "mkmask", r, "checksum mismatch", "record 1 (ct)")
	if _, err := os.Stat(filepath.Join(dir, "out.msz")); !os.IsNotExist(err) {
		t.Errorf("mkmask failed but left out.msz (%v)", err)
	}
}

// TestCropNamesInput: crop's own errors name the input file and the
// record's number in it, as the reader's errors do.
func TestCropNamesInput(t *testing.T) {
	_, stream := phantomStream(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "ct.msz"), stream, 0o644); err != nil {
		t.Fatal(err)
	}
	r := run(t, dir, nil, "crop", "-q", "ct.msz")
	failsCleanly(t, "crop", r, "ct.msz: record 1", "no mask")
}
