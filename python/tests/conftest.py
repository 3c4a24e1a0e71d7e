"""Shared fixtures: PGLib cases (skipped when the data folder is absent), small synthetic
grids, the foldopt command for comparisons."""
import os
import pathlib

import pytest

import foldopt.opf as opf

PGLIB = pathlib.Path(os.environ.get("FOLDOPT_PGLIB_DIR",
                                    pathlib.Path(__file__).parents[2] / "../shared/data/pglib"))
FOLDOPT_EXE = os.environ.get("FOLDOPT_EXE")

# Reference re-solves for finite differences: tight enough that their noise is far below
# the tolerances of the comparisons (doc/acopf.md §7).
TIGHT = {"forward.tol": 1e-12}


def pglib_path(name):
    path = PGLIB / f"pglib_opf_{name}.m"
    if not path.is_file():
        pytest.skip(f"PGLib case {name} not found in {PGLIB}")
    return str(path)


@pytest.fixture(scope="session")
def grid30():
    return opf.OPF.grid(30, seed=1)


@pytest.fixture(scope="session")
def case14():
    return opf.OPF(pglib_path("case14_ieee"))


@pytest.fixture(scope="session")
def case5():
    return opf.OPF(pglib_path("case5_pjm"))


@pytest.fixture
def exe():
    if not FOLDOPT_EXE or not os.path.exists(FOLDOPT_EXE):
        pytest.skip("the foldopt command is not built (FOLDOPT_EXE)")
    return FOLDOPT_EXE
