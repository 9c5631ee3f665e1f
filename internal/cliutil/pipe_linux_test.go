package cliutil

import (
	"io"
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

// blockingPipe is a pipe as a shell makes it: blocking, and so not in
// Go's poller (os.Pipe's are).
func blockingPipe(t *testing.T) (r, w *os.File) {
	var fds [2]int
	if err := unix.Pipe2(fds[:], unix.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	return os.NewFile(uintptr(fds[0]), "|0"), os.NewFile(uintptr(fds[1]), "|1")
}

func TestSetupPipes(t *testing.T) {
	inR, inW := blockingPipe(t)
	outR, outW := blockingPipe(t)
	defer func(in, out *os.File) { os.Stdin, os.Stdout = in, out }(os.Stdin, os.Stdout)
	os.Stdin, os.Stdout = inR, outW
	restore := setupPipes()

	for _, f := range []*os.File{inR, outW} {
		fd := rawFd(f)
		if size, err := unix.FcntlInt(uintptr(fd), unix.F_GETPIPE_SZ, 0); err != nil || size < 64<<10 {
			t.Errorf("%s: pipe size %d, %v", f.Name(), size, err)
		} else {
			t.Logf("%s: pipe size %d", f.Name(), size)
		}
		if fl, _ := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0); fl&unix.O_NONBLOCK == 0 {
			t.Errorf("%s: not non-blocking", f.Name())
		}
	}
	// The replaced files read and write through Go's poller.
	go func() {
		inW.Write([]byte("ping"))
		inW.Close()
	}()
	got, err := io.ReadAll(os.Stdin)
	if err != nil || string(got) != "ping" {
		t.Errorf("stdin read %q, %v", got, err)
	}
	go func() {
		os.Stdout.Write([]byte("pong"))
		os.Stdout.Close()
	}()
	if got, err := io.ReadAll(outR); err != nil || string(got) != "pong" {
		t.Errorf("stdout wrote %q, %v", got, err)
	}

	restore()
	fd := rawFd(inR)
	if fl, _ := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0); fl&unix.O_NONBLOCK != 0 {
		t.Error("stdin still non-blocking after restore")
	}
}

func TestSetupPipesLeavesFiles(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "in")
	if err != nil {
		t.Fatal(err)
	}
	defer func(in *os.File) { os.Stdin = in }(os.Stdin)
	os.Stdin = f
	setupPipes()()
	if os.Stdin != f {
		t.Error("a regular file on stdin was replaced")
	}
}
