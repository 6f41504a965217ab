#!/usr/bin/python3
"""Checks NIR files the way the reference `nir` package's reader (nir.read) would, with h5py only.

Usage: nir_check.py FILE...   Exit status 0 if every file passes, 1 otherwise.

For each file: /version is a string; /node is a NIRGraph whose every node has a `type` string and
exactly the datasets that nir.read passes to the node's constructor (Affine: weight, bias; LIF: tau,
r, v_leak, v_threshold [, v_reset]; ...); parameter shapes agree as the node constructors assert;
edges are pairs of existing node names; and the shapes along the edges match as
NIRGraph.check_types requires (Conv2d and Flatten output types inferred as nir does). Neuron
parameters are checked against the spikelab convention recorded in metadata/dt:
r == tau / dt (LIF, CubaLIF), r == 1 / dt (IF), w_in == tau_syn / dt (CubaLIF), v_leak == 0, tau > 0.
Pooling nodes (AvgPool2d, SumPool2d) store no shapes: their (C, H, W) input is the output of the
node before them, their output floor((H + 2 p - k) / s) + 1 per dimension, as torch computes it.
"""
import sys

import h5py
import numpy as np

# dataset names nir.read needs per node type (optional ones in the second set)
REQUIRED = {
    "Input": ({"shape"}, set()),
    "Output": ({"shape"}, set()),
    "Affine": ({"weight", "bias"}, set()),
    "Linear": ({"weight"}, set()),
    "LIF": ({"tau", "r", "v_leak", "v_threshold"}, {"v_reset"}),
    "CubaLIF": ({"tau_mem", "tau_syn", "r", "v_leak", "v_threshold", "w_in"}, {"v_reset"}),
    "LI": ({"tau", "r", "v_leak"}, set()),
    "IF": ({"r", "v_threshold"}, {"v_reset"}),
    "Conv2d": ({"weight", "stride", "padding", "dilation", "groups", "bias"}, {"input_shape"}),
    "Flatten": ({"start_dim", "end_dim"}, {"input_type"}),
    "AvgPool2d": ({"kernel_size", "stride", "padding"}, set()),
    "SumPool2d": ({"kernel_size", "stride", "padding"}, set()),
    "NIRGraph": ({"nodes", "edges"}, set()),
}


class Bad(Exception):
    pass


def text(ds):
    v = ds[()]
    if isinstance(v, bytes):
        return v.decode("utf8")
    if isinstance(v, str):
        return v
    raise Bad(f"{ds.name} is not a string")


def conv_out(size, pad, dil, k, stride):
    return (size + 2 * pad - dil * (k - 1) - 1) // stride + 1


def check_node(g, where, dt):
    """Returns (input shape, output shape) of the node as tuples."""
    if "type" not in g:
        raise Bad(f"{where}: no 'type'")
    t = text(g["type"])
    if t not in REQUIRED:
        raise Bad(f"{where}: unknown node type {t!r}")
    need, optional = REQUIRED[t]
    keys = set(g.keys()) - {"type", "metadata"}
    if not need <= keys:
        raise Bad(f"{where} ({t}): missing {sorted(need - keys)}")
    if not keys <= need | optional:
        raise Bad(f"{where} ({t}): unexpected {sorted(keys - need - optional)}")
    a = {k: g[k][()] for k in keys if isinstance(g[k], h5py.Dataset) and k != "edges"}
    if t in ("Input", "Output"):
        s = tuple(int(x) for x in np.atleast_1d(a["shape"]))
        return s, s
    if t == "Affine":
        w, b = a["weight"], a["bias"]
        if w.ndim != 2 or b.shape != (w.shape[0],):
            raise Bad(f"{where}: weight {w.shape} / bias {b.shape} do not fit")
        return (w.shape[1],), (w.shape[0],)
    if t == "Linear":
        w = a["weight"]
        if w.ndim != 2:
            raise Bad(f"{where}: weight must be 2-D")
        return (w.shape[1],), (w.shape[0],)
    if t in ("LIF", "CubaLIF", "LI", "IF"):
        shapes = {k: np.shape(v) for k, v in a.items()}
        if len(set(shapes.values())) != 1:
            raise Bad(f"{where}: parameters differ in shape {shapes}")
        taus = [a[k] for k in ("tau", "tau_mem", "tau_syn") if k in a]
        if any(np.any(~(x > 0)) for x in taus):
            raise Bad(f"{where}: a time constant is not positive")
        if "v_leak" in a and np.any(a["v_leak"] != 0):
            raise Bad(f"{where}: v_leak is not 0")
        if t in ("LIF", "CubaLIF"):
            tau = a["tau"] if t == "LIF" else a["tau_mem"]
            fin = np.isfinite(tau)
            if not np.allclose(a["r"][fin], tau[fin] / dt, rtol=1e-6):
                raise Bad(f"{where}: r is not tau/dt")
        if t == "IF" and not np.allclose(a["r"], 1.0 / dt, rtol=1e-6):
            raise Bad(f"{where}: r is not 1/dt")
        if t == "CubaLIF":
            fin = np.isfinite(a["tau_syn"])
            if not np.allclose(a["w_in"][fin], a["tau_syn"][fin] / dt, rtol=1e-6):
                raise Bad(f"{where}: w_in is not tau_syn/dt")
        s = shapes[next(iter(shapes))]
        return s, s
    if t == "Conv2d":
        w = a["weight"]
        if w.ndim != 4 or a["bias"].shape != (w.shape[0],):
            raise Bad(f"{where}: weight {w.shape} / bias do not fit")
        if "input_shape" not in a:
            raise Bad(f"{where}: no input_shape (spikelab always writes it)")
        h, wd = (int(x) for x in a["input_shape"])
        st, pd, dl = (np.broadcast_to(a[k], (2,)) for k in ("stride", "padding", "dilation"))
        out = (w.shape[0], conv_out(h, pd[0], dl[0], w.shape[2], st[0]), conv_out(wd, pd[1], dl[1], w.shape[3], st[1]))
        return (w.shape[1], h, wd), out
    if t == "Flatten":
        s = tuple(int(x) for x in a["input_type"])
        start, end = int(a["start_dim"]), int(a["end_dim"])
        end = end % len(s)
        out = s[:start] + (int(np.prod(s[start:end + 1])),) + s[end + 1:]
        return s, out
    if t in ("AvgPool2d", "SumPool2d"):
        k, st, pd = (np.broadcast_to(np.asarray(a[x]), (2,)).astype(int) for x in ("kernel_size", "stride", "padding"))
        if np.any(k < 1) or np.any(st < 1) or np.any(pd < 0):
            raise Bad(f"{where}: kernel_size, stride, padding must be positive / non-negative")
        return ("pool", k, st, pd), None  # shapes resolved from the node before it (check_graph)
    if t == "NIRGraph":
        return check_graph(g, where, dt)
    raise Bad(f"{where}: unhandled {t}")


def resolve_pools(io, edges, where):
    """Gives each pooling node the (C, H, W) output of its predecessor as input, and its output."""
    pending = {n for n, v in io.items() if v[1] is None}
    while pending:
        done = set()
        for a, b in edges:
            if b in pending and a not in pending:
                s = tuple(io[a][1])
                if len(s) != 3:
                    raise Bad(f"{where}/{b}: pooling input {s} is not C, H, W")
                _, k, st, pd = io[b][0]
                out = (s[0],) + tuple((s[i + 1] + 2 * pd[i] - k[i]) // st[i] + 1 for i in range(2))
                if min(out) < 1:
                    raise Bad(f"{where}/{b}: window does not fit {s}")
                io[b] = (s, out)
                done.add(b)
        if not done:
            raise Bad(f"{where}: pooling nodes {sorted(pending)} have no input shape")
        pending -= done


def check_graph(g, where, dt):
    nodes = g["nodes"]
    io = {name: check_node(nodes[name], f"{where}/{name}", dt) for name in nodes}
    edges = [(a.decode("utf8"), b.decode("utf8")) for a, b in g["edges"][()]]
    resolve_pools(io, edges, where)
    for a, b in edges:
        if a not in io or b not in io:
            raise Bad(f"{where}: edge ({a}, {b}) names a missing node")
        out_a, in_b = io[a][1], io[b][0]
        if tuple(out_a) != tuple(in_b):  # NIRGraph.check_types: np.array_equal
            raise Bad(f"{where}: type mismatch {a}.output {out_a} -> {b}.input {in_b}")
    inputs = [n for n in io if text(nodes[n]["type"]) == "Input"]
    outputs = [n for n in io if text(nodes[n]["type"]) == "Output"]
    if not inputs or not outputs:
        raise Bad(f"{where}: no Input or no Output node")
    reached, todo = set(inputs), list(inputs)
    while todo:
        n = todo.pop()
        for a, b in edges:
            if a == n and b not in reached:
                reached.add(b)
                todo.append(b)
    if reached != set(io):
        raise Bad(f"{where}: nodes not reachable from the input: {sorted(set(io) - reached)}")
    return io[inputs[0]][0], io[outputs[0]][1]


def check_file(path):
    with h5py.File(path, "r") as f:
        version = f["version"][()].decode("utf8")
        node = f["node"]
        if text(node["type"]) != "NIRGraph":
            raise Bad("/node is not a NIRGraph")
        dt = float(node["metadata/dt"][()]) if "metadata" in node and "dt" in node["metadata"] else 1e-3
        shapes = check_graph(node, "node", dt)
        print(f"NIR check OK: {path}: version {version}, {len(node['nodes'])} nodes, "
              f"{len(node['edges'])} edges, input {shapes[0]} -> output {shapes[1]}")


def main(paths):
    ok = True
    for p in paths:
        try:
            check_file(p)
        except (Bad, KeyError, ValueError) as e:
            print(f"NIR check FAILED: {p}: {e}")
            ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
