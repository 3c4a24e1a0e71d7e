#!/usr/bin/env python3
"""foldopt's forward solve against MATPOWER's MIPS on the same PGLib cases.

doc/benchmarks.md "Forward solve against MATPOWER's MIPS". For each case and repetition,
alternating: one `foldopt opf CASE --json` process (a plain forward solve at foldopt's
defaults, no derivatives) and one Octave process running MATPOWER's `runopf` with
`opf.ac.solver = 'MIPS'` at MATPOWER's defaults (after a warm-up on case14 in the same
process, so that Octave's parsing of MATPOWER's m-files is not counted). Times compared:
foldopt's `forward_seconds` (model building and the solve, as reported) against MATPOWER's
`results.et` (its OPF from the case structure to the solution); both processes' wall clock
and CPU seconds are recorded too; the CPU ratio is foldopt's whole process against Octave's
CPU time of the same runopf call. Medians over the repetitions, one table row per case.
With --mips-from the MIPS runs are read from the raw JSON of earlier runs (same case and
repetition) instead of being run: foldopt's side re-measured after a change of foldopt
(MIPS's figures do not depend on it), Octave and MATPOWER not needed.

usage: bench_mips.py FOLDOPT PGLIB_DIR MATPOWER_DIR [--reps N] [--min-buses B]
       [--max-buses B] [--cases a,b] [--json OUT] [--opf-args "--set NAME=VALUE ..."]
       [--mips-from RAW.json[,RAW.json...]]   (MATPOWER_DIR then unused: "-")
"""
import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

OCTAVE_RUN = r"""
addpath(genpath(fullfile(mp, 'lib'))); addpath(fullfile(mp, 'mips', 'lib'));
addpath(genpath(fullfile(mp, 'mp-opt-model', 'lib'))); addpath(fullfile(mp, 'mptest', 'lib'));
mpopt = mpoption('verbose', 0, 'out.all', 0, 'opf.ac.solver', 'MIPS');
w = runopf(loadcase(warm), mpopt);
c0 = cputime; t0 = tic;
r = runopf(loadcase(file), mpopt);
wall = toc(t0); cpu = cputime - c0;
it = -1;
if isfield(r, 'raw') && isfield(r.raw, 'output') && isfield(r.raw.output, 'iterations')
  it = r.raw.output.iterations;
end
printf('MIPS %d %.12g %.6f %.6f %.6f %d\n', r.success, r.f, r.et, wall, cpu, it);
"""


def children_cpu():
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def run_foldopt(exe, path, extra):
    c0, t0 = children_cpu(), time.monotonic()
    p = subprocess.run([exe, "opf", path, "--json"] + extra, capture_output=True, text=True)
    wall, cpu = time.monotonic() - t0, children_cpu() - c0
    if p.returncode not in (0, 1) or not p.stdout.strip():
        return {"ok": False, "error": p.stderr.strip()[-300:], "wall": wall, "cpu": cpu}
    d = json.loads(p.stdout)
    return {"ok": d["status"] in ("solved", "acceptable"), "status": d["status"],
            "objective": d["objective"], "iterations": d["iterations"],
            "seconds": d["forward_seconds"], "wall": wall, "cpu": cpu}


def run_mips(matpower, warm, path):
    with tempfile.NamedTemporaryFile("w", suffix=".m", delete=False) as f:
        f.write("mp = '%s'; warm = '%s'; file = '%s';\n%s" % (matpower, warm, path, OCTAVE_RUN))
        script = f.name
    try:
        c0, t0 = children_cpu(), time.monotonic()
        p = subprocess.run(["octave", "--no-gui", "--no-window-system", "-q", script],
                           capture_output=True, text=True)
        wall, cpu = time.monotonic() - t0, children_cpu() - c0
    finally:
        os.unlink(script)
    line = next((ln for ln in p.stdout.splitlines() if ln.startswith("MIPS ")), None)
    if line is None:
        return {"ok": False, "error": (p.stderr or p.stdout).strip()[-300:],
                "wall": wall, "cpu": cpu}
    _, success, f, et, w, c, it = line.split()
    return {"ok": success == "1", "objective": float(f), "iterations": int(it),
            "seconds": float(et), "solve_wall": float(w), "solve_cpu": float(c),
            "wall": wall, "cpu": cpu}


def load():
    return os.getloadavg()[0]


def med(xs):
    return statistics.median(xs) if xs else float("nan")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("foldopt")
    ap.add_argument("pglib")
    ap.add_argument("matpower")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--min-buses", type=int, default=1000)
    ap.add_argument("--max-buses", type=int, default=5000)
    ap.add_argument("--cases", default="")
    ap.add_argument("--json", default="")
    ap.add_argument("--opf-args", default="", help="more arguments of foldopt opf")
    ap.add_argument("--mips-from", default="",
                    help="raw JSON files (comma list) of earlier runs: their MIPS runs are taken")
    a = ap.parse_args()
    earlier = {}  # (case, rep) -> MIPS run of an earlier raw JSON
    for fn in filter(None, a.mips_from.split(",")):
        with open(fn) as f:
            for r in json.load(f):
                earlier[(r["case"], r["rep"])] = r["mips"]

    named = {"pglib_opf_" + c.removeprefix("pglib_opf_") for c in a.cases.split(",") if c}
    cases = []  # (name, buses, path) of the cases selected and present
    with open(os.path.join(a.pglib, "baseline_ac.tsv")) as f:
        next(f)
        for ln in f:
            name, buses = ln.split("\t")[0], int(ln.split("\t")[1])
            if (name in named) if named else a.min_buses <= buses <= a.max_buses:
                path = os.path.join(a.pglib, name + ".m")
                if os.path.exists(path):
                    cases.append((name, buses, path))
                else:
                    print("%s: not in %s" % (name, a.pglib), file=sys.stderr)
    warm = os.path.join(a.pglib, "pglib_opf_case14_ieee.m")

    raw = []
    print("case buses rep | foldopt status it s | MIPS ok it s | load", file=sys.stderr)
    for name, buses, path in cases:
        for rep in range(a.reps):
            l0 = load()
            fo = run_foldopt(a.foldopt, path, a.opf_args.split())
            if a.mips_from:
                mi = earlier.get((name, rep), {"ok": False, "error": "not in --mips-from"})
            else:
                mi = run_mips(a.matpower, warm, path)
            l1 = load()
            raw.append({"case": name, "buses": buses, "rep": rep, "foldopt": fo, "mips": mi,
                        "load": [l0, l1]})
            print("%s %d %d | %s %s %.2f | %s %s %.2f | %.1f-%.1f" % (
                name, buses, rep, fo.get("status", "error"), fo.get("iterations", "-"),
                fo.get("seconds", float("nan")), mi["ok"], mi.get("iterations", "-"),
                mi.get("seconds", float("nan")), l0, l1), file=sys.stderr, flush=True)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(raw, f, indent=1)

    print("| case | buses | foldopt it. | foldopt s | MIPS it. | MIPS s | foldopt / MIPS | "
          "foldopt CPU / MIPS CPU | objective rel. diff | load |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for name, buses, _ in cases:
        rs = [r for r in raw if r["case"] == name]
        fo = [r["foldopt"] for r in rs if r["foldopt"]["ok"]]
        mi = [r["mips"] for r in rs if r["mips"]["ok"]]
        loads = [x for r in rs for x in r["load"]]
        fs, ms = med([x["seconds"] for x in fo]), med([x["seconds"] for x in mi])
        fit = med([x["iterations"] for x in fo]) if fo else "failed"
        mit = med([x["iterations"] for x in mi]) if mi else "failed"
        ratio = "%.2f" % (fs / ms) if fo and mi else "-"
        cpu = ("%.2f" % (med([x["cpu"] for x in fo]) / med([x["solve_cpu"] for x in mi]))
               if fo and mi else "-")
        rel = ("%.1e" % (abs(fo[0]["objective"] - mi[0]["objective"]) / abs(mi[0]["objective"]))
               if fo and mi else "-")
        print("| %s | %d | %s | %s | %s | %s | %s | %s | %s | %.1f-%.1f |" % (
            name.removeprefix("pglib_opf_"), buses, fit, "%.2f" % fs if fo else "-", mit,
            "%.2f" % ms if mi else "-", ratio, cpu, rel, min(loads), max(loads)))


if __name__ == "__main__":
    main()
