/* The operating point of a synthetic grid (doc/acopf.md §4): a DC power flow of the planned
 * dispatch fixes the generator buses' angles, then fast decoupled iterations on the other
 * buses (Dirichlet at the generator buses) match their injections to their loads. Linear
 * systems: weighted graph Laplacians (laplacian.c). */
#include <stdlib.h>
#include <string.h>

#include "acopf/gen_grid.h"
#include "acopf/laplacian.h"
#include "common/random.h"

double grid_uniform(grid_rng *r, double lo, double hi)
{
    return lo + (hi - lo) * rng_unit(rng_splitmix64(&r->s));
}

/* The flow coefficients of eq. 3 of one branch (the model's, acopf_branch_coefficients). */
typedef struct flow_coef {
    double a[4], c[4], s[4];
} flow_coef;

/* Power flowing out of each bus into its branches at (va, vm), eq. 3; with s_max, the
 * larger apparent power of each branch's two ends. */
static void injections(const fold_acopf_case *cs, const flow_coef *fc, const double *va,
                       const double *vm, double *p, double *q, double *s_max)
{
    memset(p, 0, (size_t)cs->n_bus * sizeof(double));
    memset(q, 0, (size_t)cs->n_bus * sizeof(double));
    for (fold_int k = 0; k < cs->n_branch; k++) {
        fold_int f = cs->branch[k].f, t = cs->branch[k].t;
        double d = va[f] - va[t], cd = cos(d), sd = sin(d), v[4];
        for (int e = 0; e < 4; e++) {
            double ve = e < 2 ? vm[f] : vm[t];
            v[e] = fc[k].a[e] * ve * ve + vm[f] * vm[t] * (fc[k].c[e] * cd + fc[k].s[e] * sd);
        }
        p[f] += v[0];
        q[f] += v[1];
        p[t] += v[2];
        q[t] += v[3];
        if (s_max) s_max[k] = fmax(hypot(v[0], v[1]), hypot(v[2], v[3]));
    }
}

/* Largest |injection + load| over the load buses, p.u. */
static double load_mismatch(const fold_acopf_case *cs, const bool *is_gen, const double *p,
                            const double *q)
{
    double worst = 0;
    for (fold_int i = 0; i < cs->n_bus; i++)
        if (!is_gen[i])
            worst = fmax(worst, fmax(fabs(p[i] + cs->bus[i].pd / cs->base_mva),
                                     fabs(q[i] + cs->bus[i].qd / cs->base_mva)));
    return worst;
}

void grid_point_free(grid_point *pt)
{
    free(pt->va);
    free(pt->vm);
    free(pt->p);
    free(pt->q);
    free(pt->s_max);
    memset(pt, 0, sizeof *pt);
}

enum { MAX_ITER = 60 };
#define POINT_TOL 1e-13 /* p.u.: the loads then differ from their draws by < 1e-11 MW */

bool grid_point_solve(const fold_acopf_case *cs, const bool *is_gen, const double *pg_plan,
                      const double *vm_gen, grid_point *pt)
{
    fold_int n = cs->n_bus, nl = cs->n_branch;
    double S = cs->base_mva;
    memset(pt, 0, sizeof *pt);
    if (n < 1) return false;
    pt->va = malloc((size_t)n * sizeof(double));
    pt->vm = malloc((size_t)n * sizeof(double));
    pt->p = malloc((size_t)n * sizeof(double));
    pt->q = malloc((size_t)n * sizeof(double));
    pt->s_max = malloc((size_t)(nl > 0 ? nl : 1) * sizeof(double));
    flow_coef *fc = malloc((size_t)(nl > 0 ? nl : 1) * sizeof *fc);
    double *w1 = malloc((size_t)(nl > 0 ? nl : 1) * sizeof(double));
    double *w2 = malloc((size_t)(nl > 0 ? nl : 1) * sizeof(double));
    double *shift = calloc((size_t)n, sizeof(double)), *diag = malloc((size_t)n * 8);
    double *rhs = malloc((size_t)n * sizeof(double)), *dx = malloc((size_t)n * 8);
    double *work = malloc((size_t)n * 3 * sizeof(double));
    double *best = malloc((size_t)n * 2 * sizeof(double));
    bool *ground = calloc((size_t)n, sizeof(bool));
    bool ok = pt->va && pt->vm && pt->p && pt->q && pt->s_max && fc && w1 && w2 && shift && diag &&
              rhs && dx && work && best && ground;
    if (ok) {
        for (fold_int k = 0; k < nl; k++) {
            const fold_acopf_branch *b = &cs->branch[k];
            acopf_coef bd;
            acopf_branch_coefficients(b, &bd);
            memcpy(fc[k].a, bd.a, sizeof bd.a);
            memcpy(fc[k].c, bd.c, sizeof bd.c);
            memcpy(fc[k].s, bd.s, sizeof bd.s);
            w1[k] = 1 / b->x;                           /* B' (eq. 11) */
            w2[k] = b->x / (b->r * b->r + b->x * b->x); /* B'' (eq. 12): -Im y */
            shift[b->f] -= b->b / 2;                    /* charging */
            shift[b->t] -= b->b / 2;
        }
        /* DC power flow of the plan, grounded at the reference bus 0: it only places the
         * generator buses' angles (any angles give a valid point), so 1e-6 is enough */
        ground[0] = true;
        acopf_laplacian dc = {cs, w1, NULL, ground, diag};
        acopf_lap_diag(&dc);
        for (fold_int i = 0; i < n; i++)
            rhs[i] = (pg_plan[i] - cs->bus[i].pd) / S;
        acopf_lap_solve(&dc, rhs, 1e-6, pt->va, work);
        for (fold_int i = 0; i < n; i++)
            pt->vm[i] = is_gen[i] ? vm_gen[i] : 1;
        /* fast decoupled iterations on the load buses, generator buses held */
        double best_mis = HUGE_VAL;
        for (pt->iterations = 0;; pt->iterations++) {
            injections(cs, fc, pt->va, pt->vm, pt->p, pt->q, NULL);
            double mis = load_mismatch(cs, is_gen, pt->p, pt->q);
            if (mis < best_mis) {
                best_mis = mis;
                memcpy(best, pt->va, (size_t)n * sizeof(double));
                memcpy(best + n, pt->vm, (size_t)n * sizeof(double));
            }
            if (mis <= POINT_TOL || pt->iterations == MAX_ITER) break;
            acopf_laplacian bp = {cs, w1, NULL, is_gen, diag};
            acopf_lap_diag(&bp);
            for (fold_int i = 0; i < n; i++)
                rhs[i] = (-cs->bus[i].pd / S - pt->p[i]) / pt->vm[i];
            acopf_lap_solve(&bp, rhs, 1e-6, dx, work);
            for (fold_int i = 0; i < n; i++)
                pt->va[i] += dx[i];
            injections(cs, fc, pt->va, pt->vm, pt->p, pt->q, NULL);
            acopf_laplacian bpp = {cs, w2, shift, is_gen, diag};
            acopf_lap_diag(&bpp);
            for (fold_int i = 0; i < n; i++)
                rhs[i] = (-cs->bus[i].qd / S - pt->q[i]) / pt->vm[i];
            acopf_lap_solve(&bpp, rhs, 1e-6, dx, work);
            for (fold_int i = 0; i < n; i++)
                pt->vm[i] += dx[i];
        }
        memcpy(pt->va, best, (size_t)n * sizeof(double));
        memcpy(pt->vm, best + n, (size_t)n * sizeof(double));
        injections(cs, fc, pt->va, pt->vm, pt->p, pt->q, pt->s_max);
        pt->mismatch = best_mis;
    }
    free(fc);
    free(w1);
    free(w2);
    free(shift);
    free(diag);
    free(rhs);
    free(dx);
    free(work);
    free(best);
    free(ground);
    if (!ok) grid_point_free(pt);
    return ok;
}
