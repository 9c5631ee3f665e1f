// Package nn holds the float32 CPU kernels of ctseg's U-Net: convolution,
// transposed convolution, batch normalisation, ReLU, average pooling,
// channel concatenation and sigmoid, each with its backward pass.
//
// Tensors are dense NCHW float32 slices. The kernels are pure Go except
// for BatchNorm's loops (AVX2 on amd64, with Go loops of the same order
// and bits elsewhere) and the matrix multiply's micro-kernels, which on
// amd64 are Go assembly chosen at run time from CPUID: blocks of 8 rows × 32 or 16 columns with
// AVX-512, 4 × 16 with AVX2/FMA (other CPUs and the purego build tag use
// Go loops); all of them sum each element in the same order and give the
// same bits. Convolutions never build their im2col matrix: its rows are
// runs of a zero-padded copy of the input, which the micro-kernels read
// through row offsets. Work is split over
// a fixed number of goroutines. Every reduction is summed in an order that
// depends only on the tensor shapes, never on the number of workers or on
// scheduling, so results are bit-for-bit reproducible.
package nn
