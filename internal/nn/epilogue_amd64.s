//go:build amd64 && !purego

#include "textflag.h"

// func epilogueAVX2(dst, src *float32, n int, bias, scale, shift float32, mode int)
// dst = ep(src + bias) on n elements (a positive multiple of 8): mode bit 1
// is the ReLU (clearing values whose sign bit is set, as relu32 does), bit
// 2 the affine y·scale + shift, each operation rounded as in epilogueGo.
TEXT ·epilogueAVX2(SB), NOSPLIT, $0-48
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	TESTQ CX, CX
	JEQ done
	VBROADCASTSS bias+24(FP), Y1
	VBROADCASTSS scale+28(FP), Y2
	VBROADCASTSS shift+32(FP), Y3
	MOVQ mode+40(FP), AX
	CMPQ AX, $3
	JEQ reluScale
	CMPQ AX, $1
	JEQ relu
	CMPQ AX, $2
	JEQ scale

plain:
	VADDPS (SI), Y1, Y0
	VMOVUPS Y0, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	SUBQ $8, CX
	JNZ plain
	VZEROUPPER
	RET

relu:
	VADDPS (SI), Y1, Y0
	VPSRAD $31, Y0, Y4
	VPANDN Y0, Y4, Y0
	VMOVUPS Y0, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	SUBQ $8, CX
	JNZ relu
	VZEROUPPER
	RET

scale:
	VADDPS (SI), Y1, Y0
	VMULPS Y2, Y0, Y0
	VADDPS Y3, Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	SUBQ $8, CX
	JNZ scale
	VZEROUPPER
	RET

reluScale:
	VADDPS (SI), Y1, Y0
	VPSRAD $31, Y0, Y4
	VPANDN Y0, Y4, Y0
	VMULPS Y2, Y0, Y0
	VADDPS Y3, Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	SUBQ $8, CX
	JNZ reluScale
	VZEROUPPER

done:
	RET
