/* MATPOWER reader: accepted variations, every malformed-file kind (table-driven mutations
 * of a valid case; the message names file, line and field), truncations and garbage, and
 * the write/read round trip of synthetic grids. */
#include "acopf_test.h"

static fold_status parse_text(const char *text, fold_acopf_case **out)
{
    return fold_acopf_case_parse(text, strlen(text), "tiny.m", out);
}

/* Replace the first (or every) occurrence of `from` with `to` (from must occur). */
static char *mutate(const char *text, const char *from, const char *to, bool every)
{
    const char *at = strstr(text, from);
    ck_assert_msg(at != NULL, "mutation target '%s' not found", from);
    size_t pre = (size_t)(at - text), lf = strlen(from), lt = strlen(to);
    char *out = malloc(strlen(text) - lf + lt + 1);
    memcpy(out, text, pre);
    memcpy(out + pre, to, lt);
    strcpy(out + pre + lt, at + lf);
    if (every && strstr(out + pre + lt, from)) {
        char *rest = mutate(out + pre + lt, from, to, true);
        char *joined = malloc(pre + lt + strlen(rest) + 1);
        memcpy(joined, out, pre + lt);
        strcpy(joined + pre + lt, rest);
        free(rest);
        free(out);
        out = joined;
    }
    return out;
}

START_TEST(tiny_case_reads)
{
    fold_acopf_case *cs = NULL;
    ck_assert_acopf(parse_text(acopf_tiny_case, &cs), FOLD_OK);
    ck_assert_str_eq(cs->name, "tiny");
    ck_assert_int_eq(cs->n_bus, 3);
    ck_assert_int_eq(cs->n_gen, 2);
    ck_assert_int_eq(cs->n_branch, 3);
    ck_assert_double_eq(cs->base_mva, 100);
    ck_assert_double_eq(cs->bus[1].pd, 50);
    ck_assert_double_eq(cs->bus[1].bs, 0.05);
    ck_assert_int_eq(cs->gen[1].bus, 2);
    ck_assert_int_eq(cs->gen[1].row, 2);
    ck_assert_int_eq(cs->gen[1].n_cost, 3);
    /* ascending powers: c0, c1, c2 */
    ck_assert_double_eq(cs->cost[cs->gen[1].cost_off + 1], 25);
    ck_assert_double_eq(cs->cost[cs->gen[1].cost_off + 2], 0.02);
    ck_assert_double_eq(cs->branch[0].tap, 1);
    ck_assert_double_eq(cs->branch[1].tap, 0.98);
    ck_assert_double_eq(cs->branch[1].shift_deg, 2);
    ck_assert_int_eq(cs->branch[2].line, 20);
    fold_acopf_case_free(cs);
    fold_acopf_case_free(NULL);
}
END_TEST

/* Comments, continuations, commas, cell arrays, extra fields and columns, out-of-service
 * items, an isolated bus with a generator, a cubic cost and reactive cost rows. */
static const char variant_case[] =
    "% header comment with 'quotes' and [brackets]\n"
    "function mpc = variant\n"
    "mpc.version = '2';\n"
    "mpc.baseMVA = 100; % trailing comment\n"
    "mpc.areas = [1 1; 2 3];\n"
    "mpc.bus = [\n"
    "  1, 3, 0, 0, 0, 0, 1, 1, 0, 230, 1, 1.1, 0.9, 0, 0, 0, 0;\n"
    "  2  1 50 10 0 0 1 1 0 230 1 ...  continuation\n"
    "     1.1 0.9 0 0 0 0\n"
    "  7  4 30 10 0 0 1 1 0 230 1 1.1 0.9 0 0 0 0 % isolated bus\n"
    "  3  2 40 5 0 0 1 1 0 230 1 1.1 0.9 0 0 0 0;];\n"
    "mpc.bus_name = {\n  'one';\n  'two % not a comment';\n  'seven'; 'three' };\n"
    "mpc.gen = [\n"
    "  1 0 0 100 -100 1 100 1 200 0 0 0 0 0 0 0 0 0 0 0 0;\n"
    "  3 0 0 100 -100 1 100 0 200 0 0 0 0 0 0 0 0 0 0 0 0;\n"
    "  7 0 0 100 -100 1 100 1 200 0 0 0 0 0 0 0 0 0 0 0 0;\n"
    "  3 0 0 100 -100 1 100 1 Inf 0 0 0 0 0 0 0 0 0 0 0 0;\n"
    "];\n"
    "mpc.gencost = [\n"
    "  2 0 0 4 1e-5 0.01 20 3;\n  2 0 0 2 30 0 0 0;\n  2 0 0 1 5 0 0 0;\n"
    "  2 0 0 3 0.02 25 0 0;\n"
    "  2 0 0 3 0 1 0 0;\n  2 0 0 3 0 1 0 0;\n  2 0 0 3 0 1 0 0;\n  2 0 0 3 0 1 0 0;\n"
    "];\n"
    "mpc.branch = [\n"
    "  1 2 0.01 0.1 0.02 0 0 0 0 0 1 -360 360 0 0 0 0;\n"
    "  2 3 0.01 0.1 0.02 100 100 100 0 0 0 -30 30 0 0 0 0;\n"
    "  2 7 0.01 0.1 0.02 100 100 100 0 0 1 -30 30 0 0 0 0;\n"
    "  1 3 0.01 0.1 0.02 100 100 100 0 0 1 -30 30 0 0 0 0\n"
    "];\n"
    "mpc.gentype = {'ST'; 'ST'; 'ST'; 'ST'};\n";

START_TEST(format_variations)
{
    fold_acopf_case *cs = NULL;
    ck_assert_acopf(parse_text(variant_case, &cs), FOLD_OK);
    ck_assert_int_eq(cs->n_bus, 3);
    ck_assert_int_eq(cs->n_dropped_bus, 1);
    ck_assert_int_eq(cs->n_gen, 2); /* row 2 out of service, row 3 at the isolated bus */
    ck_assert_int_eq(cs->n_dropped_gen, 2);
    ck_assert_int_eq(cs->gen[0].row, 1);
    ck_assert_int_eq(cs->gen[1].row, 4);
    ck_assert_int_eq(cs->gen[0].n_cost, 4);
    ck_assert_double_eq(cs->cost[cs->gen[0].cost_off + 3], 1e-5);
    ck_assert_double_eq(cs->cost[cs->gen[0].cost_off + 0], 3);
    ck_assert(isinf(cs->gen[1].pmax));
    ck_assert_int_eq(cs->n_branch, 2);
    ck_assert_int_eq(cs->n_dropped_branch, 2);
    ck_assert_double_eq(cs->bus[1].vmin, 0.9); /* across the continuation */
    ck_assert_int_eq(cs->bus[2].id, 3);
    /* the model accepts it: unlimited branch and no angle row for +-360 */
    fold_acopf *m = NULL;
    ck_assert_acopf(fold_acopf_create(cs, &m), FOLD_OK);
    fold_acopf_layout L = fold_acopf_get_layout(m);
    ck_assert_int_eq(L.n_rated, 1);
    ck_assert_int_eq(L.n_angle, 1);
    ck_assert_int_eq(fold_acopf_rated_branch(m, 0), 1);
    fold_acopf_free(m);
    fold_acopf_case_free(cs);
}
END_TEST

typedef struct bad_case {
    const char *label, *from, *to;
    fold_status status;
    const char *mention1, *mention2;
} bad_case;

/* gencost block of the tiny case, and a replacement with a 3-point piecewise-linear first
 * generator (0 MW, 0 $/h), (50, 1000), then the given second and third points */
#define PWL_FROM "mpc.gencost = [\n\t2\t0\t0\t3\t0.01\t20\t0;\n\t2\t0\t0\t3\t0.02\t25\t0;\n"
#define PWL_ROWS(tail)                                                                             \
    "mpc.gencost = [\n\t1\t0\t0\t3\t0\t0\t" tail ";\n"                                             \
    "\t2\t0\t0\t3\t0.02\t25\t0\t0\t0\t0;\n"

static const bad_case bad_cases[] = {
    {"missing gencost", "mpc.gencost", "mpc.gencosts", FOLD_ERR_PARSE, "missing field mpc.gencost",
     "tiny.m"},
    {"missing baseMVA", "mpc.baseMVA = 100;", "", FOLD_ERR_PARSE, "missing field mpc.baseMVA",
     "tiny.m"},
    {"bus 12 columns", "\t1.1\t0.9;\n\t2", "\t1.1;\n\t2", FOLD_ERR_PARSE, "tiny.m:6:", "fields"},
    {"all bus rows short", "1.1\t0.9;", "1.1;", FOLD_ERR_PARSE, "tiny.m:5: bus row has 12 fields",
     "need 13"},
    {"gen 9 columns", "200\t0;\n\t3", "200;\n\t3", FOLD_ERR_PARSE, "tiny.m:11:", "fields"},
    {"branch unknown bus", "\t2\t3\t0.01", "\t2\t7\t0.01", FOLD_ERR_PARSE,
     "tiny.m:19:", "unknown bus 7"},
    {"gen unknown bus", "\t3\t0\t0\t100", "\t9\t0\t0\t100", FOLD_ERR_PARSE,
     "tiny.m:11:", "unknown bus 9"},
    {"non-numeric", "0.01\t0.1\t0.02\t100\t100\t100\t0\t0", "0.0x1\t0.1\t0.02\t100\t100\t100\t0\t0",
     FOLD_ERR_PARSE, "tiny.m:18:", "non-numeric token '0.0x1'"},
    {"NaN token", "\t50\t10", "\tNaN\t10", FOLD_ERR_PARSE, "tiny.m:6:", "non-numeric token 'NaN'"},
    {"no reference bus", "\t1\t3\t0", "\t1\t2\t0", FOLD_ERR_PARSE, "no reference bus", "tiny.m:4"},
    {"duplicate bus", "\t3\t2\t40", "\t2\t2\t40", FOLD_ERR_PARSE,
     "tiny.m:7:", "duplicate bus id 2 (first at line 6)"},
    {"baseMVA zero", "baseMVA = 100", "baseMVA = 0", FOLD_ERR_PARSE, "tiny.m:3:", "baseMVA"},
    {"baseMVA negative", "baseMVA = 100", "baseMVA = -5", FOLD_ERR_PARSE,
     "tiny.m:3:", "must be positive"},
    {"gencost rows", "\t2\t0\t0\t3\t0.02\t25\t0;\n", "", FOLD_ERR_PARSE,
     "tiny.m:13:", "gencost has 1 rows"},
    {"gencost n too large", "3\t0.02\t25", "5\t0.02\t25", FOLD_ERR_PARSE, "tiny.m:15:", "n = 5"},
    {"piecewise linear row short", "\t2\t0\t0\t3\t0.01\t20\t0;", "\t1\t0\t0\t2\t0\t0\t100;",
     FOLD_ERR_PARSE, "tiny.m:14:", "n = 2 needs n >= 2 and 8 fields"},
    {"piecewise linear one point", "\t2\t0\t0\t3\t0.01\t20\t0;", "\t1\t0\t0\t1\t0\t0\t0;",
     FOLD_ERR_PARSE, "tiny.m:14:", "n >= 2"},
    {"piecewise linear not convex", PWL_FROM, PWL_ROWS("50\t1000\t100\t1500"), FOLD_ERR_UNSUPPORTED,
     "tiny.m:14:", "not convex (slope 10 after 20"},
    {"piecewise linear MW not increasing", PWL_FROM, PWL_ROWS("0\t1000\t100\t1500"), FOLD_ERR_PARSE,
     "tiny.m:14:", "increasing MW (point 1 at 0, point 2 at 0)"},
    {"piecewise linear Inf", PWL_FROM, PWL_ROWS("50\t1000\t100\tInf"), FOLD_ERR_PARSE,
     "tiny.m:14:", "value 6 is not finite"},
    {"unknown cost model", "\t2\t0\t0\t3\t0.01", "\t3\t0\t0\t3\t0.01", FOLD_ERR_PARSE,
     "tiny.m:14:", "cost model 3"},
    {"version 1", "version = '2'", "version = '1'", FOLD_ERR_UNSUPPORTED, "tiny.m:2:", "version 2"},
    {"unclosed matrix", "1\t-30\t30;\n];\n", "1\t-30\t30;\n", FOLD_ERR_PARSE, "mpc.branch",
     "opened at line 17 not closed"},
    {"unterminated string", "'2';", "'2;", FOLD_ERR_PARSE, "tiny.m:2:", "unterminated string"},
    {"bad statement", "mpc.version", "foo = 3;\nmpc.version", FOLD_ERR_PARSE,
     "tiny.m:2:", "unexpected 'foo'"},
    {"missing equals", "mpc.baseMVA =", "mpc.baseMVA", FOLD_ERR_PARSE, "tiny.m:3:", "expected '='"},
    {"bus type", "\t2\t1\t50", "\t2\t5\t50", FOLD_ERR_PARSE, "tiny.m:6:", "type 5"},
    {"bus id", "\t2\t1\t50", "\t2.5\t1\t50", FOLD_ERR_PARSE, "tiny.m:6:", "positive integer"},
    {"zero impedance", "0.01\t0.1\t0.02\t100\t100\t100\t0\t0", "0\t0\t0.02\t100\t100\t100\t0\t0",
     FOLD_ERR_PARSE, "tiny.m:18:", "zero impedance"},
    {"self loop", "\t1\t2\t0.01", "\t1\t1\t0.01", FOLD_ERR_PARSE, "tiny.m:18:", "to itself"},
    {"angmin > angmax", "\t1\t-30\t30;\n\t2", "\t1\t40\t30;\n\t2", FOLD_ERR_PARSE,
     "tiny.m:18:", "angmin"},
    {"Vmin > Vmax", "1.1\t0.9;\n\t2", "0.8\t0.9;\n\t2", FOLD_ERR_PARSE, "tiny.m:5:", "Vmin"},
    {"duplicate field", "mpc.baseMVA = 100;", "mpc.baseMVA = 100;\nmpc.baseMVA = 100;",
     FOLD_ERR_PARSE, "tiny.m:4:", "assigned twice"},
    {"numeric field as string", "baseMVA = 100", "baseMVA = '100'", FOLD_ERR_PARSE,
     "tiny.m:3:", "must be numeric"},
    {"text after value", "baseMVA = 100;", "baseMVA = 100 200;", FOLD_ERR_PARSE,
     "tiny.m:3:", "unexpected text"},
    {"empty bus", "mpc.bus = [\n", "mpc.bus = [\n];\nmpc.bus2 = [\n", FOLD_ERR_PARSE,
     "tiny.m:4:", "mpc.bus is empty"},
};

START_TEST(malformed)
{
    const bad_case *bc = &bad_cases[_i];
    char *text = mutate(acopf_tiny_case, bc->from, bc->to, !strncmp(bc->label, "all ", 4));
    fold_acopf_case *cs = NULL;
    fold_status st = parse_text(text, &cs);
    ck_assert_msg(st == bc->status, "%s: got %s (%s)", bc->label, fold_status_name(st),
                  fold_last_error());
    ck_assert_ptr_null(cs);
    ck_assert_msg(
        strstr(fold_last_error(), bc->mention1) && strstr(fold_last_error(), bc->mention2),
        "%s: '%s' lacks '%s' or '%s'", bc->label, fold_last_error(), bc->mention1, bc->mention2);
    free(text);
}
END_TEST

START_TEST(read_errors)
{
    fold_acopf_case *cs = NULL;
    ck_assert_acopf(fold_acopf_case_read("/nonexistent/case.m", &cs), FOLD_ERR_IO);
    ck_assert(strstr(fold_last_error(), "/nonexistent/case.m") != NULL);
    ck_assert_acopf(fold_acopf_case_read(NULL, &cs), FOLD_ERR_ARGUMENT);
    ck_assert_acopf(fold_acopf_case_parse("", 0, "empty.m", &cs), FOLD_ERR_PARSE);
    ck_assert(strstr(fold_last_error(), "empty.m") != NULL);
    ck_assert_ptr_null(cs);
    /* from a file */
    char path[] = "/tmp/foldopt_acopf_XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    FILE *fp = fdopen(fd, "w");
    fputs(acopf_tiny_case, fp);
    fclose(fp);
    ck_assert_acopf(fold_acopf_case_read(path, &cs), FOLD_OK);
    ck_assert_int_eq(cs->n_bus, 3);
    fold_acopf_case_free(cs);
    remove(path);
}
END_TEST

/* Every prefix of the tiny case and ~400 prefixes of a PGLib case parse or fail cleanly;
 * a failure always leaves a message naming the file. */
static void check_prefixes(const char *text, size_t len, size_t step, const char *name)
{
    for (size_t cut = 0; cut <= len; cut += step) {
        char *copy = malloc(cut + 1); /* exact size: ASan catches any overread */
        memcpy(copy, text, cut);
        fold_acopf_case *cs = NULL;
        fold_status st = fold_acopf_case_parse(copy, cut, name, &cs);
        ck_assert_msg(st == FOLD_OK || st == FOLD_ERR_PARSE, "cut %zu: %s", cut,
                      fold_status_name(st));
        if (st == FOLD_OK)
            fold_acopf_case_free(cs);
        else
            ck_assert_msg(strstr(fold_last_error(), name) != NULL, "cut %zu: '%s'", cut,
                          fold_last_error());
        free(copy);
    }
}

START_TEST(truncations)
{
    check_prefixes(acopf_tiny_case, strlen(acopf_tiny_case), 1, "tiny.m");
}
END_TEST

START_TEST(truncations_case30)
{
    char buf[1024];
    const char *path = acopf_test_need_case("pglib_opf_case30_ieee", buf, sizeof buf);
    size_t len;
    char *text = acopf_test_slurp(path, &len);
    ck_assert_ptr_nonnull(text);
    check_prefixes(text, len, len / 400 + 1, "case30.m");
    free(text);
}
END_TEST

START_TEST(garbage)
{
    fold_test_rng r;
    fold_test_rng_seed(&r, 42);
    size_t base_len = strlen(acopf_tiny_case);
    for (int trial = 0; trial < 3000; trial++) {
        size_t len;
        char *buf;
        if (trial < 1000) {
            /* random bytes */
            len = (size_t)(fold_test_uniform(&r) * 300);
            buf = malloc(len + 1);
            for (size_t i = 0; i < len; i++)
                buf[i] = (char)(int)(fold_test_uniform(&r) * 256);
        } else {
            /* the valid case with a few random bytes overwritten (often still valid) */
            len = base_len;
            buf = malloc(len + 1);
            memcpy(buf, acopf_tiny_case, len);
            const char pool[] = "0123456789.-+eE;,[]{}'%\n\t x=mpc\0\xff";
            for (int k = 0; k < 1 + trial % 4; k++)
                buf[(size_t)(fold_test_uniform(&r) * (double)len)] =
                    pool[(size_t)(fold_test_uniform(&r) * (sizeof pool - 1))];
        }
        fold_acopf_case *cs = NULL;
        fold_status st = fold_acopf_case_parse(buf, len, "junk.m", &cs);
        ck_assert_msg(st == FOLD_OK || st == FOLD_ERR_PARSE || st == FOLD_ERR_UNSUPPORTED,
                      "trial %d: %s", trial, fold_status_name(st));
        if (st == FOLD_OK) {
            /* whatever parsed must also build a model */
            fold_acopf *m = NULL;
            ck_assert_acopf(fold_acopf_create(cs, &m), FOLD_OK);
            fold_acopf_free(m);
            fold_acopf_case_free(cs);
        } else {
            ck_assert(strstr(fold_last_error(), "junk.m") != NULL);
        }
        free(buf);
    }
}
END_TEST

START_TEST(grid_round_trip)
{
    fold_acopf_case *cs = NULL, *back = NULL;
    ck_assert_acopf(fold_acopf_gen_grid(57, 7, &cs), FOLD_OK);
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    ck_assert_acopf(fold_acopf_case_write(cs, mem), FOLD_OK);
    fclose(mem);
    ck_assert_acopf(fold_acopf_case_parse(text, len, "grid.m", &back), FOLD_OK);
    ck_assert_int_eq(back->n_bus, cs->n_bus);
    ck_assert_int_eq(back->n_gen, cs->n_gen);
    ck_assert_int_eq(back->n_branch, cs->n_branch);
    for (fold_int i = 0; i < cs->n_bus; i++) {
        ck_assert_int_eq(back->bus[i].id, cs->bus[i].id);
        ck_assert_double_eq(back->bus[i].pd, cs->bus[i].pd);
        ck_assert_int_eq(back->bus[i].type, cs->bus[i].type);
    }
    for (fold_int k = 0; k < cs->n_branch; k++) {
        ck_assert_int_eq(back->branch[k].f, cs->branch[k].f);
        ck_assert_double_eq(back->branch[k].x, cs->branch[k].x);
        ck_assert_double_eq(back->branch[k].rate_a, cs->branch[k].rate_a);
    }
    for (fold_int k = 0; k < cs->n_gen; k++) {
        ck_assert_int_eq(back->gen[k].bus, cs->gen[k].bus);
        ck_assert_double_eq(back->gen[k].pmax, cs->gen[k].pmax);
        for (int j = 0; j < 3; j++)
            ck_assert_double_eq(back->cost[back->gen[k].cost_off + j],
                                cs->cost[cs->gen[k].cost_off + j]);
    }
    /* the same seed gives the same grid, another seed a different one */
    fold_acopf_case *again = NULL, *other = NULL;
    ck_assert_acopf(fold_acopf_gen_grid(57, 7, &again), FOLD_OK);
    ck_assert_acopf(fold_acopf_gen_grid(57, 8, &other), FOLD_OK);
    ck_assert_double_eq(again->branch[5].r, cs->branch[5].r);
    ck_assert(other->branch[5].r != cs->branch[5].r);
    ck_assert_acopf(fold_acopf_gen_grid(1, 7, &other), FOLD_ERR_ARGUMENT);
    fold_acopf_case_free(again);
    fold_acopf_case_free(other);
    fold_acopf_case_free(back);
    fold_acopf_case_free(cs);
    free(text);
}
END_TEST

/* PGLib cases of every size read; sizes are consistent. */
static const char *const pglib_names[] = {"pglib_opf_case5_pjm", "pglib_opf_case118_ieee",
                                          "pglib_opf_case2000_goc", "pglib_opf_case10192_epigrids"};

START_TEST(pglib_cases_read)
{
    char buf[1024];
    const char *path = acopf_test_need_case(pglib_names[_i], buf, sizeof buf);
    fold_acopf_case *cs = NULL;
    ck_assert_acopf(fold_acopf_case_read(path, &cs), FOLD_OK);
    ck_assert_str_eq(cs->name, pglib_names[_i]);
    ck_assert_int_gt(cs->n_bus, 0);
    fold_acopf_case_free(cs);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("acopf_matpower");
    TCase *tc = tcase_create("reader");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, tiny_case_reads);
    tcase_add_test(tc, format_variations);
    tcase_add_loop_test(tc, malformed, 0, (int)(sizeof bad_cases / sizeof bad_cases[0]));
    tcase_add_test(tc, read_errors);
    tcase_add_test(tc, truncations);
    tcase_add_test(tc, truncations_case30);
    tcase_add_test(tc, garbage);
    tcase_add_test(tc, grid_round_trip);
    tcase_add_loop_test(tc, pglib_cases_read, 0, (int)(sizeof pglib_names / sizeof pglib_names[0]));
    suite_add_tcase(s, tc);
    return fold_test_run(s);
}
