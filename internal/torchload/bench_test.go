package torchload

import (
	"os"
	"testing"

	"github.com/ctseg/ctseg/internal/sharedtest"
)

// BenchmarkParseBook imports the book's checkpoint (1.45 MB, legacy
// format, model and Adam state) from memory.
func BenchmarkParseBook(b *testing.B) {
	path := sharedtest.ModelPath(b)
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
