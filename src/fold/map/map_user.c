/* Maps defined by the user: derivative-product callbacks, explicit matrices I - Phi and Psi,
 * or only the update U with finite-difference products (forward mode only; error bounds in
 * doc/iterative.md §3). */
#include "fold/map/map_internal.h"
#include "forward/iterative/iter_internal.h"

typedef struct user_map {
    fold_map_def def; /* callbacks and options; pointers into caller memory are not kept */
    fold_map *map;
    double *z, *p, *u0;        /* fixed point, parameters, U(z, p) (forward differences) */
    double *zt, *pt, *up, *um; /* work */
} user_map;

static const char *FN = "fold_map_create";

static double inf_norm(const double *v, fold_int n)
{
    double m = 0;
    for (fold_int i = 0; i < n; i++)
        m = fmax(m, fabs(v[i]));
    return m;
}

/* out = (U(z + h v, p + h dp) - U(z - h v, p - h dp)) / 2h, or the forward difference; h
 * relative to the size of the point and of the direction (doc/iterative.md eq. (3.1)). */
static fold_status cb(const user_map *u, const char *what, int rc)
{
    if (rc != 0)
        return fold_error(FOLD_ERR_CALLBACK, "map '%s': callback %s returned %d", u->map->name,
                          what, rc);
    return FOLD_OK;
}

static fold_status fd_product(user_map *u, const double *v, const double *dp, double *out)
{
    fold_int nz = u->def.nz, np = u->def.np;
    bool central = u->def.fd_scheme == FOLD_FD_CENTRAL;
    double rel = u->def.fd_step > 0 ? u->def.fd_step : (central ? 6.055454e-6 : 1.490116e-8);
    double dnorm = v ? inf_norm(v, nz) : inf_norm(dp, np);
    double xnorm = v ? inf_norm(u->z, nz) : inf_norm(u->p, np), h;
    int rc;
    if (dnorm == 0) {
        memset(out, 0, (size_t)nz * sizeof *out);
        return FOLD_OK;
    }
    h = rel * fmax(1.0, xnorm) / dnorm;
    for (int side = 0; side < (central ? 2 : 1); side++) {
        double sgn = side == 0 ? 1.0 : -1.0;
        memcpy(u->zt, u->z, (size_t)nz * sizeof(double));
        if (np > 0) memcpy(u->pt, u->p, (size_t)np * sizeof(double));
        if (v)
            fold_iter_axpy(nz, sgn * h, v, u->zt);
        else
            fold_iter_axpy(np, sgn * h, dp, u->pt);
        rc = u->def.update(u->zt, u->pt, side == 0 ? u->up : u->um, u->def.user_data);
        if (rc) return cb(u, "update", rc);
    }
    for (fold_int i = 0; i < nz; i++)
        out[i] = central ? (u->up[i] - u->um[i]) / (2 * h) : (u->up[i] - u->u0[i]) / h;
    return FOLD_OK;
}

static fold_status user_phi(void *impl, bool transpose, const double *v, double *out)
{
    user_map *u = impl;
    const fold_map_def *d = &u->def;
    fold_map_vec_fn f = transpose ? d->phit_v : d->phi_v, g = transpose ? d->phi_v : d->phit_v;
    if (f) return cb(u, transpose ? "phit_v" : "phi_v", f(v, out, d->user_data));
    if (d->is_symmetric && g) return cb(u, transpose ? "phi_v" : "phit_v", g(v, out, d->user_data));
    if (u->map->A) { /* Phi v = v - (I - Phi) v */
        fold_la_spmv(u->map->A, transpose, v, out, false);
        for (fold_int i = 0; i < d->nz; i++)
            out[i] = v[i] - out[i];
        return FOLD_OK;
    }
    return fd_product(u, v, NULL, out); /* forward only: has_phit is false for FD maps */
}

static fold_status user_psi(void *impl, const double *dp, double *out)
{
    user_map *u = impl;
    if (u->def.psi_v) return cb(u, "psi_v", u->def.psi_v(dp, out, u->def.user_data));
    if (u->map->Psi) {
        fold_la_spmv(u->map->Psi, false, dp, out, false);
        return FOLD_OK;
    }
    return fd_product(u, NULL, dp, out);
}

static fold_status user_psit(void *impl, const double *w, double *out)
{
    user_map *u = impl;
    if (u->def.psit_v) return cb(u, "psit_v", u->def.psit_v(w, out, u->def.user_data));
    fold_la_spmv(u->map->Psi, true, w, out, false);
    return FOLD_OK;
}

static fold_status user_diag(void *impl, double *out)
{
    user_map *u = impl;
    return cb(u, "diag_phi", u->def.diag_phi(out, u->def.user_data));
}

static void user_free(void *impl)
{
    user_map *u = impl;
    if (!u) return;
    free(u->z);
    free(u->p);
    free(u->u0);
    free(u->zt);
    free(u->pt);
    free(u->up);
    free(u->um);
    free(u);
}

static const fold_map_ops user_ops = {"user", user_phi, user_psi, user_psit, user_diag, user_free};

static fold_status validate(const fold_map_def *d)
{
    fold_status st;
    if (d->nz < 1 || d->np < 0)
        return fold_error(FOLD_ERR_DIMENSION, "%s: nz = %lld, np = %lld (need nz >= 1, np >= 0)",
                          FN, (long long)d->nz, (long long)d->np);
    if (!d->phi_v && !d->phit_v && !d->a_matrix && !d->update)
        return fold_error(FOLD_ERR_ARGUMENT,
                          "%s: no way to compute Phi products: give phi_v, "
                          "phit_v, a_matrix or update",
                          FN);
    if (d->np > 0 && !d->psi_v && !d->psit_v && !d->psi_matrix && !d->update)
        return fold_error(FOLD_ERR_ARGUMENT,
                          "%s: no way to compute Psi products: give psi_v, "
                          "psit_v, psi_matrix or update",
                          FN);
    if (d->update && (!d->z || (d->np > 0 && !d->p)))
        return fold_error(FOLD_ERR_ARGUMENT,
                          "%s: finite differences of update need the fixed "
                          "point z%s",
                          FN, d->np > 0 ? " and the parameters p" : "");
    if (d->z && (st = fold_check_finite(d->z, d->nz, FN, "z")) < 0) return st;
    if (d->p && (st = fold_check_finite(d->p, d->np, FN, "p")) < 0) return st;
    if (d->a_matrix && (d->a_matrix->nrow != d->nz || d->a_matrix->ncol != d->nz))
        return fold_error(FOLD_ERR_DIMENSION, "%s: a_matrix is %lld x %lld, need %lld x %lld", FN,
                          (long long)d->a_matrix->nrow, (long long)d->a_matrix->ncol,
                          (long long)d->nz, (long long)d->nz);
    if (d->psi_matrix && (d->psi_matrix->nrow != d->nz || d->psi_matrix->ncol != d->np))
        return fold_error(FOLD_ERR_DIMENSION, "%s: psi_matrix is %lld x %lld, need %lld x %lld", FN,
                          (long long)d->psi_matrix->nrow, (long long)d->psi_matrix->ncol,
                          (long long)d->nz, (long long)d->np);
    if (d->fd_scheme != FOLD_FD_CENTRAL && d->fd_scheme != FOLD_FD_FORWARD)
        return fold_error(FOLD_ERR_ARGUMENT, "%s: fd_scheme = %d (need 0 central or 1 forward)", FN,
                          d->fd_scheme);
    if (!(d->fd_step >= 0 && d->fd_step < 1))
        return fold_error(FOLD_ERR_ARGUMENT, "%s: fd_step = %g outside [0, 1)", FN, d->fd_step);
    if (d->n_blocks < 0 || (d->n_blocks > 0 && !d->block_ptr))
        return fold_error(FOLD_ERR_ARGUMENT, "%s: n_blocks = %lld needs block_ptr", FN,
                          (long long)d->n_blocks);
    if (d->n_blocks > 0) {
        if (d->block_ptr[0] != 0 || d->block_ptr[d->n_blocks] != d->nz)
            return fold_error(FOLD_ERR_ARGUMENT,
                              "%s: block_ptr must start at 0 and end at nz = "
                              "%lld",
                              FN, (long long)d->nz);
        for (fold_int k = 0; k < d->n_blocks; k++)
            if (d->block_ptr[k + 1] <= d->block_ptr[k])
                return fold_error(FOLD_ERR_ARGUMENT,
                                  "%s: block_ptr[%lld] = %lld is not above "
                                  "block_ptr[%lld] = %lld",
                                  FN, (long long)(k + 1), (long long)d->block_ptr[k + 1],
                                  (long long)k, (long long)d->block_ptr[k]);
    }
    return FOLD_OK;
}

fold_status fold_map_create(const fold_map_def *def, fold_map **out)
{
    fold_clear_error();
    fold_status st;
    user_map *u;
    fold_map *map = NULL;
    if ((st = fold_check_not_null(def, FN, "def")) < 0 ||
        (st = fold_check_not_null(out, FN, "out")) < 0 || (st = validate(def)) < 0)
        return st;
    if (!(u = fold_calloc(1, sizeof *u, "user map"))) return FOLD_ERR_MEMORY;
    u->def = *def;
    u->def.a_matrix = u->def.psi_matrix = NULL;
    u->def.z = u->def.p = NULL;
    u->def.block_ptr = NULL;
    u->z = fold_dup_doubles(def->z, def->nz, "map z");
    u->p = fold_dup_doubles(def->p, def->np, "map p");
    if ((def->z && !u->z) || (def->p && def->np > 0 && !u->p)) {
        user_free(u);
        return FOLD_ERR_MEMORY;
    }
    if ((st = fold_map_create_kind(FN, def->name, def->nz, def->np, def->is_symmetric, &user_ops, u,
                                   &map)) < 0)
        return st;
    u->map = map;
    if ((def->a_matrix &&
         (st = fold_la_sparse_from_csc(def->a_matrix, FN, "a_matrix", &map->cm, &map->A)) < 0) ||
        (def->psi_matrix && (st = fold_la_sparse_from_csc(def->psi_matrix, FN, "psi_matrix",
                                                          &map->cm, &map->Psi)) < 0))
        goto fail;
    if (def->n_blocks > 0) {
        map->n_blocks = def->n_blocks;
        if (!(map->block_ptr = fold_dup_ints(def->block_ptr, def->n_blocks + 1, "block_ptr"))) {
            st = FOLD_ERR_MEMORY;
            goto fail;
        }
    }
    map->has_phi = def->phi_v || (def->is_symmetric && def->phit_v) || def->a_matrix || def->update;
    map->has_phit = def->phit_v || (def->is_symmetric && def->phi_v) || def->a_matrix;
    map->has_psi = def->np == 0 || def->psi_v || def->psi_matrix || def->update;
    map->has_psit = def->np == 0 || def->psit_v || def->psi_matrix;
    map->has_diag = def->diag_phi != NULL;
    map->is_fd =
        def->update && (!(def->phi_v || (def->is_symmetric && def->phit_v) || def->a_matrix) ||
                        !(def->psi_v || def->psi_matrix));
    if (def->update) {
        fold_int nz = def->nz, np = def->np;
        u->zt = fold_malloc((size_t)nz, sizeof(double), "FD work");
        u->pt = fold_malloc((size_t)np, sizeof(double), "FD work");
        u->up = fold_malloc((size_t)nz, sizeof(double), "FD work");
        u->um = fold_malloc((size_t)nz, sizeof(double), "FD work");
        u->u0 = fold_malloc((size_t)nz, sizeof(double), "FD work");
        if (!u->zt || !u->pt || !u->up || !u->um || !u->u0) {
            st = FOLD_ERR_MEMORY;
            goto fail;
        }
        if (def->fd_scheme == FOLD_FD_FORWARD) {
            int rc = def->update(u->z, u->p, u->u0, def->user_data);
            if (rc || fold_check_finite(u->u0, nz, FN, "update(z, p)") < 0) {
                st = rc ? fold_error(FOLD_ERR_CALLBACK, "%s: update returned %d", FN, rc)
                        : FOLD_ERR_NONFINITE;
                goto fail;
            }
        }
    }
    *out = map;
    return FOLD_OK;
fail:
    fold_map_free(map);
    return st;
}
