"""The trust report in Python is the library's (fold_acopf_trust_report, fold_trust_report):
the same items as `foldopt opf --json` prints for the same case and call, placed in the
returned arrays and named by bus, generator and branch; for foldopt.Problem the solver's
report."""
import json
import math
import subprocess

import numpy as np
import pytest

import foldopt
import foldopt.opf as opf

FLAG = {"forward.tol": 1e-6, "active_set.ambiguity": "flag"}


def run_cli(exe, *args):
    p = subprocess.run([exe, "opf", *map(str, args), "--json"], capture_output=True, text=True,
                       timeout=300)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


@pytest.fixture(scope="module")
def grid_file(tmp_path_factory):
    """The 30-bus grid of seed 4 (the case of check_opf_cli.py) as a MATPOWER file that
    Python and the command both read."""
    path = tmp_path_factory.mktemp("trust") / "grid.m"
    opf.OPF.grid(30, seed=4).write(str(path))
    return path


def close(a, b):
    """Equal as printed by the command (%.12g) or both missing."""
    if b is None or a is None or (isinstance(a, float) and math.isnan(a)):
        return (b is None) == (a is None or math.isnan(a))
    return abs(a - b) <= 1e-9 * max(1.0, abs(b))


def test_ambiguous_sides_and_uncertain_entries_match_cli(grid_file, exe):
    """A loose tol with active_set.ambiguity = flag leaves sides ambiguous: the Jacobian
    d vm / d pd has uncertain entries (NaN, values in [lo, hi]) and the report names the
    sides by bus / generator; every item equals the command's."""
    cli = run_cli(exe, grid_file, "--wrt", "pd", "--of", "vm", "--tol", "1e-6", "--set",
                  "active_set.ambiguity=flag")
    c = opf.OPF(str(grid_file))
    s = c.solve(settings=FLAG)
    J = s.jacobian("vm", "pd")
    t = s.trust()
    assert t.status == "FOLD_WARN_UNCERTAIN" and not t.exact
    assert len(t.items) == len(cli["trust"]) > 0
    bus = c.bus_ids
    sides = {it.name: it for it in t.sides}
    unc = t.of_kind("uncertain")
    assert len(sides) == len([d for d in cli["trust"] if d["kind"] == "ambiguous"]) > 0
    assert len(unc) == len([d for d in cli["trust"] if d["kind"] == "uncertain"]) > 0
    for d in cli["trust"]:
        if d["kind"] == "ambiguous":
            it = sides[d["name"]]
            assert it.kind == "ambiguous" and it.side in ("lower", "upper")
            assert it.item in ("variable", "constraint") and it.index >= 0
            assert it.element[0] in ("bus", "gen", "branch") and it.name.startswith(
                "%s %d " % it.element)
            assert close(it.slack, d["slack"]) and close(it.multiplier, d["multiplier"])
            assert sorted([int(bus[r]), int(bus[k])] for r, k in it.affected) == \
                sorted(d["affected"])
    by_place = {(it.output, it.parameter): it for it in unc}
    for d in cli["trust"]:
        if d["kind"] != "uncertain":
            continue
        it = by_place[(("vm", d["row"]), ("pd", d["col"]))]
        r, k = it.position
        assert bus[r] == d["row"] and bus[k] == d["col"] and np.isnan(J[r, k])
        assert it.name == d["name"] and it.lo <= it.hi
        assert close(it.value, d["value"]) and close(it.lo, d["lo"]) and close(it.hi, d["hi"])
    # the NaN entries of J are exactly the uncertain ones
    assert {it.position for it in unc} == set(zip(*np.nonzero(np.isnan(J))))


def test_uncertain_entries_of_a_vjp_and_a_jvp_are_placed(grid_file):
    """The same flagged solution through a vjp (entries: parameters) and a jvp (entries:
    outputs): every uncertain item names the NaN it explains."""
    c = opf.OPF(str(grid_file))
    s = c.solve(settings=FLAG)
    g = s.vjp({"vm": np.ones(c.n_bus)}, wrt=("pd", "qd"))
    t = s.trust()
    unc = t.of_kind("uncertain")
    assert unc and {it.position for it in unc} == {
        (k, i) for k in g for i in np.flatnonzero(np.isnan(g[k]))}
    for it in unc:
        kind, i = it.position
        assert it.parameter == (kind, int(c.keys(kind)[i])) and it.lo <= it.hi
    dv = s.jvp({"pd": np.ones(c.n_bus)}, of=("vm", "pg"))
    t = s.trust()
    unc = t.of_kind("uncertain")
    assert unc and {it.position for it in unc} == {
        (k, i) for k in dv for i in np.flatnonzero(np.isnan(dv[k]))}
    assert all(it.output == (it.position[0], int(c.keys(it.position[0])[it.position[1]]))
               and it.parameter is None for it in unc)
    # an uncertain entry depends on the classification of some ambiguous side
    moved = {pos for side in t.sides for pos in side.affected}
    assert {it.position for it in unc} <= moved


def test_not_unique_entries_match_cli(grid_file, exe, tmp_path):
    """Two identical generators at one bus: the rows of their qg in d qg / d pd are not
    unique (NaN), listed as the command lists them."""
    twin = tmp_path / "twin.m"
    twin.write_text(_duplicate_first_generator(grid_file.read_text()))
    cli = run_cli(exe, twin, "--wrt", "pd", "--of", "qg")
    c = opf.OPF(str(twin))
    s = c.solve()
    J = s.jacobian("qg", "pd")
    t = s.trust()
    nu = t.of_kind("not_unique")
    assert t.status == "FOLD_WARN_NOT_UNIQUE" and t.n_not_unique == len(nu)
    assert sorted((it.name, it.output[1], it.parameter[1]) for it in nu) == sorted(
        (d["name"], d["row"], d["col"]) for d in cli["trust"] if d["kind"] == "not_unique")
    assert len(nu) == len(cli["trust"]) > 0
    assert {it.position for it in nu} == set(zip(*np.nonzero(np.isnan(J))))
    assert {it.output[1] for it in nu} == {1, 2}  # the twins, by generator row


def test_kinks_of_the_optimal_value_match_cli(grid_file, exe, tmp_path):
    """Twins with equal linear costs share their output in any split: the optimal value has
    a kink in their c1; the value gradient is NaN there and the report gives the left and
    right derivatives the command prints."""
    case = tmp_path / "twinlin.m"
    base = opf.OPF(str(grid_file)).solve()
    case.write_text(_linear_twins(grid_file.read_text(), base))
    cli = run_cli(exe, case, "--wrt", "c1", "--mode", "value")
    c = opf.OPF(str(case))
    s = c.solve()
    g = s.value_gradient("c1")
    t = s.trust()
    kinks = t.of_kind("kink")
    ref = {d["name"]: d for d in cli["trust"] if d["kind"] == "kink"}
    assert sorted(ref) == ["c1 gen 1", "c1 gen 2"] and len(kinks) == len(cli["trust"]) == 2
    for it in kinks:
        d = ref[it.name]
        kind, i = it.position
        assert kind == "c1" and np.isnan(g[i]) and it.parameter == ("c1", d["col"])
        assert close(it.lo, d["left"]) and close(it.hi, d["right"]) and it.lo > it.hi
    assert np.isfinite(np.delete(g, [it.position[1] for it in kinks])).all()


def test_problem_report_names_the_ambiguous_bound():
    """x*(p) = argmin (x - p)^2 subject to x >= 0 is max(0, p): at p = 0 the bound holds with
    a zero multiplier, which the solution's accuracy cannot classify. The solver's report
    names the bound, the entry it moves is NaN and its interval holds the left (0) and
    right (1) derivatives."""
    prob = foldopt.Problem(
        1, 0, 1, f=lambda x, p: (x[0] - p[0]) ** 2,
        grad_f=lambda x, p: np.array([2 * (x[0] - p[0])]),
        hess_l=lambda x, p, s, lam: np.array([2.0 * s]), hess_l_pattern=([0], [0]),
        grad_f_p=lambda x, p: np.array([-2 * (x[0] - p[0])]),
        hess_lp=lambda x, p, lam: np.array([-2.0]), hess_lp_pattern=([0], [0]),
        x_lower=[0.0], p_default=[0.0])
    s = prob.solve(settings={"forward.tol": 1e-10})
    J = s.jacobian("x")
    t = s.trust()
    assert t.status == "FOLD_WARN_UNCERTAIN" and not t.exact and np.isnan(J[0, 0])
    (side,) = t.sides
    assert side.item == "variable" and side.index == 0 and side.side == "lower"
    assert side.affected == [(0, 0)] and side.slack < 1e-6 and side.multiplier < 1e-6
    (unc,) = t.of_kind("uncertain")
    assert unc.position == (0, 0) and unc.lo == pytest.approx(0, abs=1e-6)
    assert unc.hi == pytest.approx(1, abs=1e-6)
    g = s.vjp(x=[1.0])
    assert np.isnan(g[0]) and [it.position for it in s.trust().of_kind("uncertain")] == [0]


def test_clean_report_is_empty(grid_file):
    c = opf.OPF(str(grid_file))
    s = c.solve()
    s.jacobian(("pg", "vm"), ("pd", "qd"))
    t = s.trust()
    assert t.items == [] and t.exact
    with pytest.raises(ValueError, match="unknown trust kind"):
        t.of_kind("nonsense")


def _duplicate_first_generator(text):
    out, block = [], False
    for line in text.split("\n"):
        out.append(line)
        if line.startswith("mpc.gen = [") or line.startswith("mpc.gencost = ["):
            block = True
        elif block:
            out.append(line)
            block = False
    return "\n".join(out)


def _linear_twins(text, sol):
    """A generator strictly within its limits at the optimum, made linear at its marginal
    cost c1 + 2 c2 pg and moved to the first row twice (as check_opf_cli.py builds it)."""
    lines = text.split("\n")
    g0, c0 = lines.index("mpc.gen = [") + 1, lines.index("mpc.gencost = [") + 1
    model = sol.model
    pmin, pmax, pg = model.params("pmin"), model.params("pmax"), sol["pg"]
    k = next(i for i in range(model.n_gen) if pmin[i] + 1 < pg[i] < pmax[i] - 1)
    cost = lines[c0 + k].split("\t")
    cost[6] = repr(float(cost[6]) + 2 * float(cost[5]) * pg[k])
    cost[5] = "0"
    gen, lin = lines[g0 + k], "\t".join(cost)
    out = []
    for i, line in enumerate(lines):
        if i in (g0 + k, c0 + k):
            continue
        out.append(line)
        if line == "mpc.gen = [":
            out += [gen, gen]
        elif line == "mpc.gencost = [":
            out += [lin, lin]
    return "\n".join(out)
