#!/usr/bin/python3
"""PyTorch reference for spikelab-conv-bench: the same 2-conv spiking network.

Network "12C5-MP2-32C5-MP2-10" on 2x34x34 spike frames, T = 20, batch 32 (see conv_bench.cpp):
  Conv2d(2->12, 5) -> MaxPool2d(2) -> LIF -> Conv2d(12->32, 5) -> MaxPool2d(2) -> LIF
  -> Linear(800->10) -> leaky-integrator readout.
LIF: v_t = 0.9 v_{t-1} + I_t - s_{t-1}, s_t = H(v_t - 1) (H(0) = 0), fast-sigmoid surrogate
1/(1 + 25|v - 1|)^2, reset not detached; readout v_t = 0.9 v_{t-1} + x_t; loss = cross-entropy
(batch mean) of the readout summed over time; Adam(lr 1e-3); nn default initialisation.

Two idiomatic variants:
  loop   snnTorch style: for every time step, every layer runs on that step.
  layer  SpikingJelly multi-step style: each stateless layer (conv, pool, linear) runs once on
         all T*B frames; only the neuron updates loop over time (what spikelab does).

A training step = zero_grad + forward + loss + backward + Adam step; inference = forward under
torch.no_grad(). Median over --reps after --warmup; wall time (and CPU time of the process).
Run with /usr/bin/python3 (Debian's python3-torch), e.g.
  /usr/bin/python3 benchmarks/conv/reference_conv_torch.py --threads 2
"""
import argparse
import json
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

BETA, THETA, SLOPE, BETA_OUT, LR = 0.9, 1.0, 25.0, 0.9, 1e-3


class Spike(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return (x > 0).to(x.dtype)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g / (1.0 + SLOPE * x.abs()) ** 2


spike = Spike.apply


class ConvSnn(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(2, 12, 5)
        self.conv2 = nn.Conv2d(12, 32, 5)
        self.fc = nn.Linear(32 * 5 * 5, 10)

    def forward_loop(self, x):  # x: T x B x 2 x 34 x 34
        T, B = x.shape[0], x.shape[1]
        m1 = torch.zeros(B, 12, 15, 15)
        s1 = torch.zeros_like(m1)
        m2 = torch.zeros(B, 32, 5, 5)
        s2 = torch.zeros_like(m2)
        v = torch.zeros(B, 10)
        acc = torch.zeros(B, 10)
        for t in range(T):
            m1 = BETA * m1 + F.max_pool2d(self.conv1(x[t]), 2) - THETA * s1
            s1 = spike(m1 - THETA)
            m2 = BETA * m2 + F.max_pool2d(self.conv2(s1), 2) - THETA * s2
            s2 = spike(m2 - THETA)
            v = BETA_OUT * v + self.fc(s2.flatten(1))
            acc = acc + v
        return acc

    @staticmethod
    def lif(cur):  # cur: T x B x ...
        m = torch.zeros_like(cur[0])
        s = torch.zeros_like(cur[0])
        out = []
        for t in range(cur.shape[0]):
            m = BETA * m + cur[t] - THETA * s
            s = spike(m - THETA)
            out.append(s)
        return torch.stack(out)

    def forward_layer(self, x):
        T, B = x.shape[0], x.shape[1]
        h = F.max_pool2d(self.conv1(x.flatten(0, 1)), 2)           # all T*B frames at once
        h = self.lif(h.view(T, B, 12, 15, 15))
        h = F.max_pool2d(self.conv2(h.flatten(0, 1)), 2)
        h = self.lif(h.view(T, B, 32, 5, 5))
        cur = self.fc(h.flatten(2))                                # T x B x 10
        v = torch.zeros_like(cur[0])
        acc = torch.zeros_like(cur[0])
        for t in range(T):
            v = BETA_OUT * v + cur[t]
            acc = acc + v
        return acc


def run(variant, mode, a):
    torch.manual_seed(a.seed)
    net = ConvSnn()
    g = torch.Generator().manual_seed(a.seed + 1)
    x = (torch.rand(a.steps, a.batch, 2, 34, 34, generator=g) < a.density).float()
    labels = torch.randint(0, 10, (a.batch,), generator=g)
    opt = torch.optim.Adam(net.parameters(), lr=LR)
    fwd = net.forward_loop if variant == "loop" else net.forward_layer
    wall, cpu, first = [], [], None
    for r in range(a.warmup + a.reps):
        t0, c0 = time.perf_counter(), time.process_time()
        if mode == "train":
            opt.zero_grad(set_to_none=False)
            loss = F.cross_entropy(fwd(x), labels)
            loss.backward()
            opt.step()
        else:
            with torch.no_grad():
                loss = F.cross_entropy(fwd(x), labels)
        t1, c1 = time.perf_counter(), time.process_time()
        if first is None:
            first = float(loss)
        if r >= a.warmup:
            wall.append((t1 - t0) * 1e3)
            cpu.append((c1 - c0) * 1e3)
    return dict(impl="torch-" + variant, config="CONV", mode=mode, threads=a.threads, batch=a.batch, steps=a.steps,
                times_ms=wall, cpu_ms=cpu, first_loss=first, torch=torch.__version__)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--modes", default="train,infer")
    ap.add_argument("--variants", default="loop,layer")
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--density", type=float, default=0.05)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--json", help="write the results (a JSON list) to this file")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    results = [run(v, m, a) for m in a.modes.split(",") for v in a.variants.split(",")]
    print("torch %s, %d threads, batch %d, T %d, input density %.3f, %d reps after %d warm-up"
          % (torch.__version__, a.threads, a.batch, a.steps, a.density, a.reps, a.warmup))
    print("%-6s %-12s %10s %19s %12s %10s" % ("mode", "impl", "median ms", "min-max ms", "median cpu", "first loss"))
    for r in results:
        t = sorted(r["times_ms"])
        print("%-6s %-12s %10.2f %9.2f-%-9.2f %12.2f %10.4f" % (r["mode"], r["impl"], statistics.median(t), t[0], t[-1],
                                                              statistics.median(r["cpu_ms"]), r["first_loss"]))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
