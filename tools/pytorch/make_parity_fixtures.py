#!/usr/bin/env python3
"""Write the PyTorch parity fixtures of ctseg's Go U-Net (internal/unet).

Run with PyTorch 1.13 (Debian's python3-torch) from the repository root:

    /usr/bin/python3 tools/pytorch/make_parity_fixtures.py \
        internal/unet/testdata/parity.safetensors

The book's UNetWrapper (tools/pytorch/unet_book.py) is initialised with a
fixed seed; the fixture holds its initial state_dict, three small batches
(4 × 7 × 32 × 32 clipped-HU inputs, labels with positives and one empty
label), the training-mode output, loss and every gradient of the first
batch, the state_dict and Adam state after three Adam steps (one per batch),
and the evaluation-mode output of the first batch after those steps. The
file is safetensors (8-byte little-endian header length, JSON header, raw
little-endian data), written here without the safetensors package.

Names: init.<key>, input.<i>, label.<i>, train.output, train.loss,
train.dice_loss (per-sample first loss term), grad.<param>, step3.<key>,
step3.optimizer.exp_avg.<param>, step3.optimizer.exp_avg_sq.<param>,
eval.output; and f64.train.output, f64.step3.<key>, f64.eval.output: the same three steps
run in float64 (stored rounded to float32), the reference that shows how far
PyTorch's own float32 result is from the exact one. Adam's first steps move
a weight by about lr·sign(g) whatever |g| is, so for the few elements whose
gradient is close to zero, float32 rounding in the gradient changes the
update visibly; the float64 run lets the Go test tell those apart.
"""

import json
import os
import struct
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from unet_book import book_model  # noqa: E402

N, H, W = 4, 32, 32


def dice_loss(pred, label, eps=1):
    """The book's SegmentationTrainingApp.diceLoss (p2ch13/training.py)."""
    dice_label = label.sum(dim=[1, 2, 3])
    dice_pred = pred.sum(dim=[1, 2, 3])
    dice_correct = (pred * label).sum(dim=[1, 2, 3])
    ratio = (2 * dice_correct + eps) / (dice_pred + dice_label + eps)
    return 1 - ratio


def book_loss(pred, label):
    """The book's training loss: Dice loss + 8 × false-negative Dice loss."""
    return dice_loss(pred, label).mean() + dice_loss(pred * label, label).mean() * 8


def make_batch(gen):
    """Clipped-HU-like inputs and disc labels; the last sample has none."""
    x = torch.randn(N, 7, H, W, generator=gen) * 500 - 300
    x = x.clamp(-1000, 1000)
    label = torch.zeros(N, 1, H, W)
    yy, xx = torch.meshgrid(torch.arange(H), torch.arange(W), indexing='ij')
    for n in range(N - 1):
        cy, cx = torch.randint(6, H - 6, (2,), generator=gen).tolist()
        r = 2 + n * 2
        disc = ((yy - cy) ** 2 + (xx - cx) ** 2) <= r * r
        label[n, 0][disc] = 1
        # Make the positives look brighter, as nodules do.
        x[n, :, disc] += 400
    return x.clamp(-1000, 1000), label


def write_safetensors(path, tensors):
    header, blobs, offset = {}, [], 0
    for name, t in tensors.items():
        a = t.detach().cpu().contiguous().numpy()
        if a.dtype == np.float32:
            dtype = 'F32'
        elif a.dtype == np.int64:
            dtype = 'I64'
        else:
            raise ValueError(f'{name}: unsupported dtype {a.dtype}')
        raw = a.astype(a.dtype.newbyteorder('<')).tobytes()
        header[name] = {'dtype': dtype, 'shape': list(a.shape),
                        'data_offsets': [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    header['__metadata__'] = {'torch': torch.__version__, 'script': 'make_parity_fixtures.py'}
    hb = json.dumps(header, separators=(',', ':')).encode()
    hb += b' ' * (-len(hb) % 8)
    tmp = path + '.tmp'
    with open(tmp, 'wb') as f:
        f.write(struct.pack('<Q', len(hb)))
        f.write(hb)
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)


def train3(model, batches, dtype):
    """Three Adam steps, one per batch; returns the optimiser and the
    first step's output, loss, per-sample Dice loss and gradients."""
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-8)
    model.train()
    first = None
    for i, (x, lab) in enumerate(batches):
        x, lab = x.to(dtype), lab.to(dtype)
        opt.zero_grad()
        pred = model(x)
        loss = book_loss(pred, lab)
        loss.backward()
        if i == 0:
            first = (pred.detach().clone(), loss.detach().clone().reshape(()),
                     dice_loss(pred, lab).detach().clone(),
                     {n: p.grad.detach().clone() for n, p in model.named_parameters()})
        opt.step()
    return opt, first


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else 'internal/unet/testdata/parity.safetensors'
    torch.set_num_threads(1)
    torch.manual_seed(20260129)
    model = book_model()
    fx = {}
    for k, v in model.state_dict().items():
        fx['init.' + k] = v.clone()
    gen = torch.Generator().manual_seed(7)
    batches = [make_batch(gen) for _ in range(3)]
    for i, (x, lab) in enumerate(batches):
        fx[f'input.{i}'] = x
        fx[f'label.{i}'] = lab

    init = {k: v.clone() for k, v in model.state_dict().items()}
    opt, (pred, loss, dice, grads) = train3(model, batches, torch.float32)
    fx['train.output'], fx['train.loss'], fx['train.dice_loss'] = pred, loss, dice
    for name, g in grads.items():
        fx['grad.' + name] = g

    for k, v in model.state_dict().items():
        fx['step3.' + k] = v.clone()
    names = dict((id(p), n) for n, p in model.named_parameters())
    for p, st in opt.state.items():
        fx['step3.optimizer.exp_avg.' + names[id(p)]] = st['exp_avg'].clone()
        fx['step3.optimizer.exp_avg_sq.' + names[id(p)]] = st['exp_avg_sq'].clone()

    model.eval()
    with torch.no_grad():
        fx['eval.output'] = model(batches[0][0]).clone()

    # The float64 reference run from the same initial state.
    m64 = book_model()
    m64.load_state_dict(init)
    m64 = m64.double()
    _, first64 = train3(m64, batches, torch.float64)
    fx['f64.train.output'] = first64[0].float()
    for k, v in m64.state_dict().items():
        fx['f64.step3.' + k] = v.float() if v.is_floating_point() else v.clone()
    m64.eval()
    with torch.no_grad():
        fx['f64.eval.output'] = m64(batches[0][0].double()).float()
    write_safetensors(out, fx)
    print(f'wrote {out}: {len(fx)} tensors, loss {fx["train.loss"].item():.6f}')


if __name__ == '__main__':
    main()
