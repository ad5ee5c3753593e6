#!/usr/bin/python3
"""Golden forward outputs and gradients for the S4D and LRU token mixers.

An independent PyTorch (float64, autograd) implementation of each mixer, on
fixed small inputs, written out for models/mixers/{s4d,lru}/golden_test.cc.
S4D is computed in its convolution form (kernel K[l] = 2 Re(C a^l bb),
causal plus strictly anti-causal), the LRU in closed form (powers of lambda),
while the C++ runs scans: the two agree only if both are right.

Run with Debian's python3-torch from the repository root:
  /usr/bin/python3 tools/make_ssm_golden.py
"""
import math

import torch

torch.set_default_dtype(torch.float64)
B, L, H = 2, 6, 3
MASK = torch.tensor([[1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 0, 0]], dtype=torch.float64)


def inputs(gen):
    x = torch.randn(B, L, H, generator=gen)
    r = torch.randn(B, L, H, generator=gen)
    return x, r


def s4d_params(gen, n):
    p = {}
    p["log_dt"] = torch.log(0.001 + 0.099 * torch.rand(H, generator=gen))
    p["log_a_real"] = math.log(0.5) + 0.1 * torch.randn(H, n, generator=gen)
    p["a_imag"] = math.pi * torch.arange(n).repeat(H, 1) + 0.1 * torch.randn(H, n, generator=gen)
    p["b"] = torch.stack([1 + 0.2 * torch.randn(H, n, generator=gen),
                          0.2 * torch.randn(H, n, generator=gen)], -1)
    p["c"] = 0.7 * torch.randn(2, H, n, 2, generator=gen)
    p["d"] = torch.randn(H, generator=gen)
    p["w_out"] = 0.5 * torch.randn(H, H, generator=gen)
    p["b_out"] = 0.1 * torch.randn(H, generator=gen)
    return p


def s4d_forward(p, x):
    u = x * MASK[:, :, None]
    A = torch.complex(-torch.exp(p["log_a_real"]), p["a_imag"])  # [H, N]
    dt = torch.exp(p["log_dt"])[:, None]
    a = torch.exp(dt * A)
    bb = (a - 1) / A * torch.complex(p["b"][..., 0], p["b"][..., 1])
    powers = torch.exp(torch.arange(L)[:, None, None] * torch.log(a)[None])  # [L, H, N]
    c = torch.complex(p["c"][..., 0], p["c"][..., 1])  # [2, H, N]
    k0 = 2 * (c[0][None] * bb[None] * powers).sum(-1).real  # [L, H]
    k1 = 2 * (c[1][None] * bb[None] * powers).sum(-1).real
    y = torch.zeros(B, L, H)
    for t in range(L):
        for s in range(L):
            if s <= t:
                y[:, t] = y[:, t] + k0[t - s] * u[:, s]
            else:
                y[:, t] = y[:, t] + k1[s - t - 1] * u[:, s]
    y = y + p["d"] * u
    act = torch.nn.functional.gelu(y)
    return act @ p["w_out"] + p["b_out"]


def lru_params(gen, n):
    p = {}
    r = 0.5 + 0.4 * torch.rand(n, generator=gen)
    p["nu_log"] = torch.log(-torch.log(r))
    p["theta_log"] = torch.log(0.1 + 3.0 * torch.rand(n, generator=gen))
    p["gamma_log"] = 0.5 * torch.log(1 - r * r) + 0.1 * torch.randn(n, generator=gen)
    p["b"] = torch.randn(H, 2 * n, generator=gen) / math.sqrt(2 * H)
    p["c"] = torch.randn(4 * n, H, generator=gen) / math.sqrt(n)
    p["d"] = torch.randn(H, generator=gen)
    return p


def lru_forward(p, x):
    n = p["nu_log"].shape[0]
    u = x * MASK[:, :, None]
    w = torch.complex(-torch.exp(p["nu_log"]), torch.exp(p["theta_log"]))  # log lambda
    gamma = torch.exp(p["gamma_log"])
    v = u @ p["b"]
    vc = torch.complex(v[..., :n], v[..., n:]) * gamma  # [B, L, N]
    xs, zs = [], []
    for t in range(L):
        xt = sum(torch.exp((t - s) * w) * vc[:, s] for s in range(t + 1))
        zt = sum((torch.exp((s - t - 1) * w) * vc[:, s] for s in range(t + 1, L)),
                 torch.zeros(B, n, dtype=torch.complex128))
        xs.append(xt)
        zs.append(zt)
    xs = torch.stack(xs, 1)
    zs = torch.stack(zs, 1)
    s_all = torch.cat([xs.real, xs.imag, zs.real, zs.imag], -1)
    return s_all @ p["c"] + p["d"] * u


def write(path, params, forward, x, r):
    for t in params.values():
        t.requires_grad_(True)
    x = x.clone().requires_grad_(True)
    y = forward(params, x)
    (y * r).sum().backward()
    with open(path, "w") as f:
        f.write("# Made by tools/make_ssm_golden.py (PyTorch %s, float64). "
                "Lines: name count values.\n" % torch.__version__)

        def put(name, t):
            vals = t.detach().reshape(-1).tolist()
            f.write("%s %d %s\n" % (name, len(vals), " ".join("%.17g" % v for v in vals)))

        put("shape", torch.tensor([B, L, H], dtype=torch.float64))
        put("mask", MASK)
        put("x", x)
        put("dy", r)
        for name, t in params.items():
            put("param." + name, t)
        put("y", y)
        put("dx", x.grad)
        for name, t in params.items():
            put("grad." + name, t.grad)


def main():
    gen = torch.Generator().manual_seed(15)
    x, r = inputs(gen)
    write("models/mixers/s4d/testdata/golden.txt", s4d_params(gen, 4), s4d_forward, x, r)
    write("models/mixers/lru/testdata/golden.txt", lru_params(gen, 3), lru_forward, x, r)


if __name__ == "__main__":
    main()
