"""Benchmark of foldopt.torch.OPFLayer (doc/benchmarks.md "Python layers"): per-sample time
of the forward pass (solves) and of the backward pass (one VJP per sample on the forward's
factorization) for a batch of B samples, against the same work through the C API alone
(bench_opf_samples), and peak memory; medians of RUNS runs, each in a fresh process.

    bench_opf_layer.py [--case CASES] [--batch B] [--runs RUNS] BENCH_OPF_SAMPLES PGLIB_DIR

    bench_opf_layer.py --workers [--case CASES] [--batch B] [--runs RUNS] PGLIB_DIR
    forward + backward of one batch on 1 and 2 worker processes (OPFLayer(workers=k)) and
    in-process, then the forward pass of a second batch (loads x 1.01) warm-started from
    the first, each run in a fresh process, the configurations interleaved run by run; wall
    and CPU seconds per sample, peak memory per worker, load.

CASES: PGLib names, comma-separated (default case118_ieee,case1354_pegase); B: samples per
batch (default 64, the issue's; smaller for quick runs); RUNS: default 3."""
import argparse
import os
import resource
import statistics
import subprocess
import sys
import time


def loads(case, B):
    import numpy as np
    pd0 = case.params("pd")
    k = np.arange(B)[:, None]
    i = np.arange(case.n_bus)[None, :]
    return pd0 * (1 + 0.05 * np.sin(7.1 * k + 1.3 * i))  # as bench_opf_samples.c


def one_run(path, B):
    """Forward and backward seconds per sample (cold starts, as the C program), a warm
    batch's forward, peak MB of this process (before the workers), the shares outside the
    library, and forward / backward per sample on 1 and 2 worker processes."""
    import torch
    import foldopt.opf as opf
    from foldopt.torch import OPFLayer
    case = opf.OPF(path)
    pd = torch.tensor(loads(case, B), requires_grad=True)
    layer = OPFLayer(case, wrt="pd", outputs="pg", warm_start=False)
    t0 = time.perf_counter()
    pg = layer(pd)
    t1 = time.perf_counter()
    pg.sum().backward()
    t2 = time.perf_counter()
    sols = layer.last_solutions
    ok = sum(s.converged for s in sols)
    # time inside the library (its own clocks): the rest is the Python layer's overhead,
    # measured in the same run, so that the machine's load does not blur it
    lib_fwd = sum(s.info["total_seconds"] for s in sols)
    lib_bwd = sum(s.last_backward["seconds"] for s in sols if s.last_backward)
    warm = OPFLayer(case, wrt="pd", outputs="pg", warm_start=True)
    warm(pd.detach())
    t3 = time.perf_counter()
    warm(pd.detach() * 1.01)
    t4 = time.perf_counter()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    fields = [(t1 - t0) / B, (t2 - t1) / B, (t4 - t3) / B, peak, ok,
              (t1 - t0 - lib_fwd) / (t1 - t0), (t2 - t1 - lib_bwd) / (t2 - t1)]
    for workers in (1, 2):  # the scenario engine: forward and backward per sample
        layer = OPFLayer(case, wrt="pd", outputs="pg", workers=workers)
        pdw = pd.detach().clone().requires_grad_(True)
        t5 = time.perf_counter()
        out = layer(pdw)
        t6 = time.perf_counter()
        out.sum().backward()
        t7 = time.perf_counter()
        fields += [(t6 - t5) / B, (t7 - t6) / B]
        del layer, out
    print(" ".join(f"{v:.6f}" for v in fields))


def workers_run(path, B, workers):
    """Batches through OPFLayer(workers=...) (None: in this process) in this fresh process:
    wall seconds per sample of the first batch's forward and backward passes (no solution
    held yet: in-process every sample cold, on workers chains from the batch's mean), CPU
    seconds per sample of this process and its (reaped) workers together over that batch,
    and wall seconds per sample of the forward pass of a second batch at loads x 1.01
    (warm_start: each sample from the nearest solution of the first batch its worker
    holds)."""
    import torch
    import foldopt.opf as opf
    from foldopt.torch import OPFLayer
    case = opf.OPF(path)
    pd = torch.tensor(loads(case, B), requires_grad=True)
    layer = OPFLayer(case, wrt="pd", outputs="pg", workers=workers)
    cpu0 = _cpu()
    t0 = time.perf_counter()
    pg = layer(pd)
    t1 = time.perf_counter()
    pg.sum().backward()
    t2 = time.perf_counter()
    cpu = _cpu() - cpu0
    ok = sum(s.converged for s in layer.last_solutions)
    del pg
    t3 = time.perf_counter()
    layer(pd.detach() * 1.01)
    t4 = time.perf_counter()
    peak = layer.last_batch_info["worker_peak_kb"] / 1024 if workers is not None else 0.0
    print(f"{(t1 - t0) / B:.6f} {(t2 - t1) / B:.6f} {cpu / B:.6f} {ok} {peak:.1f} "
          f"{(t4 - t3) / B:.6f}")


def _cpu():
    """CPU seconds of this process and of its live children (the workers; Linux /proc)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    total = own.ru_utime + own.ru_stime
    tick = os.sysconf("SC_CLK_TCK")
    for tasks in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{tasks}/children") as fh:
                pids = fh.read().split()
        except OSError:
            continue
        for pid in pids:
            try:
                with open(f"/proc/{pid}/stat") as fh:
                    f = fh.read().rsplit(")", 1)[1].split()
                total += (int(f[11]) + int(f[12])) / tick
            except OSError:
                pass
    return total


def workers_main(pglib, names, B, runs):
    for name in names:
        workers_case(pglib, name, B, runs)
    return 0


def workers_case(pglib, name, B, runs):
    path = os.path.join(pglib, f"pglib_opf_{name}.m")
    if not os.path.isfile(path):
        print(f"{name}: skipped, not in {pglib}")
        return 0
    configs = [("1 worker", "1"), ("2 workers", "2"), ("in-process", "none")]
    rows = {label: [] for label, _ in configs}
    loads_seen = [load1()]
    for _ in range(runs):
        for label, k in configs:  # interleaved: a change of the load hits all alike
            out = subprocess.run([sys.executable, __file__, "--workers-one", path, str(B), k],
                                 capture_output=True, text=True, check=True).stdout.split()
            rows[label].append([float(v) for v in out])
            loads_seen.append(load1())
    print(f"OPFLayer {name}, batch {B}, forward + backward, medians of {runs} runs; "
          f"load average (1 min) {min(loads_seen):.2f} to {max(loads_seen):.2f} on "
          f"{os.cpu_count()} cores")
    print("configuration\tsolved\tforward s/sample\tbackward s/sample\ttotal s/sample\t"
          "speed-up vs 1 worker\tCPU s/sample\tpeak MB per worker\twarm batch forward "
          "s/sample")
    one = statistics.median(r[0] + r[1] for r in rows["1 worker"])
    for label, _ in configs:
        r = rows[label]
        fwd, bwd = (statistics.median(x[j] for x in r) for j in (0, 1))
        tot = statistics.median(x[0] + x[1] for x in r)
        cpu = statistics.median(x[2] for x in r)
        solved = min(int(x[3]) for x in r)
        peak = statistics.median(x[4] for x in r)
        warm = statistics.median(x[5] for x in r)
        print(f"{label}\t{solved}/{B}\t{fwd:.4f}\t{bwd:.5f}\t{tot:.4f}\t{one / tot:.2f}x\t"
              f"{cpu:.4f}\t{f'{peak:.0f}' if peak else '-'}\t{warm:.4f}")


def load1():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--one":
        one_run(sys.argv[2], int(sys.argv[3]))
        return 0
    if len(sys.argv) > 1 and sys.argv[1] == "--workers-one":
        k = sys.argv[4]
        workers_run(sys.argv[2], int(sys.argv[3]), None if k == "none" else int(k))
        return 0
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--workers", action="store_true",
                    help="1 vs 2 worker processes vs in-process (no C program)")
    ap.add_argument("--case", default="case118_ieee,case1354_pegase",
                    help="PGLib case names, comma-separated")
    ap.add_argument("--batch", type=int, default=64, help="samples per batch")
    ap.add_argument("--runs", type=int, default=3, help="runs per configuration (medians)")
    ap.add_argument("paths", nargs="+", help="BENCH_OPF_SAMPLES PGLIB_DIR, or with --workers "
                    "PGLIB_DIR")
    a = ap.parse_args()
    cases, B, runs = a.case.split(","), a.batch, a.runs
    if B < 1 or runs < 1:
        ap.error("--batch and --runs must be at least 1")
    if a.workers:
        if len(a.paths) != 1:
            ap.error("--workers takes PGLIB_DIR")
        return workers_main(a.paths[0], cases, B, runs)
    if len(a.paths) != 2:
        ap.error("expected BENCH_OPF_SAMPLES PGLIB_DIR")
    exe, pglib = a.paths
    print(f"OPFLayer, batch {B}, medians of {runs} runs, load {load1():.2f}")
    print("case\tsolved\tC fwd s/sample\tPy fwd s/sample\tPy fwd outside library\t"
          "C bwd s/sample\tPy bwd s/sample\tPy bwd outside library\tbwd/fwd\t"
          "Py warm fwd s/sample\tC peak MB\tPy peak MB\t1 worker fwd/bwd s/sample\t"
          "2 workers fwd/bwd s/sample")
    for name in cases:
        path = os.path.join(pglib, f"pglib_opf_{name}.m")
        if not os.path.isfile(path):
            print(f"{name}\tskipped: not in {pglib}")
            continue
        c_runs, py_runs = [], []
        for _ in range(runs):
            out = subprocess.run([exe, path, str(B)], capture_output=True, text=True,
                                 check=True).stdout.split("\t")
            c_runs.append([float(v) for v in out[2:6]])
            out = subprocess.run([sys.executable, __file__, "--one", path, str(B)],
                                 capture_output=True, text=True, check=True).stdout.split()
            py_runs.append([float(v) for v in out])
        c = [statistics.median(r[j] for r in c_runs) for j in range(4)]
        p = [statistics.median(r[j] for r in py_runs) for j in range(11)]
        print(f"{name}\t{int(p[4])}/{B}\t{c[1]:.4f}\t{p[0]:.4f}\t{100 * p[5]:.2f}%\t"
              f"{c[2]:.5f}\t{p[1]:.5f}\t{100 * p[6]:.1f}%\t{100 * p[1] / p[0]:.2f}%\t"
              f"{p[2]:.4f}\t{c[3]:.0f}\t{p[3]:.0f}\t{p[7]:.4f}/{p[8]:.5f}\t"
              f"{p[9]:.4f}/{p[10]:.5f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
