// Package tensors holds named, typed, dense tensors: the neutral form in
// which model weights, BatchNorm buffers and optimizer state travel between
// the model, ctseg's safetensors checkpoints and imported PyTorch files.
package tensors

import "sort"

// DType names an element type, spelled as safetensors spells it.
type DType string

// Element types used by ctseg's checkpoints.
const (
	F32 DType = "F32"
	I64 DType = "I64"
)

// Tensor is a dense row-major tensor. Exactly one of F32 and I64 holds the
// data, as DType says; its length is the product of Shape (1 for a scalar,
// whose Shape is empty).
type Tensor struct {
	DType DType
	Shape []int
	F32   []float32
	I64   []int64
}

// Len is the number of elements Shape calls for.
func (t Tensor) Len() int {
	n := 1
	for _, d := range t.Shape {
		n *= d
	}
	return n
}

// Dict maps state_dict-style names ("unet.last.weight") to tensors.
type Dict map[string]Tensor

// Names returns the dict's keys in sorted order.
func (d Dict) Names() []string {
	names := make([]string, 0, len(d))
	for k := range d {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}
