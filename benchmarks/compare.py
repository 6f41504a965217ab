#!/usr/bin/python3
"""Side-by-side table of spikelab-bench and reference_torch.py results (JSON files of one run).

Times of every file of the same (implementation, config, mode) are pooled (several rounds,
interleaved config by config); the table shows medians and the ratios spikelab / reference,
spikelab / dense floor (the dense matrix products' FLOPs at 333 GFLOP/s and at the GEMM peak
measured in the same run) and the step memory (peak RSS during the steps over the RSS once
network, data and optimizer exist). The fastest Python framework's figures are the issue's
(148 / 268 / 270 ms), not measured here.
"""
import argparse
import json
import statistics
import sys

ISSUE_FASTEST_PYTHON = {"SHD": 148.0, "NMNIST": 268.0, "ON512": 270.0}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("files", nargs="+")
    ap.add_argument("--json", help="write the summary here")
    a = ap.parse_args()
    runs, peaks = {}, {}
    for f in a.files:
        d = json.load(open(f))
        if d.get("gemm_peak_gflops"):
            peaks[d.get("gemm_impl", f)] = d["gemm_peak_gflops"]
        for r in d.get("results", []):
            rows = [(r["mode"], r["times_ms"], r["flops"])]
            if r.get("fwd_ms"):
                rows += [("fwd", r["fwd_ms"], r["flops_fwd"]), ("bwd", r["bwd_ms"], r["flops_bwd"])]
            for mode, times, flops in rows:
                k = (r["impl"], r["config"], mode)
                e = runs.setdefault(k, dict(times=[], flops=flops, step=[], peak=[], density=r.get("densities")))
                e["times"] += times
                e["step"].append(r["peak_rss_mib"] - r["base_rss_mib"])
                e["peak"].append(r["peak_rss_mib"])
    peak = max(peaks.values()) if peaks else 0.0
    for name, g in sorted(peaks.items()):
        print("GEMM peak (%s, same run): %.1f GFLOP/s" % (name, g))
    configs = []
    for (impl, cfg, mode) in runs:
        if (cfg, mode) not in configs:
            configs.append((cfg, mode))
    ours = sorted({k[0] for k in runs if k[0].startswith("spikelab")})
    impls = sorted({k[0] for k in runs if not k[0].startswith("spikelab")})
    ref = "torch-loop" if "torch-loop" in impls else (impls[0] if impls else None)
    others = [i for i in impls if i != ref]
    med = lambda e: statistics.median(e["times"])
    hdr = "%-7s %-5s %-14s %9s" % ("config", "mode", "impl", "ms")
    for i in impls:
        hdr += " %11s" % (i + " ms")
    hdr += " %7s" % "ratio"
    for i in others:
        hdr += " %8s" % ("r:" + i.split("-")[-1])
    hdr += " %8s %8s %7s %7s %8s %8s %7s" % ("fl333 ms", "flpk ms", "r:fl333", "r:flpk", "spk MiB", "ref MiB", "r:mem")
    print(hdr)
    summary = []
    for cfg, mode in configs:
        for our in ours:
            s = runs.get((our, cfg, mode))
            if s is None:
                continue
            m = med(s)
            line = "%-7s %-5s %-14s %9.2f" % (cfg, mode, our, m)
            row = dict(impl=our, config=cfg, mode=mode, ms=m, min=min(s["times"]), max=max(s["times"]),
                       step_mib=max(s["step"]), peak_mib=max(s["peak"]), flops=s["flops"], densities=s["density"])
            for i in impls:
                e = runs.get((i, cfg, mode))
                line += " %11.2f" % med(e) if e else " %11s" % "-"
                if e:
                    row[i + "_ms"] = med(e)
                    row[i + "_step_mib"] = max(e["step"])
            r = runs.get((ref, cfg, mode)) if ref else None
            line += " %7.3f" % (m / med(r)) if r else " %7s" % "-"
            if r:
                row["ratio"] = m / med(r)
            for i in others:
                e = runs.get((i, cfg, mode))
                line += " %8.3f" % (m / med(e)) if e else " %8s" % "-"
                if e:
                    row["ratio_" + i] = m / med(e)
            f333 = s["flops"] / 333e9 * 1e3
            fpk = s["flops"] / (peak * 1e9) * 1e3 if peak else float("nan")
            line += " %8.2f %8.2f %7.3f %7.3f" % (f333, fpk, m / f333, m / fpk if peak else float("nan"))
            row.update(floor333_ms=f333, floor_peak_ms=fpk, gemm_peak_gflops=peak, ratio_floor333=m / f333,
                       ratio_floor_peak=m / fpk if peak else None)
            if r and mode not in ("fwd", "bwd"):
                line += " %8.1f %8.1f %7.3f" % (max(s["step"]), max(r["step"]), max(s["step"]) / max(r["step"]))
                row["ratio_mem"] = max(s["step"]) / max(r["step"])
            print(line)
            if cfg in ISSUE_FASTEST_PYTHON and mode == "train":
                row["vs_issue_fastest_python"] = m / ISSUE_FASTEST_PYTHON[cfg]
            summary.append(row)
    print("ratio, r:* = spikelab / PyTorch (%s unless named; same run); r:fl333, r:flpk = spikelab / dense floor at"
          " 333 GFLOP/s and at the\nmeasured GEMM peak (%.1f GFLOP/s); spk/ref MiB = step memory (peak RSS during the"
          " steps over the RSS before them)." % (ref, peak))
    for row in summary:
        if "vs_issue_fastest_python" in row:
            print("%-7s train (%s): %.2f ms = %.1fx faster than the issue's fastest Python framework (%.0f ms)" % (
                row["config"], row["impl"], row["ms"], 1.0 / row["vs_issue_fastest_python"],
                ISSUE_FASTEST_PYTHON[row["config"]]))
    if a.json:
        json.dump(dict(gemm_peaks=peaks, rows=summary), open(a.json, "w"), indent=1)


if __name__ == "__main__":
    sys.exit(main())
