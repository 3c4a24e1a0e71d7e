"""The outputs shown in doc/api/README.md are what the worked examples print (TAP): each
example given runs, exits 0 (its own checks passed) and its whole output is one of the
page's code blocks.

Usage: check_examples_doc.py README.md EXAMPLE ..."""
import os
import re
import subprocess
import sys

page, examples = sys.argv[1], sys.argv[2:]
with open(page) as f:
    blocks = re.findall(r"^```\n(.*?)^```", f.read(), re.M | re.S)
for i, exe in enumerate(examples, 1):
    out = subprocess.run([exe], capture_output=True, text=True)
    name = os.path.basename(exe)
    ok = out.returncode == 0 and out.stdout in blocks
    print(f"{'ok' if ok else 'not ok'} {i} - {name}: the output shown in {os.path.basename(page)}")
    if not ok:
        print("\n".join("# " + line for line in (out.stdout + out.stderr).splitlines()))
print(f"1..{len(examples)}")
