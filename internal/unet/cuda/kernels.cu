// Kernels of ctseg's CUDA engine (package internal/unet/cuda): the book's
// U-Net forward and backward pass, loss, metrics, Adam and augmentation.
//
// tools/cuda/build_ptx.sh compiles this file to the PTX under ptx/, which
// the engine embeds; the driver JIT-compiles it for the GPU present.
//
// Every kernel is barrier-free: one thread computes its outputs alone, with
// no shared memory, no __syncthreads, no warp intrinsics and no atomics.
// Reductions write per-thread partial sums that later kernels add in a
// fixed order, so results do not depend on scheduling (the engine is
// deterministic), and the same source compiles with a C++ compiler for the
// CPU emulator of internal/unet/cuda/emu, which runs the conformance suite
// on these kernels without a GPU. Launches are 1-D: thread t of
// blockIdx.x·blockDim.x + threadIdx.x < the launch's thread count (an
// argument, or implied by the shapes) does work; the rest return.
//
// Floating point: the PTX is compiled with -fmad=false, so nothing is fused
// behind the code's back: the convolutions' sums fuse explicitly (fmaf),
// everything else rounds every operation, as the CPU engine and PyTorch's
// CPU kernels do. The emulator (no contraction, libm's fmaf) then computes
// the same IEEE operations in the same order as the GPU; only the float64
// exp, log, sin and cos of the sigmoid and the noise may differ in the last
// bit. (The _rn intrinsics left in some kernels say the same thing again.)
//
// Tensors are NCHW float32. Arguments are pointers (8 bytes), int, unsigned,
// float or double, as the Go side (program.go) passes them; a unit test
// checks every launch against the PTX signatures.

#ifndef __CUDACC__
#include "emu.h" // the CPU emulator's (internal/unet/cuda/emu), which compiles a copy of this file
#endif

#define TID() ((long long)blockIdx.x * blockDim.x + threadIdx.x)

__device__ __forceinline__ int imin(int a, int b) { return a < b ? a : b; }

// ---------------------------------------------------------------------------
// Augmentation (package internal/augment's doc, exactly)

#define PHILOX_M0 0xD2511F53u
#define PHILOX_M1 0xCD9E8D57u
#define PHILOX_W0 0x9E3779B9u
#define PHILOX_W1 0xBB67AE85u
#define TWO_M32 (1.0 / 4294967296.0)

// philox is Philox4x32-10 of counter c under key (k0, k1), in place.
__device__ __forceinline__ void philox(unsigned c[4], unsigned k0, unsigned k1) {
	for (int r = 0; r < 10; r++) {
		if (r > 0) {
			k0 += PHILOX_W0;
			k1 += PHILOX_W1;
		}
		unsigned hi0 = __umulhi(PHILOX_M0, c[0]), lo0 = PHILOX_M0 * c[0];
		unsigned hi1 = __umulhi(PHILOX_M1, c[2]), lo1 = PHILOX_M1 * c[2];
		unsigned n0 = hi1 ^ c[1] ^ k0, n2 = hi0 ^ c[3] ^ k1;
		c[0] = n0;
		c[1] = lo1;
		c[2] = n2;
		c[3] = lo0;
	}
}

// boxMuller is augment.BoxMuller in float64, without contractions.
__device__ __forceinline__ void boxMuller(unsigned a, unsigned b, double* n0, double* n1) {
	double u = __dmul_rn(__dadd_rn((double)a, 0.5), TWO_M32);
	double r = sqrt(__dmul_rn(-2.0, log(u)));
	double phi = __dmul_rn(__dmul_rn(2.0 * 3.141592653589793, __dadd_rn((double)b, 0.5)), TWO_M32);
	*n0 = __dmul_rn(r, sin(phi));
	*n1 = __dmul_rn(r, cos(phi));
}

// unnormalise is augment's: pixel coordinate of v on an axis of n pixels,
// clamped to [0, n−1] (border padding), NaN to 0.
__device__ __forceinline__ double unnormalise(double v, int n) {
	double p = __dadd_rn(__dmul_rn(__dadd_rn(v, 1.0), (double)n), -1.0) / 2.0;
	if (!(p > 0)) return 0;
	return p < (double)(n - 1) ? p : (double)(n - 1);
}

// Tap is one output pixel's bilinear interpolation (augment.tap).
struct Tap {
	int at[4];
	double wt[4];
};

// gridTap is augment.NewGrid's tap of output pixel (r, q) under θ.
__device__ __forceinline__ Tap gridTap(int r, int q, int H, int W, const double t[6]) {
	double y = (double)(2 * r + 1) / (double)H - 1.0;
	double x = (double)(2 * q + 1) / (double)W - 1.0;
	double vx = __dadd_rn(__dadd_rn(__dmul_rn(t[0], x), __dmul_rn(t[1], y)), t[2]);
	double vy = __dadd_rn(__dadd_rn(__dmul_rn(t[3], x), __dmul_rn(t[4], y)), t[5]);
	double ix = unnormalise(vx, W), iy = unnormalise(vy, H);
	double x0 = floor(ix), y0 = floor(iy);
	double fx = ix - x0, fy = iy - y0;
	int c0 = (int)x0, r0 = (int)y0;
	int c1 = imin(c0 + 1, W - 1), r1 = imin(r0 + 1, H - 1);
	Tap tp;
	tp.at[0] = r0 * W + c0;
	tp.at[1] = r0 * W + c1;
	tp.at[2] = r1 * W + c0;
	tp.at[3] = r1 * W + c1;
	tp.wt[0] = __dmul_rn(1.0 - fx, 1.0 - fy);
	tp.wt[1] = __dmul_rn(fx, 1.0 - fy);
	tp.wt[2] = __dmul_rn(1.0 - fx, fy);
	tp.wt[3] = __dmul_rn(fx, fy);
	return tp;
}

// sampleTap is augment.Sample's value of one tap on one plane.
template <typename T>
__device__ __forceinline__ float sampleTap(const Tap& tp, const T* plane) {
	double s = __dmul_rn(tp.wt[0], (double)plane[tp.at[0]]);
	s = __dadd_rn(s, __dmul_rn(tp.wt[1], (double)plane[tp.at[1]]));
	s = __dadd_rn(s, __dmul_rn(tp.wt[2], (double)plane[tp.at[2]]));
	s = __dadd_rn(s, __dmul_rn(tp.wt[3], (double)plane[tp.at[3]]));
	return (float)s;
}

// augment_windows writes x, the planes×H×W windows sampled under θ plus
// noise of σ (none when 0) of key (k0, k1), step (s0, s1). Thread t does
// elements 4t…4t+3, whose noise is Philox block t of stream 0.
extern "C" __global__ void augment_windows(const short* __restrict__ win, float* __restrict__ x, int planes, int H, int W,
                                           float t0, float t1, float t2, float t3, float t4, float t5,
                                           unsigned k0, unsigned k1, unsigned s0, unsigned s1, float sigma) {
	const long long total = (long long)planes * H * W;
	if (4 * TID() >= total) return;
	const int t = (int)TID();
	double th[6] = {t0, t1, t2, t3, t4, t5};
	double nz[4] = {0, 0, 0, 0};
	if (sigma != 0) {
		unsigned c[4] = {(unsigned)t, 0u, s0, s1};
		philox(c, k0, k1);
		boxMuller(c[0], c[1], &nz[0], &nz[1]);
		boxMuller(c[2], c[3], &nz[2], &nz[3]);
	}
	int HW = H * W;
	double sg = (double)sigma;
	for (int i = 0; i < 4; i++) {
		const int e = 4 * t + i;
		if (e >= total) break;
		const int plane = e / HW, pix = e % HW;
		Tap tp = gridTap(pix / W, pix % W, H, W, th);
		float v = sampleTap(tp, win + (long long)plane * HW);
		if (sigma != 0) v = v + (float)(sg * nz[i]);
		x[e] = v;
	}
}

// augment_labels writes the planes×H×W labels sampled under θ and
// thresholded (> 0.5 is 1).
extern "C" __global__ void augment_labels(const unsigned char* __restrict__ lab, float* __restrict__ y, int planes, int H,
                                          int W, float t0, float t1, float t2, float t3, float t4, float t5) {
	const int HW = H * W;
	if (TID() >= (long long)planes * HW) return;
	const int e = (int)TID();
	double th[6] = {t0, t1, t2, t3, t4, t5};
	const int plane = e / HW, pix = e % HW;
	Tap tp = gridTap(pix / W, pix % W, H, W, th);
	float v = sampleTap(tp, lab + (long long)plane * HW);
	y[e] = v > 0.5f ? 1.0f : 0.0f;
}

// ---------------------------------------------------------------------------
// Reductions: per-thread partials in float64, added by sum_f/sum_d in
// groups of a fixed size until one value per output is left.

// chan_partial writes per-channel partial sums over an N×ctot×HW tensor's
// channels c0…c0+C−1: thread (c, j), j < J fastest, adds elements j, j+J, …
// of the channel's N·HW. mode 0: Σx, Σx² (2 values); mode 1: Σy,
// Σy·(x−mean[c]) (2 values; y of x's layout); mode 2: Σx (1 value).
// part[(j·C + c)·vals + v].
extern "C" __global__ void chan_partial(const float* __restrict__ x, const float* __restrict__ y,
                                        const double* __restrict__ mean, int ctot, int c0, int C, int N, int HW, int J,
                                        int mode, double* __restrict__ part) {
	if (TID() >= (long long)C * J) return;
	const int t = (int)TID();
	const int c = t / J, j = t % J;
	// Element i = j + k·J of the channel is pixel p of sample n; step both
	// without dividing.
	const int dn = J / HW, dp = J % HW;
	int n = j / HW, p = j % HW;
	double a = 0, b = 0, m = mode == 1 ? mean[c] : 0;
	for (; n < N; n += dn) {
		long long at = ((long long)n * ctot + c0 + c) * HW + p;
		double v = x[at];
		if (mode == 0) {
			a += v;
			b += v * v;
		} else if (mode == 1) {
			double d = y[at];
			a += d;
			b += d * (v - m);
		} else {
			a += v;
		}
		p += dp;
		if (p >= HW) {
			p -= HW;
			n++;
		}
	}
	if (mode == 2) {
		part[(long long)j * C + c] = a;
	} else {
		part[((long long)j * C + c) * 2] = a;
		part[((long long)j * C + c) * 2 + 1] = b;
	}
}

// sum_f adds float partials in[len][nw] in groups of G along len:
// out[g][w] = Σ in[k][w] for k in group g, in order, in float64. With
// fout set (then one group) it writes float32 to fout instead.
extern "C" __global__ void sum_f(const float* __restrict__ in, int len, int nw, int G, double* __restrict__ out,
                                 float* __restrict__ fout) {
	int groups = (len + G - 1) / G;
	if (TID() >= (long long)groups * nw) return;
	const int t = (int)TID();
	const int g = t / nw, w = t % nw;
	int k1 = imin(len, (g + 1) * G);
	double s = 0;
	for (int k = g * G; k < k1; k++) s += (double)in[(long long)k * nw + w];
	if (fout)
		fout[w] = (float)s;
	else
		out[t] = s;
}

// sum_d is sum_f over float64 partials.
extern "C" __global__ void sum_d(const double* __restrict__ in, int len, int nw, int G, double* __restrict__ out,
                                 float* __restrict__ fout) {
	int groups = (len + G - 1) / G;
	if (TID() >= (long long)groups * nw) return;
	const int t = (int)TID();
	const int g = t / nw, w = t % nw;
	int k1 = imin(len, (g + 1) * G);
	double s = 0;
	for (int k = g * G; k < k1; k++) s += in[(long long)k * nw + w];
	if (fout)
		fout[w] = (float)s;
	else
		out[t] = s;
}

// ---------------------------------------------------------------------------
// BatchNorm (nn.BN): batch statistics and running statistics in float64.

// bn_stats_final turns the sums Σx, Σx² of C channels of count values into
// the batch mean and 1/√(var+eps), updates the running statistics with the
// unbiased variance, and writes the per-channel affine of the forward pass.
extern "C" __global__ void bn_stats_final(const double* __restrict__ sums, int C, double count,
                                          const float* __restrict__ gamma, const float* __restrict__ beta,
                                          float* __restrict__ run_mean, float* __restrict__ run_var, double momentum,
                                          double eps, double* __restrict__ mean, double* __restrict__ invstd,
                                          float* __restrict__ scale, float* __restrict__ shift) {
	long long c = TID();
	if (c >= C) return;
	double mu = sums[2 * c] / count;
	double var = sums[2 * c + 1] / count - __dmul_rn(mu, mu);
	if (var < 0) var = 0;
	double inv = 1.0 / sqrt(var + eps);
	double unbias = count > 1 ? count / (count - 1) : 1.0;
	run_mean[c] = (float)__dadd_rn(__dmul_rn(momentum, mu), __dmul_rn(1 - momentum, (double)run_mean[c]));
	run_var[c] = (float)__dadd_rn(__dmul_rn(__dmul_rn(momentum, var), unbias), __dmul_rn(1 - momentum, (double)run_var[c]));
	mean[c] = mu;
	invstd[c] = inv;
	scale[c] = (float)__dmul_rn(inv, (double)gamma[c]);
	shift[c] = (float)__dadd_rn((double)beta[c], -__dmul_rn(__dmul_rn(mu, inv), (double)gamma[c]));
}

// bn_eval_affine writes the evaluation-mode affine of C channels
// (nn.BN.EvalAffine).
extern "C" __global__ void bn_eval_affine(const float* __restrict__ gamma, const float* __restrict__ beta,
                                          const float* __restrict__ rm, const float* __restrict__ rv, double eps,
                                          float* __restrict__ scale, float* __restrict__ shift, int C) {
	long long c = TID();
	if (c >= C) return;
	double inv = 1.0 / sqrt((double)rv[c] + eps);
	scale[c] = (float)__dmul_rn(inv, (double)gamma[c]);
	shift[c] = (float)__dadd_rn((double)beta[c], -__dmul_rn(__dmul_rn((double)rm[c], inv), (double)gamma[c]));
}

// bn_apply writes y = x·scale[c] + shift[c] over N×C×HW (total values).
extern "C" __global__ void bn_apply(const float* __restrict__ x, float* __restrict__ y, const float* __restrict__ scale,
                                    const float* __restrict__ shift, int C, int HW, int total) {
	if (TID() >= total) return;
	const int i = (int)TID();
	const int c = (i / HW) % C;
	y[i] = x[i] * scale[c] + shift[c];
}

// bn_bwd_final turns the sums Σdy, Σdy·(x−mean) into dγ, dβ and, when
// coef is set, the coefficients (a, b, k, mean) of dx = a·dy + b·(x−mean) + k.
extern "C" __global__ void bn_bwd_final(const double* __restrict__ sums, int C, double count,
                                        const float* __restrict__ gamma, const double* __restrict__ mean,
                                        const double* __restrict__ invstd, float* __restrict__ dgamma,
                                        float* __restrict__ dbeta, float* __restrict__ coef) {
	long long c = TID();
	if (c >= C) return;
	double sdy = sums[2 * c], sdyx = sums[2 * c + 1], inv = invstd[c];
	dgamma[c] = (float)(sdyx * inv);
	dbeta[c] = (float)sdy;
	if (!coef) return;
	double g = (double)gamma[c] * inv;
	coef[4 * c] = (float)g;
	coef[4 * c + 1] = (float)(-g * sdyx * inv * inv / count);
	coef[4 * c + 2] = (float)(-g * sdy / count);
	coef[4 * c + 3] = (float)mean[c];
}

// bn_bwd_apply turns d (∂/∂ the BatchNorm output) into ∂/∂ its input, in
// place, and with relu set into ∂/∂ the input of the ReLU before it (zero
// where x, the ReLU output, is not positive).
extern "C" __global__ void bn_bwd_apply(const float* __restrict__ x, float* __restrict__ d,
                                        const float* __restrict__ coef, int C, int HW, int total, int relu) {
	if (TID() >= total) return;
	const int i = (int)TID();
	const int c = (i / HW) % C;
	float xv = x[i];
	float v = coef[4 * c] * d[i] + coef[4 * c + 1] * (xv - coef[4 * c + 3]) + coef[4 * c + 2];
	if (relu && !(xv > 0)) v = 0;
	d[i] = v;
}

// ---------------------------------------------------------------------------
// Convolutions

#define COB 16 // output channels per thread
#define PX 4   // output columns per thread

// conv3x3 is Conv2d(3×3, padding 1) of cat(A, B) (channels [0, CA) from A,
// N×CA×H×W, the rest from B, N×CB×H×W), weight Cout×(CA+CB)×3×3, bias
// (or none), then ReLU when relu is set, then y·scale[c] + shift[c] when
// scale is set. Thread: sample n, 16 output channels, row h, 4 columns.
// The backward data pass is this kernel on the flipped, transposed weights.
extern "C" __global__ void conv3x3(const float* __restrict__ A, int CA, const float* __restrict__ B, int CB,
                                   const float* __restrict__ w, const float* __restrict__ bias, float* __restrict__ y,
                                   int N, int Cout, int H, int W, int relu, const float* __restrict__ scale,
                                   const float* __restrict__ shift) {
	const int strips = (W + PX - 1) / PX, groups = (Cout + COB - 1) / COB;
	if (TID() >= (long long)N * groups * H * strips) return;
	int t = (int)TID();
	const int s = t % strips;
	t /= strips;
	const int h = t % H;
	t /= H;
	const int g = t % groups;
	const int n = t / groups;
	const int c0 = s * PX, co0 = g * COB, Cin = CA + CB, HW = H * W;
	const int nco = imin(COB, Cout - co0);
	float acc[COB][PX];
#pragma unroll
	for (int j = 0; j < COB; j++)
#pragma unroll
		for (int p = 0; p < PX; p++) acc[j][p] = 0;
	for (int ci = 0; ci < Cin; ci++) {
		const float* xp = ci < CA ? A + ((long long)n * CA + ci) * HW : B + ((long long)n * CB + ci - CA) * HW;
		float in[3][PX + 2];
#pragma unroll
		for (int ky = 0; ky < 3; ky++) {
			int r = h + ky - 1;
			bool rv = r >= 0 && r < H;
#pragma unroll
			for (int kx = 0; kx < PX + 2; kx++) {
				int c = c0 - 1 + kx;
				in[ky][kx] = (rv && c >= 0 && c < W) ? xp[r * W + c] : 0.0f;
			}
		}
		const float* wp = w + ((long long)co0 * Cin + ci) * 9;
#pragma unroll
		for (int j = 0; j < COB; j++) {
			if (j < nco) {
				const float* wj = wp + (long long)j * Cin * 9;
#pragma unroll
				for (int k = 0; k < 9; k++) {
					float wv = wj[k];
#pragma unroll
					for (int p = 0; p < PX; p++) acc[j][p] = fmaf(wv, in[k / 3][p + k % 3], acc[j][p]);
				}
			}
		}
	}
#pragma unroll
	for (int j = 0; j < COB; j++) {
		if (j >= nco) break;
		int co = co0 + j;
		float b = bias ? bias[co] : 0.0f;
		float sc = scale ? scale[co] : 1.0f, sh = scale ? shift[co] : 0.0f;
		float* yr = y + (((long long)n * Cout + co) * H + h) * W;
#pragma unroll
		for (int p = 0; p < PX; p++) {
			int c = c0 + p;
			if (c < W) {
				float v = acc[j][p] + b;
				if (relu) v = v > 0 ? v : 0.0f;
				if (scale) v = v * sc + sh;
				yr[c] = v;
			}
		}
	}
}

// conv1x1 is Conv2d(1×1): x N×Cin×HW, weight Cout×Cin, bias (or none).
// Thread: one pixel of one sample, all output channels.
extern "C" __global__ void conv1x1(const float* __restrict__ x, int Cin, const float* __restrict__ w,
                                   const float* __restrict__ bias, float* __restrict__ y, int N, int Cout, int HW) {
	if (TID() >= (long long)N * HW) return;
	const int t = (int)TID();
	const int n = t / HW, p = t % HW;
	for (int co = 0; co < Cout; co++) {
		float acc = 0;
		for (int ci = 0; ci < Cin; ci++) acc = fmaf(w[co * Cin + ci], x[((long long)n * Cin + ci) * HW + p], acc);
		y[((long long)n * Cout + co) * HW + p] = acc + (bias ? bias[co] : 0.0f);
	}
}

// flip_weights writes wt (Cin×Cout×KK), the transposed and flipped
// Cout×Cin×KK kernel w: the weight of the backward data pass.
extern "C" __global__ void flip_weights(const float* __restrict__ w, float* __restrict__ wt, int Cout, int Cin, int KK) {
	if (TID() >= (long long)Cout * Cin * KK) return;
	const int i = (int)TID();
	const int k = i % KK, r = i / KK;
	const int ci = r % Cin, co = r / Cin;
	wt[(ci * Cout + co) * KK + (KK - 1 - k)] = w[i];
}

// conv3x3_wgrad writes the weight gradient of conv3x3 per chunk (sample n,
// rows [band·rows, band·rows+rows)): part[chunk][(co·Cin + ci)·9 + k] =
// Σ dy[n, co, r, c]·cat(A, B)[n, ci, r+ky−1, c+kx−1] over the chunk, in
// float32. Thread: chunk, 4 output channels, one input channel (fastest).
extern "C" __global__ void conv3x3_wgrad(const float* __restrict__ A, int CA, const float* __restrict__ B, int CB,
                                         const float* __restrict__ dy, float* __restrict__ part, int N, int Cout, int H,
                                         int W, int rows) {
	const int Cin = CA + CB, cog = (Cout + 3) / 4, bands = (H + rows - 1) / rows;
	if (TID() >= (long long)N * bands * cog * Cin) return;
	int t = (int)TID();
	const int ci = t % Cin;
	t /= Cin;
	const int g = t % cog;
	const int chunk = t / cog;
	const int n = chunk / bands, band = chunk % bands;
	const int co0 = g * 4, nco = imin(4, Cout - co0), HW = H * W;
	const float* xp = ci < CA ? A + ((long long)n * CA + ci) * HW : B + ((long long)n * CB + ci - CA) * HW;
	const float* dp[4];
	for (int j = 0; j < 4; j++) dp[j] = dy + ((long long)n * Cout + co0 + (j < nco ? j : 0)) * HW;
	float acc[4][9];
#pragma unroll
	for (int j = 0; j < 4; j++)
#pragma unroll
		for (int k = 0; k < 9; k++) acc[j][k] = 0;
	int r0 = band * rows, r1 = imin(H, r0 + rows);
	for (int r = r0; r < r1; r++) {
		bool rv[3];
		const float* xr[3];
		float win[3][3];
#pragma unroll
		for (int ky = 0; ky < 3; ky++) {
			int rr = r + ky - 1;
			rv[ky] = rr >= 0 && rr < H;
			xr[ky] = xp + (rv[ky] ? rr : 0) * W;
			win[ky][0] = 0;
			win[ky][1] = rv[ky] ? xr[ky][0] : 0.0f;
		}
		for (int c = 0; c < W; c++) {
#pragma unroll
			for (int ky = 0; ky < 3; ky++) win[ky][2] = (rv[ky] && c + 1 < W) ? xr[ky][c + 1] : 0.0f;
			float d[4];
#pragma unroll
			for (int j = 0; j < 4; j++) d[j] = j < nco ? dp[j][r * W + c] : 0.0f;
#pragma unroll
			for (int j = 0; j < 4; j++)
#pragma unroll
				for (int k = 0; k < 9; k++) acc[j][k] = fmaf(d[j], win[k / 3][k % 3], acc[j][k]);
#pragma unroll
			for (int ky = 0; ky < 3; ky++) {
				win[ky][0] = win[ky][1];
				win[ky][1] = win[ky][2];
			}
		}
	}
	long long nw = (long long)Cout * Cin * 9;
	float* out = part + (long long)chunk * nw;
	for (int j = 0; j < nco; j++)
#pragma unroll
		for (int k = 0; k < 9; k++) out[((long long)(co0 + j) * Cin + ci) * 9 + k] = acc[j][k];
}

// conv1x1_wgrad writes the weight gradient of conv1x1 per chunk (sample n,
// pixels [k·pix, k·pix+pix)): part[chunk][co·Cin + ci].
extern "C" __global__ void conv1x1_wgrad(const float* __restrict__ x, int Cin, const float* __restrict__ dy,
                                         float* __restrict__ part, int N, int Cout, int HW, int pix) {
	const int per = (HW + pix - 1) / pix;
	if (TID() >= (long long)N * per * Cout * Cin) return;
	int t = (int)TID();
	const int ci = t % Cin;
	t /= Cin;
	const int co = t % Cout;
	const int chunk = t / Cout;
	const int n = chunk / per, p0 = (chunk % per) * pix, p1 = imin(HW, p0 + pix);
	const float* xp = x + ((long long)n * Cin + ci) * HW;
	const float* dp = dy + ((long long)n * Cout + co) * HW;
	float acc = 0;
	for (int p = p0; p < p1; p++) acc = fmaf(dp[p], xp[p], acc);
	part[(long long)chunk * Cout * Cin + co * Cin + ci] = acc;
}

// ---------------------------------------------------------------------------
// ConvTranspose2d(kernel 2, stride 2): x N×Cin×H×W, weight Cin×Cout×2×2,
// y N×Cout×2H×2W.

// convt_fwd: thread per output value.
extern "C" __global__ void convt_fwd(const float* __restrict__ x, const float* __restrict__ w,
                                     const float* __restrict__ bias, float* __restrict__ y, int N, int Cin, int Cout,
                                     int H, int W) {
	const int W2 = 2 * W, H2 = 2 * H, HW = H * W;
	if (TID() >= (long long)N * Cout * H2 * W2) return;
	const int i = (int)TID();
	const int ox = i % W2;
	int r = i / W2;
	const int oy = r % H2;
	r /= H2;
	const int co = r % Cout, n = r / Cout;
	int k = (oy & 1) * 2 + (ox & 1);
	const float* xp = x + (long long)n * Cin * HW + (oy >> 1) * W + (ox >> 1);
	float acc = 0;
	for (int ci = 0; ci < Cin; ci++) acc = fmaf(xp[(long long)ci * HW], w[(ci * Cout + co) * 4 + k], acc);
	y[i] = acc + bias[co];
}

// convt_bwd_data writes dx from dy, which holds Cout channels at offset 0
// of an N×dctot×2H×2W tensor. Thread per dx value.
extern "C" __global__ void convt_bwd_data(const float* __restrict__ dy, int dctot, const float* __restrict__ w,
                                          float* __restrict__ dx, int N, int Cin, int Cout, int H, int W) {
	const int HW = H * W, W2 = 2 * W;
	if (TID() >= (long long)N * Cin * HW) return;
	const int i = (int)TID();
	const int p = i % HW, r = i / HW;
	const int ci = r % Cin, n = r / Cin;
	int iy = p / W, ix = p % W;
	const float* dp = dy + (long long)n * dctot * 4 * HW + (2 * iy) * W2 + 2 * ix;
	float acc = 0;
	for (int co = 0; co < Cout; co++) {
		const float* d = dp + (long long)co * 4 * HW;
		const float* wc = w + (ci * Cout + co) * 4;
		acc = fmaf(wc[0], d[0], acc);
		acc = fmaf(wc[1], d[1], acc);
		acc = fmaf(wc[2], d[W2], acc);
		acc = fmaf(wc[3], d[W2 + 1], acc);
	}
	dx[i] = acc;
}

// convt_wgrad writes the weight gradient per chunk (sample n, input rows
// [band·rows, …)): part[chunk][(ci·Cout + co)·4 + k]. Thread: chunk, co,
// ci (fastest).
extern "C" __global__ void convt_wgrad(const float* __restrict__ x, const float* __restrict__ dy, int dctot,
                                       float* __restrict__ part, int N, int Cin, int Cout, int H, int W, int rows) {
	const int bands = (H + rows - 1) / rows, HW = H * W, W2 = 2 * W;
	if (TID() >= (long long)N * bands * Cout * Cin) return;
	int t = (int)TID();
	const int ci = t % Cin;
	t /= Cin;
	const int co = t % Cout;
	const int chunk = t / Cout;
	const int n = chunk / bands, band = chunk % bands;
	const float* xp = x + ((long long)n * Cin + ci) * HW;
	const float* dp = dy + ((long long)n * dctot + co) * 4 * HW;
	float a0 = 0, a1 = 0, a2 = 0, a3 = 0;
	int r0 = band * rows, r1 = imin(H, r0 + rows);
	for (int r = r0; r < r1; r++) {
		const float* d0 = dp + (2 * r) * W2;
		for (int c = 0; c < W; c++) {
			float xv = xp[r * W + c];
			a0 = fmaf(xv, d0[2 * c], a0);
			a1 = fmaf(xv, d0[2 * c + 1], a1);
			a2 = fmaf(xv, d0[W2 + 2 * c], a2);
			a3 = fmaf(xv, d0[W2 + 2 * c + 1], a3);
		}
	}
	float* out = part + (long long)chunk * Cin * Cout * 4 + (ci * Cout + co) * 4;
	out[0] = a0;
	out[1] = a1;
	out[2] = a2;
	out[3] = a3;
}

// ---------------------------------------------------------------------------
// Pooling, sigmoid

// avgpool is avg_pool2d(2) of planes of H×W (even).
extern "C" __global__ void avgpool(const float* __restrict__ x, float* __restrict__ y, int planes, int H, int W) {
	const int H2 = H / 2, W2 = W / 2;
	if (TID() >= (long long)planes * H2 * W2) return;
	const int i = (int)TID();
	const int c = i % W2, r = i / W2;
	const int row = r % H2, pl = r / H2;
	const float* a = x + ((long long)pl * H + 2 * row) * W + 2 * c;
	y[i] = (a[0] + a[1] + a[W] + a[W + 1]) / 4;
}

// avgpool_bwd writes dx (N×C×H×W) = dy/4 spread over each window, plus,
// when extra is set, channels ec0… of extra (N×ectot×H×W): the gradient of
// a tensor that is both pooled and concatenated (a skip connection).
extern "C" __global__ void avgpool_bwd(const float* __restrict__ dy, const float* __restrict__ extra, int ectot, int ec0,
                                       float* __restrict__ dx, int N, int C, int H, int W) {
	const int HW = H * W;
	if (TID() >= (long long)N * C * HW) return;
	const int i = (int)TID();
	const int p = i % HW, r = i / HW;
	const int c = r % C, n = r / C;
	const int h = p / W, x = p % W;
	float v = dy[((long long)r * (H / 2) + h / 2) * (W / 2) + x / 2] / 4;
	if (extra) v = v + extra[((long long)n * ectot + ec0 + c) * HW + p];
	dx[i] = v;
}

// sigmoid writes p = 1/(1+e^−z), in float64 and rounded once.
extern "C" __global__ void sigmoid(const float* __restrict__ z, float* __restrict__ p, int total) {
	long long i = TID();
	if (i >= total) return;
	p[i] = (float)(1.0 / (1.0 + exp(-(double)z[i])));
}

// ---------------------------------------------------------------------------
// Loss (unet.ComputeLoss, unet.LossGrad) and pixel counts (unet.CountPixels)

// loss_partial: thread (n, j), j < J fastest, adds elements j, j+J, … of
// sample n's K values: Σp, Σl, Σp·l, TP, FN, FP at 0.5, to
// part[(j·N + n)·6 + v].
extern "C" __global__ void loss_partial(const float* __restrict__ p, const float* __restrict__ l, int N, int K, int J,
                                        double* __restrict__ part) {
	long long t = TID();
	if (t >= (long long)N * J) return;
	int n = (int)(t / J), j = (int)(t % J);
	double sp = 0, sl = 0, spl = 0, tp = 0, fn = 0, fp = 0;
	const float* pn = p + (long long)n * K;
	const float* ln = l + (long long)n * K;
	for (int i = j; i < K; i += J) {
		float pv = pn[i], lv = ln[i];
		sp += pv;
		sl += lv;
		spl += (double)pv * (double)lv;
		bool pred = pv > 0.5f, lab = lv > 0.5f;
		if (pred && lab)
			tp += 1;
		else if (lab)
			fn += 1;
		else if (pred)
			fp += 1;
	}
	double* o = part + ((long long)j * N + n) * 6;
	o[0] = sp;
	o[1] = sl;
	o[2] = spl;
	o[3] = tp;
	o[4] = fn;
	o[5] = fp;
}

// loss_sample: thread per sample n, from its sums (sums[n·6 + v]), writes
// coef[n·8 …] = (base, lab, 1 − Dice(p, l), 1 − Dice(p·l, l), TP, FN, FP, 0):
// ∂loss/∂p = base + l·lab.
extern "C" __global__ void loss_sample(const double* __restrict__ sums, int N, double* __restrict__ coef) {
	long long n = TID();
	if (n >= N) return;
	const double* s = sums + n * 6;
	double sp = s[0], sl = s[1], spl = s[2];
	double d1 = sp + sl + 1, n1 = 2 * spl + 1, d2 = spl + sl + 1;
	double c = 1.0 / N;
	double* o = coef + n * 8;
	o[0] = c * n1 / (d1 * d1);
	o[1] = c * (-2 / d1 + 8 * (-2 / d2 + n1 / (d2 * d2)));
	o[2] = 1 - n1 / d1;
	o[3] = 1 - n1 / d2;
	o[4] = s[3];
	o[5] = s[4];
	o[6] = s[5];
	o[7] = 0;
}

// loss_total (one thread) writes res = (loss, 1 − Dice per sample …, TP,
// FN, FP), adding the samples in order.
extern "C" __global__ void loss_total(const double* __restrict__ coef, int N, double* __restrict__ res) {
	if (TID() != 0) return;
	double a = 0, b = 0, tp = 0, fn = 0, fp = 0;
	for (int n = 0; n < N; n++) {
		const double* o = coef + (long long)n * 8;
		a += o[2];
		b += o[3];
		tp += o[4];
		fn += o[5];
		fp += o[6];
		res[1 + n] = o[2];
	}
	res[0] = a / N + 8 * b / N;
	res[N + 1] = tp;
	res[N + 2] = fn;
	res[N + 3] = fp;
}

// loss_grad writes dz = ∂loss/∂z through the sigmoid: float32(base + l·lab)
// · (1 − p) · p.
extern "C" __global__ void loss_grad(const float* __restrict__ p, const float* __restrict__ l,
                                     const double* __restrict__ coef, float* __restrict__ dz, int N, int K) {
	if (TID() >= (long long)N * K) return;
	const int i = (int)TID();
	const int n = i / K;
	float dp = (float)(coef[n * 8] + (double)l[i] * coef[n * 8 + 1]);
	float pv = p[i];
	dz[i] = __fmul_rn(__fmul_rn(dp, 1.0f - pv), pv);
}

// ---------------------------------------------------------------------------
// Adam (unet.Adam.Step, PyTorch 1.13's single-tensor Adam), unfused as
// PyTorch's CPU kernel and the CPU engine compute it.
extern "C" __global__ void adam(float* __restrict__ p, const float* __restrict__ g, float* __restrict__ m,
                                float* __restrict__ v, int n, float b1, float b2, float omb1, float omb2, float eps,
                                float step_size, float bc2) {
	long long i = TID();
	if (i >= n) return;
	float gi = g[i];
	float mi = __fadd_rn(__fmul_rn(m[i], b1), __fmul_rn(gi, omb1));
	float vi = __fadd_rn(__fmul_rn(v[i], b2), __fmul_rn(__fmul_rn(omb2, gi), gi));
	m[i] = mi;
	v[i] = vi;
	float den = __fadd_rn(__fdiv_rn(sqrtf(vi), bc2), eps);
	p[i] = __fadd_rn(p[i], __fdiv_rn(__fmul_rn(step_size, mi), den));
}
