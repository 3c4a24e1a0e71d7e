/* The AC-OPF types of foldopt._foldopt: OPFModel (opf_model.c) and OPFSolution
 * (opf_solution.c). */
#ifndef FOLD_PY_OPF_H
#define FOLD_PY_OPF_H

#include "fold_py.h"

typedef struct opf_model {
    PyObject_HEAD fold_acopf *model;
} opf_model;

/* One solution: the solver that holds it (and its factorization, for any number of
 * backward calls), the model it belongs to: the OPFModel's, or the model of a kept re-solve
 * with flow variables (owned). busy: a call runs without the GIL on this solver. */
typedef struct opf_solution {
    PyObject_HEAD opf_model *owner;
    fold_acopf *resolved;
    fold_solver *solver;
    fold_status status;
    fold_forward_info fwd;
    fold_acopf_solve_info si;
    bool imported;
    fold_acopf_import_info ii;
    bool busy;
} opf_solution;

/* Start solver sv of model `to` from the solution held by from_sv (a solver of model
 * `from`, of the same case), carried between their layouts (fold_acopf_convert_point);
 * no Python involved (also used by the scenario engine's workers, opf_batch.c). */
fold_status opf_carry_start(const fold_acopf *from, const fold_solver *from_sv,
                            const fold_acopf *to, fold_solver *sv);

/* OPFModel.solve and OPFModel.import_solution (opf_solution.c). */
PyObject *opf_model_solve(opf_model *self, PyObject *args, PyObject *kw);
PyObject *opf_model_import(opf_model *self, PyObject *args, PyObject *kw);

#endif
