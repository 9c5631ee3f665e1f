package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/ctseg/ctseg/format"
	"github.com/ctseg/ctseg/geom"
	"github.com/ctseg/ctseg/internal/luna"
	"github.com/ctseg/ctseg/internal/metaimage"
	"github.com/ctseg/ctseg/internal/sharedtest"
	"github.com/ctseg/ctseg/internal/streamtest"
)

// treeUIDs are the series of the test tree, in sorted order; subsets as
// laid out by makeTree.
var treeUIDs = []string{"1.2.10", "1.2.11", "1.2.12", "1.2.3", "1.2.4", "1.2.5", "1.2.6"}

// makeTree writes a small LUNA16-layout directory: phantoms of different
// sizes and storage in subset0, subset1 and the top level, plus a
// seriesuids.csv naming all of them and one series not on disk.
func makeTree(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	where := map[string]string{
		"1.2.10": "subset0", "1.2.3": "subset0", "1.2.5": "subset0",
		"1.2.11": "subset1", "1.2.4": "subset1",
		"1.2.12": "", "1.2.6": "",
	}
	for i, uid := range treeUIDs {
		sub := filepath.Join(dir, where[uid])
		if err := os.MkdirAll(sub, 0o755); err != nil {
			t.Fatal(err)
		}
		ext := ".mhd"
		if i == 6 {
			ext = ".mha"
		}
		opt := metaimage.WriteOptions{Compressed: i%2 == 1, MSB: i == 2}
		if err := metaimage.WriteFile(filepath.Join(sub, uid+ext), phantomImage(i), opt); err != nil {
			t.Fatal(err)
		}
	}
	list := strings.Join(append([]string{"1.2.0"}, treeUIDs...), "\n") + "\n"
	if err := os.WriteFile(filepath.Join(dir, "seriesuids.csv"), []byte(list), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// phantomImage is a small image, different for each i.
func phantomImage(i int) *metaimage.Image {
	img := &metaimage.Image{
		Size: [3]int{5 + i, 4, 2 + i%3},
		Geometry: geom.Geometry{
			Origin: [3]float64{float64(i), -2, 3.5}, Spacing: [3]float64{0.7, 0.8, 2.5}, Direction: geom.Identity,
		},
	}
	img.HU = make([]int16, img.Voxels())
	for j := range img.HU {
		img.HU[j] = int16(j*37 - 1000 + i)
	}
	return img
}

// clearShardEnv makes the test independent of a batch system it runs in.
func clearShardEnv(t *testing.T) {
	for _, v := range []string{"CTSEG_SHARD", "SLURM_ARRAY_TASK_ID", "JOB_COMPLETION_INDEX", "LUNA16_DIR"} {
		t.Setenv(v, "")
	}
}

// runCtread runs the program in-process and returns the CT records it
// writes, or the error.
func runCtread(t *testing.T, args ...string) ([]*format.CT, error) {
	t.Helper()
	recs, err := streamtest.Run(t, newApp(), format.KindCT, args...)
	var cts []*format.CT
	for _, rec := range recs {
		cts = append(cts, rec.(*format.CT))
	}
	return cts, err
}

func uidsOf(cts []*format.CT) []string {
	var u []string
	for _, c := range cts {
		u = append(u, c.SeriesUID)
	}
	return u
}

func TestReadsEveryLayoutSorted(t *testing.T) {
	clearShardEnv(t)
	dir := makeTree(t)
	cts, err := runCtread(t, "--data", dir)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(uidsOf(cts), treeUIDs) {
		t.Fatalf("uids %v, want %v", uidsOf(cts), treeUIDs)
	}
	for _, ct := range cts {
		i := indexOf(ct.SeriesUID)
		img := phantomImage(i)
		want := [3]int{img.Size[2], img.Size[1], img.Size[0]}
		if ct.Shape != want || ct.Geometry != img.Geometry || !reflect.DeepEqual(ct.HU, img.HU) {
			t.Errorf("%s: shape %v (want %v), geometry %+v", ct.SeriesUID, ct.Shape, want, ct.Geometry)
		}
		if ct.Mask != nil || ct.Nodules != nil {
			t.Errorf("%s: ctread must leave Mask and Nodules empty", ct.SeriesUID)
		}
	}
}

func indexOf(uid string) int {
	for i, u := range treeUIDs {
		if u == uid {
			return i
		}
	}
	return -1
}

func TestSelection(t *testing.T) {
	clearShardEnv(t)
	dir := makeTree(t)
	// The split is made on seriesuids.csv's 8 uids sorted:
	// 1.2.0 1.2.10 1.2.11 1.2.12 1.2.3 1.2.4 1.2.5 1.2.6; stride 3 puts
	// 1.2.0, 1.2.12 and 1.2.5 in validation (1.2.0 is not on disk).
	cases := []struct {
		args []string
		want []string
	}{
		{[]string{"--series", "1.2.5,1.2.10", "--series", "1.2.3"}, []string{"1.2.10", "1.2.3", "1.2.5"}},
		{[]string{"--subset", "1"}, []string{"1.2.11", "1.2.4"}},
		{[]string{"--subset", "0,1", "--series", "1.2.4,1.2.12"}, []string{"1.2.4"}},
		{[]string{"--split", "val", "--val-stride", "3"}, []string{"1.2.12", "1.2.5"}},
		{[]string{"--split", "train", "--val-stride", "3"}, []string{"1.2.10", "1.2.11", "1.2.3", "1.2.4", "1.2.6"}},
		{[]string{"--split", "val"}, nil}, // stride 10: only 1.2.0, absent → an empty stream
		{[]string{"--split", "train", "--val-stride", "3", "--shard", "1/2"}, []string{"1.2.3", "1.2.4", "1.2.6"}},
	}
	for _, c := range cases {
		cts, err := runCtread(t, append([]string{"--data", dir}, c.args...)...)
		if err != nil {
			t.Errorf("%v: %v", c.args, err)
			continue
		}
		if got := uidsOf(cts); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%v: got %v, want %v", c.args, got, c.want)
		}
	}
	if _, err := runCtread(t, "--data", dir, "--subset", "7"); err == nil || !strings.Contains(err.Error(), "subset7") {
		t.Errorf("--subset 7: error %v, want a missing-subset error", err)
	}
}

// TestShardsUnionIsUnsharded checks that for several N the shards are
// disjoint, cover everything, and concatenated in order equal the
// unsharded output, record for record.
func TestShardsUnionIsUnsharded(t *testing.T) {
	clearShardEnv(t)
	dir := makeTree(t)
	all, err := runCtread(t, "--data", dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{2, 3, 7, 9} {
		var union []*format.CT
		for i := 0; i < n; i++ {
			part, err := runCtread(t, "--data", dir, "--shard", fmt.Sprintf("%d/%d", i, n))
			if err != nil {
				t.Fatal(err)
			}
			union = append(union, part...)
		}
		if !reflect.DeepEqual(union, all) {
			t.Errorf("N=%d: union of shards %v differs from unsharded %v", n, uidsOf(union), uidsOf(all))
		}
	}
}

func TestShardFromSlurmInRun(t *testing.T) {
	clearShardEnv(t)
	dir := makeTree(t)
	t.Setenv("SLURM_ARRAY_TASK_ID", "1")
	t.Setenv("SLURM_ARRAY_TASK_COUNT", "2")
	cts, err := runCtread(t, "--data", dir)
	if err != nil {
		t.Fatal(err)
	}
	if want := treeUIDs[3:]; !reflect.DeepEqual(uidsOf(cts), want) {
		t.Errorf("got %v, want %v", uidsOf(cts), want)
	}
}

func TestErrors(t *testing.T) {
	clearShardEnv(t)
	dir := makeTree(t)
	empty := t.TempDir()
	cases := []struct {
		args []string
		want string
	}{
		{[]string{}, "no data directory"},
		{[]string{"--data", filepath.Join(empty, "nope")}, "data directory"},
		{[]string{"--data", empty}, "no series found"},
		{[]string{"--data", dir, "--series", "9.9"}, "series 9.9 not found under"},
		{[]string{"--data", dir, "--subset", "4"}, "no directory"},
		{[]string{"--data", dir, "--subset", "x"}, "--subset \"x\""},
		{[]string{"--data", dir, "--split", "test"}, "want train, val or all"},
		{[]string{"--data", dir, "--val-stride", "3"}, "--val-stride needs --split"},
		{[]string{"--data", dir, "--split", "val", "--val-stride", "0"}, "at least 1"},
		{[]string{"--data", dir, "--shard", "2/2"}, "want I/N"},
		{[]string{"--data", dir, "--shard", "1"}, "want I/N"},
		{[]string{"--data", empty + "/..", "stray"}, "unexpected argument"},
		{[]string{"--data", empty, "--split", "val"}, "no series found"},
		// Empty lists once meant "no filter" and read every series.
		{[]string{"--data", dir, "--series", ""}, "--series: empty list"},
		{[]string{"--data", dir, "--series", " , "}, "--series: empty list"},
		{[]string{"--data", dir, "--subset", ""}, "--subset: empty list"},
	}
	for _, c := range cases {
		_, err := runCtread(t, c.args...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: error %v, want %q", c.args, err, c.want)
		}
	}
	// A uid twice on disk.
	if err := os.Link(filepath.Join(dir, "1.2.6.mha"), filepath.Join(dir, "subset1", "1.2.6.mha")); err != nil {
		t.Fatal(err)
	}
	if _, err := runCtread(t, "--data", dir); err == nil || !strings.Contains(err.Error(), "found twice") {
		t.Errorf("duplicate uid: %v", err)
	}
}

// failWriter fails every write, like a full disk.
type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("no space left on device") }

// --list once ignored write errors and exited 0 with a short list.
func TestListWriteError(t *testing.T) {
	clearShardEnv(t)
	dir := makeTree(t)
	app := newApp()
	app.Writer = failWriter{}
	err := app.Run([]string{"ctread", "--data", dir, "--list"})
	if err == nil || !strings.Contains(err.Error(), "--list: no space left") {
		t.Errorf("--list to a full disk: error %v, want a write error", err)
	}
}

func TestSkipBad(t *testing.T) {
	clearShardEnv(t)
	dir := makeTree(t)
	// Break two series: a missing data file and a truncated one.
	if err := os.Remove(filepath.Join(dir, "subset0", "1.2.3.zraw")); err != nil {
		t.Fatal(err)
	}
	raw := filepath.Join(dir, "subset0", "1.2.10.raw")
	if err := os.Truncate(raw, 10); err != nil {
		t.Fatal(err)
	}
	_, err := runCtread(t, "--data", dir)
	if err == nil || !strings.Contains(err.Error(), "series 1.2.10") || !strings.Contains(err.Error(), "1.2.10.raw: data is shorter") {
		t.Errorf("without --skip-bad: %v", err)
	}
	cts, err := runCtread(t, "--data", dir, "--skip-bad")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"1.2.11", "1.2.12", "1.2.4", "1.2.5", "1.2.6"}
	if !reflect.DeepEqual(uidsOf(cts), want) {
		t.Errorf("--skip-bad kept %v, want %v", uidsOf(cts), want)
	}
	if _, err := runCtread(t, "--data", dir, "--skip-bad", "--series", "1.2.3,1.2.10"); err == nil ||
		!strings.Contains(err.Error(), "none of the 2") {
		t.Errorf("all bad: %v", err)
	}
}

func TestRealLUNA16(t *testing.T) {
	clearShardEnv(t)
	dir := sharedtest.LunaDir(t)
	cts, err := runCtread(t, "--data", dir)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		uid      string
		origin   [3]float64
		spacing  [3]float64
		min, max int16
	}{ // values from shared/data/README.md
		{"1.3.6.1.4.1.14519.5.2.1.6279.6001.170706757615202213033480003264",
			[3]float64{-228.800003, -210.0, -229.0}, [3]float64{0.820312, 0.820312, 2.5}, -2048, 4458},
		{"1.3.6.1.4.1.14519.5.2.1.6279.6001.179049373636438705059720603192",
			[3]float64{-166.0, -171.699997, -165.0}, [3]float64{0.703125, 0.703125, 2.5}, -2048, 3071},
	}
	if len(cts) != len(want) {
		t.Fatalf("%d records, want %d", len(cts), len(want))
	}
	for i, w := range want {
		ct := cts[i]
		g := geom.Geometry{Origin: w.origin, Spacing: w.spacing, Direction: geom.Identity}
		if ct.SeriesUID != w.uid || ct.Shape != [3]int{40, 512, 512} || ct.Geometry != g {
			t.Errorf("record %d: %s shape %v geometry %+v", i, ct.SeriesUID, ct.Shape, ct.Geometry)
		}
		lo, hi := ct.HU[0], ct.HU[0]
		for _, v := range ct.HU {
			lo, hi = min(lo, v), max(hi, v)
		}
		if lo != w.min || hi != w.max {
			t.Errorf("%s: HU range [%d, %d], want [%d, %d]", w.uid, lo, hi, w.min, w.max)
		}
	}
}

// pointerSink records the voxel buffers it is given.
type pointerSink struct{ bufs map[*int16]bool }

func (p *pointerSink) Write(r format.Record) error {
	p.bufs[&r.(*format.CT).HU[0]] = true
	return nil
}

// TestReadAheadRecyclesTwoBuffers checks the memory bound: however many
// series, the voxels live in at most two buffers.
func TestReadAheadRecyclesTwoBuffers(t *testing.T) {
	dir := t.TempDir()
	var list []luna.Series
	for i := 0; i < 6; i++ {
		path := filepath.Join(dir, fmt.Sprintf("1.%d.mhd", i))
		if err := metaimage.WriteFile(path, phantomImage(0), metaimage.WriteOptions{}); err != nil {
			t.Fatal(err)
		}
		list = append(list, luna.Series{UID: fmt.Sprintf("1.%d", i), Path: path})
	}
	p := &pointerSink{bufs: map[*int16]bool{}}
	if _, err := copyAll(list, p, false, t.Logf, func() {}); err != nil {
		t.Fatal(err)
	}
	if len(p.bufs) > 2 {
		t.Errorf("%d voxel buffers used for %d series, want at most 2", len(p.bufs), len(list))
	}
}
