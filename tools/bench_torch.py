#!/usr/bin/python3
"""PyTorch speed baseline: one training step of the benchmark encoder on CPU.

Usage (Debian's python3-torch 1.13):

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 \\
        tools/bench_torch.py --seq_len=1024,2048 --batch=8

Prints CSV with the header
    variant,seq_len,batch,step_ms,tokens_per_s,peak_rss_mb
and one row per length with variant "pytorch", the same columns as
`lra bench --format=csv`, so tools/compare_bench.sh can join them.

The model is the harness's benchmark encoder (configs/models/bench.pbtxt):
vocab 32, d_model 128, 4 heads, qkv 128, MLP 256, 2 pre-LN layers, exact GELU,
learned positions, mean pooling, head Dense(256) -> ReLU -> Dense(10), no
dropout. --model reads the flat fields of a ModelConfig text proto instead,
so both sides of a comparison can be given the same file. Attention is
PyTorch's own nn.MultiheadAttention (softmax(QK^T / sqrt(Dh)) V with a key
padding mask), as a user would write it.

One step is zero_grad, forward, mean cross-entropy, backward and an AdamW
step, timed with a wall clock after --warmup untimed steps; step_ms is the
median of --steps timed steps. Each length runs in a child process of its own,
so peak_rss_mb (getrusage ru_maxrss) belongs to that length alone.

OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE pin OpenBLAS to other kernels than it
would pick for this CPU; the script re-executes itself without them (they are
read when the library loads, so they must be gone before `import torch`).
"""

import argparse
import math
import os
import re
import resource
import statistics
import subprocess
import sys
import time

CSV_HEADER = "variant,seq_len,batch,step_ms,tokens_per_s,peak_rss_mb"
PINNING_VARIABLES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")

# configs/models/bench.pbtxt, for runs without --model.
BENCH_MODEL = dict(vocab_size=32, d_model=128, num_layers=2, num_heads=4,
                   qkv_dim=128, mlp_dim=256, classifier_dim=0, num_classes=10,
                   dropout=0.0, attention_dropout=0.0, max_len=0,
                   positional="POSITIONAL_LEARNED", pooling="POOLING_MEAN",
                   attention="full")
INT_FIELDS = {"vocab_size", "d_model", "num_layers", "num_heads", "qkv_dim",
              "mlp_dim", "classifier_dim", "num_classes", "max_len"}
FLOAT_FIELDS = {"dropout", "attention_dropout"}
ENUM_FIELDS = {"positional": {"POSITIONAL_LEARNED", "POSITIONAL_SINUSOIDAL",
                              "POSITIONAL_NONE"},
               "pooling": {"POOLING_MEAN", "POOLING_CLS"}}


def read_model(path):
    """Reads the fields this baseline understands from a ModelConfig pbtxt.

    Only flat `field: value` lines and the attention block's name are read;
    anything else that would change the model is refused rather than ignored.
    """
    model = dict(BENCH_MODEL)
    text = open(path).read()
    text = re.sub(r"#[^\n]*", "", text)
    attention = re.search(r"attention\s*:?\s*\{([^}]*)\}", text)
    if attention:
        body = attention.group(1)
        name = re.search(r'name\s*:\s*"([^"]*)"', body)
        if name:
            model["attention"] = name.group(1)
        if re.search(r"\bparam\b", body):
            sys.exit(f"{path}: attention params are not supported by the "
                     "PyTorch baseline")
        text = text[:attention.start()] + text[attention.end():]
    for key, value in re.findall(r"(\w+)\s*:\s*(\"[^\"]*\"|[^\s]+)", text):
        if key == "name":
            continue
        if key in INT_FIELDS:
            model[key] = int(value)
        elif key in FLOAT_FIELDS:
            model[key] = float(value)
        elif key in ENUM_FIELDS:
            if value not in ENUM_FIELDS[key]:
                sys.exit(f"{path}: {key}: {value} is not one of "
                         f"{sorted(ENUM_FIELDS[key])}")
            model[key] = value
        else:
            sys.exit(f"{path}: field '{key}' is not known to the PyTorch "
                     f"baseline; known: {sorted(INT_FIELDS | FLOAT_FIELDS | set(ENUM_FIELDS))}")
    if model["attention"] != "full":
        sys.exit(f"{path}: attention '{model['attention']}': the PyTorch "
                 "baseline only has full softmax attention")
    return model


def build_model(torch, cfg, seq_len):
    nn = torch.nn
    d, heads, mlp = cfg["d_model"], cfg["num_heads"], cfg["mlp_dim"]
    if cfg["qkv_dim"] != d:
        sys.exit(f"qkv_dim {cfg['qkv_dim']} != d_model {d}: "
                 "nn.MultiheadAttention needs them equal")
    cls = cfg["pooling"] == "POOLING_CLS"
    n = seq_len + (1 if cls else 0)
    max_len = cfg["max_len"] or n

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln1 = nn.LayerNorm(d, eps=1e-6)
            self.attn = nn.MultiheadAttention(d, heads, dropout=cfg["attention_dropout"],
                                              batch_first=True)
            self.ln2 = nn.LayerNorm(d, eps=1e-6)
            self.mlp = nn.Sequential(nn.Linear(d, mlp), nn.GELU(),
                                     nn.Dropout(cfg["dropout"]),
                                     nn.Linear(mlp, d), nn.Dropout(cfg["dropout"]))
            self.drop = nn.Dropout(cfg["dropout"])

        def forward(self, x, pad):
            h = self.ln1(x)
            a, _ = self.attn(h, h, h, key_padding_mask=pad, need_weights=False)
            x = x + self.drop(a)
            return x + self.mlp(self.ln2(x))

    class Encoder(nn.Module):
        def __init__(self):
            super().__init__()
            self.token = nn.Embedding(cfg["vocab_size"], d)
            self.cls = nn.Parameter(torch.randn(1, 1, d) * 0.02) if cls else None
            if cfg["positional"] == "POSITIONAL_LEARNED":
                self.position = nn.Parameter(torch.randn(max_len, d) * 0.02)
            elif cfg["positional"] == "POSITIONAL_SINUSOIDAL":
                p = torch.arange(max_len, dtype=torch.float32)[:, None]
                i2 = torch.arange(0, d, 2, dtype=torch.float32)[None, :]
                table = torch.zeros(max_len, d)
                table[:, 0::2] = torch.sin(p / 10000.0 ** (i2 / d))
                table[:, 1::2] = torch.cos(p / 10000.0 ** (i2 / d))
                self.register_buffer("position", table)
            else:
                self.position = None
            self.drop = nn.Dropout(cfg["dropout"])
            self.blocks = nn.ModuleList(Block() for _ in range(cfg["num_layers"]))
            self.final_ln = nn.LayerNorm(d, eps=1e-6)
            hidden = cfg["classifier_dim"] or mlp
            self.head = nn.Sequential(nn.Linear(d, hidden), nn.ReLU(),
                                      nn.Linear(hidden, cfg["num_classes"]))

        def forward(self, tokens):
            pad = tokens == 0  # [B, N]
            x = self.token(tokens)  # [B, N, D]
            if self.cls is not None:
                x = torch.cat([self.cls.expand(x.shape[0], 1, d), x], dim=1)
                pad = torch.cat([torch.zeros_like(pad[:, :1]), pad], dim=1)
            if self.position is not None:
                x = x + self.position[:x.shape[1]]
            x = self.drop(x)
            for block in self.blocks:
                x = block(x, pad)
            x = self.final_ln(x)
            if self.cls is not None:
                pooled = x[:, 0]
            else:
                real = (~pad).to(x.dtype)[:, :, None]  # [B, N, 1]
                pooled = (x * real).sum(1) / real.sum(1)
            return self.head(pooled)

    return Encoder()


def run_child(args):
    """Times one length in this process and prints its CSV row."""
    import torch  # Imported here: the environment must be clean first.

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    cfg = read_model(args.model) if args.model else dict(BENCH_MODEL)
    seq_len = int(args.seq_len)
    model = build_model(torch, cfg, seq_len)
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.98),
                                  eps=1e-9, weight_decay=0.1)
    tokens = torch.randint(1, cfg["vocab_size"], (args.batch, seq_len))
    labels = torch.randint(0, cfg["num_classes"], (args.batch,))

    def step():
        optimizer.zero_grad(set_to_none=True)
        loss = torch.nn.functional.cross_entropy(model(tokens), labels)
        loss.backward()
        optimizer.step()
        return loss.item()

    times = []
    for i in range(args.warmup + args.steps):
        start = time.perf_counter()
        loss = step()
        elapsed = time.perf_counter() - start
        if not math.isfinite(loss):
            sys.exit(f"seq_len {seq_len}: loss became {loss}")
        print(f"  seq_len {seq_len} step {i}: {elapsed * 1e3:.0f} ms"
              f"{' (warm-up)' if i < args.warmup else ''}", file=sys.stderr)
        if i >= args.warmup:
            times.append(elapsed)
    step_s = statistics.median(times)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux
    print(f"pytorch,{seq_len},{args.batch},{step_s * 1e3:.1f},"
          f"{args.batch * seq_len / step_s:.0f},{peak_mb:.0f}", flush=True)


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seq_len", default="1024,2048",
                   help="comma-separated sequence lengths (default 1024,2048)")
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--warmup", type=int, default=2, help="untimed steps first")
    p.add_argument("--steps", type=int, default=5, help="timed steps (median)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--model", default="",
                   help="ModelConfig .pbtxt (default: the built-in bench model)")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    try:
        lengths = [int(s) for s in args.seq_len.split(",") if s.strip()]
    except ValueError:
        p.error(f"--seq_len={args.seq_len}: want comma-separated integers")
    if not lengths or min(lengths) <= 0:
        p.error(f"--seq_len={args.seq_len}: want positive lengths")
    if args.batch <= 0 or args.steps <= 0 or args.warmup < 0 or args.threads <= 0:
        p.error("--batch, --steps and --threads must be positive, --warmup >= 0")
    if args.model and not os.path.isfile(args.model):
        p.error(f"--model={args.model}: no such file")
    if args.model:
        read_model(args.model)  # Fail here, once, rather than in every child.
    return args, lengths


def main():
    if any(v in os.environ for v in PINNING_VARIABLES):
        env = {k: v for k, v in os.environ.items() if k not in PINNING_VARIABLES}
        print(f"bench_torch: re-running without {', '.join(PINNING_VARIABLES)}",
              file=sys.stderr)
        os.execve(sys.executable, [sys.executable] + sys.argv, env)
    args, lengths = parse_args()
    if args.child:
        run_child(args)
        return
    print(CSV_HEADER, flush=True)
    failed = False
    for n in lengths:
        cmd = [sys.executable, os.path.abspath(__file__), "--child",
               f"--seq_len={n}", f"--batch={args.batch}", f"--warmup={args.warmup}",
               f"--steps={args.steps}", f"--threads={args.threads}"]
        if args.model:
            cmd.append(f"--model={args.model}")
        result = subprocess.run(cmd, stdout=subprocess.PIPE, text=True)
        rows = [l for l in result.stdout.splitlines() if l.startswith("pytorch,")]
        if result.returncode != 0 or len(rows) != 1:
            print(f"bench_torch: seq_len {n} failed (exit {result.returncode})",
                  file=sys.stderr)
            failed = True
            continue
        print(rows[0], flush=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
