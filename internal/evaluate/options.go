package evaluate

import (
	"errors"
	"fmt"
	"io"

	"github.com/ctseg/ctseg/format"
	"github.com/ctseg/ctseg/internal/candidates"
	"github.com/ctseg/ctseg/internal/froc"
)

// Options are segeval's settings.
type Options struct {
	Model     string  // checkpoint: ctseg safetensors or PyTorch .state
	Device    string  // "cpu", or "cuda" in a CUDA build
	Threads   int     // CPU threads, 0 for all
	BatchSize int     // slices per prediction; 0: DefaultBatchSize(Device)
	Threshold float64 // probability threshold of a positive pixel (0.5)

	// Predictions, when set, receives a prediction record per slice.
	Predictions *format.Writer
	// PNGDir, when set, receives the overlays PNGDir/<uid>/<slice>.png of
	// every PNGEvery-th slice of each series (in arrival order, the first
	// included).
	PNGDir   string
	PNGEvery int

	// CandidatesOut, when set, is the submission CSV to write; FILE.scans
	// beside it lists the scans it covers.
	CandidatesOut string
	// MaxMarks caps the marks per scan in the submission and the FROC,
	// best first (0: all).
	MaxMarks int
	// FROC scores the candidates with LUNA16's FROC against Ref.
	FROC bool
	// Ref names the reference files of the FROC; its scans default to the
	// series of the stream.
	Ref Ref
	// FROCOptions are the FROC's bootstrap settings (MaxMarksPerScan is
	// LUNA16's 100 whatever MaxMarks is).
	FROCOptions froc.Options
	// FROCOut, when set, is the directory for the official output files.
	FROCOut string

	// Report, when set, is the directory of the HTML report, which shows
	// the ReportTop slices with the most missed pixels.
	Report    string
	ReportTop int

	Quiet bool      // no per-series lines
	Log   io.Writer // log lines (stderr)
}

// DefaultReportTop is how many slices the report shows.
const DefaultReportTop = 12

// DefaultBatchSize is the number of slices per prediction when not given:
// 1 on the CPU, where larger batches are no faster and cost 150 MB more
// per 512×512 slice, and 8 on other devices (a GPU), which want them.
func DefaultBatchSize(device string) int {
	if device == "cpu" || device == "" {
		return 1
	}
	return 8
}

// Candidates reports whether the options ask for candidates: then every
// series must be a whole CT.
func (o *Options) Candidates() bool { return o.CandidatesOut != "" || o.FROC }

// check refuses settings that cannot run.
func (o *Options) check() error {
	switch {
	case o.Model == "":
		return errors.New("no model: give --model FILE (a segtrain checkpoint or a PyTorch .state)")
	case o.BatchSize < 0:
		return fmt.Errorf("--batch-size %d: must be at least 1 (0: %d on the CPU, 8 on a GPU)", o.BatchSize, DefaultBatchSize("cpu"))
	case o.Threads < 0:
		return fmt.Errorf("--threads %d: must be ≥ 0", o.Threads)
	case o.PNGEvery < 1:
		return fmt.Errorf("--png-every %d: must be at least 1", o.PNGEvery)
	case o.MaxMarks < 0:
		return fmt.Errorf("--max-marks %d: must be ≥ 0 (0 keeps all)", o.MaxMarks)
	case o.Report != "" && o.ReportTop < 0:
		return fmt.Errorf("--report-top %d: must be ≥ 0", o.ReportTop)
	case o.FROCOut != "" && !o.FROC:
		return errors.New("--out DIR holds the FROC's files: it needs --froc")
	}
	if _, err := candidates.LogitCutoff(o.Threshold); err != nil {
		return fmt.Errorf("--prob-threshold %v: must lie in (0, 1)", o.Threshold)
	}
	return nil
}
