#!/usr/bin/env python3
"""Scenario batches, measured (doc/benchmarks.md, "Scenario batches"): for each case, N load
scenarios (every bus's pd and qd times s (1 + 0.05 z), s uniform in [0.9, 1.1], z standard
normal per bus; seeded), the objective's VJP w.r.t. pd, run as
  a  a shell-style loop of cold `foldopt opf` runs, one process per scenario file,
  b  foldopt batch --jobs 1,
  c  foldopt batch --jobs 2,
  d  mpirun -np 2 foldopt batch --jobs 1,
  e  foldopt batch --jobs 1 --warm-point primal (warm starts without multipliers),
each configuration its own process(es), REPS repetitions, medians; wall and CPU time, the
load average around each run, mean Ipopt iterations, and the workers' peak memory against
the number of scenarios. Usage: bench_batch.py FOLDOPT PGLIB_DIR [options]; prints tables
and writes the raw runs as JSON."""
import argparse, json, os, random, re, resource, shutil, statistics, subprocess, sys
import tempfile, time

ap = argparse.ArgumentParser()
ap.add_argument("foldopt")
ap.add_argument("pglib")
ap.add_argument("--cases", default="case118_ieee,case1354_pegase,case2869_pegase")
ap.add_argument("--n", type=int, default=200, help="scenarios per case")
ap.add_argument("--reps", type=int, default=3)
ap.add_argument("--configs", default="a,b,c,d")
ap.add_argument("--memory", default="25,50,100,200", help="scenario counts of the memory runs")
ap.add_argument("--seed", type=int, default=1)
ap.add_argument("--json", default="bench-batch.json")
ap.add_argument("--time-limit", type=float, default=0,
                help="forward.time_limit_s of every solve, loop and batches alike (0: none)")
args = ap.parse_args()

def case_text(path):
    with open(path) as f:
        return f.read()

def bus_rows(text):
    """(start, end) line indices of mpc.bus rows and the rows' fields."""
    lines = text.splitlines(True)
    start = next(i for i, l in enumerate(lines) if re.match(r"\s*mpc\.bus\s*=", l)) + 1
    end = start
    while not lines[end].strip().startswith("]"):
        end += 1
    return lines, start, end

def scenarios(text, n, seed):
    """n scenarios: {bus id: (pd, qd)} with the loads scaled and noised."""
    lines, start, end = bus_rows(text)
    buses = []
    for l in lines[start:end]:
        c = l.replace(";", " ").split()
        if c:
            buses.append((int(float(c[0])), float(c[2]), float(c[3])))
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        s = rng.uniform(0.9, 1.1)
        loads = {}
        for b, pd, qd in buses:
            f = s * (1 + 0.05 * rng.gauss(0, 1))
            loads[b] = (pd * f, qd * f)
        out.append(loads)
    return out

def write_case(text, loads, path):
    lines, start, end = bus_rows(text)
    for k in range(start, end):
        c = lines[k].replace(";", " ").split()
        if c and int(float(c[0])) in loads:
            c[2], c[3] = repr(loads[int(float(c[0]))][0]), repr(loads[int(float(c[0]))][1])
            lines[k] = "\t" + "\t".join(c) + ";\n"
    with open(path, "w") as f:
        f.write("".join(lines))

def write_csv(scen, path, count):
    ids = sorted(scen[0])
    with open(path, "w") as f:
        f.write(",".join("pd:%d,qd:%d" % (b, b) for b in ids) + "\n")
        for loads in scen[:count]:
            f.write(",".join("%r,%r" % loads[b] for b in ids) + "\n")

def timed(cmds):
    """Run commands one after the other: wall seconds, CPU seconds of the process trees,
    load average before and after, and the outputs."""
    load0 = os.getloadavg()[0]
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    outs = []
    for c in cmds:
        p = subprocess.run(c, capture_output=True, text=True)
        outs.append(p)
    wall = time.monotonic() - t0
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
    return wall, cpu, (load0, os.getloadavg()[0]), outs

def limit_opts():
    return ["--set", "forward.time_limit_s=%g" % args.time_limit] if args.time_limit > 0 else []

def batch_cmd(case, csv, out, jobs, mpi=False, extra=()):
    cmd = [args.foldopt, "batch", case, "--scenarios", csv, "--wrt", "pd", "--mode", "vjp",
           "--jobs", str(jobs), "-o", out, "--summary", "--no-progress", *limit_opts(), *extra]
    if mpi:
        cmd = [shutil.which("mpirun"), "--oversubscribe", "--allow-run-as-root", "-np", "2"] + cmd
    return cmd

def summary(p):
    lines = [l for l in p.stderr.strip().splitlines() if l.startswith("{")]
    return json.loads(lines[-1]) if lines else {}

runs = []
tmp = tempfile.mkdtemp(prefix="bench-batch-")
try:
    for name in args.cases.split(","):
        path = os.path.join(args.pglib, "pglib_opf_%s.m" % name)
        if not os.path.exists(path):
            print("# %s: not found, skipped" % path)
            continue
        text = case_text(path)
        scen = scenarios(text, args.n, args.seed)
        csv = os.path.join(tmp, name + ".csv")
        write_csv(scen, csv, args.n)
        files = []
        if "a" in args.configs.split(","):
            for i, loads in enumerate(scen):
                files.append(os.path.join(tmp, "%s_%d.m" % (name, i)))
                write_case(text, loads, files[-1])
        for rep in range(args.reps):
            for cfg in args.configs.split(","):
                out = os.path.join(tmp, "%s_%s.jsonl" % (name, cfg))
                if cfg == "a":
                    cmds = [[args.foldopt, "opf", f, "--wrt", "pd", "--mode", "vjp", "--json",
                             *limit_opts()] for f in files]
                elif cfg == "d" and not shutil.which("mpirun"):
                    continue
                else:
                    cmds = [batch_cmd(path, csv, out, 2 if cfg == "c" else 1, cfg == "d",
                                      ["--warm-point", "primal"] if cfg == "e" else [])]
                wall, cpu, load, outs = timed(cmds)
                r = {"case": name, "config": cfg, "rep": rep, "n": args.n, "wall_s": wall,
                     "cpu_s": cpu, "time_limit": args.time_limit, "load_before": load[0],
                     "load_after": load[1]}
                if cfg == "a":
                    res = [json.loads(p.stdout) if p.returncode == 0 else None for p in outs]
                    ok = [x for x in res if x and x["status"] == "solved"]
                    r["solved"] = len(ok)
                    r["iterations"] = [x["iterations"] if x else None for x in res]
                    r["status"] = [x["status"] if x else "error" for x in res]
                    r["objectives"] = [x["objective"] if x else None for x in res]
                else:
                    s = summary(outs[0])
                    recs = [json.loads(l) for l in open(out)] if os.path.exists(out) else []
                    r["solved"] = sum(1 for x in recs if x["status"] == "solved")
                    r["iterations"] = [x["iterations"] for x in recs]
                    r["status"] = [x["status"] for x in recs]
                    r["worker_peak_kb"] = s.get("worker_peak_kb")
                    r["starts"] = {k: sum(1 for x in recs if x["start"] == k)
                                   for k in ("cold", "anchor", "scenario")}
                    r["objectives"] = [x["objective"] for x in recs]
                    r["record_seconds_mean"] = statistics.mean(
                        [x["seconds"] for x in recs if x.get("seconds")] or [0])
                # over the scenarios it solved (a failed one runs to its iteration limit)
                r["iterations_mean"] = statistics.mean(
                    [k for k, t in zip(r["iterations"], r["status"]) if t == "solved"] or [0])
                runs.append(r)
                print("# %s %s rep %d: %.1f s wall, %.1f s CPU, load %.1f -> %.1f, %d solved, "
                      "%.1f iterations" % (name, cfg, rep, wall, cpu, load[0], load[1],
                                           r["solved"], r["iterations_mean"] or 0), flush=True)
        for count in [int(k) for k in args.memory.split(",") if k and int(k) <= args.n]:
            sub = os.path.join(tmp, "%s_mem%d.csv" % (name, count))
            write_csv(scen, sub, count)
            out = os.path.join(tmp, "%s_mem.jsonl" % name)
            wall, cpu, load, outs = timed([batch_cmd(path, sub, out, 1)])
            runs.append({"case": name, "config": "memory", "n": count, "wall_s": wall,
                         "worker_peak_kb": summary(outs[0]).get("worker_peak_kb"),
                         "load_before": load[0], "load_after": load[1]})
            print("# %s memory, %d scenarios: worker peak %s kB" % (name, count,
                  runs[-1]["worker_peak_kb"]), flush=True)
        for f in files:
            os.remove(f)
finally:
    shutil.rmtree(tmp, ignore_errors=True)

with open(args.json, "w") as f:
    json.dump(runs, f, indent=1)

# ---- tables ----
print("\n| case | config | reps | scenarios | median wall s | scenarios/s | median CPU s | "
      "CPU s/scenario | load (min-max) | mean Ipopt iterations | solved |")
print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
labels = {"a": "a: opf loop (cold)", "b": "b: batch --jobs 1", "c": "c: batch --jobs 2",
          "d": "d: mpirun -np 2 --jobs 1", "e": "e: b with --warm-point primal"}
rates = {}
for name in args.cases.split(","):
    for cfg in args.configs.split(","):
        rs = [r for r in runs if r["case"] == name and r["config"] == cfg]
        if not rs:
            continue
        wall = statistics.median(r["wall_s"] for r in rs)
        cpu = statistics.median(r["cpu_s"] for r in rs)
        loads = [x for r in rs for x in (r["load_before"], r["load_after"])]
        rates[name, cfg] = rs[0]["n"] / wall
        print("| %s | %s | %d | %d | %.1f | %.3g | %.1f | %.3g | %.1f-%.1f | %.1f | %d |" % (
            name, labels[cfg], len(rs), rs[0]["n"], wall, rates[name, cfg], cpu,
            cpu / rs[0]["n"], min(loads), max(loads), rs[0]["iterations_mean"] or 0,
            rs[0]["solved"]))
print("\n| case | b / a | c / b | d / c | max rel. objective difference a vs b |")
print("| --- | --- | --- | --- | --- |")
for name in args.cases.split(","):
    def ratio(x, y):
        return "%.2f" % (rates[name, x] / rates[name, y]) if (name, x) in rates and \
            (name, y) in rates else "-"
    ra = [r for r in runs if r["case"] == name and r["config"] == "a"]
    rb = [r for r in runs if r["case"] == name and r["config"] == "b"]
    diff = "-"
    if ra and rb:
        pairs = [(x, y) for x, y in zip(ra[0]["objectives"], rb[0]["objectives"]) if x and y]
        diff = "%.1e" % max(abs(x - y) / abs(y) for x, y in pairs) if pairs else "-"
    print("| %s | %s | %s | %s | %s |" % (name, ratio("b", "a"), ratio("c", "b"), ratio("d", "c"),
                                         diff))
print("\n| case | scenarios | worker peak memory (MB) |")
print("| --- | --- | --- |")
for r in runs:
    if r["config"] == "memory":
        print("| %s | %d | %.1f |" % (r["case"], r["n"], (r["worker_peak_kb"] or 0) / 1024))
