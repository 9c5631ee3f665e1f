// Package augment is segtrain's data augmentation (SPEC "Training
// (segtrain)"), the book's SegmentationAugmentation (p2ch13/model.py): one
// random 2-D affine transform per batch, applied with bilinear sampling and
// border padding to the int16 windows and to their labels (sampled as float,
// then > 0.5), then Gaussian noise added to the input.
//
// It is written so that a GPU engine can do the same on the device and get
// the same numbers (within float tolerance): the CPU engine of
// internal/unet calls Grid, Sample, Threshold and AddNoise, a CUDA engine
// reimplements them from this description, and the conformance suite
// (internal/unet/unettest) checks both against PyTorch and against
// Normal.
//
// # Random numbers
//
// Every random number is a pure function of (seed, step): Philox4x32-10
// (Salmon et al. 2011), the counter-based generator of Random123, cuRAND
// and PyTorch's CUDA generator. A resumed run therefore needs no generator
// state, only the step number, and any thread can draw any number. With
// Key{Seed, Step}:
//
//	key     = (k0, k1)         = (seed mod 2³², seed >> 32)
//	counter = (c0, c1, c2, c3) = (index, stream, step mod 2³², step >> 32)
//
// Stream StreamNoise (0): block index j gives the words x0…x3 from which
// the noise of the flat N×C×H×W input elements 4j … 4j+3 comes, paired as
// cuRAND's curand_normal4 pairs them and transformed as its
// _curand_box_muller does:
//
//	n(4j)   = r(x0)·sin φ(x1)    n(4j+1) = r(x0)·cos φ(x1)
//	n(4j+2) = r(x2)·sin φ(x3)    n(4j+3) = r(x2)·cos φ(x3)
//	r(a) = √(−2 ln((a + ½)·2⁻³²)),  φ(b) = 2π·(b + ½)·2⁻³²
//
// The reference (Normal, AddNoise) evaluates this in float64, with fdlibm's
// log, sine and cosine polynomials in operations that AVX2 repeats bit for
// bit (boxmuller.go), within 1e-14 of package math's; the input
// element e becomes x[e] + float32(σ·n(e)), added in float32. A float32
// kernel with cuRAND's arithmetic lands within 3e-4·σ of it (the rounding
// of a to float32 near 2³²), which the suite allows. Indices fit 32 bits,
// so a batch may hold up to 2³⁴ elements.
//
// Stream StreamTransform (1): blocks 0 and 1 give the words w0…w3 and
// w4…w7 of the batch's transform, with u(w) = w·2⁻³² ∈ [0, 1) standing
// for the book's random.random():
//
//	w0, w1  flip x, y         when u > 0.5
//	w2, w3  offset x, y       Offset·(2u − 1)
//	w4, w5  scale x, y        1 + Scale·(2u − 1)
//	w6      rotation angle    2π·u
//	w7      unused
//
// Every word is drawn whether or not its part is switched on, so switching
// one part off leaves the others' values as they were.
//
// # The transform
//
// Config.Transform composes the parts in the book's order
// (_build2dTransformMatrix): per axis i (x, then y) flip, offset, scale into
// T, then the rotation R with T = T·R (the book's transform_t @= rotation_t):
//
//	T = [f_x·s_x  0        o_x]    R = [cos α  −sin α  0]
//	    [0        f_y·s_y  o_y]        [sin α   cos α  0]
//	    [0        0        1  ]        [0       0      1]
//	θ = first two rows of T·R
//	  = [f_x·s_x·cos α  −f_x·s_x·sin α  o_x]
//	    [f_y·s_y·sin α   f_y·s_y·cos α  o_y]
//
// with f = −1 for a flipped axis. The book writes the offset into row 2,
// which is then dropped, so its offset does nothing; ctseg writes it into
// column 2, a translation in normalised grid units (SPEC: fixed).
//
// # Sampling
//
// θ is F.affine_grid's theta and the sampling is F.grid_sample's (mode
// bilinear, padding_mode border, align_corners False), exactly: output
// pixel (row r, column q) of an H×W image samples the input at
//
//	x = (2q+1)/W − 1,  y = (2r+1)/H − 1                 (base grid)
//	(x', y') = θ·(x, y, 1)                               (normalised [−1, 1])
//	ix = clamp(((x'+1)·W − 1)/2, 0, W−1), iy likewise with H   (border)
//
// interpolating bilinearly between the pixels floor(ix), floor(ix)+1 and
// floor(iy), floor(iy)+1 (a neighbour past the edge has weight 0). The
// label is sampled the same way and thresholded at > 0.5.
package augment
