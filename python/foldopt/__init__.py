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
           "settings", "__version__"]


def settings():
    """Every setting: {name: (type, default, doc)}; pass {name: value} as `settings=` to
    solves (and "ipopt": {option: value} for Ipopt options). doc/settings.md."""
    return {name: (kind, default, doc) for name, kind, default, doc in _foldopt.settings_list()}
