#!/usr/bin/env python3
"""foldopt opf --from-solution: foldopt's own solved case (.m) and JSON differentiate as the
solve did; MATPOWER's savecase digits; multiplier columns removed (recovered); a perturbed
file refused naming the bus; --polish; files that are not solutions of the case.
Usage: check_opf_import_cli.py FOLDOPT. TAP on stdout."""
import json, os, re, tempfile

from cli_tap import check, run, close, finish






def rewrite_matrix(text, field, fn):
    """Apply fn to every row (list of tokens) of mpc.<field>."""
    m = re.search(r"(mpc\.%s\s*=\s*\[\n)(.*?)(\];)" % field, text, re.S)
    rows = []
    for line in m.group(2).splitlines():
        body, _, comment = line.partition("%")
        toks = body.replace(";", " ").split()
        if toks:
            rows.append("\t" + "\t".join(fn(toks)) + ";")
    return text[:m.start(2)] + "\n".join(rows) + "\n" + text[m.end(2):]


with tempfile.TemporaryDirectory() as tmp:
    case = os.path.join(tmp, "grid.m")
    run("gen-grid", "--buses", "25", "--seed", "2", "-o", case)
    solved = os.path.join(tmp, "solved.m")
    rc, out, err = run("opf", case, "--json", "--wrt", "pd,vmax", "-o", solved)
    ref = json.loads(out) if rc == 0 else {}
    rc, out, err = run("opf", case, "--json", "--wrt", "pd,vmax", "--from-solution", solved)
    imp = json.loads(out) if rc == 0 else {}
    same = rc == 0 and all(close(imp["gradient"][k][b], ref["gradient"][k][b], 1e-9)
                           for k in ("pd", "vmax") for b in ref["gradient"][k])
    check("own solved case: status imported, multipliers as given, the same LMPs and MU_VMAX",
          same and imp.get("status") == "imported" and imp["iterations"] == 0 and
          imp["import"]["duals_given"] and not imp["import"]["duals_recovered"], err)
    jfile = os.path.join(tmp, "sol.json")
    open(jfile, "w").write(json.dumps(ref))
    rc, out, err = run("opf", case, "--json", "--wrt", "pd", "--from-solution", jfile)
    j = json.loads(out) if rc == 0 else {}
    check("foldopt's JSON as the solution: the same LMPs",
          rc == 0 and all(close(j["gradient"][b], ref["gradient"]["pd"][b], 1e-9)
                          for b in ref["gradient"]["pd"]), err)
    text = open(solved).read()
    # savecase's digits: %.9g for the data, %.4f for flows and multipliers
    def savecase(ncols_fmt4):
        def fn(toks):
            return [("%.4f" % float(t)) if i >= ncols_fmt4 else ("%.9g" % float(t))
                    for i, t in enumerate(toks)]
        return fn
    rounded = rewrite_matrix(text, "bus", savecase(13))
    rounded = rewrite_matrix(rounded, "gen", savecase(21))
    rounded = rewrite_matrix(rounded, "branch", savecase(13))
    rfile = os.path.join(tmp, "rounded.m")
    open(rfile, "w").write(rounded)
    rc, out, err = run("opf", case, "--json", "--wrt", "pd", "--from-solution", rfile)
    r = json.loads(out) if rc == 0 else {}
    worst = max([abs(r["gradient"][b] - ref["gradient"]["pd"][b]) for b in r.get("gradient", {})]
                or [1])
    check("savecase's digits: accepted, residuals reported, LMPs within 1e-4 $/MWh",
          rc == 0 and r["import"]["given_residuals"] is not None and worst <= 1e-4,
          "%s %s" % (worst, err))
    rc, out, err = run("opf", case, "--from-solution", rfile)
    check("the summary reports the residuals of the given multipliers",
          rc == 0 and "given multipliers: stationarity" in out and "KKT residuals" in out, out)
    # the multiplier columns removed: recovered by least squares. The reference is a solve at
    # tol 1e-11 without Ipopt's bound relaxation (at its defaults the multipliers belong to
    # bounds moved by 1e-8; doc/acopf.md §8)
    tight = os.path.join(tmp, "tight.m")
    rc, out, err = run("opf", case, "--json", "--wrt", "pd", "--set", "forward.tol=1e-11",
                       "--ipopt", "bound_relax_factor=0", "-o", tight)
    tref = json.loads(out) if rc == 0 else {"gradient": {"0": 1}}
    stripped = rewrite_matrix(open(tight).read() if rc == 0 else text, "bus", lambda t: t[:13])
    stripped = rewrite_matrix(stripped, "gen", lambda t: t[:10])
    stripped = rewrite_matrix(stripped, "branch", lambda t: t[:13])
    sfile = os.path.join(tmp, "stripped.m")
    open(sfile, "w").write(stripped)
    rc, out, err = run("opf", case, "--json", "--wrt", "pd", "--from-solution", sfile)
    s = json.loads(out) if rc == 0 else {}
    scale = max(abs(v) for v in tref["gradient"].values())
    check("no multiplier columns: recovered by least squares, the LMPs to 1e-8",
          rc == 0 and s["import"]["duals_recovered"] and not s["import"]["duals_given"] and
          all(abs(s["gradient"][b] - tref["gradient"][b]) <= 1e-8 * scale
              for b in s["gradient"]), err)
    # a perturbed voltage: refused, exit 1, the bus named
    def bump(toks):
        if toks[0] == "7":
            toks[7] = repr(float(toks[7]) + 1e-3)
        return toks
    pfile = os.path.join(tmp, "perturbed.m")
    open(pfile, "w").write(rewrite_matrix(text, "bus", bump))
    rc, out, err = run("opf", case, "--from-solution", pfile)
    check("a perturbed solution: exit 1, the residual named by bus",
          rc == 1 and "bus 7" in err and "not a KKT point" in err, err)
    rc, out, err = run("opf", case, "--from-solution", pfile, "--kkt-tol", "1")
    check("--kkt-tol 1 accepts it", rc == 0 and "status      imported" in out, err)
    rc, out, err = run("opf", case, "--json", "--from-solution", rfile, "--polish")
    pj = json.loads(out) if rc == 0 else {}
    check("--polish of the rounded solution: same active set, polished",
          rc == 0 and pj["import"]["polished"] and pj["status"] == "solved", err)
    # not a solution of this case
    other = os.path.join(tmp, "other.m")
    run("gen-grid", "--buses", "26", "--seed", "2", "-o", other)
    rc, out, err = run("opf", case, "--from-solution", other)
    check("a solution of another network: exit 2 naming the difference",
          rc == 2 and "26 buses" in err, err)
    rc, out, err = run("opf", case, "--polish")
    check("--polish without --from-solution: exit 2", rc == 2 and "--from-solution" in err, err)

finish()
