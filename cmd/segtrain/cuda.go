//go:build ctseg_cuda

package main

// The CUDA engine: --device cuda (see docs/cuda.md).
import _ "github.com/ctseg/ctseg/internal/unet/cuda"
