package blackbox

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// bin is the directory TestMain builds the programs into.
var bin string

// TestMain builds every program of cmd/ once, into a temporary directory.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "ctseg-blackbox-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	cmd := exec.Command("go", "build", "-o", dir+string(filepath.Separator), "github.com/ctseg/ctseg/cmd/...")
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "blackbox: building the programs:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	bin = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// result is what a program run left: its exit status and its output.
type result struct {
	code           int
	stdout, stderr []byte
}

func (r result) String() string {
	return fmt.Sprintf("exit %d, %d bytes on stdout, stderr %q", r.code, len(r.stdout), r.stderr)
}

// run runs program prog with args in dir (the test's temporary directory
// when ""), stdin as its standard input (none when nil), and a time limit.
func run(t testing.TB, dir string, stdin []byte, prog string, args ...string) result {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	cmd := exec.Command(filepath.Join(bin, prog), args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "LUNA16_DIR=")
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	cmd.WaitDelay = time.Second
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	timer := time.AfterFunc(2*time.Minute, func() { cmd.Process.Kill() })
	err := cmd.Wait()
	timer.Stop()
	res := result{stdout: out.Bytes(), stderr: errb.Bytes()}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		res.code = ee.ExitCode()
	case err != nil:
		t.Fatalf("%s %v: %v", prog, args, err)
	}
	return res
}

// failsCleanly checks the way every program must fail: a non-zero exit, no
// data on stdout, and one line on stderr that starts with the program's
// name, contains every one of want, and shows no panic or stack trace.
func failsCleanly(t testing.TB, prog string, r result, want ...string) {
	t.Helper()
	msg := string(r.stderr)
	if r.code == 0 {
		t.Errorf("%s: exit 0, want a failure (%v)", prog, r)
	}
	if len(r.stdout) != 0 {
		t.Errorf("%s: %d bytes on stdout after a failure", prog, len(r.stdout))
	}
	for _, bad := range []string{"panic", "goroutine ", "fatal error", ".go:"} {
		if strings.Contains(msg, bad) {
			t.Errorf("%s: stderr shows %q: %s", prog, bad, msg)
		}
	}
	lines := strings.Split(strings.TrimRight(msg, "\n"), "\n")
	last := lines[len(lines)-1]
	if !strings.HasPrefix(last, prog+": ") {
		t.Errorf("%s: last stderr line %q does not start with %q", prog, last, prog+": ")
	}
	for _, w := range want {
		if !strings.Contains(last, w) {
			t.Errorf("%s: error %q does not say %q", prog, last, w)
		}
	}
}
