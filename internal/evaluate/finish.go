package evaluate

import (
	"fmt"

	"github.com/ctseg/ctseg/internal/froc"
)

// finish pools the results, scores the FROC and writes the report.
func (ev *evaluator) finish() (*Result, error) {
	r := &ev.res
	if ev.slices == 0 {
		// An empty shard, say: its submission is a header alone.
		fmt.Fprintln(ev.o.Log, "warning: the input holds no slices")
	}
	r.summary = ev.pooled.Summary()
	r.Pixels = pixels(r.summary)
	r.Slices, r.LabelledSlices, r.Scans, r.Threshold = ev.slices, ev.labelled, len(ev.scans), ev.o.Threshold
	if r.PerSeries == nil {
		r.PerSeries = []SeriesResult{}
	}
	if r.Scans > 0 {
		n := ev.nodules
		n.Recall = float64(n.Found) / float64(max(n.Total, 1))
		per := float64(ev.nCands) / float64(r.Scans)
		r.Nodules, r.CandidatesPerScan, r.MarksPerScan = &n, &per, float64(ev.nMarks)/float64(r.Scans)
	}
	var fr *froc.Result
	if ev.o.FROC {
		scans := ev.scans
		if scans == nil {
			scans = []string{} // the stream's scans, none: not the default list
		}
		ref, err := ev.o.Ref.Load(scans, func(s string) { fmt.Fprintln(ev.o.Log, s) })
		if err != nil {
			return nil, fmt.Errorf("--froc: %w", err)
		}
		opt := ev.o.FROCOptions
		opt.MaxMarksPerScan = froc.DefaultOptions().MaxMarksPerScan
		if fr, err = froc.Evaluate(ref, ev.marks, opt); err != nil {
			return nil, fmt.Errorf("--froc: %w", err)
		}
		r.FROC = Summarize(fr)
		if ev.o.FROCOut != "" {
			name := "segeval"
			if ev.o.CandidatesOut != "" {
				name = froc.SystemName(ev.o.CandidatesOut)
			}
			if err := writeFROCFiles(ev.o.FROCOut, name, fr); err != nil {
				return nil, err
			}
		}
	}
	for _, l := range r.Lines() {
		fmt.Fprintln(ev.o.Log, l)
	}
	if ev.o.Report != "" {
		if err := writeReport(ev.o.Report, r, ev.top.items, fr, ev.o); err != nil {
			return nil, fmt.Errorf("--report: %w", err)
		}
		fmt.Fprintf(ev.o.Log, "report: %s\n", reportIndex(ev.o.Report))
	}
	return r, nil
}
