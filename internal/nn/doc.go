// Package nn holds the float32 CPU kernels of ctseg's U-Net: convolution,
// transposed convolution, batch normalisation, ReLU, average pooling,
// channel concatenation and sigmoid, each with its backward pass.
//
// Tensors are dense NCHW float32 slices. The kernels are pure Go except
// for the matrix multiply's micro-kernels, which on amd64 are Go assembly
// chosen at run time from CPUID: 4×32 with AVX-512, 4×16 with AVX2/FMA
// (other CPUs and the purego build tag use Go loops); the two assembly
// kernels sum in the same order and give the same bits. Work is split over
// a fixed number of goroutines. Every reduction is summed in an order that
// depends only on the tensor shapes, never on the number of workers or on
// scheduling, so results are bit-for-bit reproducible.
package nn
