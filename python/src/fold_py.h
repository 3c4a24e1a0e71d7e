/* The foldopt._foldopt extension module: shared helpers of its files (module.c, opf_model.c,
 * opf_solution.c, nlp.c). Arrays cross the boundary as buffers of float64 / int64 (the
 * pure-Python layer makes them with numpy and checks shapes first; these checks are the
 * last line); results go out as bytearrays that the Python layer views with numpy. No
 * numpy C API. doc/python.md describes the package. */
#ifndef FOLD_PY_H
#define FOLD_PY_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <foldopt.h>
#include <foldopt/acopf.h>

/* Run stmt (library work that calls no Python, or whose callbacks take the GIL back
 * themselves) without the GIL. */
#define FOLD_PY_NOGIL(stmt)                                                                        \
    do {                                                                                           \
        PyThreadState *fold_py_ts_ = PyEval_SaveThread();                                          \
        stmt;                                                                                      \
        PyEval_RestoreThread(fold_py_ts_);                                                         \
    } while (0)

/* foldopt.Error: a failed library call. args = (message,), attributes status (int) and
 * status_name ("FOLD_ERR_SINGULAR"). */
extern PyObject *fold_py_error;

/* Raise foldopt.Error for status st with message "<what>: <detail>" (detail: the library's
 * or the AC-OPF model's last error); returns NULL. */
PyObject *fold_py_raise(fold_status st, const char *what, const char *detail);

/* A read-only view of obj as n float64 (int64) values, C-contiguous. n < 0: any length
 * (view->len / 8 values). On failure raises TypeError or ValueError naming `name` and
 * returns false (nothing to release). */
bool fold_py_doubles(PyObject *obj, Py_ssize_t n, const char *name, Py_buffer *view);
bool fold_py_ints(PyObject *obj, Py_ssize_t n, const char *name, Py_buffer *view);
/* The same, or NULL data when obj is None. */
bool fold_py_doubles_opt(PyObject *obj, Py_ssize_t n, const char *name, Py_buffer *view,
                         const double **data);

/* A new bytearray of n doubles (zeroed); *data points into it. NULL on memory error. */
PyObject *fold_py_new_doubles(Py_ssize_t n, double **data);

/* Settings from a dict {name: value} of fold_settings_set names (values converted with
 * str(); booleans as true/false) and the key "ipopt" holding {option: value}; None: the
 * defaults. Raises ValueError naming the key. */
bool fold_py_settings(PyObject *dict, fold_settings *set);
/* settings['ipopt'] ({option: value}; absent: none): as a list name, value, ..., NULL in
 * *list (NULL when none; free with fold_py_ipopt_free), every option checked; and onto a
 * solver, whose options it replaces. False with a Python exception set on a bad option. */
bool fold_py_ipopt_list(PyObject *dict, char ***list);
void fold_py_ipopt_free(char **list);
bool fold_py_apply_ipopt(PyObject *dict, fold_solver *solver);

/* A dict of a fold_forward_info / fold_backward_info. */
PyObject *fold_py_forward_info(const fold_forward_info *fi);
PyObject *fold_py_backward_info(const fold_backward_info *bi);

/* A trust report (fold_trust_report, fold_acopf_trust_report) as a list of dicts with the
 * fields of fold_trust_item: kind (fold_trust_kind_name), name, item ("variable",
 * "constraint" or None), index, side ("lower", "upper" or None), slack, multiplier, block,
 * entry, row, col, value, lo, hi, affected (tuple of entries). fold_py_solver_trust: the
 * report of the solver's last fold call. */
PyObject *fold_py_trust_items(const fold_trust_item *items, fold_int count);
PyObject *fold_py_solver_trust(const fold_solver *sv);

/* Types defined by the other files; registered by the module. */
extern PyTypeObject fold_py_opf_model_type;
extern PyTypeObject fold_py_opf_solution_type;
extern PyTypeObject fold_py_nlp_type;
extern PyTypeObject fold_py_nlp_solution_type;
extern PyTypeObject fold_py_opf_batch_type;

#endif
