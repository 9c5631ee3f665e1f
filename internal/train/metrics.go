package train

import (
	"fmt"
	"strconv"

	"github.com/ctseg/ctseg/internal/unet"
)

// Tally accumulates an epoch's pixel counts and per-sample Dice losses,
// pooled as the book's logMetrics pools them.
type Tally struct {
	LossSum float64 `json:"loss_sum"` // Σ per-sample 1 − Dice(p, l)
	Samples int64   `json:"samples"`
	TP      int64   `json:"tp"`
	FN      int64   `json:"fn"`
	FP      int64   `json:"fp"`
}

// Add takes in one batch: its per-sample Dice losses and pixel counts.
func (t *Tally) Add(diceLoss []float64, m unet.Metrics) {
	for _, l := range diceLoss {
		t.LossSum += l
	}
	t.Samples += int64(len(diceLoss))
	t.TP += m.TP
	t.FN += m.FN
	t.FP += m.FP
}

// Summary is what the book's logMetrics derives from a tally.
type Summary struct {
	Loss                float64 // mean per-sample Dice loss: loss/all
	Precision, Recall   float64
	F1                  float64
	TPPct, FNPct, FPPct float64 // counts / (TP + FN) · 100; FP may exceed 100
	TP, FN, FP          int64
}

// orOne is the book's `x or 1`: a zero denominator counts as 1.
func orOne(x float64) float64 {
	if x == 0 {
		return 1
	}
	return x
}

// Summary derives the epoch's metrics (SPEC "Training": each denominator
// 0 → 1).
func (t Tally) Summary() Summary {
	tp, fn, fp := float64(t.TP), float64(t.FN), float64(t.FP)
	s := Summary{TP: t.TP, FN: t.FN, FP: t.FP}
	if t.Samples > 0 {
		s.Loss = t.LossSum / float64(t.Samples)
	}
	all := orOne(tp + fn)
	s.TPPct, s.FNPct, s.FPPct = tp/all*100, fn/all*100, fp/all*100
	s.Precision = tp / orOne(tp+fp)
	s.Recall = tp / orOne(tp+fn)
	s.F1 = 2 * s.Precision * s.Recall / orOne(s.Precision+s.Recall)
	return s
}

// LogLines are the book's two metric lines for epoch and mode ("trn",
// "val"), without its logging prefix: Python's "E{} {:8} {:.4f} loss, …"
// pads the mode to 8 characters, left-aligned, and {:-5.1f} is %5.1f.
func (s Summary) LogLines(epoch int, mode string) [2]string {
	return [2]string{
		fmt.Sprintf("E%d %-8s %.4f loss, %.4f precision, %.4f recall, %.4f f1 score",
			epoch, mode, s.Loss, s.Precision, s.Recall, s.F1),
		fmt.Sprintf("E%d %-8s %.4f loss, %5.1f%% tp, %5.1f%% fn, %9.1f%% fp",
			epoch, mode+"_all", s.Loss, s.TPPct, s.FNPct, s.FPPct),
	}
}

// Scalars are the book's TensorBoard scalars, under its tags (the
// writer's "seg_" prefix included), in the order it writes them.
func (s Summary) Scalars() []Scalar {
	return []Scalar{
		{"seg_loss/all", s.Loss},
		{"seg_percent_all/tp", s.TPPct},
		{"seg_percent_all/fn", s.FNPct},
		{"seg_percent_all/fp", s.FPPct},
		{"seg_pr/precision", s.Precision},
		{"seg_pr/recall", s.Recall},
		{"seg_pr/f1_score", s.F1},
	}
}

// Scalar is one TensorBoard scalar.
type Scalar struct {
	Tag   string
	Value float64
}

// CSVHeader is the first line of metrics.csv.
const CSVHeader = "epoch,mode,samples_seen,loss,precision,recall,f1,tp_pct,fn_pct,fp_pct,tp,fn,fp,seconds"

// CSVRow is one metrics.csv line (without the newline). Floats are
// written in full (shortest exact form), so that two runs compare exactly.
func (s Summary) CSVRow(epoch int, mode string, samples int64, seconds float64) string {
	f := func(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }
	return fmt.Sprintf("%d,%s,%d,%s,%s,%s,%s,%s,%s,%s,%d,%d,%d,%.3f", epoch, mode, samples,
		f(s.Loss), f(s.Precision), f(s.Recall), f(s.F1), f(s.TPPct), f(s.FNPct), f(s.FPPct),
		s.TP, s.FN, s.FP, seconds)
}
