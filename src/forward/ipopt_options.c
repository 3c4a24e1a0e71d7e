/* Ipopt's options: the process-wide lock of every Ipopt call, the options foldopt sets, and the
 * users' pass-through options, a property of the solver, checked when they are set.
 * doc/api/solver.md, "Ipopt options". */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <strings.h>

#include "forward/ipopt_internal.h"

static const char *FN = "fold_solve";

/* Ipopt 3.11 with Debian's sequential MUMPS is not thread-safe (MUMPS keeps global state;
 * later Ipopt releases lock around it too): one Ipopt run at a time per process. */
static pthread_mutex_t ipopt_lock = PTHREAD_MUTEX_INITIALIZER;

void fold_ipopt_lock(void)
{
    pthread_mutex_lock(&ipopt_lock);
}

void fold_ipopt_unlock(void)
{
    pthread_mutex_unlock(&ipopt_lock);
}

fold_status fold_ipopt_opt_str(IpoptProblem ip, const char *name, const char *value)
{
    if (!AddIpoptStrOption(ip, (char *)name, (char *)value))
        return fold_error(FOLD_ERR_INTERNAL, "%s: Ipopt refused option %s = %s", FN, name, value);
    return FOLD_OK;
}

fold_status fold_ipopt_opt_int(IpoptProblem ip, const char *name, int value)
{
    if (!AddIpoptIntOption(ip, (char *)name, value))
        return fold_error(FOLD_ERR_INTERNAL, "%s: Ipopt refused option %s = %d", FN, name, value);
    return FOLD_OK;
}

fold_status fold_ipopt_opt_num(IpoptProblem ip, const char *name, double value)
{
    if (!AddIpoptNumOption(ip, (char *)name, value))
        return fold_error(FOLD_ERR_INTERNAL, "%s: Ipopt refused option %s = %g", FN, name, value);
    return FOLD_OK;
}

/* A pass-through option: Ipopt's C interface cannot report an option's type, so try
 * string, then integer, then number (each refusal is silent once the journal is quiet). */
fold_status fold_ipopt_pass_option(IpoptProblem ip, const char *name, const char *value,
                                   const char *fn)
{
    char *end;
    long long iv;
    double dv;
    if (AddIpoptStrOption(ip, (char *)name, (char *)value)) return FOLD_OK;
    errno = 0;
    iv = strtoll(value, &end, 10);
    if (end != value && *end == '\0' && errno == 0 && iv >= INT_MIN && iv <= INT_MAX &&
        AddIpoptIntOption(ip, (char *)name, (int)iv))
        return FOLD_OK;
    errno = 0;
    dv = strtod(value, &end);
    if (end != value && *end == '\0' && errno == 0 && isfinite(dv) &&
        AddIpoptNumOption(ip, (char *)name, dv))
        return FOLD_OK;
    return fold_error(FOLD_ERR_SETTING,
                      "%s: Ipopt rejected option %s = '%s': unknown name, wrong type or value out "
                      "of range",
                      fn, name, value);
}

/* Silence Ipopt before anything else: it applies print_level to its stdout journal only
 * when it initializes, so run that initialization now (IpoptSolve with x = NULL returns
 * right after it): later option refusals, and the banner (sb), then print nothing. An
 * empty option file name keeps Ipopt from reading ./ipopt.opt, which would override
 * foldopt's settings. */
fold_status fold_ipopt_quiet_init(IpoptProblem ip)
{
    fold_status st;
    int rc;
    if ((st = fold_ipopt_opt_int(ip, "print_level", 0)) ||
        (st = fold_ipopt_opt_str(ip, "sb", "yes")) ||
        (st = fold_ipopt_opt_str(ip, "option_file_name", "")))
        return st;
    rc = IpoptSolve(ip, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
    if (rc != Invalid_Problem_Definition)
        return fold_error(FOLD_ERR_INTERNAL, "%s: Ipopt initialization failed (status %d)", FN, rc);
    return FOLD_OK;
}

/* Linear solvers absent from Debian's Ipopt build; some of them call exit() when chosen. */
static const char *refused_linear_solvers[] = {"ma27", "ma57",    "ma77", "ma86",
                                               "ma97", "pardiso", "wsmp", NULL};

/* Options that would terminate the process or are unavailable in this build, refused before
 * Ipopt sees them. */
static fold_status refused(const char *name, const char *value, const char *fn)
{
    if (!name[0]) return fold_error(FOLD_ERR_SETTING, "%s: empty Ipopt option name", fn);
    if (!strcmp(name, "linear_solver"))
        for (int i = 0; refused_linear_solvers[i]; i++)
            if (!strcasecmp(value, refused_linear_solvers[i]))
                return fold_error(FOLD_ERR_SETTING,
                                  "%s: linear_solver %s is refused: it is not in this Ipopt "
                                  "build (only mumps is) and may terminate the process",
                                  fn, value);
    if (!strcmp(name, "hsllib") || !strcmp(name, "pardisolib") ||
        (!strcmp(name, "linear_system_scaling") && !strcasecmp(value, "mc19")))
        return fold_error(FOLD_ERR_SETTING,
                          "%s: %s %s is refused: HSL/Pardiso libraries are not available in this "
                          "build",
                          fn, name, value);
    return FOLD_OK;
}

/* The option tried on a throwaway one-variable Ipopt problem: an unknown name, a wrong type
 * or a value out of range is found before any solve. */
static fold_status check(const char *name, const char *value, const char *fn)
{
    Number lo = 0, hi = 1;
    IpoptProblem ip;
    fold_status st;
    if (!name || !value) return fold_error(FOLD_ERR_ARGUMENT, "%s: NULL name or value", fn);
    if ((st = refused(name, value, fn))) return st;
    fold_ipopt_lock();
    ip = CreateIpoptProblem(1, &lo, &hi, 0, NULL, NULL, 0, 0, 0, fold_ipopt_eval_f,
                            fold_ipopt_eval_g, fold_ipopt_eval_grad_f, fold_ipopt_eval_jac_g,
                            fold_ipopt_eval_h);
    st = ip ? fold_ipopt_quiet_init(ip)
            : fold_error(FOLD_ERR_INTERNAL, "%s: CreateIpoptProblem failed checking options", fn);
    if (st == FOLD_OK) st = fold_ipopt_pass_option(ip, name, value, fn);
    if (ip) FreeIpoptProblem(ip);
    fold_ipopt_unlock();
    return st;
}

fold_status fold_ipopt_option_check(const char *name, const char *value)
{
    fold_clear_error();
    return check(name, value, "fold_ipopt_option_check");
}

static fold_int find(const fold_solver *s, const char *name)
{
    for (fold_int k = 0; k < s->n_ipopt_opt; k++)
        if (!strcmp(s->ipopt_opt[2 * k], name)) return k;
    return -1;
}

static void remove_at(fold_solver *s, fold_int k)
{
    free(s->ipopt_opt[2 * k]);
    free(s->ipopt_opt[2 * k + 1]);
    memmove(s->ipopt_opt + 2 * k, s->ipopt_opt + 2 * k + 2,
            (size_t)(s->n_ipopt_opt - k - 1) * 2 * sizeof *s->ipopt_opt);
    s->n_ipopt_opt--;
}

/* Store name = value (checked already): a name set before keeps its place. */
static fold_status put(fold_solver *s, const char *name, const char *value, const char *fn)
{
    fold_int k = find(s, name);
    char *v = fold_malloc(strlen(value) + 1, 1, "Ipopt option");
    if (!v) return FOLD_ERR_MEMORY;
    strcpy(v, value);
    if (k >= 0) {
        free(s->ipopt_opt[2 * k + 1]);
        s->ipopt_opt[2 * k + 1] = v;
        return FOLD_OK;
    }
    char *n = fold_malloc(strlen(name) + 1, 1, "Ipopt option");
    if (n && s->n_ipopt_opt == s->cap_ipopt_opt) {
        fold_int cap = 2 * s->cap_ipopt_opt + 4;
        char **grown = realloc(s->ipopt_opt, (size_t)(2 * cap) * sizeof *grown);
        if (grown) s->ipopt_opt = grown, s->cap_ipopt_opt = cap;
    }
    if (!n || s->n_ipopt_opt == s->cap_ipopt_opt) {
        free(n);
        free(v);
        return fold_error(FOLD_ERR_MEMORY, "%s: out of memory", fn);
    }
    strcpy(n, name);
    s->ipopt_opt[2 * s->n_ipopt_opt] = n;
    s->ipopt_opt[2 * s->n_ipopt_opt + 1] = v;
    s->n_ipopt_opt++;
    return FOLD_OK;
}

fold_status fold_solver_set_ipopt_option(fold_solver *s, const char *name, const char *value)
{
    static const char *fn = "fold_solver_set_ipopt_option";
    fold_status st;
    if (!s) return fold_error(FOLD_ERR_ARGUMENT, "%s: solver is NULL", fn);
    if (!name) {
        if (value) return fold_error(FOLD_ERR_ARGUMENT, "%s: value without a name", fn);
        while (s->n_ipopt_opt > 0)
            remove_at(s, s->n_ipopt_opt - 1);
        return FOLD_OK;
    }
    if (!value) {
        fold_int k = find(s, name);
        if (k >= 0) remove_at(s, k);
        return FOLD_OK;
    }
    if ((st = check(name, value, fn))) return st;
    return put(s, name, value, fn);
}

fold_status fold_solver_set_ipopt_options(fold_solver *s, const char *const *list)
{
    fold_status st;
    for (fold_int k = 0; list && list[2 * k]; k++) {
        if (!list[2 * k + 1])
            return fold_error(FOLD_ERR_ARGUMENT, "Ipopt options: entry %lld (%s) has no value",
                              (long long)k, list[2 * k]);
        if ((st = fold_solver_set_ipopt_option(s, list[2 * k], list[2 * k + 1])))
            return fold_error_context(st, "Ipopt options: entry %lld", (long long)k);
    }
    return FOLD_OK;
}

fold_int fold_solver_ipopt_option_count(const fold_solver *s)
{
    return s ? s->n_ipopt_opt : 0;
}

fold_status fold_solver_ipopt_option(const fold_solver *s, fold_int index, const char **name,
                                     const char **value)
{
    if (!s || index < 0 || index >= s->n_ipopt_opt)
        return fold_error(FOLD_ERR_ARGUMENT,
                          "fold_solver_ipopt_option: index %lld outside [0, %lld)",
                          (long long)index, (long long)(s ? s->n_ipopt_opt : 0));
    if (name) *name = s->ipopt_opt[2 * index];
    if (value) *value = s->ipopt_opt[2 * index + 1];
    return FOLD_OK;
}

fold_status fold_solver_copy_ipopt_options(fold_solver *to, const fold_solver *from)
{
    fold_status st = fold_solver_set_ipopt_option(to, NULL, NULL);
    for (fold_int k = 0; !st && from && k < from->n_ipopt_opt; k++) /* checked when set */
        st = put(to, from->ipopt_opt[2 * k], from->ipopt_opt[2 * k + 1], "fold_solver_create");
    return st;
}
