"""Sum the log of `foldopt opf --wrt W --of O --json --set log.verbose=3` runs: per case, the
forward and backward seconds of its JSON, the block solves of the primary KKT system, the
comparison runs of the trust checks (doc/math.md §3.5), and the rest (setup, refinement
outside the blocks, null-space work, the trust report). Arguments: path stems (STEM.json,
STEM.err)."""
import json, os, re, sys

print("| case | forward s | backward s | / forward | primary system: block solves s (blocks) "
      "| comparison runs: count, s | rest s | entries uncertain |")
print("|---|---|---|---|---|---|---|---|")
run = re.compile(r"fold_jacobian: comparison run \(variant \d+(, path \d+)?\): ([0-9.]+) s$")
for stem in sys.argv[1:]:
    try:
        d = json.load(open(stem + ".json"))
    except (OSError, ValueError):
        print("| %s | failed | | | | | | |" % os.path.basename(stem))
        continue
    primary, blocks, phase, comp = 0.0, 0, None, []
    for line in open(stem + ".err"):
        line = line.rstrip("\n")
        if "KKT setup" in line:
            phase = "primary" if "variant 0, path 0" in line else "other"
        elif "direct solve of" in line and phase == "primary":
            primary += float(line.split()[-4])
            blocks += 1
        m = run.match(line)
        if m:
            comp.append(float(m.group(2)))
    b, f = d["backward_seconds"], d["forward_seconds"]
    jac = d["jacobian"]
    unc = jac["uncertain"]
    n_unc = len(unc) if isinstance(unc, list) else unc
    print("| %s | %.2f | %.2f | %.2fx | %.2f (%d) | %d, %.2f | %.2f | %d of %d |" % (
        d["case"], f, b, b / f, primary, blocks, len(comp), sum(comp), b - primary - sum(comp),
        n_unc, len(jac["rows"]) * len(jac["cols"])))
