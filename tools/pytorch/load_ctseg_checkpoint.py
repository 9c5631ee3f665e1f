"""Load a ctseg safetensors checkpoint into the book's UNetWrapper (PyTorch).

Proves that a checkpoint written by ctseg is usable from PyTorch: it parses
the safetensors file with a few lines of Python (the `safetensors` package is
not installable here), loads the tensors whose names are UNetWrapper
state_dict keys with load_state_dict(strict=True) (ctseg's other tensors,
e.g. Adam moments under their prefixed names, are reported and skipped), runs
the eval-mode forward (BatchNorm running statistics) on an input, and
compares the output with expected outputs from a file.

Usage (PyTorch 1.13, Debian python3-torch), from the repository root:

  /usr/bin/python3 tools/pytorch/load_ctseg_checkpoint.py CKPT.safetensors [options]

  input, one of:
    --input FILE.npy | FILE.safetensors[.gz]   an N×7×H×W (or 7×H×W) array;
                                 --input-name picks the tensor of a
                                 safetensors file (default: its only tensor)
    --random N,C,H,W             seeded uniform HU-like input in [-1000, 1000]
                                 (--seed, default 0); this is the default,
                                 with 2,7,64,64
  compare:
    --expect FILE.npy | FILE.safetensors[.gz]  expected probabilities;
                                 --expect-name picks the tensor
    --reference-torch FILE.state also run a model loaded from a torch.save
                                 checkpoint (like the book's .best.state) on
                                 the same input and compare with it
    --tol T                      fail (exit 1) when the max |difference|
                                 exceeds T (default 1e-5)
  other:
    --threads N                  torch threads (default 1; float32 results
                                 depend slightly on the thread count)
    --float64                    run in float64 instead of float32
    --save-output FILE.npy       write the probabilities
    --kwargs JSON                UNetWrapper arguments (default: the book's)

It prints the checkpoint's metadata, what it loaded, and for each comparison
the max absolute and relative difference and how many pixels change side of
0.5. Exit status 0 when every comparison is within --tol.

Example, with the book's weights converted to safetensors by ctseg's Go code:
  go run ./internal/torchload/testdata/tosafetensors BOOK.best.state /tmp/book.safetensors
  /usr/bin/python3 tools/pytorch/load_ctseg_checkpoint.py /tmp/book.safetensors \
      --random 2,7,64,64 --reference-torch BOOK.best.state --tol 0
"""

import argparse
import gzip
import json
import os
import struct
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from unet_book import BOOK_KWARGS, UNetWrapper  # noqa: E402

DTYPES = {'F32': '<f4', 'F64': '<f8', 'I64': '<i8', 'I32': '<i4', 'F16': '<f2'}


def read_safetensors(path):
    """(tensors dict name -> numpy array, metadata dict) of a safetensors file
    (gzip-compressed when the name ends in .gz)."""
    opener = gzip.open if path.endswith('.gz') else open
    with opener(path, 'rb') as f:
        blob = f.read()
    (n,) = struct.unpack('<Q', blob[:8])
    header = json.loads(blob[8:8 + n])
    data = blob[8 + n:]
    meta = header.pop('__metadata__', {}) or {}
    out = {}
    for name, info in header.items():
        begin, end = info['data_offsets']
        arr = np.frombuffer(data[begin:end], dtype=DTYPES[info['dtype']])
        out[name] = arr.reshape(info['shape']).copy()
    return out, meta


def read_array(path, name=None):
    if path.endswith('.npy'):
        return np.load(path)
    tensors, _ = read_safetensors(path)
    if name is None:
        if len(tensors) != 1:
            sys.exit(f'{path}: holds {sorted(tensors)}; choose one with --input-name/--expect-name')
        name = next(iter(tensors))
    return tensors[name]


def load_model(path, kwargs):
    tensors, meta = read_safetensors(path)
    model = UNetWrapper(**kwargs)
    keys = set(model.state_dict().keys())
    state = {k: torch.from_numpy(v) for k, v in tensors.items() if k in keys}
    model.load_state_dict(state, strict=True)
    skipped = sorted(set(tensors) - keys)
    print(f'{path}: loaded {len(state)} state_dict tensors, skipped {len(skipped)} others'
          + (f' (e.g. {skipped[0]})' if skipped else ''))
    for k in sorted(meta):
        print(f'  metadata {k} = {meta[k][:200]}')
    return model.eval()


def forward(model, x, float64):
    dtype = torch.float64 if float64 else torch.float32
    with torch.no_grad():
        return model.to(dtype)(torch.from_numpy(x).to(dtype)).numpy()


def compare(label, got, want, tol):
    want = np.asarray(want, dtype=np.float64).reshape(got.shape)
    diff = np.abs(got.astype(np.float64) - want)
    # Relative to |want|, floored at 1e-6: probabilities of 1e-30 carry no weight.
    rel = diff / np.maximum(np.abs(want), 1e-6)
    flips = int(((got > 0.5) != (want > 0.5)).sum())
    print(f'{label}: max |diff| {diff.max():.3e}, max rel diff {rel.max():.3e}, '
          f'pixels changing side of 0.5: {flips} of {got.size}')
    return diff.max() <= tol


def make_input(args):
    if args.input:
        x = read_array(args.input, args.input_name).astype(np.float32)
    else:
        shape = [int(v) for v in args.random.split(',')]
        g = torch.Generator().manual_seed(args.seed)
        x = (torch.rand(shape, generator=g, dtype=torch.float64) * 2000 - 1000).float().numpy()
    return x[None] if x.ndim == 3 else x


def main():
    ap = argparse.ArgumentParser(description='Load a ctseg safetensors checkpoint into the book\'s UNetWrapper.')
    ap.add_argument('checkpoint')
    ap.add_argument('--input')
    ap.add_argument('--input-name')
    ap.add_argument('--random', default='2,7,64,64')
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--expect')
    ap.add_argument('--expect-name')
    ap.add_argument('--reference-torch')
    ap.add_argument('--tol', type=float, default=1e-5)
    ap.add_argument('--float64', action='store_true')
    ap.add_argument('--save-output')
    ap.add_argument('--kwargs', default=json.dumps(BOOK_KWARGS))
    ap.add_argument('--threads', type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    kwargs = json.loads(args.kwargs)

    model = load_model(args.checkpoint, kwargs)
    x = make_input(args)
    print(f'input {list(x.shape)} float32, sum {x.astype(np.float64).sum():.6g}')
    out = forward(model, x, args.float64)
    print(f'output {list(out.shape)}: min {out.min():.6g}, max {out.max():.6g}, '
          f'pixels > 0.5: {int((out > 0.5).sum())}')
    if args.save_output:
        np.save(args.save_output, out)
    ok = True
    if args.expect:
        ok &= compare(f'vs {args.expect}', out, read_array(args.expect, args.expect_name), args.tol)
    if args.reference_torch:
        ref = UNetWrapper(**kwargs)
        ref.load_state_dict(torch.load(args.reference_torch, map_location='cpu')['model_state'], strict=True)
        ok &= compare(f'vs {args.reference_torch}', out, forward(ref.eval(), x, args.float64), args.tol)
    sys.exit(0 if ok else 1)


if __name__ == '__main__':
    main()
