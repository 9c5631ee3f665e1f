//go:build amd64 && !purego

#include "textflag.h"

// func cpuid(leaf, sub uint32) (eax, ebx, ecx, edx uint32)
TEXT ·cpuid(SB), NOSPLIT, $0-24
	MOVL leaf+0(FP), AX
	MOVL sub+4(FP), CX
	CPUID
	MOVL AX, eax+8(FP)
	MOVL BX, ebx+12(FP)
	MOVL CX, ecx+16(FP)
	MOVL DX, edx+20(FP)
	RET

// func xgetbv() (eax, edx uint32)
TEXT ·xgetbv(SB), NOSPLIT, $0-8
	MOVL $0, CX
	XGETBV
	MOVL AX, eax+0(FP)
	MOVL DX, edx+4(FP)
	RET

// func kern4x16(k int, a *float32, aoff *int, b *float32, boff *int, c *float32, ldc int)
// C[0:4][0:16] += Σp A[r][p]·B[p][0:16], where row r of A starts at element
// aoff[r] of a and row p of B at element boff[p] of b (both in elements);
// ldc is C's row stride. Eight accumulators (4 rows × 2 YMM) hide the FMA
// latency.
TEXT ·kern4x16(SB), NOSPLIT, $0-56
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ aoff+16(FP), AX
	MOVQ 0(AX), R8
	MOVQ 8(AX), R9
	MOVQ 16(AX), R11
	MOVQ 24(AX), R13
	MOVQ b+24(FP), DI
	MOVQ boff+32(FP), BX
	MOVQ c+40(FP), DX
	MOVQ ldc+48(FP), R10
	SHLQ $2, R10

	// The sum over this call's k starts from zero and is added to C at
	// the end: the caller splits long sums into blocks for accuracy.
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7

	TESTQ CX, CX
	JE store

loop:
	MOVQ (BX), AX
	VMOVUPS (DI)(AX*4), Y8
	VMOVUPS 32(DI)(AX*4), Y9
	VBROADCASTSS (SI)(R8*4), Y10
	VFMADD231PS Y8, Y10, Y0
	VFMADD231PS Y9, Y10, Y1
	VBROADCASTSS (SI)(R9*4), Y11
	VFMADD231PS Y8, Y11, Y2
	VFMADD231PS Y9, Y11, Y3
	VBROADCASTSS (SI)(R11*4), Y12
	VFMADD231PS Y8, Y12, Y4
	VFMADD231PS Y9, Y12, Y5
	VBROADCASTSS (SI)(R13*4), Y13
	VFMADD231PS Y8, Y13, Y6
	VFMADD231PS Y9, Y13, Y7
	ADDQ $4, SI
	ADDQ $8, BX
	DECQ CX
	JNZ loop

store:
	MOVQ DX, R12
	VADDPS (R12), Y0, Y0
	VADDPS 32(R12), Y1, Y1
	VMOVUPS Y0, (R12)
	VMOVUPS Y1, 32(R12)
	ADDQ R10, R12
	VADDPS (R12), Y2, Y2
	VADDPS 32(R12), Y3, Y3
	VMOVUPS Y2, (R12)
	VMOVUPS Y3, 32(R12)
	ADDQ R10, R12
	VADDPS (R12), Y4, Y4
	VADDPS 32(R12), Y5, Y5
	VMOVUPS Y4, (R12)
	VMOVUPS Y5, 32(R12)
	ADDQ R10, R12
	VADDPS (R12), Y6, Y6
	VADDPS 32(R12), Y7, Y7
	VMOVUPS Y6, (R12)
	VMOVUPS Y7, 32(R12)
	VZEROUPPER
	RET

// func kern4x32(k int, a *float32, aoff *int, b *float32, boff *int, c *float32, ldc int)
// kern4x16 with AVX-512 registers: 4 rows × 2 ZMM (32 columns). Each
// element's products are summed in the same order as kern4x16's, so both
// kernels give the same bits.
TEXT ·kern4x32(SB), NOSPLIT, $0-56
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ aoff+16(FP), AX
	MOVQ 0(AX), R8
	MOVQ 8(AX), R9
	MOVQ 16(AX), R11
	MOVQ 24(AX), R13
	MOVQ b+24(FP), DI
	MOVQ boff+32(FP), BX
	MOVQ c+40(FP), DX
	MOVQ ldc+48(FP), R10
	SHLQ $2, R10

	// The sum over this call's k starts from zero and is added to C at
	// the end: the caller splits long sums into blocks for accuracy.
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7

	TESTQ CX, CX
	JE store512

loop512:
	MOVQ (BX), AX
	VMOVUPS (DI)(AX*4), Z8
	VMOVUPS 64(DI)(AX*4), Z9
	VBROADCASTSS (SI)(R8*4), Z10
	VFMADD231PS Z8, Z10, Z0
	VFMADD231PS Z9, Z10, Z1
	VBROADCASTSS (SI)(R9*4), Z11
	VFMADD231PS Z8, Z11, Z2
	VFMADD231PS Z9, Z11, Z3
	VBROADCASTSS (SI)(R11*4), Z12
	VFMADD231PS Z8, Z12, Z4
	VFMADD231PS Z9, Z12, Z5
	VBROADCASTSS (SI)(R13*4), Z13
	VFMADD231PS Z8, Z13, Z6
	VFMADD231PS Z9, Z13, Z7
	ADDQ $4, SI
	ADDQ $8, BX
	DECQ CX
	JNZ loop512

store512:
	MOVQ DX, R12
	VADDPS (R12), Z0, Z0
	VADDPS 64(R12), Z1, Z1
	VMOVUPS Z0, (R12)
	VMOVUPS Z1, 64(R12)
	ADDQ R10, R12
	VADDPS (R12), Z2, Z2
	VADDPS 64(R12), Z3, Z3
	VMOVUPS Z2, (R12)
	VMOVUPS Z3, 64(R12)
	ADDQ R10, R12
	VADDPS (R12), Z4, Z4
	VADDPS 64(R12), Z5, Z5
	VMOVUPS Z4, (R12)
	VMOVUPS Z5, 64(R12)
	ADDQ R10, R12
	VADDPS (R12), Z6, Z6
	VADDPS 64(R12), Z7, Z7
	VMOVUPS Z6, (R12)
	VMOVUPS Z7, 64(R12)
	VZEROUPPER
	RET
