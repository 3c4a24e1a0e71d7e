/* The sides of the constraints and bounds at a primal-dual point, classified from the
 * accuracy the point reached (doc/math.md §3.2): active, inactive, weakly active (slack and
 * multiplier both zero at that accuracy) or ambiguous (both nonzero, and neither decides).
 * Used by fold_solve to decide whether to tighten (forward/resolve.c) and by the fold's
 * classification (src/fold/kkt_classify.c). */
#ifndef FOLD_SIDES_H
#define FOLD_SIDES_H

#include "forward/solver_internal.h"

/* State of one side. */
enum {
    FOLD_SIDE_NA = -1,      /* no side: infinite bound, equality row or fixed variable */
    FOLD_SIDE_INACTIVE = 0, /* multiplier zero at the accuracy, or far below the crossover */
    FOLD_SIDE_ACTIVE = 1,   /* slack zero at the accuracy, or far above the crossover */
    FOLD_SIDE_WEAK = 2,     /* slack and multiplier both zero at the accuracy */
    FOLD_SIDE_AMBIGUOUS = 3 /* both nonzero and within FOLD_SIDE_BAND of the crossover */
};

/* Half-width of the ambiguous band in decades of Sigma / h (eq. 3.4). */
#define FOLD_SIDE_BAND 4.0
/* The accuracy floors are this many times the residuals reached (eq. 3.3). */
#define FOLD_SIDE_FLOOR 10.0

/* Side numbering: variable j lower/upper = 2j, 2j+1; constraint i = 2n + 2i, 2n + 2i + 1. */
static inline fold_int fold_side_of_var(fold_int j, int upper)
{
    return 2 * j + (upper ? 1 : 0);
}
static inline fold_int fold_side_of_con(fold_int n, fold_int i, int upper)
{
    return 2 * n + 2 * i + (upper ? 1 : 0);
}

typedef struct fold_sides {
    fold_int n, m, count;   /* count = 2 (n + m) */
    signed char *state;     /* FOLD_SIDE_* per side */
    double *dist, *mult;    /* distance to the bound (clipped at 0) and multiplier (>= 0) */
    double *logr;           /* log10(Sigma / h) (eq. 3.4): > 0 leans active; +-inf at 0 */
    unsigned char *suspect; /* decided by a verdict against its stiffness (set_side) */
    double eps_p;           /* slack floor in x units (eq. 3.3) */
    double mu;              /* complementarity level: median multiplier x distance */
    fold_int n_active, n_weak, n_ambiguous, n_suspect;
    fold_int n_hess_products; /* hess_l_v calls of the evaluation (FOLD_HESS_PRODUCT) */
} fold_sides;

/* Classify every side at (x, lam, zl, zu; p) (doc/math.md eqs. 3.3-3.5). verdict (count
 * entries, may be NULL): +1 / -1 where a re-solve showed a side active / inactive
 * (forward/resolve.c); it decides sides that are weak or ambiguous at this point. Allocates
 * S's arrays (fold_sides_free). */
fold_status fold_sides_eval(const fold_problem *prob, const double *p, const double *x,
                            const double *lam, const double *zl, const double *zu,
                            const signed char *verdict, fold_sides *S);
void fold_sides_free(fold_sides *S);
/* A copy of from's arrays and counts into *to (FOLD_ERR_MEMORY: *to empty). */
fold_status fold_sides_copy(const fold_sides *from, fold_sides *to);

/* Is side s a candidate for both classifications (weak or ambiguous)? */
static inline bool fold_side_undecided(const fold_sides *S, fold_int s)
{
    return S->state[s] == FOLD_SIDE_WEAK || S->state[s] == FOLD_SIDE_AMBIGUOUS;
}

#endif
