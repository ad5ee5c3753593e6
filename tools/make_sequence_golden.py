#!/usr/bin/python3
"""Writes PyTorch golden files for the sequence plugins: one transformer_xl
layer over segments with memory, and one rmt layer over two segments (memory
tokens read and written).

Regenerate (Debian's python3-torch; deterministic, so the files only change
when this script does):

    /usr/bin/python3 tools/make_sequence_golden.py

Each handler is written here again from its definition in
models/sequence/README.md, independently of the C++ code: in float64,
segment by segment as the papers describe it (the C++ transformer_xl runs
all segments at once; the C++ rmt recomputes segments in backward), dense
scores with -inf on masked keys, autograd for every gradient of the
objective sum(out * dout) in the input x and in every parameter. Inputs and
parameters are float32-representable and are given in the file, so the C++
test feeds exactly the same numbers.

Files (format of models/attention/testing/golden_file.h):
    models/sequence/transformer_xl/testdata/<case>.txt
    models/sequence/testdata/<case>.txt
    scalar <name> <number>      sizes and plugin params
    tensor <name> <d0,d1,...>   followed by one line of row-major values
Tensor names: x [B, N, D] (the block input, embeddings already added), mask
[B, N] (1 = real token), dout [B, P, D], out [B, P, D] (P = N for
transformer_xl and token pooling, the memory slots for memory pooling),
param/<name> and grad/<name> for every parameter under the C++ names
(layer0.ln1.gamma, layer0.attn.wq, ..., embed.memory), grad/x.

transformer_xl (one pre-LN block, its RelativeAttention as the mixer):
  segments of S tokens, the last padded; segment g's queries are its rows,
  its keys and values LN1([x[gS-M .. gS) detached | x[gS .. gS+S)]) (the
  memory is the layer input before the segment, no gradient into it; LN1's
  gamma and beta do see it); score (i, j) = ((q_i + u) . k_j + (q_i + v) .
  (R(pos_i - pos_j) Wr)) / sqrt(Dh) with R the interleaved sin / cos
  sinusoid of the signed distance over D dimensions; padded keys and keys
  before position 0 masked. The case uses M != S, memory reaching into two
  earlier segments, a padded position inside the last segment (mask 0), a
  hole that the last segment sees as a padded memory key, and a sequence
  length that leaves the last segment short.

rmt (one pre-LN block with full attention, q/k/v/o biases): memory slots
  embed.memory [M, D] read by segment 0; each segment runs [memory | tokens]
  through the block (memory keys always real, padded tokens masked); the
  output at the memory positions is the next segment's memory, unless the
  segment holds no real token of that sequence (then the memory passes
  through unchanged). Example 1's second segment is all padding. Case
  "rmt_memory" outputs the final memory (pool "memory"); "rmt_tokens"
  outputs every token (pool "tokens"), with dout zero on padded tokens as
  the encoder's masked mean gives it.
"""

import math
import os

import torch

from golden_writer import ROOT, f32, uniform, write

torch.set_default_dtype(torch.float64)
LN_EPS = 1e-6


def layer_norm(x, gamma, beta):
    mean = x.mean(-1, keepdim=True)
    var = ((x - mean) ** 2).mean(-1, keepdim=True)  # biased
    return (x - mean) / torch.sqrt(var + LN_EPS) * gamma + beta


def mlp(p, x):
    hidden = torch.nn.functional.gelu(x @ p["layer0.mlp.w1"] + p["layer0.mlp.b1"])
    return hidden @ p["layer0.mlp.w2"] + p["layer0.mlp.b2"]


def sinusoid(dist, d):
    """[.., d] for a tensor of signed distances: dim 2i -> sin(dist /
    10000^(2i/d)), dim 2i+1 -> cos(same)."""
    two_i = torch.arange(0, d, 2, dtype=torch.float64)
    angle = dist[..., None].double() / torch.pow(10000.0, two_i / d)
    out = torch.zeros(*dist.shape, d)
    out[..., 0::2] = torch.sin(angle)
    out[..., 1::2] = torch.cos(angle)
    return out


# -------------------------------------------------------------- transformer_xl

def txl_layer(p, x, mask, S, M, H):
    """x [B, N, D], mask [B, N] -> [B, N, D]; segment by segment."""
    B, N, D = x.shape
    G = (N + S - 1) // S
    P = G * S
    xp = torch.cat([x, torch.zeros(B, P - N, D)], 1)
    mp = torch.cat([mask, torch.zeros(B, P - N)], 1)
    Q = p["layer0.attn.wq"].shape[1]
    Dh = Q // H
    outs = []
    for g in range(G):
        lo = max(0, g * S - M)
        seg = xp[:, g * S:(g + 1) * S]  # [B, S, D]
        mem = xp[:, lo:g * S].detach()  # [B, m, D]: no gradient into the cache
        h = layer_norm(torch.cat([mem, seg], 1), p["layer0.ln1.gamma"],
                       p["layer0.ln1.beta"])  # [B, T, D]
        T = h.shape[1]
        q = (h[:, T - S:] @ p["layer0.attn.wq"]).reshape(B, S, H, Dh)
        k = (h @ p["layer0.attn.wk"]).reshape(B, T, H, Dh)
        v = (h @ p["layer0.attn.wv"]).reshape(B, T, H, Dh)
        qpos = torch.arange(g * S, (g + 1) * S)
        kpos = torch.arange(lo, (g + 1) * S)
        dist = qpos[:, None] - kpos[None, :]  # [S, T]
        r = (sinusoid(dist, D) @ p["layer0.attn.wr"]).reshape(S, T, H, Dh)
        u = p["layer0.attn.u"].reshape(H, Dh)
        vb = p["layer0.attn.v"].reshape(H, Dh)
        content = torch.einsum("bihd,bjhd->bhij", q + u, k)
        position = torch.einsum("bihd,ijhd->bhij", q + vb, r)
        scores = (content + position) / math.sqrt(Dh)  # [B, H, S, T]
        real = mp[:, lo:(g + 1) * S] != 0  # [B, T]
        scores = scores.masked_fill(~real[:, None, None, :], -math.inf)
        att = torch.softmax(scores, -1)
        o = torch.einsum("bhij,bjhd->bihd", att, v).reshape(B, S, Q)
        xm = seg + o @ p["layer0.attn.wo"] + p["layer0.attn.bo"]
        outs.append(xm + mlp(p, layer_norm(xm, p["layer0.ln2.gamma"],
                                           p["layer0.ln2.beta"])))
    return torch.cat(outs, 1)[:, :N]


def block_params(gen, D, Q, F, attention):
    p = {"layer0.ln1.gamma": f32(1 + uniform(gen, (D,), 0.3)),
         "layer0.ln1.beta": uniform(gen, (D,), 0.3)}
    for name, shape in attention:
        p["layer0.attn." + name] = uniform(gen, shape, 0.6)
    p.update({"layer0.ln2.gamma": f32(1 + uniform(gen, (D,), 0.3)),
              "layer0.ln2.beta": uniform(gen, (D,), 0.3),
              "layer0.mlp.w1": uniform(gen, (D, F), 0.6),
              "layer0.mlp.b1": uniform(gen, (F,), 0.3),
              "layer0.mlp.w2": uniform(gen, (F, D), 0.6),
              "layer0.mlp.b2": uniform(gen, (D,), 0.3)})
    return p


def run(path, scalars, x, mask, params, dout_shape, fn, gen, dout_mask=None):
    leaves = {"x": x.clone().requires_grad_()}
    for name, t in params.items():
        leaves[name] = t.clone().requires_grad_()
    out = fn({k: v for k, v in leaves.items() if k != "x"}, leaves["x"])
    dout = uniform(gen, dout_shape, 1.0)
    if dout_mask is not None:
        dout = dout * dout_mask[:, :, None]
    (out * dout).sum().backward()
    tensors = {"x": x, "mask": mask, "dout": dout, "out": out}
    for name, t in params.items():
        tensors["param/" + name] = t
    tensors["grad/x"] = leaves["x"].grad
    for name in params:
        tensors["grad/" + name] = leaves[name].grad
    for name, t in tensors.items():
        if name.startswith("grad/") and t.abs().max() == 0:
            raise SystemExit("%s: %s is zero" % (path, name))
    write(path, scalars, {}, tensors)


def txl_case():
    gen = torch.Generator().manual_seed(2019)
    B, N, D, H, Q, F, S, M = 2, 10, 8, 2, 8, 12, 4, 6
    x = uniform(gen, (B, N, D), 1.5)
    mask = torch.ones(B, N)
    mask[1, 9] = 0  # a padded position inside the (short) last segment
    mask[1, 5] = 0  # a hole: a padded memory key of the last segment
    params = block_params(gen, D, Q, F, [
        ("wq", (D, Q)), ("wk", (D, Q)), ("wv", (D, Q)), ("wr", (D, Q)),
        ("u", (Q,)), ("v", (Q,)), ("wo", (Q, D)), ("bo", (D,))])
    run(os.path.join(ROOT, "models/sequence/transformer_xl/testdata",
                     "layer_three_segments.txt"),
        {"batch": B, "seq_len": N, "d_model": D, "heads": H, "qkv_dim": Q,
         "mlp_dim": F, "segment_len": S, "mem_len": M},
        x, mask, params, (B, N, D),
        lambda p, xx: txl_layer(p, xx, mask, S, M, H), gen)


# ------------------------------------------------------------------------ rmt

def full_block(p, x, real, H):
    """Pre-LN block with full attention over keys where real [B, T]."""
    B, T, D = x.shape
    Q = p["layer0.attn.wq"].shape[1]
    Dh = Q // H
    h = layer_norm(x, p["layer0.ln1.gamma"], p["layer0.ln1.beta"])

    def heads(t):
        return t.reshape(B, T, H, Dh).transpose(1, 2)  # [B, H, T, Dh]

    q = heads(h @ p["layer0.attn.wq"] + p["layer0.attn.bq"])
    k = heads(h @ p["layer0.attn.wk"] + p["layer0.attn.bk"])
    v = heads(h @ p["layer0.attn.wv"] + p["layer0.attn.bv"])
    scores = q @ k.transpose(-1, -2) / math.sqrt(Dh)
    scores = scores.masked_fill(~real[:, None, None, :], -math.inf)
    o = (torch.softmax(scores, -1) @ v).transpose(1, 2).reshape(B, T, Q)
    xm = x + o @ p["layer0.attn.wo"] + p["layer0.attn.bo"]
    return xm + mlp(p, layer_norm(xm, p["layer0.ln2.gamma"],
                                  p["layer0.ln2.beta"]))


def rmt(p, x, mask, S, H, pool_memory):
    B, N, D = x.shape
    G = (N + S - 1) // S
    P = G * S
    M = p["embed.memory"].shape[0]
    xp = torch.cat([x, torch.zeros(B, P - N, D)], 1)
    mp = torch.cat([mask, torch.zeros(B, P - N)], 1) != 0
    mem = [p["embed.memory"] for _ in range(B)]  # read by segment 0
    tokens = []
    for g in range(G):
        seg_real = mp[:, g * S:(g + 1) * S]  # [B, S]
        inp = torch.cat([torch.stack(mem), xp[:, g * S:(g + 1) * S]], 1)
        real = torch.cat([torch.ones(B, M, dtype=torch.bool), seg_real], 1)
        y = full_block(p, inp, real, H)
        # Written memory; a segment without real tokens passes it through.
        mem = [y[b, :M] if seg_real[b].any() else mem[b] for b in range(B)]
        tokens.append(y[:, M:])
    if pool_memory:
        return torch.stack(mem)  # [B, M, D]
    return torch.cat(tokens, 1)[:, :N]


def rmt_case(name, pool_memory, seed):
    gen = torch.Generator().manual_seed(seed)
    B, N, D, H, Q, F, S, Mslots = 2, 5, 8, 2, 8, 12, 3, 2
    x = uniform(gen, (B, N, D), 1.5)
    mask = torch.ones(B, N)
    mask[0, 1] = 0  # a hole in the first segment
    mask[1, 2:] = 0  # example 1: its second segment is all padding
    params = block_params(gen, D, Q, F, [
        ("wq", (D, Q)), ("bq", (Q,)), ("wk", (D, Q)), ("bk", (Q,)),
        ("wv", (D, Q)), ("bv", (Q,)), ("wo", (Q, D)), ("bo", (D,))])
    params["embed.memory"] = uniform(gen, (Mslots, D), 1.5)
    rows = Mslots if pool_memory else N
    run(os.path.join(ROOT, "models/sequence/testdata", name + ".txt"),
        {"batch": B, "seq_len": N, "d_model": D, "heads": H, "qkv_dim": Q,
         "mlp_dim": F, "segment_len": S, "memory_slots": Mslots,
         "pool_memory": int(pool_memory)},
        x, mask, params, (B, rows, D),
        lambda p, xx: rmt(p, xx, mask, S, H, pool_memory), gen,
        # Token pooling never sends a gradient to a padded token (the
        # encoder's masked mean), and the C++ handler relies on it.
        None if pool_memory else mask)


def main():
    torch.set_num_threads(1)
    txl_case()
    rmt_case("rmt_memory", True, 1337)
    rmt_case("rmt_tokens", False, 7331)


if __name__ == "__main__":
    main()
