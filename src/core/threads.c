/* The thread pools of the numerical libraries beneath foldopt: OpenBLAS (under MUMPS in
 * Ipopt, UMFPACK and CHOLMOD) and OpenMP where a library uses it. They are looked up at run
 * time, so that foldopt links whatever BLAS the system provides (doc/api/README.md,
 * "Threads"). */
#include <dlfcn.h>

#include "core/core.h"

typedef void (*set_fn)(int);
typedef int (*get_fn)(void);

fold_status fold_set_library_threads(int n)
{
    if (n < 1)
        return fold_error(FOLD_ERR_ARGUMENT, "fold_set_library_threads: n = %d, must be >= 1", n);
    set_fn set_blas = (set_fn)dlsym(RTLD_DEFAULT, "openblas_set_num_threads");
    set_fn set_omp = (set_fn)dlsym(RTLD_DEFAULT, "omp_set_num_threads");
    if (set_blas) set_blas(n);
    if (set_omp) set_omp(n);
    if (!set_blas && !set_omp)
        return fold_error(
            FOLD_ERR_UNSUPPORTED,
            "fold_set_library_threads: no OpenBLAS or OpenMP thread pool in this process");
    return FOLD_OK;
}

int fold_library_threads(void)
{
    get_fn get_blas = (get_fn)dlsym(RTLD_DEFAULT, "openblas_get_num_threads");
    return get_blas ? get_blas() : 0;
}
