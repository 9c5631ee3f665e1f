//go:build amd64 && !purego

#include "textflag.h"

// The float64 sums keep lane j of 16 in YMM register j/4, element j%4, and
// add the elements i ≡ j (mod 16) in index order, as bn.go's Go loops do.
// Products and sums use separate VMULPx and VADDPx (never FMA), in the order
// of the Go expressions, so that both give the same bits.

// func sumLanesAVX2(p *float32, n int, l *[16]float64)
TEXT ·sumLanesAVX2(SB), NOSPLIT, $0-24
	MOVQ p+0(FP), SI
	MOVQ n+8(FP), CX
	MOVQ l+16(FP), DI
	SHRQ $4, CX
	VXORPD Y0, Y0, Y0
	VXORPD Y1, Y1, Y1
	VXORPD Y2, Y2, Y2
	VXORPD Y3, Y3, Y3

loop:
	VCVTPS2PD (SI), Y4
	VCVTPS2PD 16(SI), Y5
	VCVTPS2PD 32(SI), Y6
	VCVTPS2PD 48(SI), Y7
	VADDPD    Y4, Y0, Y0
	VADDPD    Y5, Y1, Y1
	VADDPD    Y6, Y2, Y2
	VADDPD    Y7, Y3, Y3
	ADDQ      $64, SI
	DECQ      CX
	JNZ       loop

	VMOVUPD Y0, (DI)
	VMOVUPD Y1, 32(DI)
	VMOVUPD Y2, 64(DI)
	VMOVUPD Y3, 96(DI)
	VZEROUPPER
	RET

// func sqDevLanesAVX2(p *float32, n int, mean float64, l *[16]float64)
// Lane term: d = float64(p) − mean, then d·d.
TEXT ·sqDevLanesAVX2(SB), NOSPLIT, $0-32
	MOVQ         p+0(FP), SI
	MOVQ         n+8(FP), CX
	VBROADCASTSD mean+16(FP), Y8
	MOVQ         l+24(FP), DI
	SHRQ         $4, CX
	VXORPD       Y0, Y0, Y0
	VXORPD       Y1, Y1, Y1
	VXORPD       Y2, Y2, Y2
	VXORPD       Y3, Y3, Y3

loop:
	VCVTPS2PD (SI), Y4
	VCVTPS2PD 16(SI), Y5
	VCVTPS2PD 32(SI), Y6
	VCVTPS2PD 48(SI), Y7
	VSUBPD    Y8, Y4, Y4
	VSUBPD    Y8, Y5, Y5
	VSUBPD    Y8, Y6, Y6
	VSUBPD    Y8, Y7, Y7
	VMULPD    Y4, Y4, Y4
	VMULPD    Y5, Y5, Y5
	VMULPD    Y6, Y6, Y6
	VMULPD    Y7, Y7, Y7
	VADDPD    Y4, Y0, Y0
	VADDPD    Y5, Y1, Y1
	VADDPD    Y6, Y2, Y2
	VADDPD    Y7, Y3, Y3
	ADDQ      $64, SI
	DECQ      CX
	JNZ       loop

	VMOVUPD Y0, (DI)
	VMOVUPD Y1, 32(DI)
	VMOVUPD Y2, 64(DI)
	VMOVUPD Y3, 96(DI)
	VZEROUPPER
	RET

// func dotDevLanesAVX2(dy, x *float32, n int, mean float64, s, t *[16]float64)
// Lane terms: d = float64(dy) into s; d·(float64(x) − mean) into t.
// Y0-Y3 hold s, Y4-Y7 hold t.
TEXT ·dotDevLanesAVX2(SB), NOSPLIT, $0-48
	MOVQ         dy+0(FP), SI
	MOVQ         x+8(FP), DX
	MOVQ         n+16(FP), CX
	VBROADCASTSD mean+24(FP), Y8
	SHRQ         $4, CX
	VXORPD       Y0, Y0, Y0
	VXORPD       Y1, Y1, Y1
	VXORPD       Y2, Y2, Y2
	VXORPD       Y3, Y3, Y3
	VXORPD       Y4, Y4, Y4
	VXORPD       Y5, Y5, Y5
	VXORPD       Y6, Y6, Y6
	VXORPD       Y7, Y7, Y7

loop:
	VCVTPS2PD (SI), Y9
	VCVTPS2PD (DX), Y10
	VADDPD    Y9, Y0, Y0
	VSUBPD    Y8, Y10, Y10
	VMULPD    Y10, Y9, Y9
	VADDPD    Y9, Y4, Y4
	VCVTPS2PD 16(SI), Y11
	VCVTPS2PD 16(DX), Y12
	VADDPD    Y11, Y1, Y1
	VSUBPD    Y8, Y12, Y12
	VMULPD    Y12, Y11, Y11
	VADDPD    Y11, Y5, Y5
	VCVTPS2PD 32(SI), Y13
	VCVTPS2PD 32(DX), Y14
	VADDPD    Y13, Y2, Y2
	VSUBPD    Y8, Y14, Y14
	VMULPD    Y14, Y13, Y13
	VADDPD    Y13, Y6, Y6
	VCVTPS2PD 48(SI), Y9
	VCVTPS2PD 48(DX), Y10
	VADDPD    Y9, Y3, Y3
	VSUBPD    Y8, Y10, Y10
	VMULPD    Y10, Y9, Y9
	VADDPD    Y9, Y7, Y7
	ADDQ      $64, SI
	ADDQ      $64, DX
	DECQ      CX
	JNZ       loop

	MOVQ    s+32(FP), DI
	VMOVUPD Y0, (DI)
	VMOVUPD Y1, 32(DI)
	VMOVUPD Y2, 64(DI)
	VMOVUPD Y3, 96(DI)
	MOVQ    t+40(FP), DI
	VMOVUPD Y4, (DI)
	VMOVUPD Y5, 32(DI)
	VMOVUPD Y6, 64(DI)
	VMOVUPD Y7, 96(DI)
	VZEROUPPER
	RET

// func affineAVX2(x, y *float32, n int, scale, shift float32)
// y = x·scale, rounded, + shift. An odd count of 8-element steps takes one
// step first, then the loop takes two per iteration.
TEXT ·affineAVX2(SB), NOSPLIT, $0-32
	MOVQ         x+0(FP), SI
	MOVQ         y+8(FP), DI
	MOVQ         n+16(FP), CX
	VBROADCASTSS scale+24(FP), Y8
	VBROADCASTSS shift+28(FP), Y9
	SHRQ         $3, CX
	TESTQ        $1, CX
	JE           pairs
	VMULPS       (SI), Y8, Y0
	VADDPS       Y9, Y0, Y0
	VMOVUPS      Y0, (DI)
	ADDQ         $32, SI
	ADDQ         $32, DI

pairs:
	SHRQ $1, CX
	JE   done

loop:
	VMULPS  (SI), Y8, Y0
	VMULPS  32(SI), Y8, Y1
	VADDPS  Y9, Y0, Y0
	VADDPS  Y9, Y1, Y1
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	ADDQ    $64, SI
	ADDQ    $64, DI
	DECQ    CX
	JNZ     loop

done:
	VZEROUPPER
	RET

// func gradAVX2(x, dy, out *float32, n int, a, bx, k, m float32)
// out = (a·dy + bx·(x−m)) + k, each product rounded before its addition.
TEXT ·gradAVX2(SB), NOSPLIT, $0-48
	MOVQ         x+0(FP), SI
	MOVQ         dy+8(FP), DX
	MOVQ         out+16(FP), DI
	MOVQ         n+24(FP), CX
	VBROADCASTSS a+32(FP), Y8
	VBROADCASTSS bx+36(FP), Y9
	VBROADCASTSS k+40(FP), Y10
	VBROADCASTSS m+44(FP), Y11
	SHRQ         $3, CX

loop:
	VMOVUPS (SI), Y1
	VMULPS  (DX), Y8, Y0
	VSUBPS  Y11, Y1, Y1
	VMULPS  Y9, Y1, Y1
	VADDPS  Y1, Y0, Y0
	VADDPS  Y10, Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DX
	ADDQ    $32, DI
	DECQ    CX
	JNZ     loop

	VZEROUPPER
	RET

// func gradReLUAVX2(x, dy, out *float32, n int, a, bx, k, m float32)
// gradAVX2 ANDed with the mask int32(−bits(x)) >> 31.
TEXT ·gradReLUAVX2(SB), NOSPLIT, $0-48
	MOVQ         x+0(FP), SI
	MOVQ         dy+8(FP), DX
	MOVQ         out+16(FP), DI
	MOVQ         n+24(FP), CX
	VBROADCASTSS a+32(FP), Y8
	VBROADCASTSS bx+36(FP), Y9
	VBROADCASTSS k+40(FP), Y10
	VBROADCASTSS m+44(FP), Y11
	VPXOR        Y12, Y12, Y12
	SHRQ         $3, CX

loop:
	VMOVUPS (SI), Y1
	VPSUBD  Y1, Y12, Y2
	VPSRAD  $31, Y2, Y2
	VMULPS  (DX), Y8, Y0
	VSUBPS  Y11, Y1, Y1
	VMULPS  Y9, Y1, Y1
	VADDPS  Y1, Y0, Y0
	VADDPS  Y10, Y0, Y0
	VPAND   Y2, Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DX
	ADDQ    $32, DI
	DECQ    CX
	JNZ     loop

	VZEROUPPER
	RET
