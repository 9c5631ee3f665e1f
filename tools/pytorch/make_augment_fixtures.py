#!/usr/bin/env python3
"""Write the PyTorch fixtures of ctseg's augmentation (internal/augment and
the engine conformance suite, internal/unet/unettest).

Run with PyTorch 1.13 (Debian's python3-torch) from the repository root:

    /usr/bin/python3 tools/pytorch/make_augment_fixtures.py

It writes two safetensors files (written here without the safetensors
package; windows and labels are stored as F32, which holds them exactly):

internal/unet/testdata/augment.safetensors, the book's sampling
(SegmentationAugmentation.forward, p2ch13/model.py) on fixed transforms:
  windows            2 x 7 x 12 x 16 int16-valued clipped HU
  labels             2 x 1 x 12 x 16, 0/1 (sample 1's touches the border)
  <case>.theta       2 x 3, F.affine_grid's theta
  <case>.input       F.grid_sample(windows, grid, bilinear, border,
                     align_corners=False) in float32
  <case>.label_float the label sampled the same way, before the threshold
  <case>.label       label_float > 0.5, as 0/1
  f64.<case>.input, f64.<case>.label_float: the same in float64 (stored
                     rounded to float32), the exact reference
  for the cases identity, flip, rot90, rotate, scale, offset, border and
  combined (flip x, offset, scale and rotation composed by the book's
  _build2dTransformMatrix with fixed draws).

internal/augment/testdata/draws.safetensors, the random transforms and
noise that ctseg's Philox layout (internal/augment's package doc) gives,
computed here independently of the Go code:
  draw.<i>.seed, draw.<i>.step   I64 (uint64 as two's complement)
  draw.<i>.words                 I64 [8], the transform words w0..w7
  draw.<i>.theta.<config>        F32 [2, 3], the book's
                                 _build2dTransformMatrix fed with those
                                 words, for config all, flip, offset,
                                 scale, rotate
  draw.<i>.noise                 F32, n(e) for the elements noise_index
  noise_index                    I64, the element indices
"""

import json
import math
import os
import struct
import sys

import numpy as np
import torch
import torch.nn.functional as F

N, C, H, W = 2, 7, 12, 16
MASK = 0xFFFFFFFF


def write_safetensors(path, tensors):
    header, blobs, offset = {}, [], 0
    for name, t in tensors.items():
        a = t.detach().cpu().contiguous().numpy()
        dtype = {np.dtype(np.float32): 'F32', np.dtype(np.int64): 'I64'}[a.dtype]
        raw = a.astype(a.dtype.newbyteorder('<')).tobytes()
        header[name] = {'dtype': dtype, 'shape': list(a.shape),
                        'data_offsets': [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    header['__metadata__'] = {'torch': torch.__version__, 'script': 'make_augment_fixtures.py'}
    hb = json.dumps(header, separators=(',', ':')).encode()
    hb += b' ' * (-len(hb) % 8)
    tmp = path + '.tmp'
    with open(tmp, 'wb') as f:
        f.write(struct.pack('<Q', len(hb)))
        f.write(hb)
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)


# --- Philox4x32-10 and ctseg's counter layout -----------------------------

def philox4x32_10(ctr, key):
    """Random123's philox4x32 with 10 rounds."""
    c0, c1, c2, c3 = ctr
    k0, k1 = key
    for r in range(10):
        if r > 0:
            k0, k1 = (k0 + 0x9E3779B9) & MASK, (k1 + 0xBB67AE85) & MASK
        p0, p1 = 0xD2511F53 * c0, 0xCD9E8D57 * c2
        c0, c1, c2, c3 = (p1 >> 32) ^ c1 ^ k0, p1 & MASK, (p0 >> 32) ^ c3 ^ k1, p0 & MASK
    return c0, c1, c2, c3


# Random123's tests/kat_vectors, philox4x32 10.
KAT = [((0, 0, 0, 0), (0, 0), (0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8)),
       ((MASK,) * 4, (MASK,) * 2, (0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd)),
       ((0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344), (0xa4093822, 0x299f31d0),
        (0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1))]


def block(seed, step, stream, index):
    """Counter (index, stream, step lo, step hi), key (seed lo, seed hi)."""
    return philox4x32_10((index, stream, step & MASK, step >> 32), (seed & MASK, seed >> 32))


def transform_words(seed, step):
    return block(seed, step, 1, 0) + block(seed, step, 1, 1)


def normal(seed, step, e):
    """curand_normal4's pairing and _curand_box_muller, in float64."""
    x = block(seed, step, 0, e >> 2)
    a, b = (x[0], x[1]) if e & 3 < 2 else (x[2], x[3])
    r = math.sqrt(-2 * math.log((a + 0.5) * 2.0 ** -32))
    phi = 2 * math.pi * (b + 0.5) * 2.0 ** -32
    return r * math.sin(phi) if e & 1 == 0 else r * math.cos(phi)


# --- The book's transform ---------------------------------------------------

def build_2d_transform(draw, flip=False, offset=None, scale=None, rotate=False):
    """SegmentationAugmentation._build2dTransformMatrix (p2ch13/model.py)
    with random.random() replaced by draw(part, axis), and the offset
    written to column 2 (ctseg's fix: the book writes row 2, which the
    [:2] below drops)."""
    transform_t = torch.eye(3)
    for i in range(2):
        if flip:
            if draw('flip', i) > 0.5:
                transform_t[i, i] *= -1
        if offset:
            offset_float = offset
            random_float = (draw('offset', i) * 2 - 1)
            transform_t[i, 2] = offset_float * random_float
        if scale:
            scale_float = scale
            random_float = (draw('scale', i) * 2 - 1)
            transform_t[i, i] *= 1.0 + scale_float * random_float
    if rotate:
        angle_rad = draw('rotate', 0) * math.pi * 2
        s = math.sin(angle_rad)
        c = math.cos(angle_rad)
        rotation_t = torch.tensor([
            [c, -s, 0],
            [s, c, 0],
            [0, 0, 1]])
        transform_t @= rotation_t
    return transform_t[:2]


def word_draw(words):
    """The word of each draw (internal/augment's layout), as u = w / 2**32."""
    slot = {'flip': 0, 'offset': 2, 'scale': 4, 'rotate': 6}
    return lambda part, i: words[slot[part] + i] * 2.0 ** -32


CONFIGS = {
    'all': dict(flip=True, offset=0.03, scale=0.2, rotate=True),
    'flip': dict(flip=True),
    'offset': dict(offset=0.03),
    'scale': dict(scale=0.2),
    'rotate': dict(rotate=True),
}


# --- Sampling fixtures ------------------------------------------------------

def make_windows(gen):
    """Ramps, texture and a bright 'nodule' under each label."""
    yy, xx = torch.meshgrid(torch.arange(H, dtype=torch.float64),
                            torch.arange(W, dtype=torch.float64), indexing='ij')
    label = torch.zeros(N, 1, H, W)
    label[0, 0][((yy - 5) ** 2 + (xx - 6) ** 2) <= 9] = 1
    label[1, 0, 2:7, 11:] = 1
    x = torch.randn(N, C, H, W, generator=gen, dtype=torch.float64) * 250
    for n in range(N):
        for c in range(C):
            x[n, c] += 53 * xx - 41 * yy + 30 * c - 700 + 200 * n
        x[n][:, label[n, 0] > 0] += 900
    return x.clamp(-1000, 1000).round(), label


def sample(x, theta):
    grid = F.affine_grid(theta.unsqueeze(0).expand(x.shape[0], 2, 3), list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode='bilinear', padding_mode='border', align_corners=False)


def cases():
    a = 0.7
    combined = build_2d_transform(
        lambda part, i: {'flip': (0.8, 0.2), 'offset': (0.9, 0.1), 'scale': (0.85, 0.3),
                         'rotate': (0.33,)}[part][i],
        flip=True, offset=0.03, scale=0.2, rotate=True)
    return {
        'identity': [[1, 0, 0], [0, 1, 0]],
        'flip': [[-1, 0, 0], [0, 1, 0]],
        'rot90': [[0, -1, 0], [1, 0, 0]],
        'rotate': [[math.cos(a), -math.sin(a), 0], [math.sin(a), math.cos(a), 0]],
        'scale': [[1.15, 0, 0], [0, 0.85, 0]],
        'offset': [[1, 0, 0.03], [0, 1, -0.025]],
        'border': [[1.2, 0, 0.3], [0, 1.2, -0.3]],
        'combined': combined.tolist(),
    }


def sampling_fixture():
    gen = torch.Generator().manual_seed(13)
    x, label = make_windows(gen)
    fx = {'windows': x.float(), 'labels': label}
    for name, theta in cases().items():
        t32 = torch.tensor(theta, dtype=torch.float32)
        fx[name + '.theta'] = t32
        lab = sample(label, t32)
        fx[name + '.input'] = sample(x.float(), t32)
        fx[name + '.label_float'] = lab
        fx[name + '.label'] = (lab > 0.5).float()
        fx['f64.' + name + '.input'] = sample(x, t32.double()).float()
        fx['f64.' + name + '.label_float'] = sample(label.double(), t32.double()).float()
    return fx


def draws_fixture():
    keys = [(0, 0), (20260129, 1), (2 ** 64 - 1, 2 ** 40 + 5), (12345, 300000)]
    index = [0, 1, 2, 3, 4, 5, 6, 7, 1001, 458751, 2 ** 34 - 1]
    i64 = lambda v: v - 2 ** 64 if v >= 2 ** 63 else v  # noqa: E731
    fx = {'noise_index': torch.tensor(index, dtype=torch.int64)}
    for i, (seed, step) in enumerate(keys):
        words = transform_words(seed, step)
        p = f'draw.{i}.'
        fx[p + 'seed'] = torch.tensor(i64(seed), dtype=torch.int64)
        fx[p + 'step'] = torch.tensor(i64(step), dtype=torch.int64)
        fx[p + 'words'] = torch.tensor(words, dtype=torch.int64)
        for name, cfg in CONFIGS.items():
            fx[p + 'theta.' + name] = build_2d_transform(word_draw(words), **cfg).contiguous()
        fx[p + 'noise'] = torch.tensor([normal(seed, step, e) for e in index], dtype=torch.float32)
    return fx


def main():
    for ctr, key, want in KAT:
        assert philox4x32_10(ctr, key) == want, (ctr, key)
    torch.set_num_threads(1)
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..')
    out = os.path.join(root, 'internal', 'unet', 'testdata', 'augment.safetensors')
    write_safetensors(out, sampling_fixture())
    print('wrote', os.path.relpath(out, root))
    out = os.path.join(root, 'internal', 'augment', 'testdata', 'draws.safetensors')
    write_safetensors(out, draws_fixture())
    print('wrote', os.path.relpath(out, root))


if __name__ == '__main__':
    sys.exit(main())
