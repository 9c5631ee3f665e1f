#!/usr/bin/env python3
"""PyTorch 1.13 counterpart of ctseg's Go benchmarks (internal/unet):

  train_step: one Adam step of the book's UNetWrapper on a batch of
              16 × 7×64×64 (forward, loss, backward, update);
  eval_slice: evaluation-mode forward of one 7×512×512 slice.

Same thread count as the Go run (default 2, torch.set_num_threads). Each
measurement runs in its own process so that its peak RSS (ru_maxrss) is its
own. Usage, from the repository root:

    /usr/bin/python3 bench/pytorch_bench.py [--threads 2] [--seconds 10]
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'tools', 'pytorch'))


def measure(kind, threads, seconds):
    import torch
    from unet_book import book_model
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    model = book_model()
    g = torch.Generator().manual_seed(2)
    if kind == 'train_step':
        from make_parity_fixtures import book_loss
        x = (torch.randn(16, 7, 64, 64, generator=g) * 500 - 300).clamp(-1000, 1000)
        lab = torch.zeros(16, 1, 64, 64)
        lab[:, :, 27:37, 27:37] = 1
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        model.train()

        def step():
            opt.zero_grad()
            loss = book_loss(model(x), lab)
            loss.backward()
            opt.step()
        per = 16
    else:
        x = (torch.randn(1, 7, 512, 512, generator=g) * 500 - 300).clamp(-1000, 1000)
        model.eval()

        def step():
            with torch.no_grad():
                model(x)
        per = 1
    step()  # warm-up
    n, t0, c0 = 0, time.perf_counter(), time.process_time()
    while True:
        step()
        n += 1
        el = time.perf_counter() - t0
        if el >= seconds and n >= 3:
            break
    cpu = time.process_time() - c0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return {'bench': kind, 'threads': threads, 'iters': n, 'sec_per_op': el / n,
            'cpu_ms_per_op': 1000 * cpu / n,
            'samples_per_s': per * n / el, 'peak_rss_mib': rss / 2**20, 'torch': torch.__version__}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--seconds', type=float, default=10)
    ap.add_argument('--only', choices=['train_step', 'eval_slice'])
    a = ap.parse_args()
    if a.only:
        print(json.dumps(measure(a.only, a.threads, a.seconds)))
        return
    for kind in ('train_step', 'eval_slice'):
        out = subprocess.run([sys.executable, __file__, '--only', kind, '--threads', str(a.threads),
                              '--seconds', str(a.seconds)], check=True, capture_output=True, text=True)
        print(out.stdout.strip())


if __name__ == '__main__':
    main()
