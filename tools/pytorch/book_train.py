#!/usr/bin/env python3
"""The book's training loop (Deep Learning with PyTorch, p2ch13/training.py,
SegmentationTrainingApp) on ctseg's training crops, for comparing speeds with
segtrain.

What it runs, as the book does:
  - the data set: the nodule crops (7×96×96, from a ctseg crop stream read with
    ctseg_stream.py), shuffled at the epoch start; sample k takes crop k mod n
    and a random 64×64 window of it, random.randrange(0, 32) per axis
    (TrainingLuna2dSegmentationDataset), batched by a DataLoader (batch 16,
    --num-workers, pin_memory on CUDA);
  - the model: UNetWrapper (tools/pytorch/unet_book.py), Adam(lr 1e-3);
  - SegmentationAugmentation (flip, offset 0.03, scale 0.2, rotate, noise 25)
    on the device, one transform per batch; --no-augment turns it off;
  - computeBatchLoss: Dice loss + 8 × the false-negative Dice loss, and the
    per-sample metrics (loss, TP, FN, FP) into the epoch's metrics tensor;
  - at the end the book's two log lines for the samples trained.
One deliberate change: without augmentation the label is made boolean before
the FP count (the book's `~label` on a long tensor makes FP negative; ctseg's
SPEC "fixed"). Offset is applied as the book writes it: into row 2 of the 3×3
matrix, which affine_grid drops (so it does nothing, as in the book).

Timing: samples/s over the batches after --warmup ones (data loading,
augmentation, step and metrics all included), until --batches or --seconds;
one JSON line on stdout. Runs on torch 1.13 (CPU) and 2.x (--device cuda,
--compile where torch.compile exists).

    /usr/bin/python3 tools/pytorch/book_train.py --threads 2 --seconds 60 train.msz
"""

import argparse
import json
import math
import os
import random
import resource
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ctseg_stream import load_crops  # noqa: E402
from unet_book import book_model  # noqa: E402

METRICS_LOSS_NDX, METRICS_TP_NDX, METRICS_FN_NDX, METRICS_FP_NDX, METRICS_SIZE = 1, 7, 8, 9, 10


class TrainingCrops(Dataset):
    """TrainingLuna2dSegmentationDataset over crops held in memory."""

    def __init__(self, crops, epoch_samples):
        self.hu, self.label = crops.hu, crops.label
        self.n, self.epoch_samples = len(crops), epoch_samples
        self.pos_list = list(range(self.n))
        self.max_r = self.hu.shape[2] - 64
        self.max_c = self.hu.shape[3] - 64

    def shuffleSamples(self):
        random.shuffle(self.pos_list)

    def __len__(self):
        return self.epoch_samples

    def __getitem__(self, ndx):
        i = self.pos_list[ndx % self.n]
        row_offset = random.randrange(0, self.max_r)
        col_offset = random.randrange(0, self.max_c)
        ct_t = torch.from_numpy(self.hu[i, :, row_offset:row_offset + 64, col_offset:col_offset + 64]
                                .astype(np.float32))
        pos_t = torch.from_numpy(self.label[i, None, row_offset:row_offset + 64, col_offset:col_offset + 64]
                                 .astype(np.int64))
        return ct_t, pos_t, i, 3


class SegmentationAugmentation(nn.Module):
    """p2ch13/model.py's SegmentationAugmentation, as the book has it."""

    def __init__(self, flip=None, offset=None, scale=None, rotate=None, noise=None):
        super().__init__()
        self.flip, self.offset, self.scale, self.rotate, self.noise = flip, offset, scale, rotate, noise

    def forward(self, input_g, label_g):
        transform_t = self._build2dTransformMatrix()
        transform_t = transform_t.expand(input_g.shape[0], -1, -1)
        transform_t = transform_t.to(input_g.device, torch.float32)
        affine_t = F.affine_grid(transform_t[:, :2], input_g.size(), align_corners=False)
        augmented_input_g = F.grid_sample(input_g, affine_t, padding_mode='border', align_corners=False)
        augmented_label_g = F.grid_sample(label_g.to(torch.float32), affine_t, padding_mode='border',
                                          align_corners=False)
        if self.noise:
            noise_t = torch.randn_like(augmented_input_g)
            noise_t *= self.noise
            augmented_input_g += noise_t
        return augmented_input_g, augmented_label_g > 0.5

    def _build2dTransformMatrix(self):
        transform_t = torch.eye(3)
        for i in range(2):
            if self.flip:
                if random.random() > 0.5:
                    transform_t[i, i] *= -1
            if self.offset:
                offset_float = self.offset
                random_float = (random.random() * 2 - 1)
                transform_t[2, i] = offset_float * random_float
            if self.scale:
                scale_float = self.scale
                random_float = (random.random() * 2 - 1)
                transform_t[i, i] *= 1.0 + scale_float * random_float
        if self.rotate:
            angle_rad = random.random() * math.pi * 2
            s = math.sin(angle_rad)
            c = math.cos(angle_rad)
            rotation_t = torch.tensor([[c, -s, 0], [s, c, 0], [0, 0, 1]])
            transform_t @= rotation_t
        return transform_t


def diceLoss(prediction_g, label_g, epsilon=1):
    diceLabel_g = label_g.sum(dim=[1, 2, 3])
    dicePrediction_g = prediction_g.sum(dim=[1, 2, 3])
    diceCorrect_g = (prediction_g * label_g).sum(dim=[1, 2, 3])
    diceRatio_g = (2 * diceCorrect_g + epsilon) / (dicePrediction_g + diceLabel_g + epsilon)
    return 1 - diceRatio_g


def computeBatchLoss(model, augmentation, device, batch_ndx, batch_tup, batch_size, metrics_g,
                     classificationThreshold=0.5):
    input_t, label_t, _series, _slice = batch_tup
    input_g = input_t.to(device, non_blocking=True)
    label_g = label_t.to(device, non_blocking=True)
    if augmentation is not None:
        input_g, label_g = augmentation(input_g, label_g)
    else:
        label_g = label_g.to(torch.bool)  # SPEC "fixed": ~label on a long tensor is -1/-2
    prediction_g = model(input_g)
    diceLoss_g = diceLoss(prediction_g, label_g)
    fnLoss_g = diceLoss(prediction_g * label_g, label_g)
    start_ndx = batch_ndx * batch_size
    end_ndx = start_ndx + input_t.size(0)
    with torch.no_grad():
        predictionBool_g = (prediction_g[:, 0:1] > classificationThreshold).to(torch.float32)
        tp = (predictionBool_g * label_g).sum(dim=[1, 2, 3])
        fn = ((1 - predictionBool_g) * label_g).sum(dim=[1, 2, 3])
        fp = (predictionBool_g * (~label_g)).sum(dim=[1, 2, 3])
        metrics_g[METRICS_LOSS_NDX, start_ndx:end_ndx] = diceLoss_g
        metrics_g[METRICS_TP_NDX, start_ndx:end_ndx] = tp
        metrics_g[METRICS_FN_NDX, start_ndx:end_ndx] = fn
        metrics_g[METRICS_FP_NDX, start_ndx:end_ndx] = fp
    return diceLoss_g.mean() + fnLoss_g.mean() * 8


def log_lines(epoch, mode, m):
    """The book's logMetrics lines for metrics m (numpy, METRICS_SIZE × samples)."""
    loss = m[METRICS_LOSS_NDX].mean()
    tp, fn, fp = m[METRICS_TP_NDX].sum(), m[METRICS_FN_NDX].sum(), m[METRICS_FP_NDX].sum()
    all_ = (tp + fn) or 1
    precision = tp / ((tp + fp) or 1)
    recall = tp / ((tp + fn) or 1)
    f1 = 2 * precision * recall / ((precision + recall) or 1)
    return ['E{} {:8} {:.4f} loss, {:.4f} precision, {:.4f} recall, {:.4f} f1 score'.format(
                epoch, mode, loss, precision, recall, f1),
            'E{} {:8} {:.4f} loss, {:-5.1f}% tp, {:-5.1f}% fn, {:-9.1f}% fp'.format(
                epoch, mode + '_all', loss, tp / all_ * 100, fn / all_ * 100, fp / all_ * 100)]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('crops', nargs='+', help='ctseg training crop stream(s)')
    ap.add_argument('--threads', type=int, default=2, help='torch.set_num_threads (default 2)')
    ap.add_argument('--batch-size', type=int, default=16)
    ap.add_argument('--epoch-samples', type=int, default=300000)
    ap.add_argument('--warmup', type=int, default=3, help='batches before the timing starts')
    ap.add_argument('--batches', type=int, default=0, help='stop after this many timed batches (0: no limit)')
    ap.add_argument('--seconds', type=float, default=0, help='stop after this many timed seconds (0: no limit)')
    ap.add_argument('--no-augment', action='store_true', help='no SegmentationAugmentation')
    ap.add_argument('--num-workers', type=int, default=0, help="DataLoader workers (the book's 8; default 0: "
                    'in this process, on the same threads)')
    ap.add_argument('--device', default='cpu', help='cpu or cuda')
    ap.add_argument('--compile', action='store_true', help='torch.compile the model (torch 2)')
    ap.add_argument('--seed', type=int, default=1)
    a = ap.parse_args()

    torch.set_num_threads(a.threads)
    random.seed(a.seed)
    torch.manual_seed(a.seed)
    device = torch.device(a.device)
    t_load = time.perf_counter()
    crops = load_crops(a.crops)
    t_load = time.perf_counter() - t_load
    print('%d nodule crops of %d series (%.1f s to read)' % (len(crops), len(set(crops.series)), t_load),
          file=sys.stderr)

    model = book_model().to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    if a.compile:
        if not hasattr(torch, 'compile'):
            sys.exit('book_train: --compile needs torch 2 (this is torch %s)' % torch.__version__)
        run_model = torch.compile(model)
    else:
        run_model = model
    augmentation = None if a.no_augment else SegmentationAugmentation(
        flip=True, offset=0.03, scale=0.2, rotate=True, noise=25.0).to(device)

    ds = TrainingCrops(crops, a.epoch_samples)
    dl = DataLoader(ds, batch_size=a.batch_size, num_workers=a.num_workers, pin_memory=device.type == 'cuda')
    sync = torch.cuda.synchronize if device.type == 'cuda' else (lambda: None)

    metrics_g = torch.zeros(METRICS_SIZE, len(ds), device=device)
    model.train()
    ds.shuffleSamples()
    timed = samples = 0
    t0 = c0 = None
    t_start = time.perf_counter()
    batch_ndx = -1
    for batch_ndx, batch_tup in enumerate(dl):
        if batch_ndx == a.warmup:
            sync()
            t0, c0 = time.perf_counter(), time.process_time()
        optimizer.zero_grad()
        loss_var = computeBatchLoss(run_model, augmentation, device, batch_ndx, batch_tup, a.batch_size, metrics_g)
        loss_var.backward()
        optimizer.step()
        if t0 is not None:
            timed += 1
            samples += batch_tup[0].size(0)
            if (a.batches and timed >= a.batches) or (a.seconds and time.perf_counter() - t0 >= a.seconds):
                break
    sync()
    el = time.perf_counter() - t0 if t0 is not None else 0.0
    cpu = time.process_time() - c0 if c0 is not None else 0.0
    done = (batch_ndx + 1) * a.batch_size
    for line in log_lines(1, 'trn', metrics_g[:, :min(done, len(ds))].to('cpu').numpy()):
        print(line, file=sys.stderr)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({
        'bench': 'book_train', 'torch': torch.__version__, 'device': a.device, 'compile': a.compile,
        'threads': a.threads, 'batch_size': a.batch_size, 'augmented': not a.no_augment,
        'crops': len(crops), 'warmup_batches': a.warmup, 'timed_batches': timed, 'timed_samples': samples,
        'seconds': el, 'samples_per_s': samples / el if el > 0 else 0.0,
        'cpu_ms_per_batch': 1000 * cpu / timed if timed else 0.0,
        'first_batches_s': (t0 - t_start) if t0 is not None else None,
        'peak_rss_mib': rss / 2**20}))


if __name__ == '__main__':
    main()
