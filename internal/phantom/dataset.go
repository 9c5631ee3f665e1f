package phantom

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/ctseg/ctseg/internal/atomicfile"
	"github.com/ctseg/ctseg/internal/metaimage"
)

// Image returns the rendered series as a MetaImage volume.
func (s *Series) Image(workers int) *metaimage.Image {
	return &metaimage.Image{Size: s.Size, Geometry: s.Geometry, HU: s.Render(workers)}
}

// Path returns where the series' header goes under dir:
// subsetK/<uid>.mhd.
func (s *Series) Path(dir string) string {
	return filepath.Join(dir, fmt.Sprintf("subset%d", s.Subset), s.UID+".mhd")
}

// WriteDataset generates the data set opt describes into dir (created if
// needed): the volumes first, then the four CSV files, each file written
// atomically; files already in dir that it does not write are left alone.
// done, when not nil, is called after each series is on disk. The next
// series is rendered while the previous one is written.
func WriteDataset(dir string, opt Options, done func(*Series)) ([]*Series, error) {
	if err := opt.Validate(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("output directory: %w", err)
	}
	type job struct {
		s   *Series
		img *metaimage.Image
	}
	jobs := make(chan job)
	failed := make(chan struct{}) // closed when the writer fails
	var werr error
	go func() { // writer: one volume behind the renderer
		defer close(failed)
		for j := range jobs {
			if werr = writeVolume(j.s.Path(dir), j.img, opt.Compressed); werr != nil {
				return
			}
			if done != nil {
				done(j.s)
			}
		}
	}()
	series, err := renderAll(opt, func(s *Series, img *metaimage.Image) error {
		select {
		case jobs <- job{s, img}:
			return nil
		case <-failed:
			return werr
		}
	})
	close(jobs)
	<-failed // the writer has finished
	if err == nil {
		err = werr
	}
	if err != nil {
		return nil, err
	}
	return series, writeCSVs(dir, series)
}

// renderAll plans and renders every series, handing each to emit (and
// stopping at its first error), and checks that no two series share a uid.
func renderAll(opt Options, emit func(*Series, *metaimage.Image) error) ([]*Series, error) {
	var series []*Series
	seen := map[string]int{}
	for i := 0; i < opt.Series; i++ {
		s, err := Plan(opt, i)
		if err != nil {
			return nil, err
		}
		if j, dup := seen[s.UID]; dup {
			return nil, fmt.Errorf("series %d and %d drew the same uid %s", j, i, s.UID)
		}
		seen[s.UID] = i
		if err := emit(s, s.Image(opt.Workers)); err != nil {
			return nil, err
		}
		series = append(series, s)
	}
	return series, nil
}

// writeVolume writes one .mhd with its .raw or .zraw.
func writeVolume(path string, img *metaimage.Image, compressed bool) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("subset directory: %w", err)
	}
	return metaimage.WriteFile(path, img, metaimage.WriteOptions{Compressed: compressed, Level: 1})
}

// writeCSVs writes the list files, series sorted by uid as in LUNA16.
func writeCSVs(dir string, series []*Series) error {
	sorted := slices.Clone(series)
	slices.SortFunc(sorted, func(a, b *Series) int { return strings.Compare(a.UID, b.UID) })
	files := []struct {
		name  string
		write func(io.Writer, []*Series) error
	}{
		{"annotations_with_malignancy.csv", WriteMalignancy},
		{"annotations.csv", WriteAnnotations},
		{"candidates.csv", WriteCandidates},
		{"annotations_excluded.csv", WriteExcluded},
		{"seriesuids.csv", WriteSeriesUIDs},
	}
	for _, f := range files {
		var buf bytes.Buffer
		if err := f.write(&buf, sorted); err != nil {
			return fmt.Errorf("%s: %w", f.name, err)
		}
		if err := atomicfile.WriteFile(filepath.Join(dir, f.name), buf.Bytes()); err != nil {
			return err
		}
	}
	return nil
}
