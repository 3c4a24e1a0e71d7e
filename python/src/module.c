/* foldopt._foldopt: module definition, the Error exception, array and settings helpers
 * shared by the types (fold_py.h). */
#include <string.h>

#include "fold_py.h"

PyObject *fold_py_error;

PyObject *fold_py_raise(fold_status st, const char *what, const char *detail)
{
    PyObject *msg = PyUnicode_FromFormat("%s: %s (%s)", what,
                                         detail && detail[0] ? detail : fold_status_string(st),
                                         fold_status_name(st));
    if (!msg) return NULL;
    PyObject *exc = PyObject_CallOneArg(fold_py_error, msg);
    Py_DECREF(msg);
    if (!exc) return NULL;
    PyObject *code = PyLong_FromLong(st), *name = PyUnicode_FromString(fold_status_name(st));
    if (code && name) {
        PyObject_SetAttrString(exc, "status", code);
        PyObject_SetAttrString(exc, "status_name", name);
    }
    Py_XDECREF(code);
    Py_XDECREF(name);
    PyErr_SetObject(fold_py_error, exc);
    Py_DECREF(exc);
    return NULL;
}

static bool typed_view(PyObject *obj, Py_ssize_t n, const char *name, Py_buffer *view,
                       const char *fmt, const char *type)
{
    if (PyObject_GetBuffer(obj, view, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) != 0) {
        PyErr_Format(PyExc_TypeError, "%s must be a contiguous %s array", name, type);
        return false;
    }
    const char *f = view->format ? view->format : "B";
    if (f[0] == '<' || f[0] == '=' || f[0] == '@') f++;
    bool ok_fmt = !strcmp(f, fmt) || (fmt[0] == 'q' && !strcmp(f, "l") && sizeof(long) == 8);
    if (!ok_fmt || view->itemsize != 8) {
        PyBuffer_Release(view);
        PyErr_Format(PyExc_TypeError, "%s must be %s (got buffer format '%s')", name, type,
                     view->format ? view->format : "B");
        return false;
    }
    if (n >= 0 && view->len / 8 != n) {
        Py_ssize_t got = view->len / 8;
        PyBuffer_Release(view);
        PyErr_Format(PyExc_ValueError, "%s has %zd entries, expected %zd", name, got, n);
        return false;
    }
    return true;
}

bool fold_py_doubles(PyObject *obj, Py_ssize_t n, const char *name, Py_buffer *view)
{
    return typed_view(obj, n, name, view, "d", "float64");
}

bool fold_py_ints(PyObject *obj, Py_ssize_t n, const char *name, Py_buffer *view)
{
    return typed_view(obj, n, name, view, "q", "int64");
}

bool fold_py_doubles_opt(PyObject *obj, Py_ssize_t n, const char *name, Py_buffer *view,
                         const double **data)
{
    view->obj = NULL;
    *data = NULL;
    if (obj == NULL || obj == Py_None) return true;
    if (!fold_py_doubles(obj, n, name, view)) return false;
    *data = view->buf;
    return true;
}

PyObject *fold_py_new_doubles(Py_ssize_t n, double **data)
{
    PyObject *b = PyByteArray_FromStringAndSize(NULL, n * (Py_ssize_t)sizeof(double));
    if (!b) return NULL;
    *data = (double *)PyByteArray_AS_STRING(b);
    memset(*data, 0, (size_t)n * sizeof(double));
    return b;
}

/* str(value), with Python's True/False as the settings table's true/false. */
static PyObject *setting_text(PyObject *v)
{
    if (v == Py_True) return PyUnicode_FromString("true");
    if (v == Py_False) return PyUnicode_FromString("false");
    return PyObject_Str(v);
}

void fold_py_ipopt_free(char **list)
{
    for (size_t k = 0; list && list[k]; k++)
        PyMem_Free(list[k]);
    PyMem_Free(list);
}

static char *text_copy(const char *s)
{
    char *c = PyMem_Malloc(strlen(s) + 1);
    if (c) strcpy(c, s);
    return c;
}

bool fold_py_ipopt_list(PyObject *dict, char ***list)
{
    *list = NULL;
    PyObject *opts = dict && dict != Py_None && PyDict_Check(dict)
                         ? PyDict_GetItemString(dict, "ipopt") /* borrowed */
                         : NULL;
    if (!opts) return true;
    if (!PyDict_Check(opts)) {
        PyErr_SetString(PyExc_TypeError, "settings['ipopt'] must be a dict {option: value}");
        return false;
    }
    Py_ssize_t n = PyDict_Size(opts), pos = 0, k = 0;
    char **l = PyMem_Calloc((size_t)(2 * n + 1), sizeof *l);
    if (!l) return PyErr_NoMemory(), false;
    PyObject *key, *v;
    while (PyDict_Next(opts, &pos, &key, &v)) {
        PyObject *txt = setting_text(v);
        const char *name = PyUnicode_Check(key) ? PyUnicode_AsUTF8(key) : NULL;
        const char *val = txt ? PyUnicode_AsUTF8(txt) : NULL;
        fold_status st = name && val ? fold_ipopt_option_check(name, val) : FOLD_ERR_ARGUMENT;
        if (st == FOLD_OK && (!(l[k] = text_copy(name)) || !(l[k + 1] = text_copy(val))))
            PyErr_NoMemory();
        Py_XDECREF(txt);
        k += 2;
        if (st != FOLD_OK || PyErr_Occurred()) {
            if (!PyErr_Occurred())
                PyErr_Format(PyExc_ValueError, "settings['ipopt'][%R]: %s", key, fold_last_error());
            fold_py_ipopt_free(l);
            return false;
        }
    }
    *list = l;
    return true;
}

bool fold_py_apply_ipopt(PyObject *dict, fold_solver *solver)
{
    char **list;
    if (!fold_py_ipopt_list(dict, &list)) return false;
    fold_status st = fold_solver_set_ipopt_option(solver, NULL, NULL);
    if (st == FOLD_OK) st = fold_solver_set_ipopt_options(solver, (const char *const *)list);
    fold_py_ipopt_free(list);
    if (st != FOLD_OK) {
        PyErr_Format(PyExc_ValueError, "settings['ipopt']: %s", fold_last_error());
        return false;
    }
    return true;
}

bool fold_py_settings(PyObject *dict, fold_settings *set)
{
    fold_settings_default(set);
    if (!dict || dict == Py_None) return true;
    if (!PyDict_Check(dict)) {
        PyErr_SetString(PyExc_TypeError, "settings must be a dict {name: value}");
        return false;
    }
    PyObject *k, *v;
    Py_ssize_t pos = 0;
    while (PyDict_Next(dict, &pos, &k, &v)) {
        const char *name = PyUnicode_Check(k) ? PyUnicode_AsUTF8(k) : NULL;
        if (!name) {
            PyErr_Format(PyExc_TypeError, "settings: key %R is not a string", k);
            return false;
        }
        if (!strcmp(name, "ipopt")) { /* checked here, set on the solver (fold_py_apply_ipopt) */
            char **list;
            if (!fold_py_ipopt_list(dict, &list)) return false;
            fold_py_ipopt_free(list);
            continue;
        }
        PyObject *txt = setting_text(v);
        const char *val = txt ? PyUnicode_AsUTF8(txt) : NULL;
        fold_status st = val ? fold_settings_set(set, name, val) : FOLD_ERR_ARGUMENT;
        Py_XDECREF(txt);
        if (st != FOLD_OK) {
            if (!PyErr_Occurred())
                PyErr_Format(PyExc_ValueError, "settings[%R]: %s", k, fold_last_error());
            return false;
        }
    }
    return true;
}

PyObject *fold_py_forward_info(const fold_forward_info *fi)
{
    return Py_BuildValue(
        "{s:i,s:s,s:i,s:s,s:L,s:d,s:d,s:d,s:d,s:d,s:d,s:d,s:O,s:L,s:L,s:L,s:L,s:L}", "status",
        fi->status, "status_name", fold_forward_status_string(fi->status), "raw_status",
        fi->raw_status, "backend", fi->backend ? fi->backend : "", "iterations",
        (long long)fi->iterations, "objective", fi->objective, "solve_seconds", fi->solve_s,
        "callback_seconds", fi->callback_s, "total_seconds", fi->total_s, "kkt_stationarity",
        fi->kkt_stationarity, "kkt_feasibility", fi->kkt_feasibility, "kkt_complementarity",
        fi->kkt_complementarity, "duals_estimated", fi->duals_estimated ? Py_True : Py_False,
        "n_eval_f", (long long)fi->n_eval_f, "n_eval_g", (long long)fi->n_eval_g, "n_eval_grad_f",
        (long long)fi->n_eval_grad_f, "n_eval_jac_g", (long long)fi->n_eval_jac_g, "n_eval_hess_l",
        (long long)fi->n_eval_hess_l);
}

PyObject *fold_py_backward_info(const fold_backward_info *b)
{
    return Py_BuildValue(
        "{s:i,s:i,s:s,s:d,s:L,s:L,s:L,s:L,s:L,s:L,s:L,s:O,s:O,s:O,s:O,s:d,s:d,s:L,s:L,s:i,"
        "s:d,s:d,s:d,s:d,s:d}",
        "kkt_form", b->kkt_form, "method", b->method, "fallback_reason", b->fallback_reason,
        "singular_delta", b->singular_delta, "n_not_unique", (long long)b->n_not_unique, "kkt_dim",
        (long long)b->dim, "kkt_nnz", (long long)b->nnz, "factor_nnz", (long long)b->factor_nnz,
        "n_active_cons", (long long)b->n_active_cons, "n_active_bounds",
        (long long)b->n_active_bounds, "n_weak", (long long)b->n_weak, "is_one_sided",
        b->is_one_sided ? Py_True : Py_False, "is_least_squares",
        b->is_least_squares ? Py_True : Py_False, "reused_factorization",
        b->reused_factorization ? Py_True : Py_False, "reused_analysis",
        b->reused_analysis ? Py_True : Py_False, "rcond", b->rcond, "residual", b->residual,
        "iterations", (long long)b->iterations, "n_rhs", (long long)b->n_rhs, "reason", b->reason,
        "assemble_seconds", b->assemble_s, "analyze_seconds", b->analyze_s, "factor_seconds",
        b->factor_s, "solve_seconds", b->solve_s, "total_seconds", b->total_s);
}

/* One item of a trust report as a dict; NULL on a memory error. prev: the tuple of the
 * item before it when that item's list is this one's (sides may share one), else NULL. */
static PyObject *trust_item(const fold_trust_item *it, PyObject *prev)
{
    static const char *const sides[] = {NULL, "lower", "upper"};
    bool is_side =
        it->index >= 0 && (it->item == FOLD_ITEM_VARIABLE || it->item == FOLD_ITEM_CONSTRAINT);
    PyObject *aff = prev ? prev : PyTuple_New(it->n_affected);
    if (prev) Py_INCREF(prev);
    for (fold_int k = 0; aff && !prev && k < it->n_affected; k++) {
        PyObject *v = PyLong_FromLongLong((long long)it->affected[k]);
        if (!v)
            Py_CLEAR(aff);
        else
            PyTuple_SET_ITEM(aff, k, v);
    }
    if (!aff) return NULL;
    const char *side = is_side && it->side >= 1 && it->side <= 2 ? sides[it->side] : NULL;
    const char *item = !is_side ? NULL : it->item == FOLD_ITEM_VARIABLE ? "variable" : "constraint";
    return Py_BuildValue("{s:s,s:s,s:z,s:L,s:z,s:d,s:d,s:i,s:L,s:L,s:L,s:d,s:d,s:d,s:N}", "kind",
                         fold_trust_kind_name(it->kind), "name", it->name ? it->name : "", "item",
                         item, "index", (long long)it->index, "side", side, "slack", it->slack,
                         "multiplier", it->multiplier, "block", it->block, "entry",
                         (long long)it->entry, "row", (long long)it->row, "col", (long long)it->col,
                         "value", it->value, "lo", it->lo, "hi", it->hi, "affected", aff);
}

PyObject *fold_py_trust_items(const fold_trust_item *items, fold_int count)
{
    PyObject *list = PyList_New(0);
    for (fold_int k = 0; list && k < count; k++) {
        const fold_trust_item *it = fold_trust_item_at(items, k), *before = NULL;
        PyObject *prev = NULL; /* one tuple for sides sharing a list */
        if (k > 0 && PyList_GET_SIZE(list) == k) before = fold_trust_item_at(items, k - 1);
        if (before && it->n_affected > 0 && before->affected == it->affected)
            prev = PyDict_GetItemString(PyList_GET_ITEM(list, k - 1), "affected");
        PyObject *d = trust_item(it, prev);
        if (!d || PyList_Append(list, d) != 0) Py_CLEAR(list);
        Py_XDECREF(d);
    }
    return list;
}

PyObject *fold_py_solver_trust(const fold_solver *sv)
{
    const fold_trust_item *items = NULL;
    fold_int count = 0;
    if (fold_trust_report(sv, &items, &count) != FOLD_OK) count = 0;
    return fold_py_trust_items(items, count);
}

static PyObject *py_settings_list(PyObject *self, PyObject *args)
{
    fold_int n = fold_settings_count();
    PyObject *list = PyList_New(0);
    for (fold_int i = 0; list && i < n; i++) {
        const fold_setting_info *si = fold_settings_info(i);
        PyObject *t = Py_BuildValue("(ssss)", si->name, si->type, si->deflt ? si->deflt : "",
                                    si->doc ? si->doc : "");
        if (!t || PyList_Append(list, t) != 0) Py_CLEAR(list);
        Py_XDECREF(t);
    }
    return list;
}

static PyObject *py_check_settings(PyObject *self, PyObject *dict)
{
    fold_settings set;
    if (!fold_py_settings(dict, &set)) return NULL;
    fold_status st = fold_settings_validate(&set);
    if (st != FOLD_OK) return fold_py_raise(st, "settings", fold_last_error());
    Py_RETURN_NONE;
}

static PyObject *py_status_name(PyObject *self, PyObject *arg)
{
    long st = PyLong_AsLong(arg);
    if (st == -1 && PyErr_Occurred()) return NULL;
    return PyUnicode_FromString(fold_status_name((fold_status)st));
}

static PyObject *py_library_threads(PyObject *self, PyObject *args)
{
    int n = 0;
    if (!PyArg_ParseTuple(args, "|i", &n)) return NULL;
    if (n != 0) {
        if (n < 0) {
            PyErr_Format(PyExc_ValueError, "library_threads: n = %d, must be >= 1", n);
            return NULL;
        }
        fold_status st = fold_set_library_threads(n);
        if (st != FOLD_OK) return fold_py_raise(st, "library_threads", fold_last_error());
    }
    return PyLong_FromLong(fold_library_threads());
}

static PyMethodDef methods[] = {
    {"library_threads", py_library_threads, METH_VARARGS,
     "library_threads([n]) -> OpenBLAS's thread count (0 without OpenBLAS), after setting the "
     "OpenBLAS and OpenMP pools to n >= 1 threads when n is given"},
    {"settings_list", py_settings_list, METH_NOARGS,
     "settings_list() -> [(name, type, default, doc)] of every setting"},
    {"check_settings", py_check_settings, METH_O,
     "check_settings(dict): raise ValueError / foldopt.Error for an invalid settings dict"},
    {"status_name", py_status_name, METH_O, "status_name(code) -> 'FOLD_ERR_...'"},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef module_def = {PyModuleDef_HEAD_INIT,
                                        "_foldopt",
                                        "foldopt's C library (internal; use foldopt)",
                                        -1,
                                        methods,
                                        NULL,
                                        NULL,
                                        NULL,
                                        NULL};

PyMODINIT_FUNC PyInit__foldopt(void)
{
    PyTypeObject *types[] = {&fold_py_opf_model_type, &fold_py_opf_solution_type, &fold_py_nlp_type,
                             &fold_py_nlp_solution_type, &fold_py_opf_batch_type};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (PyType_Ready(types[i]) < 0) return NULL;
    PyObject *m = PyModule_Create(&module_def);
    if (!m) return NULL;
    fold_py_error = PyErr_NewExceptionWithDoc(
        "foldopt.Error",
        "A foldopt library call failed: status (int) and status_name ('FOLD_ERR_...') say "
        "how, the message names the item.",
        PyExc_RuntimeError, NULL);
    if (!fold_py_error || PyModule_AddObjectRef(m, "Error", fold_py_error) < 0 ||
        PyModule_AddStringConstant(m, "version", fold_version()) < 0)
        goto fail;
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (PyModule_AddObjectRef(m, strrchr(types[i]->tp_name, '.') + 1, (PyObject *)types[i]) < 0)
            goto fail;
    return m;
fail:
    Py_DECREF(m);
    return NULL;
}
