package cuda

import (
	"fmt"
	"math"
	"unsafe"
)

// Ptr is a device address; 0 passes "none" to a kernel's optional pointer.
type Ptr uint64

// Device is what the engine needs of a GPU: memory, copies and kernel
// launches in one stream, in order. The CUDA driver implements it in the
// ctseg_cuda build (driver.go), the CPU emulator of package emu in the
// ctseg_cudaemu build; everything above it is plain Go.
type Device interface {
	// Name describes the device for logs, e.g. "NVIDIA H200 (sm_90)".
	Name() string
	// Alloc returns n bytes of device memory, 256-byte aligned.
	Alloc(n int64) (Ptr, error)
	// Free releases memory from Alloc.
	Free(p Ptr) error
	// Upload copies src to dst; it may return before the copy ends but
	// never reads src after returning.
	Upload(dst Ptr, src []byte) error
	// Download copies src to dst after every launch before it has ended.
	Download(dst []byte, src Ptr) error
	// Launch queues kernel on a 1-D grid of blocks×threads with the
	// arguments' bits (see Arg). A kernel's errors may surface at a later
	// Launch or Download.
	Launch(kernel string, blocks, threads int, args []Arg) error
	// MemInfo reports the device's free and total memory in bytes.
	MemInfo() (free, total int64, err error)
	// Close releases the device; the engine frees its memory first.
	Close() error
}

// ArgKind is the PTX type of a kernel argument.
type ArgKind uint8

// Argument kinds and their PTX parameter types.
const (
	KPtr  ArgKind = iota // .u64: a device address
	KInt                 // .u32: a C int
	KUint                // .u32: a C unsigned
	KF32                 // .f32
	KF64                 // .f64
)

// PTX returns the PTX parameter type of the kind.
func (k ArgKind) PTX() string {
	switch k {
	case KPtr:
		return "u64"
	case KInt, KUint:
		return "u32"
	case KF32:
		return "f32"
	case KF64:
		return "f64"
	}
	return "?"
}

// Size is the argument's size in bytes.
func (k ArgKind) Size() int {
	if k == KPtr || k == KF64 {
		return 8
	}
	return 4
}

// Arg is one kernel argument: its kind and its bits, little-endian in the
// low Size() bytes of Bits.
type Arg struct {
	Kind ArgKind
	Bits uint64
}

func ptrArg(p Ptr) Arg       { return Arg{KPtr, uint64(p)} }
func intArg(v int) Arg       { return Arg{KInt, uint64(uint32(int32(v)))} }
func uintArg(v uint32) Arg   { return Arg{KUint, uint64(v)} }
func f32Arg(v float32) Arg   { return Arg{KF32, uint64(math.Float32bits(v))} }
func f64Arg(v float64) Arg   { return Arg{KF64, math.Float64bits(v)} }
func (a Arg) String() string { return fmt.Sprintf("%s:%#x", a.Kind.PTX(), a.Bits) }

// bytesOf views a slice of plain values as bytes, for copies.
func bytesOf[T float32 | float64 | int16 | uint8](s []T) []byte {
	if len(s) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&s[0])), len(s)*int(unsafe.Sizeof(s[0])))
}
