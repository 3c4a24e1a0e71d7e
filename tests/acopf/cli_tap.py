"""The harness of the foldopt command checks (check_*_cli.py FOLDOPT): run foldopt, record
checks, print them as TAP and exit 1 when one failed."""
import subprocess, sys

exe = sys.argv[1] if len(sys.argv) > 1 else "foldopt"
results = []


def check(name, cond, detail=""):
    results.append((name, bool(cond), detail))


def run(*args):
    """foldopt ARGS: (exit status, stdout, stderr)."""
    p = subprocess.run([exe, *args], capture_output=True, text=True, timeout=300)
    return p.returncode, p.stdout, p.stderr


def close(a, b, tol):
    return abs(a - b) <= tol * max(1.0, abs(b))


def finish():
    print("1..%d" % len(results))
    for i, (name, ok, detail) in enumerate(results, 1):
        print("%s %d - %s" % ("ok" if ok else "not ok", i, name))
        if not ok and detail:
            print("# " + str(detail).strip().replace("\n", "\n# ")[:2000])
    sys.exit(0 if all(ok for _, ok, _ in results) else 1)
