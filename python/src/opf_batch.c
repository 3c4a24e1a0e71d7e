/* foldopt._foldopt.OPFBatch: the samples of an OPFLayer batch on the library's scenario
 * engine (foldopt/batch.h): worker processes that build the AC-OPF model once, solve
 * warm-started chains of samples and keep each sample's solver and factorization for the
 * backward pass (keep mode). The hooks below run in the workers and call no Python. */
#include <stdlib.h>
#include <string.h>

#include <foldopt/batch.h>

#include "opf_py.h"

/* What the workers need, fixed at creation (they are forks of this process). */
typedef struct batch_spec {
    const fold_acopf *base; /* the OPFModel's model (kept alive by the OPFBatch) */
    fold_settings set;
    char **ipopt; /* settings['ipopt'] (fold_py_ipopt_list), set on every solver */
    fold_acopf_solve_options opt;
    fold_int n_out;
    fold_acopf_output *outs;
    fold_int n_cols; /* the parameters a VJP differentiates (the layer's wrt), as in-process */
    fold_int *cols;
} batch_spec;

/* One sample's state in a worker: its solver and, after a kept re-solve, its model. */
typedef struct batch_state {
    fold_acopf *resolved;
    fold_solver *solver;
    bool differentiated; /* fold_acopf_trust_report holds the report of its last VJP */
} batch_state;

static const fold_acopf *state_model(const batch_spec *sp, const batch_state *z)
{
    return z->resolved ? z->resolved : sp->base;
}

static fold_status hook_create(void *user_data, void **model, char *message)
{
    *model = user_data;
    return FOLD_OK;
}

static void hook_release(void *model, void *state)
{
    batch_state *z = state;
    if (!z) return;
    fold_solver_free(z->solver);
    fold_acopf_free(z->resolved);
    free(z);
}

static void note(char *message, fold_status st)
{
    if (st != FOLD_OK) snprintf(message, FOLD_BATCH_MESSAGE_LEN, "%s", fold_last_error());
}

static fold_status hook_solve(void *model, const fold_batch_solve_args *args, void **state,
                              fold_forward_info *info, char *message)
{
    const batch_spec *sp = model;
    batch_state *z = calloc(1, sizeof *z);
    if (!z) return FOLD_ERR_MEMORY;
    fold_solver *rsv = NULL;
    fold_status st = fold_solver_create(fold_acopf_problem(sp->base), &sp->set, &z->solver);
    if (st == FOLD_OK)
        st = fold_solver_set_ipopt_options(z->solver, (const char *const *)sp->ipopt);
    const batch_state *from = args->start;
    if (st == FOLD_OK && from)
        st = opf_carry_start(state_model(sp, from), from->solver, sp->base, z->solver);
    if (st == FOLD_OK)
        st = fold_acopf_solve_on(sp->base, z->solver, args->p, &sp->opt, &z->resolved, &rsv, info,
                                 NULL);
    if (rsv) { /* a kept re-solve with flow variables holds the solution */
        fold_solver_free(z->solver);
        z->solver = rsv;
    }
    note(message, st);
    *state = z;
    return st;
}

static fold_status hook_record(void *model, void *state, double *outputs, double *sens,
                               fold_backward_info *backward, char *message)
{
    const batch_spec *sp = model;
    batch_state *z = state;
    fold_status st =
        fold_acopf_output_values(state_model(sp, z), z->solver, sp->n_out, sp->outs, outputs);
    note(message, st);
    return st;
}

/* pbar (np) = (d outputs / d p)' ybar over the layer's parameters (zero elsewhere), with the
 * barrier fallback of foldopt opf: the call Solution.vjp makes in-process. */
static fold_status hook_vjp(void *model, void *state, const double *ybar, double *pbar,
                            char *message)
{
    const batch_spec *sp = model;
    batch_state *z = state;
    const fold_acopf *m = state_model(sp, z);
    fold_int np = fold_acopf_get_layout(m).np;
    double *v = malloc(((size_t)sp->n_cols + 1) * sizeof *v);
    if (!v) return FOLD_ERR_MEMORY;
    fold_acopf_diff_request rq = {.mode = FOLD_ACOPF_DIFF_VJP,
                                  .n_out = sp->n_out,
                                  .out = sp->outs,
                                  .weights = ybar,
                                  .n_cols = sp->n_cols,
                                  .cols = sp->cols};
    z->differentiated = false;
    fold_status st = fold_acopf_differentiate(m, z->solver, &rq, v, NULL);
    z->differentiated = st >= 0;
    for (fold_int j = 0; j < np; j++)
        pbar[j] = 0;
    for (fold_int c = 0; st >= 0 && c < sp->n_cols; c++)
        pbar[sp->cols[c]] = v[c];
    free(v);
    note(message, st);
    return st;
}

/* The trust report of the state's last VJP (fold_acopf_trust_report: the engine calls this
 * right after it, on the same thread). */
static fold_status hook_trust(void *model, void *state, const fold_trust_item **items,
                              fold_int *count)
{
    const batch_state *z = state;
    *items = NULL;
    *count = 0;
    return z->differentiated ? fold_acopf_trust_report(items, count) : FOLD_OK;
}

typedef struct opf_batch {
    PyObject_HEAD opf_model *owner;
    batch_spec spec;
    fold_batch_model bm;
    fold_batch *batch;
    fold_int np;
} opf_batch;

static void batch_dealloc(opf_batch *self)
{
    fold_batch_free(self->batch);
    PyMem_Free(self->spec.outs);
    fold_py_ipopt_free(self->spec.ipopt);
    PyMem_Free(self->spec.cols);
    Py_XDECREF(self->owner);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* The parameter indices a VJP differentiates, checked against np. */
static bool take_cols(opf_batch *self, PyObject *co, fold_int np)
{
    Py_buffer cv;
    if (!fold_py_ints(co, -1, "cols", &cv)) return false;
    fold_int n = cv.len / 8;
    const long long *c = cv.buf;
    self->spec.cols = PyMem_Malloc(((size_t)n + 1) * sizeof *self->spec.cols);
    for (fold_int k = 0; self->spec.cols && k < n; k++) {
        if (c[k] < 0 || c[k] >= np) {
            PyErr_Format(PyExc_ValueError, "cols[%ld] = %lld is not a parameter index", (long)k,
                         c[k]);
            PyBuffer_Release(&cv);
            PyMem_Free(self->spec.cols);
            self->spec.cols = NULL;
            return false;
        }
        self->spec.cols[k] = c[k];
    }
    self->spec.n_cols = n;
    PyBuffer_Release(&cv);
    if (!self->spec.cols) PyErr_NoMemory();
    return self->spec.cols != NULL;
}

/* OPFBatch(model, out_kinds, out_items, cols, settings, workers, max_rounds, warm): warm
 * false solves every sample from the model's start (FOLD_BATCH_WARM_COLD), as in-process */
static int batch_init(opf_batch *self, PyObject *args, PyObject *kw)
{
    PyObject *mo, *ko, *io, *co, *so;
    int workers, max_rounds, warm;
    if (!PyArg_ParseTuple(args, "O!OOOOiip", &fold_py_opf_model_type, &mo, &ko, &io, &co, &so,
                          &workers, &max_rounds, &warm))
        return -1;
    if (self->batch) {
        PyErr_SetString(PyExc_RuntimeError, "OPFBatch is already initialized");
        return -1;
    }
    opf_model *m = (opf_model *)mo;
    Py_buffer kv, iv;
    if (m->model && !self->spec.cols && !take_cols(self, co, fold_acopf_get_layout(m->model).np))
        return -1;
    if (!m->model || !fold_py_settings(so, &self->spec.set) ||
        !fold_py_ipopt_list(so, &self->spec.ipopt) || !fold_py_ints(ko, -1, "out_kinds", &kv))
        return PyErr_Occurred() ? -1 : (PyErr_SetString(PyExc_RuntimeError, "no model"), -1);
    fold_int n_out = kv.len / 8;
    if (!fold_py_ints(io, n_out, "out_items", &iv)) {
        PyBuffer_Release(&kv);
        return -1;
    }
    self->spec.outs = PyMem_Malloc(((size_t)n_out + 1) * sizeof *self->spec.outs);
    for (fold_int r = 0; self->spec.outs && r < n_out; r++)
        self->spec.outs[r] = (fold_acopf_output){(int)((const long long *)kv.buf)[r],
                                                 ((const long long *)iv.buf)[r]};
    PyBuffer_Release(&kv);
    PyBuffer_Release(&iv);
    if (!self->spec.outs) {
        PyErr_NoMemory();
        return -1;
    }
    Py_INCREF(m);
    self->owner = m;
    self->spec.base = m->model;
    self->spec.n_out = n_out;
    fold_acopf_default_solve_options(&self->spec.opt);
    self->spec.opt.max_rounds = max_rounds;
    self->np = fold_acopf_get_layout(m->model).np;
    self->bm = (fold_batch_model){.name = "OPFLayer",
                                  .np = self->np,
                                  .n_out = n_out,
                                  .user_data = &self->spec,
                                  .create = hook_create,
                                  .solve = hook_solve,
                                  .record = hook_record,
                                  .release = hook_release,
                                  .vjp = hook_vjp,
                                  .trust = hook_trust};
    fold_batch_options opt;
    fold_batch_default_options(&opt);
    opt.n_workers = workers;
    if (!warm) opt.warm = FOLD_BATCH_WARM_COLD;
    fold_status st = fold_batch_create(&self->bm, &opt, &self->batch);
    if (st != FOLD_OK) {
        fold_py_raise(st, "OPFBatch", fold_last_error());
        return -1;
    }
    return 0;
}

/* Records of a run, by scenario. */
typedef struct run_out {
    fold_int n_out;
    double *outputs;
    long long *keys, *status, *iterations, *outcome, *start, *warm_from;
    char *messages; /* FOLD_BATCH_MESSAGE_LEN per scenario */
} run_out;

static int on_record(const fold_batch_record *rec, void *ud)
{
    run_out *ro = ud;
    fold_int s = rec->scenario;
    ro->keys[s] = rec->key;
    ro->status[s] = rec->status;
    ro->iterations[s] = rec->iterations;
    ro->outcome[s] = rec->outcome;
    ro->start[s] = rec->start;
    ro->warm_from[s] = rec->warm_from;
    snprintf(ro->messages + (size_t)s * FOLD_BATCH_MESSAGE_LEN, FOLD_BATCH_MESSAGE_LEN, "%s",
             rec->message ? rec->message : "");
    if (rec->outputs && rec->status >= 0)
        memcpy(ro->outputs + s * ro->n_out, rec->outputs, (size_t)ro->n_out * sizeof(double));
    return 0;
}

/* The messages of a run as a list of str (invalid UTF-8 replaced). */
static PyObject *message_list(const char *messages, fold_int B)
{
    PyObject *list = PyList_New(B);
    for (fold_int i = 0; list && i < B; i++) {
        const char *m = messages + (size_t)i * FOLD_BATCH_MESSAGE_LEN;
        PyObject *v = PyUnicode_DecodeUTF8(m, (Py_ssize_t)strlen(m), "replace");
        if (!v) {
            Py_CLEAR(list);
            break;
        }
        PyList_SET_ITEM(list, i, v);
    }
    return list;
}

enum { N_COLUMNS = 6 }; /* keys, status, iterations, outcomes, starts, warm_from */

/* run(P, carry) with P (B x np, C order) -> (outputs B x n_out, keys, status, iterations,
 * outcomes (fold_batch_outcome), starts (fold_batch_start), warm_from, messages, info dict of
 * fold_batch_info); carry: warm starts from the workers' previous run (job.carry). */
static PyObject *batch_run(opf_batch *self, PyObject *args)
{
    PyObject *po;
    int carry;
    Py_buffer pv;
    if (!PyArg_ParseTuple(args, "Op", &po, &carry)) return NULL;
    if (!self->batch || !fold_py_doubles(po, -1, "P", &pv))
        return self->batch ? NULL : PyErr_Format(PyExc_ValueError, "the batch is closed");
    fold_int B = pv.len / 8 / (self->np ? self->np : 1);
    if (B * self->np * 8 != pv.len || B < 1) {
        PyBuffer_Release(&pv);
        return PyErr_Format(PyExc_ValueError, "P must hold B x %ld values", (long)self->np);
    }
    double *out;
    PyObject *bo = fold_py_new_doubles(B * self->spec.n_out, &out), *col[N_COLUMNS];
    long long *c[N_COLUMNS];
    bool ok = bo != NULL;
    for (int k = 0; k < N_COLUMNS; k++) {
        col[k] = PyByteArray_FromStringAndSize(NULL, B * 8);
        ok = ok && col[k];
        c[k] = col[k] ? (long long *)PyByteArray_AS_STRING(col[k]) : NULL;
    }
    char *messages = PyMem_Calloc((size_t)B, FOLD_BATCH_MESSAGE_LEN);
    PyObject *msgs = NULL, *summary = NULL;
    if (!ok || !messages) {
        if (!messages) PyErr_NoMemory();
        PyBuffer_Release(&pv);
        goto fail;
    }
    for (fold_int i = 0; i < B; i++) {
        c[0][i] = -1;
        c[1][i] = FOLD_ERR_FORWARD_FAILED;
        c[2][i] = 0;
        c[3][i] = FOLD_BATCH_DONE;
        c[4][i] = FOLD_BATCH_START_COLD;
        c[5][i] = -1;
    }
    run_out ro = {self->spec.n_out, out, c[0], c[1], c[2], c[3], c[4], c[5], messages};
    fold_batch_job job = {.n_scenarios = B,
                          .params_array = pv.buf,
                          .anchor_mean = true,
                          .keep = true,
                          .carry = carry,
                          .on_record = on_record,
                          .record_data = &ro};
    fold_batch_info info = FOLD_BATCH_INFO_INIT;
    fold_status st;
    FOLD_PY_NOGIL(st = fold_batch_run(self->batch, &job, &info));
    PyBuffer_Release(&pv);
    if (st != FOLD_OK) {
        fold_py_raise(st, "OPFBatch.run", fold_last_error());
        goto fail;
    }
    msgs = message_list(messages, B);
    summary = !msgs ? NULL
                    : Py_BuildValue(
                          "{s:L,s:L,s:L,s:L,s:L,s:i,s:d,s:L,s:L}", "n_ok", (long long)info.n_ok,
                          "n_failed", (long long)info.n_failed, "n_crashed",
                          (long long)info.n_crashed, "n_timed_out", (long long)info.n_timed_out,
                          "n_respawned", (long long)info.n_respawned, "n_workers", info.n_workers,
                          "wall_seconds", info.wall_s, "worker_peak_kb",
                          (long long)info.worker_peak_kb, "iterations", (long long)info.iterations);
    if (!summary) goto fail;
    PyMem_Free(messages);
    return Py_BuildValue("(NNNNNNNNN)", bo, col[0], col[1], col[2], col[3], col[4], col[5], msgs,
                         summary);
fail:
    PyMem_Free(messages);
    Py_XDECREF(msgs);
    Py_XDECREF(bo);
    for (int k = 0; k < N_COLUMNS; k++)
        Py_XDECREF(col[k]);
    return NULL;
}

/* vjp(keys, ybar (count x n_out)) -> (pbar count x np, status) */
static PyObject *batch_vjp(opf_batch *self, PyObject *args)
{
    PyObject *ko, *yo;
    Py_buffer kv, yv;
    if (!self->batch) return PyErr_Format(PyExc_ValueError, "the batch is closed");
    if (!PyArg_ParseTuple(args, "OO", &ko, &yo) || !fold_py_ints(ko, -1, "keys", &kv)) return NULL;
    fold_int count = kv.len / 8;
    if (!fold_py_doubles(yo, count * self->spec.n_out, "ybar", &yv)) {
        PyBuffer_Release(&kv);
        return NULL;
    }
    double *pbar;
    PyObject *bp = fold_py_new_doubles(count * self->np, &pbar);
    PyObject *bs = PyByteArray_FromStringAndSize(NULL, count * 8);
    fold_status *st = PyMem_Malloc(((size_t)count + 1) * sizeof *st);
    if (bp && bs && st) {
        FOLD_PY_NOGIL(fold_batch_vjp(self->batch, count, kv.buf, yv.buf, pbar, st));
        long long *s = (long long *)PyByteArray_AS_STRING(bs);
        for (fold_int i = 0; i < count; i++)
            s[i] = st[i];
    }
    PyMem_Free(st);
    PyBuffer_Release(&kv);
    PyBuffer_Release(&yv);
    if (!bp || !bs) {
        Py_XDECREF(bp);
        Py_XDECREF(bs);
        return NULL;
    }
    return Py_BuildValue("(NN)", bp, bs);
}

/* trust(entry): the trust report of entry `entry` of the last vjp (fold_batch_trust_report). */
static PyObject *batch_trust(opf_batch *self, PyObject *eo)
{
    long long entry = PyLong_AsLongLong(eo);
    if (entry == -1 && PyErr_Occurred()) return NULL;
    if (!self->batch) return PyErr_Format(PyExc_ValueError, "the batch is closed");
    const fold_trust_item *items;
    fold_int count;
    fold_status st = fold_batch_trust_report(self->batch, entry, &items, &count);
    if (st != FOLD_OK) return fold_py_raise(st, "OPFBatch.trust", fold_last_error());
    return fold_py_trust_items(items, count);
}

/* release(keys=None): drop the kept states of these keys (None: all). */
static PyObject *batch_release(opf_batch *self, PyObject *args)
{
    PyObject *ko = Py_None;
    if (!PyArg_ParseTuple(args, "|O", &ko)) return NULL;
    if (!self->batch) Py_RETURN_NONE;
    if (ko == Py_None) {
        fold_batch_release(self->batch, 0, NULL);
        Py_RETURN_NONE;
    }
    Py_buffer kv;
    if (!fold_py_ints(ko, -1, "keys", &kv)) return NULL;
    fold_batch_release(self->batch, kv.len / 8, kv.buf);
    PyBuffer_Release(&kv);
    Py_RETURN_NONE;
}

static PyObject *batch_close(opf_batch *self, PyObject *noargs)
{
    fold_batch_free(self->batch);
    self->batch = NULL;
    Py_RETURN_NONE;
}

static PyObject *batch_workers(opf_batch *self, PyObject *noargs)
{
    return PyLong_FromLong(self->batch ? fold_batch_workers(self->batch) : 0);
}

static PyMethodDef batch_methods[] = {
    {"run", (PyCFunction)batch_run, METH_VARARGS,
     "run(P, carry) -> (outputs, keys, status, iterations, outcomes, starts, warm_from, "
     "messages, info)"},
    {"trust", (PyCFunction)batch_trust, METH_O,
     "trust(entry) -> the trust report (list of dicts) of an entry of the last vjp"},
    {"vjp", (PyCFunction)batch_vjp, METH_VARARGS, "vjp(keys, ybar) -> (pbar, status)"},
    {"release", (PyCFunction)batch_release, METH_VARARGS,
     "release(keys=None): drop kept states (None: all)"},
    {"close", (PyCFunction)batch_close, METH_NOARGS, "close(): stop the workers"},
    {"workers", (PyCFunction)batch_workers, METH_NOARGS, "workers() -> int"},
    {NULL, NULL, 0, NULL}};

PyTypeObject fold_py_opf_batch_type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "foldopt._foldopt.OPFBatch",
    .tp_basicsize = sizeof(opf_batch),
    .tp_dealloc = (destructor)batch_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "OPFLayer samples on worker processes (internal; use OPFLayer(workers=...))",
    .tp_methods = batch_methods,
    .tp_init = (initproc)batch_init,
    .tp_new = PyType_GenericNew,
};
