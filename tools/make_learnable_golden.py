#!/usr/bin/python3
"""Writes PyTorch golden files for the learnable-pattern attention plugins.

Regenerate (Debian's python3-torch; deterministic, so the files only change
when this script does):

    /usr/bin/python3 tools/make_learnable_golden.py

Each plugin is written here again, independently of its C++ code, in float64
with autograd, from the definitions in its README: forward output and the
gradients of sum(out * dout) in q, k, v, the layer input x and every
learnable parameter. Inputs and parameters are float32-representable, so the
C++ test feeds exactly the same numbers. Sinkhorn's sorting is soft (no
discrete choice to give explicitly); its block layout follows from the sizes.

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

from golden_writer import ROOT, f32, uniform, write

torch.set_default_dtype(torch.float64)


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


# ------------------------------------------------------------------- sinkhorn

def sinkhorn(q, k, v, mask, sortnet, block, iterations, temperature):
    B, H, N, Dh = q.shape
    nb = -(-N // block)
    padded = nb * block

    def pad(t):  # [B, H, N, Dh] -> [B, H, nb, block, Dh], zeros appended
        out = torch.zeros(B, H, padded, Dh)
        out[:, :, :N] = t
        return out.reshape(B, H, nb, block, Dh)

    m = torch.zeros(B, padded)
    m[:, :N] = mask
    m = m.reshape(B, nb, block)
    kb = pad(k * mask[:, None, :, None])  # padded keys are kept out
    vb = pad(v * mask[:, None, :, None])
    qb = pad(q)
    count = m.sum(-1).clamp(min=1)  # [B, nb]
    summary = kb.sum(3) / count[:, None, :, None]  # [B, H, nb, Dh]
    logs = summary @ sortnet.unsqueeze(0) / temperature  # [B, H, nb, nb]
    for _ in range(iterations):
        logs = logs - torch.logsumexp(logs, dim=-1, keepdim=True)
        logs = logs - torch.logsumexp(logs, dim=-2, keepdim=True)
    perm = torch.exp(logs)
    sk = torch.einsum("bhuw,bhwtd->bhutd", perm, kb)
    sv = torch.einsum("bhuw,bhwtd->bhutd", perm, vb)
    slot_real = (m.sum(1) > 0).to(torch.float64)  # [B, block]
    allowed = torch.cat([m, slot_real[:, None, :].expand(B, nb, block)], -1)
    keys = torch.cat([kb, sk], 3)  # [B, H, nb, 2 block, Dh]
    values = torch.cat([vb, sv], 3)
    scores = qb @ keys.transpose(-1, -2) / math.sqrt(Dh)
    scores = scores.masked_fill(allowed[:, None, :, None, :] == 0,
                                float("-inf"))
    out = torch.softmax(scores, -1) @ values  # [B, H, nb, block, Dh]
    return out.reshape(B, H, padded, Dh)[:, :, :N]


def sinkhorn_case(name, N, block, iterations, temperature, lengths, seed):
    gen = torch.Generator().manual_seed(seed)
    B, H, Dh = 2, 2, 4
    nb = -(-N // block)
    q = uniform(gen, (B, H, N, Dh), 1.5)
    k = uniform(gen, (B, H, N, Dh), 1.5)
    v = uniform(gen, (B, H, N, Dh), 1.0)
    dout = uniform(gen, (B, H, N, Dh), 1.0)
    sortnet = uniform(gen, (H, Dh, nb), 1.5)
    mask = key_mask(B, N, lengths)
    for t in (q, k, v, sortnet):
        t.requires_grad_(True)
    out = sinkhorn(q, k, v, mask, sortnet, block, iterations, temperature)
    (out * dout).sum().backward()
    tensors = {"q": q, "k": k, "v": v, "mask": mask, "dout": dout,
               "param/sortnet": sortnet, "out": out, "grad/q": q.grad,
               "grad/k": k.grad, "grad/v": v.grad,
               "grad/sortnet": sortnet.grad}
    write(os.path.join(ROOT, "models/attention/sinkhorn/testdata",
                       name + ".txt"),
          {"batch": B, "heads": H, "seq_len": N, "head_dim": Dh,
           "block": block, "iterations": iterations,
           "temperature": temperature},
          {}, tensors)


def main():
    synthesizer_case("random_dot_factor", "random+dot", 3, True, 1.0, 1)
    synthesizer_case("random_full", "random", 0, False, 1.0, 2)
    synthesizer_case("dense_dot", "dense+dot", 0, True, 0.7, 3)
    synthesizer_case("dense", "dense", 0, False, 1.0, 4)
    # Three blocks, the last one short; padding inside block 1.
    sinkhorn_case("block4", 11, 4, 3, 0.75, [11, 6], 5)
    # No Sinkhorn rounds; block 2 of example 1 entirely padding.
    sinkhorn_case("block3_no_iterations", 9, 3, 0, 0.5, [9, 5], 6)


if __name__ == "__main__":
    main()
