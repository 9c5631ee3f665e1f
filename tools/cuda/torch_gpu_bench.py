#!/usr/bin/env python3
"""PyTorch's side of bench/gpu.sh: the book's model on the same GPU as
ctseg's CUDA engine, one JSON line on stdout per run.

  loop     tools/pytorch/book_train.py (the book's whole training loop:
           data set, DataLoader, augmentation on the GPU, step, metrics)
           with its arguments after `--`, plus the GPU memory the run
           held at most (torch.cuda.max_memory_allocated / _reserved);
  step     the bare step the engine's TrainStep does: augmentation of a
           batch already on the GPU (the book's SegmentationAugmentation),
           forward, the book's loss, backward, Adam, the pixel counts;
  predict  evaluation-mode forward of full 7×512×512 slices.

--compile runs the model through torch.compile (torch 2), eager otherwise;
--device cpu runs step and predict on the CPU (to try the script without a
GPU; the GPU's numbers are the point).

    python3 tools/cuda/torch_gpu_bench.py step --batch 64 --seconds 10 [--compile]
    python3 tools/cuda/torch_gpu_bench.py predict --batch 8 --seconds 10
    python3 tools/cuda/torch_gpu_bench.py loop -- --device cuda --batch-size 16 --seconds 10 train.msz
"""

import argparse
import contextlib
import io
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'pytorch'))


DEV = 'cuda'


def sync(torch):
    if DEV == 'cuda':
        torch.cuda.synchronize()


def memory(torch):
    if DEV != 'cuda':
        return {}
    return {'max_allocated_mib': torch.cuda.max_memory_allocated() / 2**20,
            'max_reserved_mib': torch.cuda.max_memory_reserved() / 2**20}


def loop(args):
    import torch
    import book_train
    sys.argv = ['book_train.py'] + args
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        book_train.main()
    rec = json.loads(out.getvalue().strip().splitlines()[-1])
    rec.update(memory(torch))
    rec['what'] = 'loop'
    return rec


def timed(torch, fn, seconds, warmup):
    for _ in range(warmup):
        fn()
    sync(torch)
    n, t0 = 0, time.perf_counter()
    while n == 0 or time.perf_counter() - t0 < seconds:
        fn()
        n += 1
        if n % 5 == 0:
            sync(torch)
    sync(torch)
    return n / (time.perf_counter() - t0)


def model_of(torch, compile_):
    from unet_book import book_model
    torch.manual_seed(1)
    model = book_model().to(DEV)
    run = model
    if compile_:
        if not hasattr(torch, 'compile'):
            sys.exit('torch_gpu_bench: --compile needs torch 2 (this is torch %s)' % torch.__version__)
        run = torch.compile(model)
    return model, run


def step(a):
    import torch
    from book_train import SegmentationAugmentation, diceLoss
    model, run = model_of(torch, a.compile)
    g = torch.Generator(device=DEV).manual_seed(2)
    x = (torch.randn(a.batch, 7, 64, 64, device=DEV, generator=g) * 500 - 300).clamp(-1000, 1000)
    lab = torch.zeros(a.batch, 1, 64, 64, device=DEV, dtype=torch.long)
    lab[:, :, 27:37, 27:37] = 1
    aug = SegmentationAugmentation(flip=True, offset=0.03, scale=0.2, rotate=True, noise=25.0).to(DEV)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    model.train()
    counts = torch.zeros(3, device=DEV)

    def one():
        opt.zero_grad()
        xi, li = aug(x, lab)
        p = run(xi)
        loss = diceLoss(p, li).mean() + diceLoss(p * li, li).mean() * 8
        loss.backward()
        opt.step()
        with torch.no_grad():
            pb = p > 0.5
            counts[0] += (pb & li).sum()
            counts[1] += (~pb & li).sum()
            counts[2] += (pb & ~li).sum()
    t0 = time.perf_counter()
    one()
    sync(torch)
    first = time.perf_counter() - t0
    rate = timed(torch, one, a.seconds, 3)
    rec = {'what': 'train_step', 'batch': a.batch, 'samples_per_s': rate * a.batch, 'first_step_s': first}
    rec.update(memory(torch))
    return rec


def predict(a):
    import torch
    model, run = model_of(torch, a.compile)
    model.eval()
    g = torch.Generator(device=DEV).manual_seed(3)
    x = (torch.randn(a.batch, 7, 512, 512, device=DEV, generator=g) * 500 - 300).clamp(-1000, 1000)

    def one():
        with torch.no_grad():
            p = run(x)
            p.cpu()  # the engine hands its probabilities back to the host too
    t0 = time.perf_counter()
    one()
    first = time.perf_counter() - t0
    rate = timed(torch, one, a.seconds, 2)
    rec = {'what': 'predict', 'batch': a.batch, 'slices_per_s': rate * a.batch, 'first_call_s': first}
    rec.update(memory(torch))
    return rec


def main():
    argv = sys.argv[1:]
    passthrough = []
    if '--' in argv:
        i = argv.index('--')
        argv, passthrough = argv[:i], argv[i + 1:]
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('mode', choices=['loop', 'step', 'predict'])
    ap.add_argument('--batch', type=int, default=16)
    ap.add_argument('--seconds', type=float, default=10)
    ap.add_argument('--compile', action='store_true')
    ap.add_argument('--device', default='cuda', choices=['cuda', 'cpu'])
    a = ap.parse_args(argv)
    global DEV
    DEV = a.device
    import torch
    if DEV == 'cuda' and not torch.cuda.is_available():
        sys.exit('torch_gpu_bench: torch %s sees no CUDA device' % torch.__version__)
    if a.mode == 'loop':
        rec = loop(passthrough)
    else:
        rec = step(a) if a.mode == 'step' else predict(a)
        rec['compile'] = a.compile
    rec.update({'engine': 'pytorch', 'torch': torch.__version__,
                'device': torch.cuda.get_device_name() if DEV == 'cuda' else 'cpu'})
    print(json.dumps(rec), flush=True)


if __name__ == '__main__':
    main()
