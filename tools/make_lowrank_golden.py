#!/usr/bin/python3
"""Writes PyTorch golden files for the low-rank and kernel attention plugins:
linformer, performer (softmax and relu kernels) and linear_transformer
(bidirectional and causal).

Regenerate (Debian's python3-torch; deterministic, so the files only change
when this script does):

    /usr/bin/python3 tools/make_lowrank_golden.py

Each method is written here again from the definition in its plugin's
README.md, independently of the C++ code: in float64, pairwise where the C++
code uses running sums, with autograd for every gradient of the objective
sum(out * dout) (in q, k, v and in Linformer's projections E and F). Inputs,
projections and Performer's random features are float32-representable and are
given in the file, so the C++ test feeds exactly the same numbers and nothing
random is left to either side.

Files: models/attention/<plugin>/testdata/<case>.txt, in the format of
models/attention/testing/golden_file.h:
    scalar <name> <number>      sizes and numeric plugin params
    text <name> <word>          text plugin params
    tensor <name> <d0,d1,...>   followed by one line of row-major values
Tensor names: q, k, v ([B, H, N, Dh]), mask ([B, N], 1 = real key), dout,
out, param/<name> (Linformer's e, f), features ([M, Dh], Performer's W),
grad/<q|k|v|name>.

Every case pads: example 0 is all real, example 1 has a padded tail and a
hole, and the last example of the Performer and linear-transformer cases is
entirely padding (its output and gradients are zero).
"""

import math
import os

import torch

from golden_writer import ROOT, f32, uniform, write

torch.set_default_dtype(torch.float64)


def make_mask(N, rows):
    """rows: per example, the list of padded positions."""
    m = torch.ones(len(rows), N)
    for b, padded in enumerate(rows):
        for j in padded:
            m[b, j] = 0
    return m


def qkv_inputs(gen, shape):
    """q and k uniform in +-1.5, v in +-1, drawn from gen in that order."""
    return {"q": uniform(gen, shape, 1.5),
            "k": uniform(gen, shape, 1.5),
            "v": uniform(gen, shape, 1.0)}


def run_case(path, scalars, texts, inputs, params, fixed, mask, dout, fn):
    """Evaluates fn(q, k, v, mask, params) and writes inputs, output and the
    gradients of sum(out * dout) in the inputs and every parameter."""
    leaves = {}
    for name, t in list(inputs.items()) + list(params.items()):
        leaves[name] = t.clone().requires_grad_()
    p = {name: leaves[name] for name in params}
    out = fn(leaves["q"], leaves["k"], leaves["v"], mask, p)
    (out * dout).sum().backward()
    tensors = dict(inputs)
    tensors["mask"] = mask
    tensors.update(fixed)
    for name, t in params.items():
        tensors["param/" + name] = t
    tensors["dout"] = dout
    tensors["out"] = out
    for name in leaves:
        tensors["grad/" + name] = leaves[name].grad
    write(path, scalars, texts, tensors)


# ------------------------------------------------------------------ linformer

def linformer(q, k, v, mask, p):
    """K' = E (m * K), V' = F (m * V) (F = E when shared); per head
    out_i = sum_r softmax_r(q_i . K'_r / sqrt(Dh)) V'_r."""
    Dh = q.shape[-1]
    m = mask[:, None, :, None]
    e = p["e"]
    f = p["f"] if "f" in p else e
    kp = torch.einsum("rn,bhnd->bhrd", e, k * m)  # [B, H, k, Dh]
    vp = torch.einsum("rn,bhnd->bhrd", f, v * m)
    w = torch.softmax(q @ kp.transpose(-1, -2) / math.sqrt(Dh), dim=-1)
    return w @ vp


def linformer_case(name, k_rows, share_kv, seed):
    gen = torch.Generator().manual_seed(seed)
    B, H, N, Dh = 3, 2, 9, 4
    inputs = qkv_inputs(gen, (B, H, N, Dh))
    params = {"e": uniform(gen, (k_rows, N), 1.0 / math.sqrt(N) * 1.7)}
    if not share_kv:
        params["f"] = uniform(gen, (k_rows, N), 1.0 / math.sqrt(N) * 1.7)
    dout = uniform(gen, (B, H, N, Dh), 1.0)
    mask = make_mask(N, [[], [2, 6, 7, 8], list(range(N))])
    run_case(os.path.join(ROOT, "models/attention/linformer/testdata",
                          name + ".txt"),
             {"batch": B, "heads": H, "seq_len": N, "head_dim": Dh,
              "k": k_rows, "share_kv": int(share_kv)},
             {}, inputs, params, {}, mask, dout, linformer)


# ------------------------------------------------------------------ performer

RELU_EPSILON = 1e-3  # the plugin's kReluEpsilon (the reference code's)


def performer_features(x, w, kernel):
    """phi(x) [.., M]: softmax: exp(W x' - |x'|^2 / 2) / sqrt(M) with
    x' = x / Dh^(1/4), no stabiliser (it cancels); relu:
    relu(W x) / sqrt(M) + 1e-3."""
    M, Dh = w.shape
    if kernel == "softmax":
        xs = x * Dh ** -0.25
        return torch.exp(xs @ w.t() - 0.5 * (xs * xs).sum(-1, keepdim=True)) \
            / math.sqrt(M)
    return torch.relu(x @ w.t()) / math.sqrt(M) + RELU_EPSILON


def performer(kernel, w):
    def fn(q, k, v, mask, p):
        """out_i = sum_j (phi(q_i) . phi(k_j)) v_j / sum_j phi(q_i) . phi(k_j)
        over real keys j, weight by weight; zero when no key is real."""
        fq = performer_features(q, w, kernel)  # [B, H, N, M]
        fk = performer_features(k, w, kernel)
        weights = fq @ fk.transpose(-1, -2)  # [B, H, N, N]
        weights = weights * mask[:, None, None, :]
        den = weights.sum(-1, keepdim=True)
        real = (mask.sum(-1) > 0)[:, None, None, None]
        safe = torch.where(real, den, torch.ones_like(den))
        return torch.where(real, (weights @ v) / safe, torch.zeros_like(v))
    return fn


def performer_case(name, kernel, features, seed):
    gen = torch.Generator().manual_seed(seed)
    B, H, N, Dh = 3, 2, 10, 4
    inputs = qkv_inputs(gen, (B, H, N, Dh))
    # Gaussian feature directions, given explicitly (orthogonality does not
    # change the formula being checked).
    w = f32(torch.randn((features, Dh), generator=gen))
    dout = uniform(gen, (B, H, N, Dh), 1.0)
    mask = make_mask(N, [[], [1, 7, 8, 9], list(range(N))])
    run_case(os.path.join(ROOT, "models/attention/performer/testdata",
                          name + ".txt"),
             {"batch": B, "heads": H, "seq_len": N, "head_dim": Dh,
              "features": features},
             {"kernel": kernel}, inputs, {}, {"features": w}, mask, dout,
             performer(kernel, w))


# --------------------------------------------------------- linear_transformer

EPS = 1e-6


def linear_transformer(causal):
    def fn(q, k, v, mask, p):
        """out_i = sum_j w_ij v_j / (eps + sum_j w_ij), w_ij = phi(q_i) .
        phi(k_j), phi = elu + 1, over real keys j (and j <= i if causal)."""
        N = q.shape[2]
        fq = torch.nn.functional.elu(q) + 1
        fk = torch.nn.functional.elu(k) + 1
        weights = fq @ fk.transpose(-1, -2)  # [B, H, N, N]
        weights = weights * mask[:, None, None, :]
        if causal:
            weights = weights * torch.tril(torch.ones(N, N))
        return (weights @ v) / (EPS + weights.sum(-1, keepdim=True))
    return fn


def linear_transformer_case(name, causal, seed):
    gen = torch.Generator().manual_seed(seed)
    B, H, N, Dh = 3, 2, 9, 4
    inputs = qkv_inputs(gen, (B, H, N, Dh))
    dout = uniform(gen, (B, H, N, Dh), 1.0)
    # Example 1 pads position 0, so its first causal query sees no key.
    mask = make_mask(N, [[], [0, 4, 7, 8], list(range(N))])
    run_case(os.path.join(ROOT, "models/attention/linear_transformer/testdata",
                          name + ".txt"),
             {"batch": B, "heads": H, "seq_len": N, "head_dim": Dh,
              "causal": int(causal), "eps": EPS},
             {}, inputs, {}, {}, mask, dout, linear_transformer(causal))


def main():
    linformer_case("shared_k4", 4, True, 101)
    linformer_case("separate_k12", 12, False, 102)  # k > N
    performer_case("softmax_m12", "softmax", 12, 201)
    performer_case("relu_m12", "relu", 12, 202)
    linear_transformer_case("bidirectional", False, 301)
    linear_transformer_case("causal", True, 302)


if __name__ == "__main__":
    main()
