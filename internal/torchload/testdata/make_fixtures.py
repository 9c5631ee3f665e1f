"""Makes internal/torchload's test fixtures with PyTorch 1.13 (Debian
python3-torch). Run from the repository root:

    /usr/bin/python3 internal/torchload/testdata/make_fixtures.py

Writes, next to this script:
  book_values.json  facts about the book's published checkpoint (from
                    ../shared/data/models, read here by torch.load): every
                    tensor's shape, dtype, first values, last value and float64
                    sums, plus the scalar entries. The checkpoint itself is
                    not copied.
  small_zip.pt      a zip-format (PyTorch >= 1.6) torch.save of a small state
                    dict with a non-contiguous view, a view with a storage
                    offset, a shared storage, float64 and int64 tensors.
  small_legacy.pt   the same dict in the legacy format
                    (_use_new_zipfile_serialization=False).
  small_values.json every tensor of those files, flattened in row-major order.
  state_dict_zip.pt a bare state_dict (OrderedDict with _metadata) of a small
                    Conv2d + BatchNorm2d module, zip format;
                    state_dict_values.json its tensors.
"""

import glob
import json
import os

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, '..', '..', '..'))
MODELS = os.path.join(ROOT, '..', 'shared', 'data', 'models')


def describe(t):
    flat = t.reshape(-1)
    return {
        'shape': list(t.shape),
        'dtype': str(t.dtype).replace('torch.', ''),
        'first': [v.item() for v in flat[:4]],
        'last': flat[-1].item() if flat.numel() else None,
        'sum': t.double().sum().item(),
        'abssum': t.double().abs().sum().item(),
    }


def book_values():
    path, = glob.glob(os.path.join(MODELS, '*.best.state'))
    state = torch.load(path, map_location='cpu')
    out = {
        'file': os.path.basename(path),
        'meta': {k: v for k, v in state.items() if k not in ('model_state', 'optimizer_state')},
        'tensors': {k: describe(v) for k, v in state['model_state'].items()},
    }
    with open(os.path.join(HERE, 'book_values.json'), 'w') as f:
        json.dump(out, f, indent=1, sort_keys=True)


def small_dict():
    g = torch.Generator().manual_seed(13)
    base = torch.randn(4, 6, generator=g)
    shared = torch.arange(20, dtype=torch.float32) / 7
    return {
        'conv.weight': torch.randn(2, 3, 3, 3, generator=g),
        'transposed': base.t(),                      # non-contiguous, strides (1, 6)
        'sliced': base[1:3, ::2],                    # storage offset 6, strides (12, 2)... of base
        'shared.a': shared[2:7],                     # offset view into a shared storage
        'shared.b': shared.view(4, 5)[:, 1],         # another view of the same storage
        'double': torch.randn(3, 2, generator=g, dtype=torch.float64),
        'bn.num_batches_tracked': torch.tensor(123456789012, dtype=torch.int64),
        'long.permuted': torch.arange(24, dtype=torch.int64).reshape(2, 3, 4).permute(2, 0, 1),
        'empty': torch.zeros(0, 3),
        'param': torch.nn.Parameter(torch.randn(3, generator=g)),  # saved via _rebuild_parameter
    }


def module_state_dict():
    """A real module's state_dict: an OrderedDict carrying _metadata."""
    torch.manual_seed(7)
    m = torch.nn.Sequential(torch.nn.Conv2d(2, 3, 3), torch.nn.BatchNorm2d(3))
    m(torch.randn(4, 2, 5, 5))  # train-mode forward: running stats and num_batches_tracked move
    return m.state_dict()


def small_files():
    d = small_dict()
    torch.save(d, os.path.join(HERE, 'small_zip.pt'))
    torch.save(d, os.path.join(HERE, 'small_legacy.pt'), _use_new_zipfile_serialization=False)
    sd = module_state_dict()
    torch.save(sd, os.path.join(HERE, 'state_dict_zip.pt'))
    for name, tensors in (('small_values.json', d), ('state_dict_values.json', sd)):
        values = {k: {'shape': list(v.shape), 'dtype': str(v.dtype).replace('torch.', ''),
                      'values': v.detach().contiguous().reshape(-1).tolist()} for k, v in tensors.items()}
        with open(os.path.join(HERE, name), 'w') as f:
            json.dump(values, f, indent=1, sort_keys=True)


if __name__ == '__main__':
    book_values()
    small_files()
