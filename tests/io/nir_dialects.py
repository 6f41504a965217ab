#!/usr/bin/python3
"""NIR files as snnTorch's and Norse's exporters write them, and spikelab's dialect files read the
way their importers read them, with h5py and numpy only (neither snnTorch nor Norse is installed).

Usage:
  nir_dialects.py write DIR
      Writes DIR/snntorch_mlp.nir, DIR/snntorch_rleaky.nir and DIR/norse_mlp.nir field by field
      as the exporters below write them, each with DIR/<name>.expected.h5: `input` (T x in, one
      sample) and `output` (T x out), the output of the network that the tool's importer builds
      from the file, simulated here with the update equations of the tool's modules.
  nir_dialects.py check snntorch|norse FILE SIDE
      Reads FILE (written by spikelab's write_nir in that dialect) as the tool's importer would:
      checks that every node type has a mapping, derives each neuron node's beta, alpha and
      threshold (in spikelab's units: input gain 1) as the importer does and compares them with
      SIDE's params/<node>/{beta,alpha,threshold} (the values of spikelab's network), then
      simulates the importer's network on SIDE's `input` and compares with SIDE's `output`.
  Exit status 0 when everything agrees, 1 otherwise.

The sources followed (read, not copied):
  snnTorch  jeshraghian/snntorch @ 634fc22385ec5581998e62787bbe39b53662140f
            snntorch/export_nir.py  _extract_snntorch_module: Linear -> Affine / Linear (l. 85-92),
              Leaky -> LIF (l. 67-83), Synaptic -> CubaLIF (l. 94-117), RLeaky -> a subgraph
              (l. 119-166) that nirtorch.extract_nir_graph flattens into the top graph as
              "<name>.lif" / "<name>.w_rec" (NIRTorch nirtorch/to_nir.py; tests/test_nir.py
              test_export_rleaky shows the node names and edges); dt = 1e-4 s hard-coded.
            snntorch/import_nir.py  _nir_to_snntorch_module: LIF (l. 242-276), CubaLIF (l. 278-319),
              IF (l. 226-240), reset_mechanism "zero", reset_delay False, dt = 1e-4 s; node_map
              (l. 510-519) merged with nirtorch's DEFAULT_MAP (NIRTorch nirtorch/nir_interpreter.py
              @ 2604ce2, which also maps Input, Output, Conv1d, SumPool2d).
            snntorch/_neurons/leaky.py, synaptic.py, rleaky.py: the update equations.
  Norse     norse/norse @ 065a3b45cf13bc8156d18987380f6d26c09f08a2
            norse/torch/utils/export_nir.py  _norse_to_nir_mapping_dict (l. 29-116):
              LIFBoxCell -> LIF, LIFCell -> CubaLIF, LIBoxCell -> LI, IAFCell -> IF, r = w_in = 1,
              tau = time_scaling_factor / tau_mem_inv (factor 1); node names as
              norse/torch/utils/test/test_nir_export.py shows ("input_tensor", "_0", ...).
            norse/torch/utils/import_nir.py  _nir_to_norse_mapping_dict (l. 58-176): LIF ->
              LIFBoxCell and LI -> LIBoxCell ignoring r, IF -> IAFCell(v_th), CubaLIF -> w_in,
              LIBoxCell synapse, r, LIFBoxCell; dt = 1e-3 s (from_nir's default).
            norse/torch/functional/lif_box.py, leaky_integrator_box.py, iaf.py, reset.py,
              heaviside.py: the update equations (spike when v - v_th > 0).
"""
import sys

import h5py
import numpy as np

SNN_DT = 1e-4  # snntorch/export_nir.py l. 68 and import_nir.py l. 243
NORSE_DT = 1e-3  # norse/torch/utils/import_nir.py from_nir(dt=0.001)
NEURONS = ("LIF", "CubaLIF", "IF", "LI")


class Bad(Exception):
    pass


# ---------------------------------------------------------------- writing files as nir.write does
def write_graph(path, nodes, edges):
    """nir.write (nir/serialization.py): /version, /node with type, nodes/, edges (strings)."""
    with h5py.File(path, "w") as f:
        f.create_dataset("version", data="1.0.0", dtype=h5py.string_dtype())
        write_node(f.create_group("node"), {"type": "NIRGraph", "nodes": nodes, "edges": edges})


def write_node(group, node):
    for k, v in node.items():
        if k == "nodes":
            sub = group.create_group("nodes")
            for name, n in v.items():
                write_node(sub.create_group(name), n)
        elif k == "edges":
            group.create_dataset("edges", data=np.array(v, dtype=object), dtype=h5py.string_dtype())
        elif isinstance(v, str):
            group.create_dataset(k, data=v, dtype=h5py.string_dtype())
        else:
            group.create_dataset(k, data=v)


def chain(names):
    return [(a, b) for a, b in zip(names, names[1:])]


# ------------------------------------------------------------------------------ the two simulators
class SnnTorchNet:
    """What snnTorch's import_from_nir builds (through nirtorch's interpreter): Linear modules,
    snn.Leaky / snn.Synaptic with reset_mechanism "zero" and reset_delay False, and a recurrent
    subgraph whose neuron gets its input plus the projection of its previous spikes."""

    def __init__(self, layers):
        self.layers = layers  # list of (kind, params)

    def run(self, x):
        state = [None] * len(self.layers)
        self.spikes = [0] * len(self.layers)  # per layer, to show that the fixture is active
        out = []
        for xt in x:
            h = xt
            for i, (kind, p) in enumerate(self.layers):
                if kind == "dense":
                    h = p["w"] @ h + p["b"]
                else:
                    h, state[i] = snn_neuron_step(p, h, state[i])
                    self.spikes[i] += int(h.sum())
            out.append(h)
        return np.array(out)


def snn_neuron_step(p, x, s):
    """snntorch/_neurons/leaky.py forward / synaptic.py forward with reset zero, reset_delay False;
    rleaky.py _base_state_function adds recurrent(spk) of the previous step."""
    n = len(p["beta"])
    mem, syn, spk = (np.zeros(n), np.zeros(n), np.zeros(n)) if s is None else s
    beta = np.clip(p["beta"], 0, 1)
    if "w_rec" in p:
        x = x + p["w_rec"] @ spk
    reset = (mem - p["thr"] > 0).astype(float)  # mem_reset: heaviside(mem - threshold)
    if "alpha" in p:
        syn = np.clip(p["alpha"], 0, 1) * syn + x
        cur = syn
    else:
        cur = x
    mem = (1 - reset) * mem if "alpha" not in p else mem  # _base_zero (Leaky); Synaptic below
    new = beta * mem + cur
    if "alpha" in p:
        new = new - reset * new  # synaptic.py _base_zero: mem -= mem2 * reset
    spk = (new - p["thr"] > 0).astype(float)
    do_reset = spk - reset  # reset_delay False: avoid double reset
    new = new - do_reset * new
    return spk, (new, syn, spk)


class NorseNet:
    """What Norse's from_nir builds: Linear modules, LIFBoxCell, the CubaLIF wrapper (w_in,
    LIBoxCell synapse, r, LIFBoxCell), IAFCell, LIBoxCell, all with dt = 1e-3 s and v_reset 0."""

    def __init__(self, layers, dt=NORSE_DT):
        self.layers, self.dt = layers, dt

    def run(self, x):
        state = [None] * len(self.layers)
        self.spikes = [0] * len(self.layers)
        out = []
        for xt in x:
            h = xt
            for i, (kind, p) in enumerate(self.layers):
                if kind == "dense":
                    h = p["w"] @ h + p["b"]
                    continue
                n = len(p["v_th"]) if "v_th" in p else len(p["tau"])
                v, syn, z = (np.zeros(n), np.zeros(n), np.zeros(n)) if state[i] is None else state[i]
                if "w_rec" in p:
                    h = h + p["w_rec"] @ z
                if kind == "IF":  # functional/iaf.py iaf_feed_forward_step
                    v = v + h
                elif kind == "LI":  # leaky_integrator_box.py li_box_feed_forward_step
                    v = v + self.dt / p["tau"] * ((0 - v) + h)
                    state[i] = (v, syn, z)
                    h = v.copy()
                    continue
                else:
                    if kind == "CubaLIF":  # import_nir.py CubaLIF.forward
                        syn = syn + self.dt / p["tau_syn"] * ((0 - syn) + p["w_in"] * h)
                        h = p["r"] * syn
                    v = v + self.dt / p["tau"] * (h + 0 - v)  # lif_box_feed_forward_step
                z = (v - p["v_th"] > 0).astype(float)
                v = (1 - z) * v + z * 0.0  # reset_value with v_reset = 0
                state[i] = (v, syn, z)
                h = z
                self.spikes[i] += int(z.sum())
            out.append(h)
        return np.array(out)


# ------------------------------------------------------------------------------------ the fixtures
def f32(a):
    return np.asarray(a, dtype=np.float32)


def snntorch_leaky(beta, thr):
    """export_nir.py l. 67-83 (beta, threshold: float32 tensors of the layer's size)."""
    dt = 1e-4
    beta, vthr = f32(beta), f32(thr)
    tau_mem = dt / (1 - beta)
    r = tau_mem / dt
    v_leak = np.zeros_like(beta)
    return {"type": "LIF", "tau": tau_mem, "v_threshold": vthr, "v_leak": v_leak, "r": r,
            "v_reset": np.zeros_like(vthr)}


def snntorch_synaptic(alpha, beta, thr):
    """export_nir.py l. 94-117."""
    dt = 1e-4
    alpha, beta, vthr = f32(alpha), f32(beta), f32(thr)
    tau_syn = dt / (1 - alpha)
    tau_mem = dt / (1 - beta)
    r = tau_mem / dt
    v_leak = np.zeros_like(beta)
    w_in = tau_syn / dt
    return {"type": "CubaLIF", "tau_syn": tau_syn, "tau_mem": tau_mem, "v_threshold": vthr, "v_leak": v_leak,
            "r": r, "w_in": w_in, "v_reset": np.zeros_like(vthr)}


def snntorch_rleaky(beta, thr, n):
    """export_nir.py l. 136-156: beta and threshold broadcast to n neurons (float64)."""
    dt = 1e-4
    beta = np.ones(n) * f32(beta)
    vthr = np.ones(n) * f32(thr)
    tau_mem = dt / (1 - beta)
    r = tau_mem / dt
    v_leak = np.zeros_like(beta)
    return {"type": "LIF", "v_threshold": vthr, "tau": tau_mem, "r": r, "v_leak": v_leak,
            "v_reset": np.zeros_like(vthr)}


def dense(rng, n_out, n_in, scale, bias=True, mean=0.0):
    w = f32(rng.normal(mean, scale, (n_out, n_in)))
    b = f32(rng.normal(0, 0.1, n_out)) if bias else None
    node = {"type": "Affine", "weight": w, "bias": b} if bias else {"type": "Linear", "weight": w}
    return node, {"w": w.astype(float), "b": b.astype(float) if bias else np.zeros(n_out)}


def snn_params(node, w_rec=None):
    """The parameters import_from_nir derives (import_nir.py l. 242-319), as float64."""
    dt = SNN_DT
    if node["type"] == "LIF":
        tau, r = node["tau"].astype(float), node["r"].astype(float)
        beta = 1 - dt / tau
        vthr = node["v_threshold"].astype(float)
        w_scale = r * dt / tau
        if not np.allclose(w_scale, 1.0):
            vthr = vthr / np.unique(w_scale)[0]
        if np.unique(vthr).size != 1:
            raise Bad(f"LIF v_thr must be same for all neurons: {vthr}")
        p = {"beta": beta, "thr": np.unique(vthr)[0] * np.ones_like(beta)}
    elif node["type"] == "CubaLIF":
        tau_mem, tau_syn = node["tau_mem"].astype(float), node["tau_syn"].astype(float)
        if not np.allclose(node["r"], tau_mem / dt):
            raise Bad("r not supported in CubaLIF")
        alpha, beta = 1 - dt / tau_syn, 1 - dt / tau_mem
        vthr = node["v_threshold"].astype(float)
        w_scale = node["w_in"] * (dt / tau_syn)
        if not np.allclose(w_scale, 1.0):
            vthr = vthr / w_scale
        if np.unique(vthr).size != 1:
            raise Bad(f"CubaLIF v_thr must be same for all neurons: {vthr}")
        p = {"alpha": alpha, "beta": beta, "thr": np.unique(vthr)[0] * np.ones_like(beta)}
    else:
        raise Bad(f"snnTorch's import_from_nir reads {node['type']} as no spikelab neuron")
    if not np.allclose(node["v_leak"], 0.0):
        raise Bad("v_leak not supported")
    if w_rec is not None:
        p["w_rec"] = w_rec
    return p


def write_snntorch(out, rng, steps):
    # torch.nn.Sequential(Linear(6, 5), Leaky(beta, threshold), Linear(5, 4, bias=False),
    # Synaptic(alpha, beta, threshold), Linear(4, 3), Leaky(beta, threshold)) with per-neuron beta
    # tensors as snnTorch's tests/test_nir.py builds them, reset_mechanism="zero" (what the
    # importer builds; the exporter writes v_reset = 0 whatever the reset) and reset_delay=False.
    a0, p0 = dense(rng, 5, 6, 1.2)
    l1 = snntorch_leaky([0.9, 0.8, 0.95, 0.85, 0.7], [0.8] * 5)
    a2, p2 = dense(rng, 4, 5, 1.0, bias=False)
    l3 = snntorch_synaptic([0.6] * 4, [0.85, 0.9, 0.8, 0.75], [0.7] * 4)
    a4, p4 = dense(rng, 3, 4, 1.5)
    l5 = snntorch_leaky([0.9, 0.9, 0.8], [0.5] * 3)
    nodes = {"input": {"type": "Input", "shape": np.array([6])}, "0": a0, "1": l1, "2": a2, "3": l3, "4": a4,
             "5": l5, "output": {"type": "Output", "shape": np.array([3])}}
    edges = chain(["input", "0", "1", "2", "3", "4", "5", "output"])
    edges = [edges[i] for i in (3, 0, 6, 2, 5, 1, 4)]  # nirtorch stores list(set(edges)): no order
    write_graph(f"{out}/snntorch_mlp.nir", nodes, edges)
    net = SnnTorchNet([("dense", p0), ("lif", snn_params(l1)), ("dense", p2), ("lif", snn_params(l3)),
                       ("dense", p4), ("lif", snn_params(l5))])
    write_expected(f"{out}/snntorch_mlp.expected.h5", net, rng, 6, steps)

    # Sequential(Linear(6, 5), RLeaky(beta, threshold, V, all_to_all=False), Linear(5, 3), Leaky):
    # the RLeaky's subgraph flattened into "1.lif" / "1.w_rec" (its V as a diagonal Linear)
    a0, p0 = dense(rng, 5, 6, 1.0, mean=0.3)
    v = f32(rng.normal(0, 0.8, 5))
    rec = {"type": "Linear", "weight": np.diag(v)}
    lif = snntorch_rleaky(0.9, 0.4, 5)
    a2, p2 = dense(rng, 3, 5, 1.0, mean=0.3)
    l3 = snntorch_leaky([0.9, 0.85, 0.8], [0.3] * 3)
    nodes = {"input": {"type": "Input", "shape": np.array([6])}, "0": a0, "1.lif": lif, "1.w_rec": rec, "2": a2,
             "3": l3, "output": {"type": "Output", "shape": np.array([3])}}
    edges = [("1.lif", "1.w_rec"), ("1.w_rec", "1.lif"), ("0", "1.lif"), ("3", "output"), ("2", "3"),
             ("input", "0"), ("1.lif", "2")]  # as tests/test_nir.py test_export_rleaky lists them
    write_graph(f"{out}/snntorch_rleaky.nir", nodes, edges)
    net = SnnTorchNet([("dense", p0), ("lif", snn_params(lif, np.diag(v).astype(float))), ("dense", p2),
                       ("lif", snn_params(l3))])
    write_expected(f"{out}/snntorch_rleaky.expected.h5", net, rng, 6, steps)


def write_norse(out, rng, steps):
    # SequentialState(Linear(6, 5), LIFBoxCell(tau_mem_inv=100, v_th=0.3), Linear(5, 4),
    # LIFCell(tau_mem_inv per neuron, tau_syn_inv=200, v_th=0.03, v_leak=zeros(4)), Linear(4, 4),
    # IAFCell(v_th per neuron), Linear(4, 3), LIBoxCell(tau_mem_inv=50)), exported with
    # time_scaling_factor = 1. Scalar parameters stay 0-d (_align_shapes repeats a one-element
    # tensor to the shape of tau_mem_inv, here ()); LIFCell's v_leak has the neurons' shape because
    # r and w_in are np.ones_like(v_leak) and nir.CubaLIF asserts equal shapes. The expected output
    # is that of the network from_nir builds (its CubaLIF takes the input with gain dt / tau_syn,
    # Norse's LIFCell with gain 1: docs/nir.md).
    def lif_box(tau_mem_inv, v_th, v_leak=0.0, v_reset=0.0):  # export_nir.py l. 67-78
        return {"type": "LIF", "tau": 1 / f32(tau_mem_inv), "v_threshold": f32(v_th), "v_leak": f32(v_leak),
                "r": np.ones_like(f32(v_leak)), "v_reset": f32(v_reset)}

    def lif_cell(tau_mem_inv, tau_syn_inv, v_th, v_leak):  # export_nir.py l. 47-63
        shape = f32(tau_mem_inv).shape
        align = lambda a: np.broadcast_to(f32(a), shape).copy() if f32(a).size == 1 else f32(a)  # noqa: E731
        return {"type": "CubaLIF", "tau_mem": 1 / align(tau_mem_inv), "tau_syn": 1 / align(tau_syn_inv),
                "v_reset": align(0.0), "v_threshold": align(v_th), "v_leak": align(v_leak),
                "r": np.ones_like(f32(v_leak)), "w_in": np.ones_like(f32(v_leak))}

    def iaf(v_th):  # export_nir.py l. 95-102
        return {"type": "IF", "r": np.ones_like(f32(v_th)), "v_threshold": f32(v_th),
                "v_reset": np.zeros_like(f32(v_th))}

    def li_box(tau_mem_inv):  # export_nir.py l. 82-91
        return {"type": "LI", "tau": 1 / f32(tau_mem_inv), "v_leak": f32(0.0), "r": np.ones_like(f32(0.0))}

    a0, p0 = dense(rng, 5, 6, 1.2)
    n1 = lif_box(100.0, 0.3)
    a2, p2 = dense(rng, 4, 5, 3.0)
    n3 = lif_cell([100.0, 120.0, 80.0, 150.0], 200.0, 0.03, [0.0] * 4)
    a4, p4 = dense(rng, 4, 4, 2.0)
    n5 = iaf([0.5, 0.4, 0.6, 0.45])
    a6, p6 = dense(rng, 3, 4, 1.0)
    n7 = li_box(50.0)
    names = ["input_tensor", "_0", "_1", "_2", "_3", "_4", "_5", "_6", "_7", "output"]
    nodes = dict(zip(names, [{"type": "Input", "shape": np.array([6])}, a0, n1, a2, n3, a4, n5, a6, n7,
                             {"type": "Output", "shape": np.array([3])}]))
    write_graph(f"{out}/norse_mlp.nir", nodes, chain(names))
    net = NorseNet([("dense", p0), norse_layer(n1, 5), ("dense", p2), norse_layer(n3, 4), ("dense", p4),
                    norse_layer(n5, 4), ("dense", p6), norse_layer(n7, 3)])
    write_expected(f"{out}/norse_mlp.expected.h5", net, rng, 6, steps)


def norse_layer(node, n, w_rec=None):
    """The module from_nir builds (import_nir.py l. 98-155) as simulator parameters: r of LIF, LI
    and IF ignored; v_reset not passed (0)."""
    t = node["type"]
    full = lambda k: np.broadcast_to(np.asarray(node[k], dtype=float), (n,)).copy()  # noqa: E731
    if t == "LI":
        p = {"tau": full("tau")}
    elif t == "IF":
        p = {"v_th": full("v_threshold")}
    elif t == "LIF":
        p = {"tau": full("tau"), "v_th": full("v_threshold")}
    elif t == "CubaLIF":
        p = {"tau": full("tau_mem"), "tau_syn": full("tau_syn"), "r": full("r"), "w_in": full("w_in"),
             "v_th": full("v_threshold")}
    else:
        raise Bad(f"not a neuron: {t}")
    if "v_leak" in node and not np.allclose(node["v_leak"], 0):
        raise Bad("v_leak other than 0 is not simulated here")
    if w_rec is not None:
        p["w_rec"] = w_rec
    return t, p


def norse_spikelab_params(kind, p, dt):
    """beta, alpha and threshold in spikelab's units (input gain 1) of a Norse module."""
    if kind == "IF":
        return {"beta": np.ones_like(p["v_th"]), "threshold": p["v_th"]}
    if kind == "LI":
        return {"beta": 1 - dt / p["tau"]}
    gain = dt / p["tau"]
    out = {"beta": 1 - dt / p["tau"]}
    if kind == "CubaLIF":
        gain = gain * (dt / p["tau_syn"]) * p["r"] * p["w_in"]
        out["alpha"] = 1 - dt / p["tau_syn"]
    out["threshold"] = p["v_th"] / gain
    return out


def write_expected(path, net, rng, n_in, steps):
    x = (rng.random((steps, n_in)) < 0.4).astype(float)
    y = net.run(x)
    print(f"{path}: spikes per layer {[s for (k, _), s in zip(net.layers, net.spikes) if k != 'dense']}")
    with h5py.File(path, "w") as f:
        f.create_dataset("input", data=x)
        f.create_dataset("output", data=y)


# ------------------------------------------------------------------------ reading spikelab's files
def read_node(g):
    d = {}
    for k, v in g.items():
        if k in ("nodes", "metadata"):
            continue
        val = v[()]
        d[k] = val.decode() if isinstance(val, bytes) else val
    if d.get("type") == "NIRGraph":
        d["nodes"] = {k: read_node(n) for k, n in g["nodes"].items()}
        d["edges"] = [(a.decode(), b.decode()) for a, b in g["edges"][()]]
    return d


def order(graph):
    """The chain of a sequential graph (the importers follow the edges; spikelab writes chains)."""
    nxt = dict(graph["edges"])
    start = next(k for k, n in graph["nodes"].items() if n["type"] == "Input")
    names = [start]
    while names[-1] in nxt:
        names.append(nxt[names[-1]])
    return names[1:-1]


SNN_TYPES = {"Affine", "Linear", "Conv2d", "Flatten", "AvgPool2d", "IF", "LIF", "CubaLIF",  # node_map
             "Input", "Output", "Conv1d", "SumPool2d", "NIRGraph"}  # nirtorch DEFAULT_MAP, subgraphs
NORSE_TYPES = {"Affine", "Conv2d", "Flatten", "IF", "LI", "CubaLIF", "LIF", "SumPool2d",
               "Input", "Output", "Conv1d", "Linear", "AvgPool2d", "NIRGraph"}


def importer_layers(tool, graph, dt):
    """The chain of (kind, params, node path) that the tool's importer builds from the graph."""
    allowed = SNN_TYPES if tool == "snntorch" else NORSE_TYPES
    layers = []
    inputs = [n for n in graph["nodes"].values() if n["type"] == "Input"]
    width = int(np.prod(inputs[0]["shape"])) if inputs else 0  # features of the current activation
    for name in order(graph):
        node = graph["nodes"][name]
        t = node["type"]
        if t not in allowed:
            raise Bad(f"{name}: {tool}'s importer has no mapping for {t}")
        w_rec, path = None, name
        if t == "NIRGraph":  # input -> neuron -> output with the loop neuron -> w_rec -> neuron
            sub = node["nodes"]
            lif = next(k for k, n in sub.items() if n["type"] in NEURONS)
            rec = next(k for k, n in sub.items() if n["type"] in ("Linear", "Affine"))
            if (lif, rec) not in node["edges"] or (rec, lif) not in node["edges"]:
                raise Bad(f"{name}: no recurrent loop")
            w_rec, node, path = sub[rec]["weight"].astype(float), sub[lif], f"{name}/{lif}"
            t = node["type"]
        if t in ("Affine", "Linear"):
            w = node["weight"].astype(float)
            b = node["bias"].astype(float) if t == "Affine" else np.zeros(w.shape[0])
            layers.append(("dense", {"w": w, "b": b}, path))
            width = w.shape[0]
        elif tool == "snntorch":
            layers.append(("lif", snn_params(node, w_rec), path))
        else:
            n = max(int(np.size(node["v_threshold"] if "v_threshold" in node else node["tau"])), width)
            kind, p = norse_layer(node, n, w_rec)
            layers.append((kind, p, path))
    return layers


def check(tool, path, side):
    with h5py.File(path, "r") as f:
        graph = read_node(f["node"])
        dt = float(f["node/metadata/dt"][()]) if "metadata/dt" in f["node"] else NORSE_DT
    if tool == "snntorch":
        dt = SNN_DT  # import_from_nir ignores the file's dt
    layers = importer_layers(tool, graph, dt)
    with h5py.File(side, "r") as s:
        x, want = s["input"][()], s["output"][()]
        params = {k: {q: v[()] for q, v in g.items()} for k, g in s["params"].items()}
    seen = set()
    for kind, p, where in layers:
        if kind == "dense":
            continue
        key = where.replace("/", ".")
        seen.add(key)
        if key not in params:
            raise Bad(f"{where}: no spikelab parameters in {side}")
        if tool == "snntorch":
            got = {"beta": p["beta"], "threshold": p["thr"]}
            if "alpha" in p:
                got["alpha"] = p["alpha"]
        else:
            got = norse_spikelab_params(kind, p, dt)
        for q, v in got.items():
            if q not in params[key] or not np.allclose(v, params[key][q], rtol=1e-9, atol=1e-12):
                raise Bad(f"{where}: {tool}'s importer derives {q} = {v}, spikelab has {params[key].get(q)}")
    if seen != set(params):
        raise Bad(f"neuron nodes {sorted(seen)} but spikelab parameters for {sorted(params)}")
    net = (SnnTorchNet if tool == "snntorch" else NorseNet)([(k, p) for k, p, _ in layers])
    if tool == "norse":
        net.dt = dt
    got = net.run(x)
    if got.shape != want.shape or not np.allclose(got, want, rtol=1e-9, atol=1e-9):
        bad = np.argwhere(~np.isclose(got, want, rtol=1e-9, atol=1e-9)) if got.shape == want.shape else "shape"
        raise Bad(f"{tool}'s network gives other outputs than spikelab's (first differences at {bad[:5]})")
    print(f"NIR {tool} check OK: {path}: {len(layers)} layers, {x.shape[0]} steps agree")


def main(argv):
    try:
        if len(argv) == 2 and argv[0] == "write":
            rng = np.random.default_rng(2024)
            write_snntorch(argv[1], rng, 40)
            write_norse(argv[1], rng, 40)
            print(f"NIR dialect fixtures written to {argv[1]}")
        elif len(argv) == 4 and argv[0] == "check" and argv[1] in ("snntorch", "norse"):
            check(argv[1], argv[2], argv[3])
        else:
            print(__doc__)
            return 2
    except (Bad, KeyError, ValueError, StopIteration) as e:
        print(f"NIR dialect check FAILED: {e!r}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
