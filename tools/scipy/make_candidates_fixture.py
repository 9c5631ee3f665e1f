#!/usr/bin/env python3
"""Write the SciPy fixture of ctseg's candidate grouping (internal/candidates).

Run from the repository root with Debian's python3-scipy and python3-numpy:

    /usr/bin/python3 tools/scipy/make_candidates_fixture.py internal/candidates/testdata

It does what chapter 14 of Deep Learning with PyTorch does in
NoduleAnalysisApp.segmentCt and groupSegmentationOutput, on small random
volumes (fixed seed) with blobs:

    p      = sigmoid(logit) in float32;  mask = p > 0.5
    mask   = scipy.ndimage.binary_erosion(mask, structure=cross, iterations=1,
                                          border_value=0)
    labels, n = scipy.ndimage.label(mask, structure=cross)
    centre = scipy.ndimage.center_of_mass(clip(hu, -1000, 1000) + 1001 (float32),
                                          labels, arange(1, n + 1))
    xyz    = direction @ (centre[::-1] * spacing) + origin

with cross = generate_binary_structure(3, 1). Logits are multiples of 1/8
(stored as int8 codes, logit = code / 8), so no logit lies near the float32
tie p == 0.5 except code 0, which gives exactly 0.5 and is outside the mask.

Files: volume<i>.bin.gz (gzip, mtime 0) holds the HU (int16 little endian,
[depth][rows][cols]) followed by the logit codes (int8, same order);
scipy_fixture.json lists per volume its file, shape, geometry, threshold and
components in label order: voxels, center_irc, center_xyz (both float64 as
repr writes them), mean_logit (scipy.ndimage.mean), max_logit and the raster
index of the first voxel (checked here to increase with the label).
"""

import gzip
import json
import os
import sys

import numpy as np
import scipy
from scipy import ndimage

SEED = 20140614
SHAPES = [(40, 64, 64), (33, 48, 70), (24, 40, 130)]


def rotation(a, b):
    rz = np.array([[np.cos(a), -np.sin(a), 0], [np.sin(a), np.cos(a), 0], [0, 0, 1]])
    rx = np.array([[1, 0, 0], [0, np.cos(b), -np.sin(b)], [0, np.sin(b), np.cos(b)]])
    return rz @ rx


def make_volume(rng, shape):
    d, h, w = shape
    z, y, x = np.meshgrid(np.arange(d), np.arange(h), np.arange(w), indexing="ij")
    logit = rng.normal(-3.0, 1.5, size=shape)
    hu = -800.0 + 8 * np.round(rng.normal(0.0, 5.0, size=shape))  # coarse, so gzip helps
    for _ in range(rng.integers(25, 40)):
        c = rng.uniform([0, 0, 0], [d, h, w])
        r = rng.uniform(1.0, 6.0, size=3)
        q = ((z - c[0]) / r[0]) ** 2 + ((y - c[1]) / r[1]) ** 2 + ((x - c[2]) / r[2]) ** 2
        inside = q < 1
        logit[inside] += rng.uniform(4.0, 14.0) * (1.2 - q[inside])
        hu[inside] += rng.uniform(300.0, 1500.0) * (1 - q[inside])
    # salt: isolated positives that the erosion removes, and exact zeros (p == 0.5)
    salt = rng.random(shape) < 0.02
    logit[salt] = rng.uniform(0.2, 8.0, size=salt.sum())
    logit[rng.random(shape) < 0.01] = 0.0
    codes = np.clip(np.round(logit * 8), -128, 127).astype(np.int8)
    # HU out of the clip range on both sides
    hu[rng.random(shape) < 0.03] = -3024
    hu[rng.random(shape) < 0.03] = 3071
    hu = np.clip(np.round(hu), -32768, 32767).astype(np.int16)
    return hu, codes


def group(hu, codes, geometry):
    logit = codes.astype(np.float32) / np.float32(8)
    p = np.float32(1) / (np.float32(1) + np.exp(-logit))
    assert p.dtype == np.float32
    mask = p > 0.5
    cross = ndimage.generate_binary_structure(3, 1)
    eroded = ndimage.binary_erosion(mask, structure=cross, iterations=1, border_value=0)
    labels, n = ndimage.label(eroded, structure=cross)
    index = np.arange(1, n + 1)
    weights = hu.astype(np.float32).clip(-1000, 1000) + 1001
    centres = ndimage.center_of_mass(weights, labels, index)
    voxels = ndimage.sum_labels(np.ones(labels.shape, np.int64), labels, index)
    means = ndimage.mean(logit, labels, index)
    maxes = ndimage.maximum(logit, labels, index)
    firsts = ndimage.minimum(np.arange(labels.size).reshape(labels.shape), labels, index)
    assert all(a < b for a, b in zip(firsts, firsts[1:])), "labels not in raster order"
    origin = np.array(geometry["origin"])
    spacing = np.array(geometry["spacing"])
    direction = np.array(geometry["direction"]).reshape(3, 3)
    comps = []
    for i in range(n):
        irc = np.array(centres[i])
        xyz = direction @ (irc[::-1] * spacing) + origin
        comps.append({
            "voxels": int(voxels[i]),
            "center_irc": [float(v) for v in irc],
            "center_xyz": [float(v) for v in xyz],
            "mean_logit": float(means[i]),
            "max_logit": float(maxes[i]),
            "first_index": int(firsts[i]),
        })
    return comps


def main(out_dir):
    rng = np.random.default_rng(SEED)
    volumes = []
    for i, shape in enumerate(SHAPES):
        hu, codes = make_volume(rng, shape)
        geometry = {
            "origin": [float(v) for v in rng.uniform(-300, 300, size=3)],
            "spacing": [float(v) for v in rng.uniform(0.5, 2.5, size=3)],
            "direction": [float(v) for v in rotation(0.3 * (i + 1), -0.7 + 0.2 * i).ravel()],
        }
        comps = group(hu, codes, geometry)
        name = "volume%d.bin.gz" % i
        raw = hu.astype("<i2").tobytes() + codes.tobytes()
        with open(os.path.join(out_dir, name), "wb") as f:
            f.write(gzip.compress(raw, compresslevel=9, mtime=0))
        volumes.append({"file": name, "shape": list(shape), "threshold": 0.5, **geometry,
                        "components": comps})
        print("%s: %d components, %d eroded voxels" % (name, len(comps), sum(c["voxels"] for c in comps)))
    doc = {"generator": "tools/scipy/make_candidates_fixture.py", "seed": SEED,
           "scipy": scipy.__version__, "numpy": np.__version__, "volumes": volumes}
    with open(os.path.join(out_dir, "scipy_fixture.json"), "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "internal/candidates/testdata")
