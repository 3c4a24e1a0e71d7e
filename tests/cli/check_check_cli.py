#!/usr/bin/env python3
"""foldopt check: exit codes, text and JSON reports of the built-in problems.
Usage: check_check_cli.py FOLDOPT. TAP on stdout."""
import json, subprocess, sys

exe = sys.argv[1]
results = []


def check(name, cond, detail=""):
    results.append((name, bool(cond), detail))


def run(*args):
    p = subprocess.run([exe, "check", *args], capture_output=True, text=True, timeout=60)
    return p.returncode, p.stdout, p.stderr


rc, out, err = run("hs071")
check("hs071 passes (exit 0)", rc == 0 and "result         ok" in out, out + err)
check("hs071 checks 43 entries of six functions", "43 entries" in out, out)
for name in ("hs071", "pqp"):
    rc, out, err = run(name, "--json")
    d = json.loads(out) if rc == 0 else {}
    check(f"{name} --json is one object with ok = true",
          d.get("ok") is True and d.get("n_bad") == 0 and d.get("problem") == name, out + err)
    check(f"{name} worst relative error below tol",
          d.get("max_rel_error", 1) < d.get("tol", 0), out)
rc, out, err = run("hs071", "--json", "--seed", "5")
d5 = json.loads(out) if rc == 0 else {}
rc, out, err = run("hs071", "--json", "--seed", "5")
check("same seed, same report", rc == 0 and json.loads(out) == d5, err)
rc, out, err = run("hs071", "--tol", "1e-14")
check("tolerance below rounding: some entry bad (exit 1)", rc == 1 and "FAILED" in out,
      out + err)
rc, out, err = run("no-such-problem")
check("unknown problem: exit 2", rc == 2 and "unknown problem" in err and out == "", err)
rc, out, err = run()
check("missing PROBLEM: exit 2", rc == 2, err)
rc, out, err = run("hs071", "--h", "0")
check("h = 0: exit 2", rc == 2, err)
rc, out, err = run("hs071", "--bogus")
check("unknown option: exit 2", rc == 2, err)
rc, out, err = run("--help")
check("--help on stdout, exit 0", rc == 0 and out.startswith("usage: foldopt check"), err)

print(f"1..{len(results)}")
for i, (name, ok, detail) in enumerate(results, 1):
    print(f"{'ok' if ok else 'not ok'} {i} - {name}")
    if not ok and detail:
        for line in detail.splitlines()[:20]:
            print(f"# {line}")
