"""OPFLayer on 2 worker processes on case1354_pegase (slow suite): a batch of 4 load samples
gives the serial in-process results to the solve tolerance, and the gradient of one sample
equals the foldopt command's VJP. Skipped when the PGLib folder is absent."""
import json
import subprocess

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import foldopt.opf as opf  # noqa: E402
from foldopt.torch import OPFLayer  # noqa: E402
from conftest import pglib_path  # noqa: E402

SCALES = [1.0, 0.995, 1.005, 1.01]


def test_case1354_on_two_workers(exe):
    path = pglib_path("case1354_pegase")
    case = opf.OPF(path)
    pd0 = torch.tensor(case.params("pd"))
    pd = (torch.tensor(SCALES, dtype=torch.float64)[:, None] * pd0).requires_grad_(True)
    layer = OPFLayer(case, wrt="pd", outputs=("pg", "objective"), workers=2)
    pg, cost = layer(pd)
    info = layer.last_batch_info
    assert info["n_ok"] == len(SCALES) and info["n_workers"] == 2
    pg.sum().backward()
    serial = OPFLayer(case, wrt="pd", outputs=("pg", "objective"), warm_start=False)
    pd_s = pd.detach().clone().requires_grad_(True)
    pg_s, cost_s = serial(pd_s)
    pg_s.sum().backward()
    # the workers' solves start from the batch's mean, the serial ones cold: both stop
    # within Ipopt's tolerance (1e-8 on the scaled KKT conditions) of the same optimum
    scale = float(pg_s.abs().max())
    gscale = float(pd_s.grad.abs().max())
    print(f"# workers against serial: pg {float((pg - pg_s).abs().max()) / scale:.1e}, "
          f"gradients {float((pd.grad - pd_s.grad).abs().max()) / gscale:.1e} of the largest")
    assert (pg - pg_s).abs().max() <= 1e-6 * scale
    assert torch.allclose(cost, cost_s, rtol=1e-8, atol=0)
    assert (pd.grad - pd_s.grad).abs().max() <= 1e-5 * gscale
    # sample 0 (the case's own loads) against the command's VJP of sum(pg) w.r.t. pd
    out = subprocess.run([exe, "opf", path, "--json", "--no-progress", "--wrt", "pd",
                          "--mode", "vjp", "--of", "pg"], check=True, capture_output=True,
                         text=True, timeout=1200).stdout
    g = json.loads(out)["gradient"]
    ref = np.array([np.nan if g[str(k)] is None else g[str(k)] for k in case.bus_ids])
    ok = ~np.isnan(ref)
    assert ok.sum() > 0.9 * ref.size
    # the command solves cold: its gradient equals the serial layer's to its 12 printed
    # digits, the workers' to the solve tolerance
    serial_err = np.abs(pd_s.grad[0].numpy()[ok] - ref[ok]).max()
    worker_err = np.abs(pd.grad[0].numpy()[ok] - ref[ok]).max()
    print(f"# gradient of sample 0 against the command: serial {serial_err / gscale:.1e}, "
          f"workers {worker_err / gscale:.1e} of the largest entry")
    assert np.allclose(pd_s.grad[0].numpy()[ok], ref[ok], rtol=1e-10, atol=1e-12 * gscale)
    assert worker_err <= 1e-5 * gscale
