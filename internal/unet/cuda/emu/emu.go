//go:build ctseg_cudaemu && cgo

// Package emu is a CPU emulator of the CUDA engine's device: the kernels
// of ../kernels.cu compiled by the C++ compiler and run thread by thread,
// with host memory for device memory. It lets the whole engine (memory
// plan, programs, kernels, argument passing) run the conformance suite
// without a GPU:
//
//	go test -tags ctseg_cudaemu ./internal/unet/cuda/emu
//
// Memory comes filled with 0xFF (NaN), and the engine leaves guard bytes
// after every buffer and checks them after each call, so a kernel that
// reads what nothing wrote or writes past its buffer fails the tests.
// What it cannot show is what only a GPU does: the PTX, the driver, and
// nvcc's floating-point contractions (within the suite's tolerances).
package emu

/*
#cgo CXXFLAGS: -std=c++17 -O2
#include <stdint.h>
#include <stdlib.h>
int emu_launch(const char* name, long long blocks, unsigned threads, const uint64_t* args, int nargs, int workers);
int emu_nargs(const char* name);
int emu_kernels(void);
const char* emu_kernel(int i);
void* emu_alloc(size_t n);
void emu_free(void* p);
void emu_copy(void* dst, const void* src, size_t n);
*/
import "C"

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"unsafe"

	"github.com/ctseg/ctseg/internal/unet/cuda"
)

// Device is the emulated device. Its zero value is not usable: use New.
type Device struct {
	mu      sync.Mutex
	live    map[cuda.Ptr]alloc
	names   map[string]*C.char
	workers int
}

type alloc struct {
	p    unsafe.Pointer
	size int64
}

var _ cuda.Device = (*Device)(nil)

// New returns an emulated device that runs blocks on GOMAXPROCS threads.
func New() *Device {
	return &Device{live: map[cuda.Ptr]alloc{}, names: map[string]*C.char{}, workers: runtime.GOMAXPROCS(0)}
}

// Name is "CPU emulator".
func (d *Device) Name() string { return "CPU emulator" }

// GuardBytes asks the engine for 256 guard bytes after every buffer.
func (d *Device) GuardBytes() int64 { return 256 }

// Alloc returns n bytes of 0xFF.
func (d *Device) Alloc(n int64) (cuda.Ptr, error) {
	p := C.emu_alloc(C.size_t(max(n, 1)))
	if p == nil {
		return 0, fmt.Errorf("emu: out of memory for %d bytes", n)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	ptr := cuda.Ptr(uintptr(p))
	d.live[ptr] = alloc{p, n}
	return ptr, nil
}

// Free releases memory from Alloc.
func (d *Device) Free(p cuda.Ptr) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	q, ok := d.live[p]
	if !ok {
		return fmt.Errorf("emu: freeing %#x, which is not allocated", uint64(p))
	}
	delete(d.live, p)
	C.emu_free(q.p)
	return nil
}

// addr returns the host pointer of device address p, whose n bytes must
// lie in one allocation.
func (d *Device) addr(p cuda.Ptr, n int) unsafe.Pointer {
	d.mu.Lock()
	defer d.mu.Unlock()
	for base, a := range d.live {
		if p >= base && int64(p-base)+int64(n) <= a.size {
			return unsafe.Add(a.p, uintptr(p-base))
		}
	}
	return nil
}

// Upload copies src to device address dst.
func (d *Device) Upload(dst cuda.Ptr, src []byte) error {
	if len(src) == 0 {
		return nil
	}
	a := d.addr(dst, len(src))
	if a == nil {
		return errors.New("emu: upload to an address outside every allocation")
	}
	C.emu_copy(a, unsafe.Pointer(&src[0]), C.size_t(len(src)))
	return nil
}

// Download copies device address src to dst.
func (d *Device) Download(dst []byte, src cuda.Ptr) error {
	if len(dst) == 0 {
		return nil
	}
	a := d.addr(src, len(dst))
	if a == nil {
		return errors.New("emu: download from an address outside every allocation")
	}
	C.emu_copy(unsafe.Pointer(&dst[0]), a, C.size_t(len(dst)))
	return nil
}

// Launch runs a kernel to completion.
func (d *Device) Launch(kernel string, blocks, threads int, args []cuda.Arg) error {
	d.mu.Lock()
	name, ok := d.names[kernel]
	if !ok {
		name = C.CString(kernel)
		d.names[kernel] = name
	}
	d.mu.Unlock()
	slots := make([]uint64, max(len(args), 1))
	for i, a := range args {
		slots[i] = a.Bits
	}
	switch C.emu_launch(name, C.longlong(blocks), C.uint(threads), (*C.uint64_t)(unsafe.Pointer(&slots[0])), C.int(len(args)), C.int(d.workers)) {
	case -1:
		return fmt.Errorf("emu: no kernel %q", kernel)
	case -2:
		return fmt.Errorf("emu: %s takes %d arguments, not %d", kernel, int(C.emu_nargs(name)), len(args))
	}
	return nil
}

// MemInfo reports nothing useful: host memory is not the emulator's.
func (d *Device) MemInfo() (free, total int64, err error) { return 0, 0, nil }

// Close does nothing: the engine frees its memory itself.
func (d *Device) Close() error { return nil }

// Kernels lists the emulator's kernels with their argument counts.
func Kernels() map[string]int {
	out := map[string]int{}
	for i := range int(C.emu_kernels()) {
		name := C.GoString(C.emu_kernel(C.int(i)))
		cs := C.CString(name)
		out[name] = int(C.emu_nargs(cs))
		C.free(unsafe.Pointer(cs))
	}
	return out
}
