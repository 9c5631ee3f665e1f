package safetensors

import (
	"bytes"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/ctseg/ctseg/internal/tensors"
)

// checkpointLike is the size of a ctseg training checkpoint: the book
// model's 118,271 parameters three times (weights, Adam's two moments).
func checkpointLike() tensors.Dict {
	r := rand.New(rand.NewPCG(7, 8))
	d := tensors.Dict{}
	for _, prefix := range []string{"", "adam.exp_avg.", "adam.exp_avg_sq."} {
		v := make([]float32, 118271)
		for i := range v {
			v[i] = float32(r.NormFloat64())
		}
		d[prefix+"weights"] = tensors.Tensor{DType: tensors.F32, Shape: []int{len(v)}, F32: v}
	}
	d["adam.step"] = tensors.Tensor{DType: tensors.I64, Shape: []int{}, I64: []int64{5}}
	return d
}

func BenchmarkWrite(b *testing.B) {
	d := checkpointLike()
	b.SetBytes(3 * 118271 * 4)
	for b.Loop() {
		if err := Write(io.Discard, d, map[string]string{"epoch": "5"}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRead(b *testing.B) {
	var buf bytes.Buffer
	Write(&buf, checkpointLike(), nil)
	b.SetBytes(int64(buf.Len()))
	for b.Loop() {
		if _, _, err := Parse(buf.Bytes()); err != nil {
			b.Fatal(err)
		}
	}
}
