package unet

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/ctseg/ctseg/internal/tensors"
)

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
	if math.Abs(got.Total-want) > 1e-6 || math.Abs(got.DiceLoss[0]-(1-4/4.8)) > 1e-6 {
		t.Fatalf("loss %v %v, want %v", got.Total, got.DiceLoss, want)
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
