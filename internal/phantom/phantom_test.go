package phantom

import (
	"bytes"
	"encoding/csv"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ctseg/ctseg/internal/luna"
	"github.com/ctseg/ctseg/internal/metaimage"
	"github.com/ctseg/ctseg/internal/sharedtest"
)

// smallOptions are the sizes the tests use: 128×128×48.
func smallOptions() Options {
	o := DefaultOptions()
	o.Cols, o.Rows, o.Slices = 128, 128, 48
	o.Series = 4
	return o
}

// The small data set most tests read, generated once.
var (
	smallOnce sync.Once
	smallDir  string
	smallErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if smallDir != "" {
		os.RemoveAll(smallDir)
	}
	os.Exit(code)
}

// smallDataset returns the directory of the 4-series 128×128×48 data set
// of seed 1, and its series.
func smallDataset(t *testing.T) string {
	t.Helper()
	smallOnce.Do(func() {
		if smallDir, smallErr = os.MkdirTemp("", "phantom-test-"); smallErr != nil {
			return
		}
		_, smallErr = WriteDataset(smallDir, smallOptions(), nil)
	})
	if smallErr != nil {
		t.Fatal(smallErr)
	}
	return smallDir
}

// readCSV parses a CSV file with encoding/csv; header is its first row.
func readCSV(t *testing.T, path string) (header []string, rows [][]string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	all, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if len(all) == 0 {
		t.Fatalf("%s: empty", path)
	}
	return all[0], all[1:]
}

func parseFloats(t *testing.T, ss ...string) []float64 {
	t.Helper()
	out := make([]float64, len(ss))
	for i, s := range ss {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			t.Fatalf("bad number %q: %v", s, err)
		}
		out[i] = v
	}
	return out
}

// volumes reads every series of a data set, keyed by uid.
func volumes(t *testing.T, dir string) map[string]*metaimage.Image {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(dir, "subset*", "*.mhd"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no volumes under %s (%v)", dir, err)
	}
	out := map[string]*metaimage.Image{}
	for _, p := range paths {
		img, err := metaimage.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out[strings.TrimSuffix(filepath.Base(p), ".mhd")] = img
	}
	return out
}

// voxelOf maps world xyz to [index, row, col] the way SPEC.md says, written
// out here independently of package geom: round half to even of
// (xyz − origin) / spacing, for the identity direction the files carry.
func voxelOf(t *testing.T, img *metaimage.Image, xyz []float64) [3]int {
	t.Helper()
	if img.Geometry.Direction != [9]float64{1, 0, 0, 0, 1, 0, 0, 0, 1} {
		t.Fatalf("direction %v, want identity", img.Geometry.Direction)
	}
	var cri [3]int
	for i := 0; i < 3; i++ {
		cri[i] = int(math.RoundToEven((xyz[i] - img.Geometry.Origin[i]) / img.Geometry.Spacing[i]))
		if cri[i] < 0 || cri[i] >= img.Size[i] {
			t.Fatalf("xyz %v: voxel %v outside the volume %v", xyz, cri, img.Size)
		}
	}
	return [3]int{cri[2], cri[1], cri[0]}
}

func at(img *metaimage.Image, irc [3]int) int16 {
	return img.HU[(irc[0]*img.Size[1]+irc[1])*img.Size[0]+irc[2]]
}

func TestSameSeedSameBytes(t *testing.T) {
	dir := smallDataset(t)
	again := t.TempDir()
	opt := smallOptions()
	opt.Workers = 1 // and a different worker count: the output must not depend on it
	if _, err := WriteDataset(again, opt, nil); err != nil {
		t.Fatal(err)
	}
	var n int
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		a, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		b, err := os.ReadFile(filepath.Join(again, rel))
		if err != nil {
			return err
		}
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs between two runs with the same seed", rel)
		}
		n++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n != 5+2*4 {
		t.Errorf("%d files, want 5 CSV + 4 × (.mhd, .raw)", n)
	}
}

func TestOtherSeedOtherData(t *testing.T) {
	a, b := smallOptions(), smallOptions()
	b.Seed = 2
	sa, err := Plan(a, 0)
	if err != nil {
		t.Fatal(err)
	}
	sb, err := Plan(b, 0)
	if err != nil {
		t.Fatal(err)
	}
	if sa.UID == sb.UID || slices.Equal(sa.Render(0), sb.Render(0)) {
		t.Error("seeds 1 and 2 gave the same series")
	}
	// Series i does not depend on how many series there are.
	a.Series = 1
	sc, err := Plan(a, 0)
	if err != nil {
		t.Fatal(err)
	}
	if sc.UID != sa.UID || !slices.Equal(sc.Render(1), sa.Render(2)) {
		t.Error("series 0 changed with --series")
	}
}

var uidRE = regexp.MustCompile(`^1\.3\.6\.1\.4\.1\.14519\.5\.2\.1\.6279\.6001\.[1-9][0-9]{29}$`)

func TestLayoutAndSeriesList(t *testing.T) {
	dir := smallDataset(t)
	data, err := os.ReadFile(filepath.Join(dir, "seriesuids.csv"))
	if err != nil {
		t.Fatal(err)
	}
	uids := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	if len(uids) != 4 || !slices.IsSorted(uids) {
		t.Fatalf("seriesuids.csv: %q, want 4 sorted uids", uids)
	}
	vols := volumes(t, dir)
	for _, u := range uids {
		if !uidRE.MatchString(u) {
			t.Errorf("uid %q does not look like a LUNA16 uid", u)
		}
		img, ok := vols[u]
		if !ok {
			t.Errorf("%s listed but no subset*/%s.mhd", u, u)
			continue
		}
		if img.Size != [3]int{128, 128, 48} {
			t.Errorf("%s: size %v", u, img.Size)
		}
		sp := img.Geometry.Spacing
		if sp[0] != sp[1] || sp[0] < 0.5 || sp[0] > 0.98 || sp[2] < 0.6 || sp[2] > 2.5 {
			t.Errorf("%s: spacing %v outside LUNA16's ranges", u, sp)
		}
	}
}

func TestCSVHeadersMatchTheRealFiles(t *testing.T) {
	dir := smallDataset(t)
	// The book's and LUNA16's headers, written out here.
	want := map[string]string{
		"annotations_with_malignancy.csv": "seriesuid,coordX,coordY,coordZ,diameter_mm,mal_bool,mal_details," +
			"bboxLowX,bboxLowY,bboxLowZ,bboxHighX,bboxHighY,bboxHighZ,len_mal_details",
		"annotations.csv":          "seriesuid,coordX,coordY,coordZ,diameter_mm",
		"candidates.csv":           "seriesuid,coordX,coordY,coordZ,class",
		"annotations_excluded.csv": "seriesuid,coordX,coordY,coordZ,diameter_mm",
	}
	for name, h := range want {
		got, _ := readCSV(t, filepath.Join(dir, name))
		if strings.Join(got, ",") != h {
			t.Errorf("%s header %q, want %q", name, strings.Join(got, ","), h)
		}
		if real, ok := sharedtest.Find("luna", name); ok {
			rh, _ := readCSV(t, real)
			if !slices.Equal(got, rh) {
				t.Errorf("%s header %q, the real file's is %q", name, got, rh)
			}
		}
	}
}

// malRule is mal_bool as the book's file has it: at least two ratings ≥ 4
// (it holds for all 1,182 rows of annotations_with_malignancy.csv).
func malRule(ratings []int) bool {
	n := 0
	for _, r := range ratings {
		if r >= 4 {
			n++
		}
	}
	return n >= 2
}

func parseRatings(t *testing.T, s string) []int {
	t.Helper()
	if !strings.HasPrefix(s, "[") || !strings.HasSuffix(s, "]") {
		t.Fatalf("mal_details %q is not a list", s)
	}
	var out []int
	for _, f := range strings.Split(s[1:len(s)-1], ", ") {
		v, err := strconv.Atoi(f)
		if err != nil || v < 1 || v > 5 {
			t.Fatalf("mal_details %q: bad rating %q", s, f)
		}
		out = append(out, v)
	}
	return out
}

func TestMalignancyRows(t *testing.T) {
	dir := smallDataset(t)
	_, rows := readCSV(t, filepath.Join(dir, "annotations_with_malignancy.csv"))
	_, plain := readCSV(t, filepath.Join(dir, "annotations.csv"))
	if len(rows) == 0 || len(rows) != len(plain) {
		t.Fatalf("%d malignancy rows, %d annotation rows", len(rows), len(plain))
	}
	for i, r := range rows {
		if len(r) != 14 {
			t.Fatalf("row %d: %d fields", i, len(r))
		}
		if !slices.Equal(r[:5], plain[i]) {
			t.Errorf("row %d: %q, annotations.csv has %q", i, r[:5], plain[i])
		}
		ratings := parseRatings(t, r[6])
		if r[13] != strconv.Itoa(len(ratings)) {
			t.Errorf("row %d: len_mal_details %s for %v", i, r[13], ratings)
		}
		if r[5] != "True" && r[5] != "False" || (r[5] == "True") != malRule(ratings) {
			t.Errorf("row %d: mal_bool %s for ratings %v", i, r[5], ratings)
		}
		v := parseFloats(t, r[1], r[2], r[3], r[4], r[7], r[8], r[9], r[10], r[11], r[12])
		if v[3] < 3 || v[3] > 30 {
			t.Errorf("row %d: diameter %v mm", i, v[3])
		}
		for a := 0; a < 3; a++ { // the bounding box holds the centre
			if v[4+a] > v[a] || v[a] > v[7+a] {
				t.Errorf("row %d axis %d: centre %v outside bbox [%v, %v]", i, a, v[a], v[4+a], v[7+a])
			}
		}
	}
}

func TestMalignancyRuleOnTheBooksFile(t *testing.T) {
	path := sharedtest.Path(t, "luna", "annotations_with_malignancy.csv")
	_, rows := readCSV(t, path)
	for i, r := range rows {
		if (r[5] == "True") != malRule(parseRatings(t, r[6])) {
			t.Errorf("line %d: mal_bool %s for %s", i+2, r[5], r[6])
		}
	}
}

// TestNodulesAreWhereTheFilesSay checks every listed nodule against the
// voxels: its centre voxel (SPEC geometry) is nodule tissue well above the
// −700 HU mask threshold, and so is the core (within 40 % of the radius).
func TestNodulesAreWhereTheFilesSay(t *testing.T) {
	dir := smallDataset(t)
	vols := volumes(t, dir)
	_, rows := readCSV(t, filepath.Join(dir, "annotations.csv"))
	for i, r := range rows {
		img := vols[r[0]]
		if img == nil {
			t.Fatalf("row %d: series %s not on disk", i, r[0])
		}
		v := parseFloats(t, r[1], r[2], r[3], r[4])
		c := voxelOf(t, img, v[:3])
		if hu := at(img, c); hu <= -700 || hu < -150 || hu > 250 {
			t.Errorf("row %d: HU %d at the centre voxel %v, want nodule tissue (0–60 HU plus noise)", i, hu, c)
		}
		core := 0.4 * v[3] / 2
		for k := 0; k < img.Size[2]; k++ {
			for y := 0; y < img.Size[1]; y++ {
				for x := 0; x < img.Size[0]; x++ {
					p := [3]float64{float64(x), float64(y), float64(k)}
					var d2 float64
					for a := 0; a < 3; a++ {
						dd := img.Geometry.Origin[a] + p[a]*img.Geometry.Spacing[a] - v[a]
						d2 += dd * dd
					}
					if d2 <= core*core {
						if hu := at(img, [3]int{k, y, x}); hu < -150 || hu > 250 {
							t.Errorf("row %d: HU %d at voxel %v in the nodule's core", i, hu, [3]int{k, y, x})
						}
					}
				}
			}
		}
	}
}

func TestCandidates(t *testing.T) {
	dir := smallDataset(t)
	vols := volumes(t, dir)
	_, ann := readCSV(t, filepath.Join(dir, "annotations.csv"))
	_, rows := readCSV(t, filepath.Join(dir, "candidates.csv"))
	var nodules [][]string
	byUID := map[string][][]float64{}
	for i, r := range rows {
		if len(r) != 5 {
			t.Fatalf("row %d: %d fields", i, len(r))
		}
		switch r[4] {
		case "1":
			nodules = append(nodules, r)
		case "0":
			v := parseFloats(t, r[1], r[2], r[3])
			byUID[r[0]] = append(byUID[r[0]], v)
			voxelOf(t, vols[r[0]], v) // inside the volume
		default:
			t.Errorf("row %d: class %q", i, r[4])
		}
	}
	if len(nodules) != len(ann) {
		t.Errorf("%d class-1 rows for %d nodules", len(nodules), len(ann))
	}
	for uid, ds := range byUID {
		if len(ds) < 20 {
			t.Errorf("%s: only %d of 30 decoys", uid, len(ds))
		}
		for i, a := range ds {
			for _, b := range ds[i+1:] {
				if d := dist(a, b); d < 6-0.02 {
					t.Errorf("%s: decoys %v and %v only %.2f mm apart", uid, a, b, d)
				}
			}
			for _, n := range ann {
				if n[0] != uid {
					continue
				}
				v := parseFloats(t, n[1], n[2], n[3], n[4])
				if d := dist(a, v[:3]); d < math.Max(v[3], 10)-0.02 {
					t.Errorf("%s: decoy %v %.1f mm from a nodule of %.1f mm", uid, a, d, v[3])
				}
			}
		}
	}
}

func dist(a, b []float64) float64 {
	return math.Sqrt((a[0]-b[0])*(a[0]-b[0]) + (a[1]-b[1])*(a[1]-b[1]) + (a[2]-b[2])*(a[2]-b[2]))
}

// TestDecoyTissue checks that each decoy kind sits in its tissue: lung
// points in parenchyma, wall points in soft tissue or bone, vessel points
// (near a vessel's axis) dense.
func TestDecoyTissue(t *testing.T) {
	opt := smallOptions()
	for i := 0; i < opt.Series; i++ {
		s, err := Plan(opt, i)
		if err != nil {
			t.Fatal(err)
		}
		img := &metaimage.Image{Size: s.Size, Geometry: s.Geometry, HU: s.Render(0)}
		for _, c := range s.Candidates {
			hu := at(img, voxelOf(t, img, c.CenterXYZ[:]))
			switch c.Kind {
			case "lung":
				if hu > -600 {
					t.Errorf("series %d: lung decoy at %v has HU %d", i, c.CenterXYZ, hu)
				}
			case "wall":
				if hu < -300 {
					t.Errorf("series %d: wall decoy at %v has HU %d", i, c.CenterXYZ, hu)
				}
			case "vessel":
				if hu < -500 {
					t.Errorf("series %d: vessel decoy at %v has HU %d", i, c.CenterXYZ, hu)
				}
			}
		}
	}
}

func TestAwkwardSeries(t *testing.T) {
	for _, opt := range []Options{smallOptions(), func() Options { o := smallOptions(); o.Seed = 7; return o }()} {
		s0, err := Plan(opt, juxtaSeries)
		if err != nil {
			t.Fatal(err)
		}
		if len(s0.Nodules) == 0 || !s0.Nodules[0].Juxtapleural {
			t.Fatalf("seed %d: series 0 has no wall nodule first: %+v", opt.Seed, s0.Nodules)
		}
		// Some of the ball of the nodule's radius lies outside the lung.
		e := s0.shapes[0]
		touches := false
		for _, d := range [][3]float64{{1, 0, 0}, {-1, 0, 0}, {0, 1, 0}, {0, -1, 0}, {0.7, 0.7, 0}, {-0.7, 0.7, 0}, {0.7, -0.7, 0}, {-0.7, -0.7, 0}} {
			if s0.anat.lungAlpha(add(e.c, scale(d, e.req))) < 0.5 {
				touches = true
			}
		}
		if !touches {
			t.Errorf("seed %d: the wall nodule does not reach the chest wall", opt.Seed)
		}
		s1, err := Plan(opt, edgeSeries)
		if err != nil {
			t.Fatal(err)
		}
		if len(s1.Nodules) == 0 || !s1.Nodules[0].NearEdge || s1.Nodules[0].CenterIRC[0] != s1.Size[2]-2 {
			t.Errorf("seed %d: series 1's first nodule is not on slice %d: %+v", opt.Seed, s1.Size[2]-2, s1.Nodules)
		}
	}
}

func TestDrawnGeometryLikeLUNA16(t *testing.T) {
	opt := DefaultOptions()
	opt.Series = 12
	for i := 0; i < opt.Series; i++ {
		s := &Series{}
		s.drawGeometry(newRand(opt.Seed, i, streamGeometry), opt) // geometry only: cheap
		sp := s.Geometry.Spacing
		if sp[0] < 0.5 || sp[0] > 0.98 || sp[2] < 0.6 || sp[2] > 2.5 {
			t.Errorf("series %d: spacing %v", i, sp)
		}
		if n := s.Size[2]; n < 95 || n > 764 {
			t.Errorf("series %d: %d slices", i, n)
		}
		if s.PadHU != -2048 && s.PadHU != -3024 {
			t.Errorf("series %d: padding %d", i, s.PadHU)
		}
	}
}

func TestTissueValues(t *testing.T) {
	s, err := Plan(smallOptions(), 2)
	if err != nil {
		t.Fatal(err)
	}
	hu := s.Render(0)
	cols, rows := s.Size[0], s.Size[1]
	mid := s.Size[2] / 2
	slice := hu[mid*cols*rows : (mid+1)*cols*rows]
	if slice[0] != s.PadHU { // the corner is outside the reconstruction circle
		t.Errorf("corner voxel %d, want padding %d", slice[0], s.PadHU)
	}
	var lung, bone int
	for _, v := range slice {
		if v > -950 && v < -750 {
			lung++
		}
		if v > 500 {
			bone++
		}
	}
	if lung < cols*rows/20 || bone < 20 {
		t.Errorf("middle slice: %d lung voxels, %d bone voxels", lung, bone)
	}
}

func TestSmallGenerationIsFast(t *testing.T) {
	s, err := Plan(smallOptions(), 0)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	s.Render(0)
	// About 20 ms on an idle core; generous for a loaded CI machine.
	if el := time.Since(start); el > 2*time.Second {
		t.Errorf("rendering 128×128×48 took %v", el)
	}
}

func TestValidate(t *testing.T) {
	bad := []func(*Options){
		func(o *Options) { o.Series = 0 },
		func(o *Options) { o.Cols = 10 },
		func(o *Options) { o.Slices = 3 },
		func(o *Options) { o.Subsets = 0 },
		func(o *Options) { o.NodulesMin, o.NodulesMax = 3, 1 },
		func(o *Options) { o.Decoys = -1 },
	}
	for i, f := range bad {
		o := smallOptions()
		f(&o)
		if err := o.Validate(); err == nil {
			t.Errorf("case %d: %+v accepted", i, o)
		}
		if _, err := Plan(o, 0); err == nil {
			t.Errorf("case %d: Plan accepted %+v", i, o)
		}
	}
	if def := DefaultOptions(); def.Validate() != nil {
		t.Error(def.Validate())
	}
}

func BenchmarkRender512x512x250(b *testing.B) {
	opt := DefaultOptions()
	opt.Slices = 250
	s, err := Plan(opt, 0)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(2 * 512 * 512 * 250))
	cpu := processCPU()
	for b.Loop() {
		s.Render(0)
	}
	b.ReportMetric((processCPU()-cpu).Seconds()/float64(b.N), "cpu-s/op")
}

// BenchmarkWriteVolume512x512x250 writes the same volume as a .mhd/.raw,
// the side-by-side anchor for BenchmarkRender512x512x250: rendering
// should cost no more than writing the result.
func BenchmarkWriteVolume512x512x250(b *testing.B) {
	opt := DefaultOptions()
	opt.Slices = 250
	s, err := Plan(opt, 0)
	if err != nil {
		b.Fatal(err)
	}
	img := s.Image(0)
	path := filepath.Join(b.TempDir(), s.UID+".mhd")
	b.SetBytes(int64(2 * 512 * 512 * 250))
	cpu := processCPU()
	for b.Loop() {
		if err := writeVolume(path, img, false); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric((processCPU()-cpu).Seconds()/float64(b.N), "cpu-s/op")
}

func BenchmarkPlan512(b *testing.B) {
	opt := DefaultOptions()
	opt.Slices = 250
	for b.Loop() {
		if _, err := Plan(opt, 0); err != nil {
			b.Fatal(err)
		}
	}
}

func TestWriteErrorsNameTheProblem(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "plain-file")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	opt := smallOptions()
	opt.Series = 2
	if _, err := WriteDataset(file, opt, nil); err == nil || !strings.Contains(err.Error(), "plain-file") {
		t.Errorf("output directory is a file: error %v", err)
	}
	// A subset directory that cannot be made stops the run, with no CSVs.
	out := filepath.Join(dir, "out")
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(out, "subset0"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := WriteDataset(out, opt, nil); err == nil || !strings.Contains(err.Error(), "subset0") {
		t.Errorf("subset0 is a file: error %v", err)
	}
	if _, err := os.Stat(filepath.Join(out, "annotations.csv")); err == nil {
		t.Error("CSV files written after a failed run")
	}
}

// TestExcluded: annotations_excluded.csv lists exactly the class-0 rows of
// candidates.csv, in their order, as non-nodules of diameter -1 (LUNA16's
// file), and package luna reads it.
func TestExcluded(t *testing.T) {
	dir := smallDataset(t)
	_, cands := readCSV(t, filepath.Join(dir, "candidates.csv"))
	_, rows := readCSV(t, filepath.Join(dir, "annotations_excluded.csv"))
	var want [][]string
	for _, c := range cands {
		if c[4] == "0" {
			want = append(want, []string{c[0], c[1], c[2], c[3], "-1"})
		}
	}
	if len(rows) == 0 || !slices.EqualFunc(rows, want, slices.Equal) {
		t.Errorf("annotations_excluded.csv has %d rows, want the %d decoys of candidates.csv", len(rows), len(want))
	}
	got, err := luna.LoadExcluded(filepath.Join(dir, "annotations_excluded.csv"))
	if err != nil || len(got) != len(want) || got[0].DiameterMM != -1 {
		t.Errorf("luna.LoadExcluded: %d rows, %v", len(got), err)
	}
}
