#!/usr/bin/python3
"""Infeasibility certificate for the neighbourhood of a bus of a MATPOWER case
(doc/acopf.md §4.1).

    /usr/bin/python3 scripts/grid-relaxation.py CASE.m BUS D

Keeps the buses within D branches of bus BUS (by id): those closer than D with all their
constraints (loads, generators, voltage, thermal and angle limits of their branches), those
at distance D as free sources (unlimited P and Q, any angle, V within their limits). Every
feasible point of the case restricts to a feasible point of this sub-network. Its SOC
relaxation (Jabr: w_i = V_i^2, per branch (wr, wi) with wr^2 + wi^2 <= w_f w_t; flows linear
in (w, wr, wi); thermal limits as cones; angle limits |wi| <= tan(angmax) wr) contains every
AC-feasible point and is convex: a positive minimum of its total power-balance violation
(minimized with SciPy's SLSQP) proves the case infeasible. Needs python3-numpy and
python3-scipy. Branches with taps or phase shifts are not supported (the synthetic grids
have none)."""
import sys

import numpy as np
from scipy.optimize import minimize


def read_case(path):
    """The numeric matrices of a MATPOWER file written by foldopt (one row per line)."""
    blocks, rows, name = {}, None, None
    for line in open(path):
        s = line.split("%")[0].strip()
        if s.startswith("mpc.") and "[" in s:
            name, rows = s.split("=")[0].strip()[4:], []
        elif rows is not None and s.startswith("]"):
            blocks[name], rows = np.array(rows), None
        elif rows is not None and s:
            rows.append([float(v) for v in s.rstrip(";").split()])
    base = 100.0
    for line in open(path):
        if line.strip().startswith("mpc.baseMVA"):
            base = float(line.split("=")[1].strip().rstrip(";"))
    return blocks["bus"], blocks["gen"], blocks["branch"], base


def neighbourhood(bus, branch, centre, depth):
    """Hop distance from bus `centre` (id) of every bus within `depth` (index -> distance)."""
    index = {int(b): i for i, b in enumerate(bus[:, 0])}
    adj = [[] for _ in bus]
    for row in branch:
        f, t = index[int(row[0])], index[int(row[1])]
        adj[f].append(t)
        adj[t].append(f)
    dist, queue = {index[centre]: 0}, [index[centre]]
    for i in queue:
        if dist[i] < depth:
            for j in adj[i]:
                if j not in dist:
                    dist[j] = dist[i] + 1
                    queue.append(j)
    return dist, index


def relaxation(bus, gen, branch, base, dist, index, depth):
    """Variables, bounds and constraints of the SOC relaxation of the sub-network."""
    inner = [i for i in dist if dist[i] < depth]
    nodes = sorted(dist)
    pos = {i: k for k, i in enumerate(nodes)}
    keep = [k for k, row in enumerate(branch)
            if index[int(row[0])] in dist and index[int(row[1])] in dist and
            min(dist[index[int(row[0])]], dist[index[int(row[1])]]) < depth]
    br = branch[keep]
    if np.any((br[:, 8] != 0) & (br[:, 8] != 1)) or np.any(br[:, 9] != 0):
        sys.exit("grid-relaxation: taps and phase shifts are not supported")
    gens = [k for k in range(len(gen)) if index[int(gen[k, 0])] in dist and
            dist[index[int(gen[k, 0])]] < depth and gen[k, 7] > 0]
    nb, nl, ng, ni = len(nodes), len(br), len(gens), len(inner)
    f = np.array([pos[index[int(v)]] for v in br[:, 0]], dtype=int)
    t = np.array([pos[index[int(v)]] for v in br[:, 1]], dtype=int)
    y = 1 / (br[:, 2] + 1j * br[:, 3])
    g, b, bh = y.real, y.imag, br[:, 4] / 2
    # x = [w (nb), wr (nl), wi (nl), pg (ng), qg (ng), slacks (4 ni)]
    ow, owr, owi, opg = 0, nb, nb + nl, nb + 2 * nl
    oqg, osl = opg + ng, opg + 2 * ng
    n = osl + 4 * ni
    k = np.arange(nl)
    flow = np.zeros((4, nl, n))  # pf, qf, pt, qt (eq. 3 of doc/acopf.md, tap 1)
    flow[0, k, ow + f], flow[0, k, owr + k], flow[0, k, owi + k] = g, -g, -b
    flow[1, k, ow + f], flow[1, k, owr + k], flow[1, k, owi + k] = -(b + bh), b, -g
    flow[2, k, ow + t], flow[2, k, owr + k], flow[2, k, owi + k] = g, -g, b
    flow[3, k, ow + t], flow[3, k, owr + k], flow[3, k, owi + k] = -(b + bh), b, g
    row = {pos[i]: r for r, i in enumerate(inner)}
    A, rhs = np.zeros((2 * ni, n)), np.zeros(2 * ni)  # flows out + load - gen + s- - s+ = 0
    for e in range(nl):
        for fl, end in ((0, f[e]), (2, t[e])):
            if end in row:
                A[row[end]] += flow[fl, e]
                A[ni + row[end]] += flow[fl + 1, e]
    for r, i in enumerate(inner):
        rhs[r], rhs[ni + r] = -bus[i, 2] / base, -bus[i, 3] / base
        A[r, osl + 4 * r:osl + 4 * r + 2] = [1, -1]
        A[ni + r, osl + 4 * r + 2:osl + 4 * r + 4] = [1, -1]
    for j, kg in enumerate(gens):
        r = row[pos[index[int(gen[kg, 0])]]]
        A[r, opg + j] -= 1
        A[ni + r, oqg + j] -= 1
    lo, hi = np.full(n, -np.inf), np.full(n, np.inf)
    lo[ow:ow + nb], hi[ow:ow + nb] = bus[nodes, 12] ** 2, bus[nodes, 11] ** 2
    lo[opg:oqg], hi[opg:oqg] = gen[gens, 9] / base, gen[gens, 8] / base
    lo[oqg:osl], hi[oqg:osl] = gen[gens, 4] / base, gen[gens, 3] / base
    lo[osl:] = 0
    rate2 = np.where(br[:, 5] > 0, (br[:, 5] / base) ** 2, np.inf)
    tan = np.tan(np.radians(np.minimum(np.abs(br[:, 11]), np.abs(br[:, 12]))))
    angle = np.zeros((2 * nl, n))  # tan wr - wi >= 0, tan wr + wi >= 0
    angle[k, owr + k], angle[k, owi + k] = tan, -1
    angle[nl + k, owr + k], angle[nl + k, owi + k] = tan, 1
    rated = np.isfinite(rate2)

    def cone(x):  # (wf + wt) - ||(2 wr, 2 wi, wf - wt)|| >= 0
        wf, wt, wr, wi = x[ow + f], x[ow + t], x[owr + k], x[owi + k]
        return wf + wt - np.sqrt(4 * wr ** 2 + 4 * wi ** 2 + (wf - wt) ** 2)

    def cone_jac(x):
        wf, wt, wr, wi = x[ow + f], x[ow + t], x[owr + k], x[owi + k]
        nrm = np.sqrt(4 * wr ** 2 + 4 * wi ** 2 + (wf - wt) ** 2)
        J = np.zeros((nl, n))
        J[k, ow + f] += 1 - (wf - wt) / nrm
        J[k, ow + t] += 1 + (wf - wt) / nrm
        J[k, owr + k], J[k, owi + k] = -4 * wr / nrm, -4 * wi / nrm
        return J

    def thermal(x):  # rate^2 - p^2 - q^2 >= 0 at both ends
        return np.concatenate([rate2[rated] - (flow[e][rated] @ x) ** 2 -
                               (flow[e + 1][rated] @ x) ** 2 for e in (0, 2)])

    def thermal_jac(x):
        return np.vstack([-2 * (flow[e][rated] @ x)[:, None] * flow[e][rated] -
                          2 * (flow[e + 1][rated] @ x)[:, None] * flow[e + 1][rated]
                          for e in (0, 2)])

    cons = [{"type": "eq", "fun": lambda x: A @ x - rhs, "jac": lambda x: A},
            {"type": "ineq", "fun": cone, "jac": cone_jac},
            {"type": "ineq", "fun": lambda x: angle @ x, "jac": lambda x: angle}]
    if rated.any():
        cons.append({"type": "ineq", "fun": thermal, "jac": thermal_jac})
    x0 = np.zeros(n)
    x0[ow:ow + nb], x0[owr:owr + nl], x0[osl:] = 1, 1, 1
    x0 = np.clip(x0, lo, hi)
    cost = np.zeros(n)
    cost[osl:] = 1
    return cost, x0, list(zip(lo, hi)), cons, (nodes, inner, osl, ow, ng)


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__.split("\n\n")[1])
    bus, gen, branch, base = read_case(sys.argv[1])
    centre, depth = int(sys.argv[2]), int(sys.argv[3])
    dist, index = neighbourhood(bus, branch, centre, depth)
    cost, x0, bounds, cons, (nodes, inner, osl, ow, ng) = relaxation(
        bus, gen, branch, base, dist, index, depth)
    res = minimize(lambda x: cost @ x, x0, jac=lambda x: cost, bounds=bounds,
                   constraints=cons, method="SLSQP", options={"maxiter": 3000, "ftol": 1e-10})
    load = sum(bus[i, 2] for i in inner)
    print(f"{len(nodes)} buses within {depth} branches of bus {centre} "
          f"({len(nodes) - len(inner)} free sources, {ng} generators and {load:.0f} MW inside)")
    print(f"SOC relaxation: {res.message} after {res.nit} iterations; minimum total "
          f"power-balance violation {res.fun * base:.4f} MW + MVAr")
    slack = res.x[osl:].reshape(len(inner), 4) * base
    for r in np.argsort(-slack.sum(1))[:5]:
        if slack[r].sum() > 1e-6:
            i = inner[r]
            v = np.sqrt(res.x[ow + nodes.index(i)])
            print(f"  bus {int(bus[i, 0])}: P short {slack[r, 1] - slack[r, 0]:+.3f} MW, "
                  f"Q short {slack[r, 3] - slack[r, 2]:+.3f} MVAr, V {v:.3f}")
    print("infeasible" if res.success and res.fun * base > 1e-6 else
          "feasible relaxation (no certificate)" if res.success else "not solved")


if __name__ == "__main__":
    main()
