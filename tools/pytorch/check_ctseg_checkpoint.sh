#!/usr/bin/env bash
# Proves a checkpoint written by ctseg loads into the book's UNetWrapper in
# PyTorch and gives the same outputs: Go trains 3 steps, writes a safetensors
# checkpoint, an input and its eval output; PyTorch (Debian python3-torch
# 1.13) loads the checkpoint with load_state_dict(strict=True), runs eval on
# the input in float32 and float64, and compares with Go's output.
# Usage: tools/pytorch/check_ctseg_checkpoint.sh [TOL]   (default 1e-5)
set -euo pipefail
cd "$(dirname "$0")/../.."
tol=${1:-1e-5}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
CTSEG_PYTORCH_EXPORT=$dir go test -count=1 -run '^TestExportForPyTorch$' ./internal/checkpoint/
for mode in "" --float64; do
	/usr/bin/python3 tools/pytorch/load_ctseg_checkpoint.py "$dir/ckpt.safetensors" \
		--input "$dir/input.safetensors" --expect "$dir/expect.safetensors" --tol "$tol" $mode
done
