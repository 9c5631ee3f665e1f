// Command tosafetensors converts a torch.save checkpoint to a safetensors
// file with ctseg's Go code (internal/torchload → internal/safetensors), for
// checking tools/pytorch/load_ctseg_checkpoint.py against the original:
//
//	go run ./internal/torchload/testdata/tosafetensors IN.state OUT.safetensors
//
// It lives under testdata because it is a test helper, not a ctseg program.
package main

import (
	"fmt"
	"os"

	"github.com/ctseg/ctseg/internal/safetensors"
	"github.com/ctseg/ctseg/internal/torchload"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: tosafetensors IN.state OUT.safetensors")
		os.Exit(2)
	}
	c, err := torchload.Load(os.Args[1])
	if err == nil {
		c.Metadata["source"] = os.Args[1]
		err = safetensors.WriteFile(os.Args[2], c.State, c.Metadata)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "tosafetensors:", err)
		os.Exit(1)
	}
	fmt.Printf("%s: %d tensors\n", os.Args[2], len(c.State))
}
