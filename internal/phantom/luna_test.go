package phantom

import (
	"path/filepath"
	"testing"

	"github.com/ctseg/ctseg/internal/luna"
)

// TestReadableByTheLunaReader reads the generated list files with the
// project's LUNA16 reader, as ctread and mkmask do.
func TestReadableByTheLunaReader(t *testing.T) {
	dir := smallDataset(t)
	series, err := Plan(smallOptions(), 0)
	if err != nil {
		t.Fatal(err)
	}
	ann, err := luna.LoadAnnotations(filepath.Join(dir, luna.MalignancyFile))
	if err != nil {
		t.Fatal(err)
	}
	plain, err := luna.LoadAnnotations(filepath.Join(dir, luna.AnnotationsFile))
	if err != nil {
		t.Fatal(err)
	}
	if len(ann) != len(plain) || len(ann) == 0 {
		t.Fatalf("%d and %d nodules", len(ann), len(plain))
	}
	for _, a := range ann {
		if !a.HasBBox || len(a.MalDetails) < 3 {
			t.Errorf("%+v: no bounding box or too few ratings", a)
		}
	}
	cands, err := luna.LoadCandidates(filepath.Join(dir, luna.CandidatesFile), nil)
	if err != nil {
		t.Fatal(err)
	}
	uids, err := luna.LoadSeriesList(filepath.Join(dir, luna.SeriesUIDsFile))
	if err != nil {
		t.Fatal(err)
	}
	if len(uids) != 4 || len(cands) < 4*20 {
		t.Errorf("%d series, %d candidates", len(uids), len(cands))
	}
	var found bool
	for _, a := range luna.BySeries(ann)[series.UID] {
		found = found || a.CenterXYZ == series.Nodules[0].CenterXYZ
	}
	if !found {
		t.Errorf("series 0's first nodule %v not in the file", series.Nodules[0].CenterXYZ)
	}
}
