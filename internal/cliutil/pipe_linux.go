package cliutil

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// pipeSize is the capacity asked for the pipes between stages: the most
// an unprivileged process gets by default (/proc/sys/fs/pipe-max-size).
const pipeSize = 1 << 20

// replaced holds the files setupPipes replaced, for as long as the
// process runs: their finalizers would close stdin and stdout.
var replaced []*os.File

// setupPipes prepares stdin and stdout when they are pipes:
//
//   - It enlarges them from Linux's 64 KiB: a CT goes through a pipe as
//     some 65 MB compressed, and fewer wake-ups and system calls per CT
//     make a pipe between two stages cost a few per cent (BENCHMARKS.md).
//   - It reads and writes them non-blocking through Go's poller, so that a
//     goroutine waiting for the pipe parks instead of blocking a thread.
//     Blocked threads kept the runtime's monitor waking every 20 µs to
//     hand their processors on: 9,000 sleeps and 4,000 futex calls per
//     10 CTs in mkmask. O_NONBLOCK belongs to an open file description,
//     which every process holding the same end of the pipe shares (a
//     shell loop's later commands, a `tee` beside us), so it is set on a
//     description of our own: the pipe opened again through
//     /proc/self/fd. fds 0 and 1 stay as they were.
func setupPipes() {
	for _, f := range []**os.File{&os.Stdin, &os.Stdout} {
		if p := pollablePipe(*f); p != nil {
			replaced = append(replaced, *f)
			*f = p
		}
	}
}

// pollablePipe returns f's pipe, enlarged, as a new non-blocking file of
// its own; nil when f is no pipe, or already non-blocking (then Go polls
// it already), or the pipe cannot be opened again.
func pollablePipe(f *os.File) *os.File {
	fd := rawFd(f)
	var st unix.Stat_t
	if fd < 0 || unix.Fstat(fd, &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFIFO {
		return nil
	}
	unix.FcntlInt(uintptr(fd), unix.F_SETPIPE_SZ, pipeSize) // failure leaves it as it was
	fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
	if err != nil || fl&unix.O_NONBLOCK != 0 {
		return nil
	}
	nfd, err := unix.Open(fmt.Sprintf("/proc/self/fd/%d", fd), fl&unix.O_ACCMODE|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil // no /proc, or no reader on the other end yet: as it was
	}
	return os.NewFile(uintptr(nfd), f.Name()) // sees O_NONBLOCK: uses the poller
}

// rawFd is f's descriptor, -1 if it has none. (File.Fd would make it
// blocking.)
func rawFd(f *os.File) int {
	fd := -1
	if rc, err := f.SyscallConn(); err == nil {
		rc.Control(func(d uintptr) { fd = int(d) })
	}
	return fd
}
