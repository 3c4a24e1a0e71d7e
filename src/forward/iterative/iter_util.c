/* Small vector helpers of the built-in iterative methods and fold maps. */
#include "forward/iterative/iter_internal.h"

void fold_iter_axpy(fold_int n, double a, const double *x, double *y)
{
    for (fold_int i = 0; i < n; i++)
        y[i] += a * x[i];
}
