"""The Python package gives the foldopt command's results on PGLib cases: the solution and
multipliers bit for bit (the command's solved case is written with %.17g), the derivatives
to the 12 significant digits of its JSON. Skipped when the PGLib folder is absent."""
import json
import re
import subprocess

import numpy as np
import pytest

import foldopt.opf as opf
from conftest import pglib_path

CASES = ["case5_pjm", "case14_ieee", "case30_ieee", "case57_ieee", "case118_ieee"]


def matrix(text, name):
    body = re.search(r"mpc\.%s = \[(.*?)\];" % name, text, re.S).group(1)
    rows = [r.split("%")[0].replace(";", " ").split() for r in body.strip().split("\n")]
    return np.array([[float(v) for v in r] for r in rows if r])


def close_to_json(a, b):
    """a equal to b, which the JSON printed with %.12g: within 1e-12 plus half a unit of the
    12th digit."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    return np.all(np.abs(a - b) <= 1e-12 * np.maximum(1, np.abs(b)) + 5e-12 * np.abs(b))


@pytest.mark.parametrize("name", CASES)
def test_solution_equals_cli(name, exe, tmp_path):
    path = pglib_path(name)
    solved = tmp_path / "solved.m"
    out = subprocess.run([exe, "opf", path, "--json", "-o", str(solved)], check=True,
                         capture_output=True, text=True).stdout
    cli = json.loads(out)
    sol = opf.OPF(path).solve()
    assert sol.iterations == cli["iterations"]
    assert close_to_json(sol.objective, cli["objective"])
    text = solved.read_text()
    bus, gen = matrix(text, "bus"), matrix(text, "gen")
    # MATPOWER's columns (idx_bus, idx_gen): VM 8, VA 9, LAM_P 14, LAM_Q 15; PG 2, QG 3
    for kind, col, m in [("vm", 7, bus), ("va", 8, bus), ("lam_p", 13, bus),
                         ("lam_q", 14, bus), ("pg", 1, gen), ("qg", 2, gen),
                         ("mu_pmax", 21, gen), ("mu_pmin", 22, gen)]:
        assert np.array_equal(sol[kind], m[:, col]), kind


@pytest.mark.parametrize("name", CASES)
def test_derivatives_equal_cli(name, exe):
    path = pglib_path(name)
    case = opf.OPF(path)
    sol = case.solve()

    def run(*args):
        return json.loads(subprocess.run([exe, "opf", path, "--json", "--no-progress", *args],
                                         check=True, capture_output=True, text=True).stdout)

    lmp = run("--wrt", "pd")["gradient"]
    assert close_to_json(sol.value_gradient("pd"), [lmp[str(k)] for k in case.bus_ids])
    jac = run("--wrt", "pd,qd", "--of", "pg,vm", "--mode", "jacobian")["jacobian"]
    J = sol.jacobian(of=("pg", "vm"), wrt=("pd", "qd"))
    ref = np.array([[np.nan if v is None else v for v in row] for row in jac["values"]])
    assert J.shape == ref.shape
    assert np.array_equal(np.isnan(J), np.isnan(ref))
    ok = ~np.isnan(ref)
    assert close_to_json(J[ok], ref[ok])
    vjp = run("--wrt", "pd", "--mode", "vjp", "--of", "lam_p,ploss")["gradient"]
    g = sol.vjp({"lam_p": np.ones(case.n_bus), "ploss": np.ones(case.n_branch)}, wrt="pd")
    ref = np.array([np.nan if vjp[str(k)] is None else vjp[str(k)] for k in case.bus_ids])
    assert close_to_json(g[~np.isnan(ref)], ref[~np.isnan(ref)])
