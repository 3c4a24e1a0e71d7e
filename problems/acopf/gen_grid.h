/* Internal to the synthetic grid generator (gen_grid.c, gen_grid_point.c): the seeded
 * random numbers and the operating point every generated grid is built around
 * (doc/acopf.md §4). */
#ifndef FOLD_ACOPF_GEN_GRID_H
#define FOLD_ACOPF_GEN_GRID_H

#include <stdint.h>

#include "acopf/acopf_internal.h"

typedef struct grid_rng {
    uint64_t s;
} grid_rng;

/* Uniform on [lo, hi) (splitmix64). */
double grid_uniform(grid_rng *r, double lo, double hi);

/* The operating point of a grid: bus voltages and what they imply. */
typedef struct grid_point {
    double *va, *vm; /* per bus: radians, p.u. */
    double *p, *q;   /* per bus: power flowing out into its branches at (va, vm), p.u. */
    double *s_max;   /* per branch: the larger |S| of its two ends, p.u. */
    int iterations;  /* decoupled iterations on the load buses */
    double mismatch; /* largest |injection + load| left at a load bus, p.u. */
} grid_point;

/* Solve for the point of cs: the angles of a DC power flow of pg_plan (MW per bus, summing
 * to the total load) fix the generator buses' angles, vm holds the generator buses'
 * magnitudes on entry; the other buses' angles and magnitudes are iterated (fast decoupled,
 * eq. 11-12 of doc/acopf.md) until their injections match -(pd + j qd). is_gen flags the
 * generator buses, bus 0 among them. pt's arrays are allocated here (grid_point_free).
 * false when out of memory. */
bool grid_point_solve(const fold_acopf_case *cs, const bool *is_gen, const double *pg_plan,
                      const double *vm_gen, grid_point *pt);
void grid_point_free(grid_point *pt);

#endif
