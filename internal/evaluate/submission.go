package evaluate

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"math"
	"strconv"

	"github.com/ctseg/ctseg/internal/atomicfile"
	"github.com/ctseg/ctseg/internal/candidates"
	"github.com/ctseg/ctseg/internal/froc"
)

// ScansSuffix names the list of scans beside a submission: FILE.scans, one
// series uid a line (as seriesuids.csv), every scan the submission
// evaluated, those without marks included.
const ScansSuffix = ".scans"

// SubmissionHeader is the header of segeval's submission CSV: LUNA16's
// five columns, then the candidate's mean and largest logit and its voxel
// count after erosion.
var SubmissionHeader = []string{"seriesuid", "coordX", "coordY", "coordZ", "probability", "mean_logit", "max_logit", "voxels"}

// Score maps a candidate's mean logit to its probability column:
// 1/2 + atan(x)/π, strictly increasing and not saturating (see the
// package doc).
func Score(meanLogit float64) float64 { return 0.5 + math.Atan(meanLogit)/math.Pi }

// Marks returns the marks of one scan's candidates: at most n (all when
// n is 0), best first by mean logit, each with its Score as Probability,
// made strictly decreasing by candidates.MaxMarks.
func Marks(cands []candidates.Candidate, n int) []candidates.Candidate {
	scored := make([]candidates.Candidate, len(cands))
	for i, c := range cands {
		c.Probability = Score(c.MeanLogit)
		scored[i] = c
	}
	if n == 0 {
		n = len(scored)
	}
	return candidates.MaxMarks(scored, n)
}

// FROCMarks converts one scan's marks for package froc.
func FROCMarks(uid string, marks []candidates.Candidate) []froc.Mark {
	out := make([]froc.Mark, len(marks))
	for i, m := range marks {
		out[i] = froc.Mark{SeriesUID: uid, XYZ: m.CenterXYZ, Probability: m.Probability}
	}
	return out
}

// Submission writes a submission CSV and its FILE.scans, both atomically:
// they appear together at Commit, or not at all.
type Submission struct {
	path       string
	csv, scans *atomicfile.File
	w          *csv.Writer
	sw         *bufio.Writer
}

// CreateSubmission starts the submission at path (missing directories are
// made, and removed again by Abort).
func CreateSubmission(path string) (*Submission, error) {
	f, err := atomicfile.CreateAll(path)
	if err != nil {
		return nil, fmt.Errorf("--candidates-out: %w", err)
	}
	sc, err := atomicfile.Create(path + ScansSuffix)
	if err != nil {
		f.Abort()
		return nil, fmt.Errorf("--candidates-out: %w", err)
	}
	s := &Submission{path: path, csv: f, scans: sc, sw: bufio.NewWriter(sc)}
	s.w = csv.NewWriter(f)
	if err := s.w.Write(SubmissionHeader); err != nil {
		s.Abort()
		return nil, err
	}
	return s, nil
}

// Add writes one scan: its marks (best first) and its uid in FILE.scans.
func (s *Submission) Add(uid string, marks []candidates.Candidate) error {
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	for _, m := range marks {
		row := []string{uid, f(m.CenterXYZ[0]), f(m.CenterXYZ[1]), f(m.CenterXYZ[2]), f(m.Probability),
			f(m.MeanLogit), strconv.FormatFloat(float64(m.MaxLogit), 'g', -1, 32), strconv.Itoa(m.Voxels)}
		if err := s.w.Write(row); err != nil {
			return fmt.Errorf("write %s: %w", s.path, err)
		}
	}
	if _, err := fmt.Fprintln(s.sw, uid); err != nil {
		return fmt.Errorf("write %s%s: %w", s.path, ScansSuffix, err)
	}
	return nil
}

// Commit finishes both files and moves them into place.
func (s *Submission) Commit() error {
	s.w.Flush()
	err := s.w.Error()
	if err == nil {
		err = s.sw.Flush()
	}
	if err != nil {
		s.Abort()
		return fmt.Errorf("write %s: %w", s.path, err)
	}
	if err := s.scans.Commit(); err != nil {
		s.csv.Abort()
		return err
	}
	return s.csv.Commit()
}

// Abort discards both files. It does nothing after Commit.
func (s *Submission) Abort() {
	s.csv.Abort()
	s.scans.Abort()
}
