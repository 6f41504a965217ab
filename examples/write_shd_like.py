#!/usr/bin/env python3
"""Writes a tiny pair of files in the SHD layout (Cramer et al. 2020, as the HDF5 files are
distributed): /spikes/times (variable-length float16 seconds), /spikes/units (variable-length
uint16 channels 0..699), /labels (uint8), /extra/keys. Each class fires a band of channels at a
class-specific time, plus noise, so a network can learn it; it exists to run the example
trainers' SHD paths end to end in ctest (no SHD recording is distributed with spikelab).

usage: write_shd_like.py DIR [--train N] [--test N] [--classes C] [--seed S]
"""
import argparse
import os

import h5py
import numpy as np


def write(path, n, classes, rng):
    times, units, labels = [], [], []
    for i in range(n):
        c = i % classes
        # the class's band of 35 channels, firing around t = 0.1 + 0.04 c seconds
        band = rng.integers(35 * c % 700, 35 * c % 700 + 35, size=120)
        t_band = np.clip(rng.normal(0.1 + 0.04 * c, 0.02, size=band.size), 0.0, 1.3)
        noise_u = rng.integers(0, 700, size=60)
        noise_t = rng.uniform(0.0, 1.0, size=noise_u.size)
        t = np.concatenate([t_band, noise_t])
        u = np.concatenate([band, noise_u])
        order = np.argsort(t, kind="stable")
        times.append(t[order].astype(np.float16))
        units.append(u[order].astype(np.uint16))
        labels.append(c)
    with h5py.File(path, "w") as f:
        g = f.create_group("spikes")
        dt = g.create_dataset("times", (n,), dtype=h5py.vlen_dtype(np.float16))
        du = g.create_dataset("units", (n,), dtype=h5py.vlen_dtype(np.uint16))
        for i in range(n):
            dt[i] = times[i]
            du[i] = units[i]
        f.create_dataset("labels", data=np.array(labels, dtype=np.uint8))
        e = f.create_group("extra")
        e.create_dataset("keys", data=np.array([("digit-%d" % k).encode() for k in range(classes)]))
        e.create_dataset("speaker", data=np.zeros(n, dtype=np.uint8))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("dir")
    p.add_argument("--train", type=int, default=80)
    p.add_argument("--test", type=int, default=40)
    p.add_argument("--classes", type=int, default=4)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    os.makedirs(a.dir, exist_ok=True)
    rng = np.random.default_rng(a.seed)
    write(os.path.join(a.dir, "shd_train.h5"), a.train, a.classes, rng)
    write(os.path.join(a.dir, "shd_test.h5"), a.test, a.classes, rng)
    print("wrote", os.path.join(a.dir, "shd_train.h5"), "and shd_test.h5")


if __name__ == "__main__":
    main()
