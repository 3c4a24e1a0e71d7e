/* foldopt._foldopt.NLP: a parametric NLP (foldopt/problem.h) whose callbacks are Python
 * callables, reached through one dispatcher written by foldopt.Problem. A callback runs with
 * the GIL taken back from the solve that released it; an exception it raises stops the
 * solve (a fatal callback failure) and is raised again by the call that ran it. */
#include <string.h>

#include "nlp_py.h"

/* The exception a callback raised during the current library call of this thread. */
static _Thread_local PyObject *pending_type, *pending_value, *pending_tb;

void nlp_run_begin(void)
{
    Py_CLEAR(pending_type);
    Py_CLEAR(pending_value);
    Py_CLEAR(pending_tb);
}

bool nlp_run_end(void)
{
    if (!pending_type) return false;
    PyErr_Restore(pending_type, pending_value, pending_tb);
    pending_type = pending_value = pending_tb = NULL;
    return true;
}

static PyObject *bytes_of(const double *v, fold_int n)
{
    if (!v) Py_RETURN_NONE;
    return PyBytes_FromStringAndSize((const char *)v, (Py_ssize_t)n * (Py_ssize_t)sizeof *v);
}

/* Copy the dispatcher's result into out (size values); false with an exception set. */
static bool take_result(PyObject *res, int which, double *out, fold_int size)
{
    if (which == NLP_F) {
        double v = PyFloat_AsDouble(res);
        if (v == -1.0 && PyErr_Occurred()) return false;
        *out = v;
        return true;
    }
    Py_buffer view;
    if (!fold_py_doubles(res, size, "callback result", &view)) return false;
    memcpy(out, view.buf, (size_t)size * sizeof *out);
    PyBuffer_Release(&view);
    return true;
}

static int call(nlp_obj *self, int which, const double *x, const double *p, double s,
                const double *lam, double *out)
{
    PyGILState_STATE gs = PyGILState_Ensure();
    int rc = -1;
    if (!pending_type) {       /* after one failure every later callback fails at once */
        if (!self->dispatch) { /* cleared by the garbage collector: the problem is gone */
            PyErr_SetString(PyExc_RuntimeError, "the problem's callbacks are gone");
        } else {
            PyObject *xb = bytes_of(x, self->n), *pb = bytes_of(p, self->np),
                     *lb = bytes_of(lam, self->m);
            PyObject *res = xb && pb && lb ? PyObject_CallFunction(self->dispatch, "iOOdO", which,
                                                                   xb, pb, s, lb)
                                           : NULL;
            if (res && take_result(res, which, out, self->out_size[which])) rc = 0;
            Py_XDECREF(res);
            Py_XDECREF(xb);
            Py_XDECREF(pb);
            Py_XDECREF(lb);
        }
        if (rc != 0) PyErr_Fetch(&pending_type, &pending_value, &pending_tb);
    }
    PyGILState_Release(gs);
    return rc;
}

static int cb_f(const double *x, const double *p, double *obj, void *ud)
{
    return call(ud, NLP_F, x, p, 0, NULL, obj);
}
static int cb_grad_f(const double *x, const double *p, double *v, void *ud)
{
    return call(ud, NLP_GRAD_F, x, p, 0, NULL, v);
}
static int cb_g(const double *x, const double *p, double *v, void *ud)
{
    return call(ud, NLP_G, x, p, 0, NULL, v);
}
static int cb_jac_g(const double *x, const double *p, double *v, void *ud)
{
    return call(ud, NLP_JAC_G, x, p, 0, NULL, v);
}
static int cb_hess_l(const double *x, const double *p, double s, const double *lam, double *v,
                     void *ud)
{
    return call(ud, NLP_HESS_L, x, p, s, lam, v);
}
static int cb_grad_f_p(const double *x, const double *p, double *v, void *ud)
{
    return call(ud, NLP_GRAD_F_P, x, p, 0, NULL, v);
}
static int cb_hess_lp(const double *x, const double *p, const double *lam, double *v, void *ud)
{
    return call(ud, NLP_HESS_LP, x, p, 0, lam, v);
}
static int cb_jac_g_p(const double *x, const double *p, double *v, void *ud)
{
    return call(ud, NLP_JAC_G_P, x, p, 0, NULL, v);
}

/* The dispatcher is a bound method of the foldopt.Problem that owns this object: a cycle,
 * which the garbage collector breaks through these two. */
static int nlp_traverse(nlp_obj *self, visitproc visit, void *arg)
{
    Py_VISIT(self->dispatch);
    return 0;
}

static int nlp_clear(nlp_obj *self)
{
    Py_CLEAR(self->dispatch);
    return 0;
}

static void nlp_dealloc(nlp_obj *self)
{
    PyObject_GC_UnTrack(self);
    fold_problem_free(self->prob);
    nlp_clear(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* A pattern (rows, cols) of int64 arrays, or None (no callback). */
static bool pattern(PyObject *rows, PyObject *cols, const char *name, Py_buffer *rv, Py_buffer *cv,
                    fold_pattern *pat)
{
    rv->obj = cv->obj = NULL;
    memset(pat, 0, sizeof *pat);
    if (rows == Py_None) return true;
    char rn[64], cn[64];
    snprintf(rn, sizeof rn, "%s rows", name);
    snprintf(cn, sizeof cn, "%s cols", name);
    if (!fold_py_ints(rows, -1, rn, rv)) return false;
    if (!fold_py_ints(cols, rv->len / 8, cn, cv)) {
        PyBuffer_Release(rv);
        rv->obj = NULL;
        return false;
    }
    *pat = (fold_pattern){rv->len / 8, rv->buf, cv->buf};
    return true;
}

/* NLP(n, m, np, dispatch, (g, hess_l, grad_f_p, hess_lp, jac_g_p), patterns, bounds, name):
 * which optional callbacks are present (g means g and jac_g); patterns (jac_g, hess_l, jac_g_p,
 * hess_lp) each (rows, cols) or None; bounds (x_lower, x_upper, g_lower, g_upper, x_start,
 * p_default) each float64 or None. */
static int nlp_init(nlp_obj *self, PyObject *args, PyObject *kw)
{
    long long n, m, np;
    PyObject *dispatch, *pats, *bounds;
    const char *name = NULL;
    int has_g, has_h, has_fp, has_hp, has_gp;
    if (!PyArg_ParseTuple(args, "LLLO(ppppp)O!O!|z", &n, &m, &np, &dispatch, &has_g, &has_h,
                          &has_fp, &has_hp, &has_gp, &PyTuple_Type, &pats, &PyTuple_Type, &bounds,
                          &name))
        return -1;
    if (self->prob) {
        PyErr_SetString(PyExc_RuntimeError, "NLP is already initialized");
        return -1;
    }
    if (PyTuple_GET_SIZE(pats) != 8 || PyTuple_GET_SIZE(bounds) != 6 ||
        !PyCallable_Check(dispatch)) {
        PyErr_SetString(PyExc_TypeError, "NLP: internal argument layout");
        return -1;
    }
    static const char *pat_names[] = {"jac_g", "hess_l", "jac_g_p", "hess_lp"};
    static const char *bound_names[] = {"x_lower", "x_upper", "g_lower",
                                        "g_upper", "x_start", "p_default"};
    fold_int bound_len[] = {n, n, m, m, n, np};
    Py_buffer rv[4], cv[4], bv[6];
    fold_pattern pat[4];
    const double *b[6];
    int np_ok = 0, nb_ok = 0, rc = -1;
    for (; np_ok < 4; np_ok++)
        if (!pattern(PyTuple_GET_ITEM(pats, 2 * np_ok), PyTuple_GET_ITEM(pats, 2 * np_ok + 1),
                     pat_names[np_ok], &rv[np_ok], &cv[np_ok], &pat[np_ok]))
            goto done;
    for (; nb_ok < 6; nb_ok++)
        if (!fold_py_doubles_opt(PyTuple_GET_ITEM(bounds, nb_ok), bound_len[nb_ok],
                                 bound_names[nb_ok], &bv[nb_ok], &b[nb_ok]))
            goto done;
    fold_nlp_def def = {.name = name,
                        .n = n,
                        .m = m,
                        .np = np,
                        .x_lower = b[0],
                        .x_upper = b[1],
                        .g_lower = b[2],
                        .g_upper = b[3],
                        .x_start = b[4],
                        .p_default = b[5],
                        .jac_g = pat[0],
                        .hess_l = pat[1],
                        .jac_g_p = pat[2],
                        .hess_lp = pat[3],
                        .cb = {.f = cb_f,
                               .grad_f = cb_grad_f,
                               .g = has_g ? cb_g : NULL,
                               .jac_g = has_g ? cb_jac_g : NULL,
                               .hess_l = has_h ? cb_hess_l : NULL,
                               .grad_f_p = has_fp ? cb_grad_f_p : NULL,
                               .hess_lp = has_hp ? cb_hess_lp : NULL,
                               .jac_g_p = has_gp ? cb_jac_g_p : NULL},
                        .user_data = self};
    self->n = n;
    self->m = m;
    self->np = np;
    fold_int sizes[NLP_N_CALLBACKS] = {1, n, m, pat[0].nnz, pat[1].nnz, np, pat[3].nnz, pat[2].nnz};
    memcpy(self->out_size, sizes, sizeof sizes);
    fold_status st = fold_problem_create(&def, &self->prob);
    if (st != FOLD_OK) {
        PyErr_Format(st == FOLD_ERR_MEMORY ? PyExc_MemoryError : PyExc_ValueError, "Problem: %s",
                     fold_last_error());
        goto done;
    }
    Py_INCREF(dispatch);
    self->dispatch = dispatch;
    rc = 0;
done:
    for (int k = 0; k < np_ok; k++)
        if (rv[k].obj) {
            PyBuffer_Release(&rv[k]);
            PyBuffer_Release(&cv[k]);
        }
    for (int k = 0; k < nb_ok; k++)
        if (bv[k].obj) PyBuffer_Release(&bv[k]);
    return rc;
}

/* check_derivatives(x, p, lam, h, tol) -> dict of the derivative checker's report. */
static PyObject *nlp_check(nlp_obj *self, PyObject *args)
{
    PyObject *xo, *po, *lo;
    double h, tol;
    if (!PyArg_ParseTuple(args, "OOOdd", &xo, &po, &lo, &h, &tol)) return NULL;
    Py_buffer xv, pv, lv;
    const double *p, *lam;
    if (!fold_py_doubles(xo, self->n, "x", &xv)) return NULL;
    if (!fold_py_doubles_opt(po, self->np, "p", &pv, &p)) {
        PyBuffer_Release(&xv);
        return NULL;
    }
    if (!fold_py_doubles_opt(lo, self->m, "lam", &lv, &lam)) {
        PyBuffer_Release(&xv);
        if (pv.obj) PyBuffer_Release(&pv);
        return NULL;
    }
    fold_deriv_report rep = FOLD_DERIV_REPORT_INIT;
    fold_status st;
    nlp_run_begin();
    FOLD_PY_NOGIL(st = fold_problem_check_derivatives(self->prob, xv.buf, p, lam, h, tol, &rep));
    PyBuffer_Release(&xv);
    if (pv.obj) PyBuffer_Release(&pv);
    if (lv.obj) PyBuffer_Release(&lv);
    if (nlp_run_end()) return NULL;
    if (st < 0) return fold_py_raise(st, "check_derivatives", fold_last_error());
    return Py_BuildValue("{s:O,s:d,s:d,s:s,s:L,s:L,s:d,s:d,s:L,s:L,s:L}", "ok",
                         st == FOLD_OK ? Py_True : Py_False, "max_abs_error", rep.max_abs_error,
                         "max_rel_error", rep.max_rel_error, "worst_function", rep.worst_function,
                         "worst_row", (long long)rep.worst_row, "worst_col",
                         (long long)rep.worst_col, "worst_analytic", rep.worst_analytic, "worst_fd",
                         rep.worst_fd, "n_checked", (long long)rep.n_checked, "n_bad",
                         (long long)rep.n_bad, "n_missing", (long long)rep.n_missing);
}

static PyMethodDef nlp_methods[] = {
    {"solve", (PyCFunction)(void (*)(void))nlp_solve, METH_VARARGS | METH_KEYWORDS,
     "solve(p=None, settings=None, warm=None) -> NLPSolution"},
    {"import_point", (PyCFunction)(void (*)(void))nlp_import, METH_VARARGS | METH_KEYWORDS,
     "import_point(x, p=None, lam=None, zl=None, zu=None, settings=None) -> NLPSolution"},
    {"check_derivatives", (PyCFunction)nlp_check, METH_VARARGS,
     "check_derivatives(x, p, lam, h, tol) -> dict"},
    {NULL, NULL, 0, NULL}};

PyTypeObject fold_py_nlp_type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "foldopt._foldopt.NLP",
    .tp_basicsize = sizeof(nlp_obj),
    .tp_dealloc = (destructor)nlp_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_traverse = (traverseproc)nlp_traverse,
    .tp_clear = (inquiry)nlp_clear,
    .tp_doc = "A parametric NLP of Python callbacks (internal; use foldopt.Problem)",
    .tp_methods = nlp_methods,
    .tp_init = (initproc)nlp_init,
    .tp_new = PyType_GenericNew,
};
