#!/usr/bin/env python3
"""foldopt train: every backward method of every task on tiny instances (JSON keys, echoed
options, per-epoch backward figures), --step-hessian, --step-scale, --init, --unroll-iters,
and bad values (exit 2 with a message naming the option). Usage: check_train_cli.py FOLDOPT.
TAP on stdout."""
import json, subprocess, sys

exe = sys.argv[1]
results = []

def check(name, cond, detail=""):
    results.append((name, bool(cond), detail))

def run(*args):
    p = subprocess.run([exe, "train", *args], capture_output=True, text=True, timeout=300)
    return p.returncode, p.stdout, p.stderr

def train(task, *args):
    rc, out, err = run(task, "--json", "--quiet", *SMALL[task], *args)
    try:
        return rc, json.loads(out), err
    except ValueError:
        return rc, {}, err

SMALL = {
    "qp": ["--size", "10", "--n-train", "4", "--n-test", "2", "--epochs", "1"],
    "portfolio": ["--size", "10", "--n-train", "6", "--n-test", "3", "--epochs", "1"],
    "denoise": ["--size", "8", "--n-train", "3", "--n-test", "2", "--epochs", "1"],
    "topk": ["--size", "8", "--n-train", "10", "--n-test", "5", "--epochs", "2"],
}
TOP = ["task", "backward", "metric", "seed", "epochs", "n_train", "n_test", "init", "lr",
       "step_hessian", "step_scale", "unroll_iters", "history", "final_test", "two_stage_test",
       "two_stage_seconds", "failed"]
EPOCH = ["epoch", "train_loss", "test", "seconds", "failed", "backward_iters", "tape_bytes"]

def rel(a, b):
    return abs(a - b) / max(abs(a), abs(b), 1e-300)

for task in SMALL:
    finals = {}
    for b in ["direct", "lfpi", "gmres", "unroll"]:
        rc, d, err = train(task, "--backward", b)
        h = d.get("history", [])
        ok = (rc == 0 and all(k in d for k in TOP) and d["task"] == task and d["backward"] == b
              and len(h) == d["epochs"] + 1 and all(all(k in e for k in EPOCH) for e in h))
        check(f"train {task} --backward {b}: JSON keys and echoed options", ok, err)
        if not ok:
            continue
        finals[b] = d["final_test"]
        last = h[-1]
        if b == "direct":
            check(f"train {task} direct: no iterations, no tape",
                  last["backward_iters"] == 0 and last["tape_bytes"] == 0, err)
        elif b == "unroll":
            check(f"train {task} unroll: steps and tape reported",
                  last["backward_iters"] > 0 and last["tape_bytes"] > 0, err)
        else:
            check(f"train {task} {b}: iterations reported, no tape",
                  last["backward_iters"] > 0 and last["tape_bytes"] == 0, err)
    # the folded methods solve the same fold equation: the same training run
    if len(finals) == 4:
        check(f"train {task}: lfpi and gmres train like direct",
              rel(finals["lfpi"], finals["direct"]) < 1e-6 and
              rel(finals["gmres"], finals["direct"]) < 1e-6, str(finals))

# --step-hessian / --step-scale (SQP step of qp and portfolio): the fold does not depend on B
rc, ref, err = train("portfolio", "--backward", "lfpi")
for args in (["--step-hessian", "diagonal"], ["--step-scale", "2"],
             ["--step-hessian", "diagonal", "--step-scale", "0.75"]):
    rc, d, err = train("portfolio", "--backward", "lfpi", *args)
    want_h = "diagonal" if "diagonal" in args else "identity"
    want_s = float(args[args.index("--step-scale") + 1]) if "--step-scale" in args else 1.0
    check("train portfolio lfpi " + " ".join(args) + ": echoed, same training",
          rc == 0 and d.get("step_hessian") == want_h and d.get("step_scale") == want_s and
          rel(d["final_test"], ref.get("final_test", 0)) < 1e-6, err)
    if rc == 0 and ref and args == ["--step-scale", "2"]:
        check("train portfolio lfpi --step-scale 2: a larger B slows LFPI",
              d["history"][1]["backward_iters"] > ref["history"][1]["backward_iters"])
rc, d, err = train("qp", "--backward", "gmres", "--step-hessian", "diagonal")
check("train qp gmres --step-hessian diagonal", rc == 0 and d.get("step_hessian") == "diagonal",
      err)

# --init
rc, d, err = train("portfolio", "--init", "two-stage", "--lr", "0.003")
h = d.get("history", [{}])
check("train portfolio --init two-stage starts at the two-stage fit",
      rc == 0 and d.get("init") == "two-stage" and d.get("lr") == 0.003 and
      rel(h[0]["test"], d["two_stage_test"]) < 1e-12, err)
rc, d, err = train("portfolio", "--init", "random")
check("train portfolio --init random", rc == 0 and d.get("init") == "random", err)

# --unroll-iters: exactly K steps
rc, d, err = train("topk", "--backward", "unroll", "--unroll-iters", "7")
check("train topk --unroll-iters 7: 7 unrolled steps, tape (2K+1) doubles",
      rc == 0 and d.get("unroll_iters") == 7 and d["history"][1]["backward_iters"] == 7 and
      d["history"][1]["tape_bytes"] == 15 * 8, err)
rc, d, err = train("qp", "--backward", "unroll", "--unroll-iters", "5")
check("train qp --unroll-iters 5", rc == 0 and d["history"][1]["backward_iters"] == 5, err)

# bad values: exit 2, a message naming the option; nothing on stdout
bad = [
    (["topk", "--backward", "newton"], "--backward"),
    (["portfolio", "--step-scale", "0.5"], "--step-scale"),
    (["portfolio", "--step-scale", "abc"], "--step-scale"),
    (["portfolio", "--step-hessian", "exact"], "--step-hessian"),
    (["topk", "--step-hessian", "diagonal"], "qp and portfolio"),
    (["denoise", "--step-scale", "2"], "qp and portfolio"),
    (["portfolio", "--init", "zero"], "--init"),
    (["denoise", "--init", "two-stage"], "init_two_stage"),
    (["topk", "--unroll-iters", "0"], "--unroll-iters"),
    (["topk", "--unroll-iters", "5"], "unroll_iters"),
    (["denoise", "--backward", "unroll", "--unroll-iters", "5"], "unroll_iters"),
    (["topk", "--epochs"], "--epochs"),
    (["nope"], "unknown task"),
]
for args, word in bad:
    rc, out, err = run(*args, *SMALL.get(args[0], []))
    check("train " + " ".join(args) + ": exit 2 naming " + word,
          rc == 2 and word in err and out == "", f"rc {rc}: {err}")

print("1..%d" % len(results))
for i, (name, ok, detail) in enumerate(results, 1):
    print("%s %d - %s" % ("ok" if ok else "not ok", i, name))
    if not ok and detail:
        print("# " + detail.strip().replace("\n", "\n# ")[:2000])
sys.exit(0 if all(ok for _, ok, _ in results) else 1)
