"""What the PyTorch golden scripts share (tools/make_learnable_golden.py,
make_lowrank_golden.py, make_sequence_golden.py): float32-representable
values and the line-based golden file that
models/attention/testing/golden_file.h reads:
    # Made by tools/<script>; do not edit.
    scalar <name> <number>
    text <name> <word>
    tensor <name> <d0,d1,...>   followed by one line of row-major values

The scripts run as /usr/bin/python3 tools/<script>.py, which puts tools/ on
the import path.
"""

import os
import sys

import torch

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


def f32(t):
    """Rounds to float32 and back: values the C++ side reads exactly."""
    return t.to(torch.float32).to(torch.float64)


def uniform(gen, shape, scale):
    """Uniform in [-scale, scale) (torch's default dtype), rounded by f32."""
    return f32((torch.rand(shape, generator=gen) * 2 - 1) * scale)


def write(path, scalars, texts, tensors):
    """Writes a golden file, its header naming the running script."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write("# Made by tools/%s; do not edit.\n"
                % os.path.basename(sys.argv[0]))
        for name, value in scalars.items():
            f.write("scalar %s %s\n" % (name, repr(float(value))))
        for name, value in texts.items():
            f.write("text %s %s\n" % (name, value))
        for name, t in tensors.items():
            t = t.detach()
            f.write("tensor %s %s\n" % (name, ",".join(str(d) for d in t.shape)))
            f.write(" ".join("%.9g" % float(x) for x in t.reshape(-1)) + "\n")
    print("wrote", os.path.relpath(path, ROOT))
