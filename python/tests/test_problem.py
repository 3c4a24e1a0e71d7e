"""foldopt.Problem: a parametric NLP from Python callables, solved by Ipopt or imported,
differentiated; callback errors; bad input."""
import numpy as np
import pytest

import foldopt

N = 4


def simplex(**over):
    """x*(p) = argmin 1/2 |x - p|^2  s.t.  sum(x) = 1, x >= 0 (doc/examples/
    example_projection.c)."""
    diag = (np.arange(N), np.arange(N))
    kw = dict(
        f=lambda x, p: 0.5 * np.sum((x - p) ** 2),
        grad_f=lambda x, p: x - p,
        g=lambda x, p: np.array([x.sum()]),
        jac_g=lambda x, p: np.ones(N), jac_g_pattern=(np.zeros(N, int), np.arange(N)),
        hess_l=lambda x, p, s, lam: np.full(N, s), hess_l_pattern=diag,
        grad_f_p=lambda x, p: p - x,
        hess_lp=lambda x, p, lam: -np.ones(N), hess_lp_pattern=diag,
        x_lower=np.zeros(N), g_lower=[1.0], g_upper=[1.0], p_default=np.zeros(N),
        name="simplex")
    kw.update(over)
    return foldopt.Problem(N, 1, N, **kw)


P0 = np.array([0.8, 0.5, -0.2, 0.1])


def analytic_jacobian(p):
    """On the support S of x*: dx_S/dp_S = I - 11'/|S|; zero elsewhere."""
    x = foldopt_free_projection(p)
    S = x > 0
    J = np.zeros((N, N))
    k = S.sum()
    J[np.ix_(S, S)] = np.eye(k) - 1.0 / k
    return J


def foldopt_free_projection(p):
    u = np.sort(p)[::-1]
    css = np.cumsum(u) - 1
    k = np.nonzero(u - css / np.arange(1, N + 1) > 0)[0][-1]
    return np.maximum(p - css[k] / (k + 1), 0)


def test_solve_and_derivatives():
    prob = simplex()
    sol = prob.solve(P0)
    assert sol.converged and sol.status == "solved"
    assert np.allclose(sol.x, foldopt_free_projection(P0), atol=1e-6)  # Ipopt tol 1e-8
    J = analytic_jacobian(P0)
    assert np.allclose(sol.jacobian("x"), J, atol=1e-7)
    dp = np.array([0.3, -1.0, 0.5, 2.0])
    assert np.allclose(sol.jvp(dp)["x"], J @ dp, atol=1e-7)
    xbar = np.array([1.0, 2.0, -1.0, 0.5])
    assert np.allclose(sol.vjp(x=xbar), J.T @ xbar, atol=1e-7)
    # envelope theorem: d f*/dp = p - x*
    assert np.allclose(sol.value_gradient(), P0 - sol.x, atol=1e-7)
    assert sol.trust().exact
    Js = sol.jacobian("x", rows=[0, 1], cols=[1], sparse=True)
    assert Js.shape == (2, 1) and np.allclose(Js.toarray()[:, 0], J[:2, 1], atol=1e-7)


def test_vjp_central_differences():
    prob = simplex()
    p = np.array([0.4, 0.3, 0.35, -0.5])
    sol = prob.solve(p, settings={"forward.tol": 1e-12})
    xbar = np.array([0.7, -0.2, 1.1, 0.3])
    g = sol.vjp(x=xbar)
    h = 1e-5
    for j in range(N):
        e = np.eye(N)[j] * h
        xp = prob.solve(p + e, settings={"forward.tol": 1e-12}).x
        xm = prob.solve(p - e, settings={"forward.tol": 1e-12}).x
        assert abs(xbar @ (xp - xm) / (2 * h) - g[j]) < 1e-5


def test_import_recovers_multipliers():
    prob = simplex()
    ref = prob.solve(P0)
    imp = prob.import_point(foldopt_free_projection(P0), P0)
    assert imp.info["duals_estimated"] and imp.status == "imported"
    assert np.allclose(imp.lam, ref.lam, atol=1e-6)
    assert np.allclose(imp.jacobian("x"), ref.jacobian("x"), atol=1e-6)


def test_import_refuses_non_kkt_point():
    prob = simplex()
    with pytest.raises(foldopt.Error) as err:
        prob.import_point(np.array([0.25, 0.25, 0.25, 0.25]), P0)
    assert err.value.status_name == "FOLD_ERR_NOT_KKT"


def test_warm_start():
    prob = simplex()
    a = prob.solve(P0)
    b = prob.solve(P0 + 0.01, warm=a)
    assert b.converged and np.allclose(b.x, foldopt_free_projection(P0 + 0.01), atol=1e-7)


def test_callback_exception_propagates():
    class Boom(Exception):
        pass

    calls = []

    def f(x, p):
        calls.append(1)
        if len(calls) > 3:
            raise Boom("from f")
        return 0.5 * np.sum((x - p) ** 2)

    with pytest.raises(Boom, match="from f"):
        simplex(f=f).solve(P0)


def test_callback_exception_in_backward():
    state = {"raise": False}

    def hess_lp(x, p, lam):
        if state["raise"]:
            raise KeyError("hess_lp failed")
        return -np.ones(N)

    prob = simplex(hess_lp=hess_lp)
    sol = prob.solve(P0)
    state["raise"] = True
    with pytest.raises(KeyError, match="hess_lp failed"):
        sol.vjp(x=np.ones(N))


@pytest.mark.parametrize("name, bad, words", [
    ("grad_f", lambda x, p: np.ones(3), "callback grad_f returned 3 values, expected 4"),
    ("f", lambda x, p: "x", "callback f returned str"),
    ("hess_l", lambda x, p, s, lam: np.ones(2), "callback hess_l returned 2 values"),
])
def test_callback_wrong_result(name, bad, words):
    with pytest.raises((ValueError, TypeError), match=words):
        simplex(**{name: bad}).solve(P0)


def test_nan_from_callback_fails_the_solve():
    prob = simplex(f=lambda x, p: np.nan)
    with pytest.raises(foldopt.SolveError):
        prob.solve(P0)


def test_missing_parameter_derivatives():
    prob = simplex(grad_f_p=None)
    sol = prob.solve(P0)
    with pytest.raises(foldopt.Error) as err:
        sol.vjp(x=np.ones(N))
    assert err.value.status_name == "FOLD_ERR_MISSING_DERIVATIVE"


@pytest.mark.parametrize("over, exc, words", [
    (dict(jac_g_pattern=(np.zeros(N, int), np.arange(N) + 1)), ValueError, "jac_g_pattern cols"),
    (dict(hess_l_pattern=(np.array([0, 0, 1, 2]), np.array([0, 1, 1, 2]))), ValueError,
     "above the diagonal"),
    (dict(x_lower=np.zeros(3)), ValueError, "x_lower has 3 entries"),
    (dict(p_default=[np.nan] * N), ValueError, r"p_default\[0\]"),
    (dict(f=3), TypeError, "f must be callable"),
    (dict(hess_l_pattern=None), TypeError, "hess_l and hess_l_pattern go together"),
    (dict(g=None), TypeError, "m > 0 needs g"),
    (dict(jac_g_pattern=([0, 0], [0])), ValueError, "2 rows but 1 cols"),
])
def test_bad_definitions(over, exc, words):
    with pytest.raises(exc, match=words):
        simplex(**over)


def test_bad_calls():
    prob = simplex()
    with pytest.raises(ValueError, match="p has 3 entries"):
        prob.solve(np.ones(3))
    with pytest.raises(ValueError, match=r"p\[1\] = inf"):
        prob.solve(np.array([0, np.inf, 0, 0]))
    sol = prob.solve(P0)
    with pytest.raises(ValueError, match="dp has 2 entries"):
        sol.jvp(np.ones(2))
    with pytest.raises(TypeError, match="at least one cotangent"):
        sol.vjp()
    with pytest.raises(ValueError, match=r"rows\[0\] = 9 outside"):
        sol.jacobian("x", rows=[9])
    with pytest.raises(ValueError, match="of must be one of"):
        sol.jacobian("y")
    with pytest.raises(ValueError, match="backward.kkt_form"):
        prob.solve(P0, settings={"backward.kkt_form": "sideways"})
    sol.close()
    with pytest.raises(ValueError, match="released"):
        sol.vjp(x=np.ones(N))


def test_settings_listing():
    s = foldopt.settings()
    assert "forward.tol" in s and s["backward.kkt_form"][0] == "enum"


def test_derivative_checker():
    rep = simplex().check_derivatives(np.full(N, 0.25), P0, np.array([0.3]))
    assert rep["ok"] and rep["n_bad"] == 0 and rep["n_checked"] > 0
    wrong = simplex(grad_f_p=lambda x, p: x - p).check_derivatives(np.full(N, 0.25), P0)
    assert not wrong["ok"] and wrong["worst_function"] == "grad_f_p"


def test_problem_is_freed():
    """The problem and its callbacks form a cycle that the garbage collector frees; a
    solution keeps its problem alive."""
    import gc
    import weakref
    prob = simplex()
    sol = prob.solve(P0)
    ref = weakref.ref(prob)
    del prob
    gc.collect()
    assert ref() is not None  # held by the solution
    assert np.allclose(sol.jacobian(), analytic_jacobian(P0), atol=1e-7)
    del sol
    gc.collect()
    assert ref() is None
