package blackbox

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ctseg/ctseg/format"
	"github.com/ctseg/ctseg/internal/streamtest"
)

var (
	trainOnce sync.Once
	trainDir  string
)

// trainStreams makes, once, a phantom data set of 8 series and its
// training crops (6 series) and validation slices (2 held-out series):
// dir/train.msz and dir/val.msz.
func trainStreams(t *testing.T) string {
	trainOnce.Do(func() {
		d, err := os.MkdirTemp("", "ctseg-blackbox-train-")
		if err != nil {
			t.Fatal(err)
		}
		if r := run(t, d, nil, "mkphantom", "-q", "--out", "data", "--series", "8", "--size", "128x128x48", "--seed", "1"); r.code != 0 {
			t.Fatalf("mkphantom: %v", r)
		}
		for _, s := range [][2]string{{"train", ""}, {"val", "--val"}} {
			sh := bin + "/ctread -q --data data --split " + s[0] + " --val-stride 4 | " +
				bin + "/mkmask -q --data data | " + bin + "/crop -q " + s[1] + " -o " + s[0] + ".msz"
			if out, err := shell(d, sh); err != nil {
				t.Fatalf("%s: %v: %s", sh, err, out)
			}
		}
		trainDir = d
	})
	if trainDir == "" {
		t.Fatal("no training streams")
	}
	return trainDir
}

func shell(dir, script string) ([]byte, error) {
	cmd := exec.Command("bash", "-o", "pipefail", "-c", script)
	cmd.Dir = dir
	return cmd.CombinedOutput()
}

// metricsRows reads metrics.csv, without its seconds column.
func metricsRows(t *testing.T, path string) []string {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var rows []string
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		rows = append(rows, l[:strings.LastIndex(l, ",")])
	}
	return rows
}

// lastValRecall is the recall of the last validation row of metrics.csv.
func lastValRecall(t *testing.T, path string) float64 {
	rec := -1.0
	for _, l := range metricsRows(t, path)[1:] {
		f := strings.Split(l, ",")
		if f[1] == "val" {
			rec, _ = strconv.ParseFloat(f[5], 64)
		}
	}
	return rec
}

// TestSegtrainLearns: trained on 6 phantom series, the model finds at least
// 80 % of the nodule pixels of the 2 held-out series; and the run leaves
// every output its docs promise.
func TestSegtrainLearns(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a model: skipped in -short")
	}
	d := trainStreams(t)
	out := filepath.Join(t.TempDir(), "run")
	r := run(t, d, nil, "segtrain", "-q", "--val", "val.msz", "--augmented", "--epochs", "3", "--epoch-samples", "320",
		"--validation-cadence", "3", "--seed", "2", "--comment", "learns", "-o", out, "train.msz")
	if r.code != 0 {
		t.Fatalf("segtrain: %v", r)
	}
	if rec := lastValRecall(t, filepath.Join(out, "metrics.csv")); rec < 0.8 {
		t.Errorf("validation recall %v after 960 samples, want ≥ 0.8", rec)
	}
	for _, pat := range []string{"*_trn_seg_learns/events.out.tfevents.*", "*_val_seg_learns/events.out.tfevents.*",
		"models/seg_*_learns.960.safetensors", "models/seg_*_learns.best.safetensors", "models/seg_*_learns.last.safetensors",
		"images/trn/0_prediction_0.960.png", "images/trn/0_label_0.320.png", "images/val/0_prediction_5.960.png"} {
		if m, _ := filepath.Glob(filepath.Join(out, pat)); len(m) != 1 {
			t.Errorf("%s: %d files", pat, len(m))
		}
	}
	for _, l := range []string{"E3 val      ", "E3 val_all  ", "Saved model params to ", "SHA1: "} {
		if !bytes.Contains(r.stderr, []byte(l)) {
			t.Errorf("no %q line in the log", l)
		}
	}
}

// segtrainArgs are the settings of the resume tests: short epochs, a
// rolling checkpoint every second.
func segtrainArgs(out string) []string {
	return []string{"-q", "--val", "val.msz", "--augmented", "--epochs", "3", "--epoch-samples", "192", "--validation-cadence", "2",
		"--checkpoint-every", "1s", "-o", out, "train.msz"}
}

// TestSegtrainResume: a run killed with SIGKILL after its first checkpoint
// and resumed from it ends with the same weights and metrics as an
// unbroken run; so does one stopped by SIGTERM, which exits 143 after
// saving its state, and is resumed without --epochs.
func TestSegtrainResume(t *testing.T) {
	if testing.Short() {
		t.Skip("trains three times: skipped in -short")
	}
	d := trainStreams(t)
	tmp := t.TempDir()
	whole := filepath.Join(tmp, "whole")
	if r := run(t, d, nil, "segtrain", segtrainArgs(whole)...); r.code != 0 {
		t.Fatalf("segtrain: %v", r)
	}
	for _, sig := range []syscall.Signal{syscall.SIGKILL, syscall.SIGTERM} {
		out := filepath.Join(tmp, sig.String())
		code := interrupt(t, d, segtrainArgs(out), filepath.Join(out, "models"), sig)
		if sig == syscall.SIGTERM && code != 143 {
			t.Errorf("segtrain stopped by SIGTERM: exit %d, want 143", code)
		}
		last, _ := filepath.Glob(filepath.Join(out, "models", "*.last.safetensors"))
		if len(last) != 1 {
			t.Fatalf("%v: no last checkpoint", sig)
		}
		args := []string{"-q", "--resume", last[0], "--val", "val.msz", "--epochs", "3", "train.msz"}
		if sig == syscall.SIGTERM {
			// Without --epochs, a resumed run trains to its first run's 3.
			args = slices.Delete(args, 5, 7)
		}
		if r := run(t, d, nil, "segtrain", args...); r.code != 0 {
			t.Fatalf("resumed after %v: %v", sig, r)
		}
		if a, b := metricsRows(t, filepath.Join(whole, "metrics.csv")), metricsRows(t, filepath.Join(out, "metrics.csv")); strings.Join(a, "\n") != strings.Join(b, "\n") {
			t.Errorf("after %v and --resume, metrics.csv\n%s\nwant\n%s", sig, strings.Join(b, "\n"), strings.Join(a, "\n"))
		}
		wantW := tensorBytes(t, filepath.Join(whole, "models"))
		if got := tensorBytes(t, filepath.Join(out, "models")); !bytes.Equal(got, wantW) {
			t.Errorf("after %v and --resume, the last weights differ from an unbroken run's", sig)
		}
	}
}

// interrupt starts segtrain, sends sig once a rolling checkpoint exists and
// a moment has passed (so that it dies between checkpoints), and returns
// its exit status.
func interrupt(t *testing.T, dir string, args []string, models string, sig syscall.Signal) int {
	cmd := exec.Command(filepath.Join(bin, "segtrain"), args...)
	cmd.Dir = dir
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		if m, _ := filepath.Glob(filepath.Join(models, "*.last.safetensors")); len(m) > 0 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(1500 * time.Millisecond)
	cmd.Process.Signal(sig)
	err := cmd.Wait()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	t.Logf("segtrain ended before %v (%v): the test resumes from its last checkpoint anyway", sig, err)
	return 0
}

// tensorBytes is the tensor section of the run's last checkpoint (the
// safetensors header without its metadata, and the data).
func tensorBytes(t *testing.T, models string) []byte {
	m, _ := filepath.Glob(filepath.Join(models, "*.last.safetensors"))
	if len(m) != 1 {
		t.Fatalf("%s: %d last checkpoints", models, len(m))
	}
	b, err := os.ReadFile(m[0])
	if err != nil {
		t.Fatal(err)
	}
	n := binary.LittleEndian.Uint64(b)
	var h map[string]json.RawMessage
	if err := json.Unmarshal(b[8:8+n], &h); err != nil {
		t.Fatal(err)
	}
	delete(h, "__metadata__")
	hj, _ := json.Marshal(h)
	return append(hj, b[8+n:]...)
}

// TestSegtrainErrors: every way a user can start segtrain wrongly ends in
// one line, a non-zero exit and no run directory.
func TestSegtrainErrors(t *testing.T) {
	d := trainStreams(t)
	tmp := t.TempDir()
	empty := streamtest.Write(t, format.KindCrop)
	neg := &format.Crop{SeriesUID: "1.2.3", Shape: [3]int{7, 96, 96}, HU: make([]int16, 7*96*96), Label: make([]uint8, 96*96)}
	negatives := streamtest.Write(t, format.KindCrop, neg)
	out := filepath.Join(tmp, "run")
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"no --val", []string{"train.msz"}, []string{"--val"}},
		{"no crops", []string{"--val", "val.msz", empty}, []string{"no training crops"}},
		{"no nodule crops", []string{"--val", "val.msz", negatives}, []string{"no nodule crops", "1 non-nodule"}},
		{"missing --val", []string{"--val", "nope.msz", "train.msz"}, []string{"nope.msz"}},
		{"--val of crops", []string{"--val", "train.msz", "train.msz"}, []string{"train.msz", "slice"}},
		{"slices to train on", []string{"--val", "val.msz", "val.msz"}, []string{"val.msz", "crop"}},
		{"--device cuda", []string{"--device", "cuda", "--val", "val.msz", "train.msz"}, []string{"cuda", "ctseg_cuda"}},
		{"--batch-size 0", []string{"--batch-size", "0", "--val", "val.msz", "train.msz"}, []string{"--batch-size"}},
		{"--comment with a slash", []string{"--comment", "a/b", "--val", "val.msz", "train.msz"}, []string{"--comment"}},
		{"--resume of a PyTorch-less file", []string{"--resume", "train.msz", "--val", "val.msz", "train.msz"}, []string{"--resume"}},
		{"--resume with --seed", []string{"--resume", "x.safetensors", "--seed", "3", "--val", "val.msz", "train.msz"}, []string{"--seed", "--resume"}},
	} {
		r := run(t, d, nil, "segtrain", append([]string{"-q", "-o", out}, tc.args...)...)
		failsCleanly(t, "segtrain", r, tc.want...)
		if _, err := os.Stat(out); !os.IsNotExist(err) {
			t.Errorf("%s: left %s behind", tc.name, out)
			os.RemoveAll(out)
		}
	}
}
