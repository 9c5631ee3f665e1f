// Package evaluate is segeval: it runs a trained U-Net over a slice stream
// (crop --val, or crop --val --full-ct) and scores it the way the book
// does and beyond (SPEC.md "Training → metrics", "After segmentation",
// "LUNA16 evaluation"):
//
//   - pixel metrics of the labelled slices, pooled and per series, with the
//     book's log lines (package train's Tally and Summary), counted on the
//     unpadded region only;
//   - for every series that arrives as a whole CT (slices 0…depth−1 in
//     order, each carrying its CT: format.SliceCT), nodule candidates grouped
//     slice by slice from the logits (package candidates), the book's
//     nodule recall (distance/diameter < 0.7) and candidates per scan, and a
//     LUNA16 submission (seriesuid,coordX,coordY,coordZ,probability) with
//     the list of the scans it covers beside it (FILE.scans);
//   - LUNA16's FROC and CPM (package froc) of those candidates, or of
//     submission files (FROCFiles, `segeval froc`);
//   - the book's overlays as PNG files, a prediction stream, and an HTML
//     report.
//
// # Order of the slices
//
// The slices of a series must arrive together (a series interrupted by
// another is an error) and in ascending slice order. A series whose slices
// are exactly 0…depth−1 is a whole CT; with candidates asked for
// (Options.Candidates) every series must be one, and a missing CT
// description, a missing slice or a series that stops short is an error
// that names the series.
//
// # The probability column
//
// A candidate's score is its mean logit (package candidates), mapped to
// (0, 1) by p = 1/2 + atan(mean logit)/π (Score). The map is strictly
// increasing, so the submission ranks the marks of all scans exactly as
// their mean logits do; the logistic σ(mean logit) would not: in float64
// it is 1.0 past a mean logit of about 36.7, and the book's model gives
// components whose probabilities are all 1.0 even in float32 (SPEC.md), so
// σ would tie them and LUNA16's 100-mark cut would drop every tied mark.
// Within a scan candidates.MaxMarks keeps the best N and makes their
// probabilities strictly decreasing (only exact ties of the mean logit
// move, by an ulp or so).
//
// # Memory
//
// One CT at a time, and of it a few slices: the batch being read, the one
// being predicted and the one being scored (a 7×512×512 slice is 3.5 MiB
// of HU and 2 MiB of probabilities and logits, times the batch size), the
// candidate grouper's state (a few slices of bit masks, HU and logits:
// about 3.2 MiB at 512×512; package candidates gives its adversarial
// worst case, which no model produces) and the candidates of the current
// CT (88 bytes each). Across the stream: per-series counts, the FROC's
// marks (at most MaxMarks per scan: 100 × 888 scans ≈ 6 MB; all
// candidates with MaxMarks 0) and the report's overlays (1 MiB each at
// 512×512). The CPU engine's activations come on top and dominate
// (docs/segeval.md: 324 MB peak RSS in all at batch 1 on 512×512 slices).
package evaluate
