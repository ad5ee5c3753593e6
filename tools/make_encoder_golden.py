#!/usr/bin/python3
"""Writes the PyTorch golden files that pin lra::Encoder's numerics.

Regenerate (Debian's python3-torch 1.13; deterministic, so the files only
change when this script does):

    /usr/bin/python3 tools/make_encoder_golden.py

The script builds LRA's pre-LN transformer encoder exactly as the C++ encoder
specifies it (models/encoder.h), in float64 from float32-representable weights
and inputs, runs forward, mean cross-entropy and backward, and writes one text
file per case into models/golden/testdata/. models/golden/encoder_golden_test.cc
loads the weights into the C++ encoder by name and compares logits, loss and
every parameter's gradient.

File format (line based, '#' starts a comment line):
    config <ModelConfig as a one-line text proto>
    scalar <name> <value>                 seq_len, batch, loss, correct
    tensor <name> <d0,d1,...>             followed by one line of row-major values
Tensor names: tokens, labels, logits, param/<parameter name>,
grad/<parameter name>. Parameters are written with 9 significant digits, so
they parse back to the exact float32 values used here.

Case choices, so that a wrong path shows up as an error far above float32
rounding:
  * qkv_dim != d_model in the CLS case (catches Q/D mix-ups in wq..wo);
    classifier_dim is neither d_model nor mlp_dim.
  * Dh = 4 in the MEAN case, as in LRA's Pathfinder config.
  * Token/position/CLS embeddings have std 0.02 in the CLS case, so the
    first LayerNorm sees a variance near 1e-3 and an eps of 1e-5 instead of
    1e-6 moves its output by about 0.5%.
  * Rows of different lengths padded at the end (padded keys must be masked;
    mean pooling must divide by the real length); token ids reach vocab - 1.
  * Weights normal(0, 0.3) so that GELU and the head's ReLU see both signs
    (the exact erf GELU differs from the tanh one by up to ~1e-3).
  * The dual case (num_segments 2, Retrieval's model): every example is two
    documents [doc 1 | doc 2] with different real lengths (one document full,
    one nearly empty), each encoded on its own with its own CLS and positions
    from 0, and the head reads [u, v, u*v, u-v]. Its seq_len (as in the file
    and in Encoder::Create) is the total, 2 * doc_len. Smaller widths than
    the other cases keep the file small; the others already pin the layers.

The script also runs the same computation in float32 and prints the worst
error of that float32 run under the C++ test's tolerance rule, to show the
margin the rule leaves for an honest float32 implementation.
"""

import math
import os
import sys

import torch

LN_EPS = 1e-6

# Tolerance rule of models/golden/encoder_golden_test.cc, repeated here only to
# report the float32 margin: |got - want| <= RTOL * (|want| + scale), where
# scale is the tensor's largest |want|, for gradients at least FLOOR times the
# largest |want| over all gradients (attn.bk's gradient is zero in exact
# arithmetic, so its float32 noise follows its neighbours' scale).
RTOL = 1e-4
FLOOR = 0.01

CASES = [
    dict(
        file="cls_learned.txt",
        name="golden_cls_learned",
        vocab_size=16,
        d_model=16,
        num_layers=2,
        num_heads=2,
        qkv_dim=32,
        mlp_dim=32,
        classifier_dim=24,
        num_classes=10,
        positional="POSITIONAL_LEARNED",
        pooling="POOLING_CLS",
        seq_len=11,
        lengths=[11, 7, 3],
        labels=[1, 9, 0],
        embed_std=0.02,
        seed=1234,
    ),
    dict(
        file="mean_sinusoidal.txt",
        name="golden_mean_sinusoidal",
        vocab_size=16,
        d_model=16,
        num_layers=2,
        num_heads=4,
        qkv_dim=16,
        mlp_dim=32,
        classifier_dim=24,
        num_classes=10,
        positional="POSITIONAL_SINUSOIDAL",
        pooling="POOLING_MEAN",
        seq_len=11,
        lengths=[5, 11, 8],
        labels=[7, 2, 5],
        embed_std=0.5,
        seed=5678,
    ),
    dict(
        file="dual_cls_learned.txt",
        name="golden_dual_cls_learned",
        vocab_size=16,
        d_model=8,
        num_layers=2,
        num_heads=2,
        qkv_dim=16,
        mlp_dim=16,
        classifier_dim=12,
        num_classes=2,
        positional="POSITIONAL_LEARNED",
        pooling="POOLING_CLS",
        num_segments=2,
        seq_len=18,  # two documents of 9 tokens
        lengths=[[9, 4], [1, 9], [6, 7]],  # real tokens of (doc 1, doc 2)
        labels=[0, 1, 1],
        embed_std=0.3,
        seed=4242,
    ),
]


def segments(c):
    return c.get("num_segments", 1)


def doc_len(c):
    """Tokens per encoded sequence: one document of the example."""
    return c["seq_len"] // segments(c)


def parameter_shapes(c):
    """Returns [(name, shape)] in the order the C++ spec lists them."""
    d, q, m = c["d_model"], c["qkv_dim"], c["mlp_dim"]
    hd, nc = c["classifier_dim"], c["num_classes"]
    cls = c["pooling"] == "POOLING_CLS"
    shapes = [("embed.token", [c["vocab_size"], d])]
    if c["positional"] == "POSITIONAL_LEARNED":
        shapes.append(("embed.position", [doc_len(c) + (1 if cls else 0), d]))
    if cls:
        shapes.append(("embed.cls", [d]))
    for i in range(c["num_layers"]):
        p = f"layer{i}."
        shapes += [
            (p + "ln1.gamma", [d]), (p + "ln1.beta", [d]),
            (p + "attn.wq", [d, q]), (p + "attn.bq", [q]),
            (p + "attn.wk", [d, q]), (p + "attn.bk", [q]),
            (p + "attn.wv", [d, q]), (p + "attn.bv", [q]),
            (p + "attn.wo", [q, d]), (p + "attn.bo", [d]),
            (p + "ln2.gamma", [d]), (p + "ln2.beta", [d]),
            (p + "mlp.w1", [d, m]), (p + "mlp.b1", [m]),
            (p + "mlp.w2", [m, d]), (p + "mlp.b2", [d]),
        ]
    shapes += [("final_ln.gamma", [d]), ("final_ln.beta", [d]),
               ("head.w1", [d * (4 if segments(c) == 2 else 1), hd]),
               ("head.b1", [hd]),
               ("head.w2", [hd, nc]), ("head.b2", [nc])]
    return shapes


def make_parameters(c, gen):
    """Float32-representable float64 parameters, keyed by name."""
    params = {}
    for name, shape in parameter_shapes(c):
        leaf = name.split(".")[-1]
        if name.startswith("embed."):
            t = torch.randn(shape, generator=gen, dtype=torch.float64) * c["embed_std"]
        elif leaf == "gamma":
            t = 1.0 + 0.2 * torch.randn(shape, generator=gen, dtype=torch.float64)
        elif leaf.startswith("w"):
            t = 0.3 * torch.randn(shape, generator=gen, dtype=torch.float64)
        else:  # LayerNorm betas and Linear biases: non-zero so they matter.
            t = 0.2 * torch.randn(shape, generator=gen, dtype=torch.float64)
        params[name] = t.float().double()
    return params


def sinusoidal(n, d, dtype):
    """[n, d]: dim 2i -> sin(p / 10000^(2i/d)), dim 2i+1 -> cos(same)."""
    pos = torch.arange(n, dtype=torch.float64)[:, None]
    two_i = torch.arange(0, d, 2, dtype=torch.float64)[None, :]
    angle = pos / torch.pow(10000.0, two_i / d)
    table = torch.zeros(n, d, dtype=torch.float64)
    table[:, 0::2] = torch.sin(angle)
    table[:, 1::2] = torch.cos(angle)
    return table.to(dtype)


def layer_norm(x, gamma, beta):
    mean = x.mean(-1, keepdim=True)
    var = ((x - mean) ** 2).mean(-1, keepdim=True)  # biased, as Flax
    return (x - mean) / torch.sqrt(var + LN_EPS) * gamma + beta


def forward(c, p, tokens):
    """Returns logits [B, C] of the pre-LN encoder; p maps names to tensors."""
    examples = tokens.shape[0]
    # Each document is its own sequence: [B, S * L] -> [B * S, L], so rows
    # 2b and 2b + 1 are the two documents of example b.
    tokens = tokens.reshape(examples * segments(c), doc_len(c))
    batch, n = tokens.shape
    d, h = c["d_model"], c["num_heads"]
    dh = c["qkv_dim"] // h
    x = p["embed.token"][tokens]  # [B, N, D]
    real = tokens != 0  # [B, N]
    if c["pooling"] == "POOLING_CLS":
        x = torch.cat([p["embed.cls"].expand(batch, 1, d), x], dim=1)  # [B, N+1, D]
        real = torch.cat([torch.ones(batch, 1, dtype=torch.bool), real], dim=1)
        n += 1
    if c["positional"] == "POSITIONAL_LEARNED":
        x = x + p["embed.position"][:n]
    elif c["positional"] == "POSITIONAL_SINUSOIDAL":
        x = x + sinusoidal(n, d, x.dtype)
    key_bias = torch.zeros(batch, 1, 1, n, dtype=x.dtype)  # [B, 1, 1, N]
    key_bias[~real[:, None, None, :]] = -math.inf
    for i in range(c["num_layers"]):
        l = lambda s: p[f"layer{i}.{s}"]
        hx = layer_norm(x, l("ln1.gamma"), l("ln1.beta"))

        def heads(t):  # [B, N, Q] -> [B, H, N, Dh]; head j = columns j*Dh..
            return t.reshape(batch, n, h, dh).transpose(1, 2)

        q = heads(hx @ l("attn.wq") + l("attn.bq"))
        k = heads(hx @ l("attn.wk") + l("attn.bk"))
        v = heads(hx @ l("attn.wv") + l("attn.bv"))
        scores = q @ k.transpose(-1, -2) / math.sqrt(dh) + key_bias  # [B, H, N, N]
        a = torch.softmax(scores, dim=-1) @ v  # [B, H, N, Dh]
        a = a.transpose(1, 2).reshape(batch, n, h * dh)  # [B, N, Q]
        x = x + (a @ l("attn.wo") + l("attn.bo"))
        hx = layer_norm(x, l("ln2.gamma"), l("ln2.beta"))
        mlp = torch.nn.functional.gelu(hx @ l("mlp.w1") + l("mlp.b1"))  # exact erf
        x = x + (mlp @ l("mlp.w2") + l("mlp.b2"))
    x = layer_norm(x, p["final_ln.gamma"], p["final_ln.beta"])
    if c["pooling"] == "POOLING_CLS":
        pooled = x[:, 0]  # [B, D]
    else:
        w = real.to(x.dtype)[:, :, None]  # [B, N, 1]
        pooled = (x * w).sum(1) / w.sum(1)
    if segments(c) == 2:
        pairs = pooled.reshape(examples, 2, d)
        u, v = pairs[:, 0], pairs[:, 1]  # [B, D] each
        pooled = torch.cat([u, v, u * v, u - v], dim=1)  # [B, 4D]
    hidden = torch.relu(pooled @ p["head.w1"] + p["head.b1"])
    return hidden @ p["head.w2"] + p["head.b2"]


def run(c, params, tokens, labels, dtype):
    """Forward, mean cross-entropy and backward at `dtype`."""
    p = {k: v.to(dtype).clone().requires_grad_(True) for k, v in params.items()}
    logits = forward(c, p, tokens)
    loss = torch.nn.functional.cross_entropy(logits, labels)
    loss.backward()
    grads = {k: v.grad.double() for k, v in p.items()}
    return logits.detach().double(), loss.item(), grads


def make_tokens(c, gen):
    """[B, seq_len]; with two segments each document is padded on its own."""
    batch, n = len(c["lengths"]), c["seq_len"]
    tokens = torch.zeros(batch, n, dtype=torch.long)
    for b, lengths in enumerate(c["lengths"]):
        if segments(c) == 1:
            lengths = [lengths]
        for s, length in enumerate(lengths):
            start = s * doc_len(c)
            tokens[b, start:start + length] = torch.randint(
                1, c["vocab_size"], (length,), generator=gen)
    # Make sure the largest id is used, to catch an off-by-one in the table.
    tokens[0, 1] = c["vocab_size"] - 1
    return tokens


def config_text(c):
    return (f'name: "{c["name"]}" vocab_size: {c["vocab_size"]} '
            f'd_model: {c["d_model"]} num_layers: {c["num_layers"]} '
            f'num_heads: {c["num_heads"]} qkv_dim: {c["qkv_dim"]} '
            f'mlp_dim: {c["mlp_dim"]} dropout: 0 attention_dropout: 0 '
            f'positional: {c["positional"]} pooling: {c["pooling"]} '
            f'num_classes: {c["num_classes"]} classifier_dim: {c["classifier_dim"]} '
            f'attention {{ name: "full" }}' +
            (f' num_segments: {segments(c)}' if segments(c) != 1 else ''))


def tensor_lines(name, t, fmt):
    shape = ",".join(str(s) for s in t.shape) if t.dim() else "1"
    values = " ".join(fmt % v for v in t.reshape(-1).tolist())
    return [f"tensor {name} {shape}", values]


def worst_error(got, want, floor=0.0):
    """Largest |got - want| / (RTOL * (|want| + scale)); <= 1 passes."""
    scale = max(want.abs().max().item(), floor)
    allowed = RTOL * (want.abs() + scale)
    return ((got - want).abs() / allowed).max().item()


def write_case(c, out_dir):
    gen = torch.Generator().manual_seed(c["seed"])
    params = make_parameters(c, gen)
    tokens = make_tokens(c, gen)
    labels = torch.tensor(c["labels"], dtype=torch.long)
    logits, loss, grads = run(c, params, tokens, labels, torch.float64)
    correct = int((logits.argmax(-1) == labels).sum())

    # How far an honest float32 computation lands, in units of the tolerance.
    logits32, loss32, grads32 = run(c, params, tokens, labels, torch.float32)
    margins = {"logits": worst_error(logits32, logits),
               "loss": worst_error(torch.tensor([loss32]), torch.tensor([loss]))}
    floor = FLOOR * max(g.abs().max().item() for g in grads.values())
    margins.update({k: worst_error(grads32[k], grads[k], floor) for k in grads})
    worst = max(margins, key=margins.get)
    print(f"{c['file']}: loss {loss:.6f}, correct {correct}/{len(labels)}; "
          f"float32 worst error {margins[worst]:.3g} of the tolerance ({worst})")

    lines = [
        "# Golden data for lra::Encoder (models/encoder.h); do not edit by hand.",
        "# Made by tools/make_encoder_golden.py with PyTorch "
        f"{torch.__version__} in float64; regenerate with",
        "#   /usr/bin/python3 tools/make_encoder_golden.py",
        "config " + config_text(c),
        f"scalar seq_len {c['seq_len']}",
        f"scalar batch {len(c['lengths'])}",
        f"scalar loss {loss:.17g}",
        f"scalar correct {correct}",
    ]
    lines += tensor_lines("tokens", tokens, "%d")
    lines += tensor_lines("labels", labels, "%d")
    lines += tensor_lines("logits", logits, "%.10g")
    for name, _ in parameter_shapes(c):
        lines += tensor_lines("param/" + name, params[name], "%.9g")
    for name, _ in parameter_shapes(c):
        lines += tensor_lines("grad/" + name, grads[name], "%.8g")
    path = os.path.join(out_dir, c["file"])
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    size = os.path.getsize(path)
    if size > 200 * 1024:
        sys.exit(f"{path} is {size} bytes; keep golden files under 200 KB")
    # Every parameter but attn.bk (whose gradient is zero in exact arithmetic:
    # softmax ignores a shift shared by all keys) must get a real gradient.
    dead = [k for k, g in grads.items()
            if g.abs().max().item() < 1e-3 * floor and not k.endswith("attn.bk")]
    if dead:
        sys.exit(f"{c['file']}: parameters with a zero gradient: {dead}")


def main():
    torch.set_num_threads(1)  # Reductions in a fixed order, so files are stable.
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out_dir = os.path.join(root, "models", "golden", "testdata")
    os.makedirs(out_dir, exist_ok=True)
    for c in CASES:
        write_case(c, out_dir)


if __name__ == "__main__":
    main()
