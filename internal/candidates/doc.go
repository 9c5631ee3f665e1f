// Package candidates turns a whole CT's per-voxel segmentation output into
// nodule candidates, the way chapter 14 of Deep Learning with PyTorch does it
// in NoduleAnalysisApp.segmentCt and groupSegmentationOutput
// (p2ch14/nodule_analysis.py; SPEC.md, "After segmentation"):
//
//	mask   = p > threshold                          (segmentCt, p = sigmoid(logit))
//	mask   = scipy.ndimage.binary_erosion(mask, iterations=1)
//	labels, n = scipy.ndimage.label(mask)
//	centre = scipy.ndimage.center_of_mass(clip(hu, -1000, 1000) + 1001,
//	                                      labels, arange(1, n+1))
//	xyz    = irc2xyz(centre)                        (no rounding)
//
// with SciPy's semantics exactly: the structuring element of both the erosion
// and the labelling is generate_binary_structure(3, 1), the 6-connected cross;
// the erosion's border_value is 0, so every voxel on a face of the volume is
// eroded away; components are numbered in raster (C) order of their first
// voxel, as scipy.ndimage.label numbers them; centres of mass are the ratios
// of exact integer sums, so they equal SciPy's float64 results bit for bit
// (SciPy's float64 sums of integer weights are exact below 2⁵³, that is for
// components of fewer than 2⁵³/(2001·512) ≈ 8.8e9 voxels at 512 per axis).
//
// # Threshold
//
// The model's output is taken as float32 logits, not probabilities: float32
// probabilities saturate at exactly 1.0, which ties hundreds of components
// per real scan. A voxel is in the mask when fl32(σ(logit)) > fl32(t), where
// fl32 rounds to the nearest float32 (ties to even) — the book's
// `output_a > 0.5` on PyTorch's float32 sigmoid, assuming that sigmoid is
// correctly rounded. Because that predicate is monotone in the logit it is
// one comparison, logit ≥ LogitCutoff(t). For t = 0.5 the cutoff is the
// float32 just above 2⁻²³ ≈ 1.19e-7, not 0: σ(x) for 0 < x ≤ 2⁻²³ rounds to
// exactly 0.5 in float32, and 0.5 > 0.5 is false. PyTorch's vectorised or
// CUDA sigmoid may be off by an ulp, so logits within a few 1e-7 of the cutoff
// may be decided differently there; NaN logits are never in the mask.
//
// # Scores
//
// Each candidate carries its voxel count, the mean and maximum logit of its
// (eroded) voxels, and Probability = σ(mean logit) computed in float64. Every
// mask voxel's logit is at least the cutoff, so Probability > threshold; it
// keeps the order of the mean logits up to about 36.7, past which it is 1.0
// (float32 σ already saturates past about 17). Rank by MeanLogit; MaxMarks
// keeps the N best of a scan and makes their probabilities strictly
// decreasing.
//
// # Memory
//
// Grouper takes the CT one slice at a time and keeps only a few slices of
// state: bit-packed masks of three slices (32 KiB each at 512×512), the HU
// and logits of two slices (1.5 MiB each), the runs of the eroded mask in
// two slices, and a 64-byte accumulator per component still open. Each
// finished component costs 64 bytes until Finish, and 88 bytes as a
// returned Candidate. On a 250×512×512 CT with 3 % positive voxels and ~900
// components it allocates 3.9 MB in all (BenchmarkGroup), whatever the depth.
// The worst case is adversarial: a slice holds at most rows·⌈cols/2⌉ runs
// (about 160 bytes of state each, 21 MB at 512×512), and an eroded mask of
// isolated voxels on a lattice of step 2 has depth·rows·cols/8 components
// (about 1.2 GB at 250×512×512 with the result), which no segmentation
// model produces.
package candidates
