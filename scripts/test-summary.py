#!/usr/bin/env python3
"""Total the TAP results of a meson test run into one line: 'N passed, M failed'.

Reads meson-logs/testlog.json of a build folder; every 'ok' / 'not ok' TAP line of every
test program counts once (a Check test case, or one iteration of a loop test). A program
that crashed or printed no TAP line counts as one failure."""
import json
import re
import sys

def main(build_dir):
    passed = failed = skipped = 0
    bad = []
    with open(f"{build_dir}/meson-logs/testlog.json") as log:
        for line in log:
            rec = json.loads(line)
            out = rec.get("stdout") or ""
            ok = len(re.findall(r"^ok \d+.*$", out, re.M))
            nok = len(re.findall(r"^not ok \d+", out, re.M))
            skip = len(re.findall(r"^ok \d+.*# *SKIP", out, re.M | re.I))
            whole_skip = re.search(r"^1\.\.0\s*#\s*SKIP", out, re.M | re.I)
            if rec.get("result") not in ("OK", "SKIP", "EXPECTEDFAIL") and nok == 0:
                nok = 1
            passed += ok - skip
            failed += nok
            skipped += skip + (1 if whole_skip else 0)
            if nok:
                bad.append(rec.get("name"))
    for name in bad:
        print(f"failed: {name}")
    print(f"{passed} passed, {failed} failed" + (f", {skipped} skipped" if skipped else ""))
    return 1 if failed else 0

if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "build"))
