package unet

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/ctseg/ctseg/internal/tensors"
)

func TestParamCountAndNames(t *testing.T) {
	m, err := New(BookConfig)
	if err != nil {
		t.Fatal(err)
	}
	if n := m.ParamCount(); n != 118271 {
		t.Errorf("trainable parameters: %d, want 118,271 (SPEC)", n)
	}
	// The PyTorch fixture's state_dict has exactly these names and shapes.
	fx := prefixed(loadFixture(t), "init.")
	sd := m.StateDict()
	if len(sd) != len(fx) {
		t.Errorf("state dict has %d entries, PyTorch's %d", len(sd), len(fx))
	}
	for name, want := range fx {
		got, ok := sd[name]
		if !ok || !sameShape(got.Shape, want.Shape) || got.DType != want.DType {
			t.Errorf("%s: got %v %v, PyTorch %v %v", name, got.DType, got.Shape, want.DType, want.Shape)
		}
	}
}

// TestInitStatistics checks the book's init: Kaiming normal with fan_out
// (std √2/√fan_out; fan_out = shape[0]·k·k, in_channels for the transposed
// conv) and biases ~ Normal(−b, b), b = 1/√fan_out.
func TestInitStatistics(t *testing.T) {
	m, _ := New(BookConfig)
	m.Init(rand.New(rand.NewPCG(11, 12)))
	var fanOut int
	for _, e := range m.Entries {
		mean, std := meanStd(e.F32)
		switch e.Kind {
		case ConvWeight, ConvTWeight:
			fanOut = e.Shape[0] * e.Shape[2] * e.Shape[3]
			want := math.Sqrt(2.0 / float64(fanOut))
			// Standard error of a sample std is about std/√(2n).
			tol := 4 * want / math.Sqrt(2*float64(len(e.F32)))
			if math.Abs(std-want) > tol || math.Abs(mean) > 4*want/math.Sqrt(float64(len(e.F32))) {
				t.Errorf("%s: mean %.4g std %.4g, want 0 and %.4g (±%.2g)", e.Name, mean, std, want, tol)
			}
		case Bias:
			b := 1 / math.Sqrt(float64(fanOut))
			if len(e.F32) >= 16 && math.Abs(mean+b) > 4*b/math.Sqrt(float64(len(e.F32))) {
				t.Errorf("%s: mean %.4g, want %.4g", e.Name, mean, -b)
			}
		case BNWeight, RunningVar:
			if mean != 1 || std != 0 {
				t.Errorf("%s: want all ones", e.Name)
			}
		case BNBias, RunningMean:
			if mean != 0 || std != 0 {
				t.Errorf("%s: want all zeros", e.Name)
			}
		}
	}
	// Pooled over all biases, normalised by b: mean −1, std 1.
	var z []float32
	for i, e := range m.Entries {
		if e.Kind == Bias {
			w := m.Entries[i-1]
			b := 1 / math.Sqrt(float64(w.Shape[0]*w.Shape[2]*w.Shape[3]))
			for _, v := range e.F32 {
				z = append(z, float32(float64(v)/b))
			}
		}
	}
	if mean, std := meanStd(z); math.Abs(mean+1) > 0.2 || math.Abs(std-1) > 0.2 {
		t.Errorf("biases/b: mean %.3f std %.3f over %d, want −1 and 1", mean, std, len(z))
	}
}

func meanStd(s []float32) (float64, float64) {
	var m, v float64
	for _, x := range s {
		m += float64(x)
	}
	m /= float64(len(s))
	for _, x := range s {
		v += (float64(x) - m) * (float64(x) - m)
	}
	return m, math.Sqrt(v / float64(len(s)))
}

func TestLoadStateDictErrors(t *testing.T) {
	m, _ := New(BookConfig)
	sd := m.StateDict()
	delete(sd, "unet.last.bias")
	if err := m.LoadStateDict(sd); err == nil || !strings.Contains(err.Error(), "unet.last.bias") {
		t.Errorf("missing name: %v", err)
	}
	sd = m.StateDict()
	sd["unet.down_path.0.block.0.weight"] = tensors.Tensor{DType: tensors.F32, Shape: []int{16, 7, 3}, F32: make([]float32, 336)}
	if err := m.LoadStateDict(sd); err == nil || !strings.Contains(err.Error(), "down_path.0.block.0.weight") {
		t.Errorf("wrong shape: %v", err)
	}
	sd = m.StateDict()
	sd["input_batchnorm.num_batches_tracked"] = tensors.Tensor{DType: tensors.F32, Shape: []int{}, F32: []float32{42}}
	if err := m.LoadStateDict(sd); err != nil || m.Entry("input_batchnorm.num_batches_tracked").I64[0] != 42 {
		t.Errorf("float num_batches_tracked: %v", err)
	}
	e := NewCPU(m, DefaultAdam, 1)
	sd = e.StateDict()
	delete(sd, OptimizerPrefix+"step.unet.last.weight")
	if err := e.LoadStateDict(sd); err == nil || !strings.Contains(err.Error(), "step.unet.last.weight") {
		t.Errorf("missing optimizer step: %v", err)
	}
	if _, err := e.Predict(make([]float32, 7*30*32), 1, 30, 32); err == nil {
		t.Error("height 30 accepted")
	}
	if _, err := e.Predict(make([]float32, 10), 1, 32, 32); err == nil {
		t.Error("short input accepted")
	}
	if _, err := e.TrainStep(Batch{N: 1, H: 4, W: 4, Input: make([]float32, 7*16), Label: make([]float32, 16)}); err == nil {
		t.Error("training on one value per channel accepted")
	}
}

// TestLoss checks the loss against a hand computation and its gradient
// against central differences.
func TestLoss(t *testing.T) {
	p := []float32{0.9, 0.2, 0.6, 0.1, 0.5, 0.5, 0.5, 0.5}
	l := []float32{1, 0, 1, 0, 0, 0, 0, 0}
	got := ComputeLoss(p, l, 2)
	// Sample 0: Σp = 1.8, Σl = 2, Σpl = 1.5 → dice 1−4/4.8; fn: Σpl=1.5 → 1−4/4.5.
	// Sample 1: Σp = 2, Σl = 0 → dice 1−1/3; fn: 1−1/1 = 0.
	want := ((1-4/4.8)+(1-1/3.0))/2 + 8*((1-4/4.5)+0)/2
	if math.Abs(got.Total-want) > 1e-6 || math.Abs(got.Dice[0]-(1-4/4.8)) > 1e-6 {
		t.Fatalf("loss %v %v, want %v", got.Total, got.Dice, want)
	}
	dp := make([]float32, len(p))
	LossGrad(p, l, 2, 1, dp)
	for i := range p {
		const h = 1e-3
		q := append([]float32(nil), p...)
		q[i] += h
		a := ComputeLoss(q, l, 2).Total
		q[i] -= 2 * h
		b := ComputeLoss(q, l, 2).Total
		if num := (a - b) / (2 * h); math.Abs(num-float64(dp[i])) > 1e-4 {
			t.Errorf("dloss/dp[%d] = %v, numerical %v", i, dp[i], num)
		}
	}
	m := CountPixels([]float32{0.7, 0.5, 0.2, 0.9}, []float32{1, 1, 0, 0}, 0.5)
	if m != (Metrics{TP: 1, FN: 1, FP: 1}) {
		t.Errorf("metrics %+v", m)
	}
}

// TestAdamFirstStep: after one step m̂ = g and v̂ = g², so every weight
// moves by −lr·g/(|g|+ε), and the state holds 0.1·g, 0.001·g² and step 1.
func TestAdamFirstStep(t *testing.T) {
	m, _ := New(Config{InChannels: 1, NClasses: 1, Depth: 1, WF: 0})
	m.Init(rand.New(rand.NewPCG(1, 2)))
	before := m.StateDict()
	a := NewAdam(m, DefaultAdam)
	grads := map[string][]float32{}
	for _, p := range m.Params() {
		g := make([]float32, len(p.F32))
		for i := range g {
			g[i] = float32(i%5-2) * 0.01
		}
		grads[p.Name] = g
	}
	if err := a.Step(grads); err != nil {
		t.Fatal(err)
	}
	st := a.StateDict()
	for _, p := range m.Params() {
		for i, g := range grads[p.Name] {
			want := float64(before[p.Name].F32[i]) - 1e-3*float64(g)/(math.Abs(float64(g))+1e-8)
			if math.Abs(float64(p.F32[i])-want) > 1e-7 {
				t.Fatalf("%s[%d] = %v, want %v", p.Name, i, p.F32[i], want)
			}
			if ea := st[OptimizerPrefix+"exp_avg."+p.Name].F32[i]; math.Abs(float64(ea)-0.1*float64(g)) > 1e-9 {
				t.Fatalf("exp_avg %v, want %v", ea, 0.1*g)
			}
		}
		if s := st[OptimizerPrefix+"step."+p.Name].I64[0]; s != 1 {
			t.Fatalf("step %d", s)
		}
	}
}

// TestResume: training 2 steps, saving through the state-dict form,
// loading into a fresh model and engine and training 2 more gives the same
// bits as 4 uninterrupted steps.
func TestResume(t *testing.T) {
	if testing.Short() {
		t.Skip("trains 8 steps")
	}
	fx := loadFixture(t)
	batches := []Batch{fixtureBatch(t, fx, "0"), fixtureBatch(t, fx, "1"), fixtureBatch(t, fx, "2"), fixtureBatch(t, fx, "0")}
	fresh := func() *CPU {
		m, _ := New(BookConfig)
		m.Init(rand.New(rand.NewPCG(5, 6)))
		return NewCPU(m, DefaultAdam, 2)
	}
	run := func(e *CPU, bs []Batch) {
		for _, b := range bs {
			if _, err := e.TrainStep(b); err != nil {
				t.Fatal(err)
			}
		}
	}
	whole := fresh()
	run(whole, batches)

	first := fresh()
	run(first, batches[:2])
	saved := first.StateDict()
	second := fresh()
	// A different initial state proves everything comes from the dict.
	second.model.Init(rand.New(rand.NewPCG(9, 9)))
	if err := second.LoadStateDict(saved); err != nil {
		t.Fatal(err)
	}
	run(second, batches[2:])

	want, got := whole.StateDict(), second.StateDict()
	for _, name := range want.Names() {
		w, g := want[name], got[name]
		for i := range w.F32 {
			if math.Float32bits(w.F32[i]) != math.Float32bits(g.F32[i]) {
				t.Fatalf("%s[%d]: resumed %v, uninterrupted %v", name, i, g.F32[i], w.F32[i])
			}
		}
		for i := range w.I64 {
			if w.I64[i] != g.I64[i] {
				t.Fatalf("%s: resumed %v, uninterrupted %v", name, g.I64, w.I64)
			}
		}
	}
}

// TestWorkerCountInvariance: the kernels' reductions do not depend on the
// number of goroutines, so 1 and 3 workers give the same bits.
func TestWorkerCountInvariance(t *testing.T) {
	fx := loadFixture(t)
	b := fixtureBatch(t, fx, "0")
	var out [2]tensors.Dict
	for i, k := range []int{1, 3} {
		m, _ := New(BookConfig)
		m.Init(rand.New(rand.NewPCG(5, 6)))
		e := NewCPU(m, DefaultAdam, k)
		if _, err := e.TrainStep(b); err != nil {
			t.Fatal(err)
		}
		out[i] = e.StateDict()
	}
	for name, w := range out[0] {
		for j := range w.F32 {
			if math.Float32bits(w.F32[j]) != math.Float32bits(out[1][name].F32[j]) {
				t.Fatalf("%s[%d] differs between 1 and 3 workers", name, j)
			}
		}
	}
}

// TestPredictShapes: evaluation is per sample, so a batch gives the same
// bits as its samples one by one, across graph rebuilds for new shapes.
func TestPredictShapes(t *testing.T) {
	m, _ := New(BookConfig)
	m.Init(rand.New(rand.NewPCG(7, 7)))
	e := NewCPU(m, DefaultAdam, 2)
	x, _ := benchInput(rand.New(rand.NewPCG(8, 8)), 2, 7, 20, 12)
	both, err := e.Predict(x, 2, 20, 12)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Predict(x[:7*16*16], 1, 16, 16); err != nil {
		t.Fatal(err)
	}
	for s := 0; s < 2; s++ {
		one, err := e.Predict(x[s*7*240:(s+1)*7*240], 1, 20, 12)
		if err != nil {
			t.Fatal(err)
		}
		for i, v := range one {
			if math.Float32bits(v) != math.Float32bits(both[s*240+i]) {
				t.Fatalf("sample %d pixel %d: alone %v, in batch %v", s, i, v, both[s*240+i])
			}
		}
	}
}
