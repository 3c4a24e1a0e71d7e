/* Branch flows of the polar AC-OPF (doc/acopf.md eq. 3-4): the coefficients (a, c, s) of
 * each flow from the branch's parameters r, x, b, tap, shift (of p), their derivatives
 * with respect to those parameters (eq. 12), and the flows with their voltage gradients and
 * Hessians. A flow is linear in its coefficients, so evaluating it with the derivative of
 * the coefficients gives the derivative of the flow, its gradient and Hessian (§7). */
#include "acopf/acopf_internal.h"

/* The four flows' coefficients from the series admittance g + jb, the half charging bc and
 * the complex tap (tr + j ti, tm = |tap|^2), eq. 3. Linear in (g, b, bc) for a fixed tap and
 * in (tr, ti) for fixed (g, b, bc, tm). */
static void coefficients(double g, double bb, double bc, double tr, double ti, double tm,
                         acopf_coef *o)
{
    o->a[0] = g / tm;
    o->c[0] = (-g * tr + bb * ti) / tm;
    o->s[0] = (-bb * tr - g * ti) / tm;
    o->a[1] = -(bb + bc) / tm;
    o->c[1] = (bb * tr + g * ti) / tm;
    o->s[1] = (-g * tr + bb * ti) / tm;
    o->a[2] = g;
    o->c[2] = (-g * tr - bb * ti) / tm;
    o->s[2] = (bb * tr - g * ti) / tm;
    o->a[3] = -(bb + bc);
    o->c[3] = (bb * tr - g * ti) / tm;
    o->s[3] = (g * tr + bb * ti) / tm;
}

/* Branch k's parameters at p. */
typedef struct branch_par {
    double r, x, b, tap, shift; /* p.u., ratio, radians */
    double tr, ti, tm, z2;
} branch_par;

static void branch_params(const fold_acopf *m, const double *p, fold_int k, branch_par *bp)
{
    const fold_acopf_layout *L = &m->L;
    bp->r = p[L->p_r + k];
    bp->x = p[L->p_x + k];
    bp->b = p[L->p_b + k];
    bp->tap = p[L->p_tap + k];
    bp->shift = p[L->p_shift + k] * DEG;
    /* no trigonometry for the common unshifted branch */
    bp->tr = bp->shift == 0 ? bp->tap : bp->tap * cos(bp->shift);
    bp->ti = bp->shift == 0 ? 0 : bp->tap * sin(bp->shift);
    bp->tm = bp->tap * bp->tap;
    bp->z2 = bp->r * bp->r + bp->x * bp->x;
}

void acopf_branch_coefficients(const fold_acopf_branch *in, acopf_coef *out)
{
    double z2 = in->r * in->r + in->x * in->x, sh = in->shift_deg * DEG;
    coefficients(in->r / z2, -in->x / z2, in->b / 2, in->tap * cos(sh), in->tap * sin(sh),
                 in->tap * in->tap, out);
}

void acopf_branch_coef(const fold_acopf *m, const double *p, fold_int k, acopf_coef *out)
{
    branch_par bp;
    branch_params(m, p, k, &bp);
    coefficients(bp.r / bp.z2, -bp.x / bp.z2, bp.b / 2, bp.tr, bp.ti, bp.tm, out);
}

void acopf_branch_coef_d(const fold_acopf *m, const double *p, fold_int k, int which,
                         acopf_coef *out)
{
    branch_par bp;
    branch_params(m, p, k, &bp);
    double z4 = bp.z2 * bp.z2, g = bp.r / bp.z2, bb = -bp.x / bp.z2;
    switch (which) {
    case ACOPF_BR_R: /* g = r / z^2, b = -x / z^2 */
        coefficients((bp.x * bp.x - bp.r * bp.r) / z4, 2 * bp.r * bp.x / z4, 0, bp.tr, bp.ti, bp.tm,
                     out);
        return;
    case ACOPF_BR_X:
        coefficients(-2 * bp.r * bp.x / z4, (bp.x * bp.x - bp.r * bp.r) / z4, 0, bp.tr, bp.ti,
                     bp.tm, out);
        return;
    case ACOPF_BR_B: /* bc = b / 2 enters a[1], a[3] only */
        coefficients(0, 0, 0.5, bp.tr, bp.ti, bp.tm, out);
        return;
    case ACOPF_BR_TAP: /* a[0], a[1] ~ 1/tap^2, every c, s ~ 1/tap */
        coefficients(g, bb, bp.b / 2, bp.tr, bp.ti, bp.tm, out);
        for (int e = 0; e < 4; e++) {
            out->a[e] *= e < 2 ? -2 / bp.tap : 0;
            out->c[e] *= -1 / bp.tap;
            out->s[e] *= -1 / bp.tap;
        }
        return;
    default: /* shift: d(tr, ti)/d phi = (-ti, tr), per degree; the a do not depend on it */
        coefficients(g, bb, bp.b / 2, -bp.ti * DEG, bp.tr * DEG, bp.tm, out);
        for (int e = 0; e < 4; e++)
            out->a[e] = 0;
        return;
    }
}

void acopf_flow_eval(const acopf_branch_data *b, const acopf_coef *cf, const fold_acopf *m,
                     const double *x, bool second, acopf_flow *out)
{
    const fold_acopf_layout *L = &m->L;
    double vf = x[L->x_vm + b->f], vt = x[L->x_vm + b->t];
    double d = x[L->x_va + b->f] - x[L->x_va + b->t];
    double cd = cos(d), sd = sin(d), vv = vf * vt;
    for (int k = 0; k < 4; k++) {
        bool from = k < 2;
        double ve = from ? vf : vt, a = cf->a[k];
        double T = cf->c[k] * cd + cf->s[k] * sd, Tp = -cf->c[k] * sd + cf->s[k] * cd;
        out->v[k] = a * ve * ve + vv * T;
        out->d[k][0] = vv * Tp;
        out->d[k][1] = -vv * Tp;
        out->d[k][2] = (from ? 2 * a * vf : 0) + vt * T;
        out->d[k][3] = (from ? 0 : 2 * a * vt) + vf * T;
        if (!second) continue;
        double *h = out->h[k];
        h[0] = -vv * T;
        h[1] = vv * T;
        h[2] = -vv * T;
        h[3] = vt * Tp;
        h[4] = -vt * Tp;
        h[5] = from ? 2 * a : 0;
        h[6] = vf * Tp;
        h[7] = -vf * Tp;
        h[8] = T;
        h[9] = from ? 0 : 2 * a;
    }
}

void acopf_flow_at(const fold_acopf *m, const double *p, fold_int k, const double *x, bool second,
                   acopf_flow *out)
{
    acopf_coef cf;
    acopf_branch_coef(m, p, k, &cf);
    acopf_flow_eval(&m->br[k], &cf, m, x, second, out);
}

double acopf_rate_a(const fold_acopf *m, const double *p, fold_int k)
{
    return p[m->L.p_rate + k];
}
