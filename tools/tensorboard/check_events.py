"""Check an event file written by ctseg's internal/tbevent against PyTorch.

Reads EVENTFILE with TensorBoard's own reader (RawEventFileLoader, which
checks every record's CRCs, and event_pb2) and prints its scalars and
images. Then it makes the same log with torch.utils.tensorboard's
SummaryWriter -- the calls of SAMPLE below, which must stay in step with
sampleCalls in internal/tbevent/writer_test.go -- reads that back the same
way, and compares event by event, ignoring wall_time:

  * file_version and scalar events: the serialized bytes must be equal;
  * image events: tag, step, height, width and colorspace must be equal and
    the PNGs must decode (PIL) to the same pixels; the PNG bytes may differ,
    as Go's and PIL's zlib differ;
  * each Go event must be canonical: re-serializing it with protobuf gives
    its bytes back;
  * TensorBoard's EventAccumulator (what its UI loads) must see the same
    scalars and images in both files.

Usage, from the repository root, on a machine with torch and tensorboard:

  python3 tools/tensorboard/check_events.py internal/tbevent/testdata/go_sample.tfevents
  python3 tools/tensorboard/check_events.py EVENTFILE --make-fixture internal/tbevent/testdata/pytorch_sample.tfevents

--make-fixture OUT also copies the SummaryWriter file to OUT; committed
there, it makes `go test ./internal/tbevent` (TestPyTorchFixture) compare
the Go writer with it byte for byte.

Exit status: 0 when the files match, 1 on a mismatch, 2 when torch,
tensorboard, numpy or PIL cannot be imported (the file is still printed if
tensorboard can).
"""

import argparse
import glob
import io
import os
import shutil
import sys
import tempfile

# (tag, step, value); value None is add_image of sample_image().
SAMPLE = [
    ("loss/trn", 0, 0.1),
    ("loss/trn", 1, 0.25),
    ("loss/val", 123456789, -1.5),
    ("zero", 2, 0.0),
    ("sample", 7, None),
]


def sample_image():
    """The 4-wide, 3-high RGB sample image, as uint8 HWC."""
    import numpy as np

    img = np.zeros((3, 4, 3), dtype=np.uint8)
    for y in range(3):
        for x in range(4):
            img[y, x] = (40 * x + 10, 60 * y + 20, 25 * (x + y))
    return img


def load_raw(path):
    """Serialized events of path, read by TensorBoard's record reader.

    The reader stops quietly at a record whose CRC fails, so callers compare
    event counts."""
    from tensorboard.backend.event_processing import event_file_loader

    return list(event_file_loader.RawEventFileLoader(path).Load())


def parse(raw):
    from tensorboard.compat.proto import event_pb2

    return [event_pb2.Event.FromString(r) for r in raw]


def describe(ev):
    """One line per event: what add_scalar / add_image put in it."""
    head = "wall_time=%.6f step=%d" % (ev.wall_time, ev.step)
    if ev.HasField("file_version"):
        return "%s file_version=%r" % (head, ev.file_version)
    parts = []
    for v in ev.summary.value:
        kind = v.WhichOneof("value")
        if kind == "simple_value":
            parts.append("scalar %r = %r" % (v.tag, v.simple_value))
        elif kind == "image":
            im = v.image
            parts.append(
                "image %r %dx%d colorspace=%d png=%d bytes"
                % (v.tag, im.width, im.height, im.colorspace, len(im.encoded_image_string))
            )
        else:
            parts.append("%r: %s" % (v.tag, kind))
    return "%s %s" % (head, "; ".join(parts))


def print_file(label, events):
    print("%s: %d events" % (label, len(events)))
    for i, ev in enumerate(events):
        print("  %d: %s" % (i, describe(ev)))


def strip_wall_time(raw):
    """raw without its wall_time field (tag 0x09 and 8 bytes, first)."""
    return raw[9:] if raw[:1] == b"\x09" else raw


def make_pytorch_log(tmp):
    """Runs SAMPLE through SummaryWriter in tmp; returns the file's path."""
    from torch.utils.tensorboard import SummaryWriter

    w = SummaryWriter(log_dir=tmp)
    for tag, step, value in SAMPLE:
        if value is None:
            w.add_image(tag, sample_image(), step, dataformats="HWC")
        else:
            w.add_scalar(tag, value, step)
    w.close()
    (path,) = glob.glob(os.path.join(tmp, "events.out.tfevents.*"))
    return path


def pixels(png):
    from PIL import Image

    im = Image.open(io.BytesIO(png))
    return im.mode, im.size, im.tobytes()


def image_value(ev):
    """The Summary.Value of an image event, or None."""
    vals = ev.summary.value
    if len(vals) == 1 and vals[0].WhichOneof("value") == "image":
        return vals[0]
    return None


def compare_event(i, go_raw, go_ev, pt_raw, pt_ev):
    """Differences between event i of the two files, as strings."""
    errs = []
    if go_ev.SerializeToString() != go_raw:
        errs.append("event %d: Go bytes are not protobuf's canonical serialization" % i)
    gv, pv = image_value(go_ev), image_value(pt_ev)
    if gv is None and pv is None:
        if strip_wall_time(go_raw) != strip_wall_time(pt_raw):
            errs.append(
                "event %d differs:\n    go:      %s\n    pytorch: %s"
                % (i, describe(go_ev), describe(pt_ev))
            )
        return errs
    if gv is None or pv is None:
        return errs + ["event %d: image in one file only" % i]
    a, b = gv.image, pv.image
    if (go_ev.step, gv.tag, a.height, a.width, a.colorspace) != (
        pt_ev.step, pv.tag, b.height, b.width, b.colorspace
    ):
        errs.append(
            "event %d differs:\n    go:      %s\n    pytorch: %s"
            % (i, describe(go_ev), describe(pt_ev))
        )
    if pixels(a.encoded_image_string) != pixels(b.encoded_image_string):
        errs.append("event %d: the PNGs decode to different pixels" % i)
    return errs


def accumulate(path):
    """Scalars and images as TensorBoard's EventAccumulator sees them."""
    from tensorboard.backend.event_processing import event_accumulator as ea

    acc = ea.EventAccumulator(path, size_guidance={ea.SCALARS: 0, ea.IMAGES: 0})
    acc.Reload()
    tags = acc.Tags()
    scalars = {
        t: [(s.step, s.value) for s in acc.Scalars(t)] for t in sorted(tags.get(ea.SCALARS, []))
    }
    images = {
        t: [(im.step, im.width, im.height, pixels(im.encoded_image_string)) for im in acc.Images(t)]
        for t in sorted(tags.get(ea.IMAGES, []))
    }
    return scalars, images


def compare(go_path, pt_path):
    go_raw, pt_raw = load_raw(go_path), load_raw(pt_path)
    go_ev, pt_ev = parse(go_raw), parse(pt_raw)
    print_file("pytorch " + pt_path, pt_ev)
    errs = []
    if len(go_ev) != len(pt_ev):
        errs.append("Go file has %d events, PyTorch's %d" % (len(go_ev), len(pt_ev)))
    for i in range(min(len(go_ev), len(pt_ev))):
        errs += compare_event(i, go_raw[i], go_ev[i], pt_raw[i], pt_ev[i])
    go_acc, pt_acc = accumulate(go_path), accumulate(pt_path)
    print("EventAccumulator scalars: %r" % (go_acc[0],))
    if go_acc != pt_acc:
        errs.append("EventAccumulator sees\n    go:      %r\n    pytorch: %r" % (go_acc, pt_acc))
    return errs


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("eventfile", help="event file written by internal/tbevent")
    ap.add_argument("--make-fixture", metavar="OUT", help="copy PyTorch's event file to OUT")
    args = ap.parse_args()

    try:
        go_ev = parse(load_raw(args.eventfile))
    except ImportError as e:
        print("tensorboard is not installed: %s" % e, file=sys.stderr)
        return 2
    print_file("go " + args.eventfile, go_ev)
    try:
        import numpy  # noqa: F401
        import PIL  # noqa: F401
        import torch.utils.tensorboard  # noqa: F401
    except ImportError as e:
        print("cannot compare with PyTorch: %s" % e, file=sys.stderr)
        return 2

    tmp = tempfile.mkdtemp()
    try:
        pt_path = make_pytorch_log(tmp)
        errs = compare(args.eventfile, pt_path)
        if args.make_fixture:
            shutil.copyfile(pt_path, args.make_fixture)
            print("wrote %s" % args.make_fixture)
    finally:
        shutil.rmtree(tmp)
    for e in errs:
        print("MISMATCH: " + e)
    print("OK: matches PyTorch's SummaryWriter" if not errs else "FAIL: %d mismatches" % len(errs))
    return 1 if errs else 0


if __name__ == "__main__":
    sys.exit(main())
