package blackbox

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/ctseg/ctseg/format"
	"github.com/ctseg/ctseg/geom"
	"github.com/ctseg/ctseg/internal/version"
)

// programs are the programs of cmd/.
var programs = []string{"crop", "ctread", "mkmask", "mkphantom", "streamcat"}

// maskedCTStream is a stream of one small masked CT without nodules: crop
// makes an empty crop stream of it, mkmask masks it again.
func maskedCTStream(uid string) []byte {
	var b bytes.Buffer
	w, err := format.NewWriter(&b, format.Header{Kind: format.KindCT, Program: "test"})
	if err != nil {
		panic(err) // writing to memory: a bug
	}
	ct := &format.CT{SeriesUID: uid, Shape: [3]int{1, 2, 2}, HU: []int16{-1000, 0, 40, 700}, Mask: make([]uint8, 4),
		Geometry: geom.Geometry{Spacing: [3]float64{1, 1, 1}, Direction: geom.Identity}}
	if err := w.Write(ct); err != nil {
		panic(err)
	}
	if err := w.Close(); err != nil {
		panic(err)
	}
	return b.Bytes()
}

// workFiles are the files of workDir, made once: a stream's header holds
// the time it was made.
var workFiles = sync.OnceValue(func() map[string][]byte {
	return map[string][]byte{
		"a.msz":           maskedCTStream("1.2.a"),
		"b.msz":           maskedCTStream("1.2.b"),
		"annotations.csv": []byte("seriesuid,coordX,coordY,coordZ,diameter_mm\n"),
	}
})

// workDir is a directory holding a.msz, b.msz (two streams) and
// annotations.csv (for mkmask, no nodules).
func workDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for name, data := range workFiles() {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// unchanged checks that dir holds the files workDir made, byte for byte,
// and nothing else.
func unchanged(t *testing.T, dir string, what string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if want := []string{"a.msz", "annotations.csv", "b.msz"}; !slices.Equal(names, want) {
		t.Errorf("%s: directory holds %v, want %v", what, names, want)
	}
	for name, data := range workFiles() {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || !bytes.Equal(got, data) {
			t.Errorf("%s: %s changed (%d bytes, %v)", what, name, len(got), err)
		}
	}
}

// `cat a.msz | crop b.msz -o` once wrote over b.msz and exited 0: moving
// the flags in front of the file names made b.msz the value of -o. A flag
// without its value, or with a flag for a value, is now a usage error, and
// no argument meant as an input becomes an output.
func TestValuelessOutputFlagTouchesNothing(t *testing.T) {
	luna := filepath.Join(t.TempDir(), "luna")
	if r := run(t, "", nil, "mkphantom", "-q", "-o", luna, "--series", "1", "--size", "32x32x8"); r.code != 0 {
		t.Fatalf("mkphantom: %v", r)
	}
	leads := map[string][]string{
		"crop":      {"b.msz"},
		"mkmask":    {"--annotations", "annotations.csv", "b.msz"},
		"streamcat": {"b.msz"},
		"ctread":    {"--data", luna},
		"mkphantom": {"--series", "1", "--size", "32x32x8", "b.msz"},
	}
	tails := []struct {
		args []string
		want string
	}{
		{[]string{"-o"}, "flag -o needs a value (see "},
		{[]string{"--output"}, "flag --output needs a value (see "},
		{[]string{"-q", "-o"}, "flag -o needs a value (see "},
		{[]string{"-o", "-q"}, `flag -o needs a value, not "-q"`},
		{[]string{"-o", "--", "a.msz"}, `flag -o needs a value, not "--"`},
		{[]string{"-o="}, "--output: empty file name"},
		{[]string{"-o", ""}, "--output: empty file name"},
	}
	stdin := maskedCTStream("1.2.a")
	for _, prog := range programs {
		for _, tail := range tails {
			if prog == "mkphantom" && strings.Contains(tail.want, "empty file name") {
				continue // --out DIR: its own error, tested below
			}
			dir := workDir(t)
			args := append(slices.Clone(leads[prog]), tail.args...)
			r := run(t, dir, stdin, prog, args...)
			failsCleanly(t, prog, r, tail.want)
			unchanged(t, dir, prog+" "+strings.Join(args, " "))
		}
	}
	dir := workDir(t)
	r := run(t, dir, nil, "mkphantom", "--series", "1", "-o=")
	failsCleanly(t, "mkphantom", r, "no output directory")
	unchanged(t, dir, "mkphantom -o=")
}

// Flags after the files still work, and "-" is stdout.
func TestFlagsAfterFiles(t *testing.T) {
	dir := workDir(t)
	r := run(t, dir, nil, "crop", "b.msz", "-o", "out.msz", "-q")
	if r.code != 0 {
		t.Fatalf("crop b.msz -o out.msz -q: %v", r)
	}
	if _, err := os.Stat(filepath.Join(dir, "out.msz")); err != nil {
		t.Error(err)
	}
	r = run(t, dir, nil, "crop", "b.msz", "-o", "-", "-q")
	if r.code != 0 || len(r.stdout) == 0 {
		t.Errorf("crop b.msz -o -: %v, want the stream on stdout", r)
	}
	r = run(t, dir, nil, "streamcat", "b.msz", "-o", "lines.txt", "-q")
	lines, err := os.ReadFile(filepath.Join(dir, "lines.txt"))
	if r.code != 0 || err != nil || !strings.Contains(string(lines), "1.2.b") {
		t.Errorf("streamcat b.msz -o lines.txt -q: %v; file %q, %v", r, lines, err)
	}
}

// Every program answers --version, and the version goes into the header
// of every stream it writes.
func TestVersion(t *testing.T) {
	for _, prog := range programs {
		r := run(t, "", nil, prog, "--version")
		out := string(r.stdout)
		if r.code != 0 || !strings.HasPrefix(out, prog+" version "+version.Number) {
			t.Errorf("%s --version: %v, stdout %q", prog, r, out)
		}
	}
	dir := workDir(t)
	if r := run(t, dir, nil, "crop", "-q", "b.msz", "-o", "crops.msz"); r.code != 0 {
		t.Fatalf("crop: %v", r)
	}
	r := run(t, dir, nil, "streamcat", "--headers", "--json", "crops.msz")
	var h struct {
		Kind, Program  string
		ProgramVersion string `json:"program_version"`
	}
	if err := json.Unmarshal(bytes.SplitN(r.stdout, []byte("\n"), 2)[0], &h); err != nil {
		t.Fatalf("streamcat --headers --json: %v (%v)", err, r)
	}
	want := strings.TrimPrefix(strings.TrimSpace(string(run(t, "", nil, "crop", "--version").stdout)), "crop version ")
	if h.Kind != "header" || h.Program != "crop" || h.ProgramVersion != want {
		t.Errorf("header %+v, want program_version %q", h, want)
	}
}

// A failing run that was to write -o into missing directories removes the
// directories it made; those that were there stay.
func TestFailedRunRemovesMadeDirs(t *testing.T) {
	for _, c := range []struct {
		prog string
		args []string
	}{
		{"crop", []string{"-o", "new/sub/out.msz", "missing.msz"}},
		{"crop", []string{"missing.msz", "-o", "old/new/sub/out.msz"}},
		{"mkmask", []string{"--annotations", "annotations.csv", "-o", "new/sub/out.msz", "missing.msz"}},
		{"streamcat", []string{"-o", "new/sub/out.txt", "missing.msz"}},
	} {
		dir := workDir(t)
		if err := os.Mkdir(filepath.Join(dir, "old"), 0o755); err != nil {
			t.Fatal(err)
		}
		r := run(t, dir, nil, c.prog, c.args...)
		failsCleanly(t, c.prog, r, "missing.msz")
		if err := os.Remove(filepath.Join(dir, "old")); err != nil {
			t.Errorf("%s %v: %v", c.prog, c.args, err) // gone, or not empty
		}
		unchanged(t, dir, c.prog+" "+strings.Join(c.args, " "))
	}
}

// --help says that -o makes missing directories.
func TestHelpSaysOutputMakesDirs(t *testing.T) {
	for _, prog := range []string{"crop", "ctread", "mkmask", "streamcat"} {
		r := run(t, "", nil, prog, "--help")
		if r.code != 0 || !strings.Contains(string(r.stdout), "missing directories are made") {
			t.Errorf("%s --help does not say that -o makes directories: %v", prog, r)
		}
	}
}

// crop's switch is --negatives; --candidates is mkmask's FILE. The old
// spelling still works, with a warning.
func TestCropCandidatesIsDeprecated(t *testing.T) {
	dir := workDir(t)
	r := run(t, dir, nil, "crop", "-q", "--candidates", "b.msz", "-o", "out.msz")
	if r.code != 0 || !strings.Contains(string(r.stderr), "crop: warning: --candidates is deprecated, use --negatives") {
		t.Errorf("crop --candidates: %v", r)
	}
	r = run(t, dir, nil, "crop", "-q", "--negatives", "b.msz", "-o", "out.msz")
	if r.code != 0 || len(r.stderr) != 0 {
		t.Errorf("crop --negatives: %v", r)
	}
	help := string(run(t, "", nil, "crop", "--help").stdout)
	if !strings.Contains(help, "--negatives") || strings.Contains(help, "--candidates") {
		t.Errorf("crop --help:\n%s\nwant --negatives and not --candidates", help)
	}
}
