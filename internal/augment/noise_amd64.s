//go:build amd64 && !purego

#include "textflag.h"

// The AVX2 noise kernels: Philox4x32-10 on eight counters at once, and
// the Box–Muller transform of boxmuller.go on four pairs at once, with the
// same operations in the same order as the Go code (no FMA), so that both
// give the same bits.

// func philoxAVX2(out *uint32, stride int, ctr *[4]uint32, key *[2]uint32, n int)
// Blocks (ctr[0]+l, ctr[1], ctr[2], ctr[3]) for l < n (a positive multiple
// of 8): word w of block l goes to out[w·stride + l].
TEXT ·philoxAVX2(SB), NOSPLIT, $0-40
	MOVQ out+0(FP), DI
	MOVQ stride+8(FP), R8
	SHLQ $2, R8
	LEAQ (R8)(R8*2), R9
	MOVQ ctr+16(FP), SI
	MOVQ key+24(FP), DX
	MOVQ n+32(FP), CX
	TESTQ CX, CX
	JEQ philoxDone
	VPBROADCASTD (SI), Y12
	VPADDD lanes<>(SB), Y12, Y12
	VMOVDQU philoxM0<>(SB), Y6
	VMOVDQU philoxM1<>(SB), Y7
	VMOVDQU philoxW0<>(SB), Y8
	VMOVDQU philoxW1<>(SB), Y9

group:
	VMOVDQU Y12, Y0
	VPBROADCASTD 4(SI), Y1
	VPBROADCASTD 8(SI), Y2
	VPBROADCASTD 12(SI), Y3
	VPBROADCASTD (DX), Y4
	VPBROADCASTD 4(DX), Y5
	MOVQ $10, BX

round:
	// hi0, lo0 = M0·c0: the even lanes' products from one VPMULUDQ,
	// the odd lanes' from another on the words shifted down.
	VPMULUDQ Y6, Y0, Y14
	VPSRLQ $32, Y0, Y15
	VPMULUDQ Y6, Y15, Y15
	VPSLLQ $32, Y15, Y10
	VPBLENDD $0xAA, Y10, Y14, Y10
	VPSRLQ $32, Y14, Y14
	VPBLENDD $0xAA, Y15, Y14, Y14
	// c3 becomes the new c2 (hi0 ^ c3 ^ k1) until the end of the round.
	VPXOR Y14, Y3, Y3
	VPXOR Y5, Y3, Y3
	// hi1, lo1 = M1·c2.
	VPMULUDQ Y7, Y2, Y14
	VPSRLQ $32, Y2, Y15
	VPMULUDQ Y7, Y15, Y15
	VPSLLQ $32, Y15, Y11
	VPBLENDD $0xAA, Y11, Y14, Y11
	VPSRLQ $32, Y14, Y14
	VPBLENDD $0xAA, Y15, Y14, Y14
	// (c0, c1, c2, c3) = (hi1 ^ c1 ^ k0, lo1, hi0 ^ c3 ^ k1, lo0).
	VPXOR Y14, Y1, Y0
	VPXOR Y4, Y0, Y0
	VMOVDQU Y11, Y1
	VMOVDQU Y3, Y2
	VMOVDQU Y10, Y3
	VPADDD Y8, Y4, Y4
	VPADDD Y9, Y5, Y5
	DECQ BX
	JNZ round

	VMOVDQU Y0, (DI)
	VMOVDQU Y1, (DI)(R8*1)
	VMOVDQU Y2, (DI)(R8*2)
	VMOVDQU Y3, (DI)(R9*1)
	ADDQ $32, DI
	VPADDD eight<>(SB), Y12, Y12
	SUBQ $8, CX
	JNZ group
	VZEROUPPER

philoxDone:
	RET

// func boxMullerAVX2(a, b *uint32, s, c *float64, n int)
// s[i], c[i] = BoxMuller(a[i], b[i]) for i < n, a positive multiple of 4.
TEXT ·boxMullerAVX2(SB), NOSPLIT, $0-40
	MOVQ a+0(FP), SI
	MOVQ b+8(FP), DI
	MOVQ s+16(FP), R8
	MOVQ c+24(FP), R9
	MOVQ n+32(FP), CX
	TESTQ CX, CX
	JEQ bmDone

loop:
	// u = (a + ½)·2⁻³²: a as int32 after flipping its top bit, plus 2³¹.
	VMOVDQU (SI), X0
	VPXOR sign32<>(SB), X0, X0
	VCVTDQ2PD X0, Y0
	VADDPD two31<>(SB), Y0, Y0
	VADDPD half<>(SB), Y0, Y0
	VMULPD twoM32<>(SB), Y0, Y0

	// ln u (lnUnit): e and m from the bits, m > √2 halved and e + 1.
	VPSRLQ $52, Y0, Y1
	VPAND fracMask<>(SB), Y0, Y2
	VPOR oneBits<>(SB), Y2, Y2
	VCMPPD $0x1e, sqrt2<>(SB), Y2, Y3
	VMULPD half<>(SB), Y2, Y4
	VBLENDVPD Y3, Y4, Y2, Y2
	VPSUBQ Y3, Y1, Y1
	// k = e − 1023 as a float64: 2⁵² + e read as a double, less 2⁵² + 1023.
	VPADDQ magic<>(SB), Y1, Y1
	VSUBPD magicBias<>(SB), Y1, Y1
	VSUBPD one<>(SB), Y2, Y2
	VADDPD two<>(SB), Y2, Y3
	VDIVPD Y3, Y2, Y3
	VMULPD Y3, Y3, Y4
	VMULPD Y4, Y4, Y5
	VMULPD lg6<>(SB), Y5, Y6
	VADDPD lg4<>(SB), Y6, Y6
	VMULPD Y5, Y6, Y6
	VADDPD lg2<>(SB), Y6, Y6
	VMULPD Y5, Y6, Y6
	VMULPD lg7<>(SB), Y5, Y7
	VADDPD lg5<>(SB), Y7, Y7
	VMULPD Y5, Y7, Y7
	VADDPD lg3<>(SB), Y7, Y7
	VMULPD Y5, Y7, Y7
	VADDPD lg1<>(SB), Y7, Y7
	VMULPD Y4, Y7, Y7
	VADDPD Y6, Y7, Y7
	VMULPD half<>(SB), Y2, Y8
	VMULPD Y2, Y8, Y8
	VADDPD Y7, Y8, Y9
	VMULPD Y3, Y9, Y9
	VMULPD ln2Lo<>(SB), Y1, Y10
	VADDPD Y10, Y9, Y9
	VSUBPD Y9, Y8, Y9
	VSUBPD Y2, Y9, Y9
	VMULPD ln2Hi<>(SB), Y1, Y10
	VSUBPD Y9, Y10, Y10
	// r = √(−2 ln u)
	VMULPD minus2<>(SB), Y10, Y10
	VSQRTPD Y10, Y10

	// v = (b + ½)·2⁻³², then sincosTurn(v): 4v = q + d, x = d·π/2.
	VMOVDQU (DI), X0
	VPXOR sign32<>(SB), X0, X0
	VCVTDQ2PD X0, Y0
	VADDPD two31<>(SB), Y0, Y0
	VADDPD half<>(SB), Y0, Y0
	VMULPD twoM32<>(SB), Y0, Y0
	VMULPD four<>(SB), Y0, Y0
	VROUNDPD $0, Y0, Y1
	VSUBPD Y1, Y0, Y0
	VMULPD piOver2<>(SB), Y0, Y0
	VMULPD Y0, Y0, Y2
	VMULPD sin6<>(SB), Y2, Y3
	VADDPD sin5<>(SB), Y3, Y3
	VMULPD Y2, Y3, Y3
	VADDPD sin4<>(SB), Y3, Y3
	VMULPD Y2, Y3, Y3
	VADDPD sin3<>(SB), Y3, Y3
	VMULPD Y2, Y3, Y3
	VADDPD sin2<>(SB), Y3, Y3
	VMULPD Y2, Y3, Y3
	VADDPD sin1<>(SB), Y3, Y3
	VMULPD Y0, Y2, Y4
	VMULPD Y4, Y3, Y3
	VADDPD Y0, Y3, Y3
	VMULPD cos6<>(SB), Y2, Y4
	VADDPD cos5<>(SB), Y4, Y4
	VMULPD Y2, Y4, Y4
	VADDPD cos4<>(SB), Y4, Y4
	VMULPD Y2, Y4, Y4
	VADDPD cos3<>(SB), Y4, Y4
	VMULPD Y2, Y4, Y4
	VADDPD cos2<>(SB), Y4, Y4
	VMULPD Y2, Y4, Y4
	VADDPD cos1<>(SB), Y4, Y4
	VMULPD Y2, Y4, Y4
	VMULPD half<>(SB), Y2, Y5
	VMOVUPD one<>(SB), Y6
	VSUBPD Y5, Y6, Y6
	VMOVUPD one<>(SB), Y7
	VSUBPD Y6, Y7, Y7
	VSUBPD Y5, Y7, Y7
	VMULPD Y4, Y2, Y8
	VADDPD Y8, Y7, Y7
	VADDPD Y7, Y6, Y6

	// Quadrant q: 1 → (c, −s), 2 → (−s, −c), 3 → (−c, s), 0 or 4 → (s, c).
	VCMPPD $0, one<>(SB), Y1, Y7
	VCMPPD $0, three<>(SB), Y1, Y8
	VCMPPD $0, two<>(SB), Y1, Y9
	VORPD Y8, Y7, Y11
	VBLENDVPD Y11, Y6, Y3, Y12
	VBLENDVPD Y11, Y3, Y6, Y13
	VORPD Y8, Y9, Y14
	VANDPD signbit64<>(SB), Y14, Y14
	VXORPD Y14, Y12, Y12
	VORPD Y7, Y9, Y14
	VANDPD signbit64<>(SB), Y14, Y14
	VXORPD Y14, Y13, Y13
	VMULPD Y10, Y12, Y12
	VMULPD Y10, Y13, Y13
	VMOVUPD Y12, (R8)
	VMOVUPD Y13, (R9)

	ADDQ $16, SI
	ADDQ $16, DI
	ADDQ $32, R8
	ADDQ $32, R9
	SUBQ $4, CX
	JNZ loop
	VZEROUPPER

bmDone:
	RET

DATA two31<>+0(SB)/8, $0x41e0000000000000
DATA two31<>+8(SB)/8, $0x41e0000000000000
DATA two31<>+16(SB)/8, $0x41e0000000000000
DATA two31<>+24(SB)/8, $0x41e0000000000000
GLOBL two31<>(SB), RODATA|NOPTR, $32
DATA half<>+0(SB)/8, $0x3fe0000000000000
DATA half<>+8(SB)/8, $0x3fe0000000000000
DATA half<>+16(SB)/8, $0x3fe0000000000000
DATA half<>+24(SB)/8, $0x3fe0000000000000
GLOBL half<>(SB), RODATA|NOPTR, $32
DATA twoM32<>+0(SB)/8, $0x3df0000000000000
DATA twoM32<>+8(SB)/8, $0x3df0000000000000
DATA twoM32<>+16(SB)/8, $0x3df0000000000000
DATA twoM32<>+24(SB)/8, $0x3df0000000000000
GLOBL twoM32<>(SB), RODATA|NOPTR, $32
DATA fracMask<>+0(SB)/8, $0x000fffffffffffff
DATA fracMask<>+8(SB)/8, $0x000fffffffffffff
DATA fracMask<>+16(SB)/8, $0x000fffffffffffff
DATA fracMask<>+24(SB)/8, $0x000fffffffffffff
GLOBL fracMask<>(SB), RODATA|NOPTR, $32
DATA oneBits<>+0(SB)/8, $0x3ff0000000000000
DATA oneBits<>+8(SB)/8, $0x3ff0000000000000
DATA oneBits<>+16(SB)/8, $0x3ff0000000000000
DATA oneBits<>+24(SB)/8, $0x3ff0000000000000
GLOBL oneBits<>(SB), RODATA|NOPTR, $32
DATA sqrt2<>+0(SB)/8, $0x3ff6a09e667f3bcd
DATA sqrt2<>+8(SB)/8, $0x3ff6a09e667f3bcd
DATA sqrt2<>+16(SB)/8, $0x3ff6a09e667f3bcd
DATA sqrt2<>+24(SB)/8, $0x3ff6a09e667f3bcd
GLOBL sqrt2<>(SB), RODATA|NOPTR, $32
DATA magic<>+0(SB)/8, $0x4330000000000000
DATA magic<>+8(SB)/8, $0x4330000000000000
DATA magic<>+16(SB)/8, $0x4330000000000000
DATA magic<>+24(SB)/8, $0x4330000000000000
GLOBL magic<>(SB), RODATA|NOPTR, $32
DATA magicBias<>+0(SB)/8, $0x43300000000003ff
DATA magicBias<>+8(SB)/8, $0x43300000000003ff
DATA magicBias<>+16(SB)/8, $0x43300000000003ff
DATA magicBias<>+24(SB)/8, $0x43300000000003ff
GLOBL magicBias<>(SB), RODATA|NOPTR, $32
DATA one<>+0(SB)/8, $0x3ff0000000000000
DATA one<>+8(SB)/8, $0x3ff0000000000000
DATA one<>+16(SB)/8, $0x3ff0000000000000
DATA one<>+24(SB)/8, $0x3ff0000000000000
GLOBL one<>(SB), RODATA|NOPTR, $32
DATA two<>+0(SB)/8, $0x4000000000000000
DATA two<>+8(SB)/8, $0x4000000000000000
DATA two<>+16(SB)/8, $0x4000000000000000
DATA two<>+24(SB)/8, $0x4000000000000000
GLOBL two<>(SB), RODATA|NOPTR, $32
DATA three<>+0(SB)/8, $0x4008000000000000
DATA three<>+8(SB)/8, $0x4008000000000000
DATA three<>+16(SB)/8, $0x4008000000000000
DATA three<>+24(SB)/8, $0x4008000000000000
GLOBL three<>(SB), RODATA|NOPTR, $32
DATA four<>+0(SB)/8, $0x4010000000000000
DATA four<>+8(SB)/8, $0x4010000000000000
DATA four<>+16(SB)/8, $0x4010000000000000
DATA four<>+24(SB)/8, $0x4010000000000000
GLOBL four<>(SB), RODATA|NOPTR, $32
DATA minus2<>+0(SB)/8, $0xc000000000000000
DATA minus2<>+8(SB)/8, $0xc000000000000000
DATA minus2<>+16(SB)/8, $0xc000000000000000
DATA minus2<>+24(SB)/8, $0xc000000000000000
GLOBL minus2<>(SB), RODATA|NOPTR, $32
DATA signbit64<>+0(SB)/8, $0x8000000000000000
DATA signbit64<>+8(SB)/8, $0x8000000000000000
DATA signbit64<>+16(SB)/8, $0x8000000000000000
DATA signbit64<>+24(SB)/8, $0x8000000000000000
GLOBL signbit64<>(SB), RODATA|NOPTR, $32
DATA lg1<>+0(SB)/8, $0x3fe5555555555593
DATA lg1<>+8(SB)/8, $0x3fe5555555555593
DATA lg1<>+16(SB)/8, $0x3fe5555555555593
DATA lg1<>+24(SB)/8, $0x3fe5555555555593
GLOBL lg1<>(SB), RODATA|NOPTR, $32
DATA lg2<>+0(SB)/8, $0x3fd999999997fa04
DATA lg2<>+8(SB)/8, $0x3fd999999997fa04
DATA lg2<>+16(SB)/8, $0x3fd999999997fa04
DATA lg2<>+24(SB)/8, $0x3fd999999997fa04
GLOBL lg2<>(SB), RODATA|NOPTR, $32
DATA lg3<>+0(SB)/8, $0x3fd2492494229359
DATA lg3<>+8(SB)/8, $0x3fd2492494229359
DATA lg3<>+16(SB)/8, $0x3fd2492494229359
DATA lg3<>+24(SB)/8, $0x3fd2492494229359
GLOBL lg3<>(SB), RODATA|NOPTR, $32
DATA lg4<>+0(SB)/8, $0x3fcc71c51d8e78af
DATA lg4<>+8(SB)/8, $0x3fcc71c51d8e78af
DATA lg4<>+16(SB)/8, $0x3fcc71c51d8e78af
DATA lg4<>+24(SB)/8, $0x3fcc71c51d8e78af
GLOBL lg4<>(SB), RODATA|NOPTR, $32
DATA lg5<>+0(SB)/8, $0x3fc7466496cb03de
DATA lg5<>+8(SB)/8, $0x3fc7466496cb03de
DATA lg5<>+16(SB)/8, $0x3fc7466496cb03de
DATA lg5<>+24(SB)/8, $0x3fc7466496cb03de
GLOBL lg5<>(SB), RODATA|NOPTR, $32
DATA lg6<>+0(SB)/8, $0x3fc39a09d078c69f
DATA lg6<>+8(SB)/8, $0x3fc39a09d078c69f
DATA lg6<>+16(SB)/8, $0x3fc39a09d078c69f
DATA lg6<>+24(SB)/8, $0x3fc39a09d078c69f
GLOBL lg6<>(SB), RODATA|NOPTR, $32
DATA lg7<>+0(SB)/8, $0x3fc2f112df3e5244
DATA lg7<>+8(SB)/8, $0x3fc2f112df3e5244
DATA lg7<>+16(SB)/8, $0x3fc2f112df3e5244
DATA lg7<>+24(SB)/8, $0x3fc2f112df3e5244
GLOBL lg7<>(SB), RODATA|NOPTR, $32
DATA ln2Hi<>+0(SB)/8, $0x3fe62e42fee00000
DATA ln2Hi<>+8(SB)/8, $0x3fe62e42fee00000
DATA ln2Hi<>+16(SB)/8, $0x3fe62e42fee00000
DATA ln2Hi<>+24(SB)/8, $0x3fe62e42fee00000
GLOBL ln2Hi<>(SB), RODATA|NOPTR, $32
DATA ln2Lo<>+0(SB)/8, $0x3dea39ef35793c76
DATA ln2Lo<>+8(SB)/8, $0x3dea39ef35793c76
DATA ln2Lo<>+16(SB)/8, $0x3dea39ef35793c76
DATA ln2Lo<>+24(SB)/8, $0x3dea39ef35793c76
GLOBL ln2Lo<>(SB), RODATA|NOPTR, $32
DATA piOver2<>+0(SB)/8, $0x3ff921fb54442d18
DATA piOver2<>+8(SB)/8, $0x3ff921fb54442d18
DATA piOver2<>+16(SB)/8, $0x3ff921fb54442d18
DATA piOver2<>+24(SB)/8, $0x3ff921fb54442d18
GLOBL piOver2<>(SB), RODATA|NOPTR, $32
DATA sin1<>+0(SB)/8, $0xbfc5555555555549
DATA sin1<>+8(SB)/8, $0xbfc5555555555549
DATA sin1<>+16(SB)/8, $0xbfc5555555555549
DATA sin1<>+24(SB)/8, $0xbfc5555555555549
GLOBL sin1<>(SB), RODATA|NOPTR, $32
DATA sin2<>+0(SB)/8, $0x3f8111111110f8a6
DATA sin2<>+8(SB)/8, $0x3f8111111110f8a6
DATA sin2<>+16(SB)/8, $0x3f8111111110f8a6
DATA sin2<>+24(SB)/8, $0x3f8111111110f8a6
GLOBL sin2<>(SB), RODATA|NOPTR, $32
DATA sin3<>+0(SB)/8, $0xbf2a01a019c161d5
DATA sin3<>+8(SB)/8, $0xbf2a01a019c161d5
DATA sin3<>+16(SB)/8, $0xbf2a01a019c161d5
DATA sin3<>+24(SB)/8, $0xbf2a01a019c161d5
GLOBL sin3<>(SB), RODATA|NOPTR, $32
DATA sin4<>+0(SB)/8, $0x3ec71de357b1fe7d
DATA sin4<>+8(SB)/8, $0x3ec71de357b1fe7d
DATA sin4<>+16(SB)/8, $0x3ec71de357b1fe7d
DATA sin4<>+24(SB)/8, $0x3ec71de357b1fe7d
GLOBL sin4<>(SB), RODATA|NOPTR, $32
DATA sin5<>+0(SB)/8, $0xbe5ae5e68a2b9ceb
DATA sin5<>+8(SB)/8, $0xbe5ae5e68a2b9ceb
DATA sin5<>+16(SB)/8, $0xbe5ae5e68a2b9ceb
DATA sin5<>+24(SB)/8, $0xbe5ae5e68a2b9ceb
GLOBL sin5<>(SB), RODATA|NOPTR, $32
DATA sin6<>+0(SB)/8, $0x3de5d93a5acfd57c
DATA sin6<>+8(SB)/8, $0x3de5d93a5acfd57c
DATA sin6<>+16(SB)/8, $0x3de5d93a5acfd57c
DATA sin6<>+24(SB)/8, $0x3de5d93a5acfd57c
GLOBL sin6<>(SB), RODATA|NOPTR, $32
DATA cos1<>+0(SB)/8, $0x3fa555555555554c
DATA cos1<>+8(SB)/8, $0x3fa555555555554c
DATA cos1<>+16(SB)/8, $0x3fa555555555554c
DATA cos1<>+24(SB)/8, $0x3fa555555555554c
GLOBL cos1<>(SB), RODATA|NOPTR, $32
DATA cos2<>+0(SB)/8, $0xbf56c16c16c15177
DATA cos2<>+8(SB)/8, $0xbf56c16c16c15177
DATA cos2<>+16(SB)/8, $0xbf56c16c16c15177
DATA cos2<>+24(SB)/8, $0xbf56c16c16c15177
GLOBL cos2<>(SB), RODATA|NOPTR, $32
DATA cos3<>+0(SB)/8, $0x3efa01a019cb1590
DATA cos3<>+8(SB)/8, $0x3efa01a019cb1590
DATA cos3<>+16(SB)/8, $0x3efa01a019cb1590
DATA cos3<>+24(SB)/8, $0x3efa01a019cb1590
GLOBL cos3<>(SB), RODATA|NOPTR, $32
DATA cos4<>+0(SB)/8, $0xbe927e4f809c52ad
DATA cos4<>+8(SB)/8, $0xbe927e4f809c52ad
DATA cos4<>+16(SB)/8, $0xbe927e4f809c52ad
DATA cos4<>+24(SB)/8, $0xbe927e4f809c52ad
GLOBL cos4<>(SB), RODATA|NOPTR, $32
DATA cos5<>+0(SB)/8, $0x3e21ee9ebdb4b1c4
DATA cos5<>+8(SB)/8, $0x3e21ee9ebdb4b1c4
DATA cos5<>+16(SB)/8, $0x3e21ee9ebdb4b1c4
DATA cos5<>+24(SB)/8, $0x3e21ee9ebdb4b1c4
GLOBL cos5<>(SB), RODATA|NOPTR, $32
DATA cos6<>+0(SB)/8, $0xbda8fae9be8838d4
DATA cos6<>+8(SB)/8, $0xbda8fae9be8838d4
DATA cos6<>+16(SB)/8, $0xbda8fae9be8838d4
DATA cos6<>+24(SB)/8, $0xbda8fae9be8838d4
GLOBL cos6<>(SB), RODATA|NOPTR, $32
DATA sign32<>+0(SB)/4, $0x80000000
DATA sign32<>+4(SB)/4, $0x80000000
DATA sign32<>+8(SB)/4, $0x80000000
DATA sign32<>+12(SB)/4, $0x80000000
DATA sign32<>+16(SB)/4, $0x80000000
DATA sign32<>+20(SB)/4, $0x80000000
DATA sign32<>+24(SB)/4, $0x80000000
DATA sign32<>+28(SB)/4, $0x80000000
GLOBL sign32<>(SB), RODATA|NOPTR, $32
DATA lanes<>+0(SB)/4, $0x00000000
DATA lanes<>+4(SB)/4, $0x00000001
DATA lanes<>+8(SB)/4, $0x00000002
DATA lanes<>+12(SB)/4, $0x00000003
DATA lanes<>+16(SB)/4, $0x00000004
DATA lanes<>+20(SB)/4, $0x00000005
DATA lanes<>+24(SB)/4, $0x00000006
DATA lanes<>+28(SB)/4, $0x00000007
GLOBL lanes<>(SB), RODATA|NOPTR, $32
DATA eight<>+0(SB)/4, $0x00000008
DATA eight<>+4(SB)/4, $0x00000008
DATA eight<>+8(SB)/4, $0x00000008
DATA eight<>+12(SB)/4, $0x00000008
DATA eight<>+16(SB)/4, $0x00000008
DATA eight<>+20(SB)/4, $0x00000008
DATA eight<>+24(SB)/4, $0x00000008
DATA eight<>+28(SB)/4, $0x00000008
GLOBL eight<>(SB), RODATA|NOPTR, $32
DATA philoxM0<>+0(SB)/4, $0xd2511f53
DATA philoxM0<>+4(SB)/4, $0xd2511f53
DATA philoxM0<>+8(SB)/4, $0xd2511f53
DATA philoxM0<>+12(SB)/4, $0xd2511f53
DATA philoxM0<>+16(SB)/4, $0xd2511f53
DATA philoxM0<>+20(SB)/4, $0xd2511f53
DATA philoxM0<>+24(SB)/4, $0xd2511f53
DATA philoxM0<>+28(SB)/4, $0xd2511f53
GLOBL philoxM0<>(SB), RODATA|NOPTR, $32
DATA philoxM1<>+0(SB)/4, $0xcd9e8d57
DATA philoxM1<>+4(SB)/4, $0xcd9e8d57
DATA philoxM1<>+8(SB)/4, $0xcd9e8d57
DATA philoxM1<>+12(SB)/4, $0xcd9e8d57
DATA philoxM1<>+16(SB)/4, $0xcd9e8d57
DATA philoxM1<>+20(SB)/4, $0xcd9e8d57
DATA philoxM1<>+24(SB)/4, $0xcd9e8d57
DATA philoxM1<>+28(SB)/4, $0xcd9e8d57
GLOBL philoxM1<>(SB), RODATA|NOPTR, $32
DATA philoxW0<>+0(SB)/4, $0x9e3779b9
DATA philoxW0<>+4(SB)/4, $0x9e3779b9
DATA philoxW0<>+8(SB)/4, $0x9e3779b9
DATA philoxW0<>+12(SB)/4, $0x9e3779b9
DATA philoxW0<>+16(SB)/4, $0x9e3779b9
DATA philoxW0<>+20(SB)/4, $0x9e3779b9
DATA philoxW0<>+24(SB)/4, $0x9e3779b9
DATA philoxW0<>+28(SB)/4, $0x9e3779b9
GLOBL philoxW0<>(SB), RODATA|NOPTR, $32
DATA philoxW1<>+0(SB)/4, $0xbb67ae85
DATA philoxW1<>+4(SB)/4, $0xbb67ae85
DATA philoxW1<>+8(SB)/4, $0xbb67ae85
DATA philoxW1<>+12(SB)/4, $0xbb67ae85
DATA philoxW1<>+16(SB)/4, $0xbb67ae85
DATA philoxW1<>+20(SB)/4, $0xbb67ae85
DATA philoxW1<>+24(SB)/4, $0xbb67ae85
DATA philoxW1<>+28(SB)/4, $0xbb67ae85
GLOBL philoxW1<>(SB), RODATA|NOPTR, $32
