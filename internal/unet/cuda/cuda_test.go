package cuda

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"math/rand/v2"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/ctseg/ctseg/internal/augment"
	"github.com/ctseg/ctseg/internal/unet"
	"github.com/ctseg/ctseg/internal/unet/unettest"
)

// kernels are every kernel the engine launches.
var kernels = []string{
	"adam", "augment_labels", "augment_windows", "avgpool", "avgpool_bwd", "bn_apply", "bn_bwd_apply", "bn_bwd_final",
	"bn_eval_affine", "bn_stats_final", "chan_partial", "conv1x1", "conv1x1_wgrad", "conv3x3", "conv3x3_wgrad",
	"convt_bwd_data", "convt_fwd", "convt_wgrad", "flip_weights", "loss_grad", "loss_partial", "loss_sample",
	"loss_total", "sigmoid", "sum_d", "sum_f",
}

// TestPTXIsFromKernels: the embedded PTX was made from kernels.cu as it
// is (tools/cuda/build_ptx.sh records the source's hash).
func TestPTXIsFromKernels(t *testing.T) {
	src, err := os.ReadFile("kernels.cu")
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.Sum256(src)
	if got := hex.EncodeToString(h[:]); got != ptxSourceSHA256() {
		t.Errorf("kernels.cu (sha256 %s) changed since its PTX was made (%s): run tools/cuda/build_ptx.sh", got, ptxSourceSHA256())
	}
}

// TestPTXWellFormed: each embedded module is 64-bit PTX for its target
// with an .entry, and only those, of every kernel the engine launches.
func TestPTXWellFormed(t *testing.T) {
	for _, cc := range [][2]int{{9, 0}, {8, 0}} {
		ptx, target, err := PTX(cc[0], cc[1])
		if err != nil {
			t.Fatal(err)
		}
		for _, re := range []string{`(?m)^\.version \d+\.\d+$`, `(?m)^\.target ` + target + `$`, `(?m)^\.address_size 64$`} {
			if !regexp.MustCompile(re).MatchString(ptx) {
				t.Errorf("%s: no %s", target, re)
			}
		}
		entries, err := Entries(ptx)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for k := range entries {
			names = append(names, k)
		}
		slices.Sort(names)
		if !slices.Equal(names, kernels) {
			t.Errorf("%s entries %v, want %v", target, names, kernels)
		}
		// Barrier-free, as the emulator and the determinism claim need.
		for _, banned := range []string{"bar.sync", "atom.", "red.", "shfl.", ".shared"} {
			if strings.Contains(ptx, banned) {
				t.Errorf("%s uses %s", target, banned)
			}
		}
	}
}

func TestPTXTarget(t *testing.T) {
	for _, c := range []struct{ major, minor int }{{9, 0}, {10, 0}, {12, 0}, {8, 0}, {8, 6}, {8, 9}, {7, 5}} {
		_, got, err := PTX(c.major, c.minor)
		want := map[int]string{12: "sm_90", 10: "sm_90", 9: "sm_90", 8: "sm_80"}[c.major]
		if got != want || (err != nil) != (want == "") {
			t.Errorf("%d.%d: %q %v, want %q", c.major, c.minor, got, err, want)
		}
	}
}

func bookLayout(t testing.TB, c unet.Config) *layout {
	m, err := unet.New(c)
	if err != nil {
		t.Fatal(err)
	}
	l, err := newLayout(m)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestLayout(t *testing.T) {
	l := bookLayout(t, unet.BookConfig)
	if l.nParams != 118271 {
		t.Errorf("%d parameters, want 118,271", l.nParams)
	}
	if len(l.bns) != 11 || l.nBufs != 2*l.nEval || l.nEval != 7+2*(16+32+64)+2*(32+16) {
		t.Errorf("%d BatchNorms, %d running values, %d channels", len(l.bns), l.nBufs, l.nEval)
	}
	next := 0
	for _, p := range l.params {
		if l.off[p.Name] != next {
			t.Fatalf("%s at %d, want %d", p.Name, l.off[p.Name], next)
		}
		next += len(p.F32)
	}
	if l.last.cin != 16 || l.up[1].a.conv.cin != 32 || l.up[0].t.cin != 64 || l.top().conv.name != "unet.up_path.1.conv_block.block.3" {
		t.Errorf("layout: last %+v, up %+v", l.last, l.up)
	}
}

func TestLaunchHelpers(t *testing.T) {
	for n, want := range map[int][]int{1: {1}, 32: {1}, 33: {2, 1}, 4096: {128, 4, 1}} {
		if got := sumLevels(n); !slices.Equal(got, want) {
			t.Errorf("sumLevels(%d) = %v, want %v", n, got, want)
		}
	}
	if split(1, maxChanSplit) != 1 || split(1<<30, maxChanSplit) != maxChanSplit || split(256, 1024) != 2 {
		t.Error("split")
	}
	for _, c := range []struct{ n, h, w int }{{1, 8, 8}, {16, 64, 64}, {256, 64, 64}, {16, 512, 512}, {1024, 512, 512}} {
		for _, nw := range []int64{4, 36864} {
			rows := wgradRows(c.n, c.h, c.w, nw)
			bytes := int64(c.n) * int64(ceilDiv(c.h, rows)) * nw * 4
			if rows < 1 || rows > c.h || (bytes > partCap && rows < c.h) || (rows*c.w > 2*wgradPixels && bytes <= partCap/2) {
				t.Errorf("wgradRows(%+v, %d) = %d: %d bytes of partials", c, nw, rows, bytes)
			}
		}
	}
	if b, th := (Launch{Kernel: "conv3x3", Threads: 129}).Grid(); b != 2 || th != 128 {
		t.Errorf("conv3x3 grid %d×%d", b, th)
	}
}

func TestPlanner(t *testing.T) {
	p := newPlanner(64)
	p.buf("a", 10)
	p.buf("b", 300)
	p.buf("a", 20)
	p.place(0x1000)
	if p.regs["a"].bytes != 20 || p.regs["b"].off != 256 || p.size != 256+512 {
		t.Errorf("plan %+v %+v size %d", *p.regs["a"], *p.regs["b"], p.size)
	}
	if got := p.buf("b", 300); got != 0x1100 || p.err != nil {
		t.Errorf("b at %#x, %v", uint64(got), p.err)
	}
	if p.buf("c", 1); p.err == nil {
		t.Error("an unplanned buffer was handed out")
	}
}

// shapes are the configurations and batches the program tests compile.
var shapes = []struct {
	cfg     unet.Config
	n, h, w int
}{
	{unet.BookConfig, 4, 32, 32}, {unet.BookConfig, 2, 20, 12}, {unet.BookConfig, 2, 4, 4},
	{unet.BookConfig, 16, 64, 64}, {unet.BookConfig, 256, 64, 64}, {unet.BookConfig, 1, 512, 512},
	{unet.Config{InChannels: 1, NClasses: 2, Depth: 1, WF: 2}, 3, 5, 7},
	{unet.Config{InChannels: 3, NClasses: 3, Depth: 2, WF: 0}, 2, 6, 10},
	{unet.Config{InChannels: 2, NClasses: 1, Depth: 4, WF: 5}, 2, 16, 24},
}

// TestProgramsFitPTX compiles the training and evaluation programs of many
// shapes and checks every launch against the PTX and its pointers against
// the memory plan.
func TestProgramsFitPTX(t *testing.T) {
	ptx, _, _ := PTX(9, 0)
	entries, err := Entries(ptx)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range shapes {
		l := bookLayout(t, s.cfg)
		sp := newPlanner(0)
		planState(sp, l)
		sp.place(1 << 32)
		st := planState(sp, l)
		for _, train := range []bool{true, false} {
			p, err := compile(l, st, s.n, s.h, s.w, train, 0, nil)
			if err != nil {
				t.Fatalf("%+v %d×%d×%d train %v: %v", s.cfg, s.n, s.h, s.w, train, err)
			}
			inside := func(a Ptr) bool {
				return a == 0 || (a >= p.mem && int64(a-p.mem) < p.size) || (a >= sp.base && int64(a-sp.base) < sp.size)
			}
			for _, ln := range p.launches {
				if err := checkLaunch(entries, ln); err != nil {
					t.Fatal(err)
				}
				if b, _ := ln.Grid(); ln.Threads < 1 || b > maxGrid {
					t.Errorf("%s: %d threads", ln.Kernel, ln.Threads)
				}
				for i, a := range ln.Args {
					if a.Kind == KPtr && !inside(Ptr(a.Bits)) {
						t.Errorf("%s argument %d: %#x outside the plan", ln.Kernel, i, a.Bits)
					}
				}
			}
		}
	}
}

// TestMemoryPlan logs the device memory of the book's model per batch
// and bounds it.
func TestMemoryPlan(t *testing.T) {
	l := bookLayout(t, unet.BookConfig)
	sp := newPlanner(0)
	planState(sp, l)
	sp.place(0)
	t.Logf("model arrays: %.2f MiB", float64(sp.size)/(1<<20))
	for _, c := range []struct {
		n, h, w int
		train   bool
		maxMiB  float64
	}{{16, 64, 64, true, 256}, {64, 64, 64, true, 1024}, {256, 64, 64, true, 4096}, {1, 512, 512, false, 256}, {16, 512, 512, false, 4096}} {
		p, err := compile(l, statePtrs{}, c.n, c.h, c.w, c.train, 0, nil)
		if err != nil {
			t.Fatal(err)
		}
		mib := float64(p.size) / (1 << 20)
		t.Logf("%d×%d×%d train %v: %.1f MiB in %d buffers, %d launches", c.n, c.h, c.w, c.train, mib, len(p.regions), len(p.launches))
		if mib > c.maxMiB {
			t.Errorf("%d×%d×%d: %.0f MiB > %.0f", c.n, c.h, c.w, mib, c.maxMiB)
		}
	}
	if _, err := compile(l, statePtrs{}, 4096, 512, 512, true, 0, nil); err == nil || !strings.Contains(err.Error(), "batch too large") {
		t.Errorf("a 4096×512×512 batch: %v", err)
	}
}

func newFakeEngine(t *testing.T, seed uint64) (*Engine, *fakeDevice) {
	m, err := unet.New(unet.BookConfig)
	if err != nil {
		t.Fatal(err)
	}
	m.Init(rand.New(rand.NewPCG(seed, 1)))
	d := newFakeDevice(t)
	e, err := New(d, m, unet.DefaultAdam)
	if err != nil {
		t.Fatal(err)
	}
	return e, d
}

// TestEngineHostSide runs the engine's calls on the fake device: what is
// launched, kept and refused, without numbers.
func TestEngineHostSide(t *testing.T) {
	e, d := newFakeEngine(t, 1)
	before, err := e.StateDict()
	if err != nil {
		t.Fatal(err)
	}
	b := unettest.SyntheticBatch(rand.New(rand.NewPCG(2, 2)), 2, 7, 16, 16)
	if _, err := e.TrainStep(b); err != nil {
		t.Fatal(err)
	}
	aug := unet.Batch{N: 2, H: 16, W: 16, Windows: make([]int16, 2*7*256), Labels: make([]uint8, 2*256),
		Transform: augment.Identity, NoiseKey: augment.Key{Seed: 1, Step: 2}, NoiseSigma: 25}
	_, tr, err := e.TraceStep(aug)
	if err != nil {
		t.Fatal(err)
	}
	if len(tr.Grads) != len(e.l.params) || len(tr.Prob) != 2*256 {
		t.Errorf("trace: %d gradients, %d probabilities", len(tr.Grads), len(tr.Prob))
	}
	if _, _, err := e.Augment(aug); err != nil {
		t.Fatal(err)
	}
	p, err := e.Predict(unet.Batch{N: 1, H: 32, W: 8, Input: make([]float32, 7*256)})
	if err != nil || len(p.Prob) != 256 || len(p.Logits) != 256 {
		t.Fatalf("predict: %v", err)
	}
	if got := d.kernelsLaunched(); !slices.Equal(got, kernels) {
		t.Errorf("launched %v, want %v", got, kernels)
	}
	if d.launches["adam"] != 2 {
		t.Errorf("%d Adam launches for 2 steps", d.launches["adam"])
	}
	// The state dict keeps the weights (the fake device runs no kernel)
	// and counts the steps.
	after, err := e.StateDict()
	if err != nil {
		t.Fatal(err)
	}
	for name, w := range before {
		switch {
		case strings.HasPrefix(name, unet.OptimizerPrefix+"step."):
			if got := after[name].I64[0]; got != 2 {
				t.Errorf("%s = %d after 2 steps", name, got)
			}
		case strings.HasSuffix(name, "num_batches_tracked"):
			if got := after[name].I64[0]; got != 2 {
				t.Errorf("%s = %d after 2 steps", name, got)
			}
		case !slices.Equal(w.F32, after[name].F32):
			t.Errorf("%s changed on a device that computes nothing", name)
		}
	}
	// Loading a dict whose parameters took different step counts makes
	// Adam step each parameter on its own.
	after[unet.OptimizerPrefix+"step.unet.last.bias"].I64[0] = 7
	if err := e.LoadStateDict(after); err != nil {
		t.Fatal(err)
	}
	if ls := e.adamLaunches(); len(ls) != len(e.l.params) {
		t.Errorf("%d Adam launches for mixed step counts", len(ls))
	}
	// A dict without optimizer state resets Adam.
	if err := e.LoadStateDict(e.model.StateDict()); err != nil {
		t.Fatal(err)
	}
	if ls := e.adamLaunches(); len(ls) != 1 || e.steps[0] != 0 {
		t.Errorf("after loading weights only: %d Adam launches, step %d", len(ls), e.steps[0])
	}
	// A new shape replaces the program of its mode.
	if _, err := e.Predict(unet.Batch{N: 2, H: 8, W: 8, Input: make([]float32, 2*7*64)}); err != nil {
		t.Fatal(err)
	}
	if len(d.mem) != 3 {
		t.Errorf("%d allocations live (want model, training and evaluation)", len(d.mem))
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if len(d.mem) != 0 || !d.closed {
		t.Errorf("after Close: %d allocations live, device closed %v", len(d.mem), d.closed)
	}
	if _, err := e.TrainStep(b); !errors.Is(err, unet.ErrClosed) {
		t.Errorf("TrainStep after Close: %v", err)
	}
	if e.Close() != nil || e.Config() != unet.BookConfig || e.Info().Name != "cuda" || !e.Info().Deterministic {
		t.Error("Close, Config or Info after Close")
	}
}

// TestEngineRefuses: the checks of unet.Batch come first, and a refused
// state dict changes nothing.
func TestEngineRefuses(t *testing.T) {
	e, d := newFakeEngine(t, 3)
	defer e.Close()
	if _, err := e.Predict(unet.Batch{N: 1, H: 30, W: 32, Input: make([]float32, 7*30*32)}); err == nil {
		t.Error("height 30 accepted")
	}
	if _, _, err := e.Augment(unettest.SyntheticBatch(rand.New(rand.NewPCG(1, 1)), 2, 7, 8, 8)); err == nil {
		t.Error("Augment of a float batch accepted")
	}
	sd, _ := e.StateDict()
	delete(sd, unet.OptimizerPrefix+"exp_avg.unet.last.weight")
	sd["unet.last.bias"].F32[0] = 42
	if err := e.LoadStateDict(sd); err == nil || !strings.Contains(err.Error(), "exp_avg.unet.last.weight") {
		t.Errorf("missing moment: %v", err)
	}
	now, _ := e.StateDict()
	if now["unet.last.bias"].F32[0] == 42 {
		t.Error("a refused dict was loaded")
	}
	if len(d.launches) != 0 {
		t.Errorf("launches for refused calls: %v", d.launches)
	}
}
