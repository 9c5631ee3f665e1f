// Package froc scores a LUNA16 detection submission the way LUNA16's
// official evaluation script, noduleCADEvaluationLUNA16.py (Setio, Jacobs
// et al., "Validation, comparison, and combination of algorithms for
// automatic detection of pulmonary nodules in computed tomography images:
// the LUNA16 challenge", Medical Image Analysis 42, 2017; distributed with
// the challenge as evaluationScript/noduleCADEvaluationLUNA16.py), does it:
// SPEC.md, "LUNA16 evaluation (segeval froc)".
//
// Evaluate caps each scan at the 100 most probable marks, matches the marks
// against the included findings (annotations.csv) and then the excluded
// ones (annotations_excluded.csv), builds the FROC curve as sklearn's
// roc_curve (drop_intermediate=True) rescaled to false positives per scan
// and sensitivity, reads the sensitivity at 1/8 … 8 false positives per
// scan with numpy.interp, averages them into the CPM, and bootstraps the
// scans for confidence bands. The writers produce the script's files
// (CADAnalysis.txt, nodulesWithoutCandidate_<name>.txt, froc_<name>.txt,
// froc_gt_prob_vectors_<name>.csv, froc_<name>_bootstrapping.csv) byte for
// byte, and WritePNG draws froc_<name>.png.
//
// Where the script has no answer (it crashes or yields NaN), this package
// defines one: an empty submission, or one that detects nothing, has
// sensitivity 0 everywhere; a bootstrap resample without marks likewise.
// The bootstrap draws scans with its own generator (SplitMix64, see
// Options.Seed) instead of numpy's, so its bands are reproducible from the
// seed; the procedure is the script's. tools/luna16/froc_fixture.py is a
// Python 3 port of the script that uses the same generator, from which
// testdata/fixture_expected.json was made.
package froc
