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
	setupPipes()
	if os.Stdin == inR || os.Stdout == outW {
		t.Fatal("pipes not replaced")
	}
	for _, f := range []*os.File{inR, outW} {
		fd := rawFd(f)
		if size, err := unix.FcntlInt(uintptr(fd), unix.F_GETPIPE_SZ, 0); err != nil || size < 64<<10 {
			t.Errorf("%s: pipe size %d, %v", f.Name(), size, err)
		} else {
			t.Logf("%s: pipe size %d", f.Name(), size)
		}
		// The shared description stays blocking: other holders of the
		// same end must not see O_NONBLOCK.
		if fl, _ := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0); fl&unix.O_NONBLOCK != 0 {
			t.Errorf("%s: the original descriptor became non-blocking", f.Name())
		}
	}
	for _, f := range []*os.File{os.Stdin, os.Stdout} {
		if fl, _ := unix.FcntlInt(uintptr(rawFd(f)), unix.F_GETFL, 0); fl&unix.O_NONBLOCK == 0 {
			t.Errorf("%s: the new file is not non-blocking", f.Name())
		}
	}
	// The new files read and write the same pipes, through Go's poller.
	go func() {
		inW.Write([]byte("ping"))
		inW.Close()
	}()
	buf := make([]byte, 4)
	if _, err := io.ReadFull(os.Stdin, buf); err != nil || string(buf) != "ping" {
		t.Errorf("stdin read %q, %v", buf, err)
	}
	if _, err := os.Stdout.Write([]byte("pong")); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(outR, buf); err != nil || string(buf) != "pong" {
		t.Errorf("stdout wrote %q, %v", buf, err)
	}
	os.Stdin.Close()
	os.Stdout.Close()
}

func TestSetupPipesLeavesFiles(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "in")
	if err != nil {
		t.Fatal(err)
	}
	defer func(in *os.File) { os.Stdin = in }(os.Stdin)
	os.Stdin = f
	setupPipes()
	if os.Stdin != f {
		t.Error("a regular file on stdin was replaced")
	}
}
