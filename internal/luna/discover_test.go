package luna

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// tree writes a LUNA16-layout directory of empty headers (discovery reads
// names only): subset0 and subset1, headers at the top level, things that
// are no series, and a series list naming one series not on disk.
func tree(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, name := range []string{
		"subset0/1.2.10.mhd", "subset0/1.2.3.mhd", "subset0/1.2.5.MHD", "subset0/1.2.5.raw",
		"subset1/1.2.11.mhd", "subset1/1.2.4.mha",
		"1.2.12.mhd", "1.2.6.mha", "notes.txt", "subset0.zip", "subsetx/9.9.mhd", "subset2/x.mhd/keep",
	} {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	list := "1.2.0\n1.2.10\n1.2.11\n1.2.12\n1.2.3\n1.2.4\n1.2.5\n1.2.6\n"
	if err := os.WriteFile(filepath.Join(dir, SeriesUIDsFile), []byte(list), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func uids(list []Series) []string {
	var out []string
	for _, s := range list {
		out = append(out, s.UID)
	}
	return out
}

func TestDiscover(t *testing.T) {
	dir := tree(t)
	all, err := Discover(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"1.2.10", "1.2.11", "1.2.12", "1.2.3", "1.2.4", "1.2.5", "1.2.6"}
	if !slices.Equal(uids(all), want) {
		t.Fatalf("uids %v, want %v", uids(all), want)
	}
	if s := all[5]; s.Subset != 0 || s.Path != filepath.Join(dir, "subset0", "1.2.5.MHD") {
		t.Errorf("1.2.5: %+v", s)
	}
	if s := all[6]; s.Subset != -1 || s.Path != filepath.Join(dir, "1.2.6.mha") {
		t.Errorf("1.2.6: %+v", s)
	}
	if err := os.WriteFile(filepath.Join(dir, "subset1", "1.2.6.mhd"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Discover(dir); err == nil || !strings.Contains(err.Error(), "series 1.2.6 found twice") {
		t.Errorf("a uid twice: %v", err)
	}
	if _, err := Discover(filepath.Join(dir, "notes.txt")); err == nil || !strings.Contains(err.Error(), "is not a directory") {
		t.Errorf("a file for a directory: %v", err)
	}
}

// A directory name holding pattern characters is a name, not a pattern.
func TestDiscoverLiteralDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "luna[1]*")
	if err := os.MkdirAll(filepath.Join(dir, "subset3"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "subset3", "1.2.mhd"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	all, err := Discover(dir)
	if err != nil || len(all) != 1 || all[0].Subset != 3 {
		t.Errorf("Discover = %+v, %v; want series 1.2 in subset 3", all, err)
	}
}

func TestSelection(t *testing.T) {
	dir := tree(t)
	all, err := Discover(dir)
	if err != nil {
		t.Fatal(err)
	}
	// The series list sorted: 1.2.0 1.2.10 1.2.11 1.2.12 1.2.3 1.2.4 1.2.5
	// 1.2.6; stride 3 puts 1.2.0, 1.2.12 and 1.2.5 in validation.
	cases := []struct {
		sel  Selection
		want []string
	}{
		{Selection{}, uids(all)},
		{Selection{UIDs: []string{"1.2.5", "1.2.10", "1.2.5"}}, []string{"1.2.10", "1.2.5"}},
		{Selection{Subsets: []int{1}}, []string{"1.2.11", "1.2.4"}},
		{Selection{Split: "val", ValStride: 3}, []string{"1.2.12", "1.2.5"}},
		{Selection{Subsets: []int{0, 1}, Split: "train", ValStride: 3}, []string{"1.2.10", "1.2.11", "1.2.3", "1.2.4"}},
	}
	for _, c := range cases {
		got, warnings, err := c.sel.Apply(dir, all)
		if err != nil || !slices.Equal(uids(got), c.want) || len(warnings) != 0 {
			t.Errorf("%+v: %v, %q, %v; want %v", c.sel, uids(got), warnings, err, c.want)
		}
	}
	errs := []struct {
		sel  Selection
		want string
	}{
		{Selection{UIDs: []string{"9.9"}}, "series 9.9 not found under"},
		{Selection{Subsets: []int{4}}, "no directory"},
		{Selection{Subsets: []int{2}}, "none of the 7 series"},
		{Selection{Subsets: []int{7}}, "subset7"},
		{Selection{UIDs: []string{"1.2.6"}, Subsets: []int{0}}, "none of the 7 series"},
	}
	for _, c := range errs {
		if _, _, err := c.sel.Apply(dir, all); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.sel, err, c.want)
		}
	}
	if _, _, err := (Selection{}).Apply(dir, nil); err == nil || !strings.Contains(err.Error(), "no series found") {
		t.Errorf("nothing on disk: %v", err)
	}
	for _, c := range []struct {
		sel  Selection
		want string
	}{
		{Selection{Split: "test", ValStride: 1}, "want train, val or all"},
		{Selection{Split: "", ValStride: 1}, "want train, val or all"},
		{Selection{Split: "val", ValStride: 0}, "at least 1"},
	} {
		if err := c.sel.Check(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.sel, err, c.want)
		}
	}
	if err := (Selection{Split: "all", ValStride: 10}).Check(); err != nil {
		t.Error(err)
	}
}

// The empty-split warning counts the series the other flags selected, not
// every series on disk.
func TestEmptySplitWarningCount(t *testing.T) {
	dir := tree(t)
	all, err := Discover(dir)
	if err != nil {
		t.Fatal(err)
	}
	sel := Selection{Subsets: []int{1}, Split: "val", ValStride: 10}
	list, warnings, err := sel.Apply(dir, all)
	if err != nil || len(list) != 0 {
		t.Fatalf("apply: %v, %v; want an empty selection", list, err)
	}
	want := "holds none of the 2 selected series"
	if len(warnings) != 1 || !strings.Contains(warnings[0], want) {
		t.Errorf("warnings %q, want one containing %q", warnings, want)
	}
}

func TestCandidatesPath(t *testing.T) {
	dir := t.TempDir()
	for _, d := range []string{"", dir} {
		if p, err := CandidatesPath(d); p != "" || err != nil {
			t.Errorf("CandidatesPath(%q) = %q, %v; want none", d, p, err)
		}
	}
	want := filepath.Join(dir, CandidatesFile)
	if err := os.WriteFile(want, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if p, err := CandidatesPath(dir); p != want || err != nil {
		t.Errorf("CandidatesPath = %q, %v; want %q", p, err, want)
	}
}
