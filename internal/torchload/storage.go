package torchload

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/nlpodyssey/gopickle/types"

	"github.com/ctseg/ctseg/internal/tensors"
)

// storageClass is a torch.<Name>Storage global named in a pickle.
type storageClass struct {
	name     string // e.g. "FloatStorage"
	elemSize int
}

// storageClasses lists torch's typed storages with their element sizes.
// Unpickling accepts all of them (an unused one, say in optimizer state,
// must not break an import); converting to a ctseg tensor accepts only
// Float, Double and Long.
var storageClasses = map[string]int{
	"FloatStorage": 4, "DoubleStorage": 8, "HalfStorage": 2, "BFloat16Storage": 2,
	"LongStorage": 8, "IntStorage": 4, "ShortStorage": 2, "CharStorage": 1,
	"ByteStorage": 1, "BoolStorage": 1, "ComplexFloatStorage": 8, "ComplexDoubleStorage": 16,
}

// maxStorageElems bounds a storage's element count, which keeps all index
// arithmetic far from overflow (ctseg's largest tensor has 36,864).
const maxStorageElems = math.MaxInt32

// storage is one torch storage: numel elements of a class, raw
// little-endian bytes once loaded (legacy files load them after the pickle).
type storage struct {
	class *storageClass
	key   string
	numel int
	data  []byte
}

// storageRef is what persistent_load returns: a storage, or (in very old
// legacy files) a view of one starting at an element offset.
type storageRef struct {
	root   *storage
	offset int
	numel  int
}

// tensorRef is the result of torch._utils._rebuild_tensor_v2, kept
// unmaterialized until the storages hold their data.
type tensorRef struct {
	ref    *storageRef
	offset int
	size   []int
	stride []int
}

// rebuildTensor implements torch._utils._rebuild_tensor_v2(storage,
// storage_offset, size, stride, requires_grad, backward_hooks[, metadata]).
type rebuildTensor struct{}

func (rebuildTensor) Call(args ...interface{}) (interface{}, error) {
	if len(args) < 4 {
		return nil, fmt.Errorf("_rebuild_tensor_v2: %d arguments, want at least 4", len(args))
	}
	ref, ok := args[0].(*storageRef)
	if !ok {
		return nil, fmt.Errorf("_rebuild_tensor_v2: first argument is %T, not a storage", args[0])
	}
	offset, ok := args[1].(int)
	if !ok || offset < 0 {
		return nil, fmt.Errorf("_rebuild_tensor_v2: bad storage offset %v", args[1])
	}
	size, err := intTuple(args[2])
	if err != nil {
		return nil, fmt.Errorf("_rebuild_tensor_v2: size: %w", err)
	}
	stride, err := intTuple(args[3])
	if err != nil {
		return nil, fmt.Errorf("_rebuild_tensor_v2: stride: %w", err)
	}
	if len(size) != len(stride) {
		return nil, fmt.Errorf("_rebuild_tensor_v2: size %v and stride %v differ in rank", size, stride)
	}
	return &tensorRef{ref: ref, offset: offset, size: size, stride: stride}, nil
}

// rebuildParameter implements torch._utils._rebuild_parameter(data,
// requires_grad, backward_hooks): a Parameter is its tensor here.
type rebuildParameter struct{}

func (rebuildParameter) Call(args ...interface{}) (interface{}, error) {
	if len(args) < 1 {
		return nil, fmt.Errorf("_rebuild_parameter: no arguments")
	}
	if _, ok := args[0].(*tensorRef); !ok {
		return nil, fmt.Errorf("_rebuild_parameter: argument is %T, not a tensor", args[0])
	}
	return args[0], nil
}

// intTuple converts a pickled tuple of non-negative ints.
func intTuple(v interface{}) ([]int, error) {
	t, ok := v.(*types.Tuple)
	if !ok {
		return nil, fmt.Errorf("%T is not a tuple", v)
	}
	out := make([]int, t.Len())
	for i := range out {
		n, ok := t.Get(i).(int)
		if !ok || n < 0 {
			return nil, fmt.Errorf("element %d (%v) is not a non-negative int", i, t.Get(i))
		}
		out[i] = n
	}
	return out, nil
}

// materialize copies a (possibly strided) tensor view into a contiguous
// ctseg tensor. Float and Double become F32, Long becomes I64.
func (t *tensorRef) materialize() (tensors.Tensor, error) {
	st := t.ref.root
	out := tensors.Tensor{Shape: append([]int{}, t.size...)}
	// Checked first: the element count of a storage whose bytes never came
	// (a legacy key list missing it) is only a claim, not an allocation bound.
	if len(st.data) != st.numel*st.class.elemSize {
		return out, fmt.Errorf("storage %q has no data", st.key)
	}
	idx, err := t.indices()
	if err != nil {
		return out, err
	}
	n := len(idx)
	switch st.class.name {
	case "FloatStorage":
		out.DType, out.F32 = tensors.F32, make([]float32, n)
		for i, k := range idx {
			out.F32[i] = math.Float32frombits(binary.LittleEndian.Uint32(st.data[4*k:]))
		}
	case "DoubleStorage":
		out.DType, out.F32 = tensors.F32, make([]float32, n)
		for i, k := range idx {
			out.F32[i] = float32(math.Float64frombits(binary.LittleEndian.Uint64(st.data[8*k:])))
		}
	case "LongStorage":
		out.DType, out.I64 = tensors.I64, make([]int64, n)
		for i, k := range idx {
			out.I64[i] = int64(binary.LittleEndian.Uint64(st.data[8*k:]))
		}
	default:
		return out, fmt.Errorf("unsupported dtype torch.%s (ctseg imports float32, float64 and int64 tensors)", st.class.name)
	}
	return out, nil
}

// indices lists, in row-major order, the root-storage element index of
// every element of the view, after checking that the view stays inside its
// storage (a corrupt file must give an error, not an out-of-range panic)
// and that a view with zero strides does not expand beyond reason.
func (t *tensorRef) indices() ([]int, error) {
	for _, s := range t.size {
		if s == 0 {
			return []int{}, nil
		}
	}
	end := t.ref.offset + t.ref.numel // one past the view's last storage element
	outside := fmt.Errorf("view (offset %d, size %v, stride %v) runs past its storage of %d elements",
		t.offset, t.size, t.stride, t.ref.numel)
	if t.offset > t.ref.numel || end > t.ref.root.numel {
		return nil, outside
	}
	base := t.ref.offset + t.offset
	maxIdx, n := base, 1
	for k, s := range t.size {
		// Each bound is checked before the next product, so nothing overflows.
		if s > math.MaxInt32 {
			return nil, fmt.Errorf("size %v too large", t.size)
		}
		if t.stride[k] > end || (t.stride[k] > 0 && s > end) {
			return nil, outside
		}
		if maxIdx += (s - 1) * t.stride[k]; maxIdx >= end {
			return nil, outside
		}
		if n *= s; n > max(t.ref.numel, 1<<20) {
			return nil, fmt.Errorf("view of size %v expands a storage of %d elements too far", t.size, t.ref.numel)
		}
	}
	idx := make([]int, n)
	pos := make([]int, len(t.size)) // odometer over the view's indices
	cur := base
	for i := range idx {
		idx[i] = cur
		for k := len(pos) - 1; k >= 0; k-- {
			pos[k]++
			cur += t.stride[k]
			if pos[k] < t.size[k] {
				break
			}
			cur -= pos[k] * t.stride[k]
			pos[k] = 0
		}
	}
	return idx, nil
}
