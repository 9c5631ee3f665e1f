package evaluate

import (
	"fmt"

	"github.com/ctseg/ctseg/internal/train"
)

// Result is what an evaluation found: segeval --json prints it.
type Result struct {
	// Pixel metrics of every labelled slice, pooled (the book's val line).
	Pixels
	PerSeries []SeriesResult `json:"per_series"`
	// Nodules, CandidatesPerScan and MarksPerScan cover the series that
	// arrived as whole CTs; absent when none did.
	Nodules           *NoduleRecall `json:"nodules,omitempty"`
	CandidatesPerScan *float64      `json:"candidates_per_scan,omitempty"`
	// FROC is LUNA16's FROC of the marks, with --froc.
	FROC *FROCSummary `json:"froc,omitempty"`

	Slices         int     `json:"slices"`          // slices evaluated
	LabelledSlices int     `json:"labelled_slices"` // of them with a label
	Scans          int     `json:"scans"`           // series that were whole CTs
	MarksPerScan   float64 `json:"marks_per_scan"`  // marks kept per scan (--max-marks)
	Threshold      float64 `json:"prob_threshold"`

	summary train.Summary // the pooled tally's summary, for the log lines
}

// Pixels are pixel metrics: the book's, from a train.Tally.
type Pixels struct {
	Loss      float64 `json:"loss"` // mean per-slice 1 − Dice: the book's loss/all
	TP        int64   `json:"tp"`
	FN        int64   `json:"fn"`
	FP        int64   `json:"fp"`
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
	F1        float64 `json:"f1"`
}

func pixels(s train.Summary) Pixels {
	return Pixels{Loss: s.Loss, TP: s.TP, FN: s.FN, FP: s.FP, Precision: s.Precision, Recall: s.Recall, F1: s.F1}
}

// SeriesResult is one series' evaluation.
type SeriesResult struct {
	SeriesUID string `json:"series_uid"`
	// Pixels are absent for a series without labels (an unannotated scan).
	*Pixels
	Slices int `json:"slices"`
	// WholeCT says whether the series arrived as a whole CT; then the
	// candidates and nodule fields are set.
	WholeCT      bool `json:"whole_ct"`
	Candidates   *int `json:"candidates,omitempty"`
	Marks        *int `json:"marks,omitempty"` // candidates kept (--max-marks)
	Nodules      *int `json:"nodules,omitempty"`
	NodulesFound *int `json:"nodules_found,omitempty"`

	tally train.Tally
	fn    int64 // missed pixels, for the report's order
}

// NoduleRecall is the book's nodule-level recall: a nodule is found when a
// candidate lies within 0.7 of its diameter.
type NoduleRecall struct {
	Total  int     `json:"total"`
	Found  int     `json:"found"`
	Recall float64 `json:"recall"`
}

// Line is the series' log line: the book's metric line labelled with the
// uid, and its candidates when it was a whole CT.
func (s *SeriesResult) Line() string {
	line := fmt.Sprintf("E0 %s no label: pixel metrics skipped", s.SeriesUID)
	if s.Pixels != nil {
		line = s.tally.Summary().LogLines(0, s.SeriesUID)[0]
	}
	if s.WholeCT {
		line += fmt.Sprintf("; %d candidates, %d marks, %d of %d nodules found", *s.Candidates, *s.Marks, *s.NodulesFound, *s.Nodules)
	} else {
		line += fmt.Sprintf(" (%d slices, not a whole CT)", s.Slices)
	}
	return line
}

// Lines are the summary's log lines: the book's two metric lines for the
// pooled pixels, then the nodule recall and the FROC.
func (r *Result) Lines() []string {
	var out []string
	if r.LabelledSlices > 0 {
		l := r.summary.LogLines(0, "val")
		out = append(out, l[0], l[1])
	} else {
		out = append(out, "E0 val: no labelled slices: pixel metrics skipped")
	}
	if n := r.Nodules; n != nil {
		out = append(out, fmt.Sprintf("nodules: %d of %d found (recall %.4f, the book's rule: a candidate within 0.7 diameters); "+
			"%.1f candidates, %.1f marks per scan on %d scans", n.Found, n.Total, n.Recall, *r.CandidatesPerScan, r.MarksPerScan, r.Scans))
	}
	if r.FROC != nil {
		out = append(out, r.FROC.Lines()...)
	}
	return out
}
