#!/usr/bin/env python3
"""A small reader of ctseg sample streams (format/doc.go), for Python tools.

A stream is zstd (frames, some preceded by skippable "hint" frames, which any
zstd decoder skips) around msgpack records [tag, body]: a "header", data
records of one kind, a "trailer" {count, crc32c}. Several streams may follow
one another in a file (cat a.msz b.msz). This reader decodes the records,
turns tensors {dtype, shape, data} into numpy arrays, and checks that every
stream ends with a trailer whose count matches (a truncated stream is an
error, as in ctseg). It does not check the CRC-32Cs (ctseg's own readers
do; pure Python would be far slower than the rest).

Decompression: the zstandard module (Debian python3-zstandard) when present,
otherwise the `zstd -dc` program. Records: the msgpack module (python3-msgpack).

    from ctseg_stream import read_records, load_crops
    for tag, rec in read_records('train.msz'):   # data records only
        ...
    crops = load_crops('train.msz')               # the training crops, stacked

Run as a script it prints one line per record:  python3 ctseg_stream.py FILE…
"""

import subprocess
import sys

import numpy as np

try:
    import msgpack
except ImportError:  # pragma: no cover
    sys.exit('ctseg_stream: needs msgpack (apt-get install python3-msgpack, or pip install msgpack)')

try:
    import zstandard
except ImportError:  # the zstd CLI instead
    zstandard = None

DTYPES = {'int16': '<i2', 'uint8': 'u1', 'float32': '<f4'}
KINDS = ('ct', 'crop', 'slice', 'prediction')


class StreamError(Exception):
    """A stream that is not a ctseg stream, or is cut short."""


def tensor(t):
    """A msgpack tensor map {dtype, shape, data} as a numpy array (read-only view of the bytes)."""
    dt = DTYPES.get(t.get('dtype'))
    if dt is None:
        raise StreamError('tensor dtype %r' % (t.get('dtype'),))
    a = np.frombuffer(t['data'], dtype=dt)
    shape = tuple(t['shape'])
    if a.size != int(np.prod(shape, dtype=np.int64)):
        raise StreamError('tensor of shape %s has %d elements' % (shape, a.size))
    return a.reshape(shape)


class _Popen:
    """`zstd -dc FILE` as a readable file; checks zstd's exit status at the end."""

    def __init__(self, path):
        self.p = subprocess.Popen(['zstd', '-dcq', '--', path], stdout=subprocess.PIPE)

    def read(self, n=-1):
        b = self.p.stdout.read(n)
        if not b:
            if self.p.wait() != 0:
                raise StreamError('zstd -dc exited with status %d' % self.p.returncode)
        return b

    def close(self):
        self.p.stdout.close()
        self.p.wait()


def _open(path):
    if zstandard is not None:
        f = open(path, 'rb')
        # read_across_frames: a stream is many frames; libzstd skips the hints.
        return zstandard.ZstdDecompressor(max_window_size=1 << 27).stream_reader(
            f, read_size=1 << 20, read_across_frames=True, closefd=True)
    return _Popen(path)


def read_records(path, with_headers=False):
    """Yields (tag, body) for each data record of the streams in file path
    (with_headers: the header records too). Raises StreamError on a stream
    without its trailer or with a wrong count."""
    f = _open(path)
    try:
        # max_buffer_size 0: up to 4 GiB, ctseg's largest tensor.
        up = msgpack.Unpacker(f, raw=False, max_buffer_size=0, read_size=1 << 20, strict_map_key=False)
        kind, count, n = None, None, 0
        for rec in up:
            if not isinstance(rec, (list, tuple)) or len(rec) != 2 or not isinstance(rec[0], str):
                raise StreamError('%s: record %d is not [tag, body]' % (path, n + 1))
            tag, body = rec
            if tag == 'header':
                if kind is not None:
                    raise StreamError('%s: header inside a stream (the one before has no trailer)' % path)
                if body.get('magic') != 'ctseg.stream':
                    raise StreamError('%s: not a ctseg stream (magic %r)' % (path, body.get('magic')))
                if list(body.get('version', [0]))[0] != 1:
                    raise StreamError('%s: format version %r' % (path, body.get('version')))
                kind, n = body.get('kind'), 0
                if with_headers:
                    yield tag, body
            elif tag == 'trailer':
                if kind is None:
                    raise StreamError('%s: trailer without a header' % path)
                if body.get('count') != n:
                    raise StreamError('%s: trailer counts %r records, the stream has %d' % (path, body.get('count'), n))
                kind, count = None, n
            else:
                if kind is None:
                    raise StreamError('%s: %s record before any header' % (path, tag))
                if tag != kind:
                    raise StreamError('%s: %s record in a %s stream' % (path, tag, kind))
                n += 1
                yield tag, body
        if kind is not None:
            raise StreamError('%s: truncated (no trailer after %d records)' % (path, n))
        if count is None:
            raise StreamError('%s: empty' % path)
    finally:
        f.close()


class Crops:
    """Training crops stacked: hu N×C×R×W int16, label N×R×W uint8, series uid and is_nodule of each."""

    def __init__(self, hu, label, series, nodule):
        self.hu, self.label, self.series, self.nodule = hu, label, series, nodule

    def __len__(self):
        return len(self.series)


def load_crops(paths, nodules_only=True):
    """The crop records of the stream files paths (one path or a list), as
    segtrain keeps them: nodule crops only unless nodules_only is false."""
    if isinstance(paths, str):
        paths = [paths]
    hu, lab, series, nod = [], [], [], []
    for p in paths:
        for tag, r in read_records(p):
            if tag != 'crop':
                raise StreamError('%s: %s record, want training crops (crop without --val)' % (p, tag))
            is_nod = bool(r['candidate'].get('is_nodule'))
            if nodules_only and not is_nod:
                continue
            hu.append(tensor(r['hu']))
            lab.append(tensor(r['label']))
            series.append(r['series_uid'])
            nod.append(is_nod)
    if not hu:
        raise StreamError('no crops in %s' % ', '.join(paths))
    return Crops(np.stack(hu), np.stack(lab), series, np.array(nod))


def main(argv):
    for p in argv:
        for tag, r in read_records(p, with_headers=True):
            if tag == 'header':
                print('header', r.get('kind'), r.get('program'), ' '.join(r.get('args', [])))
                continue
            shapes = {k: list(v['shape']) for k, v in r.items() if isinstance(v, dict) and 'dtype' in v}
            print(tag, r.get('series_uid'), r.get('slice_index', ''), shapes)


if __name__ == '__main__':
    main(sys.argv[1:])
