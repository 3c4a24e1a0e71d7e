#!/usr/bin/env python3
"""foldopt opf sensitivities: several --wrt and --of in one run, weighted --rows, --cotangent
and --direction files (JSON and CSV) against the Jacobian, progress only when asked or on a
terminal, unknown values listing the valid ones. Usage: check_opf_sens_cli.py FOLDOPT."""
import json, os, re, tempfile

from cli_tap import check, run, finish





def js(*args):
    rc, out, err = run(*args, "--json")
    return (json.loads(out) if rc == 0 else {}), err


def close(a, b, tol):
    return abs(a - b) <= tol * max(1.0, abs(a), abs(b))


with tempfile.TemporaryDirectory() as tmp:
    case = os.path.join(tmp, "grid.m")
    run("gen-grid", "--buses", "20", "--seed", "3", "-o", case)
    # one run, two parameter kinds and two output kinds
    d, err = js("opf", case, "--wrt", "pd,qd", "--of", "pg,vm", "--rows", "1,2", "--cols",
                "2,5")
    jac = d.get("jacobian", {})
    check("--wrt pd,qd --of pg,vm: one Jacobian with its kinds",
          d.get("wrt") == "pd,qd" and d.get("of") == "pg,vm" and
          jac.get("row_of") == ["pg", "pg", "vm", "vm"] and
          jac.get("col_wrt") == ["pd", "pd", "qd", "qd"] and jac.get("rows") == [1, 2, 1, 2] and
          jac.get("cols") == [2, 5, 2, 5] and d["backward"]["n_rhs"] > 0, err)
    single, err = js("opf", case, "--wrt", "qd", "--of", "vm", "--rows", "1,2", "--cols", "2,5")
    v1, v2 = jac.get("values", [[0] * 4] * 4), single.get("jacobian", {}).get("values", [])
    check("the block (vm, qd) equals the single-kind run",
          len(v2) == 2 and all(close(v1[2 + i][2 + j], v2[i][j], 1e-12)
                               for i in range(2) for j in range(2)), err)
    # weighted VJP = weights' Jacobian rows
    full, err = js("opf", case, "--wrt", "pd", "--of", "pg,lam_p,pf", "--rows",
                   "pg:1,lam_p:3,pf:2", "--cols", "2,3,4")
    vals = full.get("jacobian", {}).get("values", [[0] * 3] * 3)
    w = [0.5, -2.0, 1.5]
    want = [sum(w[i] * vals[i][j] for i in range(3)) for j in range(3)]
    vjp, err = js("opf", case, "--wrt", "pd", "--of", "pg,lam_p,pf", "--mode", "vjp",
                  "--rows", "pg:1:0.5,lam_p:3:-2,pf:2:1.5", "--cols", "2,3,4")
    got = [vjp.get("gradient", {}).get(k, 0) for k in ("2", "3", "4")]
    check("--rows kind:key:weight: the VJP is the weighted sum of Jacobian rows",
          all(close(a, b, 1e-9) for a, b in zip(got, want)), "%s vs %s %s" % (got, want, err))
    cj = os.path.join(tmp, "cot.json")
    open(cj, "w").write('{"pg": {"1": 0.5}, "lam_p": {"3": -2}, "pf": {"2": 1.5}}')
    cc = os.path.join(tmp, "cot.csv")
    open(cc, "w").write("of,key,weight\npg,1,0.5\nlam_p,3,-2\n# comment\npf,2,1.5\n")
    for path in (cj, cc):
        g, err = js("opf", case, "--wrt", "pd", "--mode", "vjp", "--cotangent", path, "--cols",
                    "2,3,4")
        got = [g.get("gradient", {}).get(k, 0) for k in ("2", "3", "4")]
        check("--cotangent %s: the same VJP" % os.path.basename(path),
              all(close(a, b, 1e-9) for a, b in zip(got, want)), err)
    # JVP along a direction file = J dp
    jj, err = js("opf", case, "--wrt", "pd,r", "--of", "pf,vm", "--rows", "pf:3,vm:4",
                 "--cols", "pd:2,r:3")
    vals = jj.get("jacobian", {}).get("values", [[0, 0]] * 2)
    dp = [2.0, 1e-3]
    want = [sum(vals[i][j] * dp[j] for j in range(2)) for i in range(2)]
    dj = os.path.join(tmp, "dir.json")
    open(dj, "w").write('{"pd": {"2": 2.0}, "r": {"3": 0.001}}')
    dc = os.path.join(tmp, "dir.csv")
    open(dc, "w").write("pd,2,2.0\nr,3,0.001\n")
    for path in (dj, dc):
        g, err = js("opf", case, "--direction", path, "--of", "pf,vm", "--rows", "pf:3,vm:4")
        jv = g.get("jvp", {})
        got = [jv.get("pf", {}).get("3", 0), jv.get("vm", {}).get("4", 0)]
        check("--direction %s: the JVP is J dp" % os.path.basename(path),
              g.get("mode") == "jvp" and all(close(a, b, 1e-9) for a, b in zip(got, want)) and
              g.get("direction", {}).get("r", {}).get("3") == 0.001,
              "%s vs %s %s" % (got, want, err))
    # progress: only on a terminal or with --progress
    rc, out, err = run("opf", case, "--wrt", "pd", "--of", "pg")
    check("no progress lines when stderr is not a terminal", rc == 0 and "right-hand" not in err,
          err)
    rc, out, err = run("opf", case, "--wrt", "pd", "--of", "pg", "--progress")
    check("--progress: right-hand sides done and time left on stderr",
          rc == 0 and re.search(r"jacobian (\d+)/\1 right-hand sides", err) and "left" in err,
          err)
    # errors name the option and the valid values
    rc, _, err = run("opf", case, "--wrt", "rateB")
    check("unknown --wrt value: exit 2, the valid parameters listed",
          rc == 2 and "rateB" in err and "rate_a" in err and "tap" in err, err)
    rc, _, err = run("opf", case, "--wrt", "pd", "--of", "pg,flow")
    check("unknown --of value: exit 2, the valid outputs listed",
          rc == 2 and "'flow'" in err and "mu_sf" in err and "lam_p" in err, err)
    rc, _, err = run("opf", case, "--wrt", "pd", "--mode", "adjoint")
    check("unknown --mode: exit 2, the valid modes listed", rc == 2 and "jacobian" in err, err)
    rc, _, err = run("opf", case, "--wrt", "pd", "--of", "pg", "--rows", "1:0.5")
    check("a weight outside --mode vjp: exit 2", rc == 2 and "vjp" in err, err)
    rc, _, err = run("opf", case, "--wrt", "pd", "--of", "pg", "--rows", "pg:999")
    check("unknown generator row: exit 2 naming it", rc == 2 and "999" in err, err)
    rc, _, err = run("opf", case, "--wrt", "pd", "--of", "pg", "--rows", "vm:3")
    check("--rows of a kind not in --of: exit 2", rc == 2 and "vm" in err, err)
    bad = os.path.join(tmp, "bad.csv")
    open(bad, "w").write("pg,1,0.5\npg,1,1\n")
    rc, _, err = run("opf", case, "--wrt", "pd", "--mode", "vjp", "--cotangent", bad)
    check("an output given twice in a cotangent file: exit 2 with file and line",
          rc == 2 and "bad.csv:2" in err, err)
    open(bad, "w").write("pg,1\n")
    rc, _, err = run("opf", case, "--wrt", "pd", "--mode", "vjp", "--cotangent", bad)
    check("a short CSV line: exit 2 with file and line", rc == 2 and "bad.csv:1" in err, err)
    open(bad, "w").write('{"pg": {"1": "x"}}')
    rc, _, err = run("opf", case, "--wrt", "pd", "--mode", "vjp", "--cotangent", bad)
    check("a JSON value that is not a number: exit 2", rc == 2 and "not a number" in err, err)
    rc, _, err = run("opf", case, "--wrt", "pd", "--cotangent", cj, "--of", "pg")
    check("--cotangent with --of: exit 2", rc == 2 and "--cotangent" in err, err)
    rc, _, err = run("opf", case, "--direction", dj, "--mode", "vjp")
    check("--direction outside --mode jvp: exit 2", rc == 2 and "--direction" in err, err)
    for rows, words in (("pg:1,,vm:2", "(empty entry)"), (",pg:1", "(empty entry)"),
                        ("pg:1,pg:1", "pg of generator row 1 is listed twice"),
                        ("vm:1e300", "is not an integer key")):
        rc, out, err = run("opf", case, "--wrt", "pd", "--of", "pg,vm", "--rows", rows)
        check("--rows '%s': exit 2, '%s'" % (rows, words), rc == 2 and words in err and
              out == "", err)

finish()
