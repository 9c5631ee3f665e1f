// Package nn holds the float32 CPU kernels of ctseg's U-Net: convolution,
// transposed convolution, batch normalisation, ReLU, average pooling,
// channel concatenation and sigmoid, each with its backward pass.
//
// Tensors are dense NCHW float32 slices. The kernels are pure Go (with an
// AVX2/FMA matrix-multiply micro-kernel in Go assembly on amd64, checked at
// run time) and split their work over a fixed number of goroutines. Every
// reduction is summed in an order that depends only on the tensor shapes,
// never on the number of workers or on scheduling, so results are
// bit-for-bit reproducible.
package nn
