//go:build ctseg_cuda && cgo

package cuda

// The GPU: the CUDA driver API, loaded from libcuda.so.1 at run time. This
// file is the engine's only cgo and its only code that needs a GPU; see
// cudadrv.h for the declarations and docs/cuda.md for why the engine does
// not go through gorgonia.org/cu.

/*
#cgo linux LDFLAGS: -ldl
#include <dlfcn.h>
#include <stdint.h>
#include <stdlib.h>
#include "cudadrv.h"

static void* ct_lib;
static ct_cuInit_t p_cuInit;
static ct_cuDriverGetVersion_t p_cuDriverGetVersion;
static ct_cuDeviceGetCount_t p_cuDeviceGetCount;
static ct_cuDeviceGet_t p_cuDeviceGet;
static ct_cuDeviceGetName_t p_cuDeviceGetName;
static ct_cuDeviceGetAttribute_t p_cuDeviceGetAttribute;
static ct_cuDeviceTotalMem_t p_cuDeviceTotalMem;
static ct_cuDevicePrimaryCtxRetain_t p_cuDevicePrimaryCtxRetain;
static ct_cuCtxSetCurrent_t p_cuCtxSetCurrent;
static ct_cuCtxSynchronize_t p_cuCtxSynchronize;
static ct_cuModuleLoadDataEx_t p_cuModuleLoadDataEx;
static ct_cuModuleGetFunction_t p_cuModuleGetFunction;
static ct_cuFuncGetAttribute_t p_cuFuncGetAttribute;
static ct_cuMemAlloc_t p_cuMemAlloc;
static ct_cuMemFree_t p_cuMemFree;
static ct_cuMemcpyHtoD_t p_cuMemcpyHtoD;
static ct_cuMemcpyDtoH_t p_cuMemcpyDtoH;
static ct_cuMemGetInfo_t p_cuMemGetInfo;
static ct_cuLaunchKernel_t p_cuLaunchKernel;
static ct_cuGetErrorName_t p_cuGetErrorName;
static ct_cuGetErrorString_t p_cuGetErrorString;

// ct_open loads the driver library and its entry points: NULL, or what
// failed (dlerror's message or a missing symbol's name).
static const char* ct_open(void) {
	if (ct_lib) return NULL;
	void* lib = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
	if (!lib) lib = dlopen("libcuda.so", RTLD_NOW | RTLD_LOCAL);
	if (!lib) return dlerror();
#define CT_SYM(var, name) if (!(*(void**)(&var) = dlsym(lib, name))) return "no symbol " name " in libcuda";
	CT_SYM(p_cuInit, "cuInit")
	CT_SYM(p_cuDriverGetVersion, "cuDriverGetVersion")
	CT_SYM(p_cuDeviceGetCount, "cuDeviceGetCount")
	CT_SYM(p_cuDeviceGet, "cuDeviceGet")
	CT_SYM(p_cuDeviceGetName, "cuDeviceGetName")
	CT_SYM(p_cuDeviceGetAttribute, "cuDeviceGetAttribute")
	CT_SYM(p_cuDeviceTotalMem, "cuDeviceTotalMem_v2")
	CT_SYM(p_cuDevicePrimaryCtxRetain, "cuDevicePrimaryCtxRetain")
	CT_SYM(p_cuCtxSetCurrent, "cuCtxSetCurrent")
	CT_SYM(p_cuCtxSynchronize, "cuCtxSynchronize")
	CT_SYM(p_cuModuleLoadDataEx, "cuModuleLoadDataEx")
	CT_SYM(p_cuModuleGetFunction, "cuModuleGetFunction")
	CT_SYM(p_cuFuncGetAttribute, "cuFuncGetAttribute")
	CT_SYM(p_cuMemAlloc, "cuMemAlloc_v2")
	CT_SYM(p_cuMemFree, "cuMemFree_v2")
	CT_SYM(p_cuMemcpyHtoD, "cuMemcpyHtoD_v2")
	CT_SYM(p_cuMemcpyDtoH, "cuMemcpyDtoH_v2")
	CT_SYM(p_cuMemGetInfo, "cuMemGetInfo_v2")
	CT_SYM(p_cuLaunchKernel, "cuLaunchKernel")
	CT_SYM(p_cuGetErrorName, "cuGetErrorName")
	CT_SYM(p_cuGetErrorString, "cuGetErrorString")
#undef CT_SYM
	ct_lib = lib;
	return NULL;
}

static void ct_error(ct_CUresult r, const char** name, const char** text) {
	*name = *text = NULL;
	if (p_cuGetErrorName) p_cuGetErrorName(r, name);
	if (p_cuGetErrorString) p_cuGetErrorString(r, text);
}

static ct_CUresult ct_init(int ordinal, ct_CUdevice* dev, int* count, int* version) {
	ct_CUresult r = p_cuInit(0);
	if (r) return r;
	if ((r = p_cuDriverGetVersion(version))) return r;
	if ((r = p_cuDeviceGetCount(count))) return r;
	if (ordinal >= *count) return CT_CUDA_SUCCESS;
	return p_cuDeviceGet(dev, ordinal);
}

static ct_CUresult ct_describe(ct_CUdevice dev, char* name, int n, int* major, int* minor, int* sms, size_t* mem) {
	ct_CUresult r = p_cuDeviceGetName(name, n, dev);
	if (r) return r;
	if ((r = p_cuDeviceGetAttribute(major, CT_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, dev))) return r;
	if ((r = p_cuDeviceGetAttribute(minor, CT_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, dev))) return r;
	if ((r = p_cuDeviceGetAttribute(sms, CT_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, dev))) return r;
	return p_cuDeviceTotalMem(mem, dev);
}

static ct_CUresult ct_context(ct_CUdevice dev, ct_CUcontext* ctx) {
	ct_CUresult r = p_cuDevicePrimaryCtxRetain(ctx, dev);
	if (r) return r;
	return p_cuCtxSetCurrent(*ctx);
}

// Every call below makes ctx current first: a goroutine may run on any
// thread, and a context is current per thread.

static ct_CUresult ct_module(ct_CUcontext ctx, ct_CUmodule* mod, const char* ptx, char* log, unsigned logSize) {
	ct_CUresult r = p_cuCtxSetCurrent(ctx);
	if (r) return r;
	unsigned opts[2] = {CT_JIT_ERROR_LOG_BUFFER, CT_JIT_ERROR_LOG_BUFFER_SIZE_BYTES};
	void* vals[2] = {log, (void*)(uintptr_t)logSize};
	return p_cuModuleLoadDataEx(mod, ptx, 2, opts, vals);
}

static ct_CUresult ct_function(ct_CUcontext ctx, ct_CUmodule mod, const char* name, ct_CUfunction* f, int* maxThreads, int* regs) {
	ct_CUresult r = p_cuCtxSetCurrent(ctx);
	if (r) return r;
	if ((r = p_cuModuleGetFunction(f, mod, name))) return r;
	if ((r = p_cuFuncGetAttribute(maxThreads, CT_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK, *f))) return r;
	return p_cuFuncGetAttribute(regs, CT_FUNC_ATTRIBUTE_NUM_REGS, *f);
}

static ct_CUresult ct_alloc(ct_CUcontext ctx, ct_CUdeviceptr* p, size_t n) {
	ct_CUresult r = p_cuCtxSetCurrent(ctx);
	return r ? r : p_cuMemAlloc(p, n);
}

static ct_CUresult ct_free(ct_CUcontext ctx, ct_CUdeviceptr p) {
	ct_CUresult r = p_cuCtxSetCurrent(ctx);
	return r ? r : p_cuMemFree(p);
}

static ct_CUresult ct_htod(ct_CUcontext ctx, ct_CUdeviceptr dst, const void* src, size_t n) {
	ct_CUresult r = p_cuCtxSetCurrent(ctx);
	return r ? r : p_cuMemcpyHtoD(dst, src, n);
}

static ct_CUresult ct_dtoh(ct_CUcontext ctx, void* dst, ct_CUdeviceptr src, size_t n) {
	ct_CUresult r = p_cuCtxSetCurrent(ctx);
	return r ? r : p_cuMemcpyDtoH(dst, src, n);
}

static ct_CUresult ct_meminfo(ct_CUcontext ctx, size_t* free, size_t* total) {
	ct_CUresult r = p_cuCtxSetCurrent(ctx);
	return r ? r : p_cuMemGetInfo(free, total);
}

static ct_CUresult ct_sync(ct_CUcontext ctx) {
	ct_CUresult r = p_cuCtxSetCurrent(ctx);
	return r ? r : p_cuCtxSynchronize();
}

// ct_launch launches f on blocks×threads in the default stream; args are
// the arguments' bits, one 8-byte slot each (4-byte ones in the low half).
static ct_CUresult ct_launch(ct_CUcontext ctx, ct_CUfunction f, unsigned blocks, unsigned threads, const uint64_t* args, int nargs) {
	uint64_t vals[32];
	void* params[32];
	if (nargs > 32) return CT_CUDA_ERROR_INVALID_VALUE;
	for (int i = 0; i < nargs; i++) {
		vals[i] = args[i];
		params[i] = &vals[i];
	}
	ct_CUresult r = p_cuCtxSetCurrent(ctx);
	if (r) return r;
	return p_cuLaunchKernel(f, blocks, 1, 1, threads, 1, 1, 0, NULL, params, NULL);
}
*/
import "C"

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"unsafe"
)

// DriverError is a CUDA driver API error.
type DriverError struct {
	Call string
	Code int
	Name string // e.g. CUDA_ERROR_NO_DEVICE
	Text string // e.g. "no CUDA-capable device is detected"
}

func (e *DriverError) Error() string {
	return fmt.Sprintf("%s: %s (%d): %s", e.Call, e.Name, e.Code, e.Text)
}

func check(call string, r C.ct_CUresult) error {
	if r == C.CT_CUDA_SUCCESS {
		return nil
	}
	var name, text *C.char
	C.ct_error(r, &name, &text)
	e := &DriverError{Call: call, Code: int(r), Name: "CUDA_ERROR", Text: "unknown error"}
	if name != nil {
		e.Name = C.GoString(name)
	}
	if text != nil {
		e.Text = C.GoString(text)
	}
	return e
}

// oneLine joins the lines of a message, for one-line errors.
func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", "; ")), " ")
}

// driver is the process's GPU: its primary context and the kernels'
// module, opened once and kept for the life of the process (the driver
// releases them at exit).
type driver struct {
	mu    sync.Mutex
	ctx   C.ct_CUcontext
	mod   C.ct_CUmodule
	desc  string
	funcs map[string]kernelFunc
}

type kernelFunc struct {
	f          C.ct_CUfunction
	maxThreads int
}

var (
	driverOnce sync.Once
	theDriver  *driver
	driverErr  error
)

// DeviceEnv names the variable that selects the GPU (an ordinal, default
// 0; CUDA_VISIBLE_DEVICES applies first).
const DeviceEnv = "CTSEG_CUDA_DEVICE"

// OpenDevice returns the GPU as a Device for an engine, opening the
// driver on first use. Without a driver or a GPU it is a one-line error
// that says so.
func OpenDevice() (Device, error) {
	driverOnce.Do(func() { theDriver, driverErr = openDriver() })
	if driverErr != nil {
		return nil, driverErr
	}
	return &gpu{d: theDriver}, nil
}

func openDriver() (*driver, error) {
	if msg := C.ct_open(); msg != nil {
		return nil, fmt.Errorf("cuda: cannot load the NVIDIA driver library libcuda.so.1 (%s): --device cuda needs an NVIDIA GPU and its driver",
			oneLine(C.GoString(msg)))
	}
	ordinal := 0
	if s := os.Getenv(DeviceEnv); s != "" {
		var err error
		if ordinal, err = strconv.Atoi(s); err != nil || ordinal < 0 {
			return nil, fmt.Errorf("cuda: %s=%q is not a device number", DeviceEnv, s)
		}
	}
	var dev C.ct_CUdevice
	var count, version C.int
	if err := check("cuInit", C.ct_init(C.int(ordinal), &dev, &count, &version)); err != nil {
		return nil, fmt.Errorf("cuda: no usable GPU: %w", err)
	}
	if int(count) <= ordinal {
		return nil, fmt.Errorf("cuda: no GPU number %d: the driver sees %d", ordinal, int(count))
	}
	var name [256]C.char
	var major, minor, sms C.int
	var mem C.size_t
	if err := check("cuDeviceGetAttribute", C.ct_describe(dev, &name[0], C.int(len(name)), &major, &minor, &sms, &mem)); err != nil {
		return nil, fmt.Errorf("cuda: GPU %d: %w", ordinal, err)
	}
	gpuName := C.GoString(&name[0])
	ptx, target, err := PTX(int(major), int(minor))
	if err != nil {
		return nil, fmt.Errorf("cuda: %s: %w", gpuName, err)
	}
	d := &driver{funcs: map[string]kernelFunc{}}
	if err := check("cuDevicePrimaryCtxRetain", C.ct_context(dev, &d.ctx)); err != nil {
		return nil, fmt.Errorf("cuda: %s: %w", gpuName, err)
	}
	src := C.CString(ptx)
	defer C.free(unsafe.Pointer(src))
	var log [16 << 10]C.char
	if err := check("cuModuleLoadDataEx", C.ct_module(d.ctx, &d.mod, src, &log[0], C.uint(len(log)))); err != nil {
		return nil, fmt.Errorf("cuda: %s: compiling the kernels' PTX (%s): %w: %s", gpuName, target, err, oneLine(C.GoString(&log[0])))
	}
	d.desc = fmt.Sprintf("%s (compute %d.%d, %d SMs, %d MiB; driver %d.%d; PTX %s)", gpuName, int(major), int(minor),
		int(sms), int64(mem)>>20, int(version)/1000, int(version)%1000/10, target)
	return d, nil
}

// function returns a kernel, looked up once.
func (d *driver) function(name string) (kernelFunc, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if f, ok := d.funcs[name]; ok {
		return f, nil
	}
	cs := C.CString(name)
	defer C.free(unsafe.Pointer(cs))
	var f kernelFunc
	var maxThreads, regs C.int
	if err := check("cuModuleGetFunction "+name, C.ct_function(d.ctx, d.mod, cs, &f.f, &maxThreads, &regs)); err != nil {
		return f, err
	}
	f.maxThreads = int(maxThreads)
	d.funcs[name] = f
	return f, nil
}

// gpu is an engine's handle on the driver.
type gpu struct {
	d     *driver
	slots []uint64
}

var _ Device = (*gpu)(nil)

func (g *gpu) Name() string { return g.d.desc }

func (g *gpu) Alloc(n int64) (Ptr, error) {
	var p C.ct_CUdeviceptr
	if err := check("cuMemAlloc", C.ct_alloc(g.d.ctx, &p, C.size_t(max(n, 1)))); err != nil {
		return 0, err
	}
	return Ptr(p), nil
}

func (g *gpu) Free(p Ptr) error { return check("cuMemFree", C.ct_free(g.d.ctx, C.ct_CUdeviceptr(p))) }

func (g *gpu) Upload(dst Ptr, src []byte) error {
	if len(src) == 0 {
		return nil
	}
	return check("cuMemcpyHtoD", C.ct_htod(g.d.ctx, C.ct_CUdeviceptr(dst), unsafe.Pointer(&src[0]), C.size_t(len(src))))
}

func (g *gpu) Download(dst []byte, src Ptr) error {
	if len(dst) == 0 {
		return check("cuCtxSynchronize", C.ct_sync(g.d.ctx))
	}
	return check("cuMemcpyDtoH", C.ct_dtoh(g.d.ctx, unsafe.Pointer(&dst[0]), C.ct_CUdeviceptr(src), C.size_t(len(dst))))
}

// Launch launches a kernel. A block larger than the kernel allows on this
// GPU (registers) is split into smaller ones: the kernels' threads are
// independent, so the result is the same.
func (g *gpu) Launch(kernel string, blocks, threads int, args []Arg) error {
	f, err := g.d.function(kernel)
	if err != nil {
		return err
	}
	if threads > f.maxThreads {
		total := int64(blocks) * int64(threads)
		threads = max(32, f.maxThreads&^31)
		blocks = int((total + int64(threads) - 1) / int64(threads))
	}
	g.slots = g.slots[:0]
	for _, a := range args {
		g.slots = append(g.slots, a.Bits)
	}
	g.slots = append(g.slots, 0) // never empty
	return check("cuLaunchKernel "+kernel, C.ct_launch(g.d.ctx, f.f, C.uint(blocks), C.uint(threads),
		(*C.uint64_t)(unsafe.Pointer(&g.slots[0])), C.int(len(args))))
}

func (g *gpu) MemInfo() (free, total int64, err error) {
	var f, t C.size_t
	err = check("cuMemGetInfo", C.ct_meminfo(g.d.ctx, &f, &t))
	return int64(f), int64(t), err
}

// Close does nothing: the context and module serve every engine of the
// process.
func (g *gpu) Close() error { return nil }
