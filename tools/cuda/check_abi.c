// check_abi.c compiles only if internal/unet/cuda/cudadrv.h, the driver
// API as the engine loads it without CUDA headers, agrees with cuda.h:
// every function type, enum value and type size. tools/cuda/build_ptx.sh
// runs it: cc -fsyntax-only -Werror=incompatible-pointer-types check_abi.c
#include <cuda.h>

#include "../../internal/unet/cuda/cudadrv.h"

_Static_assert(CT_CUDA_SUCCESS == CUDA_SUCCESS, "CUDA_SUCCESS");
_Static_assert(CT_CUDA_ERROR_INVALID_VALUE == CUDA_ERROR_INVALID_VALUE, "CUDA_ERROR_INVALID_VALUE");
_Static_assert(CT_JIT_ERROR_LOG_BUFFER == CU_JIT_ERROR_LOG_BUFFER, "CU_JIT_ERROR_LOG_BUFFER");
_Static_assert(CT_JIT_ERROR_LOG_BUFFER_SIZE_BYTES == CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES, "CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES");
_Static_assert(CT_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT == CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, "MULTIPROCESSOR_COUNT");
_Static_assert(CT_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR == CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, "CC_MAJOR");
_Static_assert(CT_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR == CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, "CC_MINOR");
_Static_assert(CT_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK == CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK, "MAX_THREADS_PER_BLOCK");
_Static_assert(CT_FUNC_ATTRIBUTE_NUM_REGS == CU_FUNC_ATTRIBUTE_NUM_REGS, "NUM_REGS");
_Static_assert(sizeof(ct_CUresult) == sizeof(CUresult), "CUresult");
_Static_assert(sizeof(ct_CUdeviceptr) == sizeof(CUdeviceptr), "CUdeviceptr");
_Static_assert(sizeof(ct_CUdevice) == sizeof(CUdevice), "CUdevice");
_Static_assert(sizeof(unsigned int) == sizeof(CUjit_option), "CUjit_option");

static ct_cuInit_t f0 = cuInit;
static ct_cuDriverGetVersion_t f1 = cuDriverGetVersion;
static ct_cuDeviceGetCount_t f2 = cuDeviceGetCount;
static ct_cuDeviceGet_t f3 = cuDeviceGet;
static ct_cuDeviceGetName_t f4 = cuDeviceGetName;
static ct_cuDeviceGetAttribute_t f5 = cuDeviceGetAttribute;
static ct_cuDeviceTotalMem_t f6 = cuDeviceTotalMem_v2;
static ct_cuDevicePrimaryCtxRetain_t f7 = cuDevicePrimaryCtxRetain;
static ct_cuCtxSetCurrent_t f8 = cuCtxSetCurrent;
static ct_cuCtxSynchronize_t f9 = cuCtxSynchronize;
static ct_cuModuleLoadDataEx_t f10 = cuModuleLoadDataEx;
static ct_cuModuleGetFunction_t f11 = cuModuleGetFunction;
static ct_cuFuncGetAttribute_t f12 = cuFuncGetAttribute;
static ct_cuMemAlloc_t f13 = cuMemAlloc_v2;
static ct_cuMemFree_t f14 = cuMemFree_v2;
static ct_cuMemcpyHtoD_t f15 = cuMemcpyHtoD_v2;
static ct_cuMemcpyDtoH_t f16 = cuMemcpyDtoH_v2;
static ct_cuMemGetInfo_t f17 = cuMemGetInfo_v2;
static ct_cuLaunchKernel_t f18 = cuLaunchKernel;
static ct_cuGetErrorName_t f19 = cuGetErrorName;
static ct_cuGetErrorString_t f20 = cuGetErrorString;
