package unettest

import (
	"math"
	"testing"

	"github.com/ctseg/ctseg/internal/tensors"
	"github.com/ctseg/ctseg/internal/unet"
)

// parity runs the fixture's three Adam steps from PyTorch's initial state
// and compares each stage with PyTorch 1.13's float32 result, falling
// back on its float64 result where float32 rounding alone explains a
// difference (see checkF64).
func parity(t *testing.T, newEngine NewEngine) {
	fx := Fixture(t)
	e := open(t, newEngine, 1)
	if err := e.LoadStateDict(Prefixed(fx, "init.")); err != nil {
		t.Fatal(err)
	}
	b0 := FixtureBatch(t, fx, 0)
	firstStep(t, fx, e, b0)
	for _, i := range []int{1, 2} {
		if _, err := e.TrainStep(FixtureBatch(t, fx, i)); err != nil {
			t.Fatal(err)
		}
	}
	sd, err := e.StateDict()
	if err != nil {
		t.Fatal(err)
	}
	checkWeights(t, fx, sd)
	checkMoments(t, fx, sd)
	checkEval(t, fx, e, b0)
}

// firstStep takes the first step, traced where the engine allows it, and
// checks what it measured.
func firstStep(t *testing.T, fx tensors.Dict, e unet.Engine, b unet.Batch) {
	tr, ok := e.(unet.Tracer)
	if !ok {
		t.Log("the engine is no unet.Tracer: training output and gradients not checked")
		res, err := e.TrainStep(b)
		if err != nil {
			t.Fatal(err)
		}
		checkResult(t, fx, res, b)
		return
	}
	res, trace, err := tr.TraceStep(b)
	if err != nil {
		t.Fatal(err)
	}
	checkResult(t, fx, res, b)
	t.Logf("train output: rel err %.3g",
		checkF64(t, "train.output", trace.Prob, fx["train.output"].F32, fx["f64.train.output"].F32, 1e-5, 1e-5))
	if m := unet.CountPixels(trace.Prob, b.Label, 0.5); m != res.Metrics {
		t.Errorf("step metrics %+v, but the traced output gives %+v", res.Metrics, m)
	}
	checkGrads(t, fx, trace.Grads)
}

// checkResult compares the first step's loss, per-sample Dice losses and
// pixel counts with PyTorch's. Pixel counts may differ only where
// PyTorch's output is within 1e-4 of the threshold.
func checkResult(t *testing.T, fx tensors.Dict, res unet.StepResult, b unet.Batch) {
	want := float64(fx["train.loss"].F32[0])
	if d := math.Abs(res.Loss-want) / math.Abs(want); d > 1e-5 {
		t.Errorf("loss %v, PyTorch %v (rel %.3g)", res.Loss, want, d)
	} else {
		t.Logf("loss %.7f vs PyTorch %.7f: rel err %.3g", res.Loss, want, d)
	}
	dice := fx["train.dice_loss"].F32
	if len(res.DiceLoss) != len(dice) {
		t.Fatalf("%d Dice losses, want %d", len(res.DiceLoss), len(dice))
	}
	for i, v := range dice {
		if math.Abs(res.DiceLoss[i]-float64(v)) > 1e-5 {
			t.Errorf("Dice loss of sample %d: %v, PyTorch %v", i, res.DiceLoss[i], v)
		}
	}
	p := fx["train.output"].F32
	m, near := unet.CountPixels(p, b.Label, 0.5), int64(0)
	for _, v := range p {
		if math.Abs(float64(v)-0.5) <= 1e-4 {
			near++
		}
	}
	got := res.Metrics
	if abs(got.TP-m.TP) > near || abs(got.FN-m.FN) > near || abs(got.FP-m.FP) > near {
		t.Errorf("pixel counts %+v, PyTorch's output gives %+v (%d pixels near 0.5)", got, m, near)
	}
}

func abs(x int64) int64 { return max(x, -x) }

// checkGrads compares every parameter's gradient with PyTorch's.
func checkGrads(t *testing.T, fx tensors.Dict, grads map[string][]float32) {
	want := Prefixed(fx, "grad.")
	if len(grads) != len(want) {
		t.Errorf("%d gradients, PyTorch has %d", len(grads), len(want))
	}
	worst, worstName := 0.0, ""
	for _, name := range want.Names() {
		g, ok := grads[name]
		if !ok {
			t.Errorf("no gradient of %s", name)
			continue
		}
		if e := check(t, "grad "+name, g, want[name].F32, 1e-4); e > worst {
			worst, worstName = e, name
		}
	}
	t.Logf("gradients: worst rel err %.3g (%s)", worst, worstName)
}

// checkWeights compares the weights and buffers after 3 steps with
// PyTorch's, tensor by tensor and as a whole.
func checkWeights(t *testing.T, fx tensors.Dict, sd tensors.Dict) {
	want, ref := Prefixed(fx, "step3."), Prefixed(fx, "f64.step3.")
	worst, worstName := 0.0, ""
	var all, allWant []float32
	over, torchOver := 0, 0
	for _, name := range Prefixed(fx, "init.").Names() {
		g, w := sd[name], want[name]
		if w.DType == tensors.I64 {
			if len(g.I64) != 1 || g.I64[0] != w.I64[0] {
				t.Errorf("%s = %v, PyTorch %v", name, g.I64, w.I64)
			}
			continue
		}
		if e := checkF64(t, "after 3 steps "+name, g.F32, w.F32, ref[name].F32, 1e-5, 3e-4); e > worst {
			worst, worstName = e, name
		}
		all, allWant = append(all, g.F32...), append(allWant, w.F32...)
		over += countOver(g.F32, w.F32, 1e-5)
		torchOver += countOver(w.F32, ref[name].F32, 1e-5)
	}
	// The engine may disagree with PyTorch float32 (beyond 1e-5 of a
	// tensor's scale) no more often than PyTorch float32 disagrees with
	// float64.
	if over > torchOver {
		t.Errorf("after 3 steps %d values differ from PyTorch float32 by > 1e-5 relative; PyTorch float32 vs float64: %d", over, torchOver)
	} else {
		t.Logf("after 3 steps %d of %d values differ from PyTorch float32 by > 1e-5 relative; PyTorch float32 vs float64: %d", over, len(all), torchOver)
	}
	if e := l2Rel(all, allWant); e > 1e-5 {
		t.Errorf("all weights and buffers after 3 steps: ‖Δ‖/‖w‖ = %.3g > 1e-5", e)
	} else {
		t.Logf("all weights and buffers after 3 steps: ‖Δ‖/‖w‖ = %.3g", e)
	}
	t.Logf("weights and buffers after 3 Adam steps: worst rel err %.3g (%s)", worst, worstName)
}

// checkMoments compares Adam's moments and step counts after 3 steps.
func checkMoments(t *testing.T, fx tensors.Dict, sd tensors.Dict) {
	want := Prefixed(fx, "step3.")
	worst := 0.0
	for _, p := range Prefixed(fx, "grad.").Names() {
		for _, k := range []string{"exp_avg.", "exp_avg_sq."} {
			name := unet.OptimizerPrefix + k + p
			worst = math.Max(worst, check(t, name, sd[name].F32, want[name].F32, 1e-4))
		}
		if s := sd[unet.OptimizerPrefix+"step."+p].I64; len(s) != 1 || s[0] != 3 {
			t.Errorf("adam step of %s = %v, want 3", p, s)
		}
	}
	t.Logf("adam moments after 3 steps: worst rel err %.3g", worst)
}

// checkEval compares evaluation mode (running statistics) with PyTorch's:
// the probabilities, and the logits, which the fixture does not hold but
// its float64 probabilities determine.
func checkEval(t *testing.T, fx tensors.Dict, e unet.Engine, b unet.Batch) {
	out, err := e.Predict(unet.Batch{N: b.N, H: b.H, W: b.W, Input: b.Input})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("eval output: rel err %.3g",
		checkF64(t, "eval.output", out.Prob, fx["eval.output"].F32, fx["f64.eval.output"].F32, 1e-5, 1e-5))
	checkLogits(t, "eval", out.Prob, out.Logits)
	got, want := logitsOf(out.Logits, fx["f64.eval.output"].F32)
	t.Logf("eval logits: rel err %.3g vs PyTorch float64 at %d of %d pixels", check(t, "eval logits", got, want, 1e-5), len(got), len(out.Logits))
}

// logitsOf returns the logits and the logits of PyTorch's float64
// probabilities p64 where those are at most 0.999: above, float32
// storage has rounded away the logit.
func logitsOf(logits, p64 []float32) (got, want []float32) {
	for i, p := range p64 {
		if p <= 0.999 && i < len(logits) {
			q := float64(p)
			got, want = append(got, logits[i]), append(want, float32(math.Log(q)-math.Log1p(-q)))
		}
	}
	return got, want
}
