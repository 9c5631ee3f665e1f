package unettest

import (
	"math"
	"slices"
	"testing"

	"github.com/ctseg/ctseg/internal/tensors"
)

// maxAbs is max|x|.
func maxAbs(x []float32) float64 {
	var s float64
	for _, v := range x {
		s = math.Max(s, math.Abs(float64(v)))
	}
	return s
}

// relErr is max|got−want| / max|want|: the error relative to the tensor's
// scale, which stays meaningful for elements near zero.
func relErr(got, want []float32) float64 {
	var d float64
	for i := range want {
		d = math.Max(d, math.Abs(float64(got[i])-float64(want[i])))
	}
	if s := maxAbs(want); s != 0 {
		return d / s
	}
	return d
}

// countOver returns how many elements of got differ from want by more than
// tol·max|want|.
func countOver(got, want []float32, tol float64) int {
	s := maxAbs(want)
	n := 0
	for i := range want {
		if math.Abs(float64(got[i])-float64(want[i])) > tol*s {
			n++
		}
	}
	return n
}

// l2Rel is ‖got−want‖₂/‖want‖₂.
func l2Rel(got, want []float32) float64 {
	var d, s float64
	for i := range want {
		d += (float64(got[i]) - float64(want[i])) * (float64(got[i]) - float64(want[i]))
		s += float64(want[i]) * float64(want[i])
	}
	return math.Sqrt(d / s)
}

// sameLen fails t when got and want differ in length.
func sameLen(t *testing.T, name string, got, want []float32) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", name, len(got), len(want))
	}
}

// check compares one tensor and fails above tol.
func check(t *testing.T, name string, got, want []float32, tol float64) float64 {
	t.Helper()
	sameLen(t, name, got, want)
	e := relErr(got, want)
	if e > tol || math.IsNaN(e) {
		t.Errorf("%s: relative error %.3g > %.0g", name, e, tol)
	}
	return e
}

// checkF64 compares got with PyTorch's float32 result want. It passes when
// they agree to tol, or else when got is within f64tol (or twice PyTorch
// float32's own error, if larger) of PyTorch's float64 result ref, the
// exact answer: float32 rounding in gradients that are nearly zero moves
// Adam's first, sign-like steps (about lr·g/(|g|+ε)), so a few weights
// differ between any two float32 implementations. It returns the relative
// error against want.
func checkF64(t *testing.T, name string, got, want, ref []float32, tol, f64tol float64) float64 {
	t.Helper()
	sameLen(t, name, got, want)
	e := relErr(got, want)
	if e <= tol {
		return e
	}
	goErr, torchErr := relErr(got, ref), relErr(want, ref)
	if goErr > math.Max(f64tol, 2*torchErr) || math.IsNaN(goErr) {
		t.Errorf("%s: relative error %.3g vs PyTorch float32 > %.0g, and %.3g > %.0g vs float64 (PyTorch float32: %.3g)",
			name, e, tol, goErr, f64tol, torchErr)
	} else {
		t.Logf("%s: %.3g vs PyTorch float32; vs float64: engine %.3g, PyTorch float32 %.3g", name, e, goErr, torchErr)
	}
	return e
}

// within compares got with want: bit for bit when tol is 0, else to a
// relative error of tol.
func within(t *testing.T, name string, got, want []float32, tol float64) {
	t.Helper()
	sameLen(t, name, got, want)
	if tol > 0 {
		check(t, name, got, want, tol)
		return
	}
	for i := range want {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Fatalf("%s[%d]: %v, want %v", name, i, got[i], want[i])
		}
	}
}

// SameState requires two state dicts to hold the same names, shapes and
// integers, and floats that agree bit for bit when tol is 0, else to a
// relative error of tol per tensor.
func SameState(t *testing.T, got, want tensors.Dict, tol float64) {
	t.Helper()
	if !slices.Equal(got.Names(), want.Names()) {
		t.Fatalf("state names differ:\n got %v\nwant %v", got.Names(), want.Names())
	}
	for _, name := range want.Names() {
		w, g := want[name], got[name]
		if g.DType != w.DType || !slices.Equal(g.Shape, w.Shape) || !slices.Equal(g.I64, w.I64) {
			t.Fatalf("%s: %s %v %v, want %s %v %v", name, g.DType, g.Shape, g.I64, w.DType, w.Shape, w.I64)
		}
		within(t, name, g.F32, w.F32, tol)
	}
}

// sigmoid is the logistic function in float64.
func sigmoid(x float32) float64 { return 1 / (1 + math.Exp(-float64(x))) }

// checkLogits requires the probabilities to be the sigmoid of the logits,
// to a float32 rounding or two.
func checkLogits(t *testing.T, name string, prob, logits []float32) {
	t.Helper()
	sameLen(t, name+" logits", logits, prob)
	var worst float64
	for i, z := range logits {
		worst = math.Max(worst, math.Abs(sigmoid(z)-float64(prob[i])))
	}
	if worst > 1e-6 || math.IsNaN(worst) {
		t.Errorf("%s: probabilities differ from the sigmoid of the logits by up to %.3g > 1e-6", name, worst)
	}
}
