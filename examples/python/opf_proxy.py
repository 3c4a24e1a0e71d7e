"""A sensitivity-informed ("Sobolev") proxy of AC-OPF: a small network f mapping loads to
dispatch, trained on solved samples of the loads with

    values only:  || f(pd) - pg*(pd) ||^2
    Sobolev:      || f(pd) - pg*(pd) ||^2 + w || J_f(pd) - d pg*/d pd ||_F^2

where d pg*/d pd comes from foldopt on the factorization of each training solve (no extra
solve). Both use the same solves. Reported on unseen samples: the error of the dispatch
(MW) and of its cost ($/h, the generators' polynomial costs at the predicted dispatch)
against the optimal ones. Results and plot: doc/python.md "Example: a Sobolev proxy".

    PYTHONPATH=build/python python3 examples/python/opf_proxy.py [--case FILE.m]
        [--buses 30] [--sizes 8,16,32,64] [--test 200] [--epochs 1500] [--csv out.csv]
"""
import argparse
import csv
import sys
import time

import numpy as np
import torch

import foldopt.opf as opf


def sample_loads(case, n, spread, rng):
    """pd = pd0 (1 + spread u), u uniform in [-1, 1] per bus; qd scaled alike."""
    pd0, qd0 = case.params("pd"), case.params("qd")
    u = rng.uniform(-1, 1, size=(n, case.n_bus))
    return pd0 * (1 + spread * u), qd0 * (1 + spread * u)


def solve_all(case, PD, QD, jacobians):
    """pg* (n, n_gen) and, when asked, d pg*/d pd (n, n_gen, n_bus); failed solves dropped.
    Checks that gen_cost gives the solve's objective (polynomial costs of degree <= 2)."""
    pg, J, keep = [], [], []
    prev = None
    for i in range(PD.shape[0]):
        sol = case.solve(pd=PD[i], qd=QD[i], warm=prev, check=False)
        if not sol.converged:
            continue
        keep.append(i)
        pg.append(sol["pg"])
        if abs(gen_cost(case, pg[-1][None, :])[0] - sol["objective"][0]) > 1e-6 * sol.objective:
            raise SystemExit(f"{case.name}: costs other than quadratic polynomials: the cost "
                             "error of this example does not apply")
        if jacobians:
            J.append(sol.jacobian(of="pg", wrt="pd"))
        prev = sol
    return np.array(keep), np.array(pg), (np.array(J) if jacobians else None)


def gen_cost(case, pg):
    """$/h of dispatch pg (n, n_gen) with the case's polynomial costs (c2 pg^2 + c1 pg + c0)."""
    c0, c1, c2 = (case.params(k) for k in ("c0", "c1", "c2"))
    return (c2 * pg ** 2 + c1 * pg + c0).sum(axis=1)


class Proxy(torch.nn.Module):
    def __init__(self, n_in, n_out, width=64):
        super().__init__()
        self.net = torch.nn.Sequential(
            torch.nn.Linear(n_in, width, dtype=torch.float64), torch.nn.Tanh(),
            torch.nn.Linear(width, width, dtype=torch.float64), torch.nn.Tanh(),
            torch.nn.Linear(width, n_out, dtype=torch.float64))

    def forward(self, x):
        return self.net(x)


def train(X, Y, DY, sobolev_weight, epochs, seed):
    """Full-batch Adam on normalized data: X inputs, Y targets, DY = dY/dX targets."""
    torch.manual_seed(seed)
    model = Proxy(X.shape[1], Y.shape[1])
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, epochs)
    for _ in range(epochs):
        opt.zero_grad()
        loss = ((model(X) - Y) ** 2).sum(1).mean()
        if sobolev_weight > 0:
            # per-sample Jacobians of the proxy: the network acts on each row alone
            Jf = torch.autograd.functional.jacobian(lambda Z: model(Z).sum(0), X,
                                                    create_graph=True, vectorize=True)
            Jf = Jf.permute(1, 0, 2)  # (n, n_out, n_in)
            loss = loss + sobolev_weight * ((Jf - DY) ** 2).sum((1, 2)).mean()
        loss.backward()
        opt.step()
        sched.step()
    return model


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--case", help="MATPOWER case (default: a synthetic grid)")
    ap.add_argument("--buses", type=int, default=30)
    ap.add_argument("--sizes", default="8,16,32,64")
    ap.add_argument("--test", type=int, default=200)
    ap.add_argument("--spread", type=float, default=0.15)
    ap.add_argument("--epochs", type=int, default=1500)
    ap.add_argument("--weight", type=float, default=1.0, help="Sobolev weight w")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--csv", help="write the results table here")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    case = opf.OPF(args.case) if args.case else opf.OPF.grid(args.buses, seed=args.seed)
    sizes = [int(s) for s in args.sizes.split(",")]
    rng = np.random.default_rng(args.seed)
    t0 = time.perf_counter()
    PDtr, QDtr = sample_loads(case, max(sizes), args.spread, rng)
    keep_tr, PGtr, Jtr = solve_all(case, PDtr, QDtr, jacobians=True)
    t_train = time.perf_counter() - t0
    PDte, QDte = sample_loads(case, args.test, args.spread, rng)
    keep_te, PGte, _ = solve_all(case, PDte, QDte, jacobians=False)
    PDtr, PDte = PDtr[keep_tr], PDte[keep_te]
    cost_te = gen_cost(case, PGte)
    print(f"{case.name}: {case.n_bus} buses, {case.n_gen} generators; {len(keep_tr)} training "
          f"solves with Jacobians in {t_train:.2f} s, {len(keep_te)} test solves",
          file=sys.stderr)
    # normalization: x = (pd - pd0) / s_in, y = (pg - mean) / s_out
    pd0 = case.params("pd")
    s_in = np.where(np.abs(pd0) > 0, args.spread * np.abs(pd0), 1.0)
    mu, s_out = PGtr.mean(0), np.maximum(PGtr.std(0), 1.0)
    to_x = lambda PD: torch.tensor((PD - pd0) / s_in)
    rows = []
    for n in sizes:
        X, Y = to_x(PDtr[:n]), torch.tensor((PGtr[:n] - mu) / s_out)
        DY = torch.tensor(Jtr[:n] * s_in[None, None, :] / s_out[None, :, None])
        for method, w in (("values", 0.0), ("sobolev", args.weight)):
            t1 = time.perf_counter()
            model = train(X, Y, DY, w, args.epochs, args.seed)
            with torch.no_grad():
                pred = model(to_x(PDte)).numpy() * s_out + mu
            rmse = float(np.sqrt(((pred - PGte) ** 2).mean()))
            cost_err = float(np.mean(np.abs(gen_cost(case, pred) - cost_te) / cost_te))
            rows.append(dict(samples=n, method=method, dispatch_rmse_mw=rmse,
                             cost_rel_error=cost_err, train_s=time.perf_counter() - t1))
            print(f"{n:4d} solves  {method:8s}  dispatch RMSE {rmse:9.4f} MW  "
                  f"cost error {100 * cost_err:8.4f} %", file=sys.stderr)
    if args.csv:
        with open(args.csv, "w", newline="") as f:
            wr = csv.DictWriter(f, fieldnames=list(rows[0]))
            wr.writeheader()
            wr.writerows(rows)
    return rows


if __name__ == "__main__":
    main()
