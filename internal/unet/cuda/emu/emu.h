// emu.h lets a C++ compiler build ../kernels.cu for the CPU emulator of
// package emu: the few CUDA names the kernels use, with the same
// semantics. Nothing is fused (emu.cc turns contraction off, as the PTX is
// compiled with -fmad=false) but the kernels' explicit fmaf, which is
// libm's, exact.
#pragma once

#include <math.h>
#include <stdint.h>
#include <string.h>

struct ct_dim3 {
	unsigned x, y, z;
};

extern thread_local ct_dim3 threadIdx, blockIdx, blockDim;

// Each kernel is compiled twice, with and without the FMA instruction, and
// the CPU's picks one when the program loads: fmaf is the instruction in
// one and libm's (exact, slower) in the other, the same results either way.
#define __global__ __attribute__((target_clones("fma", "default")))
#define __device__
#define __forceinline__ inline

static inline unsigned __umulhi(unsigned a, unsigned b) { return (unsigned)(((uint64_t)a * b) >> 32); }
static inline double __dmul_rn(double a, double b) { return a * b; }
static inline double __dadd_rn(double a, double b) { return a + b; }
static inline float __fmul_rn(float a, float b) { return a * b; }
static inline float __fadd_rn(float a, float b) { return a + b; }
static inline float __fdiv_rn(float a, float b) { return a / b; }
