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
    impls = sorted({k[0] for k in runs if k[0] != "spikelab"})
    ref = "torch-loop" if "torch-loop" in impls else (impls[0] if impls else None)
    hdr = "%-7s %-5s %9s" % ("config", "mode", "spikelab")
    for i in impls:
        hdr += " %11s" % i
    hdr += " %8s" % ("ratio" if ref else "")
    for i in impls:
        if i != ref:
            hdr += " %8s" % ("r:" + i.split("-")[-1])
    hdr += " %8s %9s %8s %8s %7s %7s %7s" % ("fl@333", "fl@peak", "r:fl333", "r:flpk", "spk MiB", "ref MiB", "r:mem")
    print(hdr)
    print("%-7s %-5s %9s%s %8s" % ("", "", "ms", " %11s" % "ms" * len(impls), "spk/ref") +
          "%s %8s %9s" % (" %8s" % "" * (len(impls) - 1), "ms", "ms"))
    summary = []
    for cfg, mode in configs:
        s = runs.get(("spikelab", cfg, mode))
        if s is None:
            continue
        med = statistics.median(s["times"])
        line = "%-7s %-5s %9.2f" % (cfg, mode, med)
        row = dict(config=cfg, mode=mode, spikelab_ms=med, spikelab_min=min(s["times"]), spikelab_max=max(s["times"]),
                   spikelab_step_mib=max(s["step"]), spikelab_peak_mib=max(s["peak"]), flops=s["flops"],
                   densities=s["density"])
        for i in impls:
            e = runs.get((i, cfg, mode))
            line += " %11.2f" % statistics.median(e["times"]) if e else " %11s" % "-"
            if e:
                row[i + "_ms"] = statistics.median(e["times"])
                row[i + "_step_mib"] = max(e["step"])
        r = runs.get((ref, cfg, mode)) if ref else None
        line += " %8.3f" % (med / statistics.median(r["times"])) if r else " %8s" % "-"
        for i in impls:
            if i != ref:
                e = runs.get((i, cfg, mode))
                line += " %8.3f" % (med / statistics.median(e["times"])) if e else " %8s" % "-"
        f333 = s["flops"] / 333e9 * 1e3
        fpk = s["flops"] / (peak * 1e9) * 1e3 if peak else float("nan")
        line += " %8.2f %9.2f %8.3f %8.3f" % (f333, fpk, med / f333, med / fpk if peak else float("nan"))
        row.update(floor333_ms=f333, floor_peak_ms=fpk, gemm_peak_gflops=peak)
        if r and mode not in ("fwd", "bwd"):
            line += " %7.1f %7.1f %7.3f" % (max(s["step"]), max(r["step"]), max(s["step"]) / max(r["step"]))
        print(line)
        if cfg in ISSUE_FASTEST_PYTHON and mode == "train":
            row["vs_issue_fastest_python"] = med / ISSUE_FASTEST_PYTHON[cfg]
        summary.append(row)
    print("ratio = spikelab / %s (same run); r:fl333, r:flpk = spikelab / dense floor at 333 GFLOP/s and at the"
          " measured GEMM peak;\nspk/ref MiB = step memory (peak RSS over the RSS before the first step)." % ref)
    for row in summary:
        if "vs_issue_fastest_python" in row:
            print("%-7s train: %.2f ms = %.1fx faster than the issue's fastest Python framework (%.0f ms)" % (
                row["config"], row["spikelab_ms"], 1.0 / row["vs_issue_fastest_python"],
                ISSUE_FASTEST_PYTHON[row["config"]]))
    if a.json:
        json.dump(dict(gemm_peaks=peaks, rows=summary), open(a.json, "w"), indent=1)


if __name__ == "__main__":
    sys.exit(main())
