"""One fine-tuning step in PyTorch at the shape of scripts/bench-ft.ts (issue 18 item 4), for a side-by-side.

The model is written out here in plain torch (no transformers): RoBERTa-base shape (vocab 50265, 514 positions,
12 layers, hidden 768, 12 heads, intermediate 3072, GELU, post-LayerNorm), an MLM head (dense + GELU + LayerNorm)
and an untied decoder (50265 x 768 + bias) as entk's roberta-base-shape checkpoint has; dropout 0.1 on. Batch
8 x 64 random token ids with the mask at position 32; the loss is cross-entropy over the logits of 2 label words at
the mask (the prompt-based objective), then gradient clipping to norm 1 and AdamW (lr 1e-5, weight decay 0.01),
as bench-ft does. torch's AdamW updates every parameter (embedding and decoder rows without gradient too).

    python3 scripts/bench-ft-torch.py [--reps 3] [--warmup 2] [--threads N]

Prints seconds per step (best of --reps after --warmup steps); the last line is one JSON object with step_s.
"""

import argparse
import json
import os
import time

import torch
from torch import nn

V, P, L, H, NH, FF = 50265, 514, 12, 768, 12, 3072
B, T, MASK = 8, 64, 32
LABEL_WORDS = [100, 200]


class Layer(nn.Module):
    def __init__(self):
        super().__init__()
        self.q, self.k, self.v, self.o = (nn.Linear(H, H) for _ in range(4))
        self.ln1, self.ln2 = nn.LayerNorm(H, eps=1e-5), nn.LayerNorm(H, eps=1e-5)
        self.ff1, self.ff2 = nn.Linear(H, FF), nn.Linear(FF, H)
        self.drop = nn.Dropout(0.1)

    def forward(self, x):
        b, t, _ = x.shape
        split = lambda y: y.view(b, t, NH, H // NH).transpose(1, 2)
        q, k, v = split(self.q(x)), split(self.k(x)), split(self.v(x))
        att = self.drop(torch.softmax(q @ k.transpose(-1, -2) / (H // NH) ** 0.5, dim=-1))
        ctx = (att @ v).transpose(1, 2).reshape(b, t, H)
        x = self.ln1(x + self.drop(self.o(ctx)))
        return self.ln2(x + self.drop(self.ff2(nn.functional.gelu(self.ff1(x)))))


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.word, self.pos, self.token_type = nn.Embedding(V, H), nn.Embedding(P, H), nn.Embedding(1, H)
        self.ln = nn.LayerNorm(H, eps=1e-5)
        self.layers = nn.ModuleList(Layer() for _ in range(L))
        self.dense, self.head_ln = nn.Linear(H, H), nn.LayerNorm(H, eps=1e-5)
        self.decoder = nn.Linear(H, V)
        self.drop = nn.Dropout(0.1)
        self.register_buffer("labels", torch.tensor(LABEL_WORDS))

    def forward(self, ids):
        pos = torch.arange(2, 2 + ids.shape[1]).unsqueeze(0)
        x = self.drop(self.ln(self.word(ids) + self.pos(pos) + self.token_type(torch.zeros_like(ids))))
        for layer in self.layers:
            x = layer(x)
        h = self.head_ln(nn.functional.gelu(self.dense(x[:, MASK])))
        # Only the label words' decoder rows, as entk's prompt model computes them.
        return h @ self.decoder.weight[self.labels].T + self.decoder.bias[self.labels]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = Model().train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-5, weight_decay=0.01)
    ids = torch.randint(3, V - 1, (B, T))
    ids[:, 0], ids[:, -1], ids[:, MASK] = 0, 2, 50264
    y = torch.arange(B) % 2

    def step():
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss = nn.functional.cross_entropy(model(ids), y)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        return time.perf_counter() - t0

    for _ in range(a.warmup):
        step()
    times = [step() for _ in range(a.reps)]
    params = sum(p.numel() for p in model.parameters())
    print(f"torch {torch.__version__}, {a.threads} threads, {params / 1e6:.1f} M parameters")
    print(f"AdamW step, batch {B} x {T}: best {min(times):.3f} s of {[round(t, 3) for t in times]}")
    print(json.dumps({"step_s": min(times), "steps_s": times, "torch": torch.__version__, "threads": a.threads,
                      "params": params, "batch": B, "tokens": T}))


if __name__ == "__main__":
    main()
