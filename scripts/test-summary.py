#!/usr/bin/env python3
"""Total TAP results into one line: 'N passed, M failed'.

Arguments: build folders (their meson-logs/testlog.json: every 'ok' / 'not ok' TAP line of
every test program counts once: a Check test case, or one iteration of a loop test; a
program that crashed or printed no TAP line counts as one failure) and TAP files (*.tap),
totalled together. Default: build."""
import json
import re
import sys


def count(out):
    ok = len(re.findall(r"^ok \d+.*$", out, re.M))
    nok = len(re.findall(r"^not ok \d+", out, re.M))
    skip = len(re.findall(r"^ok \d+.*# *SKIP", out, re.M | re.I))
    whole_skip = 1 if re.search(r"^1\.\.0\s*#\s*SKIP", out, re.M | re.I) else 0
    return ok - skip, nok, skip + whole_skip


def main(sources):
    passed = failed = skipped = 0
    bad = []
    for src in sources:
        if src.endswith(".tap"):
            with open(src) as f:
                p, n, s = count(f.read())
            passed, failed, skipped = passed + p, failed + n, skipped + s
            if n:
                bad.append(src)
            continue
        with open(f"{src}/meson-logs/testlog.json") as log:
            for line in log:
                rec = json.loads(line)
                p, n, s = count(rec.get("stdout") or "")
                if rec.get("result") not in ("OK", "SKIP", "EXPECTEDFAIL") and n == 0:
                    n = 1
                passed, failed, skipped = passed + p, failed + n, skipped + s
                if n:
                    bad.append(f"{rec.get('name')} ({src})")
    for name in bad:
        print(f"failed: {name}")
    print(f"{passed} passed, {failed} failed" + (f", {skipped} skipped" if skipped else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or ["build"]))
