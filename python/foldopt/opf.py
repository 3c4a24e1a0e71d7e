"""AC optimal power flow: load a MATPOWER / PowerModels case or make a synthetic grid,
solve it at any parameters (loads, costs, impedances, ratings, limits) and differentiate
any output (dispatch, voltages, flows, LMPs, multipliers) with respect to any parameter.

    import foldopt.opf as opf
    case = opf.OPF("pglib_opf_case14_ieee.m")
    sol = case.solve(pd=1.1 * case.params("pd"))
    sol["pg"], sol.objective, sol.value_gradient("pd")   # dispatch (MW), $/h, LMPs ($/MWh)

Units and signs are MATPOWER's (doc/acopf.md §6); parameters are in file units (§2).
doc/python.md documents every function."""
import re

import numpy as np

from . import _foldopt
from ._util import names, vector
from .problem import Error, SolveError
from .trust import Trust, TrustItem

# fold_acopf_diff_mode
_VALUE, _VJP, _JVP, _JACOBIAN = 0, 1, 2, 3
_ITEM_WORDS = ("case", "bus", "gen", "branch")
_FORWARD_NAMES = {0: "solved", 1: "acceptable", 2: "imported"}

__all__ = ["OPF", "Solution", "Error", "SolveError", "Trust", "TrustItem"]


def _bytes_f64(b):
    return np.frombuffer(b, dtype=np.float64)


def _bytes_i64(b):
    return np.frombuffer(b, dtype=np.int64)


class OPF:
    """An AC-OPF model of a case (file units kept; doc/acopf.md §2).

    OPF(path) reads a MATPOWER version-2 case or a PowerModels JSON network (told by the
    content); OPF(text=..., name=...) parses text; OPF.grid(n_bus, seed) generates a
    synthetic grid. flow_var_max_z: rated branches of smaller impedance get flow variables
    (doc/acopf.md §2.1)."""

    def __init__(self, path=None, *, text=None, name="case", flow_var_max_z=2e-4):
        if path is not None and text is not None:
            raise TypeError("give path or text, not both")
        if path is None and text is None:
            raise TypeError("OPF needs a case: OPF(path), OPF(text=...) or OPF.grid(n_bus)")
        if text is not None and not isinstance(text, (str, bytes)):
            raise TypeError(f"text must be str or bytes, not {type(text).__name__}")
        if isinstance(text, str):
            text = text.encode()
        self._init(dict(path=path, text=text, name=name, flow_var_max_z=flow_var_max_z))

    @classmethod
    def grid(cls, n_bus, seed=1, *, flow_var_max_z=2e-4):
        """A synthetic meshed grid of n_bus >= 2 buses, feasible by construction
        (doc/acopf.md §4); the same seed gives the same grid."""
        from ._util import integer
        n_bus = integer(n_bus, "n_bus", 2)
        seed = integer(seed, "seed", 0)
        self = cls.__new__(cls)
        self._init(dict(grid_buses=n_bus, seed=seed, flow_var_max_z=flow_var_max_z))
        return self

    def _init(self, kw):
        kw = {k: v for k, v in kw.items() if v is not None}
        if not (isinstance(kw.get("flow_var_max_z"), (int, float))
                and kw["flow_var_max_z"] >= 0):
            raise ValueError(f"flow_var_max_z must be a number >= 0, got "
                             f"{kw.get('flow_var_max_z')!r}")
        self._kw = kw
        self._m = _foldopt.OPFModel(**kw)
        s = self._m.sizes()
        self.name = s["name"]
        self.base_mva = s["base_mva"]
        self.n_bus, self.n_gen, self.n_branch = s["n_bus"], s["n_gen"], s["n_branch"]
        self.n_params = s["np"]
        keys = [np.zeros(1, np.int64)] + [_bytes_i64(self._m.keys(t)) for t in (1, 2, 3)]
        self._keys = keys
        gb, bf, bt = self._m.topology()
        self.gen_bus, self.branch_from, self.branch_to = map(_bytes_i64, (gb, bf, bt))
        self._p0 = _bytes_f64(self._m.default_params())
        self._params = {}
        for kind, unit, itype, idx in self._m.param_kinds():
            self._params[kind] = (unit, itype, _bytes_i64(idx))
        self._outputs = {}
        for k, (kind, unit, itype, count) in enumerate(self._m.output_kinds()):
            self._outputs[kind] = (k, unit, itype, count)
        self._aliases = {"rateA": "rate_a", "ratio": "tap", "angle": "shift"}

    def close(self):
        """Release the model: later solves raise ValueError. Solutions made before keep
        what they need and stay usable. Also `with OPF(path) as case: ...`."""
        self._m = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _model(self):
        if self._m is None:
            raise ValueError(f"the case {self.name!r} is closed")
        return self._m

    def __reduce__(self):  # pickling (worker processes) rebuilds the model from its source
        return (_rebuild, (self._kw,))

    def __repr__(self):
        return (f"OPF({self.name!r}: {self.n_bus} buses, {self.n_gen} generators, "
                f"{self.n_branch} branches, {self.n_params} parameters)")

    # ---- keys and kinds ----

    @property
    def bus_ids(self):
        """Bus ids in case order (the keys of per-bus quantities)."""
        return self._keys[1]

    @property
    def gen_rows(self):
        """Rows of mpc.gen of the in-service generators (keys of per-generator quantities)."""
        return self._keys[2]

    @property
    def branch_rows(self):
        """Rows of mpc.branch of the in-service branches (keys of per-branch quantities)."""
        return self._keys[3]

    @property
    def param_kinds(self):
        """Parameter kinds in the order of p: pd, qd, c1, ... (doc/acopf.md §2)."""
        return tuple(self._params)

    @property
    def output_kinds(self):
        """Output kinds: objective, pg, qg, vm, va, pf, ..., lam_p, ... (doc/acopf.md §6)."""
        return tuple(self._outputs)

    def _param(self, kind, name="wrt"):
        kind = self._aliases.get(kind, kind)
        if kind not in self._params:
            raise ValueError(f"{name}: unknown parameter kind {kind!r}; valid: "
                             f"{', '.join(self._params)}")
        return kind, self._params[kind]

    def _output(self, kind, name="of"):
        if kind not in self._outputs:
            raise ValueError(f"{name}: unknown output kind {kind!r}; valid: "
                             f"{', '.join(self._outputs)}")
        return self._outputs[kind]

    def _positions(self, item_type):
        """{key: index} of the items of a type (cached)."""
        cache = self.__dict__.setdefault("_pos", {})
        if item_type not in cache:
            cache[item_type] = {int(v): i for i, v in enumerate(self._keys[item_type])}
        return cache[item_type]

    def _param_label(self, index):
        """(kind, key) of parameter index `index` of p."""
        cache = self.__dict__.get("_plabels")
        if cache is None:
            cache = [None] * self.n_params
            for kind, (unit, itype, idx) in self._params.items():
                for i, k in enumerate(idx):
                    cache[k] = (kind, int(self._keys[itype][i]))
            self._plabels = cache
        return cache[index]

    def _output_label(self, kind, item):
        """(kind, key) of an output (key None for the objective)."""
        itype = self._outputs[kind][2]
        return (kind, int(self._keys[itype][item]) if itype else None)

    def keys(self, kind):
        """Keys of the items of a parameter or output kind: bus ids, gen rows, branch rows
        ([0] for the objective)."""
        if kind in self._outputs:
            return self._keys[self._outputs[kind][2]]
        return self._keys[self._param(kind, "kind")[1][1]]

    def unit(self, kind):
        """Unit of a parameter or output kind ("MW", "$/MWh", ...)."""
        if kind in self._outputs:
            return self._outputs[kind][1]
        return self._param(kind, "kind")[1][0]

    def param_index(self, kind):
        """Indices in p of the parameters of a kind, one per item in case order."""
        return self._param(kind, "kind")[1][2].copy()

    def params(self, kind=None):
        """Default values (the case's) of one parameter kind (file units), or the whole
        vector p when kind is None."""
        if kind is None:
            return self._p0.copy()
        return self._p0[self.param_index(kind)]

    def param_vector(self, p=None, **kinds):
        """The full parameter vector: p (default: the case's), with the kinds given as
        keyword arrays (pd=..., rate_a=...) replacing their entries."""
        out = self.params() if p is None else vector(p, self.n_params, "p").copy()
        for kind, value in kinds.items():
            k, (unit, itype, idx) = self._param(kind, kind)
            out[idx] = vector(value, idx.size, k)
        return out

    # ---- solving ----

    def solve(self, p=None, *, settings=None, tol=None, resolves=2, warm=None, check=True,
              **kinds):
        """Solve the AC-OPF at parameters p (vector) and/or per kind (pd=..., qd=...,
        c1=..., rate_a=...; file units) with Ipopt, re-solving with flow variables on the
        branches whose thermal limit is too stiff for tol (resolves, doc/acopf.md §2.2).
        settings: dict of foldopt settings ({"forward.tol": 1e-10, "backward.kkt_form":
        "barrier", "ipopt": {"mu_init": 1e-6}}); tol is forward.tol. warm: a Solution of this
        model to start from. check: raise SolveError when the solve fails (otherwise the
        returned Solution has converged False and no derivatives)."""
        pv = self.param_vector(p, **kinds) if (p is not None or kinds) else None
        settings = _settings(settings, tol)
        if warm is not None and not isinstance(warm, Solution):
            raise TypeError("warm must be a foldopt.opf.Solution")
        if warm is not None and warm.model is not self:
            raise ValueError("warm must be a solution of this model")
        from ._util import integer
        resolves = integer(resolves, "resolves", 0)
        raw = self._model().solve(pv, settings, resolves,
                                  warm._s if warm is not None else None)
        sol = Solution(self, raw)
        if check and not sol.converged:
            raise SolveError(f"{self.name}: forward solve failed: {sol.status} "
                             f"({sol.info['call_status_name']})", sol)
        return sol

    def import_solution(self, path, p=None, *, kkt_tol=1e-5, polish=False, settings=None,
                        **kinds):
        """A solution computed elsewhere (a MATPOWER solved case or foldopt opf --json),
        checked as a KKT point and made differentiable (doc/acopf.md §8)."""
        pv = self.param_vector(p, **kinds) if (p is not None or kinds) else None
        if not (isinstance(kkt_tol, (int, float)) and kkt_tol > 0 and np.isfinite(kkt_tol)):
            raise ValueError(f"kkt_tol must be a positive number, got {kkt_tol!r}")
        raw = self._model().import_solution(path, pv, float(kkt_tol), bool(polish),
                                            _settings(settings, None))
        return Solution(self, raw)

    def write(self, path, format=None):
        """Write the case: MATPOWER (.m) or PowerModels JSON (.json, or format="json")."""
        fmt = format or ("json" if str(path).endswith(".json") else "matpower")
        self._model().write(path, fmt)


def _rebuild(kw):
    self = OPF.__new__(OPF)
    self._init(kw)
    return self


def _settings(settings, tol):
    if settings is not None and not isinstance(settings, dict):
        raise TypeError(f"settings must be a dict, not {type(settings).__name__}")
    out = dict(settings or {})
    if tol is not None:
        if not (isinstance(tol, (int, float)) and tol > 0):
            raise ValueError(f"tol must be a positive number, got {tol!r}")
        out["forward.tol"] = tol
    return out


class Solution:
    """One solved (or imported) AC-OPF, holding its KKT factorization: any number of
    vjp / jvp / jacobian / value_gradient calls reuse it. Outputs by kind: sol["pg"]."""

    def __init__(self, model, raw):
        self.model = model
        self._s = raw
        self.info = raw.info()
        self.last_backward = None

    # ---- forward results ----

    @property
    def converged(self):
        """True when the forward solve (or import) succeeded (solved, acceptable, imported)."""
        return self._s.status >= 0

    @property
    def status(self):
        """'solved', 'acceptable', 'imported' or the failure ('infeasible', 'iteration
        limit', ...)."""
        st = self.info["status"]
        return _FORWARD_NAMES.get(st, self.info["status_name"])

    @property
    def objective(self):
        """Cost in $/h at the solution."""
        return self.info["objective"]

    @property
    def iterations(self):
        """Ipopt iterations (re-solves included)."""
        return self.info["iterations"]

    @property
    def times(self):
        """Seconds: solve (Ipopt), callbacks, total."""
        i = self.info
        return {"solve": i["solve_seconds"], "callbacks": i["callback_seconds"],
                "total": i["total_seconds"]}

    def _need(self):
        if not self.converged:
            raise Error(f"{self.model.name}: no solution to use: the forward solve failed "
                        f"({self.status})")

    def output(self, kind):
        """Values of an output kind over its items (case order; keys: model.keys(kind)), in
        MATPOWER's units: pg MW, vm p.u., va degrees, lam_p $/MWh, ..."""
        k = self.model._output(kind, "kind")[0]
        self._need()
        return _bytes_f64(self._s.outputs(k)).copy()

    def __getitem__(self, kind):
        return self.output(kind)

    def outputs(self, kinds=None):
        """{kind: values} for the kinds given (default: every output kind)."""
        return {k: self.output(k) for k in (names(kinds, "kinds") if kinds is not None
                                            else self.model.output_kinds)}

    def primal_dual(self):
        """The model's primal-dual point (x, lam, zl, zu) and parameters p (doc/acopf.md §2
        layout, per unit)."""
        self._need()
        return tuple(_bytes_f64(b).copy() for b in self._s.primal_dual())

    @property
    def p(self):
        """The parameters of this solution (file units)."""
        return self.primal_dual()[4]

    # ---- derivatives ----

    def _outs(self, weights):
        """out_kinds, out_items, weights from {kind: per-item array or {key: w}} or a
        scalar for the objective."""
        if not isinstance(weights, dict) or not weights:
            raise TypeError("cotangents must be a non-empty dict {output kind: weights}")
        ks, its, ws = [], [], []
        for kind, w in weights.items():
            k, unit, itype, count = self.model._output(kind, "cotangents")
            if isinstance(w, dict):
                pos = self.model._positions(itype)
                items = []
                for key in w:
                    if int(key) not in pos:
                        raise ValueError(f"cotangents[{kind!r}]: no item with key {key}")
                    items.append(pos[int(key)])
                its.append(np.asarray(items, np.int64))
                wv = vector([float(v) for v in w.values()], len(items), f"cotangents[{kind!r}]")
            else:
                wv = vector(np.atleast_1d(w) if count == 1 else w, count,
                            f"cotangents[{kind!r}]")
                its.append(np.arange(count, dtype=np.int64))
            ks.append(np.full(wv.size, k, dtype=np.int64))
            ws.append(wv)
        return np.concatenate(ks), np.concatenate(its), np.concatenate(ws)

    def _of(self, of):
        ks, its, labels = [], [], []
        for kind in names(of, "of"):
            k, unit, itype, count = self.model._output(kind)
            ks.extend([k] * count)
            its.extend(range(count))
            labels.append((kind, count))
        return np.asarray(ks, np.int64), np.asarray(its, np.int64), labels

    def _cols(self, wrt):
        cols, labels = [], []
        for kind in names(wrt, "wrt"):
            k, (unit, itype, idx) = self.model._param(kind)
            cols.append(idx)
            labels.append((k, idx.size))
        return np.concatenate(cols).astype(np.int64), labels

    def _run(self, mode, ks, its, w, dp, cols, keep_kkt_form, labels=None):
        """One fold_acopf_differentiate call; labels: the (kind, count) blocks of what it
        returns as a dict (the wrt kinds of a gradient, the of kinds of a jvp), to place
        the items of its trust report."""
        self._need()
        values, info = self._s.differentiate(mode, ks, its, w, dp, cols, bool(keep_kkt_form))
        self.last_backward = info
        self._place = _Placer(self.model, mode, ks, its, cols, labels)
        return _bytes_f64(values).copy()

    @staticmethod
    def _split(v, labels):
        out, at = {}, 0
        for kind, count in labels:
            out[kind] = v[at:at + count]
            at += count
        return out

    def value_gradient(self, wrt="pd"):
        """Gradient of the optimal cost ($/h per parameter unit) by the envelope theorem, no
        linear solve: for pd the LMPs. One kind: an array over its items; several: a dict."""
        cols, labels = self._cols(wrt)
        v = self._run(_VALUE, np.zeros(0, np.int64), np.zeros(0, np.int64), None, None, cols,
                      False, labels)
        d = self._split(v, labels)
        return d[labels[0][0]] if isinstance(wrt, str) else d

    def vjp(self, cotangents, wrt="pd", *, keep_kkt_form=False):
        """Reverse mode: sum_r w_r d out_r / d p over the parameters of `wrt`, one linear
        solve. cotangents: {output kind: weights over its items (array) or {key: weight}},
        e.g. {"pg": ybar, "objective": 1.0}. One wrt kind: an array; several: a dict."""
        ks, its, w = self._outs(cotangents)
        cols, labels = self._cols(wrt)
        v = self._run(_VJP, ks, its, w, None, cols, keep_kkt_form, labels)
        d = self._split(v, labels)
        return d[labels[0][0]] if isinstance(wrt, str) else d

    def jvp(self, direction, of="pg", *, keep_kkt_form=False):
        """Forward mode: d outputs / d p . dp along a direction {parameter kind: array over
        its items} (parameter units), one linear solve. One of kind: an array; several: a
        dict."""
        if not isinstance(direction, dict) or not direction:
            raise TypeError("direction must be a non-empty dict {parameter kind: array}")
        dp = np.zeros(self.model.n_params)
        for kind, value in direction.items():
            k, (unit, itype, idx) = self.model._param(kind, "direction")
            dp[idx] += vector(value, idx.size, f"direction[{kind!r}]")
        ks, its, labels = self._of(of)
        v = self._run(_JVP, ks, its, None, dp, None, keep_kkt_form, labels)
        d = self._split(v, labels)
        return d[labels[0][0]] if isinstance(of, str) else d

    def jacobian(self, of="pg", wrt="pd", *, sparse=False, keep_kkt_form=False):
        """d outputs / d parameters: rows the items of the `of` kinds (in order, case order
        within a kind), columns those of the `wrt` kinds; a numpy array, or with sparse=True
        a scipy.sparse.csc_matrix without the exact zeros. Entries a singular KKT matrix
        leaves undetermined are NaN (see trust())."""
        ks, its, _ = self._of(of)
        cols, _ = self._cols(wrt)
        v = self._run(_JACOBIAN, ks, its, None, None, cols, keep_kkt_form)
        J = v.reshape((cols.size, ks.size)).T.copy()
        if sparse:
            import scipy.sparse
            return scipy.sparse.csc_matrix(J)
        return J

    def trust(self):
        """What qualifies the derivatives of the last derivative call (Trust): the KKT form
        used and why it changed, residual, and the library's trust report
        (fold_acopf_trust_report) as TrustItems: sides named by their bus, generator or
        branch, entries placed in the result with their output and parameter keys."""
        place = getattr(self, "_place", None)
        return Trust.from_backward(self.last_backward,
                                   self._s.kkt_form() if self._s.sizes()["open"] else "",
                                   place.place if place else None, _element)

    def close(self):
        """Free the solver and its factorization now (otherwise when garbage-collected)."""
        self._s.release()

    def __repr__(self):
        return (f"<Solution {self.model.name}: {self.status}, objective {self.objective:.6g} "
                f"$/h, {self.iterations} iterations>")


_ELEMENT = re.compile(r"(bus|gen|branch) (\d+)\b")


def _element(name):
    """The element a side of the report belongs to, from its library name ("bus 14 vm
    upper", "gen 3 (bus 2) pg upper", "branch 7 (1-2) thermal from-end"): ("bus", 14)."""
    m = _ELEMENT.match(name)
    return (m.group(1), int(m.group(2))) if m else None


class _Placer:
    """Where the entries of a derivative call's trust report sit in what it returned
    (fold_acopf_trust_report numbers a Jacobian's entries row + n_out col, a gradient's by
    parameter index, a jvp's by output), with their output and parameter keys."""

    def __init__(self, model, mode, ks, its, cols, labels):
        self.model, self.mode, self.labels = model, mode, labels
        kinds = list(model._outputs)
        self.outs = [(kinds[k], int(i)) for k, i in zip(ks, its)]
        self.cols = cols
        self.col_pos = {int(c): j for j, c in enumerate(cols)} if cols is not None else None

    def _output(self, r):
        return self.model._output_label(*self.outs[r])

    def _in_block(self, at):
        """(kind, i) of position `at` of the concatenated blocks of labels."""
        for kind, count in self.labels:
            if at < count:
                return (kind, at)
            at -= count
        return None

    def place(self, entry, row, col):
        if self.mode == _JACOBIAN:
            n_out = len(self.outs)
            if entry < 0:  # a whole column (parameter) or row (output) without a solution
                c = self.col_pos.get(col, -1) if col >= 0 else None
                if c == -1:
                    return None
                return {"position": (row if row >= 0 else None, c),
                        "parameter": self.model._param_label(col) if col >= 0 else None,
                        "output": self._output(row) if row >= 0 else None}
            r, c = entry % n_out, entry // n_out
            return {"position": (r, c), "output": self._output(r),
                    "parameter": self.model._param_label(int(self.cols[c]))}
        if self.mode == _JVP:
            if entry < 0:
                return None
            return {"position": self._in_block(entry), "output": self._output(entry)}
        k = entry if entry >= 0 else col  # a gradient: entries are parameter indices
        if k < 0 or k not in self.col_pos:
            return None  # a parameter that was not asked for
        return {"position": self._in_block(self.col_pos[k]),
                "parameter": self.model._param_label(k)}
