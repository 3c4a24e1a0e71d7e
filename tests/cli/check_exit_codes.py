#!/usr/bin/env python3
"""Exit codes of every command (0 ok, 1 numerical failure, 2 usage or input error) on the
reliability cases of doc/cli.md "Exit status": unknown Ipopt options, output that cannot be
written (/dev/full, a file size limit), case data the model cannot use, encodings,
directories, binary data, the size cap, malformed --rows/--cols lists (refused before any
solve). Usage: check_exit_codes.py FOLDOPT. TAP on stdout."""
import json
import os
import re
import resource
import signal
import subprocess
import sys
import tempfile
import time

exe = sys.argv[1]
results = []


def check(name, cond, detail=""):
    results.append((name, bool(cond), detail))


def run(*args, stdout=subprocess.PIPE, preexec=None, cwd=None):
    p = subprocess.run([exe, *args], stdout=stdout, stderr=subprocess.PIPE, text=True,
                       timeout=300, preexec_fn=preexec, cwd=cwd)
    return p.returncode, p.stdout or "", p.stderr


def to_full(*args):
    """Run with stdout on /dev/full: (exit status, stderr)."""
    with open("/dev/full", "w") as full:
        rc, _, err = run(*args, stdout=full)
    return rc, err


def small_files():
    """Child setup: files may not grow past 512 bytes; writes beyond fail with EFBIG."""
    resource.setrlimit(resource.RLIMIT_FSIZE, (512, 512))
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)


def mutate_row(path, out, table, row, col, value):
    """Copy the case at path to out with column col (0-based) of row `row` (0-based) of
    mpc.<table> set to value; returns the line number of that row."""
    lines = open(path).read().split("\n")
    start = next(i for i, l in enumerate(lines) if l.startswith("mpc.%s = [" % table)) + 1
    cols = lines[start + row].strip().rstrip(";").split("\t")
    cols[col] = value
    lines[start + row] = "\t" + "\t".join(cols) + ";"
    open(out, "w").write("\n".join(lines))
    return start + row + 1


with tempfile.TemporaryDirectory() as tmp:
    case = os.path.join(tmp, "grid.m")
    rc, _, err = run("gen-grid", "--buses", "14", "--seed", "1", "-o", case)
    check("gen-grid -o FILE: exit 0", rc == 0 and os.path.getsize(case) > 0, err)

    # 1. Unknown Ipopt option: a usage error before any solve, no "solved" anywhere.
    for extra in ([], ["--json"]):
        rc, out, err = run("opf", case, "--ipopt", "bogus=1", *extra)
        check("opf --ipopt bogus=1 %s: exit 2 naming it, nothing on stdout" % " ".join(extra),
              rc == 2 and "bogus" in err and out == "" and "solved" not in err, err + out)
    rc, out, err = run("opf", case, "--ipopt", "max_iter=1", "--json")
    d = json.loads(out) if out else {}
    check("opf forward failure: exit 1, JSON status says why",
          rc == 1 and d.get("status") == "iteration limit" and d.get("objective") is None, err)
    rc, out, err = run("opf", case, "--ipopt", "max_iter=1")
    check("opf forward failure: summary and message name the status",
          rc == 1 and "status      iteration limit" in out and
          "forward solve failed: iteration limit" in err, err)

    # 3. Output that cannot be written: exit 2 with a message, for every command.
    for args in (["opf", case], ["opf", case, "--json"], ["opf", case, "--wrt", "pd", "--json"],
                 ["gen-grid", "--buses", "5"], ["settings"], ["settings", "--markdown"],
                 ["--help"], ["--version"], ["opf", "--help"], ["demo"], ["check", "hs071"],
                 ["check", case, "--json"], ["train", "qp", "--epochs", "0", "--quiet"]):
        rc, err = to_full(*args)
        check("%s > /dev/full: exit 2, write error named" % " ".join(args[:3]),
              rc == 2 and "write error on standard output: No space left on device" in err, err)
    for args in (["gen-grid", "--buses", "5", "-o", "/dev/full"], ["opf", case, "-o", "/dev/full"]):
        rc, _, err = run(*args)
        check("%s -o /dev/full: exit 2" % args[0],
              rc == 2 and "write error on '/dev/full'" in err, err)
    check("/dev/full is still there", os.path.exists("/dev/full"))
    big = os.path.join(tmp, "big.m")
    rc, _, err = run("gen-grid", "--buses", "50", "-o", big, preexec=small_files)
    check("gen-grid -o FILE past a file size limit: exit 2, no half-written file",
          rc == 2 and "write error on '%s': File too large" % big in err and
          not os.path.exists(big), err)
    rc, _, err = run("opf", case, "--json", "-o", big, preexec=small_files)
    check("opf -o FILE past a file size limit: exit 2, no half-written file",
          rc == 2 and "File too large" in err and not os.path.exists(big), err)

    # 4. Data the model cannot use: exit 2, file:line and the item named.
    bad = os.path.join(tmp, "bad.m")
    for table, row, col, value, words in (
            ("branch", 0, 3, "1e-320", "branch row 1 (bus %s - bus %s): impedance"),
            ("branch", 1, 8, "1e-300", "branch row 2 (bus %s - bus %s): tap ratio 1e-300"),
            ("gen", 0, 8, "Inf", "gen row 1 (bus 1): Pmin = inf must be finite or -Inf")):
        line = mutate_row(case, bad, table, row, col, value)
        if value == "1e-320":  # with r = 0: |r + jx| is subnormal
            mutate_row(bad, bad, table, row, 2, "0")
        if table == "gen":  # Pmin = Pmax = Inf
            mutate_row(bad, bad, table, row, 9, "Inf")
        text = open(bad).read()
        start = text.split("\n").index("mpc.%s = [" % table) + 1
        ends = text.split("\n")[start + row].split("\t")[1:3]
        expect = "bad.m:%d: " % line + (words % tuple(ends) if "%s" in words else words)
        for cmd in (["opf", bad], ["check", bad]):
            rc, out, err = run(*cmd)
            check("%s with %s %d column %d = %s: exit 2, '%s'" % (cmd[0], table, row + 1,
                                                                  col + 1, value, expect),
                  rc == 2 and expect in err and out == "", err)
    rc, _, err = run("opf", tmp)
    check("opf DIRECTORY: exit 2, named", rc == 2 and "is a directory, not a case file" in err,
          err)
    bom = os.path.join(tmp, "bom.m")
    open(bom, "wb").write(b"\xef\xbb\xbf" + open(case, "rb").read())
    rc, out, err = run("opf", bom, "--json")
    check("opf with a UTF-8 byte-order mark: accepted, solved",
          rc == 0 and json.loads(out).get("status") == "solved", err)
    utf16 = os.path.join(tmp, "utf16.m")
    open(utf16, "wb").write(open(case).read().encode("utf-16"))
    rc, _, err = run("opf", utf16)
    check("opf with UTF-16 text: exit 2, named", rc == 2 and "utf16.m:1: the file is UTF-16" in err,
          err)

    # 5. Size limit and binary data: refused at once.
    t0 = time.time()
    rc, _, err = run("opf", "/dev/zero")
    check("opf /dev/zero: exit 2 at once", rc == 2 and "NUL byte" in err and
          time.time() - t0 < 10, err)
    sparse = os.path.join(tmp, "sparse.m")
    with open(sparse, "wb") as f:
        f.truncate(300 << 20)
    rc, _, err = run("opf", sparse)
    check("opf on a 300 MiB file: exit 2, the limit named",
          rc == 2 and "314572800 bytes: a case file may have at most 268435456" in err, err)

    # CLI options are checked before any solve (-v would show Ipopt's log on stderr).
    for opt, value, words in (("--rows", "1,1", "generator row 1 is listed twice"),
                              ("--rows", "", "--rows: empty list"),
                              ("--rows", "1,", "(empty entry)"),
                              ("--cols", "2,3,2", "bus 2 is listed twice"),
                              ("--cols", "", "--cols: empty list")):
        rc, out, err = run("opf", case, "--wrt", "pd", "--of", "pg", opt, value, "-v")
        check("opf %s '%s': exit 2 before the solve" % (opt, value),
              rc == 2 and words in err and "iter    objective" not in err and out == "", err)
    rc, out, err = run("opf", case, "--wrt", "pd", "--of", "pg", "--rows", "1,2", "--cols",
                       "2,3", "--json")
    check("opf --rows 1,2 --cols 2,3: exit 0", rc == 0 and
          json.loads(out)["jacobian"]["rows"] == [1, 2], err)

print("1..%d" % len(results))
for i, (name, ok, detail) in enumerate(results, 1):
    print("%s %d - %s" % ("ok" if ok else "not ok", i, name))
    if not ok and detail:
        print("# " + detail.strip().replace("\n", "\n# ")[:2000])
sys.exit(0 if all(ok for _, ok, _ in results) else 1)
