#!/usr/bin/python3
"""Side-by-side table of spikelab-bench and reference_torch.py results (JSON files of one run).

Times of every file of the same (implementation, config, target rate, mode) are pooled (several
rounds, interleaved config by config); the table shows medians and minima, and the ratios
spikelab / fastest PyTorch variant (the variant with the smaller median; "ratio" compares
medians, "ratio min" minima), spikelab / dense floor (the FLOPs of the dense matrix products at
the highest GEMM peak measured in the same run), and the step memory (peak RSS during the steps
over the RSS once network, data and optimizer exist). Streaming rows compare spikelab's
step-by-step forward (Sequential::forward_step over all T steps) with its whole-sequence forward.
"""
import argparse
import json
import statistics
import sys


def label(r):
    rate = r.get("rate") or 0.0
    return r["config"] if rate <= 0 else "%s@%g%%" % (r["config"], round(rate * 100, 3))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("files", nargs="+")
    ap.add_argument("--json", help="write the summary here")
    ap.add_argument("--markdown", help="also write the tables as Markdown here")
    a = ap.parse_args()
    runs, peaks = {}, {}
    for f in a.files:
        d = json.load(open(f))
        for kind, g in (d.get("gemm_peaks") or {}).items():
            peaks["torch.matmul (%s OpenBLAS)" % kind] = g
        if d.get("gemm_peak_gflops") and "gemm_peaks" not in d:
            peaks[d.get("gemm_impl", f)] = d["gemm_peak_gflops"]
        for r in d.get("results", []):
            rows = [(r["mode"], r["times_ms"], r["flops"])]
            if r.get("fwd_ms"):
                rows += [("fwd", r["fwd_ms"], r["flops_fwd"]), ("bwd", r["bwd_ms"], r["flops_bwd"])]
            for mode, times, flops in rows:
                k = (r["impl"], label(r), mode)
                e = runs.setdefault(k, dict(times=[], flops=flops, step=[], peak=[], density=r.get("densities"),
                                            rate=r.get("rate") or 0.0, config=r["config"]))
                e["times"] += times
                e["step"].append(r["peak_rss_mib"] - r["base_rss_mib"])
                e["peak"].append(r["peak_rss_mib"])
    peak = max(peaks.values()) if peaks else 0.0
    out = []
    md = []

    def emit(line=""):
        out.append(line)
        print(line)

    emit("GEMM peaks (sgemm 1024^2 and 2048^2, best of 1 s each, same run):")
    md.append("| GEMM | GFLOP/s |\n|---|---|")
    for name, g in sorted(peaks.items()):
        emit("  %-40s %7.1f GFLOP/s" % (name, g))
        md.append("| %s | %.1f |" % (name, g))
    ours = sorted({k[0] for k in runs if k[0].startswith("spikelab")})
    theirs = sorted({k[0] for k in runs if not k[0].startswith("spikelab")})
    keys = []
    for (impl, lab, mode) in runs:
        if (lab, mode) not in keys and mode != "stream":
            keys.append((lab, mode))
    med = lambda e: statistics.median(e["times"])
    lo = lambda e: min(e["times"])
    hdr = "%-13s %-5s %-15s %-14s %9s %9s" % ("config", "mode", "hidden density", "impl", "median", "min")
    for i in theirs:
        hdr += " %12s %9s" % (i, "min")
    hdr += " %7s %9s %8s %7s %8s" % ("ratio", "ratio min", "floor ms", "r:floor", "r:mem")
    emit()
    emit(hdr)
    md.append("")
    md.append("| config | mode | hidden density | spikelab ms (median / min) | " +
              " | ".join("%s ms (median / min)" % i for i in theirs) +
              " | spikelab / fastest PyTorch (medians / minima) | / dense floor at GEMM peak | step memory ratio |")
    md.append("|" + "---|" * (6 + len(theirs)))
    summary = []
    for lab, mode in keys:
        fastest = None
        for i in theirs:
            e = runs.get((i, lab, mode))
            if e and (fastest is None or med(e) < med(fastest[1])):
                fastest = (i, e)
        best_ours = None
        for our in ours:
            s = runs.get((our, lab, mode))
            if s and (best_ours is None or med(s) < med(best_ours[1])):
                best_ours = (our, s)
        for our in ours:
            s = runs.get((our, lab, mode))
            if s is None:
                continue
            dens = " ".join("%.3f" % x for x in (s["density"] or []))  # every LIF layer (ON: its output layer)
            line = "%-13s %-5s %-15s %-14s %9.2f %9.2f" % (lab, mode, dens or "-", our, med(s), lo(s))
            row = dict(impl=our, config=lab, mode=mode, ms=med(s), min=lo(s), densities=s["density"], flops=s["flops"])
            cells = []
            for i in theirs:
                e = runs.get((i, lab, mode))
                line += " %12.2f %9.2f" % (med(e), lo(e)) if e else " %12s %9s" % ("-", "-")
                cells.append("%.1f / %.1f" % (med(e), lo(e)) if e else "-")
                if e:
                    row[i + "_ms"], row[i + "_min"] = med(e), lo(e)
            if fastest:
                f = fastest[1]
                row.update(fastest=fastest[0], ratio=med(s) / med(f), ratio_min=lo(s) / min(lo(e) for e in
                           (runs.get((i, lab, mode)) for i in theirs) if e))
                line += " %7.3f %9.3f" % (row["ratio"], row["ratio_min"])
            else:
                line += " %7s %9s" % ("-", "-")
            fl = s["flops"] / (peak * 1e9) * 1e3 if peak else float("nan")
            row.update(floor_ms=fl, ratio_floor=med(s) / fl if peak else None, gemm_peak_gflops=peak)
            line += " %8.2f %7.3f" % (fl, med(s) / fl if peak else float("nan"))
            if fastest and mode in ("train", "infer"):
                row["ratio_mem"] = max(s["step"]) / max(fastest[1]["step"])
                line += " %8.3f" % row["ratio_mem"]
            emit(line)
            summary.append(row)
            if best_ours and best_ours[0] == our:
                md.append("| %s | %s | %s | %.1f / %.1f | %s | %s | %s | %s |" % (
                    lab, mode, dens or "-", med(s), lo(s), " | ".join(cells),
                    "**%.3f** / %.3f" % (row["ratio"], row["ratio_min"]) if fastest else "-",
                    "%.2f (%.1f ms)" % (row["ratio_floor"], fl) if peak else "-",
                    "%.2f" % row["ratio_mem"] if "ratio_mem" in row else "-"))
    emit("median, min: ms per step; ratio = spikelab / fastest PyTorch variant (medians; 'ratio min': minima);"
         " floor = dense products at %.1f GFLOP/s (the highest GEMM peak above); r:mem = step memory." % peak)
    # streaming against the whole-sequence forward
    stream = [(k, e) for k, e in runs.items() if k[2] == "stream"]
    if stream:
        emit()
        emit("%-13s %-14s %14s %14s %12s %12s" % ("config", "impl", "stream ms/seq", "infer ms/seq", "us per step",
                                                  "stream/infer"))
        md.append("")
        md.append("| config | impl | forward_step, all T steps (median / min ms) | whole-sequence forward (median / min ms) |"
                  " per step (µs, median) | stream / whole |")
        md.append("|---|---|---|---|---|---|")
        for (impl, lab, _), e in sorted(stream):
            inf = runs.get((impl, lab, "infer"))
            steps = {"SHD": 100, "NMNIST": 100, "ON512": 500, "ON4096": 500}.get(e["config"], 1)
            emit("%-13s %-14s %14.2f %14s %12.1f %12s" % (
                lab, impl, med(e), "%.2f" % med(inf) if inf else "-", med(e) / steps * 1e3,
                "%.2f" % (med(e) / med(inf)) if inf else "-"))
            md.append("| %s | %s | %.1f / %.1f | %s | %.0f | %s |" % (
                lab, impl, med(e), lo(e), "%.1f / %.1f" % (med(inf), lo(inf)) if inf else "-", med(e) / steps * 1e3,
                "%.2f" % (med(e) / med(inf)) if inf else "-"))
            summary.append(dict(impl=impl, config=lab, mode="stream", ms=med(e), min=lo(e),
                                infer_ms=med(inf) if inf else None, us_per_step=med(e) / steps * 1e3))
    if a.json:
        json.dump(dict(gemm_peaks=peaks, rows=summary), open(a.json, "w"), indent=1)
    if a.markdown:
        open(a.markdown, "w").write("\n".join(md) + "\n")


if __name__ == "__main__":
    sys.exit(main())
