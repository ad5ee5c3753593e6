#!/usr/bin/python3
"""Writes the PyTorch golden file that pins the "nystromformer" plugin.

Regenerate (Debian's python3-torch; deterministic, so the file only changes
when this script does):

    /usr/bin/python3 tools/make_nystromformer_golden.py

The script computes Nyström attention as models/attention/nystromformer/
README.md defines it, written independently of the C++ code: in float64, with
autograd for every gradient (dq, dk, dv and the convolution kernel), from
float32-representable inputs. models/attention/nystromformer/
nystromformer_attention_test.cc feeds the same inputs to the plugin and
compares output and gradients to 1e-4 relative.

File format (line based, '#' starts a comment line):
    scalar <name> <value>         batch, heads, seq_len, head_dim,
                                  num_landmarks, pinv_iterations, conv_kernel
    tensor <name> <d0,d1,...>     followed by one line of row-major values
Tensors: q, k, v, mask ([B, N], 1 = real), conv_weight, dout (the upstream
gradient: the objective is sum(out * dout)), out, dq, dk, dv, dconv_weight.

The case: N = 11 with 3 landmarks (N is not a multiple of m); example 0 has
every token real, example 1 has holes and a padded tail (8 real tokens in
segments of 2, 3 and 3), example 2 has 2 real tokens (fewer than the
landmarks: exact softmax attention). A convolution of width 3 runs over the masked values.
"""

import math
import os

import torch

B, H, N, DH = 3, 2, 11, 4
M, ITERATIONS, CONV = 3, 6, 3
MASK = [
    [1] * 11,
    [1, 1, 0, 1, 1, 1, 1, 1, 1, 0, 0],
    [0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0],
]

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "models",
                   "attention", "nystromformer", "testdata", "golden.txt")


def float32_values(generator, shape, scale):
    """Uniform in [-scale, scale), rounded to float32, held in float64."""
    x = (torch.rand(shape, generator=generator, dtype=torch.float64) * 2 - 1)
    return (x * scale).float().double()


def pseudo_inverse(a, iterations):
    """The iteration of the Nyströmformer paper, started from A^T / c with c
    the largest column sum of this one matrix."""
    c = a.sum(dim=0).max()
    z = a.t() / c
    eye = torch.eye(a.shape[0], dtype=a.dtype)
    for _ in range(iterations):
        x = a @ z
        z = 0.25 * z @ (13 * eye - x @ (15 * eye - x @ (7 * eye - x)))
    return z


def nystrom_head(q, k, v, real, m, iterations):
    """One example and head: q, k, v [N, Dh]; real: indices of real tokens."""
    n = len(real)
    quarter = DH ** -0.25
    qs, ks = q * quarter, k * quarter
    if n == 0:
        return torch.zeros_like(v)
    qr, kr, vr = qs[real], ks[real], v[real]
    if n <= m:
        # Exact softmax attention over the real keys.
        return torch.softmax(qs @ kr.t(), dim=-1) @ vr
    # Balanced segments of the real tokens: rank floor(l n / m) onwards.
    bounds = [l * n // m for l in range(m + 1)]
    q_land = torch.stack(
        [qr[bounds[l]:bounds[l + 1]].mean(dim=0) for l in range(m)])
    k_land = torch.stack(
        [kr[bounds[l]:bounds[l + 1]].mean(dim=0) for l in range(m)])
    f = torch.softmax(qs @ k_land.t(), dim=-1)
    a = torch.softmax(q_land @ k_land.t(), dim=-1)
    b = torch.softmax(q_land @ kr.t(), dim=-1)  # real keys only
    return f @ (pseudo_inverse(a, iterations) @ (b @ vr))


def forward(q, k, v, mask, conv_weight):
    rows = []
    for e in range(B):
        real = [j for j in range(N) if mask[e][j]]
        heads = [nystrom_head(q[e, h], k[e, h], v[e, h], real, M, ITERATIONS)
                 for h in range(H)]
        rows.append(torch.stack(heads))
    out = torch.stack(rows)  # [B, H, N, Dh]
    # Depthwise convolution over positions of the masked values, per head.
    keep = torch.tensor(mask, dtype=torch.float64)[:, None, :, None]
    conv = torch.nn.functional.conv2d(
        v * keep, conv_weight[:, None, :, None], padding=(CONV // 2, 0),
        groups=H)
    return out + conv


def write_tensor(f, name, t):
    t = t.detach().contiguous()
    shape = ",".join(str(d) for d in t.shape)
    values = " ".join(f"{x:.9g}" for x in t.reshape(-1).tolist())
    f.write(f"tensor {name} {shape}\n{values}\n")


def main():
    g = torch.Generator().manual_seed(20260)
    q = float32_values(g, (B, H, N, DH), 1.5).requires_grad_()
    k = float32_values(g, (B, H, N, DH), 1.5).requires_grad_()
    v = float32_values(g, (B, H, N, DH), 1.0).requires_grad_()
    conv_weight = float32_values(g, (H, CONV), 1 / math.sqrt(CONV))
    conv_weight.requires_grad_()
    dout = float32_values(g, (B, H, N, DH), 1.0)
    out = forward(q, k, v, MASK, conv_weight)
    (out * dout).sum().backward()
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        f.write("# Written by tools/make_nystromformer_golden.py; do not edit.\n")
        for name, value in [("batch", B), ("heads", H), ("seq_len", N),
                            ("head_dim", DH), ("num_landmarks", M),
                            ("pinv_iterations", ITERATIONS),
                            ("conv_kernel", CONV)]:
            f.write(f"scalar {name} {value}\n")
        write_tensor(f, "q", q)
        write_tensor(f, "k", k)
        write_tensor(f, "v", v)
        write_tensor(f, "mask", torch.tensor(MASK, dtype=torch.float64))
        write_tensor(f, "conv_weight", conv_weight)
        write_tensor(f, "dout", dout)
        write_tensor(f, "out", out)
        write_tensor(f, "dq", q.grad)
        write_tensor(f, "dk", k.grad)
        write_tensor(f, "dv", v.grad)
        write_tensor(f, "dconv_weight", conv_weight.grad)
    print("wrote", os.path.normpath(OUT))


if __name__ == "__main__":
    main()
