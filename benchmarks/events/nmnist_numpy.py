#!/usr/bin/python3
"""Plain numpy decode of N-MNIST .bin/.bs2 files (the way tonic's read_mnist_file does it) and
binning into frames with np.bincount; the reference for bench_events. Prints key value lines.

usage: nmnist_numpy.py DIR REPEAT WINDOW_US STEPS
"""
import os
import sys
import time

import numpy as np

W = H = 34


def decode(path):
    raw = np.fromfile(path, dtype=np.uint8).astype(np.uint32)
    x = raw[0::5]
    y = raw[1::5]
    p = (raw[2::5] & 128) >> 7
    t = ((raw[2::5] & 127) << 16) | (raw[3::5] << 8) | raw[4::5]
    for i in np.where(y == 240)[0]:  # timestamp overflow markers (none in N-MNIST)
        t[i:] += 1 << 13
    keep = y != 240
    return x[keep], y[keep], p[keep], t[keep]


def frames(ev, window, steps):
    x, y, p, t = ev
    k = t // window
    m = k < steps
    flat = ((k[m] * 2 + p[m]) * H + y[m]) * W + x[m]
    return np.bincount(flat.astype(np.int64), minlength=steps * 2 * H * W)


def main():
    folder, repeat, window, steps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    files = sorted(os.path.join(folder, f) for f in os.listdir(folder) if f.endswith((".bs2", ".bin")))
    weights = np.arange(steps * 2 * H * W, dtype=np.int64) % 9973
    for f in files:  # warm the page cache
        decode(f)
    best_decode = best_frames = float("inf")
    events = checksum = 0
    for _ in range(repeat):
        t0 = time.perf_counter()
        n = 0
        for f in files:
            n += len(decode(f)[0])
        best_decode = min(best_decode, time.perf_counter() - t0)
        t0 = time.perf_counter()
        c = 0
        for f in files:
            c += int(frames(decode(f), window, steps) @ weights)
        best_frames = min(best_frames, time.perf_counter() - t0)
        events, checksum = n, c
    print("files", len(files))
    print("events", events)
    print("decode_seconds", best_decode)
    print("frames_seconds", best_frames)
    print("checksum", checksum)
    print("numpy", np.__version__)


if __name__ == "__main__":
    main()
