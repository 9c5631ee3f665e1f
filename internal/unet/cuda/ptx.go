package cuda

import (
	"embed"
	"fmt"
	"regexp"
	"strings"
)

//go:generate ../../../tools/cuda/build_ptx.sh

// The kernels as PTX, made from kernels.cu by tools/cuda/build_ptx.sh and
// committed, one module per target: the driver JIT-compiles the newest one
// the GPU runs.
//
//go:embed ptx/kernels_sm80.ptx ptx/kernels_sm90.ptx ptx/kernels.cu.sha256
var ptxFiles embed.FS

// ptxTargets are the embedded targets, newest first.
var ptxTargets = []struct{ major, minor int }{{9, 0}, {8, 0}}

// PTX returns the embedded module for a GPU of compute capability
// major.minor, and its target: the newest not newer than the GPU.
func PTX(major, minor int) (ptx, target string, err error) {
	for _, t := range ptxTargets {
		if major > t.major || major == t.major && minor >= t.minor {
			target = fmt.Sprintf("sm_%d%d", t.major, t.minor)
			b, err := ptxFiles.ReadFile(fmt.Sprintf("ptx/kernels_sm%d%d.ptx", t.major, t.minor))
			return string(b), target, err
		}
	}
	return "", "", fmt.Errorf("compute capability %d.%d: the CUDA engine needs 8.0 (Ampere) or newer", major, minor)
}

// ptxSourceSHA256 is the SHA-256 of the kernels.cu the PTX was made from.
func ptxSourceSHA256() string {
	b, _ := ptxFiles.ReadFile("ptx/kernels.cu.sha256")
	return strings.TrimSpace(string(b))
}

var (
	entryRE = regexp.MustCompile(`(?m)^\.visible \.entry (\w+)\(([^)]*)\)`)
	paramRE = regexp.MustCompile(`\.param \.(\w+) (\w+)`)
)

// Entries returns the kernels of a PTX module with the PTX types of their
// parameters, in order (u64, u32, f32, f64…).
func Entries(ptx string) (map[string][]string, error) {
	out := map[string][]string{}
	for _, m := range entryRE.FindAllStringSubmatch(ptx, -1) {
		var types []string
		for _, p := range paramRE.FindAllStringSubmatch(m[2], -1) {
			types = append(types, p[1])
		}
		out[m[1]] = types
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no .entry in the PTX")
	}
	return out, nil
}

// checkLaunch reports a launch whose kernel is not in entries or whose
// arguments do not fit its parameters.
func checkLaunch(entries map[string][]string, l Launch) error {
	params, ok := entries[l.Kernel]
	if !ok {
		return fmt.Errorf("kernel %s is not in the PTX", l.Kernel)
	}
	if len(params) != len(l.Args) {
		return fmt.Errorf("%s takes %d arguments, the launch passes %d", l.Kernel, len(params), len(l.Args))
	}
	for i, a := range l.Args {
		want := params[i]
		if want == "s32" || want == "b32" {
			want = "u32"
		}
		if want == "s64" || want == "b64" {
			want = "u64"
		}
		if a.Kind.PTX() != want {
			return fmt.Errorf("%s argument %d: the launch passes %s, the kernel takes %s", l.Kernel, i, a.Kind.PTX(), params[i])
		}
	}
	return nil
}
