/* Denoising layer x*(D, y) = argmin 1/2|x - y|^2 + lambda |Dx|_1, solved by projected gradient
 * on the dual (max over |u|_inf <= lambda, x = y - D'u); the VJP folds that update step through
 * the library's fold map (fold_map_vjp: direct, LFPI or GMRES) or unrolls its iterations
 * (fold_step_unroll_vjp) (doc/learning.md §4.3). */
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
    double *D, *u, *x, *r, *v, *tmp_m, *tmp_n;
    double *r_k, *v_k; /* the step at an unrolled iterate */
    fold_int n_iter;
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
    free(d->r_k);
    free(d->v_k);
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

/* The step (4.7) at u: r = D'u - y and the pre-projection point v = u - t D r. */
static void step_point(denoise_data *d, const double *y, const double *u, double *r, double *v)
{
    mul_t(d, u, r);
    for (fold_int j = 0; j < d->n; j++)
        r[j] -= y[j];
    mul(d, r, v);
    for (fold_int i = 0; i < d->m; i++)
        v[i] = u[i] - d->step * v[i];
}

static double clip(const denoise_data *d, double v)
{
    return v > d->lambda ? d->lambda : v < -d->lambda ? -d->lambda : v;
}

/* One step (4.7) from u, in place (d->r, d->v keep r and v); returns max |u_new - u|. */
static double pg_step(denoise_data *d, const double *y, double *u)
{
    double diff = 0;
    step_point(d, y, u, d->r, d->v);
    for (fold_int i = 0; i < d->m; i++) {
        double ui = clip(d, d->v[i]);
        diff = fmax(diff, fabs(ui - u[i]));
        u[i] = ui;
    }
    return diff;
}

static fold_status denoise_forward(learn_task *t, fold_int s, const double *q, double *y)
{
    denoise_data *d = t->data;
    const double *obs = d->noisy + s * d->n;
    fold_int it;
    for (fold_int k = 0; k < d->m * d->n; k++)
        if (!isfinite(q[k]))
            return learn_error(FOLD_ERR_NONFINITE, "denoise forward: sample %lld: D[%lld] = %g",
                               (long long)s, (long long)k, q[k]);
    memcpy(d->D, q, (size_t)(d->m * d->n) * sizeof *d->D);
    /* Step 1/L with L >= ||D||^2 (the power iteration estimate from below, with margin). */
    d->step = 1.0 / (1.02 * learn_norm2_sq(d->D, d->m, d->n) + 1e-12);
    /* unroll: a cold start, the fixed z_0 = 0 its VJP replays the iterations from */
    if (t->backward == LEARN_BACKWARD_UNROLL)
        memset(d->u, 0, (size_t)d->m * sizeof *d->u);
    else
        memcpy(d->u, d->warm + s * d->m, (size_t)d->m * sizeof *d->u);
    for (it = 0; it < DENOISE_MAX_ITER; it++)
        if (pg_step(d, obs, d->u) <= DENOISE_TOL * d->lambda) {
            it++;
            break;
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

/* out = -t (a r' + u (D'a)') with a = P w (P: the free rows |v_i| < lambda): the Psi' product
 * of the step (4.9) at the point with pre-projection v and residual r. */
static int step_psit(denoise_data *d, const double *v, const double *u, const double *r,
                     const double *w, double *out)
{
    double *a = malloc((size_t)d->m * sizeof *a);
    if (!a) return -1;
    for (fold_int i = 0; i < d->m; i++)
        a[i] = fabs(v[i]) < d->lambda ? w[i] : 0;
    mul_t(d, a, d->tmp_n);
    for (fold_int i = 0; i < d->m; i++)
        for (fold_int j = 0; j < d->n; j++)
            out[i * d->n + j] = -d->step * (a[i] * r[j] + u[i] * d->tmp_n[j]);
    free(a);
    return 0;
}

/* out = Phi' w = (I - t D D') P w (4.10) at the point with pre-projection v. */
static void step_phit(denoise_data *d, const double *v, const double *w, double *out)
{
    for (fold_int i = 0; i < d->m; i++)
        out[i] = fabs(v[i]) < d->lambda ? w[i] : 0;
    mul_t(d, out, d->tmp_n);
    mul(d, d->tmp_n, d->tmp_m);
    for (fold_int i = 0; i < d->m; i++)
        out[i] -= d->step * d->tmp_m[i];
}

/* The fold map of the step at the forward's fixed point (d->u, d->r, d->v). */
static int map_phi(const double *w, double *out, void *ud)
{
    denoise_data *d = ud;
    mul_t(d, w, d->tmp_n);
    mul(d, d->tmp_n, d->tmp_m);
    for (fold_int i = 0; i < d->m; i++)
        out[i] = fabs(d->v[i]) < d->lambda ? w[i] - d->step * d->tmp_m[i] : 0;
    return 0;
}

static int map_phit(const double *w, double *out, void *ud)
{
    step_phit(ud, ((denoise_data *)ud)->v, w, out);
    return 0;
}

static int map_psit(const double *w, double *out, void *ud)
{
    denoise_data *d = ud;
    return step_psit(d, d->v, d->u, d->r, w, out);
}

/* The fold (4.8): (I - Phi)' w = ubar by the task's method through fold_map_vjp, Dbar +=
 * Psi' w. direct: the library assembles I - Phi from products and factors it (on the free
 * rows it is t D_F D_F'); lfpi (4.10), gmres: unpreconditioned, tol 1e-12. */
static fold_status vjp_fold(learn_task *t, denoise_data *d, const double *ubar, double *Dbar)
{
    fold_map_def def = {.name = "denoise step",
                        .nz = d->m,
                        .np = d->m * d->n,
                        .phi_v = map_phi,
                        .phit_v = map_phit,
                        .psit_v = map_psit,
                        .user_data = d};
    fold_map *map = NULL;
    fold_settings s;
    fold_backward_info info = FOLD_BACKWARD_INFO_INIT;
    fold_status st;
    double *pbar = malloc((size_t)(d->m * d->n) * sizeof *pbar);
    if (!pbar) return learn_error(FOLD_ERR_MEMORY, "denoise vjp: pbar");
    fold_settings_default(&s);
    s.precond.kind = FOLD_PRECOND_NONE;
    s.backward.tol = 1e-12;
    if (t->backward == LEARN_BACKWARD_DIRECT) {
        s.backward.method = FOLD_BACKWARD_DIRECT;
    } else if (t->backward == LEARN_BACKWARD_LFPI) {
        s.backward.method = FOLD_BACKWARD_LFPI;
        s.backward.max_iter = DENOISE_MAX_ITER;
    } else {
        s.backward.method = FOLD_BACKWARD_GMRES;
        s.backward.max_iter = 10 * d->m + 100;
    }
    st = fold_map_create(&def, &map);
    if (st == FOLD_OK) st = fold_map_vjp(map, &s, ubar, pbar, &info);
    if (st == FOLD_ERR_SINGULAR)
        st = learn_error(st,
                         "denoise vjp: sample %lld: D restricted to the free rows is rank "
                         "deficient (%s)",
                         (long long)d->sample, fold_last_error());
    else if (st < 0)
        st = learn_error(st, "denoise vjp: sample %lld: %s", (long long)d->sample,
                         fold_last_error());
    else {
        for (fold_int k = 0; k < d->m * d->n; k++)
            Dbar[k] += pbar[k];
        t->backward_iterations = info.iterations;
    }
    fold_map_free(map);
    free(pbar);
    return st < 0 ? st : FOLD_OK;
}

/* The step (4.7) as a fold_step_def for unrolling (4.11): U, Phi(u)' and Psi(u)' at any
 * iterate, with the step size and D of the forward held fixed (D is also p). */
static int unroll_update(const double *z, const double *p, double *out, void *ud)
{
    denoise_data *d = ud;
    step_point(d, d->noisy + d->sample * d->n, z, d->r_k, d->v_k);
    for (fold_int i = 0; i < d->m; i++)
        out[i] = clip(d, d->v_k[i]);
    return 0;
}

static int unroll_phit(const double *z, const double *p, const double *v, double *out, void *ud)
{
    denoise_data *d = ud;
    step_point(d, d->noisy + d->sample * d->n, z, d->r_k, d->v_k);
    step_phit(d, d->v_k, v, out);
    return 0;
}

static int unroll_psit(const double *z, const double *p, const double *w, double *out, void *ud)
{
    denoise_data *d = ud;
    step_point(d, d->noisy + d->sample * d->n, z, d->r_k, d->v_k);
    return step_psit(d, d->v_k, z, d->r_k, w, out);
}

/* Back-propagation through the forward's n_iter steps from u_0 = 0 (fold_step_unroll_vjp
 * replays them and keeps the tape u_0..u_K). */
static fold_status vjp_unroll(learn_task *t, denoise_data *d, const double *ubar, double *Dbar)
{
    fold_step_def def = {.name = "denoise step",
                         .nz = d->m,
                         .np = d->m * d->n,
                         .update = unroll_update,
                         .phit_v = unroll_phit,
                         .psit_v = unroll_psit,
                         .user_data = d};
    fold_iter_info info = FOLD_ITER_INFO_INIT;
    fold_status st;
    double *u0 = calloc((size_t)d->m, sizeof *u0);
    double *pbar = malloc((size_t)(d->m * d->n) * sizeof *pbar);
    if (!u0 || !pbar) {
        free(u0);
        free(pbar);
        return learn_error(FOLD_ERR_MEMORY, "denoise vjp: unroll");
    }
    st = fold_step_unroll_vjp(
        &def, &(fold_unroll_run){.p = d->D, .start = u0, .iters = d->n_iter, .bar = ubar}, NULL,
        pbar, &info);
    if (st < 0) {
        st = learn_error(st, "denoise vjp: sample %lld: unroll: %s", (long long)d->sample,
                         fold_last_error());
    } else {
        for (fold_int k = 0; k < d->m * d->n; k++)
            Dbar[k] += pbar[k];
        t->backward_iterations = info.iterations;
        t->backward_bytes = info.bytes_stored;
        st = FOLD_OK;
    }
    free(u0);
    free(pbar);
    return st;
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
    if (t->backward == LEARN_BACKWARD_UNROLL)
        st = vjp_unroll(t, d, ubar, Dbar);
    else
        st = vjp_fold(t, d, ubar, Dbar);
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
    d->r_k = malloc((size_t)n * sizeof(double));
    d->v_k = malloc((size_t)m * sizeof(double));
    t->q_baseline = calloc((size_t)(m * n), sizeof(double));
    if (!d->clean || !d->noisy || !d->warm || !d->D || !d->u || !d->x || !d->r || !d->v ||
        !d->tmp_m || !d->tmp_n || !d->r_k || !d->v_k || !t->q_baseline)
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
