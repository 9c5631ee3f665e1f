package tbevent

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite testdata/go_sample.tfevents")

// clock returns a fake time.Now that starts at 1700000000.25 s and moves
// one second per call, so wall_time is exact and known.
func clock() func() time.Time {
	t := time.Unix(1700000000, 250_000_000)
	return func() time.Time {
		now := t
		t = t.Add(time.Second)
		return now
	}
}

// sampleCall is one call of the sample log. The same calls are made with
// PyTorch's SummaryWriter by tools/tensorboard/check_events.py: keep the
// two lists in step.
type sampleCall struct {
	tag   string
	step  int64
	value float64
	image bool // add_image of samplePixels instead of add_scalar
}

var sampleCalls = []sampleCall{
	{tag: "loss/trn", step: 0, value: 0.1}, // step 0: no step field; 0.1 rounds to float32
	{tag: "loss/trn", step: 1, value: 0.25},
	{tag: "loss/val", step: 123456789, value: -1.5},
	{tag: "zero", step: 2, value: 0}, // simple_value 0 is still written
	{tag: "sample", step: 7, image: true},
}

// samplePixels is the sample image: 4 wide, 3 high, RGB.
func samplePixels(x, y int) color.RGBA {
	return color.RGBA{R: uint8(40*x + 10), G: uint8(60*y + 20), B: uint8(25 * (x + y)), A: 255}
}

const sampleW, sampleH = 4, 3

func samplePNG(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, sampleW, sampleH))
	for y := range sampleH {
		for x := range sampleW {
			img.SetRGBA(x, y, samplePixels(x, y))
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// writeSample writes the sample log with the fake clock; pngFor gives the
// PNG of each image call.
func writeSample(t *testing.T, pngFor func(i int) []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := newWriter(&buf, clock())
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range sampleCalls {
		if c.image {
			err = w.Image(c.tag, c.step, pngFor(i), sampleW, sampleH, 3)
		} else {
			err = w.Scalar(c.tag, c.step, c.value)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestSampleFields decodes the sample log with the test reader and checks
// every field of every event.
func TestSampleFields(t *testing.T) {
	pngData := samplePNG(t)
	evs, _, err := decodeFile(writeSample(t, func(int) []byte { return pngData }))
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1+len(sampleCalls) {
		t.Fatalf("%d events, want %d", len(evs), 1+len(sampleCalls))
	}
	for i, e := range evs {
		if want := 1700000000.25 + float64(i); e.WallTime == nil || *e.WallTime != want {
			t.Errorf("event %d: wall_time %v, want %v", i, fmtPtr(e.WallTime), want)
		}
	}
	first := evs[0]
	if first.FileVersion == nil || *first.FileVersion != "brain.Event:2" || first.Step != 0 || first.Summary != nil {
		t.Errorf("first event %+v, want only wall_time and file_version brain.Event:2", first)
	}
	for i, c := range sampleCalls {
		checkSampleEvent(t, evs[i+1], c, pngData)
	}
}

func checkSampleEvent(t *testing.T, e tEvent, c sampleCall, pngData []byte) {
	t.Helper()
	if e.Step != c.step || e.FileVersion != nil || e.Summary == nil || len(e.Summary.Values) != 1 {
		t.Fatalf("%s: event %+v", c.tag, e)
	}
	v := e.Summary.Values[0]
	if v.Tag != c.tag {
		t.Errorf("tag %q, want %q", v.Tag, c.tag)
	}
	if c.image {
		want := tImage{Height: sampleH, Width: sampleW, Colorspace: 3, PNG: pngData}
		if v.SimpleValue != nil || v.Image == nil || !equalImage(*v.Image, want) {
			t.Errorf("%s: value %+v, want image %dx%d colorspace 3 with the PNG", c.tag, v, sampleW, sampleH)
		}
		return
	}
	if v.Image != nil || v.SimpleValue == nil || *v.SimpleValue != float32(c.value) {
		t.Errorf("%s: value %+v, want simple_value %v", c.tag, v, float32(c.value))
	}
}

func fmtPtr[T any](p *T) any {
	if p == nil {
		return "absent"
	}
	return *p
}

func equalImage(a, b tImage) bool {
	return a.Height == b.Height && a.Width == b.Width && a.Colorspace == b.Colorspace && bytes.Equal(a.PNG, b.PNG)
}

// TestGoSample keeps testdata/go_sample.tfevents, the file that
// tools/tensorboard/check_events.py reads with TensorBoard, equal to what
// the writer makes. Regenerate with go test -run TestGoSample -update.
func TestGoSample(t *testing.T) {
	pngData := samplePNG(t)
	got := writeSample(t, func(int) []byte { return pngData })
	path := filepath.Join("testdata", "go_sample.tfevents")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("writer output differs from %s (go test -run TestGoSample -update rewrites it)", path)
	}
}

// TestPyTorchFixture compares the writer with an event file made by
// PyTorch's SummaryWriter (tools/tensorboard/check_events.py
// --make-fixture): feeding the fixture's own PNG to Image, every event
// must be byte for byte the fixture's, wall_time aside.
func TestPyTorchFixture(t *testing.T) {
	fixture, err := os.ReadFile(filepath.Join("testdata", "pytorch_sample.tfevents"))
	if errors.Is(err, os.ErrNotExist) {
		t.Skip("no testdata/pytorch_sample.tfevents: TensorBoard was not installable where this package was written; make it with tools/tensorboard/check_events.py --make-fixture")
	}
	if err != nil {
		t.Fatal(err)
	}
	evs, recs, err := decodeFile(fixture)
	if err != nil {
		t.Fatalf("fixture: %v", err)
	}
	if len(evs) != 1+len(sampleCalls) {
		t.Fatalf("fixture has %d events, want %d", len(evs), 1+len(sampleCalls))
	}
	pngOf := func(i int) []byte { return evs[i+1].Summary.Values[0].Image.PNG }
	checkFixturePNG(t, pngOf(len(sampleCalls)-1))
	_, mine, err := decodeFile(writeSample(t, pngOf))
	if err != nil {
		t.Fatal(err)
	}
	for i := range recs {
		if !bytes.Equal(stripWallTime(mine[i]), stripWallTime(recs[i])) {
			t.Errorf("event %d differs from PyTorch's, wall_time aside:\n mine % x\nfixture % x", i, mine[i], recs[i])
		}
	}
}

// checkFixturePNG makes sure the fixture's image is the sample image, so
// the fixture and sampleCalls describe the same log.
func checkFixturePNG(t *testing.T, data []byte) {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("fixture PNG: %v", err)
	}
	if b := img.Bounds(); b.Dx() != sampleW || b.Dy() != sampleH {
		t.Fatalf("fixture PNG is %v, want %dx%d", b, sampleW, sampleH)
	}
	for y := range sampleH {
		for x := range sampleW {
			if got := color.RGBAModel.Convert(img.At(x, y)); got != samplePixels(x, y) {
				t.Fatalf("fixture pixel (%d,%d) = %v, want %v", x, y, got, samplePixels(x, y))
			}
		}
	}
}

func TestEncodingEdgeCases(t *testing.T) {
	var buf bytes.Buffer
	w, err := newWriter(&buf, clock())
	if err != nil {
		t.Fatal(err)
	}
	steps := []int64{-1, math.MinInt64, math.MaxInt64, 1 << 40}
	values := []float64{math.Inf(1), math.Copysign(0, -1), 1e300, 3.4028234663852886e38}
	for i, s := range steps {
		if err := w.Scalar("métrique/δ", s, values[i]); err != nil {
			t.Fatal(err)
		}
	}
	evs, _, err := decodeFile(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range steps {
		v := evs[i+1].Summary.Values[0]
		want := float32(values[i])
		if evs[i+1].Step != s || v.Tag != "métrique/δ" || math.Float32bits(*v.SimpleValue) != math.Float32bits(want) {
			t.Errorf("call %d: step %d tag %q value %v, want %d %q %v", i, evs[i+1].Step, v.Tag, *v.SimpleValue, s, "métrique/δ", want)
		}
	}
	var nan bytes.Buffer
	w, _ = newWriter(&nan, clock())
	if err := w.Scalar("nan", 1, math.NaN()); err != nil {
		t.Fatal(err)
	}
	evs, _, err = decodeFile(nan.Bytes())
	if err != nil || !math.IsNaN(float64(*evs[1].Summary.Values[0].SimpleValue)) {
		t.Errorf("NaN did not survive: %v", err)
	}
}

// TestEveryCallLeavesWholeRecords checks that what the destination holds
// after each call is a complete, readable file: a run killed between two
// calls keeps everything logged so far.
func TestEveryCallLeavesWholeRecords(t *testing.T) {
	var dst bytes.Buffer
	bw := bufio.NewWriterSize(&dst, 1<<16) // would hold everything if not flushed
	w, err := NewWriter(bw)
	if err != nil {
		t.Fatal(err)
	}
	pngData := samplePNG(t)
	for i := range 5 {
		if i%2 == 0 {
			err = w.Scalar("s", int64(i), float64(i))
		} else {
			err = w.Image("img", int64(i), pngData, sampleW, sampleH, 3)
		}
		if err != nil {
			t.Fatal(err)
		}
		evs, _, err := decodeFile(dst.Bytes())
		if err != nil || len(evs) != i+2 {
			t.Fatalf("after call %d the destination holds %d events (%v), want %d", i, len(evs), err, i+2)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestConcurrentWrites(t *testing.T) {
	var buf bytes.Buffer
	w, err := NewWriter(&buf)
	if err != nil {
		t.Fatal(err)
	}
	const goroutines, each = 8, 50
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range each {
				if err := w.Scalar("g"+strconv.Itoa(g), int64(i), float64(i)); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	evs, _, err := decodeFile(buf.Bytes())
	if err != nil || len(evs) != 1+goroutines*each {
		t.Fatalf("%d events (%v), want %d", len(evs), err, 1+goroutines*each)
	}
}

func TestFileName(t *testing.T) {
	got := FileName(time.Unix(123, 999_000_000), "node/1", 42, 7)
	if want := "events.out.tfevents.0000000123.node_1.42.7"; got != want {
		t.Errorf("FileName = %q, want %q", got, want)
	}
}

func TestCreate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "runs", "seg-trn")
	w1, p1, err := Create(dir)
	if err != nil {
		t.Fatal(err)
	}
	w2, p2, err := Create(dir) // same second, same directory
	if err != nil {
		t.Fatal(err)
	}
	if p1 == p2 {
		t.Fatalf("two writers share %s", p1)
	}
	host, _ := os.Hostname()
	re := regexp.MustCompile(`^events\.out\.tfevents\.\d{10}\.` + regexp.QuoteMeta(host) + `\.` + strconv.Itoa(os.Getpid()) + `\.\d+$`)
	if filepath.Dir(p1) != dir || !re.MatchString(filepath.Base(p1)) {
		t.Errorf("path %s does not look like PyTorch's", p1)
	}
	if err := w1.Scalar("loss", 3, 0.5); err != nil {
		t.Fatal(err)
	}
	// Before Close: the event is already in the file.
	checkFileEvents(t, p1, 2)
	for _, w := range []*Writer{w1, w2} {
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Errorf("second Close: %v", err)
		}
	}
	if err := w1.Scalar("loss", 4, 0.5); !errors.Is(err, ErrClosed) {
		t.Errorf("Scalar after Close: %v, want ErrClosed", err)
	}
	checkFileEvents(t, p1, 2)
	checkFileEvents(t, p2, 1)
}

func checkFileEvents(t *testing.T, path string, n int) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	evs, _, err := decodeFile(b)
	if err != nil || len(evs) != n {
		t.Errorf("%s: %d events (%v), want %d", path, len(evs), err, n)
	}
}

func TestCreateErrors(t *testing.T) {
	file := filepath.Join(t.TempDir(), "plain")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Create(filepath.Join(file, "sub")); err == nil {
		t.Error("Create under a regular file succeeded")
	}
}

func TestArgumentErrors(t *testing.T) {
	w, err := NewWriter(new(bytes.Buffer))
	if err != nil {
		t.Fatal(err)
	}
	pngData := samplePNG(t)
	bad := []struct {
		name string
		err  error
	}{
		{"empty tag", w.Scalar("", 1, 1)},
		{"non-UTF-8 tag", w.Scalar("\xff", 1, 1)},
		{"image empty tag", w.Image("", 1, pngData, sampleW, sampleH, 3)},
		{"zero width", w.Image("i", 1, pngData, 0, sampleH, 3)},
		{"negative height", w.Image("i", 1, pngData, sampleW, -3, 3)},
		{"too wide", w.Image("i", 1, pngData, math.MaxInt32+1, sampleH, 3)},
		{"0 channels", w.Image("i", 1, pngData, sampleW, sampleH, 0)},
		{"5 channels", w.Image("i", 1, pngData, sampleW, sampleH, 5)},
		{"not a PNG", w.Image("i", 1, []byte("GIF89a"), sampleW, sampleH, 3)},
		{"no data", w.Image("i", 1, nil, sampleW, sampleH, 3)},
		{"size mismatch", w.Image("i", 1, pngData, sampleH, sampleW, 3)},
	}
	for _, b := range bad {
		if b.err == nil {
			t.Errorf("%s: no error", b.name)
		}
	}
}

// failWriter fails every Write after the first n.
type failWriter struct {
	n      int
	writes int
}

var errDisk = errors.New("disk full")

func (f *failWriter) Write(p []byte) (int, error) {
	f.writes++
	if f.writes > f.n {
		return 0, errDisk
	}
	return len(p), nil
}

func TestWriteErrorsStick(t *testing.T) {
	if _, err := NewWriter(&failWriter{}); !errors.Is(err, errDisk) {
		t.Errorf("NewWriter on a failing writer: %v", err)
	}
	fw := &failWriter{n: 1}
	w, err := NewWriter(fw)
	if err != nil {
		t.Fatal(err)
	}
	err = w.Scalar("loss", 1, 1)
	if !errors.Is(err, errDisk) {
		t.Fatalf("Scalar: %v, want disk full", err)
	}
	if err2 := w.Scalar("loss", 2, 1); err2 != err || fw.writes != 2 {
		t.Errorf("second Scalar: %v after %d writes; want the first error and no new write", err2, fw.writes)
	}
	if cerr := w.Close(); cerr != err {
		t.Errorf("Close: %v, want the first error", cerr)
	}
}

// flushFailer is a destination whose Flush fails.
type flushFailer struct{ bytes.Buffer }

func (*flushFailer) Flush() error { return errDisk }

func TestFlushError(t *testing.T) {
	if _, err := NewWriter(&flushFailer{}); !errors.Is(err, errDisk) {
		t.Errorf("NewWriter: %v, want the flush error", err)
	}
}

// TestRestart: a resumed run's first event is a SessionLog START at the
// step from which TensorBoard forgets what earlier files logged.
func TestRestart(t *testing.T) {
	var buf bytes.Buffer
	w, err := NewWriter(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Restart(4801); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	evs, _, err := decodeFile(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 2 || evs[1].Step != 4801 || evs[1].SessionLog == nil || *evs[1].SessionLog != 1 || evs[1].Summary != nil {
		t.Errorf("events %+v, want file_version then SessionLog START at step 4801", evs)
	}
}
