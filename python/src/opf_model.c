/* foldopt._foldopt.OPFModel: an AC-OPF model (foldopt/acopf.h) read from a case file or
 * text, or a synthetic grid; its sizes, keys, parameter and output layouts, and solves
 * that return OPFSolution objects (opf_solution.c). Immutable after creation, so solves of
 * one model may run in several threads. */
#include <string.h>

#include "opf_py.h"

static void model_dealloc(opf_model *self)
{
    fold_acopf_free(self->model);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *acopf_raise(fold_status st, const char *what)
{
    if (st == FOLD_ERR_PARSE || st == FOLD_ERR_UNSUPPORTED || st == FOLD_ERR_TOO_LARGE ||
        st == FOLD_ERR_ARGUMENT) { /* input the model refuses: a ValueError that says why */
        PyErr_Format(PyExc_ValueError, "%s: %s", what, fold_last_error());
        return NULL;
    }
    if (st == FOLD_ERR_IO) {
        PyErr_Format(PyExc_OSError, "%s: %s", what, fold_last_error());
        return NULL;
    }
    return fold_py_raise(st, what, fold_last_error());
}

/* OPFModel(path=None, *, text=None, name="case", grid_buses=0, seed=1,
 *          flow_var_max_z=FOLD_ACOPF_FLOW_VAR_MAX_Z) */
static int model_init(opf_model *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"path", "text", "name", "grid_buses", "seed", "flow_var_max_z", NULL};
    PyObject *path = Py_None;
    const char *text = NULL, *name = "case";
    Py_ssize_t text_len = 0;
    long long grid = 0;
    unsigned long long seed = 1;
    double max_z = FOLD_ACOPF_FLOW_VAR_MAX_Z;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "|O$z#sLKd", kwlist, &path, &text, &text_len, &name,
                                     &grid, &seed, &max_z))
        return -1;
    if (self->model) {
        PyErr_SetString(PyExc_RuntimeError, "OPFModel is already initialized");
        return -1;
    }
    fold_acopf_case *cs = NULL;
    fold_status st;
    PyObject *bytes = NULL;
    if (path != Py_None) {
        if (!PyUnicode_FSConverter(path, &bytes)) return -1;
        const char *p = PyBytes_AS_STRING(bytes);
        FOLD_PY_NOGIL(st = fold_acopf_case_read(p, &cs));
    } else if (text) {
        st = fold_acopf_case_parse(text, (size_t)text_len, name, &cs);
    } else {
        FOLD_PY_NOGIL(st = fold_acopf_gen_grid((fold_int)grid, seed, &cs));
    }
    Py_XDECREF(bytes);
    if (st != FOLD_OK) {
        acopf_raise(st, path != Py_None ? "case" : text ? "text" : "grid");
        return -1;
    }
    fold_acopf_options opt;
    fold_acopf_default_options(&opt);
    opt.flow_var_max_z = max_z;
    st = fold_acopf_create_with(cs, &opt, &self->model);
    fold_acopf_case_free(cs);
    if (st != FOLD_OK) {
        acopf_raise(st, "case");
        return -1;
    }
    return 0;
}

static bool ready(const opf_model *self)
{
    if (!self->model) PyErr_SetString(PyExc_RuntimeError, "OPFModel is not initialized");
    return self->model != NULL;
}

static PyObject *model_sizes(opf_model *self, PyObject *noargs)
{
    if (!ready(self)) return NULL;
    const fold_acopf_case *cs = fold_acopf_get_case(self->model);
    fold_acopf_layout L = fold_acopf_get_layout(self->model);
    return Py_BuildValue("{s:s,s:d,s:L,s:L,s:L,s:L,s:L,s:L,s:L,s:L,s:L,s:L}", "name", cs->name,
                         "base_mva", cs->base_mva, "n_bus", (long long)cs->n_bus, "n_gen",
                         (long long)cs->n_gen, "n_branch", (long long)cs->n_branch, "n",
                         (long long)L.n, "m", (long long)L.m, "np", (long long)L.np, "n_flow",
                         (long long)L.n_flow, "n_dropped_bus", (long long)cs->n_dropped_bus,
                         "n_dropped_gen", (long long)cs->n_dropped_gen, "n_dropped_branch",
                         (long long)cs->n_dropped_branch);
}

/* int64 bytearray of n values. */
static PyObject *new_ints(Py_ssize_t n, long long **data)
{
    PyObject *b = PyByteArray_FromStringAndSize(NULL, n * 8);
    if (b) *data = (long long *)PyByteArray_AS_STRING(b);
    return b;
}

/* keys(item_type) -> int64 bytes: bus ids, rows of mpc.gen, rows of mpc.branch. */
static PyObject *model_keys(opf_model *self, PyObject *arg)
{
    long type = PyLong_AsLong(arg);
    if (!ready(self) || (type == -1 && PyErr_Occurred())) return NULL;
    if (type < FOLD_ACOPF_ITEM_NONE || type > FOLD_ACOPF_ITEM_BRANCH)
        return PyErr_Format(PyExc_ValueError, "item type %ld out of range", type);
    fold_int n = fold_acopf_item_count(self->model, (int)type);
    long long *d;
    PyObject *b = new_ints(n, &d);
    for (fold_int i = 0; b && i < n; i++)
        d[i] = fold_acopf_item_key(fold_acopf_get_case(self->model), (int)type, i);
    return b;
}

/* topology() -> (gen_bus, branch_from, branch_to) as int64 bytes of bus ids. */
static PyObject *model_topology(opf_model *self, PyObject *noargs)
{
    if (!ready(self)) return NULL;
    const fold_acopf_case *cs = fold_acopf_get_case(self->model);
    long long *g, *f, *t;
    PyObject *bg = new_ints(cs->n_gen, &g), *bf = new_ints(cs->n_branch, &f),
             *bt = new_ints(cs->n_branch, &t);
    if (!bg || !bf || !bt) {
        Py_XDECREF(bg);
        Py_XDECREF(bf);
        Py_XDECREF(bt);
        return NULL;
    }
    for (fold_int k = 0; k < cs->n_gen; k++)
        g[k] = cs->bus[cs->gen[k].bus].id;
    for (fold_int k = 0; k < cs->n_branch; k++) {
        f[k] = cs->bus[cs->branch[k].f].id;
        t[k] = cs->bus[cs->branch[k].t].id;
    }
    return Py_BuildValue("(NNN)", bg, bf, bt);
}

static PyObject *model_default_params(opf_model *self, PyObject *noargs)
{
    if (!ready(self)) return NULL;
    fold_acopf_layout L = fold_acopf_get_layout(self->model);
    double *d;
    PyObject *b = fold_py_new_doubles(L.np, &d);
    if (b) fold_problem_default_params(fold_acopf_problem(self->model), d);
    return b;
}

/* param_kinds() -> [(name, unit, item_type, indices int64 bytes)] in kind order. */
static PyObject *model_param_kinds(opf_model *self, PyObject *noargs)
{
    if (!ready(self)) return NULL;
    PyObject *list = PyList_New(0);
    for (int k = 0; list && k < FOLD_ACOPF_N_PARAM_KINDS; k++) {
        int type = fold_acopf_param_item_type(k);
        fold_int n = fold_acopf_item_count(self->model, type);
        long long *d;
        PyObject *idx = new_ints(n, &d);
        for (fold_int i = 0; idx && i < n; i++)
            d[i] = fold_acopf_param_index(self->model, k, i);
        PyObject *t = idx ? Py_BuildValue("(ssiN)", fold_acopf_param_name(k),
                                          fold_acopf_param_unit(k), type, idx)
                          : NULL;
        if (!t || PyList_Append(list, t) != 0) Py_CLEAR(list);
        Py_XDECREF(t);
    }
    return list;
}

/* output_kinds() -> [(name, unit, item_type, count)] in kind order. */
static PyObject *model_output_kinds(opf_model *self, PyObject *noargs)
{
    if (!ready(self)) return NULL;
    PyObject *list = PyList_New(0);
    for (int k = 0; list && k < FOLD_ACOPF_N_OUTPUT_KINDS; k++) {
        int type = fold_acopf_output_item_type(k);
        PyObject *t = Py_BuildValue("(ssiL)", fold_acopf_output_name(k), fold_acopf_output_unit(k),
                                    type, (long long)fold_acopf_item_count(self->model, type));
        if (!t || PyList_Append(list, t) != 0) Py_CLEAR(list);
        Py_XDECREF(t);
    }
    return list;
}

/* write(path, format): "matpower" or "json" (PowerModels). */
static PyObject *model_write(opf_model *self, PyObject *args)
{
    PyObject *path;
    const char *format;
    if (!ready(self) || !PyArg_ParseTuple(args, "O&s", PyUnicode_FSConverter, &path, &format))
        return NULL;
    bool json = !strcmp(format, "json");
    if (!json && strcmp(format, "matpower")) {
        Py_DECREF(path);
        return PyErr_Format(PyExc_ValueError, "format must be 'matpower' or 'json', not '%s'",
                            format);
    }
    FILE *fp = fopen(PyBytes_AS_STRING(path), "w");
    if (!fp) {
        PyErr_SetFromErrnoWithFilenameObject(PyExc_OSError, path);
        Py_DECREF(path);
        return NULL;
    }
    const fold_acopf_case *cs = fold_acopf_get_case(self->model);
    fold_status st = json ? fold_acopf_case_write_pm_json(cs, fp) : fold_acopf_case_write(cs, fp);
    bool closed = fclose(fp) == 0;
    Py_DECREF(path);
    if (st != FOLD_OK) return acopf_raise(st, "write");
    if (!closed) return PyErr_SetFromErrno(PyExc_OSError);
    Py_RETURN_NONE;
}

static PyMethodDef model_methods[] = {
    {"sizes", (PyCFunction)model_sizes, METH_NOARGS, "sizes() -> dict"},
    {"keys", (PyCFunction)model_keys, METH_O, "keys(item_type) -> int64 bytes"},
    {"topology", (PyCFunction)model_topology, METH_NOARGS,
     "topology() -> (gen_bus, branch_from, branch_to) int64 bytes"},
    {"default_params", (PyCFunction)model_default_params, METH_NOARGS,
     "default_params() -> float64 bytes (np)"},
    {"param_kinds", (PyCFunction)model_param_kinds, METH_NOARGS,
     "param_kinds() -> [(name, unit, item_type, indices)]"},
    {"output_kinds", (PyCFunction)model_output_kinds, METH_NOARGS,
     "output_kinds() -> [(name, unit, item_type, count)]"},
    {"solve", (PyCFunction)(void (*)(void))opf_model_solve, METH_VARARGS | METH_KEYWORDS,
     "solve(p=None, settings=None, max_rounds=2, warm=None) -> OPFSolution"},
    {"import_solution", (PyCFunction)(void (*)(void))opf_model_import, METH_VARARGS | METH_KEYWORDS,
     "import_solution(path, p=None, kkt_tol=1e-5, polish=False, settings=None) -> "
     "OPFSolution"},
    {"write", (PyCFunction)model_write, METH_VARARGS, "write(path, format)"},
    {NULL, NULL, 0, NULL}};

PyTypeObject fold_py_opf_model_type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "foldopt._foldopt.OPFModel",
    .tp_basicsize = sizeof(opf_model),
    .tp_dealloc = (destructor)model_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "An AC-OPF model (internal; use foldopt.opf.OPF)",
    .tp_methods = model_methods,
    .tp_init = (initproc)model_init,
    .tp_new = PyType_GenericNew,
};
