/* PowerModels JSON networks (doc/acopf.md §1.3): cases written by foldopt's writer and read
 * back give the same case and the same model as the .m (both directions: .m -> JSON -> .m,
 * and JSON -> .m -> JSON); a hand-written network with several loads per bus, an
 * out-of-service generator and an isolated bus, not per unit; errors naming the component
 * and field; files that are neither MATPOWER nor JSON named as such. */
#include "acopf_test.h"

static char *to_text(const fold_acopf_case *cs, bool json, size_t *len)
{
    char *text = NULL;
    FILE *fp = open_memstream(&text, len);
    ck_assert_acopf(json ? fold_acopf_case_write_pm_json(cs, fp) : fold_acopf_case_write(cs, fp),
                    FOLD_OK);
    fclose(fp);
    return text;
}

static fold_acopf_case *through(const fold_acopf_case *cs, bool json)
{
    size_t len;
    char *text = to_text(cs, json, &len);
    fold_acopf_case *back = NULL;
    ck_assert_acopf(fold_acopf_case_parse(text, len, json ? "net.json" : "net.m", &back), FOLD_OK);
    free(text);
    return back;
}

static void near(double a, double b, const char *what, long key)
{
    ck_assert_msg(fabs(a - b) <= 1e-12 * fmax(1, fabs(b)), "%s of %ld: %.17g vs %.17g", what, key,
                  a, b);
}

/* Every field the model uses, to rounding (per-unit and radian conversions). */
static void same_case(const fold_acopf_case *a, const fold_acopf_case *b)
{
    ck_assert_int_eq(a->n_bus, b->n_bus);
    ck_assert_int_eq(a->n_gen, b->n_gen);
    ck_assert_int_eq(a->n_branch, b->n_branch);
    near(a->base_mva, b->base_mva, "baseMVA", 0);
    for (fold_int i = 0; i < a->n_bus; i++) {
        const fold_acopf_bus *x = &a->bus[i], *y = &b->bus[i];
        ck_assert_int_eq(x->id, y->id);
        ck_assert_int_eq(x->type, y->type);
        double u[8] = {x->pd, x->qd, x->gs, x->bs, x->vm0, x->va0, x->vmin, x->vmax};
        double v[8] = {y->pd, y->qd, y->gs, y->bs, y->vm0, y->va0, y->vmin, y->vmax};
        for (int k = 0; k < 8; k++)
            near(u[k], v[k], "bus field", x->id);
    }
    for (fold_int k = 0; k < a->n_gen; k++) {
        const fold_acopf_gen *x = &a->gen[k], *y = &b->gen[k];
        ck_assert_int_eq(x->row, y->row);
        ck_assert_int_eq(x->bus, y->bus);
        ck_assert_int_eq(x->pwl, y->pwl);
        double u[6] = {x->pg0, x->qg0, x->pmin, x->pmax, x->qmin, x->qmax};
        double v[6] = {y->pg0, y->qg0, y->pmin, y->pmax, y->qmin, y->qmax};
        for (int j = 0; j < 6; j++)
            near(u[j], v[j], "gen field", x->row);
        /* the same cost function (the writers pad polynomials with leading zeros) */
        int nc = x->pwl ? 2 * x->n_cost : (x->n_cost > y->n_cost ? x->n_cost : y->n_cost);
        for (int j = 0; j < nc; j++) {
            double cx = j < (x->pwl ? 2 : 1) * x->n_cost ? a->cost[x->cost_off + j] : 0;
            double cy = j < (y->pwl ? 2 : 1) * y->n_cost ? b->cost[y->cost_off + j] : 0;
            near(cx, cy, "gen cost", x->row);
        }
    }
    for (fold_int k = 0; k < a->n_branch; k++) {
        const fold_acopf_branch *x = &a->branch[k], *y = &b->branch[k];
        ck_assert_int_eq(x->row, y->row);
        ck_assert(x->f == y->f && x->t == y->t);
        double u[8] = {x->r,   x->x,         x->b,          x->rate_a,
                       x->tap, x->shift_deg, x->angmin_deg, x->angmax_deg};
        double v[8] = {y->r,   y->x,         y->b,          y->rate_a,
                       y->tap, y->shift_deg, y->angmin_deg, y->angmax_deg};
        for (int j = 0; j < 8; j++)
            near(u[j], v[j], "branch field", x->row);
    }
}

/* The same model: the same objective, dispatch and LMPs. */
static void same_solution(const fold_acopf_case *a, const fold_acopf_case *b)
{
    fold_acopf *m[2] = {NULL, NULL};
    fold_solver *sv[2] = {NULL, NULL};
    fold_acopf_results *r[2] = {NULL, NULL};
    const fold_acopf_case *cs[2] = {a, b};
    for (int k = 0; k < 2; k++) {
        ck_assert_acopf(fold_acopf_create(cs[k], &m[k]), FOLD_OK);
        ck_assert_acopf(fold_acopf_solve(&m[k], NULL, NULL, NULL, &sv[k], NULL, NULL), FOLD_OK);
        ck_assert_acopf(fold_acopf_results_from_solver(m[k], sv[k], &r[k]), FOLD_OK);
    }
    ck_assert_double_le(fabs(r[0]->objective - r[1]->objective), 1e-9 * r[0]->objective);
    ck_assert_double_le(fold_test_vec_relerr(r[1]->pg, r[0]->pg, a->n_gen, 1), 1e-7);
    ck_assert_double_le(fold_test_vec_relerr(r[1]->lam_p, r[0]->lam_p, a->n_bus, 1), 1e-7);
    printf("# %s: the JSON network solves to %.10g $/h, the .m to %.10g\n", a->name,
           r[1]->objective, r[0]->objective);
    for (int k = 0; k < 2; k++) {
        fold_acopf_results_free(r[k]);
        fold_solver_free(sv[k]);
        fold_acopf_free(m[k]);
    }
}

static void round_trips(fold_acopf_case *cs)
{
    fold_acopf_case *j = through(cs, true); /* .m -> JSON */
    same_case(cs, j);
    fold_acopf_case *m = through(j, false); /* JSON -> .m */
    same_case(j, m);
    fold_acopf_case *j2 = through(m, true); /* -> JSON again */
    same_case(j, j2);
    same_solution(cs, j);
    fold_acopf_case_free(j);
    fold_acopf_case_free(m);
    fold_acopf_case_free(j2);
}

START_TEST(round_trip_pglib)
{
    const char *names[] = {"pglib_opf_case14_ieee", "pglib_opf_case30_ieee",
                           "pglib_opf_case118_ieee", "pglib_opf_case5_pjm"};
    char buf[1024];
    const char *path = acopf_test_need_case(names[_i], buf, sizeof buf);
    fold_acopf_case *cs = NULL;
    ck_assert_acopf(fold_acopf_case_read(path, &cs), FOLD_OK);
    round_trips(cs);
    fold_acopf_case_free(cs);
}
END_TEST

/* A grid with a phase shifter, an off-nominal tap, shunts and a PWL cost. */
START_TEST(round_trip_grid_pwl)
{
    fold_acopf_case *cs = NULL;
    ck_assert_acopf(fold_acopf_case_parse(acopf_tiny_case, strlen(acopf_tiny_case), "tiny.m", &cs),
                    FOLD_OK);
    round_trips(cs);
    fold_acopf_case_free(cs);
    const char *start = strstr(acopf_tiny_case, "mpc.gencost");
    const char *end = strstr(acopf_tiny_case, "mpc.branch");
    char text[4096];
    snprintf(text, sizeof text,
             "%.*smpc.gencost = [\n\t2\t0\t0\t3\t0.01\t20\t0\t0\t0\t0;\n"
             "\t1\t0\t0\t3\t0\t0\t40\t900\t200\t5000;\n];\n%s",
             (int)(start - acopf_tiny_case), acopf_tiny_case, end);
    ck_assert_acopf(fold_acopf_case_parse(text, strlen(text), "pwl.m", &cs), FOLD_OK);
    round_trips(cs);
    fold_acopf_case_free(cs);
    ck_assert_acopf(fold_acopf_gen_grid(60, 8, &cs), FOLD_OK);
    round_trips(cs);
    fold_acopf_case_free(cs);
}
END_TEST

/* Not per unit (MW, degrees), two loads at bus 2, a generator out of service, an isolated
 * bus 4 with a load and a branch: equal to the MATPOWER text of the same network. */
static const char hand_json[] =
    "{\"baseMVA\": 100, \"per_unit\": false, \"name\": \"hand\",\n"
    " \"bus\": {\"1\": {\"index\": 1, \"bus_i\": 1, \"bus_type\": 3, \"vmin\": 0.9, \"vmax\": "
    "1.1},\n"
    "  \"2\": {\"index\": 2, \"bus_i\": 2, \"bus_type\": 1, \"vmin\": 0.9, \"vmax\": 1.1},\n"
    "  \"3\": {\"index\": 3, \"bus_i\": 3, \"bus_type\": 2, \"vmin\": 0.9, \"vmax\": 1.1},\n"
    "  \"4\": {\"index\": 4, \"bus_i\": 4, \"bus_type\": 4, \"vmin\": 0.9, \"vmax\": 1.1}},\n"
    " \"load\": {\"1\": {\"index\": 1, \"load_bus\": 2, \"pd\": 30, \"qd\": 6, \"status\": 1},\n"
    "  \"2\": {\"index\": 2, \"load_bus\": 2, \"pd\": 20, \"qd\": 4, \"status\": 1},\n"
    "  \"3\": {\"index\": 3, \"load_bus\": 3, \"pd\": 40, \"qd\": 5, \"status\": 1},\n"
    "  \"4\": {\"index\": 4, \"load_bus\": 4, \"pd\": 9, \"qd\": 1, \"status\": 1},\n"
    "  \"5\": {\"index\": 5, \"load_bus\": 3, \"pd\": 99, \"qd\": 9, \"status\": 0}},\n"
    " \"shunt\": {\"1\": {\"index\": 1, \"shunt_bus\": 2, \"gs\": 0, \"bs\": 5, \"status\": 1}},\n"
    " \"gen\": {\"1\": {\"index\": 1, \"gen_bus\": 1, \"pmin\": 0, \"pmax\": 200, \"qmin\": -100,\n"
    "   \"qmax\": 100, \"gen_status\": 1, \"model\": 2, \"ncost\": 3, \"cost\": [0.01, 20, 0]},\n"
    "  \"2\": {\"index\": 2, \"gen_bus\": 3, \"pmin\": 0, \"pmax\": 200, \"qmin\": -100,\n"
    "   \"qmax\": 100, \"gen_status\": 1, \"model\": 2, \"ncost\": 3, \"cost\": [0.02, 25, 0]},\n"
    "  \"3\": {\"index\": 3, \"gen_bus\": 2, \"pmin\": 0, \"pmax\": 50, \"qmin\": -10,\n"
    "   \"qmax\": 10, \"gen_status\": 0, \"model\": 2, \"ncost\": 2, \"cost\": [1, 0]}},\n"
    " \"branch\": {\"1\": {\"index\": 1, \"f_bus\": 1, \"t_bus\": 2, \"br_r\": 0.01, \"br_x\": "
    "0.1,\n"
    "   \"b_fr\": 0.01, \"b_to\": 0.01, \"rate_a\": 100, \"tap\": 1, \"shift\": 0, \"br_status\": "
    "1,\n"
    "   \"angmin\": -30, \"angmax\": 30},\n"
    "  \"2\": {\"index\": 2, \"f_bus\": 2, \"t_bus\": 3, \"br_r\": 0.01, \"br_x\": 0.1, \"b_fr\": "
    "0.01,\n"
    "   \"b_to\": 0.01, \"rate_a\": 100, \"tap\": 0.98, \"shift\": 2, \"br_status\": 1,\n"
    "   \"angmin\": -30, \"angmax\": 30},\n"
    "  \"3\": {\"index\": 3, \"f_bus\": 1, \"t_bus\": 3, \"br_r\": 0.01, \"br_x\": 0.1, \"b_fr\": "
    "0.01,\n"
    "   \"b_to\": 0.01, \"tap\": 1, \"shift\": 0, \"br_status\": 1, \"angmin\": -30, \"angmax\": "
    "30},\n"
    "  \"4\": {\"index\": 4, \"f_bus\": 3, \"t_bus\": 4, \"br_r\": 0.01, \"br_x\": 0.1, \"b_fr\": "
    "0,\n"
    "   \"b_to\": 0, \"tap\": 1, \"shift\": 0, \"br_status\": 1, \"angmin\": -30, \"angmax\": "
    "30}},\n"
    " \"dcline\": {}, \"storage\": {}, \"switch\": {}}\n";

static const char hand_m[] =
    "mpc.version = '2';\nmpc.baseMVA = 100;\n"
    "mpc.bus = [\n 1 3 0 0 0 0 1 1 0 230 1 1.1 0.9;\n 2 1 50 10 0 5 1 1 0 230 1 1.1 0.9;\n"
    " 3 2 40 5 0 0 1 1 0 230 1 1.1 0.9;\n 4 4 9 1 0 0 1 1 0 230 1 1.1 0.9;\n];\n"
    "mpc.gen = [\n 1 0 0 100 -100 1 100 1 200 0;\n 3 0 0 100 -100 1 100 1 200 0;\n"
    " 2 0 0 10 -10 1 100 0 50 0;\n];\n"
    "mpc.gencost = [\n 2 0 0 3 0.01 20 0;\n 2 0 0 3 0.02 25 0;\n 2 0 0 3 0 1 0;\n];\n"
    "mpc.branch = [\n 1 2 0.01 0.1 0.02 100 100 100 0 0 1 -30 30;\n"
    " 2 3 0.01 0.1 0.02 100 100 100 0.98 2 1 -30 30;\n 1 3 0.01 0.1 0.02 0 0 0 0 0 1 -30 30;\n"
    " 3 4 0.01 0.1 0 0 0 0 0 0 1 -30 30;\n];\n";

START_TEST(hand_written)
{
    fold_acopf_case *j = NULL, *m = NULL;
    ck_assert_acopf(fold_acopf_case_parse(hand_json, strlen(hand_json), "hand.json", &j), FOLD_OK);
    ck_assert_acopf(fold_acopf_case_parse(hand_m, strlen(hand_m), "hand.m", &m), FOLD_OK);
    ck_assert_str_eq(j->name, "hand");
    ck_assert_int_eq(j->n_dropped_bus, 1);
    ck_assert_int_eq(j->n_dropped_gen, 1);
    ck_assert_int_eq(j->n_dropped_branch, 1);
    same_case(m, j);
    fold_acopf_case_free(j);
    fold_acopf_case_free(m);
    /* export_json writes infinite limits as null: an unlimited Q range, no rating */
    char text[sizeof hand_json + 64];
    const char *at = strstr(hand_json, "\"qmax\": 100, \"gen_status\": 1, \"model\": 2, "
                                       "\"ncost\": 3, \"cost\": [0.02");
    ck_assert_ptr_nonnull(at);
    snprintf(text, sizeof text, "%.*s\"qmax\": null%s", (int)(at - hand_json), hand_json,
             at + strlen("\"qmax\": 100"));
    char *r = strstr(text, "\"rate_a\": 100, \"tap\": 0.98");
    ck_assert_ptr_nonnull(r);
    memcpy(r, "\"rate_a\": null,", strlen("\"rate_a\": null,"));
    ck_assert_acopf(fold_acopf_case_parse(text, strlen(text), "inf.json", &j), FOLD_OK);
    ck_assert(isinf(j->gen[1].qmax) && j->gen[1].qmax > 0);
    ck_assert_double_eq(j->branch[1].rate_a, 0);
    fold_acopf_case *back = through(j, true);
    ck_assert(isinf(back->gen[1].qmax) && back->gen[1].qmax > 0);
    fold_acopf_case_free(back);
    fold_acopf_case_free(j);
}
END_TEST

/* Errors name the file, component and field; unsupported components are refused. */
START_TEST(errors)
{
    struct {
        const char *from, *to, *msg;
        fold_status st;
    } bad[] = {
        {"\"bus_type\": 1,", "", "bus \"2\": no field \"bus_type\"", FOLD_ERR_PARSE},
        {"\"pmax\": 50,", "\"pmax\": \"x\",", "gen \"3\": \"pmax\" is not a finite number",
         FOLD_ERR_PARSE},
        {"\"load_bus\": 3, \"pd\": 40", "\"load_bus\": 7, \"pd\": 40",
         "load \"3\": \"load_bus\" = 7 is not a bus", FOLD_ERR_PARSE},
        {"\"b_fr\": 0.01, \"b_to\": 0.01, \"rate_a\": 100, \"tap\": 1,",
         "\"b_fr\": 0.01, \"b_to\": 0.02, \"rate_a\": 100, \"tap\": 1,",
         "branch \"1\": g_fr 0, g_to 0, b_fr 0.01, b_to 0.02", FOLD_ERR_UNSUPPORTED},
        {"\"dcline\": {}", "\"dcline\": {\"1\": {\"index\": 1}}", "1 dcline components",
         FOLD_ERR_UNSUPPORTED},
        {"\"baseMVA\": 100,", "", "\"baseMVA\" is missing", FOLD_ERR_PARSE},
        {"\"model\": 2, \"ncost\": 3, \"cost\": [0.02, 25, 0]", "\"ncost\": 3",
         "gen \"2\": no field \"model\"", FOLD_ERR_PARSE},
        {"\"bus_type\": 3,", "\"bus_type\": 2,", "no reference bus", FOLD_ERR_PARSE},
        {"\"angmin\": -30, \"angmax\": 30},\n  \"2\"", "\"angmin\": 30, \"angmax\": -30},\n  \"2\"",
         "branch \"1\"", FOLD_ERR_PARSE},
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        char text[sizeof hand_json + 256];
        const char *at = strstr(hand_json, bad[k].from);
        ck_assert_msg(at != NULL, "fixture %zu", k);
        snprintf(text, sizeof text, "%.*s%s%s", (int)(at - hand_json), hand_json, bad[k].to,
                 at + strlen(bad[k].from));
        fold_acopf_case *cs = NULL;
        ck_assert_acopf(fold_acopf_case_parse(text, strlen(text), "bad.json", &cs), bad[k].st);
        ck_assert_msg(strstr(fold_last_error(), bad[k].msg) &&
                          strstr(fold_last_error(), "bad.json"),
                      "case %zu: '%s' lacks '%s'", k, fold_last_error(), bad[k].msg);
        ck_assert_ptr_null(cs);
    }
    /* neither MATPOWER nor JSON: the formats foldopt reads are named */
    const char *raw = "0,   100.00, 33, 0, 1, 60.00     / PSS(R)E-33 RAW created\n";
    fold_acopf_case *cs = NULL;
    ck_assert_acopf(fold_acopf_case_parse(raw, strlen(raw), "grid.raw", &cs), FOLD_ERR_PARSE);
    ck_assert_ptr_nonnull(strstr(fold_last_error(), "MATPOWER case format version 2"));
    ck_assert_ptr_nonnull(strstr(fold_last_error(), "PowerModels"));
    ck_assert_ptr_nonnull(strstr(fold_last_error(), "PSS/E"));
    ck_assert_acopf(fold_acopf_case_parse("[1, 2]", 6, "list.json", &cs), FOLD_ERR_PARSE);
    ck_assert_ptr_nonnull(strstr(fold_last_error(), "not an object"));
    ck_assert_acopf(fold_acopf_case_parse("{\"a\": ", 6, "cut.json", &cs), FOLD_ERR_PARSE);
    ck_assert_acopf(fold_acopf_case_parse("", 0, "empty.m", &cs), FOLD_ERR_PARSE);
    ck_assert_ptr_nonnull(strstr(fold_last_error(), "empty"));
    ck_assert_acopf(fold_acopf_case_write_pm_json(NULL, stdout), FOLD_ERR_ARGUMENT);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("acopf_pm_json");
    TCase *tc = tcase_create("pm_json");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, round_trip_pglib, 0, 4);
    tcase_add_test(tc, round_trip_grid_pwl);
    tcase_add_test(tc, hand_written);
    tcase_add_test(tc, errors);
    suite_add_tcase(s, tc);
    return fold_test_run(s);
}
