/* The generic parametric NLP of foldopt._foldopt: NLP (nlp.c: a fold_problem whose callbacks
 * call one Python dispatcher) and NLPSolution (nlp_solution.c: a solver of it). */
#ifndef FOLD_PY_NLP_H
#define FOLD_PY_NLP_H

#include "fold_py.h"

/* Callback ids given to the dispatcher: dispatch(which, x, p, obj_factor, lam) with x, p,
 * lam as float64 bytes (lam None when unused); it returns a float (NLP_F) or a float64 array
 * of the callback's output size. */
enum {
    NLP_F = 0,
    NLP_GRAD_F,
    NLP_G,
    NLP_JAC_G,
    NLP_HESS_L,
    NLP_GRAD_F_P,
    NLP_HESS_LP,
    NLP_JAC_G_P,
    NLP_N_CALLBACKS
};

typedef struct nlp_obj {
    PyObject_HEAD fold_problem *prob;
    PyObject *dispatch;
    fold_int n, m, np;
    fold_int out_size[NLP_N_CALLBACKS]; /* values each callback writes */
} nlp_obj;

typedef struct nlp_solution {
    PyObject_HEAD nlp_obj *owner;
    fold_solver *solver;
    fold_status status;
    fold_forward_info fwd;
    bool busy;
} nlp_solution;

/* Around every library call that may run callbacks: nlp_run_begin() before releasing the
 * GIL; nlp_run_end() after taking it back: true when a callback raised, with that
 * exception set again (the call's own status is then not reported). */
void nlp_run_begin(void);
bool nlp_run_end(void);

PyObject *nlp_solve(nlp_obj *self, PyObject *args, PyObject *kw);
PyObject *nlp_import(nlp_obj *self, PyObject *args, PyObject *kw);

#endif
