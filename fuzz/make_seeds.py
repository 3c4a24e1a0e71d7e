#!/usr/bin/env python3
"""Write the fuzzer's seed corpus (doc/testing.md, "Fuzzing"): small synthetic grids from
`foldopt gen-grid` and hand-written cases covering the format's variations (comments,
continuations, cell arrays, out-of-service and isolated items, piecewise-linear and cubic
costs, transformers, infinite limits, CRLF, a byte-order mark), and PowerModels JSON
networks (per unit as `foldopt convert` writes them, and not per unit). Deterministic: the same
foldopt gives the same files. Usage: make_seeds.py FOLDOPT OUTDIR"""
import os
import subprocess
import sys

TINY = """function mpc = tiny
mpc.version = '2';
mpc.baseMVA = 100;
mpc.bus = [
\t1\t3\t0\t0\t0\t0\t1\t1\t0\t230\t1\t1.1\t0.9;
\t2\t1\t50\t10\t0\t0.05\t1\t1\t0\t230\t1\t1.1\t0.9;
\t3\t2\t40\t5\t0.02\t0\t1\t1\t0\t230\t1\t1.1\t0.9;
];
mpc.gen = [
\t1\t0\t0\t100\t-100\t1\t100\t1\t200\t0;
\t3\t0\t0\t100\t-100\t1\t100\t1\t200\t0;
];
mpc.gencost = [
\t2\t0\t0\t3\t0.01\t20\t0;
\t2\t0\t0\t3\t0.02\t25\t0;
];
mpc.branch = [
\t1\t2\t0.01\t0.1\t0.02\t100\t100\t100\t0\t0\t1\t-30\t30;
\t2\t3\t0.01\t0.1\t0.02\t100\t100\t100\t0.98\t2\t1\t-30\t30;
\t1\t3\t0.01\t0.1\t0.02\t100\t100\t100\t0\t0\t1\t-30\t30;
];
"""

VARIANT = """% header comment with 'quotes' and [brackets]
function mpc = variant
mpc.version = '2';
mpc.baseMVA = 100; % trailing comment
mpc.areas = [1 1; 2 3];
mpc.bus = [
  1, 3, 0, 0, 0, 0, 1, 1, 0, 230, 1, 1.1, 0.9, 0, 0, 0, 0;
  2  1 50 10 0 0 1 1 0 230 1 ...  continuation
     1.1 0.9 0 0 0 0
  7  4 30 10 0 0 1 1 0 230 1 1.1 0.9 0 0 0 0 % isolated bus
  3  2 40 5 0 0 1 1 0 230 1 1.1 0.9 0 0 0 0;];
mpc.bus_name = {
  'one';
  'two % not a comment';
  'seven'; 'three' };
mpc.gen = [
  1 0 0 100 -100 1 100 1 200 0 0 0 0 0 0 0 0 0 0 0 0;
  3 0 0 100 -100 1 100 0 200 0 0 0 0 0 0 0 0 0 0 0 0;
  7 0 0 100 -100 1 100 1 200 0 0 0 0 0 0 0 0 0 0 0 0;
  3 0 0 100 -100 1 100 1 Inf 0 0 0 0 0 0 0 0 0 0 0 0;
];
mpc.gencost = [
  2 0 0 4 1e-5 0.01 20 3;
  2 0 0 2 30 0 0 0;
  2 0 0 1 5 0 0 0;
  2 0 0 3 0.02 25 0 0;
  2 0 0 3 0 1 0 0;  2 0 0 3 0 1 0 0;
  2 0 0 3 0 1 0 0;  2 0 0 3 0 1 0 0;
];
mpc.branch = [
  1 2 0.01 0.1 0.02 0 0 0 0 0 1 -360 360 0 0 0 0;
  2 3 0.01 0.1 0.02 100 100 100 0 0 0 -30 30 0 0 0 0;
  2 7 0.01 0.1 0.02 100 100 100 0 0 1 -30 30 0 0 0 0;
  1 3 0.01 0.1 0.02 100 100 100 0 0 1 -30 30 0 0 0 0
];
mpc.gentype = {'ST'; 'ST'; 'ST'; 'ST'};
"""

PWL = """function mpc = pwl
mpc.version = 2;
mpc.baseMVA = 50;
mpc.bus = [
  10 3 0 0 0 0 1 1.02 0 138 1 1.06 0.94;
  20 2 30 12 0 10 1 1 -2 138 1 1.06 0.94;
  30 1 60 20 1 0 1 1 -4 138 1 1.06 0.94;
  40 1 25 -5 0 0 1 1 -3 138 1 1.06 0.94;
];
mpc.gen = [
  10 40 0 60 -30 1.02 50 1 150 10;
  20 30 0 40 -Inf 1 50 1 80 0;
  20 0 0 Inf -20 1 50 1 Inf -Inf;
];
mpc.gencost = [
  1 0 0 3 10 100 60 700 150 2500;
  1 0 0 2 0 0 80 2000 0 0;
  2 0 0 2 15 0 0 0 0 0;
];
mpc.branch = [
  10 20 0.02 0.06 0.03 90 0 0 0 0 1 -60 60;
  20 30 -0.001 0.04 0 0 0 0 1.05 -3 1 -360 360;
  30 40 0.01 0.05 0.01 Inf 0 0 0.95 10 1 -30 45;
  10 40 0 0.2 0 40 40 40 0 0 1 -45 45;
  40 20 0.03 0.1 0.02 60 60 60 0 0 1 -10 10;
];
"""

BARE = """mpc.baseMVA = 100;
mpc.bus = [1 3 0 0 0 0 1 1 0 230 1 1.1 0.9];
mpc.gen = [];
mpc.gencost = [];
mpc.branch = [];
"""


# A PowerModels network not per unit (MW, degrees): two loads at a bus, a load and a
# generator out of service, an isolated bus, an infinite limit written as null.
PM_HAND = """{"baseMVA": 100, "per_unit": false, "name": "hand",
 "bus": {"1": {"index": 1, "bus_i": 1, "bus_type": 3, "vmin": 0.9, "vmax": 1.1},
  "2": {"index": 2, "bus_i": 2, "bus_type": 1, "vmin": 0.9, "vmax": 1.1, "vm": 1.01},
  "3": {"index": 3, "bus_i": 3, "bus_type": 2, "vmin": 0.9, "vmax": 1.1, "va": -2},
  "4": {"index": 4, "bus_i": 4, "bus_type": 4, "vmin": 0.9, "vmax": 1.1}},
 "load": {"1": {"index": 1, "load_bus": 2, "pd": 30, "qd": 6, "status": 1},
  "2": {"index": 2, "load_bus": 2, "pd": 20, "qd": 4, "status": 1},
  "3": {"index": 3, "load_bus": 3, "pd": 40, "qd": 5},
  "4": {"index": 4, "load_bus": 3, "pd": 99, "qd": 9, "status": 0}},
 "shunt": {"1": {"index": 1, "shunt_bus": 2, "gs": 0, "bs": 5, "status": 1}},
 "gen": {"1": {"index": 1, "gen_bus": 1, "pmin": 0, "pmax": 200, "qmin": -100, "qmax": null,
   "gen_status": 1, "model": 2, "ncost": 3, "cost": [0.01, 20, 0]},
  "2": {"index": 2, "gen_bus": 3, "pmin": 0, "pmax": 200, "qmin": -100, "qmax": 100,
   "gen_status": 1, "model": 1, "ncost": 3, "cost": [0, 0, 100, 2000, 200, 5000]},
  "3": {"index": 3, "gen_bus": 2, "pmin": 0, "pmax": 50, "qmin": -10, "qmax": 10,
   "gen_status": 0, "model": 2, "ncost": 2, "cost": [1, 0]}},
 "branch": {"1": {"index": 1, "f_bus": 1, "t_bus": 2, "br_r": 0.01, "br_x": 0.1, "b_fr": 0.01,
   "b_to": 0.01, "rate_a": 100, "tap": 1, "shift": 0, "br_status": 1, "angmin": -30,
   "angmax": 30},
  "2": {"index": 2, "f_bus": 2, "t_bus": 3, "br_r": 0.01, "br_x": 0.1, "b_fr": 0.01,
   "b_to": 0.01, "rate_a": null, "tap": 0.98, "shift": 2, "br_status": 1},
  "3": {"index": 3, "f_bus": 1, "t_bus": 3, "br_r": 0.01, "br_x": 0.1, "b_fr": 0.01,
   "b_to": 0.01, "br_status": 1, "angmin": -30, "angmax": 30},
  "4": {"index": 4, "f_bus": 3, "t_bus": 4, "br_r": 0.01, "br_x": 0.1, "b_fr": 0,
   "b_to": 0, "br_status": 1}},
 "dcline": {}, "storage": {}, "switch": {}}
"""


def write(out, name, text, raw=None):
    with open(os.path.join(out, name), "wb") as f:
        f.write(raw if raw is not None else text.encode())


def main(foldopt, out):
    os.makedirs(out, exist_ok=True)
    for buses in (2, 3, 5, 8, 14):
        for seed in (1, 2):
            text = subprocess.run([foldopt, "gen-grid", "--buses", str(buses), "--seed",
                                   str(seed)], check=True, capture_output=True,
                                  text=True).stdout
            write(out, f"grid-{buses}-{seed}.m", text)
    write(out, "tiny.m", TINY)
    write(out, "variant.m", VARIANT)
    write(out, "pwl.m", PWL)
    write(out, "bare.m", BARE)
    write(out, "tiny-crlf.m", None, TINY.replace("\n", "\r\n").encode())
    write(out, "tiny-bom.m", None, b"\xef\xbb\xbf" + TINY.encode())
    # PowerModels networks (per unit, as `foldopt convert` writes them, and not per unit)
    for name in ("tiny", "pwl"):
        subprocess.run([foldopt, "convert", os.path.join(out, name + ".m"),
                        os.path.join(out, name + "-pm.json")], check=True)
    write(out, "hand-pm.json", PM_HAND)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
