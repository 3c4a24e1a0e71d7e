"""foldopt.torch: gradcheck of OPFLayer and NLPLayer against finite differences of
re-solves, batch = serial, failed samples, training, bad input."""
import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import foldopt  # noqa: E402
import foldopt.opf as opf  # noqa: E402
from foldopt.torch import NLPLayer, OPFLayer, SampleFailedWarning  # noqa: E402
from conftest import pglib_path  # noqa: E402
from test_problem import P0, analytic_jacobian, simplex  # noqa: E402


def batch_of(case, kind, scales):
    base = torch.tensor(case.params(kind))
    return (base * torch.tensor(scales, dtype=torch.float64)[:, None]).requires_grad_(True)


def opf_gradcheck(case, settings, atol, rtol):
    layer = OPFLayer(case, wrt=("pd", "qd"), outputs=("pg", "vm", "lam_p"), settings=settings)
    pd = batch_of(case, "pd", [1.0, 0.9])
    qd = batch_of(case, "qd", [1.0, 0.9])
    with warnings.catch_warnings():
        warnings.simplefilter("error", SampleFailedWarning)  # a failed solve fails the test
        assert torch.autograd.gradcheck(lambda p, q: layer(p, q), (pd, qd), eps=1e-2, atol=atol,
                                        rtol=rtol)


@pytest.mark.parametrize("name", ["case5_pjm", "case14_ieee", "grid"])
def test_opf_gradcheck_tight(name):
    case = opf.OPF.grid(12, seed=5) if name == "grid" else opf.OPF(pglib_path(name))
    opf_gradcheck(case, {"forward.tol": 1e-10}, atol=1e-5, rtol=1e-4)


def test_opf_gradcheck_default_settings():
    """At the library's default settings (Ipopt tol 1e-8) the differences of re-solves
    carry noise of about tol / eps: the comparison allows 1e-3 relative."""
    opf_gradcheck(opf.OPF.grid(20, seed=4), None, atol=1e-4, rtol=1e-3)


def test_backward_reuses_forward_factorization(grid30):
    layer = OPFLayer(grid30, wrt="pd", outputs="pg")
    pd = batch_of(grid30, "pd", [1.0, 1.05])
    out = layer(pd)
    ctx_sols = layer.last_solutions
    iters = [s.iterations for s in ctx_sols]
    out.sum().backward()
    for s, it in zip(ctx_sols, iters):  # no solve ran in the backward pass
        assert s.iterations == it and s.last_backward["reused_factorization"] is not None
    J0 = ctx_sols[0].jacobian("pg", "pd")
    assert np.allclose(pd.grad[0].numpy(), J0.sum(0), atol=1e-9)


def test_batch_equals_serial(grid30):
    scales = [1.0, 0.95, 1.05, 1.1]
    layer = OPFLayer(grid30, wrt=("pd",), outputs=("pg", "va"), warm_start=False)
    pd = batch_of(grid30, "pd", scales)
    pg, va = layer(pd)
    w = torch.randn(pg.shape, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    (w * pg).sum().backward()
    for i, s in enumerate(scales):
        p1 = batch_of(grid30, "pd", [s])[0].detach().requires_grad_(True)
        pg1, va1 = layer(p1)
        (w[i] * pg1).sum().backward()
        assert torch.equal(pg1, pg[i]) and torch.equal(va1, va[i])
        assert torch.allclose(p1.grad, pd.grad[i], rtol=0, atol=1e-12)


def test_warm_starts_between_batches(grid30):
    layer = OPFLayer(grid30, wrt="pd", outputs="pg", warm_start=True)
    cold = OPFLayer(grid30, wrt="pd", outputs="pg", warm_start=False)
    pd = batch_of(grid30, "pd", [1.0, 1.02]).detach()
    layer(pd)
    out = layer(pd * 1.01)
    iters_warm = [s.iterations for s in layer.last_solutions]
    ref = cold(pd * 1.01)
    iters_cold = [s.iterations for s in cold.last_solutions]
    assert sum(iters_warm) < sum(iters_cold)
    assert torch.allclose(out, ref, atol=1e-5)


def test_failed_sample_nan_and_zero_gradient(grid30):
    layer = OPFLayer(grid30, wrt="pd", outputs="pg", settings={"forward.max_iter": 60})
    pd = batch_of(grid30, "pd", [1.0, 60.0])
    with pytest.warns(SampleFailedWarning, match="sample 1: forward solve failed"):
        pg = layer(pd)
    assert torch.isfinite(pg[0]).all() and torch.isnan(pg[1]).all()
    pg[0].sum().backward()  # the NaN row is not in the loss
    assert torch.isfinite(pd.grad).all() and (pd.grad[1] == 0).all() and (pd.grad[0] != 0).any()
    strict = OPFLayer(grid30, wrt="pd", outputs="pg", settings={"forward.max_iter": 60},
                      on_failure="raise")
    with pytest.raises(foldopt.SolveError, match="sample 1"):
        strict(pd)


def test_training_reduces_loss():
    """A linear map from a load scale to the loads, trained through OPFLayer so that the
    dispatch of generator 0 reaches a target."""
    case = opf.OPF.grid(12, seed=5)
    layer = OPFLayer(case, wrt="pd", outputs="pg")
    base = torch.tensor(case.params("pd"))
    scale = torch.nn.Parameter(torch.tensor(1.0, dtype=torch.float64))
    target = layer(base * 1.1).detach()[0]
    opt = torch.optim.Adam([scale], lr=0.02)
    losses = []
    for _ in range(10):
        opt.zero_grad()
        loss = (layer((base * scale)[None, :])[0, 0] - target) ** 2
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]


def test_objective_output(grid30):
    layer = OPFLayer(grid30, wrt="pd", outputs="objective")
    pd = batch_of(grid30, "pd", [1.0])
    cost = layer(pd)
    cost.sum().backward()
    lmp = grid30.solve(pd=pd[0].detach().numpy())["lam_p"]
    assert np.allclose(pd.grad[0].numpy(), lmp, rtol=1e-6, atol=1e-6)  # d cost / d pd = LMP


def test_nlp_layer_gradcheck():
    layer = NLPLayer(simplex(), settings={"forward.tol": 1e-10})
    p = torch.tensor(np.stack([P0, P0 + [0.1, -0.1, 0.05, 0.0]]), requires_grad=True)
    assert torch.autograd.gradcheck(layer, (p,), eps=1e-5, atol=1e-5, rtol=1e-4)
    x = layer(p)
    x[0].sum().backward()  # sum(x) = 1 whatever p: zero gradient
    assert torch.allclose(p.grad[0], torch.zeros(4, dtype=torch.float64), atol=1e-8)
    p.grad = None
    (x[0] * torch.tensor([1.0, 0, 0, 0], dtype=torch.float64)).sum().backward()
    assert np.allclose(p.grad[0].numpy(), analytic_jacobian(P0)[0], atol=1e-7)


@pytest.mark.parametrize("make, exc, words", [
    (lambda c: torch.ones(c.n_bus, dtype=torch.float32), TypeError, "pd must be float64"),
    (lambda c: torch.ones(2, 3, dtype=torch.float64), ValueError, "pd must have shape"),
    (lambda c: torch.full((1, c.n_bus), float("nan"), dtype=torch.float64), ValueError,
     r"pd\[0, 0\] is not finite"),
    (lambda c: np.ones(c.n_bus), TypeError, "pd must be a torch.Tensor"),
])
def test_opf_layer_bad_inputs(grid30, make, exc, words):
    layer = OPFLayer(grid30, wrt="pd", outputs="pg")
    with pytest.raises(exc, match=words):
        layer(make(grid30))


def test_opf_layer_bad_construction(grid30):
    with pytest.raises(ValueError, match="unknown parameter kind 'pdd'"):
        OPFLayer(grid30, wrt="pdd")
    with pytest.raises(ValueError, match="unknown output kind 'pgg'"):
        OPFLayer(grid30, outputs="pgg")
    with pytest.raises(ValueError, match="on_failure"):
        OPFLayer(grid30, on_failure="ignore")
    layer = OPFLayer(grid30, wrt=("pd", "qd"))
    with pytest.raises(TypeError, match="expects 2 inputs"):
        layer(torch.ones(grid30.n_bus, dtype=torch.float64))
    with pytest.raises(ValueError, match="same batch size"):
        layer(torch.ones(2, grid30.n_bus, dtype=torch.float64),
              torch.ones(3, grid30.n_bus, dtype=torch.float64))
    with pytest.raises(TypeError, match="problem must be a foldopt.Problem"):
        NLPLayer(grid30)


def sin_batch(case, B):
    pd0 = torch.tensor(case.params("pd"))
    k = torch.arange(B, dtype=torch.float64)[:, None]
    i = torch.arange(case.n_bus, dtype=torch.float64)[None, :]
    return (pd0 * (1 + 0.05 * torch.sin(7.1 * k + 1.3 * i))).requires_grad_(True)


def test_workers_same_results_any_count(grid30):
    """On the scenario engine the samples' results do not depend on the number of worker
    processes (bit for bit) and equal the in-process ones to the solve tolerance (the starts
    differ: chains from the batch's mean against cold starts)."""
    res = {}
    for w in (None, 1, 2):
        layer = OPFLayer(grid30, wrt="pd", outputs=("pg", "vm"), workers=w, warm_start=False)
        pd = sin_batch(grid30, 6)
        pg, vm = layer(pd)
        (pg.sum() + 2 * vm.sum()).backward()
        res[w] = (pg.detach(), vm.detach(), pd.grad)
    for a, b in zip(res[1], res[2]):
        assert torch.equal(a, b)
    for a, b in zip(res[1], res[None]):
        assert torch.allclose(a, b, atol=1e-6, rtol=1e-6)


def test_workers_gradcheck():
    case = opf.OPF.grid(12, seed=5)
    layer = OPFLayer(case, wrt="pd", outputs=("pg", "lam_p"), workers=2,
                     settings={"forward.tol": 1e-10})
    pd = batch_of(case, "pd", [1.0, 0.95, 1.05])
    assert torch.autograd.gradcheck(layer, (pd,), eps=1e-2, atol=1e-5, rtol=1e-4)


def test_workers_failed_sample(grid30):
    layer = OPFLayer(grid30, wrt="pd", outputs="pg", workers=2,
                     settings={"forward.max_iter": 60})
    pd = batch_of(grid30, "pd", [1.0, 60.0, 0.98])
    with pytest.warns(SampleFailedWarning, match="sample 1: forward solve failed"):
        pg = layer(pd)
    assert torch.isnan(pg[1]).all() and torch.isfinite(pg[[0, 2]]).all()
    pg[[0, 2]].sum().backward()
    assert (pd.grad[1] == 0).all() and (pd.grad[0] != 0).any()


def test_workers_bad_argument(grid30):
    with pytest.raises(ValueError, match="workers must be None or an integer"):
        OPFLayer(grid30, workers=-1)


def test_layer_outputs_are_the_differentiated_point():
    """A layer runs the tightening re-solves in its solves (forward.resolve_when = "solve"):
    its outputs are the point the gradient is of, where a plain OPF.solve leaves them to the
    first derivative call and returns the first solve's point (case30: 4 re-solves)."""
    case = opf.OPF(pglib_path("case30_ieee"))
    layer = OPFLayer(case, wrt="pd", outputs="vm", warm_start=False)
    out = layer(torch.tensor(case.params("pd"))).detach().numpy()
    tight = case.solve(settings={"forward.resolve_when": "solve"})
    plain = case.solve()
    assert np.array_equal(out, tight.output("vm"))
    assert not np.array_equal(out, plain.output("vm"))
    assert np.allclose(out, plain.output("vm"), rtol=1e-6, atol=1e-8)
