package torchload

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/ctseg/ctseg/internal/sharedtest"
)

// BenchmarkParseBook imports the book's checkpoint (1.45 MB, legacy
// format, model and Adam state) from memory.
func BenchmarkParseBook(b *testing.B) {
	path := filepath.Join(sharedtest.Dir(b), "models", "seg_2020-01-26_19.45.12_w4d3c1-bal_1_nodupe-label_pos-d1_fn8-adam.best.state")
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Parse(data); err != nil {
			b.Fatal(err)
		}
	}
}
