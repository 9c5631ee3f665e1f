package blackbox

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/ctseg/ctseg/format"
	"github.com/ctseg/ctseg/geom"
	"github.com/ctseg/ctseg/internal/streamtest"
)

// Issue 10 items 3, 5 and 6: names from the data never leave the given
// directory, errors say what is wrong without echoing binary, and data
// that would mislead the model or the evaluation is refused.

const annHeader = "seriesuid,coordX,coordY,coordZ,diameter_mm\n"

// airCT is a 10×40×50 CT of air (origin 0, spacing 1 mm, so voxel
// (i, r, c) is at xyz (c, r, i)) with a 3×5×7 block of HU 50 around voxel
// (4, 12, 23).
func airCT(uid string) *format.CT {
	ct := &format.CT{
		SeriesUID: uid,
		Shape:     [3]int{10, 40, 50},
		Geometry:  geom.Geometry{Spacing: [3]float64{1, 1, 1}, Direction: geom.Identity},
		HU:        make([]int16, 10*40*50),
	}
	for i := range ct.HU {
		ct.HU[i] = -1000
	}
	for i := 3; i <= 5; i++ {
		for r := 10; r <= 14; r++ {
			for c := 20; c <= 26; c++ {
				ct.HU[(i*40+r)*50+c] = 50
			}
		}
	}
	return ct
}

// blockXYZ is the xyz of the block's centre voxel (4, 12, 23) in airCT.
const blockXYZ = "23,12,4"

func writeFile(t *testing.T, path, text string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func readStream(t *testing.T, kind format.Kind, recs ...format.Record) []byte {
	t.Helper()
	b, err := os.ReadFile(streamtest.Write(t, kind, recs...))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A series uid from the stream such as "../../escaped" must not make
// mkmask --png write outside the PNG directory.
func TestPNGPathTraversal(t *testing.T) {
	for _, uid := range []string{"../../escaped", "..", "a/b", `..\..\escaped`} {
		dir := t.TempDir()
		ann := writeFile(t, filepath.Join(dir, "ann.csv"), annHeader+"\""+uid+"\","+blockXYZ+",5\n")
		pngDir := filepath.Join(dir, "out", "png")
		r := run(t, dir, readStream(t, format.KindCT, airCT(uid)), "mkmask", "--annotations", ann, "--threshold", "-700", "--png", pngDir, "-q")
		failsCleanly(t, "mkmask", r, "--png: series uid", "cannot be a file name")
		// Nothing written anywhere, inside --png or out of it.
		filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
			if path != dir && path != ann {
				t.Errorf("uid %q: mkmask wrote %s (--png %s)", uid, path, pngDir)
			}
			return err
		})
	}
}

// writeMHD writes DIR/subset0/<uid>.mhd with the given DimSize and
// ElementDataFile, and a 4×3×2 MET_SHORT data file beside it.
func writeMHD(t *testing.T, dir, uid, dims, dataFile string) {
	t.Helper()
	hdr := "ObjectType = Image\nNDims = 3\nBinaryData = True\nBinaryDataByteOrderMSB = False\n" +
		"CompressedData = False\nTransformMatrix = 1 0 0 0 1 0 0 0 1\nOffset = 0 0 0\n" +
		"ElementSpacing = 1 1 1\nDimSize = " + dims + "\nElementType = MET_SHORT\nElementDataFile = " + dataFile + "\n"
	writeFile(t, filepath.Join(dir, "subset0", uid+".mhd"), hdr)
	writeFile(t, filepath.Join(dir, "subset0", uid+".raw"), string(make([]byte, 48)))
}

// An .mhd naming a data file outside its directory is refused, naming the
// header, before the file is read into the stream; a DimSize too large
// says so, with the limit.
func TestCtreadHeaderChecks(t *testing.T) {
	secret := writeFile(t, filepath.Join(t.TempDir(), "secret.raw"), string(bytes.Repeat([]byte{7}, 48)))
	dir := t.TempDir()
	rel, err := filepath.Rel(filepath.Join(dir, "subset0"), secret)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{rel, secret, "../subset0/1.2.raw"} {
		writeMHD(t, dir, "1.2", "4 3 2", name)
		r := run(t, "", nil, "ctread", "--data", dir, "-q")
		shown := name[:min(len(name), 40)] // long names are cut short in the message
		failsCleanly(t, "ctread", r, filepath.Join("subset0", "1.2.mhd"), "ElementDataFile = "+shown, "relative to the header's directory")
	}
	writeMHD(t, dir, "1.2", "4 3 2", "1.2.raw")
	if r := run(t, "", nil, "ctread", "--data", dir, "-q"); r.code != 0 {
		t.Errorf("a data file beside its header: %v", r)
	}
	writeMHD(t, dir, "1.2", "4294967296 1 1", "1.2.raw")
	r := run(t, "", nil, "ctread", "--data", dir, "-q")
	failsCleanly(t, "ctread", r, "DimSize = 4294967296 1 1: 4294967296 is too large", "at most 2147483648 voxels")
}

// A binary file given as a nodule list: the error shows the start of its
// header quoted and cut short, on one line.
func TestBinaryCSVHeader(t *testing.T) {
	dir := t.TempDir()
	bin := writeFile(t, filepath.Join(dir, "scan.csv"), "\x89PNG\x1a\x00\x00\x00\rIHDR"+strings.Repeat("\x00\x1b[2J\xff", 3000)+"\n")
	for _, flag := range []string{"--annotations", "--candidates"} {
		args := []string{flag, bin, "-q"}
		if flag == "--candidates" {
			args = append(args, "--annotations", writeFile(t, filepath.Join(dir, "ann.csv"), annHeader))
		}
		r := run(t, dir, readStream(t, format.KindCT, airCT("1.2")), "mkmask", args...)
		failsCleanly(t, "mkmask", r, "scan.csv: header lacks needed column", `\x89PNG`)
		if len(r.stderr) > 600 || bytes.ContainsFunc(r.stderr, func(c rune) bool { return c < ' ' && c != '\n' || c == utf8.RuneError }) {
			t.Errorf("%s: stderr is %d bytes or shows raw bytes: %q", flag, len(r.stderr), r.stderr)
		}
	}
}

// Diameters no nodule has, and repeated nodule rows, are errors naming the
// file and line.
func TestNoduleListChecks(t *testing.T) {
	in := readStream(t, format.KindCT, airCT("1.2"))
	cases := map[string]struct{ rows, want string }{
		"zero":     {"1.2,1,2,3,5\n1.2," + blockXYZ + ",0\n", "ann.csv:3: column diameter_mm: 0 is not a nodule diameter"},
		"negative": {"1.2," + blockXYZ + ",-1\n", "ann.csv:2: column diameter_mm: -1 is not a nodule diameter"},
		"huge":     {"1.2," + blockXYZ + ",250\n", "ann.csv:2: column diameter_mm: 250 is not a nodule diameter (want more than 0 and at most 100 mm)"},
		"repeated": {"1.2," + blockXYZ + ",5\n1.2,1,2,3,5\n1.2," + blockXYZ + ",5.0\n", "ann.csv:4: repeats line 2"},
	}
	for name, c := range cases {
		dir := t.TempDir()
		writeFile(t, filepath.Join(dir, "ann.csv"), annHeader+c.rows)
		r := run(t, dir, in, "mkmask", "--annotations", "ann.csv", "-q")
		if !strings.Contains(string(r.stderr), c.want) {
			t.Errorf("%s: stderr %q, want %q", name, r.stderr, c.want)
		}
		failsCleanly(t, "mkmask", r, c.want)
	}
}

// A nodule or candidate list that names none of the stream's series is
// most likely the wrong file: mkmask warns once, at the end, and succeeds.
func TestListNamesNoSeries(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "annotations.csv"), annHeader+"9.9,1,2,3,5\n")
	writeFile(t, filepath.Join(dir, "candidates.csv"), "seriesuid,coordX,coordY,coordZ,class\n9.9,1,2,3,0\n")
	in := readStream(t, format.KindCT, airCT("1.2"), airCT("1.3"), airCT("1.2"))
	r := run(t, dir, in, "mkmask", "--data", ".", "-q")
	if r.code != 0 || len(r.stdout) == 0 {
		t.Fatalf("mkmask: %v", r)
	}
	for _, f := range []string{"annotations.csv", "candidates.csv"} {
		want := "mkmask: warning: none of the 2 series in the stream appear in " + f
		if n := strings.Count(string(r.stderr), want); n != 1 {
			t.Errorf("warning %q printed %d times; stderr:\n%s", want, n, r.stderr)
		}
	}
	// One series listed: no warning about that file.
	writeFile(t, filepath.Join(dir, "annotations.csv"), annHeader+"9.9,1,2,3,5\n1.3,"+blockXYZ+",5\n")
	r = run(t, dir, in, "mkmask", "--data", ".", "-q")
	if r.code != 0 || strings.Contains(string(r.stderr), "appear in annotations.csv") {
		t.Errorf("a list naming one series: %v", r)
	}
}

// maskedCT is airCT with a mask on slices 3…5 and matching positive
// indexes, as mkmask writes it.
func maskedCT(uid string) *format.CT {
	ct := airCT(uid)
	ct.Mask = make([]uint8, len(ct.HU))
	for i, v := range ct.HU {
		if v > -700 {
			ct.Mask[i] = 1
		}
	}
	ct.PositiveIndexes = []int{3, 4, 5}
	ct.Nodules = []format.Candidate{{CenterIRC: [3]int{4, 12, 23}, DiameterMM: 5, IsNodule: true}}
	return ct
}

// crop refuses a mask holding values other than 0 and 1, and positive
// indexes that disagree with the mask, naming the series (and the slice).
func TestCropMaskChecks(t *testing.T) {
	good := maskedCT("1.1")
	twos := maskedCT("1.2")
	twos.Mask[(4*40+12)*50+23] = 2
	missing := maskedCT("1.3")
	missing.PositiveIndexes = []int{3, 5}
	extra := maskedCT("1.4")
	extra.PositiveIndexes = []int{3, 4, 5, 7}
	cases := []struct {
		ct   *format.CT
		want []string
	}{
		{twos, []string{"series 1.2: mask value 2 at voxel (slice 4, row 12, col 23)"}},
		{missing, []string{"series 1.3: positive_indexes disagrees with the mask at slice 4"}},
		{extra, []string{"series 1.4: positive_indexes disagrees with the mask at slice 7"}},
	}
	for _, c := range cases {
		in := readStream(t, format.KindCT, c.ct)
		for _, args := range [][]string{{"--width", "3,8,8", "-q"}, {"--val", "-q"}} {
			r := run(t, "", in, "crop", args...)
			failsCleanly(t, "crop", r, c.want...)
		}
	}
	if r := run(t, "", readStream(t, format.KindCT, good), "crop", "--val", "-q"); r.code != 0 {
		t.Errorf("crop --val on a consistent CT: %v", r)
	}
}

// --decoys has an upper bound, given as a usage error naming the flag.
func TestPhantomDecoyBound(t *testing.T) {
	r := run(t, "", nil, "mkphantom", "--out", "ph", "--series", "1", "--size", "32x32x8", "--decoys", "10001", "-q")
	failsCleanly(t, "mkphantom", r, "--decoys 10001: must be in [0, 10000]")
}
