#!/usr/bin/env python3
"""TAP test: doc/settings.md equals `foldopt settings --markdown` (the table is the source)."""
import subprocess
import sys

foldopt, doc = sys.argv[1], sys.argv[2]
generated = subprocess.run([foldopt, "settings", "--markdown"], capture_output=True, text=True,
                           check=True).stdout
with open(doc) as f:
    current = f.read()
print("1..1")
if generated == current:
    print("ok 1 - doc/settings.md is current")
else:
    print("not ok 1 - doc/settings.md is stale: run foldopt settings --markdown > doc/settings.md")
    sys.exit(1)
