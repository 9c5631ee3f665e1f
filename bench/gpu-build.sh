#!/usr/bin/env bash
# bench/gpu-build.sh builds, here, everything bench/gpu.sh needs on the GPU machine
# (which has no Go and no network) into work/gpu-carry/ (git-ignored, < 64 MiB):
#   bin.tgz     stripped -tags ctseg_cuda binaries: segtrain segeval mkphantom ctread
#               mkmask crop streamcat, and cuda.test, the CUDA engine's test binary with
#               the CPU emulator in it (-tags "ctseg_cuda ctseg_cudaemu": conformance
#               suite, comparisons with the CPU engine and the emulator, benchmarks; built
#               -trimpath, so it finds internal/unet/testdata through a
#               github.com/ctseg/ctseg link that gpu.sh makes);
#   shared.tgz  when ../shared/data has them: the book's checkpoint and the LIDC-IDRI-0001
#               series, for the suite's BookCheckpoint test (skipped without them).
# Then run bench/gpu.sh on the GPU machine; its header has the exact command.
# Usage: bench/gpu-build.sh   (from anywhere; needs Go and a C/C++ compiler, no CUDA)
set -euo pipefail
cd "$(dirname "$0")/.."
C=work/gpu-carry
rm -rf "$C"
mkdir -p "$C/bin"
flags=(-trimpath -ldflags=-s\ -w)
for c in segtrain segeval mkphantom ctread mkmask crop streamcat; do
	if [ -d "cmd/$c" ]; then
		go build "${flags[@]}" -tags ctseg_cuda -o "$C/bin/$c" "./cmd/$c"
	else
		echo "gpu-build: cmd/$c does not exist: skipped" >&2
	fi
done
go test -c "${flags[@]}" -tags "ctseg_cuda ctseg_cudaemu" -o "$C/bin/cuda.test" ./internal/unet/cuda
tar -C "$C" -czf "$C/bin.tgz" bin
rm -rf "$C/bin"

shared=${CTSEG_SHARED_DATA:-../shared/data}
uid=1.3.6.1.4.1.14519.5.2.1.6279.6001.179049373636438705059720603192
ck=$(sed -n 's/.*"checkpoint": *"\(.*\)".*/\1/p' internal/unet/testdata/book_slice/slice.json)
files=("models/$ck" "luna/subset0/$uid.mhd" "luna/subset0/$uid.raw")
if (cd "$shared" 2>/dev/null && ls "${files[@]}" >/dev/null 2>&1); then
	tar -C "$shared" -czf "$C/shared.tgz" "${files[@]}"
else
	echo "gpu-build: $shared lacks the book checkpoint or its series: BookCheckpoint will skip on the GPU" >&2
fi
size=$(du -cb "$C"/* | tail -1 | cut -f1)
ls -l "$C" >&2
echo "gpu-build: $C holds $((size >> 20)) MiB (the carry limit is 64 MiB)" >&2
((size < 64 << 20)) || { echo "gpu-build: too large to carry" >&2; exit 1; }
