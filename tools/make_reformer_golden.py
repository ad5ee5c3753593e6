#!/usr/bin/python3
"""Writes the PyTorch golden files that pin the "reformer" attention plugin.

Regenerate (Debian's python3-torch; deterministic, so the files only change
when this script does):

    /usr/bin/python3 tools/make_reformer_golden.py

An independent float64 implementation of LSH attention with shared QK as
models/attention/reformer/README.md defines it, written the way the paper
describes it rather than the way the C++ computes it: per round, an explicit
sort, chunked windows (own chunk and the previous one), a softmax per round
with scores lowered by log N_ij (the number of rounds in which key j is in
query i's window), and the rounds combined with weights
exp(lse_r - logsumexp_r lse_r). Gradients of sum(out * dout) in q and v by
autograd. The rotations are drawn here and written to the file;
models/attention/reformer/reformer_golden_test.cc loads them into the plugin
(SetRotationsForTest), so buckets agree exactly.

File format: one line per tensor, "name v1 v2 ..." (row-major), '#' starts a
comment line. shape = B H N Dh; options = chunk n_hashes buckets; mask [B, N];
rotations [H, n_hashes, Dh, buckets / 2]; q, v, dout, out, dq, dv
[B, H, N, Dh]. Inputs are written with 9 significant digits, so they parse
back to the exact float32 values used here.
"""

import math
import os

import torch

OUT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                       "models", "attention", "reformer", "testdata")
NORM_EPS = 1e-12


def f32(t):
    """Rounds to float32 and widens to float64: the values the C++ sees."""
    return t.to(torch.float32).to(torch.float64)


def buckets_of(x, rotation, n_buckets):
    """argmax over [x R, -x R] (first on ties); 0 for a single bucket."""
    if n_buckets == 1:
        return torch.zeros(x.shape[0], dtype=torch.long)
    y = x @ rotation
    return torch.argmax(torch.cat([y, -y], dim=-1), dim=-1)


def reformer(q, v, mask, rotations, chunk, n_hashes, n_buckets):
    B, H, N, Dh = q.shape
    scale = 1.0 / math.sqrt(Dh)
    rows = []
    for b in range(B):
        real = [bool(mask[b, j]) for j in range(N)]
        for h in range(H):
            qh, vh = q[b, h], v[b, h]
            keys = qh / torch.sqrt((qh * qh).sum(-1, keepdim=True) + NORM_EPS)
            # windows[r][i]: the original indices in query i's window.
            windows = []
            for r in range(n_hashes):
                bucket = buckets_of(qh.detach(), rotations[h, r], n_buckets)
                bucket = torch.where(torch.tensor(real), bucket,
                                     torch.full_like(bucket, n_buckets))
                order = torch.argsort(bucket * N + torch.arange(N)).tolist()
                where = {i: p for p, i in enumerate(order)}
                window = []
                for i in range(N):
                    a = where[i] // chunk
                    lo, hi = max(0, (a - 1) * chunk), min(N, (a + 1) * chunk)
                    window.append(order[lo:hi])
                windows.append(window)
            out_rows = []
            for i in range(N):
                if not real[i]:
                    out_rows.append(torch.zeros(Dh, dtype=torch.float64))
                    continue
                others = [[j for j in windows[r][i] if j != i and real[j]]
                          for r in range(n_hashes)]
                alone = not any(others)
                cands = [[i] if alone else others[r] for r in range(n_hashes)]
                lses, outs = [], []
                for r in range(n_hashes):
                    if not cands[r]:
                        continue
                    js = torch.tensor(cands[r])
                    dup = torch.tensor(
                        [sum(j in cands[t] for t in range(n_hashes))
                         for j in cands[r]], dtype=torch.float64)
                    s = (keys[js] @ qh[i]) * scale - torch.log(dup)
                    lse_r = torch.logsumexp(s, 0)
                    lses.append(lse_r)
                    outs.append(torch.exp(s - lse_r) @ vh[js])
                lse = torch.logsumexp(torch.stack(lses), 0)
                o = sum(torch.exp(l - lse) * o_r for l, o_r in zip(lses, outs))
                out_rows.append(o)
            rows.append(torch.stack(out_rows))
    return torch.stack(rows).reshape(B, H, N, Dh)


def line(name, values, digits):
    flat = values.reshape(-1).tolist()
    return name + " " + " ".join(f"{x:.{digits}g}" for x in flat) + "\n"


def make_case(path, seed, B, H, N, Dh, chunk, n_hashes, n_buckets, reals):
    g = torch.Generator().manual_seed(seed)
    q = f32(1.5 * torch.randn(B, H, N, Dh, generator=g))
    v = f32(torch.randn(B, H, N, Dh, generator=g))
    dout = f32(torch.randn(B, H, N, Dh, generator=g))
    rotations = f32(torch.randn(H, n_hashes, Dh, max(1, n_buckets // 2),
                                generator=g))
    if n_buckets == 1:
        rotations = rotations[..., :0]
    mask = torch.zeros(B, N, dtype=torch.long)
    for b, r in enumerate(reals):
        mask[b, :r] = 1
    q.requires_grad_(True)
    v.requires_grad_(True)
    out = reformer(q, v, mask, rotations, chunk, n_hashes, n_buckets)
    dq, dv = torch.autograd.grad((out * dout).sum(), [q, v])
    with open(path, "w") as f:
        f.write("# Made by tools/make_reformer_golden.py; do not edit.\n")
        f.write(f"shape {B} {H} {N} {Dh}\n")
        f.write(f"options {chunk} {n_hashes} {n_buckets}\n")
        f.write(line("mask", mask, 1))
        f.write(line("rotations", rotations, 9))
        f.write(line("q", q.detach(), 9))
        f.write(line("v", v.detach(), 9))
        f.write(line("dout", dout, 9))
        f.write(line("out", out.detach(), 17))
        f.write(line("dq", dq, 17))
        f.write(line("dv", dv, 17))


def main():
    os.makedirs(OUT_DIR, exist_ok=True)
    # Three rounds, four buckets, small chunks: duplicates across rounds are
    # common; example 1 padded, example 2 has a single real position (the
    # self rule).
    make_case(os.path.join(OUT_DIR, "golden_padded_3hashes.txt"), 1, 3, 2, 23,
              8, 4, 3, 4, [23, 15, 1])
    # LRA's settings: chunk 10, one round, 10 buckets.
    make_case(os.path.join(OUT_DIR, "golden_lra.txt"), 2, 2, 2, 37, 8, 10, 1,
              10, [37, 30])


if __name__ == "__main__":
    main()
