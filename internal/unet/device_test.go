package unet

import (
	"strings"
	"testing"
)

func TestNewEngine(t *testing.T) {
	m, err := New(BookConfig)
	if err != nil {
		t.Fatal(err)
	}
	e, err := NewEngine("cpu", m, DefaultAdam, 1)
	if err != nil || e.Info().Name != "cpu" {
		t.Fatalf("cpu: %v", err)
	}
	e.Close()
	if _, err := NewEngine("cuda", m, DefaultAdam, 1); err == nil || !strings.Contains(err.Error(), "ctseg_cuda") {
		t.Errorf("cuda in a CPU build: %v", err)
	}
}
