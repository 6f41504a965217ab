#!/usr/bin/env python3
"""(spikelab, docs/reproductions/na.md) Summarise the per-epoch CSV rows of spikelab-na-train: per rule, the best test accuracy over the
epochs up to E (the official code's figure) and the accuracy at epoch E, per seed and mean ± sd."""
import csv, statistics, sys
from collections import defaultdict

def load(path):
    rows = {}
    with open(path) as f:
        for r in csv.DictReader(f):
            rows[(r['rule'], int(r['seed']), int(r['epoch']))] = r  # a resumed run may repeat a row: keep the last
    return rows

def table(path, upto):
    rows = load(path)
    runs = defaultdict(dict)
    wall = defaultdict(dict)
    for (rule, seed, ep), r in rows.items():
        if ep <= upto:
            runs[(rule, seed)][ep] = 100 * float(r['test_accuracy'])
            wall[(rule, seed)][ep] = float(r['epoch_seconds'])
    order = ['surrogate', 'na-official', 'na-first-order', 'na-poster']
    out = [f'| rule | seeds | best test acc. over epochs 1-{upto} (mean ± sd) | per seed | test acc. at epoch {upto} (mean ± sd) | wall per run, min (mean) |',
           '|---|---|---|---|---|---|']
    for rule in order:
        seeds = sorted(s for (ru, s) in runs if ru == rule and len(runs[(ru, s)]) == upto)
        if not seeds:
            continue
        best = [max(runs[(rule, s)].values()) for s in seeds]
        last = [runs[(rule, s)][upto] for s in seeds]
        def ms(v):
            return f'{statistics.mean(v):.2f} ± {statistics.stdev(v):.2f}' if len(v) > 1 else f'{v[0]:.2f}'
        out.append(f'| {rule} | {len(seeds)} | {ms(best)} | ' + ', '.join(f'{b:.2f}' for b in best) + f' | {ms(last)} | '
                   + f'{statistics.mean(sum(wall[(rule, s)].values()) for s in seeds) / 60:.1f} |')
    return '\n'.join(out)

if __name__ == '__main__':
    print(table(sys.argv[1], int(sys.argv[2])))
