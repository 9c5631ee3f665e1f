// cudadrv.h declares the part of the CUDA driver API (cuda.h) that the
// engine's driver layer (driver.go, build tag ctseg_cuda) loads from
// libcuda.so.1 at run time with dlopen: nothing links a CUDA library, and
// building needs no CUDA headers. The names carry a ct_ prefix; the types
// are those of cuda.h, which tools/cuda/check_abi.c verifies at compile
// time where cuda.h is installed (tools/cuda/build_ptx.sh runs it).
#ifndef CTSEG_CUDADRV_H
#define CTSEG_CUDADRV_H

#include <stddef.h>

typedef unsigned int ct_CUresult; // enum cudaError_enum
typedef int ct_CUdevice;
typedef struct CUctx_st* ct_CUcontext;
typedef struct CUmod_st* ct_CUmodule;
typedef struct CUfunc_st* ct_CUfunction;
typedef struct CUstream_st* ct_CUstream;
typedef unsigned long long ct_CUdeviceptr;

#define CT_CUDA_SUCCESS 0
#define CT_CUDA_ERROR_INVALID_VALUE 1
#define CT_JIT_ERROR_LOG_BUFFER 5
#define CT_JIT_ERROR_LOG_BUFFER_SIZE_BYTES 6
#define CT_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT 16
#define CT_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR 75
#define CT_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR 76
#define CT_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK 0
#define CT_FUNC_ATTRIBUTE_NUM_REGS 4

// The entry points, with the symbol each is loaded from (the _v2 symbols
// are what cuda.h's macros name).
typedef ct_CUresult (*ct_cuInit_t)(unsigned int);                                  // cuInit
typedef ct_CUresult (*ct_cuDriverGetVersion_t)(int*);                              // cuDriverGetVersion
typedef ct_CUresult (*ct_cuDeviceGetCount_t)(int*);                                // cuDeviceGetCount
typedef ct_CUresult (*ct_cuDeviceGet_t)(ct_CUdevice*, int);                        // cuDeviceGet
typedef ct_CUresult (*ct_cuDeviceGetName_t)(char*, int, ct_CUdevice);              // cuDeviceGetName
typedef ct_CUresult (*ct_cuDeviceGetAttribute_t)(int*, unsigned int, ct_CUdevice); // cuDeviceGetAttribute
typedef ct_CUresult (*ct_cuDeviceTotalMem_t)(size_t*, ct_CUdevice);                // cuDeviceTotalMem_v2
typedef ct_CUresult (*ct_cuDevicePrimaryCtxRetain_t)(ct_CUcontext*, ct_CUdevice);  // cuDevicePrimaryCtxRetain
typedef ct_CUresult (*ct_cuCtxSetCurrent_t)(ct_CUcontext);                         // cuCtxSetCurrent
typedef ct_CUresult (*ct_cuCtxSynchronize_t)(void);                                // cuCtxSynchronize
typedef ct_CUresult (*ct_cuModuleLoadDataEx_t)(ct_CUmodule*, const void*, unsigned int, unsigned int*,
                                               void**);                            // cuModuleLoadDataEx
typedef ct_CUresult (*ct_cuModuleGetFunction_t)(ct_CUfunction*, ct_CUmodule, const char*); // cuModuleGetFunction
typedef ct_CUresult (*ct_cuFuncGetAttribute_t)(int*, unsigned int, ct_CUfunction);         // cuFuncGetAttribute
typedef ct_CUresult (*ct_cuMemAlloc_t)(ct_CUdeviceptr*, size_t);                           // cuMemAlloc_v2
typedef ct_CUresult (*ct_cuMemFree_t)(ct_CUdeviceptr);                                     // cuMemFree_v2
typedef ct_CUresult (*ct_cuMemcpyHtoD_t)(ct_CUdeviceptr, const void*, size_t);             // cuMemcpyHtoD_v2
typedef ct_CUresult (*ct_cuMemcpyDtoH_t)(void*, ct_CUdeviceptr, size_t);                   // cuMemcpyDtoH_v2
typedef ct_CUresult (*ct_cuMemGetInfo_t)(size_t*, size_t*);                                // cuMemGetInfo_v2
typedef ct_CUresult (*ct_cuLaunchKernel_t)(ct_CUfunction, unsigned int, unsigned int, unsigned int, unsigned int,
                                           unsigned int, unsigned int, unsigned int, ct_CUstream, void**,
                                           void**);                                        // cuLaunchKernel
typedef ct_CUresult (*ct_cuGetErrorName_t)(ct_CUresult, const char**);                     // cuGetErrorName
typedef ct_CUresult (*ct_cuGetErrorString_t)(ct_CUresult, const char**);                   // cuGetErrorString

#endif
