#!/usr/bin/env python3
"""Ipopt iterations of a `foldopt batch ... --jobs 1 --set log.verbose=2` run, split into each
scenario's first solve and its tightening re-solves (doc/benchmarks.md, "Why warm starts do
not pay on case1354_pegase"). Usage: batch_iterations.py STDERR_LOG RECORDS.jsonl

The log holds Ipopt's iteration tables in solve order; an Ipopt run followed by a
"fold_solve: re-solve" line is a tightening re-solve of the scenario being solved, any
other run starts the next scenario. With warm starts the worker solves the anchor first:
its runs are left out. Prints the mean iterations of the first solves (all scenarios), of
the re-solves per scenario, the re-solves that ended at Ipopt's acceptable level, and the
records' mean iterations over the solved scenarios."""
import json
import re
import sys

log_path, rec_path = sys.argv[1:3]
runs = open(log_path).read().split("Total number of variables")[1:]
scenarios = []  # [first-solve iterations, [(re-solve iterations, acceptable?)]]
for run in runs:
    m = re.search(r"Number of Iterations\.+: (\d+)", run)
    iters = int(m.group(1)) if m else 0
    tail = run[run.find("EXIT:"):].split("\n")
    follow = tail[1] if len(tail) > 1 else ""
    if follow.startswith("fold_solve: re-solve") and scenarios:
        scenarios[-1][1].append((iters, " acceptable after " in follow))
    else:
        scenarios.append([iters, []])
records = [json.loads(line) for line in open(rec_path)]
if any(r["start"] != "cold" for r in records):
    scenarios = scenarios[1:]  # the anchor
if len(scenarios) != len(records):
    sys.exit("%d scenarios in the log, %d records: run with --jobs 1" %
             (len(scenarios), len(records)))
n = len(scenarios)
first = [s[0] for s in scenarios]
resolves = [r for s in scenarios for r in s[1]]
solved = [r["iterations"] for r in records if r["status"] == "solved"]
print("scenarios %d, solved %d" % (n, len(solved)))
print("first solve: mean %.1f iterations %s" % (sum(first) / n, first))
print("tightening re-solves: %d, %.1f iterations per scenario; %d ended at the acceptable "
      "level (%d iterations)" % (len(resolves), sum(i for i, _ in resolves) / n,
                                 sum(1 for _, a in resolves if a),
                                 sum(i for i, a in resolves if a)))
print("all solves of a scenario (records, solved): mean %.1f iterations" %
      (sum(solved) / max(len(solved), 1)))
