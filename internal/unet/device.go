package unet

import (
	"fmt"
	"sort"
	"strings"
	"sync"
)

// NewEngineFunc builds an engine over m (whose weights it starts from) with
// a fresh Adam; threads bounds its CPU threads (0: all).
type NewEngineFunc func(m *Model, opt AdamConfig, threads int) (Engine, error)

var (
	devicesMu sync.Mutex
	devices   = map[string]NewEngineFunc{
		"cpu": func(m *Model, opt AdamConfig, threads int) (Engine, error) { return NewCPU(m, opt, threads), nil },
	}
)

// RegisterDevice makes an engine available under a device name
// (segtrain's and segeval's --device). An engine built under a build tag
// (the CUDA engine: ctseg_cuda) registers itself from its init.
func RegisterDevice(name string, f NewEngineFunc) {
	devicesMu.Lock()
	defer devicesMu.Unlock()
	devices[name] = f
}

// NewEngine builds the engine of a device. A device this binary was not
// built with is a one-line error that says which ones it has.
func NewEngine(device string, m *Model, opt AdamConfig, threads int) (Engine, error) {
	devicesMu.Lock()
	f, ok := devices[device]
	var names []string
	for n := range devices {
		names = append(names, n)
	}
	devicesMu.Unlock()
	if !ok {
		sort.Strings(names)
		hint := ""
		if device == "cuda" {
			hint = " (the CUDA engine is in binaries built with -tags ctseg_cuda)"
		}
		return nil, fmt.Errorf("device %q: this binary has %s%s", device, strings.Join(names, ", "), hint)
	}
	return f(m, opt, threads)
}
