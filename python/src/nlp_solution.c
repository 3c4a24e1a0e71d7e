/* foldopt._foldopt.NLPSolution: a solver of an NLP (nlp.c) holding one solution, from Ipopt
 * or imported; JVP, VJP, Jacobian and value gradient on its one factorization
 * (foldopt/fold.h). Calls run without the GIL; callbacks take it back (nlp.c). */
#include <string.h>

#include "nlp_py.h"

static void sol_dealloc(nlp_solution *self)
{
    fold_solver_free(self->solver);
    Py_XDECREF(self->owner);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static bool usable(nlp_solution *s)
{
    if (!s->solver)
        PyErr_SetString(PyExc_ValueError, "the solution was released (closed)");
    else if (s->busy)
        PyErr_SetString(PyExc_RuntimeError, "the solution is in use by another thread");
    return s->solver && !s->busy;
}

/* A library error: ValueError for input the call refused, foldopt.Error otherwise. */
static PyObject *lib_error(fold_status st, const char *what)
{
    if (st == FOLD_ERR_NONFINITE || st == FOLD_ERR_ARGUMENT || st == FOLD_ERR_DIMENSION ||
        st == FOLD_ERR_SETTING) {
        PyErr_Format(PyExc_ValueError, "%s: %s", what, fold_last_error());
        return NULL;
    }
    return fold_py_raise(st, what, fold_last_error());
}

static nlp_solution *new_solution(nlp_obj *owner, PyObject *set_obj)
{
    fold_settings set;
    if (!fold_py_settings(set_obj, &set)) return NULL;
    nlp_solution *s = PyObject_New(nlp_solution, &fold_py_nlp_solution_type);
    if (!s) return NULL;
    s->owner = owner;
    Py_INCREF(owner);
    s->solver = NULL;
    s->status = FOLD_OK;
    s->busy = false;
    s->fwd = (fold_forward_info)FOLD_FORWARD_INFO_INIT;
    fold_status st = fold_solver_create(owner->prob, &set, &s->solver);
    if (st != FOLD_OK) {
        Py_DECREF(s);
        return (nlp_solution *)lib_error(st, "settings");
    }
    if (!fold_py_apply_ipopt(set_obj, s->solver)) {
        Py_DECREF(s);
        return NULL;
    }
    return s;
}

/* Views of optional float64 arguments; all released by release_views. */
typedef struct views {
    Py_buffer v[5];
    int n;
} views;

static bool view_opt(views *vs, PyObject *obj, fold_int n, const char *name, const double **d)
{
    Py_buffer *b = &vs->v[vs->n];
    if (!fold_py_doubles_opt(obj, n, name, b, d)) return false;
    vs->n++;
    return true;
}

static void release_views(views *vs)
{
    for (int k = 0; k < vs->n; k++)
        if (vs->v[k].obj) PyBuffer_Release(&vs->v[k]);
    vs->n = 0;
}

PyObject *nlp_solve(nlp_obj *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"p", "settings", "warm", NULL};
    PyObject *po = Py_None, *so = Py_None, *wo = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "|OOO", kwlist, &po, &so, &wo)) return NULL;
    if (wo != Py_None && (!PyObject_TypeCheck(wo, &fold_py_nlp_solution_type) ||
                          ((nlp_solution *)wo)->owner != self))
        return PyErr_Format(PyExc_TypeError, "warm must be a solution of this problem");
    views vs = {.n = 0};
    const double *p;
    if (!view_opt(&vs, po, self->np, "p", &p)) return NULL;
    nlp_solution *s = new_solution(self, so), *w = wo != Py_None ? (nlp_solution *)wo : NULL;
    if (!s || (w && !usable(w))) goto fail;
    fold_status st = FOLD_OK;
    if (w && w->status >= 0) { /* start from the warm solution's primal-dual point */
        size_t n = (size_t)self->n, m = (size_t)self->m;
        double *buf = PyMem_Malloc((3 * n + m + 1) * sizeof *buf);
        if (!buf) {
            PyErr_NoMemory();
            goto fail;
        }
        st = fold_solver_solution(w->solver, buf, buf + 3 * n, buf + n, buf + 2 * n, NULL);
        if (st == FOLD_OK)
            st = fold_solver_set_start(s->solver, buf, buf + 3 * n, buf + n, buf + 2 * n);
        PyMem_Free(buf);
    }
    if (st == FOLD_OK) {
        nlp_run_begin();
        FOLD_PY_NOGIL(st = fold_solve(s->solver, p, &s->fwd));
        if (nlp_run_end()) goto fail;
    }
    s->status = st;
    if (st < 0 && s->fwd.status == FOLD_FWD_NOT_RUN) { /* refused before Ipopt ran */
        lib_error(st, "solve");
        goto fail;
    }
    release_views(&vs);
    return (PyObject *)s;
fail:
    Py_XDECREF(s);
    release_views(&vs);
    return NULL;
}

PyObject *nlp_import(nlp_obj *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"x", "p", "lam", "zl", "zu", "settings", NULL};
    PyObject *xo, *po = Py_None, *lo = Py_None, *zlo = Py_None, *zuo = Py_None, *so = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O|OOOOO", kwlist, &xo, &po, &lo, &zlo, &zuo, &so))
        return NULL;
    views vs = {.n = 0};
    const double *x, *p, *lam, *zl, *zu;
    nlp_solution *s = NULL;
    if (!view_opt(&vs, xo, self->n, "x", &x) || !view_opt(&vs, po, self->np, "p", &p) ||
        !view_opt(&vs, lo, self->m, "lam", &lam) || !view_opt(&vs, zlo, self->n, "zl", &zl) ||
        !view_opt(&vs, zuo, self->n, "zu", &zu))
        goto fail;
    if (!x) {
        PyErr_SetString(PyExc_TypeError, "x is required");
        goto fail;
    }
    if (!(s = new_solution(self, so))) goto fail;
    fold_status st;
    nlp_run_begin();
    FOLD_PY_NOGIL(st = fold_solver_import(
                      s->solver,
                      &(fold_import_point){.p = p, .x = x, .lam = lam, .zl = zl, .zu = zu},
                      &s->fwd));
    if (nlp_run_end()) goto fail;
    s->status = st;
    if (st < 0) {
        lib_error(st, "import_point");
        goto fail;
    }
    release_views(&vs);
    return (PyObject *)s;
fail:
    Py_XDECREF(s);
    release_views(&vs);
    return NULL;
}

/* ---- methods ---- */

static PyObject *sol_info(nlp_solution *self, PyObject *noargs)
{
    PyObject *d = fold_py_forward_info(&self->fwd);
    PyObject *st = PyLong_FromLong(self->status);
    if (d && st) PyDict_SetItemString(d, "call_status", st);
    Py_XDECREF(st);
    return d;
}

static PyObject *sol_solution(nlp_solution *self, PyObject *noargs)
{
    if (!usable(self)) return NULL;
    nlp_obj *o = self->owner;
    double *x, *lam, *zl, *zu, *p, obj = 0;
    PyObject *bx = fold_py_new_doubles(o->n, &x), *bl = fold_py_new_doubles(o->m, &lam),
             *bzl = fold_py_new_doubles(o->n, &zl), *bzu = fold_py_new_doubles(o->n, &zu),
             *bp = fold_py_new_doubles(o->np, &p);
    fold_status st = FOLD_ERR_MEMORY;
    if (bx && bl && bzl && bzu && bp) {
        st = fold_solver_solution(self->solver, x, lam, zl, zu, &obj);
        if (st == FOLD_OK) st = fold_solver_params(self->solver, p);
    }
    if (st == FOLD_OK) return Py_BuildValue("(NNNNNd)", bx, bl, bzl, bzu, bp, obj);
    Py_XDECREF(bx);
    Py_XDECREF(bl);
    Py_XDECREF(bzl);
    Py_XDECREF(bzu);
    Py_XDECREF(bp);
    return PyErr_Occurred() ? NULL : lib_error(st, "solution");
}

/* The end of a backward call: the exception of a callback, an error, or (result, info). */
static PyObject *finish(nlp_solution *self, fold_status st, const fold_backward_info *bi,
                        PyObject *result, const char *what)
{
    self->busy = false;
    if (nlp_run_end() || st < 0) {
        if (!PyErr_Occurred()) lib_error(st, what);
        Py_DECREF(result);
        return NULL;
    }
    PyObject *info = bi ? fold_py_backward_info(bi) : PyDict_New();
    PyObject *code = PyLong_FromLong(st), *name = PyUnicode_FromString(fold_status_name(st)),
             *detail = PyUnicode_FromString(st ? fold_last_error() : ""),
             *trust = fold_py_solver_trust(self->solver);
    if (info && code && name && detail && trust) {
        PyDict_SetItemString(info, "status", code);
        PyDict_SetItemString(info, "status_name", name);
        PyDict_SetItemString(info, "detail", detail);
        PyDict_SetItemString(info, "trust", trust);
    } else {
        Py_CLEAR(info);
    }
    Py_XDECREF(code);
    Py_XDECREF(name);
    Py_XDECREF(detail);
    Py_XDECREF(trust);
    if (!info) {
        Py_DECREF(result);
        return NULL;
    }
    return Py_BuildValue("(NN)", result, info);
}

/* jvp(dp) -> ((dx, dlam, dzl, dzu), info) */
static PyObject *sol_jvp(nlp_solution *self, PyObject *dpo)
{
    if (!usable(self)) return NULL;
    nlp_obj *o = self->owner;
    Py_buffer dv;
    if (!fold_py_doubles(dpo, o->np, "dp", &dv)) return NULL;
    double *dx, *dl, *dzl, *dzu;
    PyObject *t =
        Py_BuildValue("(NNNN)", fold_py_new_doubles(o->n, &dx), fold_py_new_doubles(o->m, &dl),
                      fold_py_new_doubles(o->n, &dzl), fold_py_new_doubles(o->n, &dzu));
    if (!t) {
        PyBuffer_Release(&dv);
        return NULL;
    }
    fold_backward_info bi = FOLD_BACKWARD_INFO_INIT;
    fold_status st;
    self->busy = true;
    nlp_run_begin();
    FOLD_PY_NOGIL(st = fold_jvp(self->solver, dv.buf,
                                &(fold_dz){.x = dx, .lam = o->m ? dl : NULL, .zl = dzl, .zu = dzu},
                                &bi));
    PyBuffer_Release(&dv);
    return finish(self, st, &bi, t, "jvp");
}

/* vjp(xbar, lambar, zlbar, zubar) -> (pbar, info); any cotangent may be None. */
static PyObject *sol_vjp(nlp_solution *self, PyObject *args)
{
    PyObject *xo, *lo, *zlo, *zuo;
    if (!PyArg_ParseTuple(args, "OOOO", &xo, &lo, &zlo, &zuo) || !usable(self)) return NULL;
    nlp_obj *o = self->owner;
    views vs = {.n = 0};
    const double *xb, *lb, *zlb, *zub;
    if (!view_opt(&vs, xo, o->n, "xbar", &xb) || !view_opt(&vs, lo, o->m, "lambar", &lb) ||
        !view_opt(&vs, zlo, o->n, "zlbar", &zlb) || !view_opt(&vs, zuo, o->n, "zubar", &zub)) {
        release_views(&vs);
        return NULL;
    }
    double *pbar;
    PyObject *b = fold_py_new_doubles(o->np, &pbar);
    if (!b) {
        release_views(&vs);
        return NULL;
    }
    fold_backward_info bi = FOLD_BACKWARD_INFO_INIT;
    fold_status st;
    self->busy = true;
    nlp_run_begin();
    FOLD_PY_NOGIL(st = fold_vjp(self->solver,
                                &(fold_zbar){.x = xb, .lam = lb, .zl = zlb, .zu = zub}, pbar, &bi));
    release_views(&vs);
    return finish(self, st, &bi, b, "vjp");
}

/* jacobian(block, rows, cols) -> (J column-major, info); rows / cols int64 or None. */
static PyObject *sol_jacobian(nlp_solution *self, PyObject *args)
{
    int block;
    PyObject *ro, *co;
    if (!PyArg_ParseTuple(args, "iOO", &block, &ro, &co) || !usable(self)) return NULL;
    nlp_obj *o = self->owner;
    fold_int len = block == FOLD_BLOCK_LAM ? o->m : o->n, nr = len, nc = o->np;
    Py_buffer rv = {0}, cv = {0};
    if (ro != Py_None) {
        if (!fold_py_ints(ro, -1, "rows", &rv)) return NULL;
        nr = rv.len / 8;
    }
    if (co != Py_None) {
        if (!fold_py_ints(co, -1, "cols", &cv)) {
            if (rv.obj) PyBuffer_Release(&rv);
            return NULL;
        }
        nc = cv.len / 8;
    }
    double *J;
    PyObject *b = fold_py_new_doubles(nr * nc, &J);
    fold_backward_info bi = FOLD_BACKWARD_INFO_INIT;
    fold_status st = FOLD_ERR_MEMORY;
    if (b) {
        self->busy = true;
        nlp_run_begin();
        FOLD_PY_NOGIL(st = fold_jacobian(self->solver,
                                         &(fold_jacobian_sel){.of = (fold_block)block,
                                                              .n_rows = nr,
                                                              .rows = rv.obj ? rv.buf : NULL,
                                                              .n_cols = nc,
                                                              .cols = cv.obj ? cv.buf : NULL},
                                         J, &bi));
    }
    if (rv.obj) PyBuffer_Release(&rv);
    if (cv.obj) PyBuffer_Release(&cv);
    return b ? finish(self, st, &bi, b, "jacobian") : NULL;
}

static PyObject *sol_value_gradient(nlp_solution *self, PyObject *noargs)
{
    if (!usable(self)) return NULL;
    double *g;
    PyObject *b = fold_py_new_doubles(self->owner->np, &g);
    if (!b) return NULL;
    fold_status st;
    self->busy = true;
    nlp_run_begin();
    FOLD_PY_NOGIL(st = fold_value_gradient(self->solver, g));
    return finish(self, st, NULL, b, "value_gradient");
}

static PyObject *sol_settings(nlp_solution *self, PyObject *dict)
{
    fold_settings set;
    if (!usable(self) || !fold_py_settings(dict, &set)) return NULL;
    fold_status st = fold_solver_update_settings(self->solver, &set);
    if (st != FOLD_OK) return lib_error(st, "settings");
    if (!fold_py_apply_ipopt(dict, self->solver)) return NULL;
    Py_RETURN_NONE;
}

static PyObject *sol_release(nlp_solution *self, PyObject *noargs)
{
    if (self->busy) {
        PyErr_SetString(PyExc_RuntimeError, "the solution is in use by another thread");
        return NULL;
    }
    fold_solver_free(self->solver);
    self->solver = NULL;
    Py_RETURN_NONE;
}

static PyObject *sol_status(nlp_solution *self, void *closure)
{
    return PyLong_FromLong(self->status);
}

static PyMethodDef sol_methods[] = {
    {"info", (PyCFunction)sol_info, METH_NOARGS, "info() -> dict"},
    {"solution", (PyCFunction)sol_solution, METH_NOARGS,
     "solution() -> (x, lam, zl, zu, p, objective)"},
    {"jvp", (PyCFunction)sol_jvp, METH_O, "jvp(dp) -> ((dx, dlam, dzl, dzu), info)"},
    {"vjp", (PyCFunction)sol_vjp, METH_VARARGS, "vjp(xbar, lambar, zlbar, zubar) -> (pbar, info)"},
    {"jacobian", (PyCFunction)sol_jacobian, METH_VARARGS,
     "jacobian(block, rows, cols) -> (J column-major, info)"},
    {"value_gradient", (PyCFunction)sol_value_gradient, METH_NOARGS,
     "value_gradient() -> (grad, info)"},
    {"update_settings", (PyCFunction)sol_settings, METH_O, "update_settings(dict)"},
    {"release", (PyCFunction)sol_release, METH_NOARGS, "release(): free the solver"},
    {NULL, NULL, 0, NULL}};

static PyGetSetDef sol_getset[] = {
    {"status", (getter)sol_status, NULL, "fold_status of the solve or import", NULL},
    {NULL, NULL, NULL, NULL, NULL}};

PyTypeObject fold_py_nlp_solution_type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "foldopt._foldopt.NLPSolution",
    .tp_basicsize = sizeof(nlp_solution),
    .tp_dealloc = (destructor)sol_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "A solved NLP (internal; use foldopt.Problem)",
    .tp_methods = sol_methods,
    .tp_getset = sol_getset,
};
