"""foldopt.Problem: a parametric NLP from Python callables

    min_x f(x; p)  s.t.  g_lower <= g(x; p) <= g_upper,  x_lower <= x <= x_upper

solved by Ipopt, or imported from any solver's x (multipliers optional: recovered by least
squares), then differentiated through its KKT conditions (doc/math.md §3). Callbacks take
numpy arrays and return numpy arrays (sparse derivatives as the values of their declared
pattern, in pattern order). doc/python.md documents every function."""
import numpy as np

from . import _foldopt
from ._util import indices, integer, vector
from .trust import Trust, TrustItem

Error = _foldopt.Error

BLOCKS = {"x": 0, "lam": 1, "zl": 2, "zu": 3}
_CALLBACKS = ("f", "grad_f", "g", "jac_g", "hess_l", "grad_f_p", "hess_lp", "jac_g_p")


class SolveError(Error):
    """The forward solve failed; .solution holds the unconverged Solution."""

    def __init__(self, message, solution=None):
        super().__init__(message)
        self.solution = solution
        self.status_name = "FOLD_ERR_FORWARD_FAILED"


def _pattern(pat, name, n_rows, n_cols, lower=False):
    if pat is None:
        return None, None
    try:
        rows, cols = pat
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a pair (rows, cols) of index arrays") from None
    rows = indices(rows, max(n_rows, 1), f"{name} rows")
    cols = indices(cols, max(n_cols, 1), f"{name} cols")
    if rows.size != cols.size:
        raise ValueError(f"{name}: {rows.size} rows but {cols.size} cols")
    if lower and np.any(rows < cols):
        k = int(np.flatnonzero(rows < cols)[0])
        raise ValueError(f"{name}: entry {k} ({rows[k]}, {cols[k]}) is above the diagonal "
                         "(give the lower triangle)")
    return rows, cols


class Problem:
    """A parametric NLP from callables. Sizes n (variables), m (constraints), np
    (parameters). Callbacks (x and p are float64 arrays; return numpy arrays):

      f(x, p) -> float                    grad_f(x, p) -> (n,)
      g(x, p) -> (m,)                     jac_g(x, p) -> values of jac_g_pattern (m x n)
      hess_l(x, p, obj_factor, lam) -> values of hess_l_pattern (lower triangle of
          obj_factor * Hess f + sum lam_i Hess g_i)
      grad_f_p(x, p) -> (np,)             jac_g_p(x, p) -> values of jac_g_p_pattern (m x np)
      hess_lp(x, p, lam) -> values of hess_lp_pattern (n x np: d/dp of grad f + J' lam)

    Patterns are (rows, cols) index arrays. Bounds default to none; x_start to 0 clipped
    into the bounds; p_default to zeros. An exception raised by a callback stops the solve
    and is raised again by the call."""

    def __init__(self, n, m=0, np_=0, *, f, grad_f, g=None, jac_g=None, jac_g_pattern=None,
                 hess_l=None, hess_l_pattern=None, grad_f_p=None, jac_g_p=None,
                 jac_g_p_pattern=None, hess_lp=None, hess_lp_pattern=None, x_lower=None,
                 x_upper=None, g_lower=None, g_upper=None, x_start=None, p_default=None,
                 name=None):
        self.n = integer(n, "n", 1)
        self.m = integer(m, "m", 0)
        self.np = integer(np_, "np_", 0)
        cbs = dict(f=f, grad_f=grad_f, g=g, jac_g=jac_g, hess_l=hess_l, grad_f_p=grad_f_p,
                   hess_lp=hess_lp, jac_g_p=jac_g_p)
        for k, v in cbs.items():
            if v is not None and not callable(v):
                raise TypeError(f"{k} must be callable, not {type(v).__name__}")
        if self.m > 0 and (g is None or jac_g is None or jac_g_pattern is None):
            raise TypeError("m > 0 needs g, jac_g and jac_g_pattern")
        pairs = [("jac_g", jac_g, jac_g_pattern), ("hess_l", hess_l, hess_l_pattern),
                 ("jac_g_p", jac_g_p, jac_g_p_pattern), ("hess_lp", hess_lp, hess_lp_pattern)]
        for cname, cb, pat in pairs:
            if (cb is None) != (pat is None) and not (cname == "jac_g" and self.m == 0):
                raise TypeError(f"{cname} and {cname}_pattern go together")
        self._cb = cbs
        shapes = {"jac_g": (self.m, self.n), "hess_l": (self.n, self.n),
                  "jac_g_p": (self.m, self.np), "hess_lp": (self.n, self.np)}
        pats = []
        self._nnz = {}
        for cname, cb, pat in pairs:
            r, c = _pattern(pat, f"{cname}_pattern", *shapes[cname], lower=cname == "hess_l")
            pats += [r, c]
            self._nnz[cname] = 0 if r is None else r.size
        bounds = (vector(x_lower, self.n, "x_lower", True, False),
                  vector(x_upper, self.n, "x_upper", True, False),
                  vector(g_lower, self.m, "g_lower", True, False),
                  vector(g_upper, self.m, "g_upper", True, False),
                  vector(x_start, self.n, "x_start", True),
                  vector(p_default, self.np, "p_default", True))
        for bname, b in zip(("x_lower", "x_upper", "g_lower", "g_upper"), bounds[:4]):
            if b is not None and np.any(np.isnan(b)):
                raise ValueError(f"{bname}[{int(np.flatnonzero(np.isnan(b))[0])}] is NaN")
        self._sizes = {"f": None, "grad_f": self.n, "g": self.m, "jac_g": self._nnz["jac_g"],
                       "hess_l": self._nnz["hess_l"], "grad_f_p": self.np,
                       "hess_lp": self._nnz["hess_lp"], "jac_g_p": self._nnz["jac_g_p"]}
        flags = (self.m > 0, hess_l is not None, grad_f_p is not None, hess_lp is not None,
                 jac_g_p is not None)
        self._nlp = _foldopt.NLP(self.n, self.m, self.np, self._dispatch, flags, tuple(pats),
                                 bounds, name)

    def _dispatch(self, which, xb, pb, obj_factor, lamb):
        """Called by the library: run callback `which` and check its result."""
        name = _CALLBACKS[which]
        x = np.frombuffer(xb, dtype=np.float64).copy()
        p = np.frombuffer(pb, dtype=np.float64).copy()
        cb = self._cb[name]
        if name == "hess_l":
            out = cb(x, p, obj_factor, np.frombuffer(lamb, dtype=np.float64).copy())
        elif name == "hess_lp":
            out = cb(x, p, np.frombuffer(lamb, dtype=np.float64).copy())
        else:
            out = cb(x, p)
        if name == "f":
            try:
                return float(out)
            except (TypeError, ValueError):
                raise TypeError(f"callback f returned {type(out).__name__}, not a number") \
                    from None
        arr = np.asarray(out, dtype=np.float64).reshape(-1)
        if arr.size != self._sizes[name]:
            raise ValueError(f"callback {name} returned {arr.size} values, expected "
                             f"{self._sizes[name]}")
        return np.ascontiguousarray(arr)

    def solve(self, p=None, *, settings=None, warm=None, check=True):
        """Solve with Ipopt at parameters p (default p_default). settings: dict of foldopt
        settings (and "ipopt": {option: value}). warm: a Solution of this problem whose
        primal-dual point starts the solve. check: raise SolveError when it fails."""
        pv = vector(p, self.np, "p", allow_none=True)
        if warm is not None and (not isinstance(warm, Solution) or warm.problem is not self):
            raise TypeError("warm must be a Solution of this problem")
        raw = self._nlp.solve(pv, settings, warm._s if warm is not None else None)
        sol = Solution(self, raw)
        if check and not sol.converged:
            raise SolveError(f"forward solve failed: {sol.info['status_name']}", sol)
        return sol

    def import_point(self, x, p=None, *, lam=None, zl=None, zu=None, settings=None):
        """Make a point computed by any solver the solution to differentiate: x required;
        without lam, zl, zu the multipliers are recovered by least squares on the
        constraints active at x. Raises foldopt.Error (FOLD_ERR_NOT_KKT) when x is not a
        KKT point within forward.kkt_tol."""
        args = [vector(x, self.n, "x"), vector(p, self.np, "p", True),
                vector(lam, self.m, "lam", True), vector(zl, self.n, "zl", True),
                vector(zu, self.n, "zu", True)]
        return Solution(self, self._nlp.import_point(*args, settings))

    def check_derivatives(self, x=None, p=None, lam=None, *, h=1e-6, tol=1e-5):
        """Compare every derivative callback with central differences at (x, p, lam);
        returns the report (a dict with 'ok', the worst entry, counts)."""
        x = vector(x if x is not None else np.zeros(self.n), self.n, "x")
        return self._nlp.check_derivatives(x, vector(p, self.np, "p", True),
                                           vector(lam, self.m, "lam", True), float(h),
                                           float(tol))


def _line(selected, k):
    """Position of row or column k among the selected ones (None: all; k < 0: None; -1:
    not selected)."""
    if k < 0:
        return None
    if selected is None:
        return k
    hit = np.flatnonzero(selected == k)
    return int(hit[0]) if hit.size else -1


class Solution:
    """A solved or imported Problem, holding its KKT factorization for any number of
    derivative calls."""

    def __init__(self, problem, raw):
        self.problem = problem
        self._s = raw
        self.info = raw.info()
        self.last_backward = None

    @property
    def converged(self):
        return self._s.status >= 0

    @property
    def status(self):
        return self.info["status_name"]

    @property
    def objective(self):
        return self.info["objective"]

    @property
    def iterations(self):
        return self.info["iterations"]

    def _point(self):
        x, lam, zl, zu, p, obj = self._s.solution()
        return tuple(np.frombuffer(b, dtype=np.float64).copy() for b in (x, lam, zl, zu, p))

    @property
    def x(self):
        return self._point()[0]

    @property
    def lam(self):
        return self._point()[1]

    @property
    def zl(self):
        return self._point()[2]

    @property
    def zu(self):
        return self._point()[3]

    @property
    def p(self):
        return self._point()[4]

    def _done(self, res, place=None):
        out, info = res
        self.last_backward = info
        self._place = place
        return out

    def jvp(self, dp):
        """Directional derivative along dp (np): dict x, lam, zl, zu."""
        P = self.problem
        blocks = ("x", "zl", "zu", "lam")  # the order of the library's jvp entries
        out = self._done(self._s.jvp(vector(dp, P.np, "dp")),
                         lambda e, r, c: {"position": (blocks[min(e // P.n, 3)],
                                                       e - min(e // P.n, 3) * P.n)})
        return dict(zip(("x", "lam", "zl", "zu"),
                        (np.frombuffer(b, dtype=np.float64).copy() for b in out)))

    def vjp(self, x=None, lam=None, zl=None, zu=None):
        """pbar = (dz/dp)' zbar for cotangents on x (n), lam (m), zl, zu (n); None = 0.
        One linear solve."""
        P = self.problem
        if x is None and lam is None and zl is None and zu is None:
            raise TypeError("vjp needs at least one cotangent (x, lam, zl or zu)")
        args = (vector(x, P.n, "x", True), vector(lam, P.m, "lam", True),
                vector(zl, P.n, "zl", True), vector(zu, P.n, "zu", True))
        return np.frombuffer(self._done(self._s.vjp(*args)), dtype=np.float64).copy()

    def jacobian(self, of="x", rows=None, cols=None, *, sparse=False):
        """d z[of][rows] / d p[cols] (dense, or scipy.sparse.csc_matrix)."""
        if of not in BLOCKS:
            raise ValueError(f"of must be one of {', '.join(BLOCKS)}, not {of!r}")
        P = self.problem
        length = P.m if of == "lam" else P.n
        r = None if rows is None else indices(rows, length, "rows")
        c = None if cols is None else indices(cols, P.np, "cols")
        nr = length if r is None else r.size
        nc = P.np if c is None else c.size
        def place(e, row, col):  # entry e = row + nr col; a whole line: its row or col
            if e >= 0:
                return {"position": (e % nr, e // nr)}
            i, j = _line(r, row), _line(c, col)
            return None if -1 in (i, j) else {"position": (i, j)}
        v = np.frombuffer(self._done(self._s.jacobian(BLOCKS[of], r, c), place),
                          dtype=np.float64)
        J = v.reshape((nc, nr)).T.copy()
        if sparse:
            import scipy.sparse
            return scipy.sparse.csc_matrix(J)
        return J

    def value_gradient(self):
        """d f* / d p by the envelope theorem (no linear solve)."""
        return np.frombuffer(self._done(self._s.value_gradient()), dtype=np.float64).copy()

    def trust(self):
        """Trust of the last backward call (see foldopt.opf.Solution.trust)."""
        return Trust.from_backward(self.last_backward,
                                   "barrier" if (self.last_backward or {}).get("kkt_form")
                                   else "active", getattr(self, "_place", None))

    def close(self):
        self._s.release()
