/* Denoising layer x*(D, y) = argmin 1/2|x - y|^2 + lambda |Dx|_1, solved by projected gradient
 * on the dual (max over |u|_inf <= lambda, x = y - D'u); the VJP folds that update step
 * (direct or LFPI) or back-propagates through its iterations (doc/learning.md §4.3). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "foldopt/map.h"
#include "learning/learning.h"

#define DENOISE_MAX_ITER 50000
#define DENOISE_TOL 1e-11

typedef struct denoise_data {
    fold_int n, m; /* signal length, rows of D */
    double lambda;
    double *clean; /* n_total x n */
    double *noisy; /* n_total x n */
    double *warm;  /* n_total x m: last dual solution of each sample */
    /* state of the last forward, used by the VJP */
    double *D, *u, *x, *r, *v, *tmp_m, *tmp_n, *gram, *iterates;
    fold_int n_iter, iterates_cap;
    double step;
    fold_int sample;
} denoise_data;

static void denoise_free(void *data)
{
    denoise_data *d = data;
    if (!d) return;
    free(d->clean);
    free(d->noisy);
    free(d->warm);
    free(d->D);
    free(d->u);
    free(d->x);
    free(d->r);
    free(d->v);
    free(d->tmp_m);
    free(d->tmp_n);
    free(d->gram);
    free(d->iterates);
    free(d);
}

/* out (n) = D' a */
static void mul_t(const denoise_data *d, const double *a, double *out)
{
    memset(out, 0, (size_t)d->n * sizeof *out);
    for (fold_int i = 0; i < d->m; i++)
        if (a[i] != 0)
            for (fold_int j = 0; j < d->n; j++)
                out[j] += d->D[i * d->n + j] * a[i];
}

/* out (m) = D b */
static void mul(const denoise_data *d, const double *b, double *out)
{
    for (fold_int i = 0; i < d->m; i++) {
        double s = 0;
        for (fold_int j = 0; j < d->n; j++)
            s += d->D[i * d->n + j] * b[j];
        out[i] = s;
    }
}

/* One step (4.7) from u: r = D'u - y, v = u - t D r, returns into u the projection of v. */
static double pg_step(denoise_data *d, const double *y, double *u)
{
    double diff = 0;
    mul_t(d, u, d->r);
    for (fold_int j = 0; j < d->n; j++)
        d->r[j] -= y[j];
    mul(d, d->r, d->v);
    for (fold_int i = 0; i < d->m; i++) {
        double vi = u[i] - d->step * d->v[i];
        double ui = vi > d->lambda ? d->lambda : vi < -d->lambda ? -d->lambda : vi;
        d->v[i] = vi;
        diff = fmax(diff, fabs(ui - u[i]));
        u[i] = ui;
    }
    return diff;
}

static fold_status denoise_forward(learn_task *t, fold_int s, const double *q, double *y)
{
    denoise_data *d = t->data;
    const double *obs = d->noisy + s * d->n;
    bool unroll = t->backward == LEARN_BACKWARD_UNROLL;
    fold_int it;
    for (fold_int k = 0; k < d->m * d->n; k++)
        if (!isfinite(q[k]))
            return learn_error(FOLD_ERR_NONFINITE, "denoise forward: sample %lld: D[%lld] = %g",
                               (long long)s, (long long)k, q[k]);
    memcpy(d->D, q, (size_t)(d->m * d->n) * sizeof *d->D);
    /* Step 1/L with L >= ||D||^2 (the power iteration estimate from below, with margin). */
    d->step = 1.0 / (1.02 * learn_norm2_sq(d->D, d->m, d->n) + 1e-12);
    if (unroll)
        memset(d->u, 0, (size_t)d->m * sizeof *d->u);
    else
        memcpy(d->u, d->warm + s * d->m, (size_t)d->m * sizeof *d->u);
    for (it = 0; it < DENOISE_MAX_ITER; it++) {
        if (unroll) {
            if (it >= d->iterates_cap) {
                fold_int cap = 2 * d->iterates_cap + 256;
                double *p = realloc(d->iterates, (size_t)(cap * d->m) * sizeof *p);
                if (!p) return learn_error(FOLD_ERR_MEMORY, "denoise forward: iterates");
                d->iterates = p;
                d->iterates_cap = cap;
            }
            memcpy(d->iterates + it * d->m, d->u, (size_t)d->m * sizeof *d->u);
        }
        if (pg_step(d, obs, d->u) <= DENOISE_TOL * d->lambda) {
            it++;
            break;
        }
    }
    d->n_iter = it;
    d->sample = s;
    if (it >= DENOISE_MAX_ITER)
        return learn_error(FOLD_ERR_NOT_CONVERGED,
                           "denoise forward: sample %lld: projected "
                           "gradient did not converge in %d iterations",
                           (long long)s, DENOISE_MAX_ITER);
    memcpy(d->warm + s * d->m, d->u, (size_t)d->m * sizeof *d->u);
    /* State at the fixed point: r = D'u - y, v = pre-projection point, x = -r. */
    memcpy(d->tmp_m, d->u, (size_t)d->m * sizeof *d->u);
    pg_step(d, obs, d->tmp_m);
    for (fold_int j = 0; j < d->n; j++)
        y[j] = d->x[j] = -d->r[j];
    return FOLD_OK;
}

/* Dbar += -c (a r' + u (D'a)')  — the Psi' product of the step (4.9) for the mask-applied
 * adjoint a, with c the step size (or 1 for the direct solve, where t cancels). */
static void add_psit(denoise_data *d, const double *a, const double *u, const double *r, double c,
                     double *Dbar)
{
    mul_t(d, a, d->tmp_n);
    for (fold_int i = 0; i < d->m; i++)
        for (fold_int j = 0; j < d->n; j++)
            Dbar[i * d->n + j] -= c * (a[i] * r[j] + u[i] * d->tmp_n[j]);
}

/* Direct fold: on the free set F (|v_i| < lambda) solve (D_F D_F') a_F = ubar_F (4.8). */
static fold_status vjp_direct(denoise_data *d, const double *ubar, double *Dbar)
{
    fold_int nf = 0, *idx = malloc((size_t)d->m * sizeof *idx);
    fold_status st = FOLD_OK;
    if (!idx) return learn_error(FOLD_ERR_MEMORY, "denoise vjp: index");
    for (fold_int i = 0; i < d->m; i++)
        if (fabs(d->v[i]) < d->lambda) idx[nf++] = i;
    memset(d->tmp_m, 0, (size_t)d->m * sizeof *d->tmp_m);
    if (nf > 0) {
        double *rhs = malloc((size_t)nf * sizeof *rhs);
        if (!rhs) {
            free(idx);
            return learn_error(FOLD_ERR_MEMORY, "denoise vjp: rhs");
        }
        for (fold_int a = 0; a < nf; a++) {
            rhs[a] = ubar[idx[a]];
            for (fold_int b = 0; b <= a; b++) {
                double s = 0;
                for (fold_int j = 0; j < d->n; j++)
                    s += d->D[idx[a] * d->n + j] * d->D[idx[b] * d->n + j];
                d->gram[a * nf + b] = d->gram[b * nf + a] = s;
            }
        }
        st = learn_chol_solve(d->gram, nf, rhs, 1);
        if (st == FOLD_OK)
            for (fold_int a = 0; a < nf; a++)
                d->tmp_m[idx[a]] = rhs[a];
        else
            st = learn_error(st,
                             "denoise vjp: sample %lld: D restricted to the %lld free rows "
                             "is rank deficient",
                             (long long)d->sample, (long long)nf);
        free(rhs);
    }
    free(idx);
    if (st == FOLD_OK) {
        double *a = malloc((size_t)d->m * sizeof *a);
        if (!a) return learn_error(FOLD_ERR_MEMORY, "denoise vjp: adjoint");
        memcpy(a, d->tmp_m, (size_t)d->m * sizeof *a);
        add_psit(d, a, d->u, d->r, 1.0, Dbar);
        free(a);
    }
    return st;
}

/* w <- Phi' w + ubar with Phi' = (I - t D D') P (4.10); on exit a = P w. */
static fold_status vjp_lfpi(denoise_data *d, const double *ubar, double *Dbar, fold_int *iters)
{
    double *w = calloc((size_t)d->m, sizeof *w), *a = malloc((size_t)d->m * sizeof *a);
    double scale = 0;
    fold_int it;
    if (!w || !a) {
        free(w);
        free(a);
        return learn_error(FOLD_ERR_MEMORY, "denoise vjp: lfpi");
    }
    for (fold_int i = 0; i < d->m; i++)
        scale = fmax(scale, fabs(ubar[i]));
    for (it = 0; it < DENOISE_MAX_ITER; it++) {
        double diff = 0;
        for (fold_int i = 0; i < d->m; i++)
            a[i] = fabs(d->v[i]) < d->lambda ? w[i] : 0;
        mul_t(d, a, d->tmp_n);
        mul(d, d->tmp_n, d->tmp_m);
        for (fold_int i = 0; i < d->m; i++) {
            double wi = a[i] - d->step * d->tmp_m[i] + ubar[i];
            diff = fmax(diff, fabs(wi - w[i]));
            w[i] = wi;
        }
        if (diff <= DENOISE_TOL * fmax(scale, 1e-300)) break;
    }
    for (fold_int i = 0; i < d->m; i++)
        a[i] = fabs(d->v[i]) < d->lambda ? w[i] : 0;
    *iters = it + 1;
    if (it < DENOISE_MAX_ITER) add_psit(d, a, d->u, d->r, d->step, Dbar);
    free(w);
    free(a);
    if (it >= DENOISE_MAX_ITER)
        return learn_error(FOLD_ERR_NOT_CONVERGED,
                           "denoise vjp: sample %lld: LFPI did not "
                           "converge in %d iterations",
                           (long long)d->sample, DENOISE_MAX_ITER);
    return FOLD_OK;
}

/* Products of the step's Jacobians for the fold-map interface (4.9), (4.10). */
static int map_phit(const double *v, double *out, void *ud)
{
    denoise_data *d = ud;
    for (fold_int i = 0; i < d->m; i++)
        out[i] = fabs(d->v[i]) < d->lambda ? v[i] : 0;
    mul_t(d, out, d->tmp_n);
    mul(d, d->tmp_n, d->tmp_m);
    for (fold_int i = 0; i < d->m; i++)
        out[i] -= d->step * d->tmp_m[i];
    return 0;
}

static int map_psit(const double *w, double *out, void *ud)
{
    denoise_data *d = ud;
    double *a = malloc((size_t)d->m * sizeof *a);
    if (!a) return -1;
    for (fold_int i = 0; i < d->m; i++)
        a[i] = fabs(d->v[i]) < d->lambda ? w[i] : 0;
    memset(out, 0, (size_t)(d->m * d->n) * sizeof *out);
    add_psit(d, a, d->u, d->r, d->step, out);
    free(a);
    return 0;
}

/* GMRES (unpreconditioned) on (I - Phi)' w = ubar through the fold-map interface. */
static fold_status vjp_gmres(denoise_data *d, const double *ubar, double *Dbar, fold_int *iters)
{
    fold_map_def def = {.name = "denoise step",
                        .nz = d->m,
                        .np = d->m * d->n,
                        .phit_v = map_phit,
                        .psit_v = map_psit,
                        .user_data = d};
    fold_map *map = NULL;
    fold_settings s;
    fold_backward_info info;
    fold_status st;
    double *pbar = malloc((size_t)(d->m * d->n) * sizeof *pbar);
    if (!pbar) return learn_error(FOLD_ERR_MEMORY, "denoise vjp: gmres");
    fold_settings_default(&s);
    s.backward.method = FOLD_BACKWARD_GMRES;
    s.precond.kind = FOLD_PRECOND_NONE;
    s.backward.tol = 1e-12;
    s.backward.max_iter = 10 * d->m + 100;
    st = fold_map_create(&def, &map);
    if (st == FOLD_OK) st = fold_map_vjp(map, &s, ubar, pbar, &info);
    if (st < 0)
        st = learn_error(st, "denoise vjp: sample %lld: %s", (long long)d->sample,
                         fold_last_error());
    else {
        for (fold_int k = 0; k < d->m * d->n; k++)
            Dbar[k] += pbar[k];
        *iters = info.iterations;
    }
    fold_map_free(map);
    free(pbar);
    return st < 0 ? st : FOLD_OK;
}

/* Reverse pass through the stored iterates u_0..u_{K-1} (the step size held fixed). */
static fold_status vjp_unroll(learn_task *t, denoise_data *d, const double *ubar, double *Dbar)
{
    const double *obs = d->noisy + d->sample * d->n;
    double *ub = malloc((size_t)d->m * sizeof *ub), *a = malloc((size_t)d->m * sizeof *a);
    double *uk = malloc((size_t)d->m * sizeof *uk), *rk = malloc((size_t)d->n * sizeof *rk);
    if (!ub || !a || !uk || !rk) {
        free(ub);
        free(a);
        free(uk);
        free(rk);
        return learn_error(FOLD_ERR_MEMORY, "denoise vjp: unroll");
    }
    memcpy(ub, ubar, (size_t)d->m * sizeof *ub);
    for (fold_int k = d->n_iter - 1; k >= 0; k--) {
        memcpy(uk, d->iterates + k * d->m, (size_t)d->m * sizeof *uk);
        pg_step(d, obs, uk); /* recomputes r_k (d->r) and the pre-projection point v_k */
        memcpy(rk, d->r, (size_t)d->n * sizeof *rk);
        for (fold_int i = 0; i < d->m; i++)
            a[i] = fabs(d->v[i]) < d->lambda ? ub[i] : 0;
        add_psit(d, a, d->iterates + k * d->m, rk, d->step, Dbar);
        mul_t(d, a, d->tmp_n);
        mul(d, d->tmp_n, d->tmp_m);
        for (fold_int i = 0; i < d->m; i++)
            ub[i] = a[i] - d->step * d->tmp_m[i];
    }
    free(ub);
    free(a);
    free(uk);
    free(rk);
    (void)t;
    return FOLD_OK;
}

/* x = y - D'u:  Dbar = -u xbar' + (fold of u),  ubar = -D xbar. */
static fold_status denoise_vjp(learn_task *t, fold_int s, const double *xbar, double *Dbar)
{
    denoise_data *d = t->data;
    double *ubar = malloc((size_t)d->m * sizeof *ubar);
    fold_status st;
    if (!ubar) return learn_error(FOLD_ERR_MEMORY, "denoise vjp: ubar");
    if (s != d->sample) {
        free(ubar);
        return learn_error(FOLD_ERR_NOT_SOLVED,
                           "denoise vjp: sample %lld was not the last "
                           "forward",
                           (long long)s);
    }
    mul(d, xbar, ubar);
    for (fold_int i = 0; i < d->m; i++) {
        ubar[i] = -ubar[i];
        for (fold_int j = 0; j < d->n; j++)
            Dbar[i * d->n + j] = -d->u[i] * xbar[j];
    }
    t->backward_iterations = 0;
    t->backward_bytes = 0;
    if (t->backward == LEARN_BACKWARD_DIRECT) {
        st = vjp_direct(d, ubar, Dbar);
    } else if (t->backward == LEARN_BACKWARD_LFPI) {
        st = vjp_lfpi(d, ubar, Dbar, &t->backward_iterations);
    } else if (t->backward == LEARN_BACKWARD_GMRES) {
        st = vjp_gmres(d, ubar, Dbar, &t->backward_iterations);
    } else {
        st = vjp_unroll(t, d, ubar, Dbar);
        t->backward_iterations = d->n_iter; /* the tape: the iterates u_0..u_{K-1} */
        t->backward_bytes = (size_t)(d->n_iter * d->m) * sizeof(double);
    }
    free(ubar);
    return st;
}

static double denoise_loss(learn_task *t, fold_int s, const double *x, double *xbar)
{
    denoise_data *d = t->data;
    const double *c = d->clean + s * d->n;
    double sum = 0;
    for (fold_int j = 0; j < d->n; j++) {
        sum += 0.5 * (x[j] - c[j]) * (x[j] - c[j]);
        if (xbar) xbar[j] = (x[j] - c[j]) / (double)d->n;
    }
    return sum / (double)d->n;
}

static double denoise_metric(learn_task *t, fold_int s, const double *x)
{
    return denoise_loss(t, s, x, NULL);
}

static const learn_task_ops denoise_ops = {denoise_forward, denoise_vjp, denoise_loss,
                                           denoise_metric, denoise_free};

/* Clean signals alternate piecewise-constant (1-4 jumps, N(0,1) levels) and smooth (a sine
 * of 0.5-2 periods); noisy = clean + noise N(0,1). Baseline D: alpha times the first
 * difference, alpha the best of a grid on the training loss (the tuned total-variation
 * denoiser); training starts from it. */
fold_status learn_denoise_create(const learn_config *c, learn_task *t)
{
    denoise_data *d = calloc(1, sizeof *d);
    fold_int n = c->size, m = n - 1, ns = c->n_train + c->n_test;
    learn_rng rng;
    double best = HUGE_VAL, best_alpha = 1;
    t->data = d;
    t->ops = &denoise_ops;
    if (!d) return learn_error(FOLD_ERR_MEMORY, "learn_task_create: denoise");
    if (!(c->lambda > 0) || !isfinite(c->lambda))
        return learn_error(FOLD_ERR_ARGUMENT, "learn_task_create: denoise: lambda = %g", c->lambda);
    d->n = n;
    d->m = m;
    d->lambda = c->lambda;
    d->clean = malloc((size_t)(ns * n) * sizeof(double));
    d->noisy = malloc((size_t)(ns * n) * sizeof(double));
    d->warm = calloc((size_t)(ns * m), sizeof(double));
    d->D = malloc((size_t)(m * n) * sizeof(double));
    d->u = malloc((size_t)m * sizeof(double));
    d->x = malloc((size_t)n * sizeof(double));
    d->r = malloc((size_t)n * sizeof(double));
    d->v = malloc((size_t)m * sizeof(double));
    d->tmp_m = malloc((size_t)m * sizeof(double));
    d->tmp_n = malloc((size_t)n * sizeof(double));
    d->gram = malloc((size_t)(m * m) * sizeof(double));
    t->q_baseline = calloc((size_t)(m * n), sizeof(double));
    if (!d->clean || !d->noisy || !d->warm || !d->D || !d->u || !d->x || !d->r || !d->v ||
        !d->tmp_m || !d->tmp_n || !d->gram || !t->q_baseline)
        return learn_error(FOLD_ERR_MEMORY, "learn_task_create: denoise data");
    t->metric_name = "loss";
    t->n_feat = 0;
    t->n_q = m * n;
    t->n_y = n;
    t->model_kind = LEARN_MODEL_CONST;
    t->lr_hint = 5e-4; /* Adam moves every entry of D by ~lr per step */
    learn_rng_seed(&rng, c->seed);
    for (fold_int s = 0; s < ns; s++) {
        double *x = d->clean + s * n;
        if (s % 2 == 0) {
            int jumps = 1 + (int)(4 * learn_uniform(&rng));
            double level = learn_normal(&rng);
            fold_int at[4];
            for (int k = 0; k < jumps; k++)
                at[k] = 1 + (fold_int)(learn_uniform(&rng) * (double)(n - 1));
            for (fold_int j = 0; j < n; j++) {
                for (int k = 0; k < jumps; k++)
                    if (j == at[k]) level = learn_normal(&rng);
                x[j] = level;
            }
        } else {
            double f = 0.5 + 1.5 * learn_uniform(&rng), ph = 2 * M_PI * learn_uniform(&rng);
            for (fold_int j = 0; j < n; j++)
                x[j] = sin(2 * M_PI * f * (double)j / (double)n + ph);
        }
        for (fold_int j = 0; j < n; j++)
            d->noisy[s * n + j] = x[j] + c->noise * learn_normal(&rng);
    }
    for (int g = -4; g <= 3; g++) {
        double alpha = pow(2.0, g), sum = 0;
        for (fold_int i = 0; i < m; i++) {
            t->q_baseline[i * n + i] = -alpha;
            t->q_baseline[i * n + i + 1] = alpha;
        }
        for (fold_int s = 0; s < c->n_train; s++) {
            fold_status st = denoise_forward(t, s, t->q_baseline, d->tmp_n);
            if (st != FOLD_OK) return st;
            sum += denoise_loss(t, s, d->tmp_n, NULL);
        }
        if (sum < best) {
            best = sum;
            best_alpha = alpha;
        }
    }
    for (fold_int i = 0; i < m; i++) {
        t->q_baseline[i * n + i] = -best_alpha;
        t->q_baseline[i * n + i + 1] = best_alpha;
    }
    return FOLD_OK;
}
