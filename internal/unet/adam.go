package unet

import (
	"fmt"
	"math"
	"slices"

	"github.com/ctseg/ctseg/internal/tensors"
)

// Optimizer-state names in a state dict: OptimizerPrefix + "exp_avg." +
// parameter name, and likewise exp_avg_sq and step.
const OptimizerPrefix = "optimizer."

// AdamConfig holds torch.optim.Adam's hyper-parameters (no weight decay,
// no amsgrad).
type AdamConfig struct {
	LR, Beta1, Beta2, Eps float64
}

// DefaultAdam is torch.optim.Adam's default, the book's optimiser.
var DefaultAdam = AdamConfig{LR: 1e-3, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8}

// Adam is torch.optim.Adam (PyTorch 1.13, single-tensor path) over the
// model's trainable parameters, with per-parameter moments and step count.
type Adam struct {
	Config AdamConfig
	params []*Entry
	expAvg map[string][]float32
	expSq  map[string][]float32
	step   map[string]int64
}

// NewAdam returns an optimiser with zero state for m's parameters.
func NewAdam(m *Model, c AdamConfig) *Adam {
	a := &Adam{Config: c, params: m.Params(), expAvg: map[string][]float32{},
		expSq: map[string][]float32{}, step: map[string]int64{}}
	for _, p := range a.params {
		a.expAvg[p.Name] = make([]float32, len(p.F32))
		a.expSq[p.Name] = make([]float32, len(p.F32))
	}
	return a
}

// Step updates every parameter with its gradient grads[name]:
//
//	m = β1·m + (1−β1)·g;  v = β2·v + (1−β2)·g²
//	p −= lr/(1−β1^t) · m / (√v/√(1−β2^t) + ε)
//
// in float32 element arithmetic with the scalar factors in float64, the
// order PyTorch's single-tensor Adam uses.
func (a *Adam) Step(grads map[string][]float32) error {
	for _, p := range a.params {
		if len(grads[p.Name]) != len(p.F32) {
			return fmt.Errorf("adam: gradient of %q has %d elements, want %d", p.Name, len(grads[p.Name]), len(p.F32))
		}
	}
	c := a.Config
	b1, b2 := float32(c.Beta1), float32(c.Beta2)
	omb1, omb2 := float32(1-c.Beta1), float32(1-c.Beta2)
	eps := float32(c.Eps)
	for _, p := range a.params {
		a.step[p.Name]++
		t := float64(a.step[p.Name])
		stepSize := float32(-c.LR / (1 - math.Pow(c.Beta1, t)))
		bc2 := float32(math.Sqrt(1 - math.Pow(c.Beta2, t)))
		m, v, g := a.expAvg[p.Name], a.expSq[p.Name], grads[p.Name]
		for i, gi := range g {
			m[i] = m[i]*b1 + gi*omb1
			v[i] = v[i]*b2 + omb2*gi*gi
			den := sqrt32(v[i])/bc2 + eps
			p.F32[i] += stepSize * m[i] / den
		}
	}
	return nil
}

func sqrt32(x float32) float32 { return float32(math.Sqrt(float64(x))) }

// StateDict returns the moments and step counts as OptimizerPrefix +
// "exp_avg.<param>", "exp_avg_sq.<param>" (F32, the parameter's shape) and
// "step.<param>" (I64 scalar).
func (a *Adam) StateDict() tensors.Dict {
	d := tensors.Dict{}
	for _, p := range a.params {
		shape := append([]int(nil), p.Shape...)
		d[OptimizerPrefix+"exp_avg."+p.Name] = tensors.Tensor{DType: tensors.F32, Shape: shape,
			F32: append([]float32(nil), a.expAvg[p.Name]...)}
		d[OptimizerPrefix+"exp_avg_sq."+p.Name] = tensors.Tensor{DType: tensors.F32, Shape: shape,
			F32: append([]float32(nil), a.expSq[p.Name]...)}
		d[OptimizerPrefix+"step."+p.Name] = tensors.Tensor{DType: tensors.I64, Shape: []int{},
			I64: []int64{a.step[p.Name]}}
	}
	return d
}

// HasState reports whether d holds any optimizer state.
func HasState(d tensors.Dict) bool {
	for k := range d {
		if len(k) > len(OptimizerPrefix) && k[:len(OptimizerPrefix)] == OptimizerPrefix {
			return true
		}
	}
	return false
}

// LoadStateDict restores the state written by StateDict; every name must
// be present with the right shape. On error the state is unchanged.
func (a *Adam) LoadStateDict(d tensors.Dict) error {
	for _, p := range a.params {
		for _, k := range []string{"exp_avg.", "exp_avg_sq."} {
			t, ok := d[OptimizerPrefix+k+p.Name]
			if !ok || t.DType != tensors.F32 || len(t.F32) != len(p.F32) || !slices.Equal(t.Shape, p.Shape) {
				return fmt.Errorf("adam: state %q missing or not F32 %v", OptimizerPrefix+k+p.Name, p.Shape)
			}
		}
		t, ok := d[OptimizerPrefix+"step."+p.Name]
		if !ok || t.DType != tensors.I64 || len(t.I64) != 1 || t.I64[0] < 0 {
			return fmt.Errorf("adam: state %q missing or not one non-negative int64", OptimizerPrefix+"step."+p.Name)
		}
	}
	for _, p := range a.params {
		copy(a.expAvg[p.Name], d[OptimizerPrefix+"exp_avg."+p.Name].F32)
		copy(a.expSq[p.Name], d[OptimizerPrefix+"exp_avg_sq."+p.Name].F32)
		a.step[p.Name] = d[OptimizerPrefix+"step."+p.Name].I64[0]
	}
	return nil
}
