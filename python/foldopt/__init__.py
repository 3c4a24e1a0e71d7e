"""foldopt: differentiate the solution of an optimization problem with respect to its
parameters (Ipopt forward solve, then one sparse linear solve at the solution).

    import foldopt                  # Problem, Error, settings()
    import foldopt.opf              # AC optimal power flow: OPF, Solution
    import foldopt.torch            # OPFLayer, NLPLayer (needs PyTorch)

doc/python.md documents every function with runnable examples."""
from . import _foldopt
from ._foldopt import Error
from .problem import Problem, Solution, SolveError
from .trust import Trust, TrustItem
from . import opf

__version__ = _foldopt.version

__all__ = ["Problem", "Solution", "Error", "SolveError", "Trust", "TrustItem", "opf",
           "settings", "library_threads", "__version__"]


def settings():
    """Every setting: {name: (type, default, doc)}; pass {name: value} as `settings=` to
    solves (and "ipopt": {option: value} for Ipopt options). doc/settings.md."""
    return {name: (kind, default, doc) for name, kind, default, doc in _foldopt.settings_list()}


def library_threads(n=None):
    """The size of the thread pool of OpenBLAS, the BLAS beneath Ipopt's MUMPS, UMFPACK and
    CHOLMOD (0 when the process has no OpenBLAS). With n >= 1, first sets it (and OpenMP's)
    to n for the whole process, numpy's BLAS included: one thread is as fast on these sparse
    factorizations at half the CPU (doc/benchmarks.md, "Library threads"). foldopt does
    not change it by itself in Python; the foldopt command uses 1."""
    if n is not None and (isinstance(n, bool) or int(n) != n or n < 1):
        raise ValueError(f"library_threads: n = {n!r}, must be an integer >= 1")
    return _foldopt.library_threads(0 if n is None else int(n))
