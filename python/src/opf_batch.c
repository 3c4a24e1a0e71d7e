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
    fold_acopf_solve_options opt;
    fold_int n_out;
    fold_acopf_output *outs;
} batch_spec;

/* One sample's state in a worker: its solver and, after a kept re-solve, its model. */
typedef struct batch_state {
    fold_acopf *resolved;
    fold_solver *solver;
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

/* pbar (np) = (d outputs / d p)' ybar, with the barrier fallback of foldopt opf. */
static fold_status hook_vjp(void *model, void *state, const double *ybar, double *pbar,
                            char *message)
{
    const batch_spec *sp = model;
    batch_state *z = state;
    const fold_acopf *m = state_model(sp, z);
    fold_acopf_diff_request rq = {.mode = FOLD_ACOPF_DIFF_VJP,
                                  .n_out = sp->n_out,
                                  .out = sp->outs,
                                  .weights = ybar,
                                  .n_cols = fold_acopf_get_layout(m).np};
    fold_status st = fold_acopf_differentiate(m, z->solver, &rq, pbar, NULL);
    note(message, st);
    return st;
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
    Py_XDECREF(self->owner);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* OPFBatch(model, out_kinds, out_items, settings, workers, max_rounds) */
static int batch_init(opf_batch *self, PyObject *args, PyObject *kw)
{
    PyObject *mo, *ko, *io, *so;
    int workers, max_rounds;
    if (!PyArg_ParseTuple(args, "O!OOOii", &fold_py_opf_model_type, &mo, &ko, &io, &so, &workers,
                          &max_rounds))
        return -1;
    if (self->batch) {
        PyErr_SetString(PyExc_RuntimeError, "OPFBatch is already initialized");
        return -1;
    }
    opf_model *m = (opf_model *)mo;
    Py_buffer kv, iv;
    if (!m->model || !fold_py_settings(so, &self->spec.set) ||
        !fold_py_ints(ko, -1, "out_kinds", &kv))
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
                                  .vjp = hook_vjp};
    fold_batch_options opt;
    fold_batch_default_options(&opt);
    opt.n_workers = workers;
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
    long long *keys, *status, *iterations, *outcome;
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

/* run(P) with P (B x np, C order) -> (outputs B x n_out, keys, status, iterations,
 * outcomes (fold_batch_outcome), messages, info dict of fold_batch_info) */
static PyObject *batch_run(opf_batch *self, PyObject *po)
{
    Py_buffer pv;
    if (!self->batch || !fold_py_doubles(po, -1, "P", &pv))
        return self->batch ? NULL : PyErr_Format(PyExc_ValueError, "the batch is closed");
    fold_int B = pv.len / 8 / (self->np ? self->np : 1);
    if (B * self->np * 8 != pv.len || B < 1) {
        PyBuffer_Release(&pv);
        return PyErr_Format(PyExc_ValueError, "P must hold B x %ld values", (long)self->np);
    }
    double *out;
    long long *k, *s, *it, *oc;
    PyObject *bo = fold_py_new_doubles(B * self->spec.n_out, &out);
    PyObject *bk = PyByteArray_FromStringAndSize(NULL, B * 8),
             *bs = PyByteArray_FromStringAndSize(NULL, B * 8),
             *bi = PyByteArray_FromStringAndSize(NULL, B * 8),
             *bc = PyByteArray_FromStringAndSize(NULL, B * 8);
    char *messages = PyMem_Calloc((size_t)B, FOLD_BATCH_MESSAGE_LEN);
    if (!bo || !bk || !bs || !bi || !bc || !messages) {
        Py_XDECREF(bo);
        Py_XDECREF(bk);
        Py_XDECREF(bs);
        Py_XDECREF(bi);
        Py_XDECREF(bc);
        PyMem_Free(messages);
        PyBuffer_Release(&pv);
        return messages ? NULL : PyErr_NoMemory();
    }
    k = (long long *)PyByteArray_AS_STRING(bk);
    s = (long long *)PyByteArray_AS_STRING(bs);
    it = (long long *)PyByteArray_AS_STRING(bi);
    oc = (long long *)PyByteArray_AS_STRING(bc);
    for (fold_int i = 0; i < B; i++) {
        k[i] = -1;
        s[i] = FOLD_ERR_FORWARD_FAILED;
        it[i] = 0;
        oc[i] = FOLD_BATCH_DONE;
    }
    run_out ro = {self->spec.n_out, out, k, s, it, oc, messages};
    fold_batch_job job = {.n_scenarios = B,
                          .params_array = pv.buf,
                          .anchor_mean = true,
                          .keep = true,
                          .on_record = on_record,
                          .record_data = &ro};
    fold_batch_info info;
    fold_status st;
    FOLD_PY_NOGIL(st = fold_batch_run(self->batch, &job, &info));
    PyBuffer_Release(&pv);
    PyObject *msgs = st == FOLD_OK ? message_list(messages, B) : NULL;
    PyMem_Free(messages);
    PyObject *summary =
        !msgs ? NULL
              : Py_BuildValue("{s:L,s:L,s:L,s:L,s:L,s:i,s:d,s:L}", "n_ok", (long long)info.n_ok,
                              "n_failed", (long long)info.n_failed, "n_crashed",
                              (long long)info.n_crashed, "n_timed_out", (long long)info.n_timed_out,
                              "n_respawned", (long long)info.n_respawned, "n_workers",
                              info.n_workers, "wall_seconds", info.wall_s, "worker_peak_kb",
                              (long long)info.worker_peak_kb);
    if (!summary) Py_CLEAR(msgs);
    if (!msgs) {
        Py_DECREF(bo);
        Py_DECREF(bk);
        Py_DECREF(bs);
        Py_DECREF(bi);
        Py_DECREF(bc);
        return st == FOLD_OK ? NULL : fold_py_raise(st, "OPFBatch.run", fold_last_error());
    }
    return Py_BuildValue("(NNNNNNN)", bo, bk, bs, bi, bc, msgs, summary);
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
    {"run", (PyCFunction)batch_run, METH_O,
     "run(P) -> (outputs, keys, status, iterations, outcomes, messages, info)"},
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
