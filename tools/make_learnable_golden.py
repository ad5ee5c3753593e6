#!/usr/bin/python3
"""Writes PyTorch golden files for the learnable-pattern attention plugins.

Regenerate (Debian's python3-torch; deterministic, so the files only change
when this script does):

    /usr/bin/python3 tools/make_learnable_golden.py

Each plugin is written here again, independently of its C++ code, in float64
with autograd, from the definitions in its README: forward output and the
gradients of sum(out * dout) in q, k, v, the layer input x and every
learnable parameter. Inputs and parameters are float32-representable, so the
C++ test feeds exactly the same numbers. Discrete structure (Sinkhorn's
sorting is soft, but its block layout is not) is a function of the sizes only.

Files: models/attention/<plugin>/testdata/<case>.txt, line based:
    scalar <name> <number>      sizes and numeric plugin params
    text <name> <word>          text plugin params
    tensor <name> <d0,d1,...>   followed by one line of row-major values
Tensor names: q, k, v ([B, H, N, Dh]), x ([B, N, D]), mask ([B, N], 1 =
real key), dout, out, param/<name>, grad/<q|k|v|x|name>.
"""

import math
import os

import torch

torch.set_default_dtype(torch.float64)
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


def f32(t):
    """Rounds to float32 and back: values the C++ side reads exactly."""
    return t.to(torch.float32).to(torch.float64)


def uniform(gen, shape, scale):
    return f32((torch.rand(shape, generator=gen) * 2 - 1) * scale)


def fmt(t):
    return " ".join("%.9g" % float(v) for v in t.reshape(-1))


def write(path, scalars, texts, tensors):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write("# Made by tools/make_learnable_golden.py; do not edit.\n")
        for name, value in scalars.items():
            f.write("scalar %s %s\n" % (name, repr(float(value))))
        for name, value in texts.items():
            f.write("text %s %s\n" % (name, value))
        for name, t in tensors.items():
            f.write("tensor %s %s\n" % (name, ",".join(str(d) for d in t.shape)))
            f.write(fmt(t.detach()) + "\n")
    print("wrote", os.path.relpath(path, ROOT))


def key_mask(B, N, lengths):
    m = torch.zeros(B, N)
    for b, n in enumerate(lengths):
        m[b, :n] = 1
    return m


def masked_softmax(logits, mask):
    """Softmax over the last axis where mask [B, 1, 1, N] is 1."""
    logits = logits.masked_fill(mask == 0, float("-inf"))
    return torch.softmax(logits, dim=-1)


# ---------------------------------------------------------------- synthesizer

def synthesizer(q, k, v, x, mask, p, mode, factor, mix_fixed):
    B, H, N, Dh = q.shape
    logits = torch.zeros(B, H, N, N)
    if mode.endswith("+dot"):
        logits = logits + q @ k.transpose(-1, -2) / math.sqrt(Dh)
    synthetic = torch.zeros(B, H, N, N)
    if mode.startswith("random"):
        if factor > 0:
            r = p["random1"] @ p["random2"]  # [H, N, N]
        else:
            r = p["random"]
        synthetic = synthetic + r.unsqueeze(0)
    if mode.startswith("dense"):
        hidden = torch.relu(x @ p["dense_w1"] + p["dense_b1"])  # [B, N, H Dh]
        hidden = hidden.reshape(B, N, H, Dh).permute(0, 2, 1, 3)
        synthetic = synthetic + hidden @ p["dense_w2"] + p["dense_b2"]
    mix = p["mix"].reshape(1, H, 1, 1) if "mix" in p else mix_fixed
    logits = logits + mix * synthetic
    w = masked_softmax(logits, mask[:, None, None, :])
    return w @ v


def synthesizer_case(name, mode, factor, learn_mix, mix, seed):
    gen = torch.Generator().manual_seed(seed)
    B, H, N, Dh, D = 2, 2, 7, 4, 6
    q = uniform(gen, (B, H, N, Dh), 1.5)
    k = uniform(gen, (B, H, N, Dh), 1.5)
    v = uniform(gen, (B, H, N, Dh), 1.0)
    x = uniform(gen, (B, N, D), 1.5)
    dout = uniform(gen, (B, H, N, Dh), 1.0)
    mask = key_mask(B, N, [N, 5])
    p = {}
    if mode.startswith("random"):
        if factor > 0:
            p["random1"] = uniform(gen, (H, N, factor), 0.8)
            p["random2"] = uniform(gen, (H, factor, N), 0.8)
        else:
            p["random"] = uniform(gen, (H, N, N), 1.5)
    if mode.startswith("dense"):
        p["dense_w1"] = uniform(gen, (D, H * Dh), 0.6)
        p["dense_b1"] = uniform(gen, (H * Dh,), 0.3)
        p["dense_w2"] = uniform(gen, (Dh, N), 0.8)
        p["dense_b2"] = uniform(gen, (N,), 0.3)
    if learn_mix:
        p["mix"] = uniform(gen, (H,), 0.5) + f32(torch.tensor(mix))
    inputs = {"q": q, "k": k, "v": v, "x": x}
    for t in list(inputs.values()) + list(p.values()):
        t.requires_grad_(True)
    out = synthesizer(q, k, v, x, mask, p, mode, factor, mix)
    (out * dout).sum().backward()
    tensors = dict(inputs)
    tensors["mask"] = mask
    tensors["dout"] = dout
    for n, t in p.items():
        tensors["param/" + n] = t
    tensors["out"] = out
    for n, t in list(inputs.items()) + list(p.items()):
        # Unused inputs (k without "+dot", x without "dense") get zero.
        tensors["grad/" + n] = t.grad if t.grad is not None else 0 * t
    write(os.path.join(ROOT, "models/attention/synthesizer/testdata",
                       name + ".txt"),
          {"batch": B, "heads": H, "seq_len": N, "head_dim": Dh, "d_model": D,
           "factor": factor, "mix": mix, "learn_mix": int(learn_mix)},
          {"mode": mode}, tensors)


def main():
    synthesizer_case("random_dot_factor", "random+dot", 3, True, 1.0, 1)
    synthesizer_case("random_full", "random", 0, False, 1.0, 2)
    synthesizer_case("dense_dot", "dense+dot", 0, True, 0.7, 3)
    synthesizer_case("dense", "dense", 0, False, 1.0, 4)


if __name__ == "__main__":
    main()
