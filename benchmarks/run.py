"""Speed and memory benchmarks: reference path vs fast path, side by side (issue 9).

    python benchmarks/run.py                 # all operations, paper sizes, 2 repeats each
    python benchmarks/run.py --quick         # smaller epoch (one batch of train + val)
    python benchmarks/run.py --compile       # also the torch.compile'd Sinkhorn (compile time reported apart)
    python benchmarks/run.py --only sinkhorn_d90 hmm_sample

Every measurement runs in a fresh subprocess, so the peak resident memory (VmHWM, whole process
including Python and torch, ≈ 250 MB) is that of the operation alone; the reference and fast paths alternate and each is repeated, and the table reports the
fastest repeat of each, their ratio and the peak memory.  Timings on a shared machine are noisy:
compare the ratio, not the absolute seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime

import numpy as np
import torch

# ---------------------------------------------------------------------------------------------
# reference implementations kept here only to be measured against


def reference_states(model, noise, h0=None):
    """NoiseRNN.states as first written (step loop, matmul + add + relu, stack)."""
    b, t_len, _ = noise.shape
    drive = noise @ model.U.T
    h = noise.new_zeros(b, model.hidden) if h0 is None else h0
    out = []
    wt = model.W.T
    for t in range(t_len):
        h = torch.relu(h @ wt + drive[:, t])
        out.append(h)
    return torch.stack(out, dim=1)


def reference_sample(hmm, n, length, rng):
    """One sequence at a time, one step at a time, as a library sampler walks the chain
    (cumulative rows compared with one uniform per draw, like hmmlearn's ``sample``)."""
    cum_s, cum_t, cum_e = np.cumsum(hmm.start), np.cumsum(hmm.transition, axis=1), np.cumsum(hmm.emission, axis=1)
    states = np.empty((n, length), dtype=np.int8)
    outputs = np.empty((n, length), dtype=np.int8)
    for i in range(n):
        s = int((cum_s > rng.random()).argmax())
        for t in range(length):
            if t:
                s = int((cum_t[s] > rng.random()).argmax())
            states[i, t] = s
            outputs[i, t] = (cum_e[s] > rng.random()).argmax()
    return states, outputs


# ---------------------------------------------------------------------------------------------
# operations (run inside a worker process)


def _clouds(b, t_len, seed=0):
    from rnnhmm.hmm import build_hmm
    from rnnhmm.model import NoiseRNN

    hmm = build_hmm("chain2", {"transitions": {"kind": "target_prob", "n_states": 2, "target": 0.05},
                               "emissions": {"kind": "linear"}})
    _, out = hmm.sample(b, t_len, np.random.default_rng(seed))
    y = torch.nn.functional.one_hot(torch.as_tensor(out, dtype=torch.long), 3).float().reshape(b, -1)
    g = torch.Generator().manual_seed(seed)
    model = NoiseRNN(150, 100, 3, generator=g)
    with torch.no_grad():
        x = model(torch.randn(b, t_len, 100, generator=g), torch.rand(b, t_len, 3, generator=g)).reshape(b, -1)
    return x, y


def _reset_peak_rss() -> None:
    """Linux: restart the process's peak-RSS counter (VmHWM), so the peak is that of what follows."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def _peak_rss_mb() -> float:
    try:
        with open("/proc/self/status") as f:
            return next(int(line.split()[1]) for line in f if line.startswith("VmHWM")) / 1024
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def op_sinkhorn(path, t_len, b=4096):
    from rnnhmm import sinkhorn

    x0, y = _clouds(b, t_len)
    _reset_peak_rss()  # the peak of the loss alone, not of making the clouds (an RNN forward pass)
    extra = {}
    backend, cached = path.removesuffix("-cached"), path.endswith("-cached")
    backend = {"reference": "geomloss"}.get(backend, backend)
    if backend == "compiled":
        t0 = time.perf_counter()
        fn = sinkhorn._compiled_softmin()
        extra["compile_s"] = round(time.perf_counter() - t0, 1)
        extra["compile"] = sinkhorn.COMPILE_INFO["status"]
        # the first full-size call may specialise once more: do it outside the timing
        x = x0.clone().requires_grad_()
        sinkhorn.sinkhorn_divergence(x, y, 0.2, 0.5, "compiled").backward()
        del fn
    loss_fn = sinkhorn.SinkhornLoss(0.2, 0.5, backend) if cached else None
    if cached:
        loss_fn(x0, y)  # fills the target-target cache, as the first epoch of a training does
    x = x0.clone().requires_grad_()
    t0 = time.perf_counter()
    loss = loss_fn(x, y) if cached else sinkhorn.sinkhorn_divergence(x, y, 0.2, 0.5, backend)
    loss.backward()
    dt = time.perf_counter() - t0
    np.save(os.environ["BENCH_OUT"] + ".npy", np.concatenate([[loss.item()], x.grad.numpy().ravel()]))
    return dt, extra


def op_rnn(path, t_len=30, b=4096):
    from rnnhmm.model import NoiseRNN

    g = torch.Generator().manual_seed(0)
    model = NoiseRNN(150, 100, 3, generator=g)
    noise, unif = torch.randn(b, t_len, 100, generator=g), torch.rand(b, t_len, 3, generator=g)
    if path == "reference":
        model.step_logits = lambda n: model.logits(reference_states(model, n))
    t0 = time.perf_counter()
    y = model(noise, unif)
    (y * torch.linspace(-1, 1, y.numel()).view_as(y)).sum().backward()
    return time.perf_counter() - t0, {}


def op_epoch(path, t_len, n_train, n_val):
    """One training epoch (train + validation passes) at paper settings: H 150, d 100, B 4096."""
    from rnnhmm import train as tr
    from rnnhmm.hmm import build_hmm
    from rnnhmm.model import NoiseRNN

    hmm = build_hmm("chain2", {"transitions": {"kind": "target_prob", "n_states": 2, "target": 0.05},
                               "emissions": {"kind": "linear"}})
    _, out = hmm.sample(n_train + n_val, t_len, np.random.default_rng(0))
    y_train, y_val = tr.one_hot_flat(out[:n_train], 3), tr.one_hot_flat(out[n_train:], 3)
    key = tr.ModelKey("chain2", 150, 100, 0, 1)
    backend = "geomloss" if path == "reference" else path
    cfg = tr.TrainConfig(epochs=2, batch_size=4096, clip=0.9, sinkhorn_backend=backend, device="cpu")
    model = NoiseRNN(150, 100, 3, generator=key.torch_gen("init"))
    if path == "reference":
        model.step_logits = lambda n: model.logits(reference_states(model, n))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.9))
    dev = torch.device("cpu")
    extra = {}
    if path == "compiled":  # compile before timing, report it apart
        t0 = time.perf_counter()
        from rnnhmm import sinkhorn

        sinkhorn._compiled_softmin()
        extra["compile_s"] = round(time.perf_counter() - t0, 1)
    # epoch 1 fills the target-term cache of the fast path (as every later epoch of a run finds it)
    # and lets the compiled kernels specialise; epoch 2 is timed
    if path != "reference":
        tr.run_epoch(model, y_train, key, cfg, 1, "train", opt, dev)
        tr.run_epoch(model, y_val, key, cfg, 1, "val", None, dev)
    t0 = time.perf_counter()
    tl, _ = tr.run_epoch(model, y_train, key, cfg, 2, "train", opt, dev)
    vl, _ = tr.run_epoch(model, y_val, key, cfg, 2, "val", None, dev)
    extra["train_loss"], extra["val_loss"] = round(tl, 6), round(vl, 6)
    return time.perf_counter() - t0, extra


def op_hmm_sample(path, n=30000, length=100):
    from rnnhmm.hmm import build_hmm

    hmm = build_hmm("chain2", {"transitions": {"kind": "target_prob", "n_states": 2, "target": 0.05},
                               "emissions": {"kind": "linear"}})
    rng = np.random.default_rng(0)
    if path == "reference":
        n = 3000  # the per-sequence loop is timed on a tenth and scaled (linear in n)
        t0 = time.perf_counter()
        reference_sample(hmm, n, length, rng)
        return (time.perf_counter() - t0) * 10, {"note": "timed on 3000 sequences, x10"}
    t0 = time.perf_counter()
    hmm.sample(n, length, rng)
    return time.perf_counter() - t0, {}


OPS = {
    "sinkhorn_d90": ("Sinkhorn fwd+bwd, B 4096, D 90 (T 30)", ["reference", "fast", "fast-cached"],
                     lambda p, a: op_sinkhorn(p, 30)),
    "sinkhorn_d300": ("Sinkhorn fwd+bwd, B 4096, D 300 (T 100)", ["reference", "fast", "fast-cached"],
                      lambda p, a: op_sinkhorn(p, 100)),
    "rnn_fwd_bwd": ("RNN fwd+bwd, B 4096, T 30, H 150, d 100", ["reference", "fast"], lambda p, a: op_rnn(p)),
    "epoch_t30": ("training epoch, T 30 (train+val)", ["reference", "fast"],
                  lambda p, a: op_epoch(p, 30, a.n_train, a.n_val)),
    "epoch_t100": ("training epoch, T 100 (train+val)", ["reference", "fast"],
                   lambda p, a: op_epoch(p, 100, a.n_train, a.n_val)),
    "hmm_sample": ("HMM sampling, 30000 x 100", ["reference", "fast"], lambda p, a: op_hmm_sample(p)),
}


def worker(op: str, path: str, args) -> None:
    base = _peak_rss_mb()
    dt, extra = OPS[op][2](path, args)
    print(json.dumps({"time_s": dt, "peak_mb": _peak_rss_mb(), "import_mb": base, **extra}))


# ---------------------------------------------------------------------------------------------
# driver


def run_one(op, path, args):
    out = f"/tmp/rnnhmm_bench_{os.getpid()}_{op}_{path}"
    env = {**os.environ, "BENCH_OUT": out}
    cmd = [sys.executable, __file__, "--worker", op, path, "--n-train", str(args.n_train), "--n-val", str(args.n_val)]
    if args.threads:
        cmd += ["--threads", str(args.threads)]
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if r.returncode != 0:
        raise RuntimeError(f"{op}/{path} failed:\n{r.stderr[-3000:]}")
    res = json.loads(r.stdout.strip().splitlines()[-1])
    if os.path.exists(out + ".npy"):
        res["_values"] = out + ".npy"
    return res


def compare_values(ref_file, fast_file):
    a, b = np.load(ref_file), np.load(fast_file)
    loss_rel = abs(a[0] - b[0]) / abs(a[0])
    grad_rel = np.linalg.norm(a[1:] - b[1:]) / np.linalg.norm(a[1:])
    return f"loss rel {loss_rel:.1e}, grad rel {grad_rel:.1e}"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", nargs="*", choices=list(OPS), help="operations to run (default: all)")
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--n-train", type=int, default=10000, help="training sequences of the epoch rows (paper: 10000)")
    ap.add_argument("--n-val", type=int, default=10000, help="validation sequences of the epoch rows (paper: 10000)")
    ap.add_argument("--quick", action="store_true", help="epoch rows on one batch each (4096 train + 4096 val)")
    ap.add_argument("--compile", action="store_true", help="also measure the torch.compile'd Sinkhorn backend")
    ap.add_argument("--threads", type=int, default=0, help="torch threads in the workers (default: torch's)")
    ap.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.worker:
        worker(*args.worker, args)
        return
    if args.quick:
        args.n_train = args.n_val = 4096
    ops = args.only or list(OPS)
    print(f"# rnnhmm benchmarks — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} CPUs, torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"load avg {os.getloadavg()[0]:.1f}")
    print(f"# epoch rows: {args.n_train} train + {args.n_val} validation sequences, B 4096, H 150, d 100")
    rows = []
    for op in ops:
        title, paths, _ = OPS[op]
        if args.compile and op.startswith("sinkhorn"):
            paths = [*paths, "compiled", "compiled-cached"]
        elif args.compile and op.startswith("epoch"):
            paths = [*paths, "compiled"]
        results = {p: [] for p in paths}
        for _ in range(args.repeats):
            for p in paths:  # interleaved: ref, fast, ref, fast, ...
                results[p].append(run_one(op, p, args))
                print(f"  {op:14s} {p:12s} {results[p][-1]['time_s']:8.3f} s  peak {results[p][-1]['peak_mb']:7.0f} MB",
                      file=sys.stderr, flush=True)
        ref = min(results["reference"], key=lambda r: r["time_s"])
        for p in paths[1:]:
            best = min(results[p], key=lambda r: r["time_s"])
            note = []
            if "_values" in ref and "_values" in best:
                note.append(compare_values(ref["_values"], best["_values"]))
            if "compile_s" in best:
                note.append(f"compile {best['compile_s']} s ({best.get('compile', 'ok')}), not in time")
            if "val_loss" in best:
                note.append(f"val loss ref {ref['val_loss']} / {best['val_loss']}")
            if "note" in ref:
                note.append("ref " + ref["note"])
            rows.append((title, p, ref["time_s"], best["time_s"], ref["time_s"] / best["time_s"],
                         ref["peak_mb"], best["peak_mb"], "; ".join(note)))
    print()
    print("| operation | fast path | reference s | fast s | ratio | peak MB ref | peak MB fast | notes |")
    print("|---|---|---:|---:|---:|---:|---:|---|")
    for r in rows:
        print(f"| {r[0]} | {r[1]} | {r[2]:.3f} | {r[3]:.3f} | {r[4]:.1f}x | {r[5]:.0f} | {r[6]:.0f} | {r[7]} |")


if __name__ == "__main__":
    main()
