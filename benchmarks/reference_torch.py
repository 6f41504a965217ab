#!/usr/bin/python3
"""PyTorch reference for the spikelab benchmark configurations.

The same networks as benchmarks/spikelab_bench.cpp, written the idiomatic PyTorch way:

  loop   the plain snnTorch-style loop: for every time step, every layer runs on that step
         (nn.Linear per step, then the LIF update); the reference of the issue.
  layer  layer by layer over the whole sequence: each nn.Linear runs once on all T steps,
         the LIF update loops over time (what spikelab does; a stronger PyTorch baseline).

Neurons (identical to spikelab's defaults): LIF with subtractive reset that is not detached,
  v_t = beta v_{t-1} + I_t - theta s_{t-1},  s_t = H(v_t - theta)  (H(0) = 0),
beta = 0.9, theta = 1, fast-sigmoid surrogate 1/(1 + 25|v - theta|)^2; leaky-integrator readout
v_t = 0.9 v_{t-1} + x_t; cross-entropy (mean over the batch) of the readout summed over time;
Adam(lr 1e-3). nn.Linear default initialisation (uniform +-1/sqrt(fan_in), with bias).

--rates: target firing rates of the hidden LIF layers (0 = nn.Linear's initialisation): each
hidden layer's incoming weights and bias are scaled, layer by layer, until its spike density on the
benchmark batch is the target (spikelab-bench does the same); the measured densities are printed.

BLAS: Debian's torch calls whichever libblas.so.3 the loader finds. Both OpenBLAS builds
(libopenblas0-openmp, libopenblas0-pthread) are selected per process through LD_LIBRARY_PATH, not
through update-alternatives; --blas auto (the default) measures the sgemm peak of each installed
build and runs the reference with the faster one (printed). torch.set_num_threads, OMP_NUM_THREADS
and OPENBLAS_NUM_THREADS are all set to --threads.

Every (config, rate, mode, variant) runs in a fresh child process so that its peak RSS is its own.
Run with /usr/bin/python3 (Debian's python3-torch). See BENCHMARKS.md.
"""
import glob
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

CONFIGS = {
    # name: (sizes, batch, steps, input kind, has readout)
    "SHD": dict(sizes=[700, 256, 256, 20], batch=64, steps=100, input="spikes", readout=True),
    "NMNIST": dict(sizes=[2312, 512, 10], batch=64, steps=100, input="spikes", readout=True),
    "ON512": dict(sizes=[512, 512], batch=16, steps=500, input="normal", readout=False),
    "ON4096": dict(sizes=[4096, 4096], batch=16, steps=500, input="normal", readout=False),
}
DENSITY = 0.05
BETA, THETA, SLOPE, BETA_OUT, LR = 0.9, 1.0, 25.0, 0.9, 1e-3


def dense_flops(cfg, mode):
    """FLOPs of the dense matrix products (the arithmetic floor); element-wise work ignored."""
    cols = cfg["batch"] * cfg["steps"]
    s = cfg["sizes"]
    per = [2.0 * s[i] * s[i + 1] * cols for i in range(len(s) - 1)]
    fwd = sum(per)
    if mode in ("infer", "fwd"):
        return fwd
    bwd = sum(per) + sum(per[1:])  # weight gradients + input gradients (not of the network input)
    return bwd if mode == "bwd" else fwd + bwd


def blas_builds():
    """The OpenBLAS builds installed side by side (Debian: /usr/lib/<triplet>/openblas-<kind>/)."""
    found = {}
    for kind in ("openmp", "pthread"):
        dirs = sorted(glob.glob("/usr/lib/*/openblas-%s/libblas.so.3" % kind))
        if dirs:
            found[kind] = os.path.dirname(dirs[0])
    return found


def child_env(blas, threads):
    """Environment of a child process: the thread counts and, for an OpenBLAS build, its directory first."""
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads))
    builds = blas_builds()
    if blas in builds:
        env["LD_LIBRARY_PATH"] = builds[blas] + (":" + env["LD_LIBRARY_PATH"] if env.get("LD_LIBRARY_PATH") else "")
    return env


def loaded_blas():
    """The BLAS library this process has loaded (after importing torch and running a product)."""
    with open("/proc/self/maps") as f:
        libs = sorted({line.split()[-1] for line in f if "blas" in line.split()[-1]})
    main = [l for l in libs if "libopenblas" in l] or [l for l in libs if "libblas" in l] or libs
    return main[0] if main else "unknown"


def rss_kib(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def reset_peak():
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def build_net(cfg, variant):
    """The PyTorch network of a configuration; forward(x) takes x of shape (T, B, inputs)."""
    import torch
    import torch.nn as nn

    sizes = cfg["sizes"]

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

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            n_hidden = len(sizes) - 2 if cfg["readout"] else len(sizes) - 1
            self.hidden = nn.ModuleList(nn.Linear(sizes[i], sizes[i + 1]) for i in range(n_hidden))
            self.out = nn.Linear(sizes[-2], sizes[-1]) if cfg["readout"] else None

        def forward_loop(self, x):
            Tn, Bn = x.shape[0], x.shape[1]
            mem = [torch.zeros(Bn, fc.out_features) for fc in self.hidden]
            spk = [torch.zeros(Bn, fc.out_features) for fc in self.hidden]
            outs = []
            if self.out is not None:
                v = torch.zeros(Bn, self.out.out_features)
                acc = torch.zeros(Bn, self.out.out_features)
            for t in range(Tn):
                h = x[t]
                for i, fc in enumerate(self.hidden):
                    mem[i] = BETA * mem[i] + fc(h) - THETA * spk[i]
                    spk[i] = spike(mem[i] - THETA)
                    h = spk[i]
                if self.out is not None:
                    v = BETA_OUT * v + self.out(h)
                    acc = acc + v
                else:
                    outs.append(h)
            return acc if self.out is not None else torch.stack(outs)

        def forward_layer(self, x):
            h = x
            for fc in self.hidden:
                cur = fc(h)  # all T steps in one product
                mem = torch.zeros_like(cur[0])
                s = torch.zeros_like(cur[0])
                outs = []
                for t in range(cur.shape[0]):
                    mem = BETA * mem + cur[t] - THETA * s
                    s = spike(mem - THETA)
                    outs.append(s)
                h = torch.stack(outs)
            if self.out is None:
                return h
            cur = self.out(h)
            v = torch.zeros_like(cur[0])
            acc = torch.zeros_like(cur[0])
            for t in range(cur.shape[0]):
                v = BETA_OUT * v + cur[t]
                acc = acc + v
            return acc

        def forward(self, x):
            return self.forward_loop(x) if variant == "loop" else self.forward_layer(x)

        @torch.no_grad()
        def densities(self, x):
            """Spike density of every LIF layer on x (the hidden layers, then ON's output layer)."""
            h, out = x, []
            for fc in self.hidden:
                cur = fc(h)
                mem = torch.zeros_like(cur[0])
                s = torch.zeros_like(cur[0])
                spikes = []
                for t in range(cur.shape[0]):
                    mem = BETA * mem + cur[t] - THETA * s
                    s = (mem - THETA > 0).to(cur.dtype)
                    spikes.append(s)
                h = torch.stack(spikes)
                out.append(float((h != 0).float().mean()))
            return out
    return Net()


def calibrate(net, x, rate):
    """Scales each hidden layer's incoming weights and bias (first to last) so that its spike
    density on x is `rate`: a geometric bisection on the factor, as in spikelab-bench."""
    import math
    import torch
    factors = []
    if rate <= 0 or net.out is None:
        return factors
    with torch.no_grad():
        for i, fc in enumerate(net.hidden):
            w0, b0 = fc.weight.clone(), fc.bias.clone()

            def density_at(s):
                fc.weight.copy_(w0 * s)
                fc.bias.copy_(b0 * s)
                return net.densities(x)[i]
            lo = hi = 1.0
            while density_at(hi) < rate and hi < 1e4:
                hi *= 2
            while density_at(lo) > rate and lo > 1e-4:
                lo /= 2
            for _ in range(30):
                if hi / lo <= 1.0001:
                    break
                mid = math.sqrt(lo * hi)
                if density_at(mid) < rate:
                    lo = mid
                else:
                    hi = mid
            s = lo if abs(density_at(lo) - rate) < abs(density_at(hi) - rate) else hi
            density_at(s)
            factors.append(s)
    return factors


def child(name, mode, variant, reps, warmup, threads, seed, rate):
    import torch
    import torch.nn.functional as F

    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    cfg = CONFIGS[name]
    sizes, B, T = cfg["sizes"], cfg["batch"], cfg["steps"]

    net = build_net(cfg, variant)
    g = torch.Generator().manual_seed(seed + 1)
    if cfg["input"] == "spikes":
        x = (torch.rand(T, B, sizes[0], generator=g) < DENSITY).float()
    else:
        x = torch.randn(T, B, sizes[0], generator=g)
    labels = torch.randint(0, sizes[-1], (B,), generator=g)
    scales = calibrate(net, x, rate)
    densities = net.densities(x)
    opt = torch.optim.Adam(net.parameters(), lr=LR) if cfg["readout"] else None

    def loss_of(out):
        return F.cross_entropy(out, labels) if cfg["readout"] else out.sum()

    # the step's memory: peak RSS during the steps over the RSS once network, data and optimizer exist
    import ctypes
    import gc
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except OSError:
        pass
    base_kib = rss_kib("VmRSS")
    peak_reset = reset_peak()
    times, fwd_times, bwd_times, losses = [], [], [], []
    for r in range(warmup + reps):
        if mode == "infer":
            t0 = time.perf_counter()
            with torch.no_grad():
                out = net(x)
            t1 = time.perf_counter()
            losses.append(float(loss_of(out)))
            if r >= warmup:
                times.append((t1 - t0) * 1e3)
            del out
            continue
        t0 = time.perf_counter()
        if opt is not None:
            opt.zero_grad(set_to_none=True)
        else:
            net.zero_grad(set_to_none=True)
        out = net(x)
        loss = loss_of(out)
        t1 = time.perf_counter()
        loss.backward()
        if opt is not None:
            opt.step()
        t2 = time.perf_counter()
        losses.append(float(loss))
        del out, loss
        if r >= warmup:
            times.append((t2 - t0) * 1e3)
            fwd_times.append((t1 - t0) * 1e3)
            bwd_times.append((t2 - t1) * 1e3)
    peak_kib = rss_kib("VmHWM")
    # the densities after the timed steps (the optimizer has moved the weights), as spikelab-bench
    # reports them; those right after the calibration are kept as densities_start
    densities_start, densities = densities, net.densities(x)
    res = dict(impl="torch-" + variant, config=name, mode=mode, threads=threads, rate=rate, scales=scales,
               densities=densities, densities_start=densities_start, blas=loaded_blas(), times_ms=times,
               fwd_ms=fwd_times, bwd_ms=bwd_times, flops=dense_flops(cfg, "train" if mode == "train" else "infer"),
               flops_fwd=dense_flops(cfg, "fwd"), flops_bwd=dense_flops(cfg, "bwd"),
               peak_rss_mib=peak_kib / 1024.0, base_rss_mib=base_kib / 1024.0, peak_reset=peak_reset,
               first_loss=losses[0], torch=torch.__version__)
    print("RESULT " + json.dumps(res))


def verify(directory, threads):
    """Loads the weights, input and labels spikelab-bench --export wrote, runs one step of both
    PyTorch variants and compares the loss and every gradient with spikelab's."""
    import numpy as np
    import torch
    import torch.nn.functional as F

    torch.set_num_threads(threads)
    ok = True
    for name in sorted(os.listdir(directory)):
        d = os.path.join(directory, name)
        meta = json.load(open(os.path.join(d, "meta.json")))
        sizes, B, T = meta["sizes"], meta["batch"], meta["steps"]
        cfg = dict(CONFIGS[name], steps=T)
        raw = lambda f, shape: torch.from_numpy(np.fromfile(os.path.join(d, f), dtype=np.float32).reshape(shape))
        x = raw("input.f32", (T, B, sizes[0]))
        labels = torch.tensor([int(l) for l in open(os.path.join(d, "labels.txt")).read().split()])
        for variant in ("loop", "layer"):
            net = build_net(cfg, variant)
            linears = list(net.hidden) + ([net.out] if net.out is not None else [])
            with torch.no_grad():
                for i, fc in enumerate(linears):  # spikelab stores W column-major (out x in) = row-major (in x out)
                    fc.weight.copy_(raw("w%d.f32" % i, (sizes[i], sizes[i + 1])).t())
                    fc.bias.copy_(raw("b%d.f32" % i, (sizes[i + 1],)))
            out = net(x)
            loss = F.cross_entropy(out, labels) if cfg["readout"] else out.sum()
            loss.backward()
            worst = abs(float(loss) - meta["loss"]) / max(1.0, abs(meta["loss"]))
            for i, fc in enumerate(linears):
                gw = raw("gw%d.f32" % i, (sizes[i], sizes[i + 1])).t()
                gb = raw("gb%d.f32" % i, (sizes[i + 1],))
                for mine, theirs in ((fc.weight.grad, gw), (fc.bias.grad, gb)):
                    worst = max(worst, float((mine - theirs).abs().max()) / (1e-6 + float(theirs.abs().max())))
            good = worst < 1e-3
            ok = ok and good
            print("verify %-7s %-6s loss torch %.6f spikelab %.6f, max relative difference (loss, gradients) %.2e  %s"
                  % (name, variant, float(loss), meta["loss"], worst, "OK" if good else "MISMATCH"))
    return ok


def gemm_peak(threads, seconds=1.0):
    """Best sgemm GFLOP/s of torch.matmul (OpenBLAS when installed) over a few square sizes."""
    import torch
    torch.set_num_threads(threads)
    best = 0.0
    for n in (1024, 2048):
        a, b = torch.randn(n, n), torch.randn(n, n)
        c = a @ b
        t_end = time.perf_counter() + seconds
        while time.perf_counter() < t_end:
            t0 = time.perf_counter()
            torch.mm(a, b, out=c)
            best = max(best, 2.0 * n ** 3 / (time.perf_counter() - t0) / 1e9)
    return best


def gemm_peaks(threads):
    """sgemm peak of torch.matmul with each installed OpenBLAS build ("system": whatever libblas.so.3
    the loader finds when none is installed side by side), each in a child process of its own."""
    peaks = {}
    for kind in list(blas_builds()) or ["system"]:
        cmd = [sys.executable, os.path.abspath(__file__), "--child-gemm", "--threads", str(threads)]
        p = subprocess.run(cmd, capture_output=True, text=True, env=child_env(kind, threads))
        line = [l for l in p.stdout.splitlines() if l.startswith("GEMM ")]
        if p.returncode != 0 or not line:
            sys.exit("gemm child failed: %s\n%s%s" % (" ".join(cmd), p.stdout, p.stderr))
        peaks[kind] = json.loads(line[0][5:])
    return peaks


def summarize(r):
    t = sorted(r["times_ms"])
    return dict(median=statistics.median(t), lo=t[0], hi=t[-1])


def print_table(results, out=sys.stdout):
    print("%-8s %5s %-6s %-13s %10s %19s %9s %10s %10s  %s" % ("config", "rate", "mode", "impl", "median ms",
                                                               "min-max ms", "GFLOP/s", "peak MiB", "step MiB",
                                                               "LIF spike density"), file=out)
    for r in results:
        rows = [(r["mode"], r["times_ms"], r["flops"])]
        if r["config"].startswith("ON") and r["mode"] == "train":
            rows += [("fwd", r["fwd_ms"], r["flops_fwd"]), ("bwd", r["bwd_ms"], r["flops_bwd"])]
        for mode, times, flops in rows:
            t = sorted(times)
            med = statistics.median(t)
            print("%-8s %5s %-6s %-13s %10.2f %9.2f-%-9.2f %9.1f %10.1f %10.1f  %s" % (
                r["config"], ("%.3f" % r["rate"]) if r.get("rate") else "-", mode, r["impl"], med, t[0], t[-1],
                flops / med / 1e6, r["peak_rss_mib"], r["peak_rss_mib"] - r["base_rss_mib"],
                " ".join("%.4f" % d for d in r.get("densities", []))), file=out)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--configs", default="SHD,NMNIST,ON512,ON4096")
    ap.add_argument("--modes", default="train,infer")
    ap.add_argument("--variants", default="loop,layer", help="loop, layer or loop,layer")
    ap.add_argument("--rates", default="0", help="comma-separated target firing rates of the hidden LIF layers")
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--blas", default="auto", help="auto (the faster OpenBLAS build), openmp, pthread or system")
    ap.add_argument("--json", help="write the results (a JSON list) to this file")
    ap.add_argument("--gemm-peak", action="store_true", help="also measure torch.matmul's GFLOP/s with every BLAS build")
    ap.add_argument("--verify", metavar="DIR", help="compare one step with spikelab-bench --export DIR")
    ap.add_argument("--child", nargs=3, metavar=("CONFIG", "MODE", "VARIANT"), help=argparse.SUPPRESS)
    ap.add_argument("--rate", type=float, default=0.0, help=argparse.SUPPRESS)
    ap.add_argument("--child-gemm", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        child(a.child[0], a.child[1], a.child[2], a.reps, a.warmup, a.threads, a.seed, a.rate)
        return
    if a.child_gemm:
        peak = gemm_peak(a.threads)
        print("GEMM " + json.dumps(dict(gflops=peak, blas=loaded_blas())))
        return
    extra = {}
    blas = a.blas
    if a.gemm_peak or blas == "auto":
        peaks = gemm_peaks(a.threads)
        for kind, p in peaks.items():
            print("torch.matmul sgemm peak, %d threads, %s OpenBLAS (%s): %.1f GFLOP/s"
                  % (a.threads, kind, p["blas"], p["gflops"]))
        extra["gemm_peaks"] = {k: p["gflops"] for k, p in peaks.items()}
        if blas == "auto":
            blas = max(peaks, key=lambda k: peaks[k]["gflops"])
            print("PyTorch runs with the %s OpenBLAS (the faster sgemm)" % blas)
        extra["gemm_peak_gflops"] = peaks[blas]["gflops"] if blas in peaks else max(extra["gemm_peaks"].values())
        extra["gemm_impl"] = "torch.matmul (%s OpenBLAS)" % blas
    extra["blas"] = blas
    if a.verify:
        env = child_env(blas, a.threads)
        cmd = [sys.executable, os.path.abspath(__file__), "--verify-child", a.verify, "--threads", str(a.threads)]
        sys.exit(subprocess.run(cmd, env=env).returncode)
    results = []
    rates = [float(r) for r in a.rates.split(",") if r]
    for name in [c for c in a.configs.split(",") if c]:
        if name not in CONFIGS:
            sys.exit("unknown config %s (known: %s)" % (name, ", ".join(CONFIGS)))
        reps, warmup = a.reps, a.warmup
        if name == "ON4096":  # seconds per step: fewer repetitions
            reps, warmup = max(2, min(reps, 3)), 1
        for rate in rates:
            if rate > 0 and not CONFIGS[name]["readout"]:
                continue  # ON has no hidden layer
            for mode in a.modes.split(","):
                if mode == "stream":
                    continue  # spikelab only
                for variant in a.variants.split(","):
                    cmd = [sys.executable, os.path.abspath(__file__), "--child", name, mode, variant, "--reps",
                           str(reps), "--warmup", str(warmup), "--threads", str(a.threads), "--seed", str(a.seed),
                           "--rate", repr(rate)]
                    p = subprocess.run(cmd, capture_output=True, text=True, env=child_env(blas, a.threads))
                    line = [l for l in p.stdout.splitlines() if l.startswith("RESULT ")]
                    if p.returncode != 0 or not line:
                        sys.exit("child failed: %s\n%s%s" % (" ".join(cmd), p.stdout, p.stderr))
                    results.append(json.loads(line[0][7:]))
    if results:
        print_table(results)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(dict(results=results, **extra), f, indent=1)


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--verify-child":
        threads = int(sys.argv[sys.argv.index("--threads") + 1]) if "--threads" in sys.argv else 2
        sys.exit(0 if verify(sys.argv[2], threads) else 1)
    main()
