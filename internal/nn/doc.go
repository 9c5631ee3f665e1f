// Package nn holds the float32 CPU kernels of ctseg's U-Net: convolution,
// transposed convolution, batch normalisation, ReLU, average pooling,
// channel concatenation and sigmoid, each with its backward pass.
//
// Tensors are dense NCHW float32 slices. Convolutions are matrix products
// with the im2col matrix, which is never built: its rows are runs of a
// zero-padded copy of a band of input rows, read through row offsets.
//
// On amd64 the hot loops are Go assembly, chosen at run time from the
// CPU's features: the matrix multiply's micro-kernels (8 rows × 32 or 16
// columns with AVX-512, 4 × 16 with AVX2/FMA, which sum each element in
// the same order and so give the same bits), and with AVX2 BatchNorm's
// sums and element-wise loops and the convolution's epilogue, each with a
// Go loop of the same operations that gives the same bits. The Go loops
// of the matrix multiply (other CPUs, the purego build tag) round
// differently from FMA, so results there agree with the assembly's only
// to float32 precision.
//
// Work is split over a fixed number of goroutines. Every reduction is
// summed in an order that depends only on the tensor shapes, never on the
// number of workers or on scheduling, so results are bit-for-bit
// reproducible.
package nn
