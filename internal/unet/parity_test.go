package unet

import (
	"math"
	"strings"
	"testing"

	"github.com/ctseg/ctseg/internal/safetensors"
	"github.com/ctseg/ctseg/internal/tensors"
)

// The fixture comes from tools/pytorch/make_parity_fixtures.py (PyTorch
// 1.13, the book's UNetWrapper); see that script for its contents.
const parityFixture = "testdata/parity.safetensors"

// relErr is max|got−want| / max|want|: the error relative to the tensor's
// scale, which stays meaningful for elements near zero.
func relErr(got []float32, want []float32) float64 {
	var d, s float64
	for i := range want {
		d = math.Max(d, math.Abs(float64(got[i])-float64(want[i])))
		s = math.Max(s, math.Abs(float64(want[i])))
	}
	if s == 0 {
		return d
	}
	return d / s
}

// prefixed returns the tensors of d under prefix, with the prefix removed.
func prefixed(d tensors.Dict, prefix string) tensors.Dict {
	out := tensors.Dict{}
	for k, v := range d {
		if strings.HasPrefix(k, prefix) {
			out[strings.TrimPrefix(k, prefix)] = v
		}
	}
	return out
}

func loadFixture(t *testing.T) tensors.Dict {
	t.Helper()
	d, _, err := safetensors.ReadFile(parityFixture)
	if err != nil {
		t.Fatalf("reading %s: %v", parityFixture, err)
	}
	return d
}

func fixtureBatch(t *testing.T, d tensors.Dict, i string) Batch {
	x, l := d["input."+i], d["label."+i]
	if len(x.Shape) != 4 {
		t.Fatalf("fixture input.%s: shape %v", i, x.Shape)
	}
	return Batch{N: x.Shape[0], H: x.Shape[2], W: x.Shape[3], Input: x.F32, Label: l.F32}
}

// checkF64 compares got with PyTorch's float32 result want. It passes when
// they agree to tol, or else when got is within f64tol (or twice PyTorch
// float32's own error, if larger) of PyTorch's float64 result ref, the
// exact answer: float32 rounding in gradients that are
// nearly zero moves Adam's first, sign-like steps (about lr·g/(|g|+ε)), so
// a few weights differ between any two float32 implementations. On this
// fixture PyTorch's own float32 run is up to 1.9e-4 (relative) away from
// its float64 run after 3 steps. It returns the relative error against want.
func checkF64(t *testing.T, name string, got, want, ref []float32, tol, f64tol float64) float64 {
	t.Helper()
	e := relErr(got, want)
	if e <= tol {
		return e
	}
	goErr, torchErr := relErr(got, ref), relErr(want, ref)
	if goErr > math.Max(f64tol, 2*torchErr) || math.IsNaN(goErr) {
		t.Errorf("%s: relative error %.3g vs PyTorch float32 > %.0g, and %.3g > %.0g vs float64 (PyTorch float32: %.3g)",
			name, e, tol, goErr, f64tol, torchErr)
	} else {
		t.Logf("%s: %.3g vs PyTorch float32; vs float64: Go %.3g, PyTorch float32 %.3g", name, e, goErr, torchErr)
	}
	return e
}

// countOver returns how many elements of got differ from want by more than
// tol·max|want|.
func countOver(got, want []float32, tol float64) int {
	var s float64
	for _, v := range want {
		s = math.Max(s, math.Abs(float64(v)))
	}
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

// check compares one tensor and fails above tol.
func check(t *testing.T, name string, got, want []float32, tol float64) float64 {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", name, len(got), len(want))
	}
	e := relErr(got, want)
	if e > tol || math.IsNaN(e) {
		t.Errorf("%s: relative error %.3g > %.0g", name, e, tol)
	}
	return e
}

func TestParityWithPyTorch(t *testing.T) {
	fx := loadFixture(t)
	m, err := New(BookConfig)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.LoadStateDict(prefixed(fx, "init.")); err != nil {
		t.Fatal(err)
	}
	e := NewCPU(m, DefaultAdam, 2)

	// Step 1: training-mode output, loss and every gradient.
	b0 := fixtureBatch(t, fx, "0")
	grads, prob, loss, err := e.forwardBackward(b0)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("train output: rel err %.3g", checkF64(t, "train.output", prob, fx["train.output"].F32, fx["f64.train.output"].F32, 1e-5, 1e-5))
	wantLoss := float64(fx["train.loss"].F32[0])
	if d := math.Abs(loss.Total-wantLoss) / math.Abs(wantLoss); d > 1e-5 {
		t.Errorf("loss %v, PyTorch %v (rel %.3g)", loss.Total, wantLoss, d)
	} else {
		t.Logf("loss %.7f vs PyTorch %.7f: rel err %.3g", loss.Total, wantLoss, d)
	}
	for i, v := range fx["train.dice_loss"].F32 {
		if math.Abs(loss.Dice[i]-float64(v)) > 1e-5 {
			t.Errorf("dice loss of sample %d: %v, PyTorch %v", i, loss.Dice[i], v)
		}
	}
	worst, worstName := 0.0, ""
	for _, p := range m.Params() {
		want, ok := fx["grad."+p.Name]
		if !ok {
			t.Fatalf("fixture has no grad.%s", p.Name)
		}
		if e := check(t, "grad "+p.Name, grads[p.Name], want.F32, 1e-4); e > worst {
			worst, worstName = e, p.Name
		}
	}
	t.Logf("gradients: worst rel err %.3g (%s)", worst, worstName)
	if err := e.adam.Step(grads); err != nil {
		t.Fatal(err)
	}

	// Steps 2 and 3, then the whole state against PyTorch's.
	for _, i := range []string{"1", "2"} {
		if _, err := e.TrainStep(fixtureBatch(t, fx, i)); err != nil {
			t.Fatal(err)
		}
	}
	want3, ref3 := prefixed(fx, "step3."), prefixed(fx, "f64.step3.")
	got3 := e.StateDict()
	worst, worstName = 0, ""
	var all, allWant []float32
	goOver, torchOver := 0, 0
	for _, en := range m.Entries {
		w := want3[en.Name]
		if en.Kind == NumBatches {
			if en.I64[0] != w.I64[0] {
				t.Errorf("%s = %d, PyTorch %d", en.Name, en.I64[0], w.I64[0])
			}
			continue
		}
		all, allWant = append(all, en.F32...), append(allWant, w.F32...)
		goOver += countOver(en.F32, w.F32, 1e-5)
		torchOver += countOver(w.F32, ref3[en.Name].F32, 1e-5)
		if e := checkF64(t, "after 3 steps "+en.Name, en.F32, w.F32, ref3[en.Name].F32, 1e-5, 3e-4); e > worst {
			worst, worstName = e, en.Name
		}
	}
	// Go may disagree with PyTorch float32 (beyond 1e-5 of a tensor's scale)
	// no more often than PyTorch float32 disagrees with float64.
	if goOver > torchOver {
		t.Errorf("after 3 steps %d values differ from PyTorch float32 by > 1e-5 relative; PyTorch float32 vs float64: %d", goOver, torchOver)
	} else {
		t.Logf("after 3 steps %d of %d values differ from PyTorch float32 by > 1e-5 relative; PyTorch float32 vs float64: %d", goOver, len(all), torchOver)
	}
	if e := l2Rel(all, allWant); e > 1e-5 {
		t.Errorf("all weights and buffers after 3 steps: ‖Δ‖/‖w‖ = %.3g > 1e-5", e)
	} else {
		t.Logf("all weights and buffers after 3 steps: ‖Δ‖/‖w‖ = %.3g", e)
	}
	t.Logf("weights and buffers after 3 Adam steps: worst rel err %.3g (%s)", worst, worstName)
	worst = 0
	for _, p := range m.Params() {
		for _, k := range []string{"exp_avg.", "exp_avg_sq."} {
			name := OptimizerPrefix + k + p.Name
			worst = math.Max(worst, check(t, name, got3[name].F32, want3[name].F32, 1e-4))
		}
		if s := got3[OptimizerPrefix+"step."+p.Name].I64[0]; s != 3 {
			t.Errorf("adam step of %s = %d, want 3", p.Name, s)
		}
	}
	t.Logf("adam moments after 3 steps: worst rel err %.3g", worst)

	// Evaluation mode with the running statistics.
	out, err := e.Predict(b0.Input, b0.N, b0.H, b0.W)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("eval output: rel err %.3g", checkF64(t, "eval.output", out, fx["eval.output"].F32, fx["f64.eval.output"].F32, 1e-5, 1e-5))
}
