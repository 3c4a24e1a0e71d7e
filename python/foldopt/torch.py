"""foldopt.torch: optimization layers for PyTorch.

    OPFLayer(case, wrt=("pd", "qd"), outputs=("pg", "vm"))   AC-OPF as a layer
    NLPLayer(problem, outputs="x")                           any foldopt.Problem

Inputs are float64 tensors with a batch dimension (B, n_items) (a single sample (n_items,)
is accepted and returns unbatched outputs). The forward pass solves every sample; the
backward pass runs one VJP per sample on the factorization kept from the forward pass (no
re-solve). A sample whose solve fails gives NaN outputs and a zero gradient with a warning,
or raises with on_failure="raise". doc/python.md documents both layers."""
import time
import warnings

import numpy as np
import torch

from . import _foldopt
from .opf import OPF, _VJP, _Placer, _element
from .problem import Problem, SolveError
from .trust import Trust

__all__ = ["OPFLayer", "NLPLayer", "SampleFailedWarning"]


class SampleFailedWarning(RuntimeWarning):
    """A sample of a batch failed: its outputs are NaN and its gradient zero."""


def _as_batch(t, width, name):
    if not isinstance(t, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, not {type(t).__name__}")
    if t.dtype != torch.float64:
        raise TypeError(f"{name} must be float64 (torch.double), not {t.dtype}")
    single = t.dim() == 1
    b = t.unsqueeze(0) if single else t
    if b.dim() != 2 or b.shape[1] != width:
        raise ValueError(f"{name} must have shape (batch, {width}) or ({width},), got "
                         f"{tuple(t.shape)}")
    if not torch.isfinite(b).all():
        bad = torch.nonzero(~torch.isfinite(b))[0].tolist()
        raise ValueError(f"{name}[{', '.join(map(str, bad))}] is not finite")
    return b, single


def _fail(policy, message):
    if policy == "raise":
        raise SolveError(message)
    warnings.warn(message, SampleFailedWarning, stacklevel=4)


def _nearest(previous, p):
    """Index of the row of `previous` (parameters of held solutions) nearest to p in the
    Euclidean norm (the first of equals), or None when there is none: the rule of the
    scenario engine's workers (job.carry, doc/api/batch.md "Warm starts")."""
    if previous is None or len(previous) == 0:
        return None
    return int(np.argmin(((previous - p) ** 2).sum(axis=1)))


class _Held:
    """The converged solutions of the previous batch and their parameters (warm starts)."""

    def __init__(self):
        self.P, self.sols = None, []

    def start(self, p):
        i = _nearest(self.P, p)
        return None if i is None else self.sols[i]

    def keep(self, P, sols):
        ok = [i for i, s in enumerate(sols) if s.converged]
        self.P, self.sols = P[ok].copy(), [sols[i] for i in ok]


class _SerialOPF:
    """Solves the samples of a batch one after the other in this process, each kept
    (solver and factorization) for the backward pass; each sample starts from the nearest
    (in parameter space) converged solution of the previous batch (warm starts), with a
    cold retry when a warm start fails."""

    def __init__(self, case, settings, resolves, warm_start):
        self.case, self.settings, self.resolves = case, settings, resolves
        self.warm_start = warm_start
        self.held = _Held()

    def solve(self, P):
        sols = []
        t0 = time.perf_counter()
        for b in range(P.shape[0]):
            warm = self.held.start(P[b]) if self.warm_start else None
            sol = self.case.solve(P[b], settings=self.settings, resolves=self.resolves,
                                  warm=warm, check=False)
            if not sol.converged and warm is not None:
                sol = self.case.solve(P[b], settings=self.settings, resolves=self.resolves,
                                      check=False)
            sols.append(sol)
        if self.warm_start:
            self.held.keep(P, sols)
        n_ok = sum(s.converged for s in sols)
        self.info = {"n_ok": n_ok, "n_failed": len(sols) - n_ok, "n_workers": 0,
                     "iterations": sum(s.iterations for s in sols),
                     "wall_seconds": time.perf_counter() - t0}
        return sols


class _KeptStates:
    """The states a batch keeps in the workers, released when the last record of the batch
    (held by the autograd graph and by layer.last_solutions) goes away."""

    def __init__(self, batch, keys):
        self.batch, self.keys = batch, keys[keys >= 0].copy()

    def __del__(self):
        try:
            self.batch.release(self.keys)
        except Exception:  # the workers are gone (the layer was freed first)
            pass


_OUTCOMES = ("done", "crashed", "timed out")  # fold_batch_outcome
_STARTS = ("cold", "anchor", "scenario", "carried")  # fold_batch_start


class _BatchResult:
    """A sample solved by a worker of the scenario engine: status, iterations, outcome
    ("done"; "crashed": its worker process died while on it; "timed out"), the engine's
    message and where its solve started (start: "anchor", the batch's mean; "scenario", the
    sample warm_from of this batch; "carried", the sample warm_from of the previous batch
    held by its worker; "cold"); its solver and factorization stay in that worker under
    `key` while the record lives. trust(): the report of its backward VJP."""

    def __init__(self, key, status, iterations, outcome, start, warm_from, message, kept):
        self.key, self.call_status, self.iterations = int(key), int(status), int(iterations)
        self.outcome, self.message = _OUTCOMES[int(outcome)], message
        self.start, self.warm_from = _STARTS[int(start)], int(warm_from)
        self._kept = kept
        self._trust = Trust(kkt_form="")

    def trust(self):
        """The library's trust report of this sample's backward VJP (computed in its worker,
        fold_acopf_trust_report), as Solution.trust() gives it in-process: items named by
        bus, generator, branch and placed in the gradient; status. Empty before the backward
        pass."""
        return self._trust

    @property
    def converged(self):
        return self.call_status >= 0

    @property
    def status(self):
        if self.outcome != "done":
            return f"worker process {self.outcome}: {self.message}"
        return _foldopt.status_name(self.call_status)


class _WorkerOPF:
    """The samples of a batch on the library's scenario engine (foldopt/batch.h): worker
    processes that build the model once, solve warm-started chains of nearby samples (the
    anchor: the batch's mean), start them from the nearest solution of the previous batch
    they hold when it is nearer (job.carry), and keep each sample's factorization for the
    backward pass. Without warm starts every sample is solved cold, as in-process. The
    first batch's records do not depend on the number of workers; later warm batches depend
    on which worker solved what before (not the optima, to the solve tolerance)."""

    def __init__(self, case, wrt, outputs, settings, resolves, workers, warm_start):
        ks, its = [], []
        for kind in outputs:
            k, unit, itype, count = case._output(kind, "outputs")
            ks += [k] * count
            its += list(range(count))
        self.n_out, self.warm_start = len(ks), warm_start
        cols = np.concatenate([case.param_index(k) for k in wrt]).astype(np.int64)
        # where the entries of a sample's trust report sit in its gradient (as in-process)
        self.placer = _Placer(case, _VJP, np.asarray(ks, np.int64), np.asarray(its, np.int64),
                              cols, [(k, case.param_index(k).size) for k in wrt])
        self.batch = _foldopt.OPFBatch(case._model(), np.asarray(ks, np.int64),
                                       np.asarray(its, np.int64), cols, settings or {}, workers,
                                       resolves, bool(warm_start))

    def solve(self, P):
        out, *columns, messages, self.info = self.batch.run(
            np.ascontiguousarray(P, dtype=np.float64), bool(self.warm_start))
        B = P.shape[0]
        self.outputs = np.frombuffer(out, dtype=np.float64).reshape(B, self.n_out).copy()
        columns = [np.frombuffer(b, dtype=np.int64) for b in columns]
        kept = _KeptStates(self.batch, columns[0])
        return [_BatchResult(*row, m, kept) for *row, m in zip(*columns, messages)]

    def vjp(self, results, ybar):
        """pbar per result, the VJPs' statuses; each result's trust() becomes its VJP's
        report."""
        keys = np.asarray([r.key for r in results], np.int64)
        pbar, status = self.batch.vjp(keys, np.ascontiguousarray(ybar, dtype=np.float64))
        status = np.frombuffer(status, dtype=np.int64)
        for i, r in enumerate(results):
            info = {"status_name": _foldopt.status_name(int(status[i])),
                    "trust": self.batch.trust(i) if status[i] >= 0 else []}
            r._trust = Trust.from_backward(info, "", self.placer.place, _element)
        return np.frombuffer(pbar, dtype=np.float64).reshape(len(results), -1), status


class _OPFFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, layer, *inputs):
        batches = [_as_batch(t, layer.case.param_index(k).size, k)
                   for k, t in zip(layer.wrt, inputs)]
        single = batches[0][1]
        B = batches[0][0].shape[0]
        if any(b.shape[0] != B for b, _ in batches):
            raise ValueError("inputs must have the same batch size: " +
                             ", ".join(f"{k} {b.shape[0]}" for k, (b, _) in
                                       zip(layer.wrt, batches)))
        P = np.tile(layer.p, (B, 1))
        for k, (b, _) in zip(layer.wrt, batches):
            P[:, layer.case.param_index(k)] = b.detach().cpu().numpy()
        sols = layer._engine.solve(P)
        layer.last_solutions = sols
        layer.last_batch_info = layer._engine.info
        outs = [np.full((B, layer.case._output(k)[3]), np.nan) for k in layer.outputs]
        for i, sol in enumerate(sols):
            if not sol.converged:
                _fail(layer.on_failure, f"OPFLayer: sample {i}: forward solve failed "
                      f"({sol.status}); outputs NaN, gradient zero")
                continue
            at = 0
            for o, k in zip(outs, layer.outputs):
                if isinstance(layer._engine, _WorkerOPF):
                    o[i] = layer._engine.outputs[i, at:at + o.shape[1]]
                else:
                    o[i] = sol.output(k)
                at += o.shape[1]
        ctx.layer, ctx.sols, ctx.single = layer, sols, single
        res = [torch.from_numpy(o) for o in outs]
        res = [r.squeeze(0) if single else r for r in res]
        return tuple(res)

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, *grads):
        layer, sols = ctx.layer, ctx.sols
        B = len(sols)
        gs = [None if g is None else (g.unsqueeze(0) if ctx.single else g).detach().cpu().numpy()
              for g in grads]
        widths = [layer.case.param_index(k).size for k in layer.wrt]
        pbar = [np.zeros((B, w)) for w in widths]
        if isinstance(layer._engine, _WorkerOPF):
            return (None, *_worker_backward(ctx, layer, sols, gs, pbar))
        for i, sol in enumerate(sols):
            if not sol.converged:
                continue  # NaN outputs, zero gradient (warned in the forward pass)
            cot = {k: g[i] for k, g in zip(layer.outputs, gs) if g is not None and
                   np.any(g[i] != 0)}
            if not cot:
                continue
            try:
                d = sol.vjp(cot, wrt=tuple(layer.wrt))
            except Exception as exc:  # e.g. a singular KKT matrix in both forms
                if layer.on_failure == "raise":
                    raise
                _fail("warn", f"OPFLayer: sample {i}: backward failed ({exc}); gradient zero")
                continue
            for j, k in enumerate(layer.wrt):
                v = d[k]
                if np.any(np.isnan(v)):  # not unique: no gradient rather than a wrong one
                    _fail(layer.on_failure, f"OPFLayer: sample {i}: the derivative of the "
                          f"outputs with respect to {k} is not unique at this solution "
                          f"({sol.trust().detail}); its gradient is zero")
                    v = np.nan_to_num(v, nan=0.0)
                pbar[j][i] = v
        out = [torch.from_numpy(p.squeeze(0) if ctx.single else p) for p in pbar]
        return (None, *out)


def _worker_backward(ctx, layer, sols, gs, pbar):
    """One VJP per converged sample, on the workers that keep their factorizations."""
    ok = [i for i, s in enumerate(sols) if s.converged]
    out = [torch.from_numpy(p.squeeze(0) if ctx.single else p) for p in pbar]
    if not ok:
        return out
    ybar = np.concatenate([np.zeros((len(sols), layer.case._output(k)[3])) if g is None else g
                           for k, g in zip(layer.outputs, gs)], axis=1)[ok]
    full, status = layer._engine.vjp([sols[i] for i in ok], ybar)
    for row, i in enumerate(ok):
        if status[row] < 0:
            why = _foldopt.status_name(int(status[row]))
            if why == "FOLD_ERR_NOT_SOLVED":  # fold_batch_vjp: the state is gone
                why = ("the factorization kept for it is gone (its worker process died after "
                       "the forward pass)")
            _fail(layer.on_failure, f"OPFLayer: sample {i}: backward failed: {why}; its "
                  "gradient is zero")
            continue
        for j, k in enumerate(layer.wrt):
            v = full[row, layer.case.param_index(k)]
            if np.any(np.isnan(v)):  # not unique: no gradient rather than a wrong one
                _fail(layer.on_failure, f"OPFLayer: sample {i}: the derivative of the outputs "
                      f"with respect to {k} is not unique at this solution "
                      f"({_flagged(sols[i].trust())}); its gradient is zero there")
                v = np.nan_to_num(v, nan=0.0)
            pbar[j][i] = v
    return [torch.from_numpy(p.squeeze(0) if ctx.single else p) for p in pbar]


def _flagged(trust, limit=4):
    """The entries and limits a trust report flags, by name, for a warning."""
    items = trust.entries + trust.sides
    names = [f"{it.kind.replace('_', ' ')}: {it.name}" for it in items[:limit]]
    more = f", and {len(items) - limit} more" if len(items) > limit else ""
    return "; ".join(names) + more if names else trust.status


def _layer_settings(settings):
    """A layer's solutions are differentiated: the tightening re-solves run in the solve
    (forward.resolve_when = "solve"), so that its outputs are the point the gradient is of,
    unless the settings say otherwise."""
    out = {"forward.resolve_when": "solve"}
    out.update(settings or {})
    return out


class OPFLayer(torch.nn.Module):
    """AC-OPF as a differentiable layer: parameters `wrt` (per-item tensors, file units:
    pd MW, ...) -> outputs (pg MW, vm p.u., lam_p $/MWh, objective $/h, ...).

    case: an OPF, or a path to a case file. Parameters not in wrt stay at the case's values
    (or at p). settings: foldopt settings dict (e.g. {"forward.tol": 1e-10}).
    on_failure: "warn" (NaN outputs, zero gradient, SampleFailedWarning) or "raise".
    warm_start: start each sample from the nearest (in parameter space) converged solution
    of the previous batch (on workers: of those its worker holds, when nearer than the start
    its chain gives); False: every sample from the model's own start (cold), on workers too
    (no chains), which gives the in-process results.
    workers: None solves the samples in this process; an integer runs them on that many
    worker processes of the library's scenario engine (0: one per core), which keep each
    sample's factorization for the backward pass and (warm_start) warm-start chains of
    nearby samples from the batch's mean; layer.last_solutions then holds per-sample records (converged,
    status, iterations, outcome, start, message, trust()) instead of Solutions.
    layer.last_batch_info: a summary of the last forward pass (n_ok, n_failed, iterations,
    wall_seconds; on workers also n_crashed, n_respawned, worker_peak_kb, ...). Create a
    layer with workers before starting threads: the workers are forks of this process."""

    def __init__(self, case, wrt=("pd", "qd"), outputs=("pg", "vm"), *, p=None,
                 settings=None, resolves=2, on_failure="warn", warm_start=True, workers=None):
        super().__init__()
        self.case = case if isinstance(case, OPF) else OPF(case)
        self.wrt = (wrt,) if isinstance(wrt, str) else tuple(wrt)
        self.outputs = (outputs,) if isinstance(outputs, str) else tuple(outputs)
        for k in self.wrt:
            self.case.param_index(k)
        for k in self.outputs:
            self.case._output(k, "outputs")
        if len(set(self.wrt)) != len(self.wrt) or len(set(self.outputs)) != len(self.outputs):
            raise ValueError("wrt and outputs must not repeat a kind")
        if on_failure not in ("warn", "raise"):
            raise ValueError(f"on_failure must be 'warn' or 'raise', not {on_failure!r}")
        if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int)
                                    or workers < 0):
            raise ValueError(f"workers must be None or an integer >= 0, not {workers!r}")
        self.p = self.case.param_vector(p)
        self.on_failure = on_failure
        self.last_solutions = []  # the Solutions of the last forward pass (trust, info)
        self.last_batch_info = None  # the summary of the last forward pass
        settings = _layer_settings(settings)
        if workers is None:
            self._engine = _SerialOPF(self.case, settings, resolves, warm_start)
        else:
            self._engine = _WorkerOPF(self.case, self.wrt, self.outputs, settings, resolves,
                                      workers, warm_start)

    def forward(self, *inputs):
        if len(inputs) != len(self.wrt):
            raise TypeError(f"OPFLayer expects {len(self.wrt)} inputs ({', '.join(self.wrt)}), "
                            f"got {len(inputs)}")
        out = _OPFFunction.apply(self, *inputs)
        return out[0] if len(out) == 1 else out

    def extra_repr(self):
        return f"{self.case.name}, wrt={self.wrt}, outputs={self.outputs}"


class _NLPFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, layer, p):
        P, single = _as_batch(p, layer.problem.np, "p")
        P = P.detach().cpu().numpy()
        B = P.shape[0]
        n_out = {"x": layer.problem.n, "lam": layer.problem.m}[layer.outputs]
        out = np.full((B, n_out), np.nan)
        sols = []
        for i in range(B):
            warm = layer._held.start(P[i]) if layer.warm_start else None
            sol = layer.problem.solve(P[i], settings=layer.settings, warm=warm, check=False)
            if not sol.converged and warm is not None:
                sol = layer.problem.solve(P[i], settings=layer.settings, check=False)
            sols.append(sol)
            if sol.converged:
                out[i] = sol.x if layer.outputs == "x" else sol.lam
            else:
                _fail(layer.on_failure, f"NLPLayer: sample {i}: forward solve failed "
                      f"({sol.status}); outputs NaN, gradient zero")
        if layer.warm_start:
            layer._held.keep(P, sols)
        layer.last_solutions = sols
        ctx.layer, ctx.sols, ctx.single = layer, sols, single
        r = torch.from_numpy(out)
        return r.squeeze(0) if single else r

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad):
        layer, sols = ctx.layer, ctx.sols
        g = (grad.unsqueeze(0) if ctx.single else grad).detach().cpu().numpy()
        pbar = np.zeros((len(sols), layer.problem.np))
        for i, sol in enumerate(sols):
            if not sol.converged or not np.any(g[i] != 0):
                continue
            try:
                kw = {layer.outputs: g[i]}
                pbar[i] = sol.vjp(**kw)
            except Exception as exc:
                if layer.on_failure == "raise":
                    raise
                _fail("warn", f"NLPLayer: sample {i}: backward failed ({exc}); gradient zero")
        out = torch.from_numpy(pbar.squeeze(0) if ctx.single else pbar)
        return None, out


class NLPLayer(torch.nn.Module):
    """A foldopt.Problem as a layer: p (batch, np) -> x* (batch, n) (outputs="x") or the
    constraint multipliers (outputs="lam"). Same failure policy and warm starts as
    OPFLayer."""

    def __init__(self, problem, outputs="x", *, settings=None, on_failure="warn",
                 warm_start=True):
        super().__init__()
        if not isinstance(problem, Problem):
            raise TypeError(f"problem must be a foldopt.Problem, not {type(problem).__name__}")
        if outputs not in ("x", "lam"):
            raise ValueError(f"outputs must be 'x' or 'lam', not {outputs!r}")
        if on_failure not in ("warn", "raise"):
            raise ValueError(f"on_failure must be 'warn' or 'raise', not {on_failure!r}")
        self.problem, self.outputs = problem, outputs
        self.settings = _layer_settings(settings)
        self.on_failure, self.warm_start = on_failure, warm_start
        self._held = _Held()
        self.last_solutions = []  # the Solutions of the last forward pass

    def forward(self, p):
        return _NLPFunction.apply(self, p)
