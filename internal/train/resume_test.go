package train

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"

	"github.com/ctseg/ctseg/internal/augment"
	"github.com/ctseg/ctseg/internal/checkpoint"
	"github.com/ctseg/ctseg/internal/tensors"
)

// metricsRows is a run's metrics.csv without the seconds column.
func metricsRows(t *testing.T, out string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(out, "metrics.csv"))
	if err != nil {
		t.Fatal(err)
	}
	var rows []string
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		rows = append(rows, l[:strings.LastIndex(l, ",")])
	}
	return strings.Join(rows, "\n")
}

// lastTensors are the tensors of a run's last checkpoint.
func lastTensors(t *testing.T, out string) tensors.Dict {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(out, "models", "*.last.safetensors"))
	if err != nil || len(m) != 1 {
		t.Fatalf("last checkpoint: %v %v", m, err)
	}
	d, _, err := checkpoint.Load(m[0])
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestStopAndResume: a run stopped by a signal after its first step and
// resumed (for epoch 1, then on to epoch 2, stopped and resumed again)
// ends with the metrics and the weights and Adam state of a run never
// stopped; a resume with nothing left to train touches nothing, one with
// other crops is refused, and one without --epochs trains to the epochs
// its checkpoint was written for.
func TestStopAndResume(t *testing.T) {
	if testing.Short() {
		t.Skip("trains the U-Net")
	}
	val, crops := testData(t)
	opts := func(out string) Options {
		o := testOptions(out, val)
		o.Epochs, o.Augment = 2, augment.Augmented
		return o
	}
	straight := filepath.Join(t.TempDir(), "straight")
	if err := Run(opts(straight), &crops, func() string { return "crops" }); err != nil {
		t.Fatal(err)
	}

	stopped := filepath.Join(t.TempDir(), "stopped")
	o := opts(stopped)
	stop := make(chan os.Signal, 1)
	stop <- syscall.SIGTERM // taken after the first step
	o.Stop = stop
	_, crops = testData(t)
	err := Run(o, &crops, func() string { return "crops" })
	var st *Stopped
	if !errors.As(err, &st) || !strings.Contains(err.Error(), "stopped by SIGTERM") {
		t.Fatalf("stopped run: %v", err)
	}
	r := Options{Val: val, Resume: st.Last, Epochs: 1, CheckpointEvery: o.CheckpointEvery, Device: "cpu", Quiet: true}
	_, crops = testData(t)
	if err := Run(r, &crops, func() string { return "crops" }); err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	r.Log = &log
	_, crops = testData(t)
	if err := Run(r, &crops, func() string { return "crops" }); err != nil || !strings.Contains(log.String(), "Nothing to train") {
		t.Fatalf("a resume with nothing to train: %v, log %q", err, log.String())
	}
	r.Epochs = 2
	_, crops = testData(t)
	fewer := crops[1:]
	if err := Run(r, &fewer, func() string { return "crops" }); err == nil || !strings.Contains(err.Error(), "same crop streams") {
		t.Fatalf("a resume with other crops: %v", err)
	}
	// Stopped again in epoch 2, then resumed without --epochs: the run
	// goes on to the 2 epochs its checkpoint was written for.
	stop <- syscall.SIGTERM
	r.Stop = stop
	_, crops = testData(t)
	if err := Run(r, &crops, func() string { return "crops" }); !errors.As(err, &st) {
		t.Fatalf("stopped resume: %v", err)
	}
	r.Stop, r.Epochs = nil, 0
	_, crops = testData(t)
	if err := Run(r, &crops, func() string { return "crops" }); err != nil {
		t.Fatal(err)
	}

	if a, b := metricsRows(t, straight), metricsRows(t, stopped); a != b {
		t.Errorf("metrics:\n%s\nresumed:\n%s", a, b)
	}
	a, b := lastTensors(t, straight), lastTensors(t, stopped)
	if len(a) != len(b) {
		t.Fatalf("%d tensors, resumed %d", len(a), len(b))
	}
	for k, v := range a {
		if !reflect.DeepEqual(v, b[k]) {
			t.Errorf("tensor %s differs after the resume", k)
		}
	}
}
