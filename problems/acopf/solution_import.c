/* A solution computed elsewhere (MATPOWER, PowerModels, any solver) as the stored solution
 * of an AC-OPF model: mapped into foldopt's formulation (angles relative to the reference
 * bus, epigraph and flow variables, multipliers from MATPOWER's units and signs), its KKT
 * residuals measured, multipliers missing or inconsistent recovered by least squares
 * (fold_solver_import), optionally polished by a warm re-solve that must keep its active
 * set (doc/acopf.md §8). */
#include <stdlib.h>
#include <string.h>

#include "acopf/acopf_internal.h"

/* A primal-dual point of the model (one allocation). */
typedef struct point {
    double *x, *lam, *zl, *zu;
} point;

static bool point_alloc(const fold_acopf *m, point *pt)
{
    size_t n = (size_t)m->L.n, mm = (size_t)m->L.m;
    pt->x = calloc(3 * n + mm + 1, sizeof(double));
    pt->zl = pt->x ? pt->x + n : NULL;
    pt->zu = pt->x ? pt->zl + n : NULL;
    pt->lam = pt->x ? pt->zu + n : NULL;
    return pt->x != NULL;
}

/* The primal point: angles in radians relative to the first reference bus (the model fixes
 * it at 0; flows depend on differences only), powers in p.u., each epigraph variable at its
 * cost, each flow variable at its flow. */
static void primal(const fold_acopf *m, const double *p, const fold_acopf_results *r, double *x,
                   double *shift_deg)
{
    const fold_acopf_layout *L = &m->L;
    *shift_deg = 0;
    for (fold_int i = 0; i < m->cs.n_bus; i++)
        if (m->cs.bus[i].type == 3) {
            *shift_deg = r->va[i];
            break;
        }
    for (fold_int i = 0; i < m->cs.n_bus; i++) {
        x[L->x_va + i] = (r->va[i] - *shift_deg) * DEG;
        x[L->x_vm + i] = r->vm[i];
    }
    for (fold_int k = 0; k < m->cs.n_gen; k++) {
        x[L->x_pg + k] = r->pg[k] / m->base;
        x[L->x_qg + k] = r->qg[k] / m->base;
    }
    acopf_pwl_start(m, x);
    acopf_flow_vars_start(m, p, x);
}

/* Multipliers of the segment rows of PWL generator k from stationarity in t (they sum to 1)
 * and in pg (sum S s_j lam_j = the price of its output); false when the active segments
 * (one or two) do not determine them. */
static bool pwl_duals(const fold_acopf *m, fold_int k, const double *x, point *pt)
{
    const fold_acopf_layout *L = &m->L;
    fold_int act[3], na = 0;
    double t = x[L->x_t + m->gen_pwl[k]];
    for (fold_int r = 0; r < L->n_seg; r++) {
        if (m->seg_gen[r] != k) continue;
        double v = m->seg_slope[r] * x[L->x_pg + k] + m->seg_icpt[r];
        if (fabs(v - t) <= 1e-9 * (1 + fabs(t)) && na < 3) act[na++] = r;
    }
    double c = pt->lam[L->g_p + m->cs.gen[k].bus] + pt->zl[L->x_pg + k] - pt->zu[L->x_pg + k];
    if (na == 1) {
        pt->lam[L->g_seg + act[0]] = 1;
        return true;
    }
    if (na != 2 || m->seg_slope[act[0]] == m->seg_slope[act[1]]) return false;
    double sa = m->seg_slope[act[0]], sb = m->seg_slope[act[1]];
    pt->lam[L->g_seg + act[0]] = (c - sb) / (sa - sb);
    pt->lam[L->g_seg + act[1]] = 1 - pt->lam[L->g_seg + act[0]];
    return true;
}

/* The bound multipliers of fixed variables (the reference angle, pmin = pmax) from their
 * rows of stationarity, grad f + J' lam = zl - zu. */
static void fixed_duals(const fold_acopf *m, const double *p, point *pt)
{
    const fold_acopf_layout *L = &m->L;
    double *g = malloc(((size_t)L->n + (size_t)m->jac_nnz + 1) * sizeof(double));
    if (!g) return; /* the residuals then show the fixed variables' rows */
    double *jv = g + L->n;
    acopf_cb_grad_f(pt->x, p, g, (void *)m);
    acopf_cb_jac_g(pt->x, p, jv, (void *)m);
    for (fold_int q = 0; q < m->jac_nnz; q++)
        g[m->jac_col[q]] += jv[q] * pt->lam[m->jac_row[q]];
    for (fold_int j = 0; j < L->n; j++)
        if (m->x_lo[j] == m->x_hi[j]) {
            pt->zl[j] = fmax(g[j], 0);
            pt->zu[j] = fmax(-g[j], 0);
        }
    free(g);
}

/* The multipliers from MATPOWER's units and signs (the inverse of doc/acopf.md §6); false
 * when some cannot be formed (PWL segments the point does not determine). */
static bool duals(const fold_acopf *m, const double *p, const fold_acopf_results *r, point *pt)
{
    const fold_acopf_layout *L = &m->L;
    double S = m->base;
    bool complete = true;
    for (fold_int i = 0; i < m->cs.n_bus; i++) {
        pt->lam[L->g_p + i] = r->lam_p[i] * S;
        pt->lam[L->g_q + i] = r->lam_q[i] * S;
        pt->zl[L->x_vm + i] = r->mu_vmin[i];
        pt->zu[L->x_vm + i] = r->mu_vmax[i];
    }
    for (fold_int k = 0; k < m->cs.n_gen; k++) {
        pt->zl[L->x_pg + k] = r->mu_pmin[k] * S;
        pt->zu[L->x_pg + k] = r->mu_pmax[k] * S;
        pt->zl[L->x_qg + k] = r->mu_qmin[k] * S;
        pt->zu[L->x_qg + k] = r->mu_qmax[k] * S;
    }
    for (fold_int k = 0; k < m->cs.n_branch; k++) {
        const acopf_branch_data *b = &m->br[k];
        if (b->rated_row >= 0) { /* MU_SF = 2 mu rateA / S^2 */
            double per = 2 * acopf_rate_a(m, p, k) / (S * S);
            pt->lam[L->g_sf + b->rated_row] = r->mu_sf[k] / per;
            pt->lam[L->g_st + b->rated_row] = r->mu_st[k] / per;
        }
        fold_int row = m->branch_angle[k];
        if (row >= 0) { /* parallel branches: the row carries the sum, in its orientation */
            double s = m->cs.branch[k].f == m->cs.branch[m->angle[row]].f ? 1 : -1;
            pt->lam[L->g_ang + row] += s * (r->mu_angmax[k] - r->mu_angmin[k]) / DEG;
        }
        if (b->flow >= 0) { /* rows (8): nu_e = -2 mu_end h_e (doc/acopf.md eq. 10) */
            for (int e = 0; e < 4; e++) {
                double mu = pt->lam[(e < 2 ? L->g_sf : L->g_st) + b->rated_row];
                pt->lam[L->g_flow + 4 * b->flow + e] = -2 * mu * pt->x[L->x_fl + 4 * b->flow + e];
            }
        }
    }
    for (fold_int k = 0; k < m->cs.n_gen; k++)
        if (m->cs.gen[k].pwl) complete &= pwl_duals(m, k, pt->x, pt);
    fixed_duals(m, p, pt);
    return complete;
}

/* ---- polish: a warm re-solve that must keep the active set ---- */

/* Is a side with multiplier mu at distance d from its limit b held? At the limit (primal_tol),
 * or with a significant multiplier (above 1e-6 of the largest) whose complementarity
 * mu d / (1 + max(mu, d)) (doc/math.md eq. 2.9) is below 1e-6: an interior-point solution
 * keeps a weakly held limit at d = barrier / mu, a point merely near a limit has mu d large. */
static bool held(double d, double b, double mu, double ptol, double dtol)
{
    if (d <= ptol * (1 + fabs(b))) return true;
    return mu > dtol && mu * d / (1 + fmax(mu, d)) <= 1e-6;
}

/* The sides held at the point: one flag per variable side (2 n) and inequality side (2 m). */
static void held_sides(const fold_acopf *m, const point *pt, const double *g,
                       const double *const bd[4], double ptol, unsigned char *out)
{
    const fold_acopf_layout *L = &m->L;
    double big = 1;
    for (fold_int j = 0; j < L->n; j++)
        big = fmax(big, fmax(fabs(pt->zl[j]), fabs(pt->zu[j])));
    for (fold_int i = 0; i < L->m; i++)
        big = fmax(big, fabs(pt->lam[i]));
    double dtol = 1e-6 * big;
    for (fold_int j = 0; j < L->n; j++) {
        double lo = bd[0][j], hi = bd[1][j];
        out[2 * j] =
            lo > -FOLD_INF_BOUND && lo != hi && held(pt->x[j] - lo, lo, pt->zl[j], ptol, dtol);
        out[2 * j + 1] =
            hi < FOLD_INF_BOUND && lo != hi && held(hi - pt->x[j], hi, pt->zu[j], ptol, dtol);
    }
    unsigned char *oc = out + 2 * L->n;
    for (fold_int i = 0; i < L->m; i++) {
        double lo = bd[2][i], hi = bd[3][i];
        oc[2 * i] =
            lo > -FOLD_INF_BOUND && lo != hi && held(g[i] - lo, lo, -pt->lam[i], ptol, dtol);
        oc[2 * i + 1] =
            hi < FOLD_INF_BOUND && lo != hi && held(hi - g[i], hi, pt->lam[i], ptol, dtol);
    }
}

/* "gen 3 (bus 2) pg upper held at the imported point, free after the re-solve; ..." for the
 * sides whose flags differ (at most 4 named). Returns the count. */
static fold_int describe_changes(const fold_acopf *m, const unsigned char *a,
                                 const unsigned char *b, char *buf, size_t len)
{
    fold_int n2 = 2 * (m->L.n + m->L.m), count = 0;
    buf[0] = '\0';
    for (fold_int s = 0; s < n2; s++) {
        if (a[s] == b[s]) continue;
        if (count++ >= 4) continue;
        bool var = s < 2 * m->L.n;
        fold_int idx = (var ? s : s - 2 * m->L.n) / 2;
        char name[FOLD_NAME_MAX];
        fold_problem_item_name(m->prob, var ? FOLD_ITEM_VARIABLE : FOLD_ITEM_CONSTRAINT, idx, name,
                               sizeof name);
        size_t at = strlen(buf);
        snprintf(buf + at, len - at, "%s%s %s %s at the imported point, %s after the re-solve",
                 count > 1 ? "; " : "", name, s % 2 ? "upper" : "lower", a[s] ? "held" : "free",
                 b[s] ? "held" : "free");
    }
    if (count > 4) {
        size_t at = strlen(buf);
        snprintf(buf + at, len - at, "; and %ld more", (long)(count - 4));
    }
    return count;
}

static fold_status read_point(const fold_solver *sv, const fold_acopf *m, const double *p,
                              point *pt, double *g)
{
    fold_status st = fold_solver_solution(sv, pt->x, pt->lam, pt->zl, pt->zu, NULL);
    if (st == FOLD_OK) acopf_cb_g(pt->x, p, g, (void *)m);
    return st;
}

/* Re-solve warm from the imported solution and keep the result when it holds the same
 * limits (else FOLD_ERR_NOT_KKT naming the first changes, the imported solution kept). */
static fold_status polish(const fold_acopf *m, fold_solver *sv, const double *p,
                          fold_forward_info *fi, fold_acopf_import_info *ii)
{
    const fold_acopf_layout *L = &m->L;
    point a = {0}, b = {0};
    double *g = malloc((3 * (size_t)L->m + 2 * (size_t)L->n + 1) * sizeof(double));
    unsigned char *held = calloc(4 * ((size_t)L->n + (size_t)L->m) + 1, 1);
    fold_settings saved = *fold_solver_settings(sv), warm;
    fold_status st = FOLD_ERR_MEMORY;
    if (!g || !held || !point_alloc(m, &a) || !point_alloc(m, &b)) {
        st = acopf_error(st, "fold_acopf_import: out of memory (polish)");
        goto done;
    }
    if ((st = read_point(sv, m, p, &a, g)) != FOLD_OK) goto done;
    double *xl = g + L->m, *xu = xl + L->n, *gl = xu + L->n, *gu = gl + L->m;
    const double *const bd[4] = {xl, xu, gl, gu}; /* the bounds at p */
    fold_problem_bounds(m->prob, p, xl, xu, gl, gu);
    unsigned char *ha = held, *hb = held + 2 * (L->n + L->m);
    held_sides(m, &a, g, bd, saved.active_set.primal_tol, ha);
    acopf_warm_settings(&saved, 0, &warm);
    bool mu_added = false;
    if ((st = fold_solver_update_settings(sv, &warm)) != FOLD_OK ||
        (st = acopf_warm_options(sv, sv, &mu_added)) != FOLD_OK ||
        (st = fold_solver_set_start(sv, a.x, a.lam, a.zl, a.zu)) != FOLD_OK) {
        st = acopf_error_from_lib(st, "fold_acopf_import: polish");
        fold_solver_update_settings(sv, &saved);
        if (mu_added) fold_solver_set_ipopt_option(sv, "mu_init", NULL);
        goto done;
    }
    fold_forward_info pf = FOLD_FORWARD_INFO_INIT;
    st = fold_solve(sv, p, &pf);
    /* the polished point is compared, and later differentiated, as fold_solve tightens it under
     * these settings and options */
    if (st == FOLD_OK) st = fold_solve_finish(sv, &pf);
    fold_solver_update_settings(sv, &saved);
    if (mu_added) fold_solver_set_ipopt_option(sv, "mu_init", NULL);
    ii->polish_iterations = pf.iterations;
    if (st < 0) {
        st = acopf_error_from_lib(st, "fold_acopf_import: polish: the warm re-solve failed");
        goto restore;
    }
    if ((st = read_point(sv, m, p, &b, g)) != FOLD_OK) goto restore;
    held_sides(m, &b, g, bd, saved.active_set.primal_tol, hb);
    char what[1400];
    if (describe_changes(m, ha, hb, what, sizeof what) > 0) {
        st = acopf_error(FOLD_ERR_NOT_KKT,
                         "fold_acopf_import: polish changed the active set "
                         "(%s): the imported point is not the solution foldopt finds nearby",
                         what);
        goto restore;
    }
    ii->polished = true;
    *fi = pf;
    st = FOLD_OK;
    goto done;
restore : { /* the imported solution stays the stored one; the reason stays the detail */
    char why[4096];
    snprintf(why, sizeof why, "%s", fold_last_error());
    fold_solver_import(
        sv, &(fold_import_point){.p = p, .x = a.x, .lam = a.lam, .zl = a.zl, .zu = a.zu}, NULL);
    fold_set_error(st, "%s", why);
}
done:
    free(g);
    free(held);
    free(a.x);
    free(b.x);
    return st;
}

void fold_acopf_default_import_options(fold_acopf_import_options *opt)
{
    opt->kkt_tol = FOLD_ACOPF_IMPORT_KKT_TOL;
    opt->polish = false;
}

/* The import itself, with the solver's forward.kkt_tol set to the import's. */
static fold_status import(const fold_acopf *m, fold_solver *sv, const double *p,
                          const fold_acopf_results *sol, bool want_polish, fold_forward_info *info,
                          fold_acopf_import_info *ii);

fold_status fold_acopf_import(const fold_acopf *m, fold_solver *sv, const double *p,
                              const fold_acopf_results *sol, const fold_acopf_import_options *opt,
                              fold_forward_info *info, fold_acopf_import_info *ii)
{
    fold_clear_error();
    static const char *FN = "fold_acopf_import";
    fold_acopf_import_options defaults;
    fold_forward_info fi = FOLD_FORWARD_INFO_INIT;
    fold_acopf_import_info full = FOLD_ACOPF_IMPORT_INFO_INIT;
    fold_status st;
    if ((st = fold_sized_open(info, &fi, sizeof fi, FOLD_FORWARD_INFO_V1, "fold_forward_info",
                              "FOLD_FORWARD_INFO_INIT")) < 0 ||
        (st = fold_sized_open(ii, &full, sizeof full, FOLD_ACOPF_IMPORT_INFO_V1,
                              "fold_acopf_import_info", "FOLD_ACOPF_IMPORT_INFO_INIT")) < 0)
        return st;
    fold_acopf_default_import_options(&defaults);
    if (!opt) opt = &defaults;
    acopf_info_not_run(&fi); /* defined on every path, as by fold_acopf_solve */
    full = (fold_acopf_import_info){.size = sizeof full};
    full.given_stationarity = full.given_feasibility = full.given_complementarity = NAN;
    if (!m || !sv || !sol)
        st = acopf_error(FOLD_ERR_ARGUMENT, "%s: an argument is NULL", FN);
    else if (!(opt->kkt_tol > 0) || !isfinite(opt->kkt_tol))
        st = acopf_error(FOLD_ERR_ARGUMENT, "%s: kkt_tol = %g, need > 0", FN, opt->kkt_tol);
    else {
        fold_settings saved = *fold_solver_settings(sv), set = saved;
        set.forward.kkt_tol = opt->kkt_tol;
        st = fold_solver_update_settings(sv, &set);
        if (st != FOLD_OK)
            st = acopf_error_from_lib(st, FN);
        else
            st = import(m, sv, p, sol, opt->polish, &fi, &full);
        fold_solver_update_settings(sv, &saved);
    }
    fold_sized_close(info, &fi, sizeof fi);
    fold_sized_close(ii, &full, sizeof full);
    return st;
}

static fold_status import(const fold_acopf *m, fold_solver *sv, const double *p,
                          const fold_acopf_results *sol, bool want_polish, fold_forward_info *info,
                          fold_acopf_import_info *ii)
{
    static const char *FN = "fold_acopf_import";
    fold_forward_info fi = FOLD_FORWARD_INFO_INIT;
    point pt = {0};
    if (fold_solver_problem(sv) != m->prob || sol->n_bus != m->cs.n_bus ||
        sol->n_gen != m->cs.n_gen || sol->n_branch != m->cs.n_branch)
        return acopf_error(FOLD_ERR_ARGUMENT,
                           "%s: the solver or the solution is not of this "
                           "model",
                           FN);
    if (!p) p = m->p0;
    if (!point_alloc(m, &pt)) return acopf_error(FOLD_ERR_MEMORY, "%s: out of memory", FN);
    primal(m, p, sol, pt.x, &ii->angle_shift_deg);
    fold_status st = FOLD_ERR_NOT_KKT;
    char given_msg[1200] = "";
    if (sol->has_duals && duals(m, p, sol, &pt)) {
        ii->duals_given = true;
        st = fold_solver_import(
            sv, &(fold_import_point){.p = p, .x = pt.x, .lam = pt.lam, .zl = pt.zl, .zu = pt.zu},
            &fi);
        ii->given_stationarity = fi.kkt_stationarity;
        ii->given_feasibility = fi.kkt_feasibility;
        ii->given_complementarity = fi.kkt_complementarity;
        if (st != FOLD_OK) snprintf(given_msg, sizeof given_msg, "%s", fold_last_error());
    }
    if (st == FOLD_ERR_NOT_KKT) { /* missing or inconsistent: least squares (math.md §2.4) */
        ii->duals_recovered = true;
        st = fold_solver_import(sv, &(fold_import_point){.p = p, .x = pt.x}, &fi);
    }
    if (st != FOLD_OK) {
        if (given_msg[0])
            st = acopf_error(st,
                             "%s: with the given multipliers: %s; with multipliers estimated "
                             "by least squares: %s",
                             FN, given_msg, fold_last_error());
        else
            st = acopf_error_from_lib(st, FN);
    } else if (want_polish) {
        st = polish(m, sv, p, &fi, ii);
    }
    if (info) *info = fi;
    free(pt.x);
    return st;
}
