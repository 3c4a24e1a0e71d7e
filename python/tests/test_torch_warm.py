"""foldopt.torch across batches and per sample on workers: warm starts from the nearest
solution of the previous batch (held by each worker; in-process alike) give the cold
optima in fewer iterations and gradients equal to central differences of re-solves; a
worker replaced after a crash starts cold; each worker sample's trust report is the one
Solution.trust() gives in-process."""
import os
import signal
import time
import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import foldopt.opf as opf  # noqa: E402
from foldopt.torch import OPFLayer, SampleFailedWarning  # noqa: E402
from conftest import TIGHT  # noqa: E402
from test_torch_failures import children  # noqa: E402

B = 16  # two chains of the engine (FOLD_BATCH_CHUNK 8)


def spread(case, B=B):
    """B load vectors within 5% of the case's (a smooth pattern per sample and bus)."""
    pd0 = torch.tensor(case.params("pd"))
    k = torch.arange(B, dtype=torch.float64)[:, None]
    i = torch.arange(case.n_bus, dtype=torch.float64)[None, :]
    return pd0 * (1 + 0.05 * torch.sin(7.1 * k + 1.3 * i))


def close_pg(a, b):
    """pg equal to 1e-6 relative to the largest dispatch: the warm and cold solves stop at
    different points within Ipopt's tolerance (1e-8 on the scaled KKT conditions)."""
    a, b = np.asarray(a), np.asarray(b)
    return np.max(np.abs(a - b)) <= 1e-6 * np.max(np.abs(b))


@pytest.mark.parametrize("workers", [None, 1, 2])
def test_warm_batches_same_optima_fewer_iterations(grid30, workers):
    """Loads scaled by 1.0, then by 1.001: the second batch warm-started from the first
    equals the cold results and takes fewer iterations in total; in-process and on one
    worker every sample starts from its own previous solution (the nearest)."""
    pd = spread(grid30)
    warm = OPFLayer(grid30, wrt="pd", outputs="pg", workers=workers)
    cold = OPFLayer(grid30, wrt="pd", outputs="pg", workers=workers, warm_start=False)
    warm(pd)
    pg_warm = warm(pd * 1.001).detach()
    pg_cold = cold(pd * 1.001).detach()
    it_warm, it_cold = (layer.last_batch_info["iterations"] for layer in (warm, cold))
    print(f"workers={workers}: {it_cold} iterations cold, {it_warm} warm")
    assert it_warm < it_cold
    assert warm.last_batch_info["n_ok"] == B
    assert close_pg(pg_warm, pg_cold)
    if workers is not None:
        starts = [r.start for r in warm.last_solutions]
        assert all(r.start == "cold" for r in cold.last_solutions)
        if workers == 1:
            assert starts == ["carried"] * B
            assert [r.warm_from for r in warm.last_solutions] == list(range(B))
        else:
            assert starts.count("carried") >= B // 2


def test_warm_batch_gradients_equal_central_differences(grid30):
    """The gradient of a warm second batch on workers (default settings) against central
    differences of tight in-process re-solves along random load directions."""
    layer = OPFLayer(grid30, wrt="pd", outputs="pg", workers=2)
    pd = spread(grid30, 4)
    layer(pd)
    x = (pd * 1.001).requires_grad_(True)
    pg = layer(x)
    w = torch.randn(pg.shape, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    (w * pg).sum().backward()
    assert all(r.start == "carried" for r in layer.last_solutions)
    rng = np.random.default_rng(5)
    h = 1e-2
    for s in range(4):
        dp = rng.standard_normal(grid30.n_bus) * 0.01 * np.abs(x[s].detach().numpy())
        f = [w[s].numpy() @ grid30.solve(pd=x[s].detach().numpy() + sign * h * dp,
                                         settings=TIGHT)["pg"] for sign in (1, -1)]
        fd = (f[0] - f[1]) / (2 * h)
        ad = x.grad[s].numpy() @ dp
        assert abs(ad - fd) <= 1e-4 * max(1.0, abs(fd)), (s, ad, fd)


def alive(pid):
    """The process runs (exists and is not a zombie)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_replaced_workers_start_cold(grid30):
    """Workers killed between batches: their replacements hold nothing, so the next batch
    starts from the anchor without error or warning, with the cold results; the batch
    after it is warm again."""
    others = children()
    layer = OPFLayer(grid30, wrt="pd", outputs="pg", workers=2)
    killed = children() - others
    assert len(killed) == 2
    cold = OPFLayer(grid30, wrt="pd", outputs="pg", warm_start=False)
    pd = spread(grid30)
    layer(pd)
    for pid in killed:
        os.kill(pid, signal.SIGKILL)
    deadline = time.time() + 30
    while any(alive(p) for p in killed) and time.time() < deadline:
        time.sleep(0.05)
    with warnings.catch_warnings():
        warnings.simplefilter("error", SampleFailedWarning)
        pg = layer(pd * 1.001).detach()
    info = layer.last_batch_info
    assert info["n_ok"] == B and info["n_crashed"] == 0 and info["n_respawned"] == 2
    assert not any(r.start == "carried" for r in layer.last_solutions)
    assert close_pg(pg, cold(pd * 1.001).detach())
    layer(pd * 1.002)
    assert any(r.start == "carried" for r in layer.last_solutions)


FLAG = {"forward.tol": 1e-6, "active_set.ambiguity": "flag"}


def item_key(it):
    return (it.kind, it.name, it.position, it.output, it.parameter, it.element,
            tuple(it.affected))


def test_worker_trust_equals_in_process():
    """The 30-bus grid of seed 4 at a loose tol with ambiguity flagged (test_trust.py): the
    VJP of vm with respect to pd and qd has uncertain entries and ambiguous sides. Solved
    cold on workers (warm_start=False, the in-process starts), each sample's trust report
    after the backward pass equals the in-process one item by item, and the warning names
    the sample and the bus."""
    case = opf.OPF.grid(30, seed=4)
    scales = torch.tensor([[1.0], [0.99], [1.01]], dtype=torch.float64)
    res = {}
    for workers in (None, 2):
        layer = OPFLayer(case, wrt=("pd", "qd"), outputs="vm", settings=FLAG,
                         warm_start=False, workers=workers)
        pd = (torch.tensor(case.params("pd")) * scales).requires_grad_(True)
        qd = (torch.tensor(case.params("qd")) * scales).requires_grad_(True)
        vm = layer(pd, qd)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            vm.sum().backward()
        res[workers] = ([s.trust() for s in layer.last_solutions], pd.grad, qd.grad,
                        [str(c.message) for c in caught], vm.detach())
    (tin, pin, qin, win, vin), (tw, pw, qw, ww, vw) = res[None], res[2]
    assert torch.allclose(vw, vin, rtol=0, atol=1e-12)
    assert sum(len(t.items) for t in tin) > 0
    assert any(t.of_kind("uncertain") for t in tin) and any(t.sides for t in tin)
    for a, b in zip(tin, tw):
        assert a.status == b.status
        assert [item_key(it) for it in a.items] == [item_key(it) for it in b.items]
        for x, y in zip(a.items, b.items):
            for f in ("value", "lo", "hi", "slack", "multiplier"):
                u, v = getattr(x, f), getattr(y, f)
                assert (np.isnan(u) and np.isnan(v)) or abs(u - v) <= 1e-9 * max(1, abs(u))
    assert torch.allclose(pw, pin, rtol=0, atol=1e-9) and torch.allclose(qw, qin, rtol=0,
                                                                         atol=1e-9)
    assert any("not unique" in m for m in win)  # the in-process path warns alike
    flagged = [m for m in ww if "not unique" in m]
    assert flagged and all("sample" in m for m in flagged)
    assert any("bus" in m for m in flagged)


def test_in_process_nearest_not_same_position(grid30):
    """In-process the start is the nearest previous solution, not the one at the same
    position: a second batch in reversed order needs as few iterations as in order."""
    pd = spread(grid30, 6)
    counts = []
    for order in (torch.arange(6), torch.arange(5, -1, -1)):
        layer = OPFLayer(grid30, wrt="pd", outputs="pg")
        layer(pd)
        layer(pd[order] * 1.001)
        counts.append(layer.last_batch_info["iterations"])
    cold = OPFLayer(grid30, wrt="pd", outputs="pg", warm_start=False)
    cold(pd * 1.001)
    assert counts[0] == counts[1] < cold.last_batch_info["iterations"]
