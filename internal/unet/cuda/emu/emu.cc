// The CPU emulator of the CUDA engine's kernels: ../kernels.cu compiled
// as C++ (from kernels_cu.h, its copy in this package, which
// tools/cuda/build_ptx.sh writes: Go's build cache sees only this
// package's files change), each launch run block by block, thread by thread. The kernels
// are barrier-free (no shared memory, no __syncthreads, no warp
// intrinsics, no atomics), so running their threads one after another is
// exactly what a GPU computes. Blocks are spread over CPU threads.
// No contraction of a·b + c into an FMA, as the PTX is compiled with
// -fmad=false (the default x86-64 target has no FMA instruction anyway; the
// kernels' fmaf calls libm's, which is exact).
#pragma GCC optimize("fp-contract=off")

#include "kernels_cu.h"

#include <map>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

thread_local ct_dim3 threadIdx, blockIdx, blockDim;

namespace {

template <typename T>
T arg(const uint64_t* a, size_t i) {
	T v;
	memcpy(&v, &a[i], sizeof(T));
	return v;
}

template <typename... A, size_t... I>
void runAll(void (*f)(A...), const uint64_t* a, std::index_sequence<I...>, long long b0, long long b1, unsigned threads) {
	auto args = std::make_tuple(arg<A>(a, I)...);
	blockDim = {threads, 1, 1};
	for (long long b = b0; b < b1; b++) {
		blockIdx = {(unsigned)b, 0, 0};
		for (unsigned t = 0; t < threads; t++) {
			threadIdx = {t, 0, 0};
			std::apply(f, args);
		}
	}
}

struct Kernel {
	int nargs;
	void (*run)(const uint64_t*, long long, long long, unsigned);
};

template <auto F, typename... A>
Kernel kernelOf(void (*)(A...)) {
	return Kernel{(int)sizeof...(A), [](const uint64_t* a, long long b0, long long b1, unsigned threads) {
		              runAll(F, a, std::index_sequence_for<A...>{}, b0, b1, threads);
	              }};
}

#define K(f) {#f, kernelOf<f>(f)}

const std::map<std::string, Kernel> kernels = {
    K(augment_windows), K(augment_labels), K(chan_partial), K(sum_f), K(sum_d), K(bn_stats_final), K(bn_eval_affine),
    K(bn_apply), K(bn_bwd_final), K(bn_bwd_apply), K(conv3x3), K(conv1x1), K(flip_weights), K(conv3x3_wgrad),
    K(conv1x1_wgrad), K(convt_fwd), K(convt_bwd_data), K(convt_wgrad), K(avgpool), K(avgpool_bwd), K(sigmoid),
    K(loss_partial), K(loss_sample), K(loss_total), K(loss_grad), K(adam),
};

}  // namespace

extern "C" {

// emu_launch runs kernel name on blocks×threads with the argument slots
// args; 0, or −1 for an unknown kernel, −2 for a wrong argument count.
int emu_launch(const char* name, long long blocks, unsigned threads, const uint64_t* args, int nargs, int workers) {
	auto it = kernels.find(name);
	if (it == kernels.end()) return -1;
	const Kernel& k = it->second;
	if (k.nargs != nargs) return -2;
	if (workers <= 1 || blocks * threads < 65536) {
		k.run(args, 0, blocks, threads);
		return 0;
	}
	std::vector<std::thread> ts;
	long long per = (blocks + workers - 1) / workers;
	for (long long b0 = 0; b0 < blocks; b0 += per) {
		long long b1 = b0 + per < blocks ? b0 + per : blocks;
		ts.emplace_back([&k, args, b0, b1, threads] { k.run(args, b0, b1, threads); });
	}
	for (auto& t : ts) t.join();
	return 0;
}

// emu_nargs is the argument count of kernel name, −1 if unknown.
int emu_nargs(const char* name) {
	auto it = kernels.find(name);
	return it == kernels.end() ? -1 : it->second.nargs;
}

// emu_kernels is how many kernels there are; emu_kernel the name of one.
int emu_kernels() { return (int)kernels.size(); }

const char* emu_kernel(int i) {
	auto it = kernels.begin();
	std::advance(it, i);
	return it->first.c_str();
}

void* emu_alloc(size_t n) {
	void* p = aligned_alloc(256, (n + 255) / 256 * 256);
	if (p) memset(p, 0xff, (n + 255) / 256 * 256);  // NaN: nothing may read memory it did not write
	return p;
}

void emu_free(void* p) { free(p); }

void emu_copy(void* dst, const void* src, size_t n) { memcpy(dst, src, n); }
}
