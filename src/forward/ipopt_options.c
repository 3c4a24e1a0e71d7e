/* Ipopt's options: the process-wide lock of every Ipopt call, the options foldopt sets and the
 * users' pass-through ones (their check on a throwaway problem when settings are given).
 * doc/api/solver.md, "Ipopt options". */
#include <errno.h>
#include <limits.h>
#include <pthread.h>

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

/* Refused options and malformed entries are caught before Ipopt is created: the settings
 * struct may have been written directly, bypassing fold_settings_set_ipopt. */
fold_status fold_ipopt_check_entries(const fold_settings *set, const char *fn)
{
    fold_settings scratch;
    for (int i = 0; i < set->n_ipopt_options; i++) {
        const fold_ipopt_option *o = &set->ipopt_options[i];
        fold_status st;
        if (!memchr(o->name, '\0', sizeof o->name) || !memchr(o->value, '\0', sizeof o->value))
            return fold_error(FOLD_ERR_SETTING, "%s: ipopt_options[%d] is not NUL-terminated", fn,
                              i);
        fold_settings_default(&scratch);
        if ((st = fold_settings_set_ipopt(&scratch, o->name, o->value)) != FOLD_OK)
            return fold_error_context(st, "%s: ipopt_options[%d]", fn, i);
    }
    return FOLD_OK;
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
fold_status fold_ipopt_pass_option(IpoptProblem ip, int index, const fold_ipopt_option *o,
                                   const char *fn)
{
    char name[FOLD_IPOPT_OPTION_LEN], value[FOLD_IPOPT_OPTION_LEN], *end;
    long long iv;
    double dv;
    snprintf(name, sizeof name, "%s", o->name);
    snprintf(value, sizeof value, "%s", o->value);
    if (AddIpoptStrOption(ip, name, value)) return FOLD_OK;
    errno = 0;
    iv = strtoll(value, &end, 10);
    if (end != value && *end == '\0' && errno == 0 && iv >= INT_MIN && iv <= INT_MAX &&
        AddIpoptIntOption(ip, name, (int)iv))
        return FOLD_OK;
    errno = 0;
    dv = strtod(value, &end);
    if (end != value && *end == '\0' && errno == 0 && isfinite(dv) &&
        AddIpoptNumOption(ip, name, dv))
        return FOLD_OK;
    return fold_error(FOLD_ERR_SETTING,
                      "%s: Ipopt rejected option %s = '%s' (ipopt_options[%d]): unknown name, "
                      "wrong type or value out of range",
                      fn, o->name, o->value, index);
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

fold_status fold_ipopt_check_options(const fold_settings *set, const char *fn)
{
    Number lo = 0, hi = 1;
    IpoptProblem ip;
    fold_status st;
    if (set->forward.method != FOLD_FORWARD_IPOPT || set->n_ipopt_options <= 0) return FOLD_OK;
    if ((st = fold_ipopt_check_entries(set, fn))) return st;
    fold_ipopt_lock();
    ip = CreateIpoptProblem(1, &lo, &hi, 0, NULL, NULL, 0, 0, 0, fold_ipopt_eval_f,
                            fold_ipopt_eval_g, fold_ipopt_eval_grad_f, fold_ipopt_eval_jac_g,
                            fold_ipopt_eval_h);
    st = ip ? fold_ipopt_quiet_init(ip)
            : fold_error(FOLD_ERR_INTERNAL, "%s: CreateIpoptProblem failed checking options", fn);
    for (int i = 0; st == FOLD_OK && i < set->n_ipopt_options; i++)
        st = fold_ipopt_pass_option(ip, i, &set->ipopt_options[i], fn);
    if (ip) FreeIpoptProblem(ip);
    fold_ipopt_unlock();
    return st;
}
