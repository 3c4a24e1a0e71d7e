/* The dense box QP of tests/fold/box_qp.h. */
#include "box_qp.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "test_support.h"

int box_qp_f(const double *x, const double *p, double *obj, void *ud)
{
    const box_qp *B = ud;
    double f = 0;
    for (fold_int j = 0; j < B->n; j++) {
        double qx = 0;
        for (fold_int i = 0; i < B->n; i++)
            qx += B->Q[j * B->n + i] * x[i];
        f += x[j] * (0.5 * qx + B->q[j] + p[j]);
    }
    *obj = f;
    return 0;
}

int box_qp_grad(const double *x, const double *p, double *g, void *ud)
{
    const box_qp *B = ud;
    for (fold_int i = 0; i < B->n; i++)
        g[i] = B->q[i] + p[i];
    for (fold_int j = 0; j < B->n; j++)
        for (fold_int i = 0; i < B->n; i++)
            g[i] += B->Q[j * B->n + i] * x[j];
    return 0;
}

/* The lower triangle column by column: the packed order of FOLD_HESS_DENSE, and the order of
 * the triplet pattern hr, hc. */
int box_qp_hess(const double *x, const double *p, double s, const double *lam, double *v, void *ud)
{
    const box_qp *B = ud;
    fold_int k = 0;
    for (fold_int j = 0; j < B->n; j++)
        for (fold_int i = j; i < B->n; i++)
            v[k++] = s * B->Q[j * B->n + i];
    return 0;
}

int box_qp_hess_v(const double *x, const double *p, double s, const double *lam, const double *v,
                  double *out, void *ud)
{
    const box_qp *B = ud;
    memset(out, 0, (size_t)B->n * sizeof *out);
    for (fold_int j = 0; j < B->n; j++)
        for (fold_int i = 0; i < B->n; i++)
            out[i] += s * B->Q[j * B->n + i] * v[j];
    return 0;
}

int box_qp_grad_p(const double *x, const double *p, double *gp, void *ud)
{
    const box_qp *B = ud;
    memcpy(gp, x, (size_t)B->n * sizeof *gp);
    return 0;
}

int box_qp_hess_lp(const double *x, const double *p, const double *lam, double *v, void *ud)
{
    const box_qp *B = ud;
    for (fold_int j = 0; j < B->n; j++)
        v[j] = 1.0;
    return 0;
}

box_qp *box_qp_build(unsigned long long seed, fold_int n)
{
    fold_test_rng r;
    fold_test_rng_seed(&r, seed);
    box_qp *B = calloc(1, sizeof *B);
    B->n = n;
    B->Q = calloc((size_t)(n * n), sizeof(double));
    B->q = malloc((size_t)n * sizeof(double));
    B->x = malloc((size_t)n * sizeof(double));
    B->lo = malloc((size_t)n * sizeof(double));
    B->hi = malloc((size_t)n * sizeof(double));
    B->state = calloc((size_t)n, 1);
    B->zl = calloc((size_t)n, sizeof(double));
    B->zu = calloc((size_t)n, sizeof(double));
    B->ident = malloc((size_t)n * sizeof(fold_int));
    /* dense symmetric off-diagonal part, diagonal dominant: SPD, condition below 10 */
    for (fold_int j = 0; j < n; j++)
        for (fold_int i = j + 1; i < n; i++)
            B->Q[j * n + i] = B->Q[i * n + j] = (fold_test_uniform(&r) - 0.5) / sqrt((double)n);
    for (fold_int i = 0; i < n; i++) {
        double rowsum = 0;
        for (fold_int j = 0; j < n; j++)
            rowsum += j == i ? 0.0 : fabs(B->Q[j * n + i]);
        B->Q[i * n + i] = rowsum + 1 + fold_test_uniform(&r);
        B->lipschitz = fmax(B->lipschitz, B->Q[i * n + i] + rowsum);
    }
    /* the solution first: a fifth at each bound with multipliers in [0.5, 1.5], the rest
     * strictly inside; q makes it stationary */
    for (fold_int j = 0; j < n; j++) {
        double u = fold_test_uniform(&r), z = 0.5 + fold_test_uniform(&r);
        B->lo[j] = -1.0;
        B->hi[j] = 1.0;
        B->state[j] = u < 0.2 ? 1 : u < 0.4 ? 2 : 0;
        B->x[j] = B->state[j] == 1   ? -1.0
                  : B->state[j] == 2 ? 1.0
                                     : 1.6 * fold_test_uniform(&r) - 0.8;
        if (B->state[j] == 1) B->zl[j] = z;
        if (B->state[j] == 2) B->zu[j] = z;
        B->q[j] = B->zl[j] - B->zu[j];
        B->ident[j] = j;
    }
    for (fold_int j = 0; j < n; j++)
        for (fold_int i = 0; i < n; i++)
            B->q[i] -= B->Q[j * n + i] * B->x[j];
    return B;
}

void box_qp_free(box_qp *B)
{
    free(B->Q);
    free(B->q);
    free(B->x);
    free(B->lo);
    free(B->hi);
    free(B->state);
    free(B->zl);
    free(B->zu);
    free(B->hr);
    free(B->hc);
    free(B->ident);
    free(B);
}

/* The one definition, in Hessian form `form`. */
fold_nlp_def box_qp_def(box_qp *B, fold_hess_form form)
{
    fold_int n = B->n;
    fold_nlp_def d = {.name = "box QP", .n = n, .np = n, .x_lower = B->lo, .x_upper = B->hi};
    d.cb = (fold_nlp_callbacks){
        .f = box_qp_f, .grad_f = box_qp_grad, .grad_f_p = box_qp_grad_p, .hess_lp = box_qp_hess_lp};
    d.hess_lp = (fold_pattern){n, B->ident, B->ident};
    d.hess_form = form;
    if (form == FOLD_HESS_TRIPLETS && !B->hr) { /* what a user of triplets writes */
        fold_int k = 0;
        B->hr = malloc((size_t)(n * (n + 1) / 2) * sizeof(fold_int));
        B->hc = malloc((size_t)(n * (n + 1) / 2) * sizeof(fold_int));
        for (fold_int j = 0; j < n; j++)
            for (fold_int i = j; i < n; i++, k++) {
                B->hr[k] = i;
                B->hc[k] = j;
            }
    }
    if (form == FOLD_HESS_TRIPLETS) d.hess_l = (fold_pattern){n * (n + 1) / 2, B->hr, B->hc};
    if (form != FOLD_HESS_PRODUCT) d.cb.hess_l = box_qp_hess;
    if (form == FOLD_HESS_PRODUCT) d.hess_l_v = box_qp_hess_v;
    d.user_data = B;
    return d;
}
