package froc

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/ctseg/ctseg/internal/atomicfile"
)

// SystemName is the script's name for a submission: its file name without
// the directory and the last extension (os.path.splitext).
func SystemName(path string) string {
	base := filepath.Base(path)
	i := strings.LastIndexByte(base, '.')
	if i <= 0 || strings.Trim(base[:i], ".") == "" {
		return base
	}
	return base[:i]
}

// WriteFiles writes the script's output files for the submission called
// name into dir: CADAnalysis.txt, nodulesWithoutCandidate_<name>.txt,
// froc_<name>.txt, froc_gt_prob_vectors_<name>.csv, with a bootstrap
// froc_<name>_bootstrapping.csv, and, when there are nodules,
// froc_<name>.png. Each file appears complete or not at all.
func WriteFiles(dir, name string, r *Result) error {
	files := []outFile{
		{"CADAnalysis.txt", func(w io.Writer) error { return WriteCADAnalysis(w, name, r) }},
		{"nodulesWithoutCandidate_" + name + ".txt", func(w io.Writer) error { return WriteNodulesWithoutCandidate(w, r) }},
		{"froc_" + name + ".txt", func(w io.Writer) error { return WriteCurve(w, r) }},
		{"froc_gt_prob_vectors_" + name + ".csv", func(w io.Writer) error { return WriteGTProbVectors(w, r) }},
	}
	if r.Bootstrap != nil {
		files = append(files, outFile{"froc_" + name + "_bootstrapping.csv",
			func(w io.Writer) error { return WriteBootstrap(w, r.Bootstrap) }})
	}
	if r.Nodules > 0 {
		files = append(files, outFile{"froc_" + name + ".png", func(w io.Writer) error { return WritePNG(w, name, r) }})
	}
	for _, f := range files {
		if err := writeFile(filepath.Join(dir, f.name), f.write); err != nil {
			return err
		}
	}
	return nil
}

// outFile is one output file: its name and what writes it.
type outFile struct {
	name  string
	write func(io.Writer) error
}

// writeFile writes one file atomically through write.
func writeFile(path string, write func(io.Writer) error) error {
	f, err := atomicfile.Create(path)
	if err != nil {
		return err
	}
	defer f.Abort()
	bw := bufio.NewWriter(f)
	if err := write(bw); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Commit()
}

// errWriter remembers the first write error, so that writers can print
// line after line and check once.
type errWriter struct {
	w   io.Writer
	err error
}

// printf writes a formatted line unless an earlier write failed.
func (e *errWriter) printf(format string, args ...any) {
	if e.err == nil {
		_, e.err = fmt.Fprintf(e.w, format, args...)
	}
}

// WriteCADAnalysis writes the script's CADAnalysis.txt summary.
func WriteCADAnalysis(w io.Writer, name string, r *Result) error {
	e := &errWriter{w: w}
	stars := strings.Repeat("*", 60)
	e.printf("\n%s\nCAD Analysis: %s\n%s\n\n", stars, name, stars)
	e.printf("Candidate detection results:\n")
	e.printf("    True positives: %d\n", r.Detected)
	e.printf("    False positives: %d\n", r.FalsePositives)
	e.printf("    False negatives: %d\n", len(r.Missed))
	e.printf("    True negatives: %d\n", 0)
	e.printf("    Total number of candidates: %d\n", r.Candidates)
	e.printf("    Total number of nodules: %d\n", r.Nodules)
	e.printf("    Ignored candidates on excluded nodules: %d\n", r.IgnoredOnExcluded)
	e.printf("    Ignored candidates which were double detections on a nodule: %d\n", r.DoubleDetections)
	if r.Nodules == 0 {
		e.printf("    Sensitivity: 0.0\n")
	} else {
		e.printf("    Sensitivity: %s\n", f9(float64(r.Detected)/float64(r.Nodules)))
	}
	e.printf("    Average number of candidates per scan: %s\n", f9(float64(r.Candidates)/float64(r.Scans)))
	return e.err
}

// WriteNodulesWithoutCandidate writes the script's
// nodulesWithoutCandidate_<name>.txt: one line per missed finding,
// "seriesuid,None,x,y,z,diameter,-1" (the script prints the finding's
// unset id as None and its coordinates as read; here as Python's repr of
// the number, which is the text of LUNA16's annotations.csv).
func WriteNodulesWithoutCandidate(w io.Writer, r *Result) error {
	e := &errWriter{w: w}
	for _, f := range r.Missed {
		e.printf("%s,None,%s,%s,%s,%s,-1\n", f.SeriesUID, pyRepr(f.XYZ[0]), pyRepr(f.XYZ[1]), pyRepr(f.XYZ[2]), f9(f.DiameterMM))
	}
	return e.err
}

// WriteCurve writes the script's froc_<name>.txt: one line per curve point,
// "fps,sensitivity,threshold".
func WriteCurve(w io.Writer, r *Result) error {
	e := &errWriter{w: w}
	c := r.Curve
	for i := range c.FPsPerScan {
		e.printf("%s,%s,%s\n", f9(c.FPsPerScan[i]), f9(c.Sensitivity[i]), f9(c.Thresholds[i]))
	}
	return e.err
}

// WriteGTProbVectors writes the script's froc_gt_prob_vectors_<name>.csv:
// per scan, each included finding ("1,probability", a missed one with
// -1000000000) and then each false positive ("0,probability").
func WriteGTProbVectors(w io.Writer, r *Result) error {
	e := &errWriter{w: w}
	for _, en := range r.entries {
		gt := 0
		if en.positive {
			gt = 1
		}
		e.printf("%d,%s\n", gt, f9(en.prob))
	}
	return e.err
}

// WriteBootstrap writes the script's froc_<name>_bootstrapping.csv: a
// header, then "fps,mean,lower,upper" at each of b.FPsPerScan.
func WriteBootstrap(w io.Writer, b *Bootstrap) error {
	e := &errWriter{w: w}
	e.printf("FPrate,Sensivity[Mean],Sensivity[Lower bound],Sensivity[Upper bound]\n")
	for i, fp := range b.FPsPerScan {
		e.printf("%s,%s,%s,%s\n", f9(fp), f9(float64(b.Mean[i])), f9(float64(b.Lower[i])), f9(float64(b.Upper[i])))
	}
	return e.err
}

// f9 formats v as Python's "%.9f" does (Go's %.9f but for nan and inf).
func f9(v float64) string {
	switch {
	case math.IsNaN(v):
		return "nan"
	case math.IsInf(v, 1):
		return "inf"
	case math.IsInf(v, -1):
		return "-inf"
	}
	return strconv.FormatFloat(v, 'f', 9, 64)
}

// pyRepr formats v as Python 3's repr(float): the shortest decimal that
// reads back as v, positional from 1e-4 up to 1e16 (with ".0" when whole)
// and in exponent form ("1e-05", "1.5e+16") outside.
func pyRepr(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return f9(v)
	}
	e := strconv.FormatFloat(v, 'e', -1, 64)
	if exp, _ := strconv.Atoi(e[strings.IndexByte(e, 'e')+1:]); v != 0 && (exp < -4 || exp >= 16) {
		return e
	}
	s := strconv.FormatFloat(v, 'f', -1, 64)
	if !strings.ContainsAny(s, ".") {
		s += ".0"
	}
	return s
}
