"""Makes the segeval fixtures for internal/realeval: the book's published
checkpoint run by PyTorch on the two real LIDC-IDRI slabs in ../shared/data.

Everything is computed here, independently of ctseg's Go code:

* the volumes are read from the .mhd/.raw/.zraw files (zlib for .zraw);
* the nodule mask is SPEC.md's ("Nodule mask": radius searches from r = 2
  along each axis while both sides are > -700 HU, stopping at r - 1 when a
  side leaves the volume; box AND hu > -700), from the book's nodule list
  annotations_with_malignancy.csv (the file mkmask prefers);
* the input of slice s is slices s-3 ... s+3 clamped into the volume, HU
  clipped to [-1000, 1000], float32 (SPEC.md "Crops", validation sample);
* the model is the book's UNetWrapper (unet_book.py) with the published
  weights, eval mode, float32, one slice per forward, one thread. The logits
  are the wrapper's own computation stopped before its final Sigmoid
  (model.unet(model.input_batchnorm(x))); the probabilities are
  model.final(logits), exactly what model(x) returns.

Every slice of each slab is run (a full CT: 40 slices); the validation
slices (task 1) are the positive ones among them, whose inputs are the same.

Written to internal/realeval/testdata/segeval_fixture.json.gz (gzip, mtime 0):

  series[]: uid, mhd, hu_sha256 (of the int16 volume, little endian), shape,
    geometry, nodules (xyz, diameter, irc), mask_voxels, positive_indexes,
    val: per positive slice {slice, input_sha256 (float32 LE), tp, fn, fp}
         and the series' tp/fn/fp, pixels > 0.5 and within 1e-3 of 0.5;
    full_ct: the candidates of the whole slab as chapter 14 makes them
         (mask = p > 0.5; scipy.ndimage.binary_erosion with the 6-connected
         cross, border 0; label with the same cross; center_of_mass of
         clip(hu, -1000, 1000) + 1001; irc2xyz without rounding), each with
         voxels, first (flat index of its first voxel in raster order),
         center_irc, center_xyz, mean_logit, max_logit;
         borderline: the voxels with |p - 0.5| <= 1e-3 as flat indexes with
         PyTorch's float32 logit and decision (p > 0.5) there;
         counts of candidates at thresholds 0.5 - 1e-3 and 0.5 + 1e-3;
         recall by the book's rule (a nodule is found when a candidate lies
         at distance / diameter < 0.7).
  pooled: val tp/fn/fp over both series; candidates per scan; recall.

Run from the repository root with PyTorch 1.13 and SciPy (Debian packages):

    /usr/bin/python3 tools/pytorch/make_segeval_fixtures.py [--data ../shared/data]
"""

import argparse
import csv
import glob
import gzip
import hashlib
import json
import os
import sys
import zlib

import numpy as np
import scipy
import scipy.ndimage
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from unet_book import BOOK_KWARGS, load_book_checkpoint  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
OUT = os.path.join(ROOT, 'internal', 'realeval', 'testdata', 'segeval_fixture.json.gz')
CONTEXT = 3
HU_MIN, HU_MAX = -1000.0, 1000.0
MASK_HU = -700
THRESHOLD = 0.5
BORDER = 1e-3
MATCH_RATIO = 0.7


def read_mhd(path):
    """The header as a dict of strings, and the int16 volume [z][y][x]."""
    hdr = {}
    with open(path) as f:
        for line in f:
            k, v = line.split('=', 1)
            hdr[k.strip()] = v.strip()
    assert hdr['ElementType'] == 'MET_SHORT' and hdr['BinaryDataByteOrderMSB'] == 'False'
    x, y, z = (int(v) for v in hdr['DimSize'].split())
    with open(os.path.join(os.path.dirname(path), hdr['ElementDataFile']), 'rb') as f:
        data = f.read()
    if hdr['CompressedData'] == 'True':
        data = zlib.decompress(data)
    vol = np.frombuffer(data, dtype='<i2').reshape(z, y, x).copy()
    return hdr, vol


class Geometry:
    def __init__(self, hdr):
        self.origin = np.array([float(v) for v in hdr['Offset'].split()])
        self.spacing = np.array([float(v) for v in hdr['ElementSpacing'].split()])
        self.direction = np.array([float(v) for v in hdr['TransformMatrix'].split()]).reshape(3, 3)

    def xyz2irc(self, xyz):
        cri = np.linalg.inv(self.direction) @ (np.asarray(xyz) - self.origin) / self.spacing
        r = np.round(cri)  # half to even
        return [int(r[2]), int(r[1]), int(r[0])]

    def irc2xyz(self, irc):
        cri = np.array(irc[::-1], dtype=np.float64)
        return self.direction @ (cri * self.spacing) + self.origin

    def as_json(self):
        return {'origin': self.origin.tolist(), 'spacing': self.spacing.tolist(),
                'direction': self.direction.ravel().tolist()}


def nodules_of(luna, uid):
    with open(os.path.join(luna, 'annotations_with_malignancy.csv'), newline='') as f:
        return [([float(r['coordX']), float(r['coordY']), float(r['coordZ'])], float(r['diameter_mm']))
                for r in csv.DictReader(f) if r['seriesuid'] == uid]


def radius(vol, c, axis):
    """SPEC.md's radius search along one axis (fixed bounds rule)."""
    def hu(k):
        p = list(c)
        p[axis] = k
        return vol[tuple(p)]
    r = 2
    while True:
        if c[axis] + r >= vol.shape[axis] or c[axis] - r < 0:
            return r - 1
        if hu(c[axis] + r) <= MASK_HU or hu(c[axis] - r) <= MASK_HU:
            return r
        r += 1


def nodule_mask(vol, centres):
    box = np.zeros(vol.shape, dtype=bool)
    for c in centres:
        lo, hi = [], []
        for a in range(3):
            r = radius(vol, c, a)
            lo.append(max(c[a] - r, 0))
            hi.append(min(c[a] + r, vol.shape[a] - 1))
        box[lo[0]:hi[0] + 1, lo[1]:hi[1] + 1, lo[2]:hi[2] + 1] = True
    return box & (vol > MASK_HU)


def slice_input(vol, s):
    idx = [min(max(k, 0), vol.shape[0] - 1) for k in range(s - CONTEXT, s + CONTEXT + 1)]
    x = vol[idx].astype(np.float32)
    np.clip(x, HU_MIN, HU_MAX, out=x)
    return x


def forward(model, x):
    """float32 logits and probabilities of one 7×H×W input."""
    with torch.no_grad():
        t = torch.from_numpy(x)[None]
        logits = model.unet(model.input_batchnorm(t))
        probs = model.final(logits)
    return logits[0, 0].numpy().copy(), probs[0, 0].numpy().copy()


def group(mask, hu, logits, geom):
    """Chapter 14's groupSegmentationOutput on a boolean mask."""
    cross = scipy.ndimage.generate_binary_structure(3, 1)
    eroded = scipy.ndimage.binary_erosion(mask, structure=cross, iterations=1)
    labels, n = scipy.ndimage.label(eroded, structure=cross)
    if n == 0:
        return []
    idx = np.arange(1, n + 1)
    weights = np.clip(hu, -1000, 1000).astype(np.float64) + 1001
    centres = scipy.ndimage.center_of_mass(weights, labels=labels, index=idx)
    flat = labels.ravel()
    nz = np.flatnonzero(flat)
    lab = flat[nz]
    voxels = np.bincount(lab, minlength=n + 1)[1:]
    lg = logits.ravel()[nz].astype(np.float64)
    lsum = np.bincount(lab, weights=lg, minlength=n + 1)[1:]
    lmax = np.full(n + 1, -np.inf)
    np.maximum.at(lmax, lab, lg)
    first = np.full(n + 1, -1, dtype=np.int64)
    # nz is ascending: the first occurrence of each label is its first voxel.
    _, pos = np.unique(lab, return_index=True)
    first[1:] = nz[pos]
    out = []
    for k in range(n):
        irc = [float(v) for v in centres[k]]
        out.append({
            'voxels': int(voxels[k]), 'first': int(first[k + 1]),
            'center_irc': irc, 'center_xyz': [float(v) for v in geom.irc2xyz(irc)],
            'mean_logit': float(lsum[k] / voxels[k]), 'max_logit': float(lmax[k + 1]),
        })
    # scipy numbers components in raster order of their first voxel.
    assert all(out[k]['first'] < out[k + 1]['first'] for k in range(n - 1))
    return out


def recall(cands, nodules):
    found = 0
    for xyz, d in nodules:
        if any(np.linalg.norm(np.array(c['center_xyz']) - np.array(xyz)) / d < MATCH_RATIO for c in cands):
            found += 1
    return found


def series_fixture(model, luna, mhd):
    uid = os.path.basename(mhd)[:-4]
    hdr, vol = read_mhd(mhd)
    geom = Geometry(hdr)
    nods = nodules_of(luna, uid)
    centres = [geom.xyz2irc(xyz) for xyz, _ in nods]
    mask = nodule_mask(vol, centres)
    positive = [int(s) for s in np.flatnonzero(mask.any(axis=(1, 2)))]

    depth = vol.shape[0]
    logits = np.empty(vol.shape, dtype=np.float32)
    probs = np.empty(vol.shape, dtype=np.float32)
    for s in range(depth):
        logits[s], probs[s] = forward(model, slice_input(vol, s))
        print('  %s slice %d/%d' % (uid[-6:], s + 1, depth), file=sys.stderr, end='\r')
    print(file=sys.stderr)

    pred = probs > THRESHOLD
    val = []
    tot = dict(tp=0, fn=0, fp=0)
    for s in positive:
        p, l = pred[s], mask[s]
        row = dict(slice=s, input_sha256=hashlib.sha256(slice_input(vol, s).astype('<f4').tobytes()).hexdigest(),
                   tp=int((p & l).sum()), fn=int((~p & l).sum()), fp=int((p & ~l).sum()))
        for k in tot:
            tot[k] += row[k]
        val.append(row)
    pv = probs[positive]

    near = np.abs(probs.astype(np.float64) - THRESHOLD) <= BORDER
    bidx = np.flatnonzero(near.ravel())
    cands = group(pred, vol, logits, geom)
    lo = group(probs > THRESHOLD - BORDER, vol, logits, geom)
    hi = group(probs > THRESHOLD + BORDER, vol, logits, geom)
    found = recall(cands, nods)
    fx = {
        'uid': uid,
        'mhd': 'luna/subset0/' + os.path.basename(mhd),
        'hu_sha256': hashlib.sha256(vol.astype('<i2').tobytes()).hexdigest(),
        'shape': list(vol.shape),
        'geometry': geom.as_json(),
        'nodules': [{'xyz': xyz, 'diameter_mm': d, 'irc': c} for (xyz, d), c in zip(nods, centres)],
        'mask_voxels': int(mask.sum()),
        'positive_indexes': positive,
        'val': {
            'slices': val, **tot,
            'pixels_above': int((pv > THRESHOLD).sum()),
            'pixels_borderline': int((np.abs(pv.astype(np.float64) - THRESHOLD) <= BORDER).sum()),
        },
        'full_ct': {
            'candidates': cands,
            'borderline': {
                'index': [int(i) for i in bidx],
                'logit': [float(v) for v in logits.ravel()[bidx]],
                'above': [bool(v) for v in pred.ravel()[bidx]],
            },
            'voxels_above': int(pred.sum()),
            'candidates_at_lower': len(lo),
            'candidates_at_upper': len(hi),
            'nodules_found': found,
            'recall_lower': recall(lo, nods),
            'recall_upper': recall(hi, nods),
            'max_prob': float(probs.max()),
        },
    }
    print('%s: %d positive slices, val tp %d fn %d fp %d; full CT: %d voxels > 0.5, %d borderline, '
          '%d candidates (%d at %.3f, %d at %.3f), %d/%d nodules found' % (
              uid[-6:], len(positive), tot['tp'], tot['fn'], tot['fp'], pred.sum(), len(bidx), len(cands),
              len(lo), THRESHOLD - BORDER, len(hi), THRESHOLD + BORDER, found, len(nods)), file=sys.stderr)
    return fx


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--data', default=os.path.join(ROOT, '..', 'shared', 'data'))
    args = ap.parse_args()
    luna = os.path.join(args.data, 'luna')
    ckpt, = glob.glob(os.path.join(args.data, 'models', '*.best.state'))
    # One thread: float32 results depend (slightly) on how work is split.
    torch.set_num_threads(1)
    model, _ = load_book_checkpoint(ckpt)

    series = [series_fixture(model, luna, p) for p in sorted(glob.glob(os.path.join(luna, 'subset0', '*.mhd')))]
    pooled = {k: sum(s['val'][k] for s in series) for k in ('tp', 'fn', 'fp')}
    ncand = [len(s['full_ct']['candidates']) for s in series]
    nnod = sum(len(s['nodules']) for s in series)
    found = sum(s['full_ct']['nodules_found'] for s in series)
    fx = {
        'checkpoint': os.path.basename(ckpt),
        'checkpoint_sha256': hashlib.sha256(open(ckpt, 'rb').read()).hexdigest(),
        'model_kwargs': BOOK_KWARGS,
        'mode': 'eval, float32, one slice per forward',
        'torch_version': torch.__version__,
        'torch_threads': torch.get_num_threads(),
        'scipy_version': scipy.__version__,
        'threshold': THRESHOLD,
        'borderline': BORDER,
        'match_ratio': MATCH_RATIO,
        'context': CONTEXT,
        'mask_hu': MASK_HU,
        'annotations': 'annotations_with_malignancy.csv',
        'series': series,
        'pooled': {
            'val': pooled,
            'candidates_per_scan': sum(ncand) / len(ncand),
            'nodules': nnod,
            'nodules_found': found,
            'recall': found / nnod,
        },
    }
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    blob = json.dumps(fx, indent=None, separators=(',', ':')).encode()
    with open(OUT, 'wb') as f:
        with gzip.GzipFile(fileobj=f, mode='wb', compresslevel=9, mtime=0) as gz:
            gz.write(blob)
    print(json.dumps(fx['pooled'], indent=1))


if __name__ == '__main__':
    main()
