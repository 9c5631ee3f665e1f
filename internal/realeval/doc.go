// Package realeval holds tests only: the book's published segmentation
// checkpoint evaluated on the two real LIDC-IDRI slabs in ../shared/data
// with the project's own code, against what PyTorch and SciPy compute on
// the same data (testdata/segeval_fixture.json.gz, written by
// tools/pytorch/make_segeval_fixtures.py, which reads the .mhd/.raw/.zraw
// files, builds SPEC.md's mask and 7-channel inputs and runs the book's
// UNetWrapper itself).
//
// The tests build each CT as the pipeline does (metaimage → ctmask →
// crop.Slices) and run the CPU engine (unet.NewEngine("cpu", …)) with the
// checkpoint:
//
//   - TestValidationCounts: on the validation slices (the positive slices
//     crop --val makes, 7 channels), the pooled TP/FN/FP of p > 0.5 against
//     the labels equal PyTorch's within ±0.1 %, and every input equals
//     PyTorch's input bit for bit (SHA-256 of the float32 tensor).
//   - TestFullCTCandidates: on every slice of each slab (crop's FullCT),
//     candidates.Group on the engine's logits gives the components that
//     scipy.ndimage computes from PyTorch's probabilities (binary_erosion
//     with the 6-connected cross, label, center_of_mass with weights
//     clip(hu)+1001, irc→xyz). Voxels whose PyTorch probability is within
//     1e-3 of 0.5 ("borderline", listed in the fixture with PyTorch's logit
//     there) take PyTorch's logit before grouping, so that they are decided
//     as PyTorch decided them; everything else is the engine's own output,
//     and the components must then be equal: the same number in the same
//     (raster) order, the same voxel counts, the same centres of mass (exact
//     ratios of integer sums, compared to 1e-12 voxels), world centres to
//     1e-9 mm, and mean and maximum logits within a small tolerance of
//     PyTorch's. The test also groups the engine's unmodified logits and
//     requires the borderline voxels alone to account for any difference
//     (the engine's probability there within 1e-3 of PyTorch's), and checks
//     the nodule recall by the book's rule (distance/diameter < 0.7) and the
//     candidates per scan against the fixture.
//
// BenchmarkFullCTInference (bench/inference.sh) times the engine's Predict
// and candidates.Group on the validation slices of a whole phantom CT.
//
// The tests skip without ../shared/data (sharedtest) and in -short mode.
package realeval
