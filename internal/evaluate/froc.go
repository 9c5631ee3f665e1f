package evaluate

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/ctseg/ctseg/internal/froc"
	"github.com/ctseg/ctseg/internal/luna"
)

// Ref names the reference files of a FROC: LUNA16's annotations.csv,
// annotations_excluded.csv and seriesuids.csv, each given or found in Data.
type Ref struct {
	Data        string // LUNA16 directory: the default place of the three files
	Annotations string // included findings; default Data/annotations.csv
	Excluded    string // excluded findings; default Data/annotations_excluded.csv, none when that is missing
	SeriesUIDs  string // the scans; default: the caller's, else Data/seriesuids.csv
}

// Load reads the reference. scans, when not nil, are the scans unless
// r.SeriesUIDs names a list. A missing default excluded-findings file
// means none are excluded, which warn reports.
func (r Ref) Load(scans []string, warn func(string)) (*froc.Reference, error) {
	ann, err := r.path(r.Annotations, luna.AnnotationsFile, "--annotations")
	if err != nil {
		return nil, err
	}
	inc, err := luna.LoadAnnotations(ann)
	if err != nil {
		return nil, err
	}
	ref := &froc.Reference{Included: findings(inc)}
	if r.Excluded != "" || r.Data != "" {
		exc, _ := r.path(r.Excluded, luna.ExcludedFile, "")
		rows, err := luna.LoadExcluded(exc)
		switch {
		case err == nil:
			ref.Excluded = findings(rows)
		case r.Excluded == "" && errors.Is(err, fs.ErrNotExist):
			warn(fmt.Sprintf("warning: no %s: no findings are excluded", exc))
		default:
			return nil, err
		}
	} else {
		warn("warning: no excluded findings (neither --excluded nor --data): none are excluded")
	}
	switch {
	case r.SeriesUIDs != "" || scans == nil:
		list, err := r.path(r.SeriesUIDs, luna.SeriesUIDsFile, "--seriesuids")
		if err != nil {
			return nil, err
		}
		if ref.Scans, err = luna.LoadSeriesList(list); err != nil {
			return nil, err
		}
	default:
		ref.Scans = scans
	}
	return ref, nil
}

// path is the file given, else the one called name in r.Data.
func (r Ref) path(given, name, flag string) (string, error) {
	switch {
	case given != "":
		return given, nil
	case r.Data != "":
		return filepath.Join(r.Data, name), nil
	}
	return "", fmt.Errorf("no %s: give %s FILE or --data DIR (LUNA16's directory)", name, flag)
}

// findings converts nodule-list rows to FROC findings.
func findings(rows []luna.Annotation) []froc.Finding {
	out := make([]froc.Finding, len(rows))
	for i, a := range rows {
		out[i] = froc.Finding{SeriesUID: a.SeriesUID, XYZ: a.CenterXYZ, DiameterMM: a.DiameterMM}
	}
	return out
}

// FROCSummary is the FROC of a submission as segeval reports it (JSON).
type FROCSummary struct {
	CPM         float64    `json:"cpm"`
	Rates       [7]float64 `json:"rates"`       // false positives per scan: 1/8 … 8
	Sensitivity [7]float64 `json:"sensitivity"` // at Rates
	// The bootstrap's 95 % intervals of the sensitivities and the CPM;
	// absent without resamples.
	CILow          *[7]float64 `json:"ci_low,omitempty"`
	CIHigh         *[7]float64 `json:"ci_high,omitempty"`
	CPMCI          *[2]float64 `json:"cpm_ci,omitempty"`
	Nodules        int         `json:"nodules"`         // included findings on the scans
	Detected       int         `json:"detected"`        // of them hit by a mark
	FalsePositives int         `json:"false_positives"` // kept marks that hit no finding
	Candidates     int         `json:"candidates"`      // marks kept (at most 100 per scan)
	Scans          int         `json:"scans"`
	Resamples      int         `json:"bootstrap"`
}

// Summarize turns a FROC result into its summary.
func Summarize(r *froc.Result) *FROCSummary {
	s := &FROCSummary{CPM: r.CPM, Rates: froc.OperatingPoints, Sensitivity: r.Sensitivity, Nodules: r.Nodules,
		Detected: r.Detected, FalsePositives: r.FalsePositives, Candidates: r.Candidates, Scans: r.Scans}
	if b := r.Bootstrap; b != nil {
		var lo, hi [7]float64
		for i, iv := range b.Sensitivity {
			lo[i], hi[i] = iv.Lower, iv.Upper
		}
		s.CILow, s.CIHigh, s.CPMCI, s.Resamples = &lo, &hi, &[2]float64{b.CPM.Lower, b.CPM.Upper}, b.Resamples
	}
	return s
}

// Lines are the summary's log lines.
func (s *FROCSummary) Lines() []string {
	ci := ""
	if s.CPMCI != nil {
		ci = fmt.Sprintf(" (95 %% CI %.4f–%.4f, %d bootstrap resamples)", s.CPMCI[0], s.CPMCI[1], s.Resamples)
	}
	rates, sens := make([]string, len(s.Rates)), make([]string, len(s.Rates))
	for i := range s.Rates {
		rates[i] = fmt.Sprintf("%6g", s.Rates[i])
		sens[i] = fmt.Sprintf("%6.4f", s.Sensitivity[i])
	}
	return []string{
		fmt.Sprintf("FROC: CPM %.4f%s; %d of %d nodules detected, %d false positives, %d marks on %d scans",
			s.CPM, ci, s.Detected, s.Nodules, s.FalsePositives, s.Candidates, s.Scans),
		"FROC: FPs per scan " + strings.Join(rates, " "),
		"FROC: sensitivity  " + strings.Join(sens, " "),
	}
}

// FROCOptions are the settings of `segeval froc`.
type FROCOptions struct {
	Files   []string // submission CSVs; "-" is stdin
	Ref     Ref
	Options froc.Options
	Out     string // directory for the official files, "" for none
	Log     io.Writer
}

// FROCFiles scores the submissions of o.Files together (shards' files, or
// one file with repeated headers) against o.Ref. The scans are the
// union of the files' FILE.scans lists when every file has one, else the
// reference's series list.
func FROCFiles(o FROCOptions) (*froc.Result, error) {
	if o.Log == nil {
		o.Log = io.Discard
	}
	if len(o.Files) == 0 {
		o.Files = []string{"-"}
	}
	var marks []froc.Mark
	for _, f := range o.Files {
		m, err := loadSubmission(f)
		if err != nil {
			return nil, err
		}
		marks = append(marks, m...)
	}
	scans, err := scanLists(o.Files)
	if err != nil {
		return nil, err
	}
	ref, err := o.Ref.Load(scans, func(s string) { fmt.Fprintln(o.Log, s) })
	if err != nil {
		return nil, err
	}
	r, err := froc.Evaluate(ref, marks, o.Options)
	if err != nil {
		return nil, err
	}
	if r.MarksElsewhere > 0 {
		fmt.Fprintf(o.Log, "warning: %d marks on series that are not among the %d scans were ignored\n", r.MarksElsewhere, r.Scans)
	}
	if o.Out != "" {
		if err := writeFROCFiles(o.Out, froc.SystemName(o.Files[0]), r); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// loadSubmission reads one submission file, or stdin for "-".
func loadSubmission(name string) ([]froc.Mark, error) {
	if name == "-" {
		return froc.ReadSubmission(os.Stdin, "stdin")
	}
	return froc.LoadSubmission(name)
}

// scanLists is the union, in order, of the FILE.scans lists of files, or
// nil when one of them has none.
func scanLists(files []string) ([]string, error) {
	var scans []string
	seen := map[string]bool{}
	for _, f := range files {
		if f == "-" {
			return nil, nil
		}
		list, err := luna.LoadSeriesList(f + ScansSuffix)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		for _, u := range list {
			if !seen[u] {
				seen[u] = true
				scans = append(scans, u)
			}
		}
	}
	return scans, nil
}

// writeFROCFiles writes the official files into dir, made when missing.
func writeFROCFiles(dir, name string, r *froc.Result) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	return froc.WriteFiles(dir, name, r)
}
