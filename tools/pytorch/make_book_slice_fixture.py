"""Makes the book-slice parity fixture for internal/unet (issue 6).

Loads the book's published checkpoint into the book's UNetWrapper
(tools/pytorch/unet_book.py, eval mode: BatchNorm running statistics),
builds the validation input for the real LIDC-IDRI-0001 slice that holds the
nodule centre, runs the eval forward in float32 and in float64 (the
tie-breaker), and writes to internal/unet/testdata/book_slice/:

  slice.json            the series, nodule, slice index, how the input is built,
                        checksums of the input, and summary numbers
  probs.safetensors.gz  gzip of a safetensors file with two F32 [512, 512]
                        tensors, "probs_f32" (float32 forward) and
                        "probs_f64" (float64 forward), both rounded to
                        multiples of 2^-24 (absolute error <= 2^-25 ~ 3e-8,
                        exactly representable in float32). Unrounded, the
                        near-zero probabilities' random low bits would not
                        compress (2.7 MB instead of ~70 kB); at the test's
                        1e-3 tolerance the rounding does not matter.

The input itself is not stored: it is derived from ../shared data, and the Go
test rebuilds it from the .raw (see README.md there).

Run from the repository root with PyTorch 1.13 (Debian python3-torch):

    /usr/bin/python3 tools/pytorch/make_book_slice_fixture.py [--data ../shared/data]
"""

import argparse
import csv
import glob
import gzip
import hashlib
import json
import os
import struct
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from unet_book import BOOK_KWARGS, load_book_checkpoint  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
SERIES = '1.3.6.1.4.1.14519.5.2.1.6279.6001.179049373636438705059720603192'
OUT = os.path.join(ROOT, 'internal', 'unet', 'testdata', 'book_slice')
CONTEXT = 3            # slices on each side: 7 channels
HU_MIN, HU_MAX = -1000.0, 1000.0
QUANTUM = 2.0 ** 24     # stored probabilities are multiples of 1/QUANTUM


def read_mhd(path):
    """The MetaImage header as a dict of strings, and the volume (z, y, x)."""
    hdr = {}
    with open(path) as f:
        for line in f:
            k, v = line.split('=', 1)
            hdr[k.strip()] = v.strip()
    assert hdr['ElementType'] == 'MET_SHORT' and hdr['CompressedData'] == 'False'
    assert hdr['BinaryDataByteOrderMSB'] == 'False'
    x, y, z = (int(v) for v in hdr['DimSize'].split())
    raw = os.path.join(os.path.dirname(path), hdr['ElementDataFile'])
    vol = np.fromfile(raw, dtype='<i2').reshape(z, y, x)
    return hdr, vol, raw


def xyz2irc(xyz, hdr):
    """SPEC geometry: irc = round_half_even(D^-1 (xyz - origin) / s), as (i, r, c)."""
    origin = np.array([float(v) for v in hdr['Offset'].split()])
    spacing = np.array([float(v) for v in hdr['ElementSpacing'].split()])
    d = np.array([float(v) for v in hdr['TransformMatrix'].split()]).reshape(3, 3)
    cri = np.linalg.inv(d) @ (np.asarray(xyz) - origin) / spacing
    r = np.round(cri)  # numpy rounds half to even
    return int(r[2]), int(r[1]), int(r[0]), cri


def nodule_centre(luna):
    with open(os.path.join(luna, 'annotations_with_malignancy.csv'), newline='') as f:
        rows = [r for r in csv.DictReader(f) if r['seriesuid'] == SERIES]
    assert len(rows) == 1, rows
    r = rows[0]
    return [float(r['coordX']), float(r['coordY']), float(r['coordZ'])], float(r['diameter_mm'])


def build_input(vol, s):
    idx = [min(max(k, 0), vol.shape[0] - 1) for k in range(s - CONTEXT, s + CONTEXT + 1)]
    x = vol[idx].astype(np.float32)
    np.clip(x, HU_MIN, HU_MAX, out=x)
    return x, idx


def quantize(p):
    """p rounded (half to even) to a multiple of 2^-24, as float32 (exact)."""
    return (np.round(p.astype(np.float64) * QUANTUM) / QUANTUM).astype(np.float32)


def safetensors_bytes(arrays):
    """A safetensors file as the reference writes it (dtype-descending, then name)."""
    codes = {np.dtype('float32'): ('F32', 0), np.dtype('float64'): ('F64', 1)}
    names = sorted(arrays, key=lambda n: (-codes[arrays[n].dtype][1], n))
    header, off = {}, 0
    for n in names:
        a = np.ascontiguousarray(arrays[n], dtype=arrays[n].dtype.newbyteorder('<'))
        header[n] = {'dtype': codes[a.dtype][0], 'shape': list(a.shape), 'data_offsets': [off, off + a.nbytes]}
        off += a.nbytes
    h = json.dumps(header, separators=(',', ':')).encode()
    h += b' ' * ((8 - len(h) % 8) % 8)
    return struct.pack('<Q', len(h)) + h + b''.join(np.ascontiguousarray(arrays[n]).astype(arrays[n].dtype.newbyteorder('<')).tobytes() for n in names)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--data', default=os.path.join(ROOT, '..', 'shared', 'data'))
    args = ap.parse_args()
    luna = os.path.join(args.data, 'luna')
    ckpt, = glob.glob(os.path.join(args.data, 'models', '*.best.state'))
    # One thread: float32 results depend (slightly) on how work is split.
    torch.set_num_threads(1)

    hdr, vol, raw = read_mhd(os.path.join(luna, 'subset0', SERIES + '.mhd'))
    xyz, diameter = nodule_centre(luna)
    i, r, c, cri_float = xyz2irc(xyz, hdr)
    x, idx = build_input(vol, i)

    model, state = load_book_checkpoint(ckpt)
    with torch.no_grad():
        p32 = model(torch.from_numpy(x)[None])[0, 0].numpy()
        p64 = model.double()(torch.from_numpy(x.astype(np.float64))[None])[0, 0].numpy()

    os.makedirs(OUT, exist_ok=True)
    blob = safetensors_bytes({'probs_f32': quantize(p32), 'probs_f64': quantize(p64)})
    with open(os.path.join(OUT, 'probs.safetensors.gz'), 'wb') as f:
        # mtime 0 so that re-running the script gives identical bytes.
        with gzip.GzipFile(fileobj=f, mode='wb', compresslevel=9, mtime=0) as gz:
            gz.write(blob)

    near = np.abs(p64 - 0.5) < 1e-3
    desc = {
        'series_uid': SERIES,
        'mhd': 'luna/subset0/' + SERIES + '.mhd',
        'raw_sha256': hashlib.sha256(open(raw, 'rb').read()).hexdigest(),
        'nodule_xyz': xyz,
        'nodule_diameter_mm': diameter,
        'nodule_cri_unrounded': [float(v) for v in cri_float],
        'nodule_irc': [i, r, c],
        'slice_index': i,
        'channel_slices': idx,
        'hu_clip': [HU_MIN, HU_MAX],
        'input_shape': [1, 2 * CONTEXT + 1, vol.shape[1], vol.shape[2]],
        'input_dtype': 'float32',
        'input_sum': float(x.astype(np.float64).sum()),
        'input_sha256': hashlib.sha256(x.astype('<f4').tobytes()).hexdigest(),
        'checkpoint': os.path.basename(ckpt),
        'checkpoint_sha256': hashlib.sha256(open(ckpt, 'rb').read()).hexdigest(),
        'model_kwargs': BOOK_KWARGS,
        'mode': 'eval',
        'torch_version': torch.__version__,
        'torch_threads': torch.get_num_threads(),
        'probs_file': 'probs.safetensors.gz',
        'probs_rounding': 'round_half_even(p * 2^24) / 2^24, stored as F32',
        'stats': {
            'f32_vs_f64_max_abs_diff': float(np.abs(p32.astype(np.float64) - p64).max()),
            'f64_pixels_above_0.5': int((p64 > 0.5).sum()),
            'f32_pixels_above_0.5': int((p32 > 0.5).sum()),
            'f64_pixels_within_1e-3_of_0.5': int(near.sum()),
            'f64_min_abs_p_minus_0.5': float(np.abs(p64 - 0.5).min()),
            'f64_max': float(p64.max()),
            'f64_prob_at_nodule_centre': float(p64[r, c]),
        },
    }
    with open(os.path.join(OUT, 'slice.json'), 'w') as f:
        json.dump(desc, f, indent=1)
        f.write('\n')
    print(json.dumps(desc['stats'], indent=1))


if __name__ == '__main__':
    main()
