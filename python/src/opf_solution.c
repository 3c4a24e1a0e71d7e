/* foldopt._foldopt.OPFSolution: one solved (or imported) AC-OPF, holding its solver and
 * factorization; outputs, primal-dual point and every derivative of foldopt/acopf.h
 * (fold_acopf_differentiate), computed without the GIL. */
#include <stdlib.h>
#include <string.h>

#include "opf_py.h"

static const fold_acopf *sol_model(const opf_solution *s)
{
    return s->resolved ? s->resolved : s->owner->model;
}

static void sol_dealloc(opf_solution *self)
{
    fold_solver_free(self->solver);
    fold_acopf_free(self->resolved);
    Py_XDECREF(self->owner);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* The solver may be used: it exists and no call runs on it without the GIL. */
static bool usable(opf_solution *s)
{
    if (!s->solver) {
        PyErr_SetString(PyExc_ValueError, "the solution was released (closed)");
        return false;
    }
    if (s->busy) {
        PyErr_SetString(PyExc_RuntimeError,
                        "the solution is in use by another thread (calls on one solution must "
                        "not run concurrently)");
        return false;
    }
    return true;
}

static opf_solution *new_solution(opf_model *owner)
{
    opf_solution *s = PyObject_New(opf_solution, &fold_py_opf_solution_type);
    if (!s) return NULL;
    s->owner = owner;
    Py_INCREF(owner);
    s->resolved = NULL;
    s->solver = NULL;
    s->status = FOLD_OK;
    s->imported = s->busy = false;
    s->fwd = (fold_forward_info)FOLD_FORWARD_INFO_INIT;
    s->si = (fold_acopf_solve_info)FOLD_ACOPF_SOLVE_INFO_INIT;
    s->ii = (fold_acopf_import_info)FOLD_ACOPF_IMPORT_INFO_INIT;
    return s;
}

/* A refused call: ValueError for input the library refused, foldopt.Error otherwise; detail
 * from the AC-OPF model's error (acopf = true) or the library's. */
static PyObject *refused_detail(fold_status st, const char *what)
{
    const char *detail = fold_last_error();
    if (st == FOLD_ERR_NONFINITE || st == FOLD_ERR_ARGUMENT || st == FOLD_ERR_DIMENSION ||
        st == FOLD_ERR_SETTING) {
        PyErr_Format(PyExc_ValueError, "%s: %s", what, detail);
        return NULL;
    }
    return fold_py_raise(st, what, detail);
}

static PyObject *refused(fold_status st, const char *what)
{
    return refused_detail(st, what);
}

fold_status opf_carry_start(const fold_acopf *from, const fold_solver *from_sv,
                            const fold_acopf *to, fold_solver *sv)
{
    fold_acopf_layout a = fold_acopf_get_layout(from), b = fold_acopf_get_layout(to);
    size_t na = (size_t)a.n, ma = (size_t)a.m, nb = (size_t)b.n, mb = (size_t)b.m;
    double *buf = malloc((3 * na + ma + 3 * nb + mb + (size_t)a.np + 1) * sizeof(double));
    if (!buf) return FOLD_ERR_MEMORY;
    double *x = buf, *lam = x + na, *zl = lam + ma, *zu = zl + na, *p = zu + na;
    double *x1 = p + a.np, *lam1 = x1 + nb, *zl1 = lam1 + mb, *zu1 = zl1 + nb;
    fold_status st = fold_solver_solution(from_sv, x, lam, zl, zu, NULL);
    if (st == FOLD_OK) st = fold_solver_params(from_sv, p);
    if (st == FOLD_OK)
        st = fold_acopf_convert_point(from, to, p, x, lam, zl, zu, x1, lam1, zl1, zu1);
    if (st == FOLD_OK) st = fold_solver_set_start(sv, x1, lam1, zl1, zu1);
    free(buf);
    return st;
}

/* Start sv from warm's solution, carried to model's layout. */
static bool warm_start(opf_solution *warm, const fold_acopf *model, fold_solver *sv)
{
    fold_status st = opf_carry_start(sol_model(warm), warm->solver, model, sv);
    if (st != FOLD_OK) {
        refused_detail(st, "warm");
        return false;
    }
    return true;
}

PyObject *opf_model_solve(opf_model *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"p", "settings", "max_rounds", "warm", NULL};
    PyObject *p_obj = Py_None, *set_obj = Py_None, *warm_obj = Py_None;
    int max_rounds = FOLD_ACOPF_REFINE_ROUNDS;
    if (!self->model) {
        PyErr_SetString(PyExc_RuntimeError, "OPFModel is not initialized");
        return NULL;
    }
    if (!PyArg_ParseTupleAndKeywords(args, kw, "|OOiO", kwlist, &p_obj, &set_obj, &max_rounds,
                                     &warm_obj))
        return NULL;
    opf_solution *warm = NULL;
    if (warm_obj != Py_None) {
        if (!PyObject_TypeCheck(warm_obj, &fold_py_opf_solution_type) ||
            ((opf_solution *)warm_obj)->owner != self)
            return PyErr_Format(PyExc_TypeError, "warm must be a solution of this model");
        warm = (opf_solution *)warm_obj;
        if (!usable(warm)) return NULL;
        if (warm->status < 0) warm = NULL; /* a failed solve is no start point: cold */
    }
    fold_settings set;
    if (!fold_py_settings(set_obj, &set)) return NULL;
    fold_acopf_solve_options opt;
    fold_acopf_default_solve_options(&opt);
    opt.max_rounds = max_rounds;
    fold_acopf_layout L = fold_acopf_get_layout(self->model);
    Py_buffer pv;
    const double *p;
    if (!fold_py_doubles_opt(p_obj, L.np, "p", &pv, &p)) return NULL;
    opf_solution *s = new_solution(self);
    fold_solver *sv = NULL, *rsv = NULL;
    fold_status st =
        s ? fold_solver_create(fold_acopf_problem(self->model), &set, &sv) : FOLD_ERR_MEMORY;
    if (st != FOLD_OK) {
        if (s) refused_detail(st, "settings");
        goto fail;
    }
    if (!fold_py_apply_ipopt(set_obj, sv)) goto fail;
    if (warm && !warm_start(warm, self->model, sv)) goto fail;
    if (warm) warm->busy = true;
    FOLD_PY_NOGIL(
        st = fold_acopf_solve_on(self->model, sv, p, &opt, &s->resolved, &rsv, &s->fwd, &s->si));
    if (warm) warm->busy = false;
    if (rsv) { /* a re-solve with flow variables was kept: its solver holds the solution */
        fold_solver_free(sv);
        sv = rsv;
    }
    s->solver = sv;
    sv = NULL;
    s->status = st;
    if (st < 0 && s->fwd.status == FOLD_FWD_NOT_RUN) { /* refused before Ipopt ran */
        refused(st, "solve");
        goto fail;
    }
    if (pv.obj) PyBuffer_Release(&pv);
    return (PyObject *)s;
fail:
    fold_solver_free(sv);
    Py_XDECREF(s);
    if (pv.obj) PyBuffer_Release(&pv);
    return NULL;
}

PyObject *opf_model_import(opf_model *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"path", "p", "kkt_tol", "polish", "settings", NULL};
    PyObject *path = NULL, *p_obj = Py_None, *set_obj = Py_None;
    double kkt_tol = FOLD_ACOPF_IMPORT_KKT_TOL;
    int polish = 0;
    if (!self->model) {
        PyErr_SetString(PyExc_RuntimeError, "OPFModel is not initialized");
        return NULL;
    }
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O&|OdpO", kwlist, PyUnicode_FSConverter, &path,
                                     &p_obj, &kkt_tol, &polish, &set_obj))
        return NULL;
    fold_settings set;
    Py_buffer pv = {0};
    const double *p = NULL;
    fold_acopf_results *sol = NULL;
    opf_solution *s = NULL;
    fold_acopf_layout L = fold_acopf_get_layout(self->model);
    if (!fold_py_settings(set_obj, &set) || !fold_py_doubles_opt(p_obj, L.np, "p", &pv, &p))
        goto fail;
    fold_status st;
    FOLD_PY_NOGIL(st = fold_acopf_solution_read(PyBytes_AS_STRING(path),
                                                fold_acopf_get_case(self->model), &sol));
    if (st != FOLD_OK) {
        PyErr_Format(st == FOLD_ERR_IO ? PyExc_OSError : PyExc_ValueError, "solution: %s",
                     fold_last_error());
        goto fail;
    }
    s = new_solution(self);
    if (!s) goto fail;
    if ((st = fold_solver_create(fold_acopf_problem(self->model), &set, &s->solver)) != FOLD_OK) {
        refused_detail(st, "settings");
        goto fail;
    }
    if (!fold_py_apply_ipopt(set_obj, s->solver)) goto fail;
    fold_acopf_import_options opt;
    fold_acopf_default_import_options(&opt);
    opt.kkt_tol = kkt_tol;
    opt.polish = polish;
    FOLD_PY_NOGIL(st = fold_acopf_import(self->model, s->solver, p, sol, &opt, &s->fwd, &s->ii));
    s->imported = true;
    s->status = st;
    if (st < 0) {
        refused(st, "import_solution");
        goto fail;
    }
    fold_acopf_results_free(sol);
    Py_DECREF(path);
    if (pv.obj) PyBuffer_Release(&pv);
    return (PyObject *)s;
fail:
    Py_XDECREF(s);
    fold_acopf_results_free(sol);
    Py_DECREF(path);
    if (pv.obj) PyBuffer_Release(&pv);
    return NULL;
}

/* ---- methods ---- */

static PyObject *sol_info(opf_solution *self, PyObject *noargs)
{
    PyObject *d = fold_py_forward_info(&self->fwd);
    if (!d) return NULL;
    PyObject *extra = Py_BuildValue(
        "{s:i,s:s,s:i,s:L,s:i,s:L,s:i,s:O,s:O,s:d,s:d,s:d,s:d,s:O,s:L}", "call_status",
        self->status, "call_status_name", fold_status_name(self->status), "first_status",
        self->si.first_status, "first_iterations", (long long)self->si.first_iterations, "resolves",
        self->si.rounds, "n_flow_added", (long long)self->si.n_flow_added, "n_flow",
        (int)fold_acopf_get_layout(sol_model(self)).n_flow, "imported",
        self->imported ? Py_True : Py_False, "duals_recovered",
        self->ii.duals_recovered ? Py_True : Py_False, "given_stationarity",
        self->ii.given_stationarity, "given_feasibility", self->ii.given_feasibility,
        "given_complementarity", self->ii.given_complementarity, "angle_shift_deg",
        self->ii.angle_shift_deg, "polished", self->ii.polished ? Py_True : Py_False,
        "polish_iterations", (long long)self->ii.polish_iterations);
    if (!extra || PyDict_Update(d, extra) != 0) {
        Py_XDECREF(extra);
        Py_DECREF(d);
        return NULL;
    }
    Py_DECREF(extra);
    return d;
}

/* outputs(kind) -> float64 bytes over the kind's items. */
static PyObject *sol_outputs(opf_solution *self, PyObject *arg)
{
    long kind = PyLong_AsLong(arg);
    if ((kind == -1 && PyErr_Occurred()) || !usable(self)) return NULL;
    if (kind < 0 || kind >= FOLD_ACOPF_N_OUTPUT_KINDS)
        return PyErr_Format(PyExc_ValueError, "output kind %ld out of range", kind);
    const fold_acopf *m = sol_model(self);
    fold_int n = fold_acopf_item_count(m, fold_acopf_output_item_type((int)kind));
    fold_acopf_output *out = PyMem_Malloc(((size_t)n + 1) * sizeof *out);
    double *v;
    PyObject *b = out ? fold_py_new_doubles(n, &v) : PyErr_NoMemory();
    for (fold_int i = 0; b && i < n; i++)
        out[i] = (fold_acopf_output){(int)kind, i};
    fold_status st = b ? fold_acopf_output_values(m, self->solver, n, out, v) : FOLD_OK;
    PyMem_Free(out);
    if (st != FOLD_OK) {
        Py_XDECREF(b);
        return refused(st, "outputs");
    }
    return b;
}

/* primal_dual() -> (x, lam, zl, zu, p) float64 bytes. */
static PyObject *sol_primal_dual(opf_solution *self, PyObject *noargs)
{
    if (!usable(self)) return NULL;
    fold_acopf_layout L = fold_acopf_get_layout(sol_model(self));
    double *x, *lam, *zl, *zu, *p;
    PyObject *bx = fold_py_new_doubles(L.n, &x), *bl = fold_py_new_doubles(L.m, &lam),
             *bzl = fold_py_new_doubles(L.n, &zl), *bzu = fold_py_new_doubles(L.n, &zu),
             *bp = fold_py_new_doubles(L.np, &p);
    if (!bx || !bl || !bzl || !bzu || !bp) goto fail;
    fold_status st = fold_solver_solution(self->solver, x, lam, zl, zu, NULL);
    if (st == FOLD_OK) st = fold_solver_params(self->solver, p);
    if (st != FOLD_OK) {
        refused_detail(st, "primal_dual");
        goto fail;
    }
    return Py_BuildValue("(NNNNN)", bx, bl, bzl, bzu, bp);
fail:
    Py_XDECREF(bx);
    Py_XDECREF(bl);
    Py_XDECREF(bzl);
    Py_XDECREF(bzu);
    Py_XDECREF(bp);
    return NULL;
}

/* differentiate(mode, out_kinds, out_items, weights, dp, cols, keep_kkt_form)
 *   -> (values float64 bytes, info dict) */
static PyObject *sol_differentiate(opf_solution *self, PyObject *args)
{
    int mode, keep;
    PyObject *ko, *io, *wo, *dpo, *co;
    if (!PyArg_ParseTuple(args, "iOOOOOp", &mode, &ko, &io, &wo, &dpo, &co, &keep) || !usable(self))
        return NULL;
    const fold_acopf *m = sol_model(self);
    fold_acopf_layout L = fold_acopf_get_layout(m);
    Py_buffer kv = {0}, iv = {0}, wv = {0}, dv = {0}, cv = {0};
    fold_acopf_output *out = NULL;
    PyObject *values = NULL, *result = NULL;
    if (!fold_py_ints(ko, -1, "out_kinds", &kv)) return NULL;
    fold_int n_out = kv.len / 8, n_cols = L.np;
    const double *w = NULL, *dp = NULL;
    if (!fold_py_ints(io, n_out, "out_items", &iv) ||
        !fold_py_doubles_opt(wo, n_out, "weights", &wv, &w) ||
        !fold_py_doubles_opt(dpo, L.np, "dp", &dv, &dp))
        goto done;
    if (co != Py_None) {
        if (!fold_py_ints(co, -1, "cols", &cv)) goto done;
        n_cols = cv.len / 8;
    }
    out = PyMem_Malloc(((size_t)n_out + 1) * sizeof *out);
    if (!out) {
        PyErr_NoMemory();
        goto done;
    }
    for (fold_int r = 0; r < n_out; r++)
        out[r] = (fold_acopf_output){(int)((const long long *)kv.buf)[r],
                                     ((const long long *)iv.buf)[r]};
    Py_ssize_t nv = mode == FOLD_ACOPF_DIFF_JACOBIAN ? n_out * n_cols
                    : mode == FOLD_ACOPF_DIFF_JVP    ? n_out
                                                     : n_cols;
    double *v;
    if (!(values = fold_py_new_doubles(nv, &v))) goto done;
    fold_acopf_diff_request rq = {.mode = mode,
                                  .n_out = n_out,
                                  .out = out,
                                  .weights = w,
                                  .dp = dp,
                                  .n_cols = n_cols,
                                  .cols = cv.obj ? (const fold_int *)cv.buf : NULL,
                                  .keep_kkt_form = keep};
    fold_backward_info bi = FOLD_BACKWARD_INFO_INIT;
    fold_acopf_diff_info di = FOLD_ACOPF_DIFF_INFO_INIT;
    di.backward = &bi;
    fold_status st;
    self->busy = true;
    FOLD_PY_NOGIL(st = fold_acopf_differentiate(m, self->solver, &rq, v, &di));
    self->busy = false;
    if (st < 0) {
        refused(st, "differentiate");
        goto done;
    }
    PyObject *info = fold_py_backward_info(&bi);
    if (!info) goto done;
    /* the report of the call that produced the values: the envelope theorem's is the
     * solver's (fold_value_gradient), the others' the acopf call's, renumbered to values */
    const fold_trust_item *items = NULL;
    fold_int n_items = 0;
    if (mode != FOLD_ACOPF_DIFF_VALUE && fold_acopf_trust_report(&items, &n_items) != FOLD_OK)
        n_items = 0;
    PyObject *trust = mode == FOLD_ACOPF_DIFF_VALUE ? fold_py_solver_trust(self->solver)
                                                    : fold_py_trust_items(items, n_items);
    PyObject *extra =
        !trust ? NULL
               : Py_BuildValue("{s:i,s:s,s:O,s:s,s:d,s:s,s:N}", "status", st, "status_name",
                               fold_status_name(st), "kkt_fallback",
                               di.kkt_fallback ? Py_True : Py_False, "kkt_fallback_reason",
                               di.fallback_reason, "seconds", di.seconds, "detail",
                               st ? fold_last_error() : "", "trust", trust);
    if (extra && PyDict_Update(info, extra) == 0) result = Py_BuildValue("(OO)", values, info);
    Py_XDECREF(extra);
    Py_DECREF(info);
done:
    Py_XDECREF(values);
    PyMem_Free(out);
    PyBuffer_Release(&kv);
    if (iv.obj) PyBuffer_Release(&iv);
    if (wv.obj) PyBuffer_Release(&wv);
    if (dv.obj) PyBuffer_Release(&dv);
    if (cv.obj) PyBuffer_Release(&cv);
    return result;
}

static PyObject *sol_settings(opf_solution *self, PyObject *dict)
{
    fold_settings set;
    if (!usable(self) || !fold_py_settings(dict, &set)) return NULL;
    fold_status st = fold_solver_update_settings(self->solver, &set);
    if (st != FOLD_OK) return refused_detail(st, "settings");
    if (!fold_py_apply_ipopt(dict, self->solver)) return NULL;
    Py_RETURN_NONE;
}

static PyObject *sol_kkt_form(opf_solution *self, PyObject *noargs)
{
    if (!usable(self)) return NULL;
    char buf[32] = "";
    fold_settings_get(fold_solver_settings(self->solver), "backward.kkt_form", buf, sizeof buf);
    return PyUnicode_FromString(buf);
}

static PyObject *sol_release(opf_solution *self, PyObject *noargs)
{
    if (self->busy) {
        PyErr_SetString(PyExc_RuntimeError, "the solution is in use by another thread");
        return NULL;
    }
    fold_solver_free(self->solver);
    self->solver = NULL;
    Py_RETURN_NONE;
}

static PyObject *sol_sizes(opf_solution *self, PyObject *noargs)
{
    fold_acopf_layout L = fold_acopf_get_layout(sol_model(self));
    return Py_BuildValue("{s:L,s:L,s:L,s:L,s:O}", "n", (long long)L.n, "m", (long long)L.m, "np",
                         (long long)L.np, "n_flow", (long long)L.n_flow, "open",
                         self->solver ? Py_True : Py_False);
}

static PyObject *sol_status(opf_solution *self, void *closure)
{
    return PyLong_FromLong(self->status);
}

static PyMethodDef sol_methods[] = {
    {"info", (PyCFunction)sol_info, METH_NOARGS, "info() -> dict"},
    {"outputs", (PyCFunction)sol_outputs, METH_O, "outputs(kind) -> float64 bytes"},
    {"primal_dual", (PyCFunction)sol_primal_dual, METH_NOARGS,
     "primal_dual() -> (x, lam, zl, zu, p)"},
    {"differentiate", (PyCFunction)sol_differentiate, METH_VARARGS,
     "differentiate(mode, out_kinds, out_items, weights, dp, cols, keep_kkt_form)"},
    {"update_settings", (PyCFunction)sol_settings, METH_O, "update_settings(dict)"},
    {"kkt_form", (PyCFunction)sol_kkt_form, METH_NOARGS, "kkt_form() -> 'active'|'barrier'"},
    {"release", (PyCFunction)sol_release, METH_NOARGS, "release(): free the solver"},
    {"sizes", (PyCFunction)sol_sizes, METH_NOARGS, "sizes() -> dict"},
    {NULL, NULL, 0, NULL}};

static PyGetSetDef sol_getset[] = {
    {"status", (getter)sol_status, NULL, "fold_status of the solve or import", NULL},
    {NULL, NULL, NULL, NULL, NULL}};

PyTypeObject fold_py_opf_solution_type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "foldopt._foldopt.OPFSolution",
    .tp_basicsize = sizeof(opf_solution),
    .tp_dealloc = (destructor)sol_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "A solved AC-OPF (internal; use foldopt.opf.Solution)",
    .tp_methods = sol_methods,
    .tp_getset = sol_getset,
};
