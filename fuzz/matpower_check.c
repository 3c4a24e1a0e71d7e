/* Properties of the case reader (MATPOWER text, or a PowerModels network when the input is a
 * JSON object) on any input: clean rejection, exact write -> read round trip, and a model
 * whose callbacks are finite where Ipopt starts (doc/testing.md, "Fuzzing"; the reader's
 * validation rules are doc/acopf.md §1.1, §1.3). */
#include "matpower_check.h"

#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acopf/acopf_internal.h"

typedef struct check {
    char *why;
    size_t cap;
    bool failed;
} check;

static bool fail(check *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static bool fail(check *c, const char *fmt, ...)
{
    if (!c->failed) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(c->why, c->cap, fmt, ap);
        va_end(ap);
        c->failed = true;
    }
    return false;
}

/* Bit-for-bit equality (tells -0 from 0, as the written text does). */
static bool same(double a, double b)
{
    return memcmp(&a, &b, sizeof a) == 0;
}

#define SAME_FIELD(c, what, k, x, y, field)                                                        \
    (same((x)->field, (y)->field) || fail(c, "round trip: %s %ld: " #field " %.17g became %.17g",  \
                                          what, (long)(k), (x)->field, (y)->field))

static bool same_buses(check *c, const fold_acopf_case *a, const fold_acopf_case *b)
{
    for (fold_int i = 0; i < a->n_bus; i++) {
        const fold_acopf_bus *x = &a->bus[i], *y = &b->bus[i];
        if (x->id != y->id || x->type != y->type)
            return fail(c, "round trip: bus %ld: id/type %ld/%d became %ld/%d", (long)i, x->id,
                        x->type, y->id, y->type);
        if (!SAME_FIELD(c, "bus", i, x, y, pd) || !SAME_FIELD(c, "bus", i, x, y, qd) ||
            !SAME_FIELD(c, "bus", i, x, y, gs) || !SAME_FIELD(c, "bus", i, x, y, bs) ||
            !SAME_FIELD(c, "bus", i, x, y, vm0) || !SAME_FIELD(c, "bus", i, x, y, va0) ||
            !SAME_FIELD(c, "bus", i, x, y, vmin) || !SAME_FIELD(c, "bus", i, x, y, vmax))
            return false;
    }
    return true;
}

/* Polynomial costs may come back padded with leading zero coefficients (same polynomial);
 * piecewise-linear points come back as they were. */
static bool same_cost(check *c, fold_int k, const fold_acopf_case *a, const fold_acopf_case *b)
{
    const fold_acopf_gen *x = &a->gen[k], *y = &b->gen[k];
    const double *ca = a->cost + x->cost_off, *cb = b->cost + y->cost_off;
    if (x->pwl != y->pwl || (x->pwl && x->n_cost != y->n_cost) ||
        (!x->pwl && y->n_cost < x->n_cost))
        return fail(c, "round trip: gen %ld: cost model %d with %d terms became %d with %d",
                    (long)k, x->pwl ? 1 : 2, x->n_cost, y->pwl ? 1 : 2, y->n_cost);
    int len = x->pwl ? 2 * x->n_cost : y->n_cost;
    for (int j = 0; j < len; j++) {
        bool ok = j < (x->pwl ? len : x->n_cost) ? same(ca[j], cb[j]) : cb[j] == 0;
        if (!ok)
            return fail(c, "round trip: gen %ld: cost term %d %.17g became %.17g", (long)k, j,
                        j < (x->pwl ? len : x->n_cost) ? ca[j] : 0.0, cb[j]);
    }
    return true;
}

/* Rows 1, 2, .. in order: what a written file gives back (a MATPOWER file without dropped
 * rows, a PowerModels network indexed from 1 without gaps). */
static bool gen_rows_in_order(const fold_acopf_case *a)
{
    for (fold_int k = 0; k < a->n_gen; k++)
        if (a->gen[k].row != (long)k + 1) return false;
    return true;
}

static bool branch_rows_in_order(const fold_acopf_case *a)
{
    for (fold_int k = 0; k < a->n_branch; k++)
        if (a->branch[k].row != (long)k + 1) return false;
    return true;
}

static bool same_gens(check *c, const fold_acopf_case *a, const fold_acopf_case *b)
{
    bool rows = gen_rows_in_order(a);
    for (fold_int k = 0; k < a->n_gen; k++) {
        const fold_acopf_gen *x = &a->gen[k], *y = &b->gen[k];
        if (x->bus != y->bus || (rows && x->row != y->row))
            return fail(c, "round trip: gen %ld: bus/row %ld/%ld became %ld/%ld", (long)k,
                        (long)x->bus, x->row, (long)y->bus, y->row);
        if (!SAME_FIELD(c, "gen", k, x, y, pg0) || !SAME_FIELD(c, "gen", k, x, y, qg0) ||
            !SAME_FIELD(c, "gen", k, x, y, pmin) || !SAME_FIELD(c, "gen", k, x, y, pmax) ||
            !SAME_FIELD(c, "gen", k, x, y, qmin) || !SAME_FIELD(c, "gen", k, x, y, qmax) ||
            !same_cost(c, k, a, b))
            return false;
    }
    return true;
}

static bool same_branches(check *c, const fold_acopf_case *a, const fold_acopf_case *b)
{
    bool rows = branch_rows_in_order(a);
    for (fold_int k = 0; k < a->n_branch; k++) {
        const fold_acopf_branch *x = &a->branch[k], *y = &b->branch[k];
        if (x->f != y->f || x->t != y->t || (rows && x->row != y->row))
            return fail(c, "round trip: branch %ld: ends/row %ld-%ld/%ld became %ld-%ld/%ld",
                        (long)k, (long)x->f, (long)x->t, x->row, (long)y->f, (long)y->t, y->row);
        if (!SAME_FIELD(c, "branch", k, x, y, r) || !SAME_FIELD(c, "branch", k, x, y, x) ||
            !SAME_FIELD(c, "branch", k, x, y, b) || !SAME_FIELD(c, "branch", k, x, y, rate_a) ||
            !SAME_FIELD(c, "branch", k, x, y, tap) ||
            !SAME_FIELD(c, "branch", k, x, y, shift_deg) ||
            !SAME_FIELD(c, "branch", k, x, y, angmin_deg) ||
            !SAME_FIELD(c, "branch", k, x, y, angmax_deg))
            return false;
    }
    return true;
}

static bool same_case(check *c, const fold_acopf_case *a, const fold_acopf_case *b)
{
    if (!same(a->base_mva, b->base_mva) || a->n_bus != b->n_bus || a->n_gen != b->n_gen ||
        a->n_branch != b->n_branch)
        return fail(c, "round trip: base %.17g, sizes %ld/%ld/%ld became %.17g, %ld/%ld/%ld",
                    a->base_mva, (long)a->n_bus, (long)a->n_gen, (long)a->n_branch, b->base_mva,
                    (long)b->n_bus, (long)b->n_gen, (long)b->n_branch);
    return same_buses(c, a, b) && same_gens(c, a, b) && same_branches(c, a, b);
}

/* The case as MATPOWER text (malloc'ed, *len bytes), or NULL with the failure recorded. */
static char *write_text(check *c, const fold_acopf_case *cs, size_t *len)
{
    char *text = NULL;
    FILE *mem = open_memstream(&text, len);
    if (!mem) return NULL; /* out of memory: nothing to check */
    fold_status st = fold_acopf_case_write(cs, mem);
    fclose(mem);
    if (st != FOLD_OK) {
        free(text);
        fail(c, "write failed: %s", fold_last_error());
        return NULL;
    }
    return text;
}

static bool finite_all(check *c, const char *where, const char *cb, const double *v, fold_int n)
{
    for (fold_int i = 0; i < n; i++)
        if (!isfinite(v[i]))
            return fail(c, "model %s: callback %s: output[%ld] = %g", where, cb, (long)i, v[i]);
    return true;
}

/* Every callback at x with the model's default parameters and unit multipliers. */
static bool finite_callbacks(check *c, const fold_acopf *m, const double *x, const char *where)
{
    const fold_acopf_layout *L = &m->L;
    size_t n = (size_t)L->n, nm = (size_t)L->m + 1, np = (size_t)L->np;
    size_t big = (size_t)(m->jac_nnz > m->hess_nnz ? m->jac_nnz : m->hess_nnz);
    big = big > n ? big : n;
    big = big > nm ? big : nm;
    big = big > np ? big : np;
    big = big > (size_t)m->jgp_nnz ? big : (size_t)m->jgp_nnz;
    big = big > (size_t)m->hlp_nnz ? big : (size_t)m->hlp_nnz;
    double *out = malloc((big + 1) * sizeof *out), *lam = malloc(nm * sizeof *lam);
    double *p = malloc((np + 1) * sizeof *p), f = 0;
    bool ok = true;
    if (out && lam && p) {
        void *ud = (void *)m;
        fold_problem_default_params(m->prob, p);
        for (size_t i = 0; i < nm; i++)
            lam[i] = 1;
        ok = (acopf_cb_f(x, p, &f, ud), finite_all(c, where, "f", &f, 1)) &&
             (acopf_cb_grad_f(x, p, out, ud), finite_all(c, where, "grad_f", out, L->n)) &&
             (acopf_cb_g(x, p, out, ud), finite_all(c, where, "g", out, L->m)) &&
             (acopf_cb_jac_g(x, p, out, ud), finite_all(c, where, "jac_g", out, m->jac_nnz)) &&
             (acopf_cb_hess_l(x, p, 1.0, lam, out, ud),
              finite_all(c, where, "hess_l", out, m->hess_nnz)) &&
             (acopf_cb_grad_f_p(x, p, out, ud), finite_all(c, where, "grad_f_p", out, L->np)) &&
             (acopf_cb_jac_g_p(x, p, out, ud), finite_all(c, where, "jac_g_p", out, m->jgp_nnz)) &&
             (acopf_cb_hess_lp(x, p, lam, out, ud),
              finite_all(c, where, "hess_lp", out, m->hlp_nnz));
    }
    free(out);
    free(lam);
    free(p);
    return ok;
}

/* Build the model of cs with the given flow-variable threshold and evaluate it at its
 * start point and at its bounds (upper where finite, else lower, else 1; angles of
 * alternating sign). */
static bool model_builds(check *c, const fold_acopf_case *cs, double flow_var_max_z)
{
    fold_acopf_options opt;
    fold_acopf_default_options(&opt);
    opt.flow_var_max_z = flow_var_max_z;
    fold_acopf *m = NULL;
    fold_status st = fold_acopf_create_with(cs, &opt, &m);
    if (st == FOLD_ERR_MEMORY) return true;
    if (st != FOLD_OK)
        return fail(c, "model refused an accepted case (%s): %s", fold_status_name(st),
                    fold_last_error());
    const fold_acopf_layout *L = &m->L;
    double *x = malloc(((size_t)L->n + 1) * sizeof *x);
    bool ok = x != NULL;
    if (ok) {
        fold_problem_start_point(m->prob, x);
        ok = finite_all(c, "start", "x_start", x, L->n) && finite_callbacks(c, m, x, "start");
    }
    for (fold_int j = 0; ok && j < L->n; j++) {
        double lo = m->x_lo[j], hi = m->x_hi[j];
        x[j] = hi < FOLD_INF_BOUND ? hi : lo > -FOLD_INF_BOUND ? lo : 1;
        if (j < L->x_vm && lo < hi) x[j] = j % 2 ? 0.5 : -0.5;
    }
    if (ok) ok = finite_callbacks(c, m, x, "at bounds");
    free(x);
    fold_acopf_free(m);
    return ok;
}

static bool rejected_cleanly(check *c, fold_status st, const fold_acopf_case *cs)
{
    const char *msg = fold_last_error();
    if (cs) return fail(c, "rejected (%s) but *out was set", fold_status_name(st));
    if (st != FOLD_ERR_PARSE && st != FOLD_ERR_UNSUPPORTED && st != FOLD_ERR_TOO_LARGE &&
        st != FOLD_ERR_MEMORY)
        return fail(c, "rejected with %s: %s", fold_status_name(st), msg);
    if (st != FOLD_ERR_MEMORY && !strstr(msg, "fuzz.m"))
        return fail(c, "rejection message does not name the file: '%s'", msg);
    return true;
}

int fold_fuzz_matpower_check(const uint8_t *data, size_t size, char *why, size_t cap)
{
    check c = {why, cap, false};
    fold_acopf_case *a = NULL, *b = NULL;
    char *text = NULL, *text2 = NULL;
    size_t len = 0, len2 = 0;
    if (cap) why[0] = '\0';
    fold_status st = fold_acopf_case_parse((const char *)data, size, "fuzz.m", &a);
    if (st != FOLD_OK) {
        rejected_cleanly(&c, st, a);
        return c.failed;
    }
    if ((text = write_text(&c, a, &len)) != NULL) {
        st = fold_acopf_case_parse(text, len, "fuzz.m", &b);
        if (st != FOLD_OK)
            fail(&c, "the written case is refused: %s", fold_last_error());
        else if (same_case(&c, a, b) && (text2 = write_text(&c, b, &len2)) != NULL &&
                 (len2 != len || memcmp(text, text2, len) != 0))
            fail(&c, "writing the case read back gives other text");
    }
    if (!c.failed && model_builds(&c, a, FOLD_ACOPF_FLOW_VAR_MAX_Z)) model_builds(&c, a, HUGE_VAL);
    free(text);
    free(text2);
    fold_acopf_case_free(a);
    fold_acopf_case_free(b);
    return c.failed;
}
