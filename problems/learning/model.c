/* Models that predict a layer's input from features: linear, one hidden ReLU layer, or a
 * constant parameter vector (doc/learning.md §3). Parameters in one flat vector w. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "learning/learning.h"

/* Layout of w: linear [W (n_out x n_in) | b (n_out)];
 * mlp [W1 (h x n_in) | b1 (h) | W2 (n_out x h) | b2 (n_out)]; const [q (n_out)]. */
fold_status learn_model_create(int kind, fold_int n_in, fold_int n_hidden, fold_int n_out,
                               learn_rng *rng, learn_model **out)
{
    fold_clear_error();
    learn_model *m;
    fold_int nw;
    if (!out) return learn_error(FOLD_ERR_ARGUMENT, "learn_model_create: out is NULL");
    *out = NULL;
    if (n_out < 1 || n_in < 0 || (kind == LEARN_MODEL_MLP && n_hidden < 1))
        return learn_error(FOLD_ERR_DIMENSION,
                           "learn_model_create: n_in = %lld, n_hidden = "
                           "%lld, n_out = %lld",
                           (long long)n_in, (long long)n_hidden, (long long)n_out);
    if (kind == LEARN_MODEL_LINEAR)
        nw = n_out * (n_in + 1);
    else if (kind == LEARN_MODEL_MLP)
        nw = n_hidden * (n_in + 1) + n_out * (n_hidden + 1);
    else if (kind == LEARN_MODEL_CONST)
        nw = n_out;
    else
        return learn_error(FOLD_ERR_ARGUMENT, "learn_model_create: kind = %d unknown", kind);
    m = calloc(1, sizeof *m);
    if (!m || !(m->w = calloc((size_t)nw, sizeof(double)))) {
        free(m);
        return learn_error(FOLD_ERR_MEMORY, "learn_model_create: %lld parameters", (long long)nw);
    }
    m->kind = kind;
    m->n_in = n_in;
    m->n_hidden = kind == LEARN_MODEL_MLP ? n_hidden : 0;
    m->n_out = n_out;
    m->n_w = nw;
    /* Small random weights (He scaling for the hidden layer), zero biases. */
    if (rng && kind == LEARN_MODEL_LINEAR) {
        for (fold_int i = 0; i < n_out * n_in; i++)
            m->w[i] = 0.01 * learn_normal(rng) / sqrt((double)(n_in > 0 ? n_in : 1));
    } else if (rng && kind == LEARN_MODEL_MLP) {
        double *w2 = m->w + n_hidden * (n_in + 1);
        for (fold_int i = 0; i < n_hidden * n_in; i++)
            m->w[i] = learn_normal(rng) * sqrt(2.0 / (double)(n_in > 0 ? n_in : 1));
        for (fold_int i = 0; i < n_out * n_hidden; i++)
            w2[i] = 0.01 * learn_normal(rng) / sqrt((double)n_hidden);
    }
    *out = m;
    return FOLD_OK;
}

void learn_model_free(learn_model *m)
{
    if (!m) return;
    free(m->w);
    free(m);
}

static void affine(const double *W, const double *b, fold_int rows, fold_int cols, const double *x,
                   double *y)
{
    for (fold_int i = 0; i < rows; i++) {
        double s = b[i];
        for (fold_int j = 0; j < cols; j++)
            s += W[i * cols + j] * x[j];
        y[i] = s;
    }
}

void learn_model_forward(const learn_model *m, const double *z, double *q, double *work)
{
    fold_int ni = m->n_in, nh = m->n_hidden, no = m->n_out;
    if (m->kind == LEARN_MODEL_CONST) {
        memcpy(q, m->w, (size_t)no * sizeof *q);
    } else if (m->kind == LEARN_MODEL_LINEAR) {
        affine(m->w, m->w + no * ni, no, ni, z, q);
    } else {
        const double *w2 = m->w + nh * (ni + 1);
        affine(m->w, m->w + nh * ni, nh, ni, z, work);
        for (fold_int h = 0; h < nh; h++)
            work[h] = work[h] > 0 ? work[h] : 0;
        affine(w2, w2 + no * nh, no, nh, work, q);
    }
}

void learn_model_backward(const learn_model *m, const double *z, const double *qbar,
                          const double *work, double *gw)
{
    fold_int ni = m->n_in, nh = m->n_hidden, no = m->n_out;
    if (m->kind == LEARN_MODEL_CONST) {
        for (fold_int i = 0; i < no; i++)
            gw[i] += qbar[i];
    } else if (m->kind == LEARN_MODEL_LINEAR) {
        for (fold_int i = 0; i < no; i++) {
            for (fold_int j = 0; j < ni; j++)
                gw[i * ni + j] += qbar[i] * z[j];
            gw[no * ni + i] += qbar[i];
        }
    } else {
        const double *w2 = m->w + nh * (ni + 1);
        double *g2 = gw + nh * (ni + 1);
        for (fold_int i = 0; i < no; i++) {
            for (fold_int h = 0; h < nh; h++)
                g2[i * nh + h] += qbar[i] * work[h];
            g2[no * nh + i] += qbar[i];
        }
        for (fold_int h = 0; h < nh; h++) {
            double hb = 0;
            if (work[h] <= 0) continue; /* ReLU inactive: no gradient to the first layer */
            for (fold_int i = 0; i < no; i++)
                hb += w2[i * nh + h] * qbar[i];
            for (fold_int j = 0; j < ni; j++)
                gw[h * ni + j] += hb * z[j];
            gw[nh * ni + h] += hb;
        }
    }
}
