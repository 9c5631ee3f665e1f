#!/usr/bin/env bash
# build_ptx.sh compiles the CUDA engine's kernels (internal/unet/cuda/kernels.cu)
# to the PTX that the engine embeds (internal/unet/cuda/ptx/), one file per
# target, copies it for the CPU emulator (internal/unet/cuda/emu/kernels_cu.h),
# and records the source's SHA-256 beside the PTX, which a unit test
# compares with kernels.cu so that a kernel edited without regenerating its
# PTX fails `go test ./internal/unet/cuda`. The PTX is committed: neither CI
# nor a user building with -tags ctseg_cuda needs nvcc; the driver
# JIT-compiles the PTX for the GPU present (a compute_90 module for Hopper
# and newer, compute_80 for Ampere and Ada).
#
# Needs nvcc (CUDA ≥ 11.8; on Debian 12: add "contrib non-free" to the apt
# components, then apt-get install nvidia-cuda-toolkit). Also checks, when
# cuda.h is present, that the driver-API declarations of driver.go match it.
#
# Usage: tools/cuda/build_ptx.sh   (or: go generate ./internal/unet/cuda)
set -euo pipefail
cd "$(dirname "$0")/../.."
src=internal/unet/cuda/kernels.cu
out=internal/unet/cuda/ptx
NVCC=${NVCC:-nvcc}
command -v "$NVCC" >/dev/null || { echo "build_ptx.sh: $NVCC not found (install the CUDA toolkit)" >&2; exit 1; }
mkdir -p "$out"
for arch in 80 90; do
	# -fmad=false: no a·b + c is fused unless the code says so (fmaf), so
	# the GPU computes what the CPU emulator does (see kernels.cu).
	"$NVCC" -ptx -arch=compute_$arch -std=c++17 -O3 -fmad=false -o "$out/kernels_sm$arch.ptx.tmp" "$src"
	mv "$out/kernels_sm$arch.ptx.tmp" "$out/kernels_sm$arch.ptx"
	# Registers and spills per kernel, for the record (ptxas, no GPU needed).
	"$NVCC" -cubin -arch=sm_$arch -std=c++17 -O3 -fmad=false -Xptxas -v -o /dev/null "$src" 2>&1 |
		awk '/Compiling entry function/ {k=$7} /Used [0-9]+ registers/ {print "sm_'$arch'", k, $5, "registers"} /spill stores/ && $5 != 0 {print "sm_'$arch'", k, "SPILLS", $5, "bytes"}' |
		tr -d "'" >"$out/registers_sm$arch.txt"
done
sha256sum "$src" | cut -d' ' -f1 >"$out/kernels.cu.sha256"
# The CPU emulator (internal/unet/cuda/emu) compiles a copy that lives in its own
# package, where Go's build cache sees it change (a test checks that it is current).
cp "$src" internal/unet/cuda/emu/kernels_cu.h
echo "$("$NVCC" --version | tail -1)" >"$out/nvcc.txt"
if [ -f /usr/include/cuda.h ] || [ -f /usr/local/cuda/include/cuda.h ]; then
	cc -fsyntax-only -Werror=incompatible-pointer-types -I/usr/local/cuda/include tools/cuda/check_abi.c
	echo "build_ptx.sh: driver.go's declarations match cuda.h" >&2
fi
ls -l "$out" >&2
