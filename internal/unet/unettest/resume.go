package unettest

import (
	"errors"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/ctseg/ctseg/internal/tensors"
	"github.com/ctseg/ctseg/internal/unet"
)

// tolerance is how exactly two arrangements of one computation must
// agree: bit for bit on a deterministic engine.
func tolerance(e unet.Engine) float64 {
	if in := e.Info(); !in.Deterministic {
		return in.Tolerance
	}
	return 0
}

func trainOn(t *testing.T, e unet.Engine, bs []unet.Batch) {
	t.Helper()
	for _, b := range bs {
		if _, err := e.TrainStep(b); err != nil {
			t.Fatal(err)
		}
	}
}

// StateDict is e.StateDict, failing t on error.
func StateDict(t testing.TB, e unet.Engine) tensors.Dict {
	t.Helper()
	d, err := e.StateDict()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// resume: training 2 steps, saving through the state-dict form, loading
// into a fresh engine and training 2 more gives what 4 uninterrupted
// steps give.
func resume(t *testing.T, newEngine NewEngine) {
	if testing.Short() {
		t.Skip("trains 8 steps")
	}
	fx := Fixture(t)
	batches := []unet.Batch{FixtureBatch(t, fx, 0), FixtureBatch(t, fx, 1), FixtureBatch(t, fx, 2), FixtureBatch(t, fx, 0)}
	whole := open(t, newEngine, 5)
	trainOn(t, whole, batches)

	first := open(t, newEngine, 5)
	trainOn(t, first, batches[:2])
	// A different initial state proves everything comes from the dict.
	second := open(t, newEngine, 9)
	if err := second.LoadStateDict(StateDict(t, first)); err != nil {
		t.Fatal(err)
	}
	trainOn(t, second, batches[2:])
	SameState(t, StateDict(t, second), StateDict(t, whole), tolerance(whole))
}

// predictBatching: evaluation is per sample, so a batch gives what its
// samples give one by one, across graph rebuilds for new shapes.
func predictBatching(t *testing.T, newEngine NewEngine) {
	e := open(t, newEngine, 7)
	const n, c, h, w = 2, 7, 20, 12
	b := SyntheticBatch(rand.New(rand.NewPCG(8, 8)), n, c, h, w)
	both, err := e.Predict(b)
	if err != nil {
		t.Fatal(err)
	}
	checkLogits(t, "batch", both.Prob, both.Logits)
	if _, err := e.Predict(unet.Batch{N: 1, H: 16, W: 16, Input: b.Input[:c*16*16]}); err != nil {
		t.Fatal(err)
	}
	for s := 0; s < n; s++ {
		one, err := e.Predict(unet.Batch{N: 1, H: h, W: w, Input: b.Input[s*c*h*w : (s+1)*c*h*w]})
		if err != nil {
			t.Fatal(err)
		}
		part := func(x []float32) []float32 { return x[s*h*w : (s+1)*h*w] }
		within(t, "probabilities of sample alone vs in batch", one.Prob, part(both.Prob), tolerance(e))
		within(t, "logits of sample alone vs in batch", one.Logits, part(both.Logits), tolerance(e))
	}
}

// errorCases: batches that do not fit and state dicts that do not load
// are refused, and a refused dict changes nothing.
func errorCases(t *testing.T, newEngine NewEngine) {
	e := open(t, newEngine, 3)
	before := StateDict(t, e)
	sd := StateDict(t, e)
	delete(sd, unet.OptimizerPrefix+"step.unet.last.weight")
	for name := range sd {
		if strings.HasSuffix(name, ".weight") && !strings.HasPrefix(name, unet.OptimizerPrefix) {
			sd[name].F32[0]++ // would show if the load went half way
		}
	}
	if err := e.LoadStateDict(sd); err == nil || !strings.Contains(err.Error(), "step.unet.last.weight") {
		t.Errorf("missing optimizer step: %v", err)
	}
	SameState(t, StateDict(t, e), before, 0)
	refuse := func(what string, err error) {
		t.Helper()
		if err == nil {
			t.Errorf("%s accepted", what)
		}
	}
	_, err := e.Predict(unet.Batch{N: 1, H: 30, W: 32, Input: make([]float32, 7*30*32)})
	refuse("height 30", err)
	_, err = e.Predict(unet.Batch{N: 1, H: 32, W: 32, Input: make([]float32, 10)})
	refuse("short input", err)
	_, err = e.TrainStep(unet.Batch{N: 1, H: 4, W: 4, Input: make([]float32, 7*16), Label: make([]float32, 16)})
	refuse("training on one value per channel", err)
	_, err = e.TrainStep(unet.Batch{N: 2, H: 4, W: 4, Input: make([]float32, 2*7*16), Label: make([]float32, 16)})
	refuse("short label", err)
}

// closeCase: after Close the engine refuses work with ErrClosed, and a
// second Close does nothing.
func closeCase(t *testing.T, newEngine NewEngine) {
	e := open(t, newEngine, 3)
	b := SyntheticBatch(rand.New(rand.NewPCG(4, 4)), 2, 7, 8, 8)
	if _, err := e.TrainStep(b); err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	_, errTrain := e.TrainStep(b)
	_, errPredict := e.Predict(b)
	_, errState := e.StateDict()
	errLoad := e.LoadStateDict(tensors.Dict{})
	for i, err := range []error{errTrain, errPredict, errState, errLoad} {
		if !errors.Is(err, unet.ErrClosed) {
			t.Errorf("%s after Close: %v, want ErrClosed", []string{"TrainStep", "Predict", "StateDict", "LoadStateDict"}[i], err)
		}
	}
	if e.Config() != unet.BookConfig {
		t.Errorf("config after Close: %+v", e.Config())
	}
}
