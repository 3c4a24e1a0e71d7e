#!/usr/bin/env python3
"""foldopt opf / gen-grid: JSON keys and values, gen-grid round trip, exit codes.
Usage: check_opf_cli.py FOLDOPT. TAP on stdout."""
import json, os, re, subprocess, sys, tempfile

exe = sys.argv[1]
results = []

def check(name, cond, detail=""):
    results.append((name, bool(cond), detail))

def run(*args):
    p = subprocess.run([exe, *args], capture_output=True, text=True, timeout=300)
    return p.returncode, p.stdout, p.stderr

def branch_flows(path, sol, base_mva):
    """|S| (MVA) at the from and to ends of every branch of a MATPOWER file, at the voltages
    of an opf --json solution (pi model with tap ratio and phase shift)."""
    import cmath, math, re
    text = open(path).read()
    rows = re.search(r"mpc\.branch\s*=\s*\[(.*?)\];", text, re.S).group(1)
    flows = []
    for line in rows.strip().splitlines():
        c = [float(t) for t in line.replace(";", " ").split()]
        f, t, r, x, b, tap, shift = str(int(c[0])), str(int(c[1])), c[2], c[3], c[4], c[8], c[9]
        v = {k: sol["vm"][k] * cmath.exp(1j * math.radians(sol["va"][k])) for k in (f, t)}
        ys, T = 1 / complex(r, x), (tap or 1.0) * cmath.exp(1j * math.radians(shift))
        i_f = (ys + 0.5j * b) / abs(T) ** 2 * v[f] - ys / T.conjugate() * v[t]
        i_t = (ys + 0.5j * b) * v[t] - ys / T * v[f]
        flows.append(max(abs(v[f] * i_f.conjugate()), abs(v[t] * i_t.conjugate())) * base_mva)
    return flows

def affected_of(trust, t):
    """A side's affected entries: its own list, or that of the item it names as having the
    same ("affected_same_as": an earlier index of the trust list)."""
    if "affected" in t:
        return t["affected"]
    k = t["affected_same_as"]
    return trust[k]["affected"] if 0 <= k < trust.index(t) else None

def shrink_and_limit(path, branch):
    """branch None: return the branch with the largest flow at the optimum of path, after
    dividing its r and x by 1000 in the file. Otherwise set that branch's rateA to 90% of
    its flow at the optimum."""
    import re
    rc, out, err = run("opf", path, "--json")
    base_mva = float(re.search(r"mpc\.baseMVA\s*=\s*([0-9.eE+-]+)", open(path).read()).group(1))
    flows = branch_flows(path, json.loads(out)["solution"], base_mva)
    k = max(range(len(flows)), key=flows.__getitem__) if branch is None else branch
    lines = open(path).read().splitlines(True)
    start = next(i for i, l in enumerate(lines) if l.startswith("mpc.branch")) + 1
    c = lines[start + k].replace(";", " ").split()
    if branch is None:
        c[2], c[3] = repr(float(c[2]) / 1000), repr(float(c[3]) / 1000)
    else:
        c[5] = c[6] = c[7] = repr(0.9 * flows[k])
    lines[start + k] = "\t" + "\t".join(c) + ";\n"
    open(path, "w").write("".join(lines))
    return k

with tempfile.TemporaryDirectory() as tmp:
    case = os.path.join(tmp, "grid.m")
    rc, out, err = run("gen-grid", "--buses", "30", "--seed", "4", "-o", case)
    check("gen-grid writes a file", rc == 0 and os.path.getsize(case) > 0, err)
    rc, out, _ = run("gen-grid", "--buses", "30", "--seed", "4")
    check("gen-grid is deterministic", rc == 0 and out == open(case).read())
    rc, out, err = run("opf", case, "--json")
    d = json.loads(out) if rc == 0 else {}
    keys = ["case", "status", "objective", "iterations", "forward_seconds", "n_buses",
            "n_vars", "n_cons", "solution"]
    check("opf --json has the required keys", all(k in d for k in keys), err)
    check("gen-grid round trip solves", d.get("status") == "solved" and d.get("n_buses") == 30)
    sol = d.get("solution", {})
    check("solution keyed by bus id and generator row",
          len(sol.get("vm", {})) == 30 and "1" in sol.get("pg", {}) and "30" in sol.get("va", {}))
    check("no flow variables on the grid by default", d.get("n_flow_var_branches") == 0)
    # The CLI runs OpenBLAS on one thread unless the environment sets its size (main.c).
    def threads_with(env_add):
        env = {k: v for k, v in os.environ.items()
               if k not in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")}
        env.update(env_add)
        p = subprocess.run([exe, "opf", case, "--json"], capture_output=True, text=True,
                           timeout=300, env=env)
        return json.loads(p.stdout).get("library_threads") if p.returncode == 0 else None
    t_default, t_env = threads_with({}), threads_with({"OPENBLAS_NUM_THREADS": "2"})
    check("one library thread by default, OPENBLAS_NUM_THREADS honoured",
          (t_default, t_env) == (1, 2) or (t_default, t_env) == (0, 0),
          f"default {t_default}, OPENBLAS_NUM_THREADS=2: {t_env} (0: no OpenBLAS)")
    rc, out, err = run("opf", case, "--json", "--flow-vars", "all")
    fv = json.loads(out) if rc == 0 else {}
    nf = fv.get("n_flow_var_branches", 0)
    check("--flow-vars all: 4 variables and rows per rated branch, same objective",
          rc == 0 and nf > 0 and fv["status"] == "solved" and
          fv["n_vars"] == d["n_vars"] + 4 * nf and fv["n_cons"] == d["n_cons"] + 4 * nf and
          abs(fv["objective"] - d["objective"]) <= 1e-8 * d["objective"], err)
    for bad in ("-1", "abc"):
        rc, out, err = run("opf", case, "--flow-vars", bad)
        check("--flow-vars " + bad + ": exit 2 naming the option", rc == 2 and "--flow-vars" in err,
              err)
    rc, out, err = run("opf", case, "--json", "--wrt", "pd")
    g = json.loads(out) if rc == 0 else {}
    check("value gradient (LMP) keyed by bus", rc == 0 and len(g.get("gradient", {})) == 30 and
          "backward_seconds" in g, err)
    rc, out, err = run("opf", case, "--json", "--wrt", "pd", "--mode", "vjp")
    v = json.loads(out) if rc == 0 else {}
    scale = max([1] + [abs(x) for x in g.get("gradient", {}).values()])
    ok = rc == 0 and all(abs(v["gradient"][k] - g["gradient"][k]) <= 1e-5 * scale
                         for k in g.get("gradient", {}))
    check("vjp of the objective equals the LMP", ok, err)
    # Iterative backward methods give the direct gradient of the generation (UMFPACK: the
    # most accurate direct solve; the CHOLMOD default agrees to about 1e-6 on such grids).
    args = ["opf", case, "--json", "--wrt", "pd", "--of", "pg", "--mode", "vjp"]
    rc, out, err = run(*args, "--set", "backward.factorization=umfpack")
    ref = json.loads(out).get("gradient", {}) if rc == 0 else {}
    scale = max([1] + [abs(x) for x in ref.values()])
    # Every method with its default preconditioner (precond.kind = auto), in both KKT forms,
    # and says which it used: the KKT map's own factorization for LFPI, GMRES and BiCGSTAB, an
    # SPD block preconditioner for MINRES (doc/math.md §3.9).
    auto_pc = {"lfpi": "exact", "gmres": "exact", "bicgstab": "exact", "minres": "block"}
    runs = [(["--backward", m], pc) for m, pc in auto_pc.items()]
    runs += [(["--backward", m, "--kkt", "barrier"], pc) for m, pc in auto_pc.items()]
    runs.append((["--backward", "minres", "--set", "precond.kind=block"], "block"))
    runs.append((["--backward", "gmres", "--set", "precond.kind=block"], "block"))
    rc, out, err = run(*args, "--kkt", "barrier", "--set", "backward.factorization=umfpack")
    ref_barrier = json.loads(out).get("gradient", {}) if rc == 0 else {}
    for extra, pc in runs:
        rc, out, err = run(*args, *extra)
        it = json.loads(out) if rc == 0 else {}
        r = ref_barrier if "barrier" in extra else ref
        ok = rc == 0 and len(r) == 30 and it.get("backward_method") == extra[1] and all(
            abs(it["gradient"][k] - r[k]) <= 1e-8 * scale for k in r)
        check("opf " + " ".join(extra) + " gives the direct gradient", ok, err)
        check("opf " + " ".join(extra) + " reports precond " + pc,
              it.get("backward_precond") == pc and it["backward"]["iterations"] >= 1, err)
    rc, out, err = run("opf", case, "--wrt", "pd", "--mode", "vjp", "--backward", "minres")
    check("opf --backward minres: the summary names the preconditioner",
          rc == 0 and "minres with precond block" in out, err)
    # A grid whose primal block H_FF makes the block preconditioner indefinite: MINRES breaks
    # down with it (an explicit precond.kind=block is refused, exit 1), and auto goes on with
    # the SPD variant of eq. 3.23 to the direct gradient.
    g60 = os.path.join(tmp, "g60.m")
    run("gen-grid", "--buses", "60", "--seed", "1", "-o", g60)
    a60 = ["opf", g60, "--json", "--wrt", "pd", "--of", "pg", "--mode", "vjp"]
    rc, out, err = run(*a60, "--set", "backward.factorization=umfpack")
    ref60 = json.loads(out).get("gradient", {}) if rc == 0 else {}
    scale60 = max([1] + [abs(x) for x in ref60.values()])
    rc, out, err = run(*a60, "--backward", "minres", "--set", "log.verbose=2")
    it = json.loads(out) if rc == 0 else {}
    check("opf --backward minres after a breakdown of the block preconditioner: the direct "
          "gradient", rc == 0 and len(ref60) == 60 and "broke down" in err and
          it.get("backward_precond") == "block" and
          all(abs(it["gradient"][k] - ref60[k]) <= 1e-8 * scale60 for k in ref60), err)
    rc, out, err = run(*a60, "--backward", "minres", "--set", "precond.kind=block")
    check("opf --backward minres --set precond.kind=block there: exit 1, not positive definite",
          rc == 1 and "not positive definite" in err, err)
    rc, out, err = run(*args, "--backward", "cg")
    check("opf --backward cg: exit 2, the KKT matrix is indefinite",
          rc == 2 and "indefinite" in err and "gradient" not in out, err)
    rc, out, err = run("opf", case, "--json", "--wrt", "pd", "--of", "pg", "--rows", "1",
                       "--cols", "2,3")
    j = json.loads(out) if rc == 0 else {}
    jac = j.get("jacobian", {})
    check("jacobian rows/cols/values", rc == 0 and jac.get("rows") == [1] and
          jac.get("cols") == [2, 3] and len(jac.get("values", [])) == 1 and
          len(jac["values"][0]) == 2, err)
    rc, out, err = run("opf", case, "--json", "--wrt", "pd", "--of", "vm", "--mode", "jvp",
                       "--cols", "5")
    check("jvp keyed by output", rc == 0 and len(json.loads(out).get("jvp", {})) == 30, err)
    # Two identical generators at one bus (the first row repeated): their reactive split is
    # not unique, the active-set KKT is singular and solved with the regularization.
    twin = os.path.join(tmp, "twin.m")
    lines, block = open(case).read().split("\n"), None
    out_lines = []
    for ln in lines:
        out_lines.append(ln)
        if ln.startswith("mpc.gen = [") or ln.startswith("mpc.gencost = ["):
            block = True
        elif block:
            out_lines.append(ln)
            block = None
    open(twin, "w").write("\n".join(out_lines))
    rc, out, err = run("opf", twin, "--json", "--wrt", "pd")
    g = json.loads(out) if rc == 0 else {}
    rc, out, err = run("opf", twin, "--json", "--wrt", "pd", "--mode", "vjp")
    v = json.loads(out) if rc == 0 else {}
    scale = max([1] + [abs(x) for x in g.get("gradient", {}).values()])
    check("twin generators: active form, copied columns pinned (singular, reported)",
          rc == 0 and v.get("kkt") == "active" and "kkt_fallback" not in v and
          v.get("singular_delta", 0) > 0 and
          "copied columns pinned" in v.get("fallback_reason", "") and
          "not_unique" not in v,
          err + out[-400:])
    check("twin generators: vjp of the objective equals the LMP",
          rc == 0 and len(g.get("gradient", {})) == 30 and
          all(abs(v["gradient"][k] - g["gradient"][k]) <= 1e-6 * scale for k in g["gradient"]),
          err)
    rc, out, err = run("opf", twin, "--json", "--wrt", "pd", "--of", "qg", "--mode", "vjp",
                       "--rows", "1")
    q = json.loads(out) if rc == 0 else {}
    check("twin generators: the gradient of one qg is not unique (barrier form, said so)",
          rc == 0 and q.get("kkt") == "barrier" and "not unique" in q.get("kkt_fallback", ""),
          err + out[-400:])
    rc, out, err = run("opf", twin, "--json", "--wrt", "pd", "--of", "qg", "--mode",
                       "jacobian", "--rows", "1,2,3", "--cols", "5,6")
    jq = json.loads(out) if rc == 0 else {}
    vals = jq.get("jacobian", {}).get("values", [[0, 0]] * 3)
    check("twin generators: d qg / d pd rows of the twins null, counted, the rest finite",
          rc == 0 and jq.get("kkt") == "active" and vals[0] == [None, None] and
          vals[1] == [None, None] and all(v is not None for v in vals[2]) and
          jq["jacobian"].get("n_not_unique") == 4 and "not unique" in err, err + out[-300:])
    rc, out, err = run("opf", twin, "--wrt", "pd", "--of", "qg", "--mode", "jvp",
                       "--rows", "1,2,3", "--cols", "5")
    check("twin generators: summary line names the undetermined entries",
          rc == 0 and "not unique  2 of 3 entries" in out and ": qg gen 1, qg gen 2" in out, out)
    rc, out, err = run("opf", case, "--wrt", "pd", "--top", "3")
    check("summary lists the largest sensitivities", rc == 0 and "3 largest of 30" in out, out)
    # A loose tol leaves sides near their crossover (doc/math.md §3.2): by default fold_solve
    # re-solves warm until they are decided; with ambiguity = flag the entries they move are
    # uncertain, null with both values, and the trust report names the sides.
    # sides as the user knows them: a bus voltage, a generator limit, a branch limit
    side_name = (r"bus \d+ v[ma] (upper|lower)|gen \d+ \(bus \d+\) [pq]g (upper|lower)|"
                 r"branch \d+ \(\d+-\d+\) (thermal (from|to)-end|angle difference (upper|lower))")
    loose = ["opf", case, "--json", "--wrt", "pd", "--of", "vm", "--tol", "1e-6"]
    rc, out, err = run(*loose, "--set", "active_set.ambiguity=flag")
    f = json.loads(out) if rc == 0 else {}
    unc = f.get("jacobian", {}).get("uncertain", [])
    amb = [t for t in f.get("trust", []) if t["kind"] == "ambiguous"]
    vals = f.get("jacobian", {}).get("values", [])
    rows, cols = f.get("jacobian", {}).get("rows", []), f.get("jacobian", {}).get("cols", [])
    warn = [l for l in err.splitlines() if "warning" in l]
    check("ambiguity = flag: uncertain entries null with both values, sides named",
          rc == 0 and len(unc) > 0 and all(lo <= hi for _, _, lo, hi in unc) and
          all(vals[rows.index(i)][cols.index(j)] is None for i, j, _, _ in unc) and
          len(amb) > 0 and all(re.fullmatch(side_name, t["name"]) and
                               affected_of(f["trust"], t) for t in amb) and
          len([t for t in f["trust"] if t["kind"] == "uncertain"]) == len(unc) and
          f.get("n_ambiguous", 0) > 0 and f.get("classify_resolves") == 0 and
          len(warn) == 1 and ("%d uncertain" % len(unc)) in warn[0], err + out[-600:])
    rc, out, err = run(*loose)
    d2 = json.loads(out) if rc == 0 else {}
    check("ambiguity = resolve (default): warm re-solves decide them, nothing flagged",
          rc == 0 and d2.get("classify_resolves", 0) >= 1 and d2.get("n_ambiguous") == 0 and
          d2.get("tol_reached", 1) <= 1e-8 and d2.get("trust") == [] and
          d2.get("jacobian", {}).get("uncertain") == [] and "warning" not in err, err + out[-300:])
    # Without derivatives the re-solves are left to a fold that never comes (forward.resolve_when
    # = fold): none runs, and the solution is the first solve's, within its tol of the
    # tightened one (objective, LMPs of the JSON results)
    plain = ["opf", case, "--json", "--tol", "1e-6"]
    rc, out, err = run(*plain)
    d3 = json.loads(out) if rc == 0 else {}
    rc2, out2, err2 = run(*plain, "--set", "forward.resolve_when=solve")
    d4 = json.loads(out2) if rc2 == 0 else {}
    lmp3 = d3.get("results", {}).get("bus", {}).get("lam_p", [])
    lmp4 = d4.get("results", {}).get("bus", {}).get("lam_p", [1])
    check("no derivative asked: no re-solve; objective and LMPs within tol of the tightened",
          rc == 0 and rc2 == 0 and d3.get("classify_resolves") == 0 and
          d3.get("n_ambiguous", 0) > 0 and d4.get("classify_resolves", 0) >= 1 and
          d3.get("iterations", 0) < d4.get("iterations", 0) and
          abs(d3["objective"] - d4["objective"]) <= 1e-6 * abs(d4["objective"]) and
          len(lmp3) == len(lmp4) and
          all(abs(a - b) <= 1e-4 * max(abs(b), 1) for a, b in zip(lmp3, lmp4)) and
          d4["objective"] == d2.get("objective"), err + err2 + out[-300:])
    # The twins with equal linear costs: the split of their pg is not unique, so the
    # optimal value has a kink in their c1 (doc/math.md eq. 3.22): the right derivative is
    # the smallest share of the twin, the left the largest; value and vjp mode agree.
    # (a generator strictly within its limits moved to the first row and repeated, linear at
    # its marginal cost at the optimum, c1 + 2 c2 pg: the two share its output)
    twinlin = os.path.join(tmp, "twinlin.m")
    rc, out, err = run("opf", case, "--json")
    res = json.loads(out)["results"]["gen"] if rc == 0 else {"row": [], "pg": []}
    gl = open(case).read().split("\n")
    g0, c0 = gl.index("mpc.gen = [") + 1, gl.index("mpc.gencost = [") + 1
    lim = [[float(v) for v in gl[g0 + i].rstrip(";").split("\t")[9:11]]
           for i in range(len(res["pg"]))]
    k = next((i for i, pg in enumerate(res["pg"]) if lim[i][1] + 1 < pg < lim[i][0] - 1), 0)
    c = gl[c0 + k].split("\t")
    c[6] = repr(float(c[6]) + 2 * float(c[5]) * (res["pg"][k] if res["pg"] else 0.0))
    c[5] = "0"
    glin, clin = gl[g0 + k], "\t".join(c)
    tl = []
    for i, ln in enumerate(gl):
        if i in (g0 + k, c0 + k):
            continue
        tl.append(ln)
        if ln == "mpc.gen = [":
            tl += [glin, glin]
        elif ln == "mpc.gencost = [":
            tl += [clin, clin]
    open(twinlin, "w").write("\n".join(tl))
    for mode in ("value", "vjp"):
        rc, out, err = run("opf", twinlin, "--json", "--wrt", "c1", "--mode", mode)
        k = json.loads(out) if rc == 0 else {}
        one = k.get("onesided", {})
        kinks = [t for t in k.get("trust", []) if t.get("kind") == "kink"]
        warn = [l for l in err.splitlines() if "warning" in l]
        check("twins with linear costs (" + mode + "): c1 of each twin is a kink, no number",
              rc == 0 and k["gradient"].get("1") is None and k["gradient"].get("2") is None and
              set(one) == {"1", "2"} and one["1"][0] > one["1"][1] and
              abs(one["1"][0] + one["2"][1] - one["1"][1] - one["2"][0]) < 1e-6 * one["1"][0] and
              sorted(t["name"] for t in kinks) == ["c1 gen 1", "c1 gen 2"] and
              all(t["left"] == one[str(t["col"])][0] and t["right"] == one[str(t["col"])][1]
                  for t in kinks) and
              len(k["trust"]) == 2 and len(warn) == 1 and
              ("of the %d entries asked for: 2 at a kink" % len(k["gradient"])) in warn[0] and
              '"trust" in the JSON' in warn[0], err + out[-600:])
    rc, out, err = run("opf", twinlin, "--wrt", "c1")
    check("twins with linear costs: the summary gives left and right, the trust report names them",
          rc == 0 and re.search(r"c1 gen 1 +left +[0-9.]+, right +[0-9.]+", out) and
          re.search(r"kink +c1 gen 1: left [0-9.]+, right [0-9.]+", out) and
          err.count("warning") == 1 and "in the summary" in err, out + err)
    rc, out, err = run("opf", twinlin, "--json", "--wrt", "c1", "--cols", "3,4")
    k = json.loads(out) if rc == 0 else {}
    check("warnings count only the entries asked for",
          rc == 0 and k.get("trust") == [] and "warning" not in err and
          set(k.get("gradient", {})) == {"3", "4"}, err + out[-300:])
    bad = os.path.join(tmp, "bad.m")
    with open(case) as f, open(bad, "w") as b:
        b.write(f.read().replace("mpc.baseMVA = 100;", "mpc.baseMVA = -1;"))
    rc, out, err = run("opf", bad)
    check("malformed file: exit 2, names file and line", rc == 2 and "bad.m:4" in err, err)
    rc, _, err = run("opf", case, "--wrt", "xx")
    check("unknown --wrt value: exit 2", rc == 2 and "--wrt" in err, err)
    rc, _, err = run("opf", case, "--wrt", "pd", "--of", "pg", "--mode", "value")
    check("--mode value needs the objective: exit 2", rc == 2, err)
    rc, _, err = run("opf", case, "--wrt", "pd", "--cols", "999")
    check("unknown bus in --cols: exit 2", rc == 2 and "999" in err, err)
    rc, _, err = run("opf", os.path.join(tmp, "missing.m"))
    check("missing file: exit 2", rc == 2 and "missing.m" in err, err)
    rc, _, err = run("opf", case, "--ipopt", "max_iter=1")
    check("forward failure: exit 1", rc == 1, err)
    rc, out, err = run("opf", case, "--wrt", "pd", "--tol", "1e-14", "--ipopt",
                       "acceptable_tol=1e-2", "--ipopt", "acceptable_iter=1")
    check("acceptable forward solve: derivatives with a warning",
          rc == 0 and "status      acceptable" in out and
          "warning: forward solve acceptable" in err and "tol 1e-14" in err, err)
    # Re-solve after an acceptable stop (doc/acopf.md §2.2): the busiest branch of a grid
    # made 1000 times shorter and limited to 90% of its flow, without flow variables, stops
    # at Ipopt's acceptable level at tol 1e-10; the warm re-solve with flow variables on the
    # stiff branches is "solved", and its VJP of the objective is the LMP.
    stiff = os.path.join(tmp, "stiff.m")
    run("gen-grid", "--buses", "60", "--seed", "11", "-o", stiff)
    busiest = shrink_and_limit(stiff, None)
    shrink_and_limit(stiff, busiest)
    base = ["opf", stiff, "--json", "--flow-vars", "none", "--tol", "1e-10", "--wrt", "pd"]
    rc, out, err = run(*base, "--resolves", "0")
    a = json.loads(out) if rc == 0 else {}
    check("stiff limit without re-solve: acceptable", a.get("status") == "acceptable" and
          a.get("resolves") == 0 and a.get("n_flow_var_branches") == 0, err)
    rc, out, err = run(*base)
    r = json.loads(out) if rc == 0 else {}
    check("stiff limit: one warm re-solve reaches solved with flow variables",
          r.get("status") == "solved" and r.get("resolves") == 1 and
          r.get("first_status") == "acceptable" and
          r.get("first_iterations") == a.get("iterations") and
          r.get("iterations", 0) > r.get("first_iterations", 0) and
          r.get("n_flow_var_branches", 0) >= 1 and
          r.get("n_vars") == a.get("n_vars", 0) + 4 * r.get("n_flow_var_branches", 0) and
          abs(r.get("objective", 0) - a.get("objective", 1)) <= 1e-8 * a.get("objective", 1), err)
    rc, out, err = run(*base, "--mode", "vjp")
    v = json.loads(out) if rc == 0 else {}
    lmp = r.get("gradient", {})
    scale = max([1] + [abs(x) for x in lmp.values()])
    check("stiff limit after the re-solve: VJP of the objective equals the LMP",
          rc == 0 and v.get("resolves") == 1 and len(lmp) == 60 and
          all(abs(v["gradient"][k] - lmp[k]) <= 1e-6 * scale for k in lmp), err)
    for value in ("-1", "x"):
        rc, _, err = run("opf", case, "--resolves", value)
        check("--resolves " + value + ": exit 2 naming the option",
              rc == 2 and "--resolves" in err, err)
    rc, out, err = run("check", case, "--json")
    c = json.loads(out) if rc == 0 else {}
    check("check CASE.m: AC-OPF derivatives agree", rc == 0 and c.get("ok") is True and
          c.get("n") == 2 * 30 + 2 * d.get("n_gens", -1) and c.get("n_checked", 0) > 1000, err)
    rc, out, err = run("check", case, "--json", "--jitter", "0.3", "--seed", "5")
    c = json.loads(out) if rc == 0 else {}
    check("check CASE.m --jitter: derivatives agree off the flat start",
          rc == 0 and c.get("ok") is True and c.get("jitter") == 0.3, err)
    rc, out, err = run("check", case, "--tol", "1e-12")
    check("check CASE.m with an impossible tolerance: exit 1", rc == 1 and "FAILED" in out, err)
    rc, _, err = run("check", bad)
    check("check of a malformed case: exit 2, names file and line", rc == 2 and "bad.m:4" in err,
          err)
    rc, _, err = run("check", os.path.join(tmp, "missing.m"))
    check("check of a missing case: exit 2", rc == 2 and "missing.m" in err, err)
    rc, _, err = run("gen-grid", "--buses", "1")
    check("gen-grid --buses 1: exit 2", rc == 2, err)

# The suspect sides of the central-path check (the qg bounds of generator 5 of case14) move
# the same entries: the JSON lists them once, the other side names that item.
case14 = os.path.join(os.environ.get("FOLDOPT_PGLIB_DIR", ""), "pglib_opf_case14_ieee.m")
if os.path.exists(case14):
    rc, out, err = run("opf", case14, "--json", "--of", "qg", "--wrt", "c2", "--mode",
                       "jacobian")
    f = json.loads(out) if rc == 0 else {"trust": []}
    amb = [t for t in f["trust"] if t["kind"] == "ambiguous"]
    unc = [t for t in f["trust"] if t["kind"] == "uncertain"]
    lists = [affected_of(f["trust"], t) for t in amb]
    check("case14 qg / c2: suspect sides share one affected list, named once in the JSON",
          rc == 0 and len(amb) == 2 and "affected" in amb[0] and
          amb[1].get("affected_same_as") == f["trust"].index(amb[0]) and
          lists[0] == lists[1] and len(lists[0]) == len(unc) > 0, err + out[-600:])

print("1..%d" % len(results))
for i, (name, ok, detail) in enumerate(results, 1):
    print("%s %d - %s" % ("ok" if ok else "not ok", i, name))
    if not ok and detail:
        print("# " + detail.strip().replace("\n", "\n# ")[:2000])
sys.exit(0 if all(ok for _, ok, _ in results) else 1)
