package train

import (
	"math"
	"testing"

	"github.com/ctseg/ctseg/internal/unet"
)

// TestLogLines: the book's lines, format for format. The expected strings
// were printed by Python's str.format with the book's format strings:
//
//	'E{} {:8} {:.4f} loss, {:.4f} precision, {:.4f} recall, {:.4f} f1 score'
//	'E{} {:8} {:.4f} loss, {:-5.1f}% tp, {:-5.1f}% fn, {:-9.1f}% fp'
func TestLogLines(t *testing.T) {
	s := Summary{Loss: 0.52349, Precision: 0.22756, Recall: 0.93811, F1: 0.36629, TPPct: 93.8, FNPct: 6.2, FPPct: 318.94}
	got := s.LogLines(1, "trn")
	want := [2]string{
		"E1 trn      0.5235 loss, 0.2276 precision, 0.9381 recall, 0.3663 f1 score",
		"E1 trn_all  0.5235 loss,  93.8% tp,   6.2% fn,     318.9% fp",
	}
	if got != want {
		t.Errorf("lines\n%q\nwant\n%q", got, want)
	}
	s = Summary{Loss: 0.9, TPPct: 100, FNPct: 0, FPPct: 12345.67}
	if got := s.LogLines(12, "val")[1]; got != "E12 val_all  0.9000 loss, 100.0% tp,   0.0% fn,   12345.7% fp" {
		t.Errorf("line %q", got)
	}
}

// TestSummary: the book's logMetrics on counts worked by hand, zero
// denominators counting as 1.
func TestSummary(t *testing.T) {
	var tl Tally
	tl.Add([]float64{0.5, 0.25}, unet.Metrics{TP: 30, FN: 10, FP: 90})
	tl.Add([]float64{0.75}, unet.Metrics{TP: 10, FN: 0, FP: 10})
	s := tl.Summary()
	// TP 40, FN 10, FP 100; loss (0.5+0.25+0.75)/3.
	want := Summary{Loss: 0.5, Precision: 40.0 / 140, Recall: 0.8, TPPct: 80, FNPct: 20, FPPct: 200, TP: 40, FN: 10, FP: 100}
	want.F1 = 2 * want.Precision * want.Recall / (want.Precision + want.Recall)
	if s != want {
		t.Errorf("summary %+v\nwant %+v", s, want)
	}
	if z := (Tally{}).Summary(); z != (Summary{}) {
		t.Errorf("empty tally: %+v, want zeros", z)
	}
	// No positives at all: the book divides by 1.
	if s := (Tally{Samples: 1, FP: 5}).Summary(); s.FPPct != 500 || s.Precision != 0 || math.IsNaN(s.F1) {
		t.Errorf("no positives: %+v", s)
	}
}

func TestCSVRow(t *testing.T) {
	s := Summary{Loss: 0.1, Precision: 0.25, Recall: 1, F1: 0.4, TPPct: 100, FNPct: 0, FPPct: 300, TP: 4, FN: 0, FP: 12}
	if got, want := s.CSVRow(3, "val", 4800, 12.3456), "3,val,4800,0.1,0.25,1,0.4,100,0,300,4,0,12,12.346"; got != want {
		t.Errorf("row %q, want %q", got, want)
	}
}

// TestRowsBefore: a resumed run keeps the rows of the epochs before its
// checkpoint's, and drops that epoch's own rows even when they were logged
// at the checkpoint's samples (a checkpoint after the epoch's last batch,
// before its end).
func TestRowsBefore(t *testing.T) {
	old := CSVHeader + "\n1,trn,100,0,0,0,0,0,0,0,0,0,0,1.0\n1,val,100,0,0,0,0,0,0,0,0,0,0,1.5\n2,trn,200,0,0,0,0,0,0,0,0,0,0,3.0\n"
	got, dropped, err := rowsBefore([]byte(old), 2)
	if err != nil || dropped != 1 {
		t.Fatal(dropped, err)
	}
	if want := CSVHeader + "\n1,trn,100,0,0,0,0,0,0,0,0,0,0,1.0\n1,val,100,0,0,0,0,0,0,0,0,0,0,1.5\n"; string(got) != want {
		t.Errorf("kept %q", got)
	}
	if _, _, err := rowsBefore([]byte("epoch,x\n"), 1); err == nil {
		t.Error("another file's header accepted")
	}
}
