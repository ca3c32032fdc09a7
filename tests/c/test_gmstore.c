/*
 * C tests of the gmstore ABI: every exported function's success path, a
 * table of bad inputs with the status and message each must produce, and
 * several pthreads sharing one store. Built with -std=c11 -Wall -Wextra
 * -Werror and run under ASan+UBSan and valgrind by `make test`.
 */
#define _POSIX_C_SOURCE 200809L
#include "gmstore.h"
#include "gmstore.h" /* the header must survive a second inclusion */

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifndef EXPECTED_VERSION
#error "build with -DEXPECTED_VERSION=\"x.y.z\" taken from Cargo.toml"
#endif

static int passed, failed;

#define CHECK(cond)                                                            \
    do {                                                                       \
        if (cond) {                                                            \
            passed++;                                                          \
        } else {                                                               \
            failed++;                                                          \
            fprintf(stderr, "%s:%d: FAILED: %s (last error: %s)\n", __FILE__, \
                    __LINE__, #cond, gm_last_error_message());                 \
        }                                                                      \
    } while (0)

#define CHECK_OK(call) CHECK((call) == GM_OK)

static char db_path[256];
static gm_store *S;        /* read-write store used by most tests */
static int64_t concept_a;  /* an existing concept (dimension 4) */
static int64_t concept_b;

static const float EMB4[4] = {0.5f, -0.25f, 1.0f, 0.0f};

static gm_episode_input episode_input(const char *context, double score) {
    static const uint8_t data[] = {1, 2, 3, 0, 255};
    gm_episode_input in;
    memset(&in, 0, sizeof in);
    in.experience_data = data;
    in.experience_len = sizeof data;
    in.performance_score = score;
    in.context_hash = context;
    return in;
}

static gm_sampler_config prioritized(double alpha, uint64_t seed) {
    gm_sampler_config c;
    memset(&c, 0, sizeof c);
    c.weighting = GM_WEIGHTING_PRIORITIZED;
    c.alpha = alpha;
    c.seed = seed;
    return c;
}

/* ---------- success paths ---------------------------------------------- */

static void test_version(void) {
    CHECK(gm_version() == GM_VERSION_NUMBER);
    CHECK(strcmp(gm_version_string(), EXPECTED_VERSION) == 0);
    char header_version[32];
    snprintf(header_version, sizeof header_version, "%d.%d.%d", GM_VERSION_MAJOR,
             GM_VERSION_MINOR, GM_VERSION_PATCH);
    CHECK(strcmp(header_version, EXPECTED_VERSION) == 0);
    CHECK(strncmp(gm_sqlite_version(), "3.", 2) == 0);
    CHECK(strcmp(gm_status_name(GM_ERR_BUSY), "GM_ERR_BUSY") == 0);
    CHECK(strcmp(gm_status_name(9999), "GM_ERR_UNKNOWN") == 0);
}

/* GM_OPTIONS_INIT is written by hand in cbindgen.toml: it must stay what
 * gm_options_init writes, field for field, and open a store. */
static void test_options_initializer(void) {
    const gm_options fixed = GM_OPTIONS_INIT;
    gm_options filled;
    CHECK_OK(gm_options_init(&filled));
    CHECK(fixed.struct_size == filled.struct_size);
    CHECK(fixed.max_backups == filled.max_backups);
    CHECK(fixed.backup_interval_secs == filled.backup_interval_secs);
    CHECK(fixed.connection_timeout_secs == filled.connection_timeout_secs);
    CHECK(fixed.enable_wal == filled.enable_wal);
    CHECK(fixed.read_only == filled.read_only);
    CHECK(fixed.synchronous == filled.synchronous);
    CHECK(fixed.knn_cache == filled.knn_cache);
    CHECK(fixed.page_size == filled.page_size);
    CHECK(fixed.embedding_dim == filled.embedding_dim);
    CHECK(fixed.file_mode == filled.file_mode);
    CHECK(fixed.reserved == filled.reserved);
    CHECK(fixed.max_db_size == filled.max_db_size);
    gm_store *s = NULL;
    CHECK_OK(gm_open(":memory:", &fixed, &s));
    gm_close(s);
}

static void test_episodes(void) {
    gm_episode_input in = episode_input("nav_level_1", 0.85);
    in.metadata = "{\"difficulty\": \"medium\"}";
    in.timestamp = 1000.0;
    in.has_timestamp = 1;
    int64_t id = 0;
    CHECK_OK(gm_store_episode(S, &in, &id));
    CHECK(id > 0);

    gm_episode *e = NULL;
    CHECK_OK(gm_get_episode(S, id, &e));
    CHECK(e != NULL && e->id == id && e->performance_score == 0.85 && e->timestamp == 1000.0);
    CHECK(e != NULL && e->experience_len == 5 && e->experience_data[3] == 0 && e->experience_data[4] == 255);
    CHECK(e != NULL && strcmp(e->context_hash, "nav_level_1") == 0 && e->context_hash_len == 11);
    CHECK(e != NULL && strcmp(e->metadata, "{\"difficulty\": \"medium\"}") == 0);
    gm_episode_free(e);

    gm_episode_input batch[3];
    for (int i = 0; i < 3; i++) {
        batch[i] = episode_input("nav_level_2", 0.1 * (i + 1));
        batch[i].has_timestamp = 1;
        batch[i].timestamp = 2000.0 + i;
    }
    int64_t ids[3] = {0};
    CHECK_OK(gm_store_episodes(S, batch, 3, ids));
    CHECK(ids[0] > id && ids[1] == ids[0] + 1 && ids[2] == ids[1] + 1);
    CHECK_OK(gm_store_episodes(S, NULL, 0, NULL));

    gm_episode_list *list = NULL;
    double min_score = 0.15;
    CHECK_OK(gm_get_episodes_by_context(S, "nav_level_2", 10, &min_score, &list));
    CHECK(list != NULL && list->len == 2);
    /* newest first */
    CHECK(list != NULL && list->len == 2 && list->items[0].id == ids[2] && list->items[1].id == ids[1]);
    CHECK(list != NULL && list->arena != NULL && list->arena_len > 0);
    gm_episode_list_free(list);

    CHECK_OK(gm_get_episodes_by_context(S, "nav_level_2", 1, NULL, &list));
    CHECK(list != NULL && list->len == 1);
    gm_episode_list_free(list);

    CHECK_OK(gm_get_episodes_by_context(S, "no_such_context", 10, NULL, &list));
    CHECK(list != NULL && list->len == 0);
    gm_episode_list_free(list);

    gm_episode_input now_in = episode_input("recent", 1.0); /* timestamp: now */
    CHECK_OK(gm_store_episode(S, &now_in, &id));
    CHECK_OK(gm_get_recent_episodes(S, 3600.0, 100, &list));
    CHECK(list != NULL && list->len == 1 && list->items[0].id == id);
    gm_episode_list_free(list);

    int64_t count = -1;
    CHECK_OK(gm_count_episodes(S, &count));
    CHECK(count == 5);

    CHECK(gm_get_episode(S, 999999, &e) == GM_ERR_NOT_FOUND && e == NULL);
    gm_episode_free(NULL);
    gm_episode_list_free(NULL);
}

static void test_concepts(void) {
    const float emb_b[4] = {1.0f, 2.0f, 3.0f, 4.0f};
    CHECK_OK(gm_store_concept(S, "neural_network", EMB4, 4, "{\"category\": \"ml\"}", NULL, &concept_a));
    CHECK_OK(gm_store_concept(S, "neural_field", emb_b, 4, NULL, NULL, &concept_b));
    CHECK(concept_a > 0 && concept_b > concept_a);

    size_t dim = 0;
    CHECK_OK(gm_embedding_dim(S, &dim));
    CHECK(dim == 4);

    gm_concept *c = NULL;
    CHECK_OK(gm_get_concept(S, concept_a, &c));
    CHECK(c != NULL && c->embedding_len == 4 && memcmp(c->embedding, EMB4, sizeof EMB4) == 0);
    CHECK(c != NULL && strcmp(c->name, "neural_network") == 0 && c->access_count == 0);
    gm_concept_free(c);

    /* by name counts an access */
    CHECK_OK(gm_get_concept_by_name(S, "neural_network", &c));
    CHECK(c != NULL && c->access_count == 1 && c->last_accessed > 0);
    gm_concept_free(c);
    CHECK_OK(gm_get_concept_by_name(S, "neural_network", &c));
    CHECK(c != NULL && c->access_count == 2);
    gm_concept_free(c);

    /* upsert keeps id, access count and metadata when metadata is NULL */
    int64_t again = 0;
    CHECK_OK(gm_store_concept(S, "neural_network", emb_b, 4, NULL, NULL, &again));
    CHECK(again == concept_a);
    CHECK_OK(gm_get_concept(S, concept_a, &c));
    CHECK(c != NULL && c->access_count == 2 && c->embedding[3] == 4.0f);
    CHECK(c != NULL && strcmp(c->metadata, "{\"category\": \"ml\"}") == 0);
    gm_concept_free(c);

    gm_concept_list *list = NULL;
    CHECK_OK(gm_search_concepts(S, "neural", 10, &list));
    CHECK(list != NULL && list->len == 2 && list->floats_len == 8);
    /* most accessed first; embeddings form one row-major matrix */
    CHECK(list != NULL && list->len == 2 && list->items[0].id == concept_a);
    CHECK(list != NULL && list->len == 2 && list->items[1].embedding == list->floats + 4);
    gm_concept_list_free(list);
    CHECK_OK(gm_search_concepts(S, "", 10, &list));
    CHECK(list != NULL && list->len == 2);
    gm_concept_list_free(list);
    CHECK_OK(gm_search_concepts(S, "neural_f%", 10, &list));
    CHECK(list != NULL && list->len == 1 && list->items[0].id == concept_b);
    gm_concept_list_free(list);

    int64_t count = 0;
    CHECK_OK(gm_count_concepts(S, &count));
    CHECK(count == 2);
    CHECK(gm_get_concept_by_name(S, "missing", &c) == GM_ERR_NOT_FOUND && c == NULL);
    gm_concept_free(NULL);
    gm_concept_list_free(NULL);
}

static void test_relationships(void) {
    CHECK_OK(gm_add_relationship(S, concept_a, concept_b, "similar_to", 0.8));
    CHECK_OK(gm_add_relationship(S, concept_a, concept_b, "part_of", 0.9));
    CHECK_OK(gm_add_relationship(S, concept_a, concept_b, "similar_to", 0.7)); /* update */
    gm_relationship_list *list = NULL;
    CHECK_OK(gm_get_relationships(S, concept_a, NULL, &list));
    CHECK(list != NULL && list->len == 2);
    CHECK(list != NULL && list->len == 2 && strcmp(list->items[0].relationship_type, "part_of") == 0);
    CHECK(list != NULL && list->len == 2 && list->items[1].strength == 0.7 && list->items[1].target_id == concept_b);
    gm_relationship_list_free(list);
    CHECK_OK(gm_get_relationships(S, concept_a, "similar_to", &list));
    CHECK(list != NULL && list->len == 1);
    gm_relationship_list_free(list);
    gm_relationship_list_free(NULL);
}

/* Strategy statistics and suggestions: the C view of the same numbers. */
static void test_strategy_stats(void) {
    const double deltas[5] = {1.0, 2.0, 3.0, 4.0, 10.0};
    const char *names[5] = {"four", "four", "four", "four", "once"};
    for (int i = 0; i < 5; i++) {
        int64_t id = 0;
        double ts = 50.0 + i;
        CHECK_OK(gm_store_learning_event(S, "bandit_c", deltas[i], names[i], NULL, &ts, &id));
    }
    gm_strategy_summary_list *l = NULL;
    CHECK_OK(gm_strategy_stats(S, "bandit_c", NULL, &l));
    CHECK(l != NULL && l->len == 2);
    if (l != NULL && l->len == 2) {
        const gm_strategy_summary *once = &l->items[0], *four = &l->items[1];
        CHECK(strcmp(once->strategy, "once") == 0 && once->count == 1 && once->mean == 10.0);
        CHECK(isnan(once->std_dev) && isinf(once->ci_low) && once->ci_low < 0 && isinf(once->ci_high));
        /* mean 2.5, sd sqrt(5/3), t(0.975, 3) = 3.182446305284263 */
        double se = sqrt(5.0 / 3.0) / 2.0;
        CHECK(four->count == 4 && four->mean == 2.5 && fabs(four->std_error - se) < 1e-15);
        CHECK(fabs(four->ci_low - (2.5 - 3.182446305284263 * se)) < 1e-12);
        CHECK(four->first_used == 50.0 && four->last_used == 53.0 && four->strategy_len == 4);
    }
    gm_strategy_summary_list_free(l);

    /* Lower-bound order and a window: the single use drops to last, then out. */
    gm_strategy_query q;
    memset(&q, 0, sizeof q);
    q.order = GM_STRATEGY_ORDER_LOWER_BOUND;
    CHECK_OK(gm_strategy_stats(S, "bandit_c", &q, &l));
    CHECK(l != NULL && l->len == 2 && strcmp(l->items[0].strategy, "four") == 0);
    gm_strategy_summary_list_free(l);
    q.has_since = 1;
    q.since = 52.0;
    q.min_count = 2;
    CHECK_OK(gm_strategy_stats(S, "bandit_c", &q, &l));
    CHECK(l != NULL && l->len == 1 && l->items[0].count == 2 && l->items[0].mean == 3.5);
    gm_strategy_summary_list_free(l);
    CHECK_OK(gm_strategy_stats(S, "no such task", NULL, &l));
    CHECK(l != NULL && l->len == 0);
    gm_strategy_summary_list_free(l);

    /* UCB1 tries a candidate never tried first; Thompson repeats with its seed. */
    const char *candidates[3] = {"four", "fresh", "once"};
    gm_suggestion *pick = NULL;
    CHECK_OK(gm_suggest_strategy(S, "bandit_c", candidates, 3, NULL, &pick));
    CHECK(pick != NULL && strcmp(pick->strategy, "fresh") == 0 && pick->candidate_index == 1 &&
          pick->count == 0 && isinf(pick->score) && isnan(pick->mean));
    gm_suggestion_free(pick);
    gm_suggest_options o;
    memset(&o, 0, sizeof o);
    o.method = GM_SUGGEST_THOMPSON;
    o.seed = 42;
    gm_suggestion *first = NULL, *again = NULL;
    CHECK_OK(gm_suggest_strategy(S, "bandit_c", NULL, 0, &o, &first));
    CHECK_OK(gm_suggest_strategy(S, "bandit_c", NULL, 0, &o, &again));
    CHECK(first && again && strcmp(first->strategy, again->strategy) == 0 && first->score == again->score &&
          first->candidate_index == -1);
    gm_suggestion_free(first);
    gm_suggestion_free(again);
    gm_suggestion_free(NULL);
    gm_strategy_summary_list_free(NULL);
}

static void test_learning(void) {
    const char *strategies[3] = {"adam", "sgd", "adam"};
    const double deltas[3] = {0.15, 0.05, 0.25};
    for (int i = 0; i < 3; i++) {
        int64_t id = 0;
        double ts = 100.0 + i;
        CHECK_OK(gm_store_learning_event(S, "image_classification", deltas[i], strategies[i],
                                         "{\"learning_rate\": 0.001}", &ts, &id));
        CHECK(id > 0);
    }
    gm_learning_event_list *events = NULL;
    double min_delta = 0.1;
    CHECK_OK(gm_get_learning_events_by_task(S, "image_classification", 50, &min_delta, &events));
    CHECK(events != NULL && events->len == 2 && events->items[0].performance_delta == 0.25);
    CHECK(events != NULL && events->len == 2 && strcmp(events->items[0].parameters, "{\"learning_rate\": 0.001}") == 0);
    gm_learning_event_list_free(events);

    gm_strategy_list *best = NULL;
    CHECK_OK(gm_get_best_strategies(S, "image_classification", 5, &best));
    CHECK(best != NULL && best->len == 2);
    CHECK(best != NULL && best->len == 2 && strcmp(best->items[0].strategy, "adam") == 0);
    CHECK(best != NULL && best->len == 2 && fabs(best->items[0].avg_delta - 0.2) < 1e-12 && best->items[0].usage_count == 2);
    gm_strategy_list_free(best);
    int64_t count = 0;
    CHECK_OK(gm_count_learning_events(S, &count));
    CHECK(count == 3);

    /* A batch: all or none, ids in order, the bad item named by index. */
    gm_learning_event_input batch[3] = {
        {"batch_task", 0.5, "x", NULL, 7.0, 1, {0}},
        {"batch_task", 0.7, "y", "{\"k\": 1}", 8.0, 1, {0}},
        {"batch_task", 0.6, "x", NULL, 0.0, 0, {0}},
    };
    int64_t ids[3] = {0};
    CHECK_OK(gm_store_learning_events(S, batch, 3, ids));
    CHECK(ids[0] > 0 && ids[1] == ids[0] + 1 && ids[2] == ids[1] + 1);
    batch[2].performance_delta = NAN;
    CHECK(gm_store_learning_events(S, batch, 3, ids) == GM_ERR_INVALID_ARGUMENT);
    CHECK(strstr(gm_last_error_message(), "events[2].performance_delta") != NULL);
    CHECK_OK(gm_store_learning_events(S, NULL, 0, NULL));
    CHECK_OK(gm_count_learning_events(S, &count));
    CHECK(count == 6);
    gm_learning_event_list *batched = NULL;
    CHECK_OK(gm_get_learning_events_by_task(S, "batch_task", 10, NULL, &batched));
    CHECK(batched != NULL && batched->len == 3);
    CHECK(batched != NULL && batched->len == 3 && batched->items[0].timestamp > 1e9); /* "now" */
    CHECK(batched != NULL && batched->len == 3 && strcmp(batched->items[1].parameters, "{\"k\": 1}") == 0);
    gm_learning_event_list_free(batched);
    gm_learning_event_list_free(NULL);
    gm_strategy_list_free(NULL);
}

static void test_transactions(void) {
    int64_t before = 0, after = 0, id = 0;
    CHECK_OK(gm_count_episodes(S, &before));

    CHECK_OK(gm_begin(S));
    gm_episode_input in = episode_input("tx", 0.5);
    CHECK_OK(gm_store_episode(S, &in, &id));
    gm_value params[5];
    memset(params, 0, sizeof params);
    static const uint8_t blob[2] = {9, 8};
    params[0].kind = GM_VALUE_REAL;    params[0].real_value = 42.0;
    params[1].kind = GM_VALUE_BLOB;    params[1].data = blob; params[1].len = 2;
    params[2].kind = GM_VALUE_REAL;    params[2].real_value = 0.25;
    params[3].kind = GM_VALUE_TEXT;    params[3].data = (const uint8_t *)"tx"; params[3].len = 2;
    params[4].kind = GM_VALUE_NULL;
    int64_t changes = 0;
    CHECK_OK(gm_execute(S, "INSERT INTO episodes (timestamp, experience_data, performance_score, context_hash, metadata) "
                           "VALUES (?, ?, ?, ?, coalesce(?, '{}'))", params, 5, &changes));
    CHECK(changes == 1);
    /* nested scope rolled back alone */
    CHECK_OK(gm_begin(S));
    CHECK_OK(gm_store_episode(S, &in, &id));
    CHECK_OK(gm_rollback(S));
    CHECK_OK(gm_commit(S));
    CHECK_OK(gm_count_episodes(S, &after));
    CHECK(after == before + 2);

    CHECK_OK(gm_begin(S));
    CHECK_OK(gm_store_episode(S, &in, &id));
    CHECK_OK(gm_rollback(S));
    CHECK_OK(gm_count_episodes(S, &after));
    CHECK(after == before + 2);

    CHECK(gm_commit(S) == GM_ERR_MISUSE);
    CHECK(strstr(gm_last_error_message(), "no transaction") != NULL);
    CHECK(gm_execute(S, "BEGIN", NULL, 0, NULL) == GM_ERR_INVALID_ARGUMENT);
    CHECK(gm_execute(S, "PRAGMA foreign_keys = OFF", NULL, 0, NULL) == GM_ERR_INVALID_ARGUMENT);
    CHECK(gm_execute(S, "SELEC nonsense", NULL, 0, NULL) == GM_ERR_INVALID_ARGUMENT);
}

/* A full disk inside a transaction: SQLite rolls it all back; later writes
 * and commit are refused instead of running outside it, rollback ends it. */
static void test_transaction_rolled_back_by_sqlite(void) {
    char path[300];
    snprintf(path, sizeof path, "%s.capped", db_path);
    gm_options o;
    gm_options_init(&o);
    o.max_db_size = 400000;
    gm_store *capped = NULL;
    CHECK_OK(gm_open(path, &o, &capped));
    static uint8_t big[50000];
    gm_episode_input in = episode_input("capped", 0.5);
    int64_t id = 0, count = -1;
    CHECK_OK(gm_begin(capped));
    CHECK_OK(gm_store_episode(capped, &in, &id));
    in.experience_data = big;
    in.experience_len = sizeof big;
    gm_status st = GM_OK;
    for (int i = 0; i < 100 && st == GM_OK; i++) st = gm_store_episode(capped, &in, &id);
    CHECK(st == GM_ERR_FULL);
    CHECK(strstr(gm_last_error_message(), "rolled back the whole transaction") != NULL);
    in = episode_input("late", 0.5);
    CHECK(gm_store_episode(capped, &in, &id) == GM_ERR_MISUSE);
    CHECK(strstr(gm_last_error_message(), "nothing of it was kept") != NULL);
    CHECK(gm_commit(capped) == GM_ERR_MISUSE);
    CHECK(gm_rollback(capped) == GM_ERR_MISUSE); /* the commit closed the level */
    CHECK_OK(gm_count_episodes(capped, &count));
    CHECK(count == 0);
    CHECK_OK(gm_store_episode(capped, &in, &id));
    gm_close(capped);
    unlink(path);
    char side[320];
    snprintf(side, sizeof side, "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", path);
    unlink(side);
}

static void test_stats_and_errors(void) {
    gm_stats *st = NULL;
    CHECK_OK(gm_get_stats(S, &st));
    CHECK(st != NULL && st->episodes_count == 7 && st->concepts_count == 2);
    CHECK(st != NULL && st->learning_events_count == 11 && st->relationships_count == 2);
    CHECK(st != NULL && st->schema_version == 9 && st->page_size == 16384 && st->embedding_dim == 4);
    CHECK(st != NULL && st->db_size_bytes > 0 && st->db_size_mb > 0.0);
    gm_stats_free(st);
    gm_stats_free(NULL);

    int64_t problems = -1;
    char *report = NULL;
    CHECK_OK(gm_integrity_check(S, &problems, &report));
    CHECK(problems == 0 && report != NULL && strcmp(report, "ok") == 0);
    gm_string_free(report);
    gm_string_free(NULL);

    /* last error: set by a failure, copied out, cleared by a success */
    int64_t id = 0;
    gm_episode_input in = episode_input("x", NAN);
    CHECK(gm_store_episode(S, &in, &id) == GM_ERR_INVALID_ARGUMENT);
    size_t needed = 0;
    CHECK(gm_last_error_copy(NULL, 0, &needed) == GM_ERR_BUFFER_TOO_SMALL);
    CHECK(needed == strlen(gm_last_error_message()) + 1);
    char small[4];
    CHECK(gm_last_error_copy(small, sizeof small, &needed) == GM_ERR_BUFFER_TOO_SMALL);
    char *buf = malloc(needed);
    CHECK(gm_last_error_copy(buf, needed, NULL) == GM_OK);
    CHECK(strstr(buf, "performance_score") != NULL);
    free(buf);
    CHECK_OK(gm_count_episodes(S, &id));
    CHECK(strcmp(gm_last_error_message(), "") == 0);

    gm_options opts;
    CHECK_OK(gm_options_init(&opts));
    CHECK(opts.struct_size == sizeof(gm_options) && opts.enable_wal == 1 && opts.max_backups == 10);
    CHECK(opts.connection_timeout_secs == 30.0 && opts.backup_interval_secs == 3600);
}

/* ---------- the bad-input table ----------------------------------------- */

typedef gm_status (*bad_call)(void);

typedef struct {
    const char *name;      /* the call and what is wrong with it */
    bad_call call;
    gm_status expected;
    const char *fragment;  /* must appear in gm_last_error_message() */
} bad_case;

static int64_t i64_out;
static gm_episode *ep_out;
static gm_concept *c_out;
static gm_episode_list *el_out;
static gm_concept_list *cl_out;
static const float NAN4[4] = {0.0f, NAN, 0.0f, 0.0f};
static const float INF4[4] = {0.0f, 0.0f, INFINITY, 0.0f};
static const char BAD_UTF8[] = {'a', (char)0xff, 'b', 0};
static char closed_marker;

static gm_status ep_with(const char *ctx, double score, const char *meta) {
    gm_episode_input in = episode_input(ctx, score);
    in.metadata = meta;
    return gm_store_episode(S, &in, &i64_out);
}
static gm_status ep_ts(double ts) {
    gm_episode_input in = episode_input("ctx", 0.5);
    in.timestamp = ts;
    in.has_timestamp = 1;
    return gm_store_episode(S, &in, &i64_out);
}

static gm_status b01(void) { gm_episode_input in = episode_input("c", 1); return gm_store_episode(NULL, &in, &i64_out); }
static gm_status b02(void) { return gm_store_episode(S, NULL, &i64_out); }
static gm_status b03(void) { gm_episode_input in = episode_input("c", 1); return gm_store_episode(S, &in, NULL); }
static gm_status b04(void) { return ep_with(NULL, 1.0, NULL); }
static gm_status b05(void) { return ep_with(BAD_UTF8, 1.0, NULL); }
static gm_status b06(void) { return ep_with("c", NAN, NULL); }
static gm_status b07(void) { return ep_with("c", INFINITY, NULL); }
static gm_status b08(void) { return ep_with("c", -INFINITY, NULL); }
static gm_status b09(void) { return ep_with("", 1.0, NULL); }
static gm_status b10(void) { return ep_with("c", 1.0, "[1, 2]"); }
static gm_status b11(void) { return ep_with("c", 1.0, "not json"); }
static gm_status b12(void) { return ep_with("c", 1.0, BAD_UTF8); }
static gm_status b13(void) { return ep_ts(NAN); }
static gm_status b14(void) { gm_episode_input in = episode_input("c", 1); in.experience_data = NULL; return gm_store_episode(S, &in, &i64_out); }
static gm_status b15(void) { gm_episode_input in = episode_input("c", 1); in.has_timestamp = 7; return gm_store_episode(S, &in, &i64_out); }
static gm_status b16(void) { gm_episode_input b[2] = {episode_input("c", 1), episode_input("c", NAN)}; int64_t ids[2]; return gm_store_episodes(S, b, 2, ids); }
static gm_status b17(void) { gm_episode_input b[1] = {episode_input("c", 1)}; return gm_store_episodes(S, b, 1, NULL); }
static gm_status b18(void) { return gm_store_episodes(S, NULL, 3, &i64_out); }
static gm_status b19(void) { return gm_get_episode(S, -5, &ep_out); }
static gm_status b20(void) { return gm_get_episode(S, 0, &ep_out); }
static gm_status b21(void) { return gm_get_episode(S, 123456789, &ep_out); }
static gm_status b22(void) { return gm_get_episode(S, 1, NULL); }
static gm_status b23(void) { return gm_get_episodes_by_context(S, "c", -1, NULL, &el_out); }
static gm_status b24(void) { return gm_get_episodes_by_context(S, "c", INT64_MAX, NULL, &el_out); }
static gm_status b25(void) { double m = NAN; return gm_get_episodes_by_context(S, "c", 10, &m, &el_out); }
static gm_status b26(void) { return gm_get_recent_episodes(S, INFINITY, 10, &el_out); }
static gm_status b27(void) { return gm_get_recent_episodes(S, -1.0, 10, &el_out); }
static gm_status b28(void) { return gm_store_concept(S, "x", NAN4, 4, NULL, NULL, &i64_out); }
static gm_status b29(void) { return gm_store_concept(S, "x", INF4, 4, NULL, NULL, &i64_out); }
static gm_status b30(void) { return gm_store_concept(S, "x", EMB4, 0, NULL, NULL, &i64_out); }
static gm_status b31(void) { return gm_store_concept(S, "x", EMB4, (size_t)1 << 40, NULL, NULL, &i64_out); }
static gm_status b32(void) { return gm_store_concept(S, "x", EMB4, 3, NULL, NULL, &i64_out); }
static gm_status b33(void) { return gm_store_concept(S, "x", NULL, 4, NULL, NULL, &i64_out); }
static gm_status b34(void) { return gm_store_concept(S, "x", EMB4, 4, "42", NULL, &i64_out); }
static gm_status b35(void) { return gm_store_concept(S, BAD_UTF8, EMB4, 4, NULL, NULL, &i64_out); }
static gm_status b36(void) { return gm_store_concept(S, "", EMB4, 4, NULL, NULL, &i64_out); }
static gm_status b37(void) { double t = NAN; return gm_store_concept(S, "x", EMB4, 4, NULL, &t, &i64_out); }
static gm_status b38(void) { return gm_get_concept(S, 987654, &c_out); }
static gm_status b39(void) { return gm_get_concept(S, -1, &c_out); }
static gm_status b40(void) { return gm_get_concept_by_name(S, NULL, &c_out); }
static gm_status b41(void) { return gm_search_concepts(S, "a", -3, &cl_out); }
static gm_status b42(void) { return gm_search_concepts(S, NULL, 3, &cl_out); }
static gm_status b43(void) { return gm_add_relationship(S, concept_a, concept_b, "r", 1.5); }
static gm_status b44(void) { return gm_add_relationship(S, concept_a, concept_b, "r", -0.1); }
static gm_status b45(void) { return gm_add_relationship(S, concept_a, concept_b, "r", NAN); }
static gm_status b46(void) { return gm_add_relationship(S, concept_a, 424242, "r", 0.5); }
static gm_status b47(void) { return gm_add_relationship(S, -1, concept_b, "r", 0.5); }
static gm_status b48(void) { return gm_add_relationship(S, concept_a, concept_b, NULL, 0.5); }
static gm_status b49(void) { double t = INFINITY; return gm_store_learning_event(S, "t", 0.1, "s", NULL, &t, &i64_out); }
static gm_status b50(void) { return gm_store_learning_event(S, "t", NAN, "s", NULL, NULL, &i64_out); }
static gm_status b51(void) { return gm_store_learning_event(S, "t", -INFINITY, "s", NULL, NULL, &i64_out); }
static gm_status b52(void) { return gm_store_learning_event(S, "t", 0.1, "s", "\"str\"", NULL, &i64_out); }
static gm_status b53(void) { return gm_store_learning_event(S, "t", 0.1, NULL, NULL, NULL, &i64_out); }
static gm_status b54(void) { gm_learning_event_list *l = NULL; double d = NAN; return gm_get_learning_events_by_task(S, "t", 5, &d, &l); }
static gm_status b55(void) { gm_strategy_list *l = NULL; return gm_get_best_strategies(S, "t", -1, &l); }
static gm_status b56(void) { return gm_open(NULL, NULL, (gm_store **)&ep_out); }
static gm_status b57(void) { gm_store *s = NULL; return gm_open("", NULL, &s); }
static gm_status b58(void) { gm_store *s = NULL; return gm_open("/", NULL, &s); }
static gm_status b59(void) { gm_store *s = NULL; gm_options o; gm_options_init(&o); o.struct_size = 8; return gm_open(":memory:", &o, &s); }
static gm_status b60(void) { gm_store *s = NULL; gm_options o; gm_options_init(&o); o.connection_timeout_secs = NAN; return gm_open(":memory:", &o, &s); }
static gm_status b61(void) { return gm_open(":memory:", NULL, NULL); }
static gm_status b62(void) { return gm_count_episodes((gm_store *)&closed_marker, &i64_out); }
static gm_status b63(void) { gm_value v; memset(&v, 0, sizeof v); v.kind = 99; return gm_execute(S, "SELECT ?", &v, 1, NULL); }
static gm_status b64(void) { gm_value v; memset(&v, 0, sizeof v); v.kind = GM_VALUE_REAL; v.real_value = NAN; return gm_execute(S, "SELECT ?", &v, 1, NULL); }
static gm_status b65(void) { gm_value v; memset(&v, 0, sizeof v); v.kind = GM_VALUE_TEXT; v.data = (const uint8_t *)BAD_UTF8; v.len = 3; return gm_execute(S, "SELECT ?", &v, 1, NULL); }
static gm_status b66(void) { return gm_rollback(S); }
static gm_status b67(void) { return gm_options_init(NULL); }
static gm_status xenc(uint32_t dtype, uint32_t ndim, const uint64_t *shape, size_t len, const char *name, const char *values) {
    static const uint8_t data[16] = {0};
    gm_tensor t;
    memset(&t, 0, sizeof t);
    t.name = name; t.dtype = dtype; t.ndim = ndim; t.shape = shape; t.data = data; t.data_len = len;
    gm_buffer *b = NULL;
    gm_status st = gm_experience_encode(&t, 1, values, &b);
    gm_buffer_free(b);
    return st;
}
static const uint64_t SHAPE4[1] = {4};
static gm_status b68(void) { return xenc(99, 1, SHAPE4, 4, "x", NULL); }
static gm_status b69(void) { return xenc(GM_DTYPE_F32, 1, SHAPE4, 8, "x", NULL); }
static gm_status b70(void) { return xenc(GM_DTYPE_U8, 33, SHAPE4, 4, "x", NULL); }
static gm_status b71(void) { return xenc(GM_DTYPE_U8, 1, SHAPE4, 4, "", NULL); }
static gm_status b72(void) { return xenc(GM_DTYPE_U8, 1, SHAPE4, 4, "x", "{\"a\": {\"$tensor\": \"y\"}}"); }
static gm_status b73(void) { return xenc(GM_DTYPE_U8, 1, SHAPE4, 4, "x", "{not json"); }
static gm_status b74(void) { gm_experience *x = NULL; return gm_experience_decode((const uint8_t *)"garbage!", 8, &x); }
static gm_status b75(void) { gm_experience *x = NULL; return gm_experience_decode(NULL, 5, &x); }
static gm_status b76(void) { return gm_experience_encode(NULL, 0, NULL, NULL); }
static gm_neighbor_list *nl_out;
static gm_status b77(void) { return gm_nearest_concepts(S, EMB4, 4, 7, 3, NULL, &nl_out); }
static gm_status b78(void) { return gm_nearest_concepts(S, EMB4, 4, GM_METRIC_COSINE, 0, NULL, &nl_out); }
static gm_status b79(void) { return gm_nearest_concepts(S, EMB4, 3, GM_METRIC_COSINE, 3, NULL, &nl_out); }
static gm_status b80(void) { return gm_nearest_concepts(S, NAN4, 4, GM_METRIC_L2, 3, NULL, &nl_out); }
static gm_status b81(void) { return gm_nearest_concepts_batch(S, NULL, 2, 4, GM_METRIC_L2, 3, NULL, &nl_out); }
static gm_status b82(void) { return gm_build_similarity_graph(S, 1.5, 0, "x", NULL); }
static gm_status b83(void) { gm_reached_list *r = NULL; return gm_concept_neighborhood(S, 777777, 2, NULL, 0.0, &r); }
static gm_status b84(void) { gm_path *p = NULL; return gm_strongest_path(S, concept_a, concept_b, NULL, NAN, &p); }
static gm_status b85(void) { gm_learning_event_input e[1] = {{"t", 0.1, NULL, NULL, 0.0, 0, {0}}}; int64_t id; return gm_store_learning_events(S, e, 1, &id); }
static gm_status b86(void) { gm_learning_event_input e[2] = {{"t", 0.1, "s", NULL, 0.0, 0, {0}}, {"t", 0.1, "s", NULL, 0.0, 2, {0}}}; int64_t ids[2]; return gm_store_learning_events(S, e, 2, ids); }
static gm_status b87(void) { return gm_store_learning_events(S, NULL, 2, &i64_out); }
static gm_status b89(void) { return gm_search_concepts_matching(S, "x", 7, 3, &cl_out); }
static gm_status b90(void) { gm_search_filter f; memset(&f, 0, sizeof f); f.name_pattern = "x"; f.name_match = 9; return gm_nearest_concepts(S, EMB4, 4, GM_METRIC_L2, 3, &f, &nl_out); }
static gm_status b91(void) { gm_value v; memset(&v, 0, sizeof v); v.kind = GM_VALUE_INTEGER; v.reserved = 7; return gm_execute(S, "SELECT ?", &v, 1, NULL); }
static gm_status b92(void) { return gm_execute(S, "   ", NULL, 0, NULL); }
static gm_status b93(void) { return gm_execute(S, "-- only a comment", NULL, 0, NULL); }
static gm_status b94(void) { char *p = NULL; return gm_create_backup(S, "", &p); }
static gm_status b95(void) { gm_store *s = NULL; gm_options o; gm_options_init(&o); o.embedding_dim = 65537; return gm_open(":memory:", &o, &s); }
static gm_status b96(void) { uint64_t t; return gm_transaction_detach(S, &t); }
static gm_status b97(void) { return gm_transaction_attach(S, 424242); }
static gm_status b98(void) { return gm_transaction_detach(S, NULL); }
static gm_status b88(void) { return xenc(GM_DTYPE_U8, 1, SHAPE4, 4, "__metadata__", NULL); }
static gm_tensor one_tensor(uint32_t dtype) {
    static const uint8_t data[16] = {0};
    gm_tensor t;
    memset(&t, 0, sizeof t);
    t.name = "x"; t.dtype = dtype; t.ndim = 1; t.shape = SHAPE4; t.data = data; t.data_len = 16;
    return t;
}
static gm_status b99(void) { gm_tensor t = one_tensor(99); return gm_store_episode_tensors(S, &t, 1, NULL, 0.5, "c", NULL, NULL, &i64_out); }
static gm_status b100(void) { gm_tensor t = one_tensor(GM_DTYPE_F32); return gm_store_episode_tensors(S, &t, 1, NULL, NAN, "c", NULL, NULL, &i64_out); }
static gm_status b101(void) { gm_tensor t = one_tensor(GM_DTYPE_F32); return gm_store_episode_tensors(S, &t, 1, NULL, 0.5, NULL, NULL, NULL, &i64_out); }
static gm_status b102(void) { return gm_store_episode_tensors(S, NULL, 2, NULL, 0.5, "c", NULL, NULL, &i64_out); }
static gm_status b103(void) { gm_tensor t = one_tensor(GM_DTYPE_F32); return gm_store_episode_tensors(S, &t, 1, "{\"a\": {\"$tensor\": \"y\"}}", 0.5, "c", NULL, NULL, &i64_out); }
static gm_status b104(void) { gm_tensor t = one_tensor(GM_DTYPE_F32); return gm_store_episode_tensors(S, &t, 1, NULL, 0.5, "c", NULL, NULL, NULL); }
static gm_status b105(void) {
    gm_tensor good = one_tensor(GM_DTYPE_F32), bad = one_tensor(99);
    gm_tensor_episode_input e[2];
    memset(e, 0, sizeof e);
    e[0].tensors = &good; e[0].tensor_count = 1; e[0].context_hash = "c";
    e[1].tensors = &bad; e[1].tensor_count = 1; e[1].context_hash = "c";
    int64_t ids[2];
    return gm_store_episodes_tensors(S, e, 2, ids);
}
static gm_status b106(void) {
    gm_tensor_episode_input e;
    memset(&e, 0, sizeof e);
    e.context_hash = "c"; e.reserved[3] = 1;
    return gm_store_episodes_tensors(S, &e, 1, &i64_out);
}
static uint64_t into_buf[4];
static size_t size_out;
static gm_status b107(void) { return gm_get_episode_into(S, 1, (uint8_t *)into_buf, sizeof into_buf, &size_out); }
static gm_status b108(void) { return gm_get_episode_into(S, 1, (uint8_t *)into_buf + 1, 1 << 20, &size_out); }
static gm_status b109(void) { return gm_get_episode_into(S, 123456789, (uint8_t *)into_buf, sizeof into_buf, &size_out); }
static gm_status b110(void) { return gm_get_episode_into(S, 1, (uint8_t *)into_buf, sizeof into_buf, NULL); }
static gm_status b111(void) { gm_path *p = NULL; return gm_strongest_path(S, concept_a, 987654, NULL, 0.0, &p); }

static gm_strategy_summary_list *sl_out;
static gm_suggestion *sg_out;
static gm_status b112(void) { gm_strategy_query q = {NAN, 0, 0, 1, 0, {0}}; return gm_strategy_stats(S, "t", &q, &sl_out); }
static gm_status b113(void) { gm_strategy_query q = {0, -2, 0, 0, 0, {0}}; return gm_strategy_stats(S, "t", &q, &sl_out); }
static gm_status b114(void) { gm_strategy_query q = {0, 0, 0, 0, 7, {0}}; return gm_strategy_stats(S, "t", &q, &sl_out); }
static gm_status b115(void) { return gm_strategy_stats(S, "t", NULL, NULL); }
static gm_status b116(void) { return gm_suggest_strategy(S, "nope", NULL, 0, NULL, &sg_out); }
static gm_status b117(void) { const char *none[1] = {NULL}; return gm_suggest_strategy(S, "t", none, 0, NULL, &sg_out); }
static gm_status b118(void) {
    gm_suggest_options o;
    memset(&o, 0, sizeof o);
    o.prior_mean = NAN;
    o.has_prior_mean = 1;
    return gm_suggest_strategy(S, "t", NULL, 0, &o, &sg_out);
}
static gm_status b119(void) { return gm_suggest_strategy(S, "t", NULL, 2, NULL, &sg_out); }
static gm_status b120(void) { const char *c[2] = {"a", BAD_UTF8}; return gm_suggest_strategy(S, "t", c, 2, NULL, &sg_out); }
static gm_status b121(void) { const char *c[2] = {"a", "a"}; return gm_suggest_strategy(S, "t", c, 2, NULL, &sg_out); }
static gm_status b122(void) {
    gm_suggest_options o;
    memset(&o, 0, sizeof o);
    o.method = 9;
    return gm_suggest_strategy(S, "t", NULL, 0, &o, &sg_out);
}
static gm_status b123(void) {
    gm_suggest_options o;
    memset(&o, 0, sizeof o);
    o.has_prior_std = 1;
    return gm_suggest_strategy(S, "t", NULL, 0, &o, &sg_out);
}
static gm_status b124(void) { const char *c[1] = {"a"}; return gm_suggest_strategy(S, "t", c, 1, NULL, NULL); }
static gm_status b125(void) { return gm_set_knn_snapshot(NULL, "x.snap"); }
static gm_status b126(void) { return gm_set_knn_snapshot(S, "bad\xff.snap"); }
static gm_status b127(void) {
    gm_store *memory = NULL;
    if (gm_open(":memory:", NULL, &memory) != GM_OK) return GM_ERR_INTERNAL;
    gm_status st = gm_set_knn_snapshot(memory, "x.snap");
    char kept[256];
    snprintf(kept, sizeof kept, "%s", gm_last_error_message());
    gm_close(memory);
    /* gm_close succeeded quietly; the message asserted is the call's */
    return st == GM_ERR_INVALID_ARGUMENT && strstr(kept, "knn_snapshot") ? st : GM_ERR_INTERNAL;
}
static gm_status b128(void) { return gm_knn_matrix_source(S, NULL); }
static gm_status b129(void) { return gm_save_knn_snapshot(NULL, NULL); }
static gm_status with_sampler(gm_status (*call)(gm_sampler *)) {
    gm_sampler_config c = prioritized(1.0, 1);
    gm_sampler *s = NULL;
    gm_status st = gm_sampler_new(S, &c, &s);
    if (st != GM_OK) return st;
    st = call(s);
    gm_sampler_free(s);
    return st;
}
static gm_status b130(void) { gm_sampler_config c = prioritized(-0.5, 0); gm_sampler *s; return gm_sampler_new(S, &c, &s); }
static gm_status b131(void) { gm_sampler_config c = prioritized(NAN, 0); gm_sampler *s; return gm_sampler_new(S, &c, &s); }
static gm_status b132(void) { gm_sampler_config c = prioritized(1, 0); c.weighting = 7; gm_sampler *s; return gm_sampler_new(S, &c, &s); }
static gm_status b133(void) { gm_sampler_config c = prioritized(1, 0); c.context = "bad\xff"; gm_sampler *s; return gm_sampler_new(S, &c, &s); }
static gm_status b134(void) { gm_sampler_config c = prioritized(1, 0); c.has_min_score = 1; c.min_score = INFINITY; gm_sampler *s; return gm_sampler_new(S, &c, &s); }
static gm_status b135(void) { gm_sampler_config c = prioritized(1, 0); c.reserved[1] = 1; gm_sampler *s; return gm_sampler_new(S, &c, &s); }
static gm_status b136(void) { gm_sampler *s; return gm_sampler_new(S, NULL, &s); }
static gm_status b137(void) { gm_sampler_config c = prioritized(1, 0); return gm_sampler_new(S, &c, NULL); }
static gm_status s138(gm_sampler *s) { gm_sample out[1]; return gm_sampler_sample(s, 1, -1.0, 1, out, NULL); }
static gm_status b138(void) { return with_sampler(s138); }
static gm_status s139(gm_sampler *s) { return gm_sampler_sample(s, 1, 0.0, 1, NULL, NULL); }
static gm_status b139(void) { return with_sampler(s139); }
static gm_status s140(gm_sampler *s) { gm_sample out[1]; return gm_sampler_sample(s, 1, 0.0, 2, out, NULL); }
static gm_status b140(void) { return with_sampler(s140); }
static gm_status s141(gm_sampler *s) {
    gm_priority_update u[2] = {{1, 0, 1.0}, {2, 0, NAN}};
    return gm_sampler_update_priorities(s, u, 2, NULL, NULL);
}
static gm_status b141(void) { return with_sampler(s141); }
static gm_status s142(gm_sampler *s) { return gm_sampler_update_priorities(s, NULL, 3, NULL, NULL); }
static gm_status b142(void) { return with_sampler(s142); }
static gm_status s143(gm_sampler *s) { uint8_t st[16]; return gm_sampler_rng_state(s, st, sizeof st); }
static gm_status b143(void) { return with_sampler(s143); }
static gm_status s144(gm_sampler *s) { uint8_t st[GM_RNG_STATE_BYTES] = {0}; return gm_sampler_set_rng_state(s, st, sizeof st); }
static gm_status b144(void) { return with_sampler(s144); }
static gm_status b145(void) { gm_sample out[1]; return gm_sampler_sample(NULL, 1, 0.0, 1, out, NULL); }
static gm_status b146(void) { int64_t id = 1; double p = -2.0; return gm_set_episode_priorities(S, &id, &p, 1, NULL); }
static gm_status b147(void) { double p = 1.0; return gm_set_episode_priorities(S, NULL, &p, 1, NULL); }

static gm_retention_policy keep_at_most(int64_t n) {
    gm_retention_policy p;
    gm_retention_policy_init(&p);
    p.has_max_episodes = 1;
    p.max_episodes = n;
    return p;
}
static gm_status b148(void) { gm_retention_policy p = keep_at_most(3); p.struct_size = 8; return gm_set_retention_policy(S, &p, NULL); }
static gm_status b149(void) { gm_retention_policy p = keep_at_most(-1); return gm_set_retention_policy(S, &p, NULL); }
static gm_status b150(void) { gm_retention_policy p = keep_at_most(3); p.has_max_age_seconds = 1; p.max_age_seconds = NAN; return gm_set_retention_policy(S, &p, NULL); }
static gm_status b151(void) { gm_retention_policy p = keep_at_most(3); p.order = 9; return gm_set_retention_policy(S, &p, NULL); }
static gm_status b152(void) { gm_retention_policy p = keep_at_most(3); p.has_max_episodes = 2; return gm_set_retention_policy(S, &p, NULL); }
static gm_status b153(void) { gm_retention_policy p = keep_at_most(3); p.protect_key = "demo\xff"; p.protect_value = "true"; return gm_set_retention_policy(S, &p, NULL); }
static gm_status b154(void) { gm_retention_policy p = keep_at_most(3); p.protect_key = "demo"; p.protect_value = "tru"; return gm_set_retention_policy(S, &p, NULL); }
static gm_status b155(void) { gm_retention_policy p = keep_at_most(3); p.protect_key = "demo"; return gm_set_retention_policy(S, &p, NULL); }
static gm_status b156(void) { gm_retention_policy p = keep_at_most(3); p.top_k_per_context = 1; return gm_set_retention_policy(S, &p, NULL); }
static gm_status b157(void) { return gm_get_retention(S, NULL); }
static gm_status b158(void) { gm_pruned *out = NULL; return gm_prune(S, 2, &out); }
static gm_status b159(void) { gm_evictions e; return gm_last_evictions(NULL, &e); }
static gm_status b160(void) { gm_retention_policy p = keep_at_most(3); p.reserved[2] = 1; return gm_set_retention_policy(S, &p, NULL); }
static gm_status b161(void) { gm_retention_policy p = keep_at_most(3); p.protect_key = "a\"b"; p.protect_value = "1"; return gm_set_retention_policy(S, &p, NULL); }

static gm_status s162(gm_sampler *s) { gm_sample out[1]; return gm_sampler_sample_episodes(s, 1, 0.0, 1, out, NULL, NULL); }
static gm_status b162(void) { return with_sampler(s162); }
static gm_status s163(gm_sampler *s) { gm_episode_list *l = NULL; return gm_sampler_sample_episodes(s, 2, 0.0, 1, NULL, NULL, &l); }
static gm_status b163(void) { return with_sampler(s163); }

static const bad_case BAD_INPUTS[] = {
    {"gm_store_episode: NULL store", b01, GM_ERR_INVALID_ARGUMENT, "store: must not be NULL"},
    {"gm_store_episode: NULL episode", b02, GM_ERR_INVALID_ARGUMENT, "episode: must not be NULL"},
    {"gm_store_episode: NULL out_id", b03, GM_ERR_INVALID_ARGUMENT, "out_id: must not be NULL"},
    {"gm_store_episode: NULL context_hash", b04, GM_ERR_INVALID_ARGUMENT, "episode.context_hash: must not be NULL"},
    {"gm_store_episode: invalid UTF-8 context_hash", b05, GM_ERR_INVALID_ARGUMENT, "episode.context_hash: not valid UTF-8"},
    {"gm_store_episode: NaN score", b06, GM_ERR_INVALID_ARGUMENT, "performance_score: must be a finite number"},
    {"gm_store_episode: +inf score", b07, GM_ERR_INVALID_ARGUMENT, "performance_score: must be a finite number"},
    {"gm_store_episode: -inf score", b08, GM_ERR_INVALID_ARGUMENT, "performance_score: must be a finite number"},
    {"gm_store_episode: empty context_hash", b09, GM_ERR_INVALID_ARGUMENT, "context_hash: must not be empty"},
    {"gm_store_episode: metadata is a JSON array", b10, GM_ERR_INVALID_ARGUMENT, "metadata: not a JSON object"},
    {"gm_store_episode: metadata is not JSON", b11, GM_ERR_INVALID_ARGUMENT, "metadata: not valid JSON"},
    {"gm_store_episode: metadata invalid UTF-8", b12, GM_ERR_INVALID_ARGUMENT, "episode.metadata: not valid UTF-8"},
    {"gm_store_episode: NaN timestamp", b13, GM_ERR_INVALID_ARGUMENT, "timestamp: must be a finite number"},
    {"gm_store_episode: NULL data with length 5", b14, GM_ERR_INVALID_ARGUMENT, "experience_data: is NULL but its length is 5"},
    {"gm_store_episode: has_timestamp not 0/1", b15, GM_ERR_INVALID_ARGUMENT, "has_timestamp: must be 0 or 1"},
    {"gm_store_episodes: NaN in item 1", b16, GM_ERR_INVALID_ARGUMENT, "episodes[1].performance_score"},
    {"gm_store_episodes: NULL out_ids", b17, GM_ERR_INVALID_ARGUMENT, "out_ids: must not be NULL"},
    {"gm_store_episodes: NULL items, count 3", b18, GM_ERR_INVALID_ARGUMENT, "episodes: is NULL but its length is 3"},
    {"gm_get_episode: negative id", b19, GM_ERR_INVALID_ARGUMENT, "episode_id: must be a positive id"},
    {"gm_get_episode: id 0", b20, GM_ERR_INVALID_ARGUMENT, "episode_id: must be a positive id"},
    {"gm_get_episode: missing id", b21, GM_ERR_NOT_FOUND, "no episode with id 123456789"},
    {"gm_get_episode: NULL out", b22, GM_ERR_INVALID_ARGUMENT, "out_episode: must not be NULL"},
    {"gm_get_episodes_by_context: negative limit", b23, GM_ERR_INVALID_ARGUMENT, "limit: must not be negative"},
    {"gm_get_episodes_by_context: huge limit", b24, GM_ERR_INVALID_ARGUMENT, "limit: 9223372036854775807 exceeds"},
    {"gm_get_episodes_by_context: NaN min_score", b25, GM_ERR_INVALID_ARGUMENT, "min_score: must be a finite number"},
    {"gm_get_recent_episodes: infinite window", b26, GM_ERR_INVALID_ARGUMENT, "time_window: must be a finite number"},
    {"gm_get_recent_episodes: negative window", b27, GM_ERR_INVALID_ARGUMENT, "time_window: must not be negative"},
    {"gm_store_concept: NaN component", b28, GM_ERR_INVALID_ARGUMENT, "embedding: component 1 is NaN"},
    {"gm_store_concept: inf component", b29, GM_ERR_INVALID_ARGUMENT, "embedding: component 2 is inf"},
    {"gm_store_concept: zero-length embedding", b30, GM_ERR_INVALID_ARGUMENT, "embedding: must not be empty"},
    {"gm_store_concept: huge embedding", b31, GM_ERR_INVALID_ARGUMENT, "embedding: length 1099511627776 exceeds the maximum"},
    {"gm_store_concept: wrong dimension", b32, GM_ERR_INVALID_ARGUMENT, "embedding: dimension 3 does not match the store's 4"},
    {"gm_store_concept: NULL embedding, dim 4", b33, GM_ERR_INVALID_ARGUMENT, "embedding: is NULL but its length is 4"},
    {"gm_store_concept: metadata is a number", b34, GM_ERR_INVALID_ARGUMENT, "metadata: not a JSON object (got a number)"},
    {"gm_store_concept: invalid UTF-8 name", b35, GM_ERR_INVALID_ARGUMENT, "name: not valid UTF-8"},
    {"gm_store_concept: empty name", b36, GM_ERR_INVALID_ARGUMENT, "name: must not be empty"},
    {"gm_store_concept: NaN creation_time", b37, GM_ERR_INVALID_ARGUMENT, "creation_time: must be a finite number"},
    {"gm_get_concept: missing id", b38, GM_ERR_NOT_FOUND, "no concept with id 987654"},
    {"gm_get_concept: negative id", b39, GM_ERR_INVALID_ARGUMENT, "concept_id: must be a positive id"},
    {"gm_get_concept_by_name: NULL name", b40, GM_ERR_INVALID_ARGUMENT, "name: must not be NULL"},
    {"gm_search_concepts: negative limit", b41, GM_ERR_INVALID_ARGUMENT, "limit: must not be negative"},
    {"gm_search_concepts: NULL query", b42, GM_ERR_INVALID_ARGUMENT, "query: must not be NULL"},
    {"gm_add_relationship: strength 1.5", b43, GM_ERR_INVALID_ARGUMENT, "strength: 1.5 is outside [0, 1]"},
    {"gm_add_relationship: strength -0.1", b44, GM_ERR_INVALID_ARGUMENT, "strength: -0.1 is outside [0, 1]"},
    {"gm_add_relationship: NaN strength", b45, GM_ERR_INVALID_ARGUMENT, "strength: must be a finite number"},
    {"gm_add_relationship: missing target", b46, GM_ERR_NOT_FOUND, "target_id: no concept with id 424242"},
    {"gm_add_relationship: negative source", b47, GM_ERR_INVALID_ARGUMENT, "source_id: must be a positive id"},
    {"gm_add_relationship: NULL type", b48, GM_ERR_INVALID_ARGUMENT, "relationship_type: must not be NULL"},
    {"gm_store_learning_event: inf timestamp", b49, GM_ERR_INVALID_ARGUMENT, "timestamp: must be a finite number"},
    {"gm_store_learning_event: NaN delta", b50, GM_ERR_INVALID_ARGUMENT, "performance_delta: must be a finite number"},
    {"gm_store_learning_event: -inf delta", b51, GM_ERR_INVALID_ARGUMENT, "performance_delta: must be a finite number"},
    {"gm_store_learning_event: parameters a string", b52, GM_ERR_INVALID_ARGUMENT, "parameters: not a JSON object (got a string)"},
    {"gm_store_learning_event: NULL strategy", b53, GM_ERR_INVALID_ARGUMENT, "strategy_used: must not be NULL"},
    {"gm_get_learning_events_by_task: NaN min delta", b54, GM_ERR_INVALID_ARGUMENT, "min_performance_delta: must be a finite"},
    {"gm_get_best_strategies: negative limit", b55, GM_ERR_INVALID_ARGUMENT, "limit: must not be negative"},
    {"gm_open: NULL path", b56, GM_ERR_INVALID_ARGUMENT, "path: must not be NULL"},
    {"gm_open: empty path", b57, GM_ERR_INVALID_ARGUMENT, "db_path: must not be empty"},
    {"gm_open: path is a directory", b58, GM_ERR_INVALID_ARGUMENT, "is a directory"},
    {"gm_open: wrong struct_size", b59, GM_ERR_INVALID_ARGUMENT, "options.struct_size: 8 is not sizeof(gm_options)"},
    {"gm_open: NaN timeout", b60, GM_ERR_INVALID_ARGUMENT, "options.connection_timeout_secs: must be a finite number"},
    {"gm_open: NULL out_store", b61, GM_ERR_INVALID_ARGUMENT, "out_store: must not be NULL"},
    {"gm_count_episodes: closed/unknown handle", b62, GM_ERR_MISUSE, "store: handle is closed or was never opened"},
    {"gm_execute: unknown value kind", b63, GM_ERR_INVALID_ARGUMENT, "params[0].kind: unknown kind 99"},
    {"gm_execute: NaN real", b64, GM_ERR_INVALID_ARGUMENT, "params[0]: must be a finite number"},
    {"gm_execute: invalid UTF-8 text", b65, GM_ERR_INVALID_ARGUMENT, "params[0]: not valid UTF-8"},
    {"gm_rollback: no transaction", b66, GM_ERR_MISUSE, "rollback: no transaction is open on this thread"},
    {"gm_options_init: NULL", b67, GM_ERR_INVALID_ARGUMENT, "opts: must not be NULL"},
    {"gm_experience_encode: unknown dtype", b68, GM_ERR_INVALID_ARGUMENT, "tensors[0].dtype: unknown dtype 99"},
    {"gm_experience_encode: data length off", b69, GM_ERR_INVALID_ARGUMENT, "8 bytes, but shape [4] of F32 needs 16"},
    {"gm_experience_encode: 33 dimensions", b70, GM_ERR_INVALID_ARGUMENT, "tensors[0].ndim: 33 exceeds 32"},
    {"gm_experience_encode: empty name", b71, GM_ERR_INVALID_ARGUMENT, "name: must not be empty"},
    {"gm_experience_encode: dangling reference", b72, GM_ERR_INVALID_ARGUMENT, "refers to tensor 'y'"},
    {"gm_experience_encode: values not JSON", b73, GM_ERR_INVALID_ARGUMENT, "values: not valid JSON"},
    {"gm_experience_decode: foreign bytes", b74, GM_ERR_INVALID_ARGUMENT, "not a gmstore experience"},
    {"gm_experience_decode: NULL with length 5", b75, GM_ERR_INVALID_ARGUMENT, "data: is NULL but its length is 5"},
    {"gm_experience_encode: NULL out", b76, GM_ERR_INVALID_ARGUMENT, "out_buffer: must not be NULL"},
    {"gm_nearest_concepts: unknown metric", b77, GM_ERR_INVALID_ARGUMENT, "metric: unknown metric 7"},
    {"gm_nearest_concepts: k = 0", b78, GM_ERR_INVALID_ARGUMENT, "k: 0 is outside"},
    {"gm_nearest_concepts: wrong dimension", b79, GM_ERR_INVALID_ARGUMENT, "query: dimension 3 does not match the store's 4"},
    {"gm_nearest_concepts: NaN component", b80, GM_ERR_INVALID_ARGUMENT, "query: component 1 is NaN"},
    {"gm_nearest_concepts_batch: NULL queries", b81, GM_ERR_INVALID_ARGUMENT, "queries: is NULL but its length is 8"},
    {"gm_build_similarity_graph: threshold 1.5", b82, GM_ERR_INVALID_ARGUMENT, "threshold: 1.5 is outside [0, 1]"},
    {"gm_concept_neighborhood: unknown start", b83, GM_ERR_NOT_FOUND, "concept_id: no concept with id 777777"},
    {"gm_strongest_path: NaN min_strength", b84, GM_ERR_INVALID_ARGUMENT, "min_strength: must be a finite number"},
    {"gm_store_learning_events: NULL strategy in item 0", b85, GM_ERR_INVALID_ARGUMENT, "events[0].strategy_used: must not be NULL"},
    {"gm_store_learning_events: has_timestamp 2 in item 1", b86, GM_ERR_INVALID_ARGUMENT, "events[1].has_timestamp: must be 0 or 1"},
    {"gm_store_learning_events: NULL items, count 2", b87, GM_ERR_INVALID_ARGUMENT, "events: is NULL but its length is 2"},
    {"gm_search_concepts_matching: unknown match mode", b89, GM_ERR_INVALID_ARGUMENT, "name_match: unknown match mode 7"},
    {"gm_nearest_concepts: unknown filter match mode", b90, GM_ERR_INVALID_ARGUMENT, "filter.name_match: unknown match mode 9"},
    {"gm_execute: non-zero reserved in a value", b91, GM_ERR_INVALID_ARGUMENT, "params[0].reserved: must be 0"},
    {"gm_execute: blank SQL", b92, GM_ERR_INVALID_ARGUMENT, "sql: must not be empty or blank"},
    {"gm_execute: only a comment", b93, GM_ERR_INVALID_ARGUMENT, "sql: holds no statement"},
    {"gm_create_backup: empty path", b94, GM_ERR_INVALID_ARGUMENT, "backup_path: must not be empty"},
    {"gm_open: embedding_dim 65537", b95, GM_ERR_INVALID_ARGUMENT, "options.embedding_dim: dimension 65537 exceeds"},
    {"gm_transaction_detach: no transaction", b96, GM_ERR_MISUSE, "detach: no transaction is open on this thread"},
    {"gm_transaction_attach: unknown token", b97, GM_ERR_MISUSE, "attach: no detached transaction 424242"},
    {"gm_transaction_detach: NULL out_token", b98, GM_ERR_INVALID_ARGUMENT, "out_token: must not be NULL"},
    {"gm_experience_encode: tensor named __metadata__", b88, GM_ERR_INVALID_ARGUMENT, "'__metadata__' is reserved by safetensors"},
    {"gm_store_episode_tensors: unknown dtype", b99, GM_ERR_INVALID_ARGUMENT, "tensors[0].dtype: unknown dtype 99"},
    {"gm_store_episode_tensors: NaN score", b100, GM_ERR_INVALID_ARGUMENT, "performance_score: must be a finite number"},
    {"gm_store_episode_tensors: NULL context_hash", b101, GM_ERR_INVALID_ARGUMENT, "context_hash: must not be NULL"},
    {"gm_store_episode_tensors: NULL tensors, count 2", b102, GM_ERR_INVALID_ARGUMENT, "tensors: is NULL but its length is 2"},
    {"gm_store_episode_tensors: dangling reference", b103, GM_ERR_INVALID_ARGUMENT, "values: refers to tensor 'y'"},
    {"gm_store_episode_tensors: NULL out_id", b104, GM_ERR_INVALID_ARGUMENT, "out_id: must not be NULL"},
    {"gm_store_episodes_tensors: unknown dtype in item 1", b105, GM_ERR_INVALID_ARGUMENT, "episodes[1].tensors[0].dtype: unknown dtype 99"},
    {"gm_store_episodes_tensors: reserved byte set", b106, GM_ERR_INVALID_ARGUMENT, "episodes[0].reserved: must be 0"},
    {"gm_get_episode_into: 32-byte buffer", b107, GM_ERR_BUFFER_TOO_SMALL, "buf: 32 bytes, but the result needs"},
    {"gm_get_episode_into: unaligned buffer", b108, GM_ERR_INVALID_ARGUMENT, "buf: must be aligned to 8 bytes"},
    {"gm_get_episode_into: missing id", b109, GM_ERR_NOT_FOUND, "no episode with id 123456789"},
    {"gm_get_episode_into: NULL out_size", b110, GM_ERR_INVALID_ARGUMENT, "out_size: must not be NULL"},
    {"gm_strongest_path: unknown to_id", b111, GM_ERR_NOT_FOUND, "to_id: no concept with id 987654"},
    {"gm_strategy_stats: NaN since", b112, GM_ERR_INVALID_ARGUMENT, "query.since: must be a finite number"},
    {"gm_strategy_stats: negative min_count", b113, GM_ERR_INVALID_ARGUMENT, "query.min_count: must not be negative"},
    {"gm_strategy_stats: unknown order", b114, GM_ERR_INVALID_ARGUMENT, "query.order: unknown order 7"},
    {"gm_strategy_stats: NULL out_list", b115, GM_ERR_INVALID_ARGUMENT, "out_list: must not be NULL"},
    {"gm_suggest_strategy: unknown task, no candidates", b116, GM_ERR_NOT_FOUND, "task_type 'nope' has no learning events"},
    {"gm_suggest_strategy: empty candidate list", b117, GM_ERR_INVALID_ARGUMENT, "candidates: the list is empty"},
    {"gm_suggest_strategy: NaN prior", b118, GM_ERR_INVALID_ARGUMENT, "options.prior_mean: must be a finite number"},
    {"gm_suggest_strategy: NULL candidates, count 2", b119, GM_ERR_INVALID_ARGUMENT, "candidates: is NULL but candidate_count is 2"},
    {"gm_suggest_strategy: candidate not UTF-8", b120, GM_ERR_INVALID_ARGUMENT, "candidates[1]: not valid UTF-8"},
    {"gm_suggest_strategy: repeated candidate", b121, GM_ERR_INVALID_ARGUMENT, "candidates[1]: 'a' is listed twice"},
    {"gm_suggest_strategy: unknown method", b122, GM_ERR_INVALID_ARGUMENT, "options.method: unknown method 9"},
    {"gm_suggest_strategy: zero prior_std", b123, GM_ERR_INVALID_ARGUMENT, "options.prior_std: must be positive"},
    {"gm_suggest_strategy: NULL out_suggestion", b124, GM_ERR_INVALID_ARGUMENT, "out_suggestion: must not be NULL"},
    {"gm_set_knn_snapshot: NULL store", b125, GM_ERR_INVALID_ARGUMENT, "store: must not be NULL"},
    {"gm_set_knn_snapshot: path not UTF-8", b126, GM_ERR_INVALID_ARGUMENT, "path: not valid UTF-8"},
    {"gm_set_knn_snapshot: in-memory store", b127, GM_ERR_INVALID_ARGUMENT, ""},
    {"gm_knn_matrix_source: NULL out_source", b128, GM_ERR_INVALID_ARGUMENT, "out_source: must not be NULL"},
    {"gm_save_knn_snapshot: NULL store", b129, GM_ERR_INVALID_ARGUMENT, "store: must not be NULL"},
    {"gm_sampler_new: negative alpha", b130, GM_ERR_INVALID_ARGUMENT, "alpha: must be >= 0, got -0.5"},
    {"gm_sampler_new: NaN alpha", b131, GM_ERR_INVALID_ARGUMENT, "alpha: must be a finite number, got NaN"},
    {"gm_sampler_new: unknown weighting", b132, GM_ERR_INVALID_ARGUMENT, "config.weighting: unknown weighting 7"},
    {"gm_sampler_new: context not UTF-8", b133, GM_ERR_INVALID_ARGUMENT, "config.context: not valid UTF-8"},
    {"gm_sampler_new: infinite min_score", b134, GM_ERR_INVALID_ARGUMENT, "min_score: must be a finite number, got inf"},
    {"gm_sampler_new: reserved byte set", b135, GM_ERR_INVALID_ARGUMENT, "config.reserved: must be 0"},
    {"gm_sampler_new: NULL config", b136, GM_ERR_INVALID_ARGUMENT, "config: must not be NULL"},
    {"gm_sampler_new: NULL out_sampler", b137, GM_ERR_INVALID_ARGUMENT, "out_sampler: must not be NULL"},
    {"gm_sampler_sample: negative beta", b138, GM_ERR_INVALID_ARGUMENT, "beta: must be >= 0, got -1"},
    {"gm_sampler_sample: NULL out_samples", b139, GM_ERR_INVALID_ARGUMENT, "out_samples: must not be NULL"},
    {"gm_sampler_sample: with_replacement 2", b140, GM_ERR_INVALID_ARGUMENT, "with_replacement: must be 0 or 1"},
    {"gm_sampler_update_priorities: NaN priority", b141, GM_ERR_INVALID_ARGUMENT, "updates[1].priority: must be a finite number, got NaN"},
    {"gm_sampler_update_priorities: NULL updates", b142, GM_ERR_INVALID_ARGUMENT, "updates: is NULL but its length is 3"},
    {"gm_sampler_rng_state: wrong length", b143, GM_ERR_INVALID_ARGUMENT, "len: must be 32, got 16"},
    {"gm_sampler_set_rng_state: all-zero state", b144, GM_ERR_INVALID_ARGUMENT, "rng_state: all zero is not a state"},
    {"gm_sampler_sample: NULL sampler", b145, GM_ERR_INVALID_ARGUMENT, "sampler: must not be NULL"},
    {"gm_set_episode_priorities: negative", b146, GM_ERR_INVALID_ARGUMENT, "priorities[0]: must be >= 0, got -2"},
    {"gm_set_episode_priorities: NULL ids", b147, GM_ERR_INVALID_ARGUMENT, "ids: is NULL but its length is 1"},
    {"gm_set_retention_policy: wrong struct_size", b148, GM_ERR_INVALID_ARGUMENT, "policy.struct_size: is 8, expected"},
    {"gm_set_retention_policy: negative max_episodes", b149, GM_ERR_INVALID_ARGUMENT, "max_episodes: must be >= 0, got -1"},
    {"gm_set_retention_policy: NaN max_age_seconds", b150, GM_ERR_INVALID_ARGUMENT, "max_age_seconds: must be a finite number, got NaN"},
    {"gm_set_retention_policy: unknown order", b151, GM_ERR_INVALID_ARGUMENT, "policy.order: unknown order 9"},
    {"gm_set_retention_policy: flag 2", b152, GM_ERR_INVALID_ARGUMENT, "policy.has_max_episodes: must be 0 or 1"},
    {"gm_set_retention_policy: key not UTF-8", b153, GM_ERR_INVALID_ARGUMENT, "policy.protect_key: not valid UTF-8"},
    {"gm_set_retention_policy: value not JSON", b154, GM_ERR_INVALID_ARGUMENT, "protect.value: not JSON"},
    {"gm_set_retention_policy: key without value", b155, GM_ERR_INVALID_ARGUMENT, "policy.protect_value: is NULL while protect_key is set"},
    {"gm_set_retention_policy: per context without k", b156, GM_ERR_INVALID_ARGUMENT, "top_k_per_context: needs keep_top_k"},
    {"gm_get_retention: NULL out_status", b157, GM_ERR_INVALID_ARGUMENT, "out_status: must not be NULL"},
    {"gm_prune: dry_run 2", b158, GM_ERR_INVALID_ARGUMENT, "dry_run: must be 0 or 1"},
    {"gm_last_evictions: NULL store", b159, GM_ERR_INVALID_ARGUMENT, "store: must not be NULL"},
    {"gm_set_retention_policy: reserved byte set", b160, GM_ERR_INVALID_ARGUMENT, "policy.reserved: must be 0"},
    {"gm_set_retention_policy: key with a quote", b161, GM_ERR_INVALID_ARGUMENT, "protect.key"},
    {"gm_sampler_sample_episodes: NULL out_episodes", b162, GM_ERR_INVALID_ARGUMENT, "out_episodes: must not be NULL"},
    {"gm_sampler_sample_episodes: NULL out_samples", b163, GM_ERR_INVALID_ARGUMENT, "out_samples: must not be NULL"},
};

static void test_bad_inputs(void) {
    int64_t before_episodes = 0, before_concepts = 0, after = 0;
    CHECK_OK(gm_count_episodes(S, &before_episodes));
    CHECK_OK(gm_count_concepts(S, &before_concepts));
    gm_episode *probe = NULL;
    CHECK_OK(gm_get_episode(S, 1, &probe));

    size_t n = sizeof BAD_INPUTS / sizeof BAD_INPUTS[0];
    CHECK(n >= 40);
    for (size_t i = 0; i < n; i++) {
        const bad_case *c = &BAD_INPUTS[i];
        gm_status got = c->call();
        const char *msg = gm_last_error_message();
        if (got != c->expected || strstr(msg, c->fragment) == NULL) {
            failed++;
            fprintf(stderr, "bad input '%s': got %s \"%s\", expected %s containing \"%s\"\n", c->name,
                    gm_status_name(got), msg, gm_status_name(c->expected), c->fragment);
        } else {
            passed++;
        }
    }
    /* nothing stored was lost or changed, and the file is sound */
    CHECK_OK(gm_count_episodes(S, &after));
    CHECK(after == before_episodes);
    CHECK_OK(gm_count_concepts(S, &after));
    CHECK(after == before_concepts);
    gm_episode *again = NULL;
    CHECK_OK(gm_get_episode(S, 1, &again));
    CHECK(probe && again && again->experience_len == probe->experience_len &&
          memcmp(again->experience_data, probe->experience_data, probe->experience_len) == 0 &&
          strcmp(again->metadata, probe->metadata) == 0 && again->performance_score == probe->performance_score);
    gm_episode_free(probe);
    gm_episode_free(again);
    int64_t problems = -1;
    CHECK_OK(gm_integrity_check(S, &problems, NULL));
    CHECK(problems == 0);
}

static void test_injection_shaped_names(void) {
    const char *evil = "x'); DROP TABLE concepts; --";
    int64_t id = 0;
    CHECK_OK(gm_store_concept(S, evil, EMB4, 4, NULL, NULL, &id));
    gm_concept *c = NULL;
    CHECK_OK(gm_get_concept_by_name(S, evil, &c));
    CHECK(c != NULL && c->id == id && strcmp(c->name, evil) == 0);
    gm_concept_free(c);
    gm_concept_list *l = NULL;
    CHECK_OK(gm_search_concepts(S, "DROP TABLE", 10, &l));
    CHECK(l != NULL && l->len == 1);
    gm_concept_list_free(l);
    gm_episode_input in = episode_input("ctx\"; DELETE FROM episodes; --", 0.5);
    CHECK_OK(gm_store_episode(S, &in, &id));
    gm_episode_list *el = NULL;
    CHECK_OK(gm_get_episodes_by_context(S, "ctx\"; DELETE FROM episodes; --", 5, NULL, &el));
    CHECK(el != NULL && el->len == 1);
    gm_episode_list_free(el);
}

static void test_read_only_and_closed(void) {
    gm_options o;
    gm_options_init(&o);
    o.read_only = 1;
    gm_store *ro = NULL;
    CHECK_OK(gm_open(db_path, &o, &ro));
    int64_t count = 0, id = 0;
    CHECK_OK(gm_count_episodes(ro, &count));
    CHECK(count > 0);
    gm_episode_input in = episode_input("ro", 0.5);
    CHECK(gm_store_episode(ro, &in, &id) == GM_ERR_READ_ONLY);
    CHECK(strstr(gm_last_error_message(), "read-only") != NULL);
    CHECK(gm_begin(ro) == GM_ERR_READ_ONLY);
    gm_close(ro);
    CHECK(gm_count_episodes(ro, &count) == GM_ERR_MISUSE);
    gm_close(ro); /* closing twice is harmless */
    gm_close(NULL);
}

/* ---------- backups and maintenance -------------------------------------- */

static int file_exists(const char *path) { return access(path, F_OK) == 0; }

static void test_backups(void) {
    char custom[300], compact[300];
    snprintf(custom, sizeof custom, "%s.manual-backup", db_path);
    snprintf(compact, sizeof compact, "%s.compact", db_path);
    int64_t before = 0, after = 0, id = 0;
    CHECK_OK(gm_count_episodes(S, &before));

    char *auto_path = NULL;
    CHECK_OK(gm_auto_backup_if_needed(S, &auto_path));
    CHECK(auto_path != NULL && strstr(auto_path, "/backups/") != NULL && file_exists(auto_path));
    char *again = (char *)1;
    CHECK_OK(gm_auto_backup_if_needed(S, &again));
    CHECK(again == NULL); /* not due again within backup_interval */

    char *path = NULL;
    CHECK_OK(gm_create_backup(S, custom, &path));
    CHECK(path != NULL && strcmp(path, custom) == 0 && file_exists(custom));
    gm_string_free(path);
    CHECK(gm_create_backup(S, custom, &path) == GM_ERR_INVALID_ARGUMENT && path == NULL);
    CHECK(strstr(gm_last_error_message(), "already exists") != NULL);

    gm_stats *st = NULL;
    CHECK_OK(gm_get_stats(S, &st));
    CHECK(st != NULL && st->has_last_backup_time == 1 && st->last_backup_time > 0);
    gm_stats_free(st);

    gm_episode_input in = episode_input("after_backup", 0.5);
    CHECK_OK(gm_store_episode(S, &in, &id));
    CHECK_OK(gm_restore(S, custom));
    CHECK_OK(gm_count_episodes(S, &after));
    CHECK(after == before);
    CHECK(gm_restore(S, "/nonexistent/backup.db") != GM_OK);
    CHECK(strstr(gm_last_error_message(), "restore: backup '/nonexistent/backup.db'") != NULL);

    CHECK_OK(gm_begin(S));
    CHECK(gm_create_backup(S, NULL, &path) == GM_ERR_MISUSE);
    CHECK(gm_vacuum(S, NULL) == GM_ERR_MISUSE);
    CHECK_OK(gm_rollback(S));

    uint64_t reclaimed = 1;
    CHECK_OK(gm_vacuum(S, &reclaimed));
    int64_t frames = -1;
    CHECK_OK(gm_checkpoint(S, &frames));
    CHECK(frames >= 0);
    CHECK_OK(gm_vacuum_into(S, compact));
    CHECK(file_exists(compact));
    CHECK(gm_vacuum_into(S, compact) == GM_ERR_INVALID_ARGUMENT);
    CHECK(gm_vacuum_into(S, NULL) == GM_ERR_INVALID_ARGUMENT);

    unlink(custom);
    unlink(compact);
    unlink(auto_path);
    gm_string_free(auto_path);
}

/* ---------- the experience format ----------------------------------------- */

static void test_experience(void) {
    double obs[6] = {0.5, 1, 2, 3, 4, 5.25};
    uint64_t shape[2] = {3, 2};
    uint8_t flags[2] = {1, 0};
    uint64_t flag_shape[1] = {2};
    gm_tensor t[2];
    memset(t, 0, sizeof t);
    t[0].name = "obs"; t[0].dtype = GM_DTYPE_F64; t[0].ndim = 2; t[0].shape = shape;
    t[0].data = (const uint8_t *)obs; t[0].data_len = sizeof obs;
    t[1].name = "done"; t[1].dtype = GM_DTYPE_BOOL; t[1].ndim = 1; t[1].shape = flag_shape;
    t[1].data = flags; t[1].data_len = 2;
    gm_buffer *buf = NULL;
    CHECK_OK(gm_experience_encode(t, 2, "{\"obs\": {\"$tensor\": \"obs\"}, \"k\": [1, 2]}", &buf));
    CHECK(buf != NULL && buf->len > sizeof obs);

    gm_episode_input in = episode_input("experience", 0.5);
    in.experience_data = buf->data;
    in.experience_len = buf->len;
    int64_t id = 0;
    CHECK_OK(gm_store_episode(S, &in, &id));
    gm_buffer_free(buf);
    gm_buffer_free(NULL);

    gm_episode *e = NULL;
    CHECK_OK(gm_get_episode(S, id, &e));
    gm_experience *x = NULL;
    CHECK_OK(gm_experience_decode(e->experience_data, e->experience_len, &x));
    CHECK(x != NULL && x->count == 2 && x->values_json != NULL && strstr(x->values_json, "\"k\"") != NULL);
    for (size_t i = 0; x && i < x->count; i++) {
        const gm_tensor_info *info = &x->tensors[i];
        CHECK(info->offset % 8 == 0);
        if (strcmp(info->name, "obs") == 0) {
            CHECK(info->dtype == GM_DTYPE_F64 && info->ndim == 2 && info->shape[0] == 3 && info->shape[1] == 2);
            CHECK(info->len == sizeof obs && memcmp(e->experience_data + info->offset, obs, sizeof obs) == 0);
        } else {
            CHECK(strcmp(info->name, "done") == 0 && info->dtype == GM_DTYPE_BOOL && info->len == 2);
        }
    }
    gm_experience_free(x);
    gm_experience_free(NULL);
    gm_episode_free(e);

    /* no values: a plain dictionary of tensors */
    CHECK_OK(gm_experience_encode(t, 1, NULL, &buf));
    CHECK_OK(gm_experience_decode(buf->data, buf->len, &x));
    CHECK(x->count == 1 && x->values_json == NULL && x->values_json_len == 0);
    gm_experience_free(x);
    gm_buffer_free(buf);
    CHECK_OK(gm_experience_encode(NULL, 0, NULL, &buf));
    CHECK_OK(gm_experience_decode(buf->data, buf->len, &x));
    CHECK(x->count == 0);
    gm_experience_free(x);
    gm_buffer_free(buf);
}

/* Encoding and storing in one call gives the same bytes as encode then
 * store; the batch form stores all or none; reading into a caller buffer
 * gives the same episode as gm_get_episode, with every pointer inside it. */
static void test_store_tensors_and_read_into(void) {
    float obs[4] = {1.5f, -2.0f, 0.0f, 1e-30f};
    uint64_t shape[1] = {4};
    gm_tensor t;
    memset(&t, 0, sizeof t);
    t.name = "obs"; t.dtype = GM_DTYPE_F32; t.ndim = 1; t.shape = shape;
    t.data = (const uint8_t *)obs; t.data_len = sizeof obs;
    const char *values = "{\"obs\":{\"$tensor\":\"obs\"},\"action\":\"left\"}";
    double when = 1234.5;
    int64_t id = 0;
    CHECK_OK(gm_store_episode_tensors(S, &t, 1, values, 0.25, "tensors_ctx", "{\"m\": 1}", &when, &id));

    gm_buffer *encoded = NULL;
    CHECK_OK(gm_experience_encode(&t, 1, values, &encoded));
    gm_episode *e = NULL;
    CHECK_OK(gm_get_episode(S, id, &e));
    CHECK(e->experience_len == encoded->len && memcmp(e->experience_data, encoded->data, encoded->len) == 0);
    CHECK(e->timestamp == 1234.5 && e->performance_score == 0.25 && strcmp(e->context_hash, "tensors_ctx") == 0);

    /* the size alone, then a buffer that is one byte short, then enough */
    size_t need = 0;
    CHECK(gm_get_episode_into(S, id, NULL, 0, &need) == GM_ERR_BUFFER_TOO_SMALL);
    CHECK(need == sizeof(gm_episode) + encoded->len + strlen("tensors_ctx") + 1 + strlen("{\"m\": 1}") + 1);
    uint64_t storage[64];
    memset(storage, 0xAB, sizeof storage);
    size_t again = 0;
    CHECK(gm_get_episode_into(S, id, (uint8_t *)storage, need - 1, &again) == GM_ERR_BUFFER_TOO_SMALL);
    CHECK(again == need && ((uint8_t *)storage)[0] == 0xAB);
    CHECK(need <= sizeof storage);
    CHECK_OK(gm_get_episode_into(S, id, (uint8_t *)storage, sizeof storage, &again));
    const gm_episode *in_buf = (const gm_episode *)storage;
    const uint8_t *lo = (const uint8_t *)storage, *hi = lo + need;
    CHECK(in_buf->id == id && in_buf->timestamp == e->timestamp && in_buf->created_at == e->created_at);
    CHECK(in_buf->experience_data >= lo && in_buf->experience_data + in_buf->experience_len <= hi);
    CHECK(in_buf->experience_len == e->experience_len &&
          memcmp(in_buf->experience_data, e->experience_data, e->experience_len) == 0);
    CHECK(strcmp(in_buf->context_hash, e->context_hash) == 0 && strcmp(in_buf->metadata, e->metadata) == 0);
    CHECK((const uint8_t *)in_buf->metadata + in_buf->metadata_len < hi);
    gm_episode_free(e);
    gm_buffer_free(encoded);

    /* a batch: ids in order; one bad item stores nothing */
    gm_tensor_episode_input batch[3];
    memset(batch, 0, sizeof batch);
    for (int i = 0; i < 3; i++) {
        batch[i].tensors = &t; batch[i].tensor_count = 1; batch[i].values_json = values;
        batch[i].performance_score = i; batch[i].context_hash = "tensors_batch";
    }
    batch[2].tensors = NULL; batch[2].tensor_count = 0; batch[2].values_json = "{\"empty\": true}";
    int64_t ids[3] = {0, 0, 0}, before = 0, after = 0;
    CHECK_OK(gm_store_episodes_tensors(S, batch, 3, ids));
    CHECK(ids[0] > id && ids[1] == ids[0] + 1 && ids[2] == ids[1] + 1);
    CHECK_OK(gm_count_episodes(S, &before));
    batch[1].values_json = "{\"x\": {\"$tensor\": \"missing\"}}";
    CHECK(gm_store_episodes_tensors(S, batch, 3, ids) == GM_ERR_INVALID_ARGUMENT);
    CHECK(strstr(gm_last_error_message(), "episodes[1].values: refers to tensor 'missing'") != NULL);
    CHECK_OK(gm_count_episodes(S, &after));
    CHECK(after == before);
}

/* ---------- search and traversal ---------------------------------------- */

static void test_search(void) {
    const float q[4] = {1.0f, 2.0f, 3.0f, 4.0f}; /* concept_b's embedding */
    gm_neighbor_list *l = NULL;
    CHECK_OK(gm_nearest_concepts(S, q, 4, GM_METRIC_L2, 2, NULL, &l));
    CHECK(l != NULL && l->len == 2 && l->items[0].score == 0.0 && l->items[0].query == 0);
    CHECK(l != NULL && l->len == 2 && l->items[0].score <= l->items[1].score);
    gm_neighbor_list_free(l);

    gm_search_filter f;
    memset(&f, 0, sizeof f);
    f.name_pattern = "neural_f";
    CHECK_OK(gm_nearest_concepts(S, q, 4, GM_METRIC_COSINE, 5, &f, &l));
    CHECK(l != NULL && l->len == 1 && l->items[0].id == concept_b && strcmp(l->items[0].name, "neural_field") == 0);
    gm_neighbor_list_free(l);
    f.name_pattern = NULL;
    f.has_min_access_count = 1;
    f.min_access_count = 1000000;
    CHECK_OK(gm_nearest_concepts(S, q, 4, GM_METRIC_DOT, 5, &f, &l));
    CHECK(l != NULL && l->len == 0);
    gm_neighbor_list_free(l);

    const float qs[8] = {1, 2, 3, 4, 0.5f, -0.25f, 1, 0};
    CHECK_OK(gm_nearest_concepts_batch(S, qs, 2, 4, GM_METRIC_COSINE, 1, NULL, &l));
    CHECK(l != NULL && l->len == 2 && l->items[0].query == 0 && l->items[1].query == 1);
    /* neural_network and neural_field now share q's direction: a tie at cosine 1 */
    CHECK(l != NULL && l->len == 2 && fabs(l->items[0].score - 1.0) < 1e-9);
    CHECK(l != NULL && l->len == 2 && (l->items[0].id == concept_a || l->items[0].id == concept_b));
    gm_neighbor_list_free(l);
    gm_neighbor_list_free(NULL);

    int64_t edges = -1;
    CHECK_OK(gm_build_similarity_graph(S, 0.99, 0, "near_duplicate", &edges));
    CHECK(edges >= 0);

    gm_reached_list *r = NULL;
    CHECK_OK(gm_concept_neighborhood(S, concept_a, 2, NULL, 0.0, &r));
    CHECK(r != NULL && r->len >= 1 && r->items[0].id == concept_b && r->items[0].hops == 1);
    gm_reached_list_free(r);
    CHECK_OK(gm_concept_neighborhood(S, concept_a, 2, "no_such_type", 0.0, &r));
    CHECK(r != NULL && r->len == 0);
    gm_reached_list_free(r);
    gm_reached_list_free(NULL);

    gm_path *p = NULL;
    CHECK_OK(gm_strongest_path(S, concept_a, concept_b, NULL, 0.0, &p));
    /* the near_duplicate edge (cosine 1) beats part_of 0.9 and similar_to 0.7 */
    CHECK(p != NULL && p->len == 2 && p->ids[0] == concept_a && p->ids[1] == concept_b);
    CHECK(p != NULL && fabs(p->strength - 1.0) < 1e-6);
    gm_path_free(p);
    CHECK_OK(gm_strongest_path(S, concept_a, concept_b, "part_of", 0.0, &p));
    CHECK(p != NULL && fabs(p->strength - 0.9) < 1e-12);
    gm_path_free(p);
    /* no path: success with no result; an unknown concept: NOT_FOUND */
    CHECK_OK(gm_strongest_path(S, concept_b, concept_a, "part_of", 0.0, &p));
    CHECK(p == NULL);
    CHECK(gm_strongest_path(S, concept_a, 987654, NULL, 0.0, &p) == GM_ERR_NOT_FOUND && p == NULL);
    CHECK(strstr(gm_last_error_message(), "to_id") != NULL);
    gm_path_free(NULL);
}

/* ---------- threads ------------------------------------------------------ */

enum { THREADS = 6, PER_THREAD = 150 };
static int thread_errors;
static pthread_mutex_t errors_lock = PTHREAD_MUTEX_INITIALIZER;

static void *worker(void *arg) {
    int t = (int)(intptr_t)arg;
    char ctx[32];
    snprintf(ctx, sizeof ctx, "thread_%d", t);
    int errors = 0;
    for (int i = 0; i < PER_THREAD; i++) {
        gm_episode_input in = episode_input(ctx, i);
        int64_t id = 0;
        if (gm_store_episode(S, &in, &id) != GM_OK) errors++;
        if (i % 10 == 0) {
            gm_episode_list *l = NULL;
            if (gm_get_episodes_by_context(S, ctx, 1000, NULL, &l) != GM_OK || l->len < (size_t)i + 1) errors++;
            gm_episode_list_free(l);
            gm_concept *c = NULL;
            if (gm_get_concept_by_name(S, "neural_field", &c) != GM_OK) errors++;
            gm_concept_free(c);
        }
        if (i % 50 == 0) { /* a transaction of 5 from this thread */
            if (gm_begin(S) != GM_OK) errors++;
            for (int k = 0; k < 5; k++)
                if (gm_store_episode(S, &in, &id) != GM_OK) errors++;
            if (gm_commit(S) != GM_OK) errors++;
        }
    }
    pthread_mutex_lock(&errors_lock);
    thread_errors += errors;
    pthread_mutex_unlock(&errors_lock);
    return NULL;
}

/* The k-NN snapshot: written at close, read by the next handle's first
 * search instead of every concept, and brought up to date with a write
 * made while no handle held the matrix. */
static void test_knn_snapshot(void) {
    char path[300], snap[300];
    snprintf(path, sizeof path, "%s.knn.db", db_path);
    snprintf(snap, sizeof snap, "%s.knn.snap", db_path);
    remove(path);
    remove(snap);
    gm_store *a = NULL;
    CHECK_OK(gm_open(path, NULL, &a));
    for (int i = 0; i < 50; i++) {
        char name[32];
        float e[4] = {(float)i, 1.0f, (float)(i % 7), -0.5f};
        int64_t id = 0;
        snprintf(name, sizeof name, "k%d", i);
        CHECK_OK(gm_store_concept(a, name, e, 4, NULL, NULL, &id));
    }
    uint32_t source = 99;
    CHECK_OK(gm_knn_matrix_source(a, &source));
    CHECK(source == GM_MATRIX_NOT_LOADED);
    CHECK_OK(gm_set_knn_snapshot(a, snap));
    const float q[4] = {49.0f, 1.0f, 0.0f, -0.5f};
    gm_neighbor_list *l = NULL;
    CHECK_OK(gm_nearest_concepts(a, q, 4, GM_METRIC_L2, 1, NULL, &l));
    CHECK(l != NULL && l->len == 1 && strcmp(l->items[0].name, "k49") == 0);
    gm_neighbor_list_free(l);
    CHECK_OK(gm_knn_matrix_source(a, &source));
    CHECK(source == GM_MATRIX_BUILT);
    gm_close(a);
    FILE *written = fopen(snap, "rb");
    CHECK(written != NULL);
    if (written) fclose(written);

    gm_store *b = NULL;
    CHECK_OK(gm_open(path, NULL, &b));
    const float moved[4] = {1000.0f, 0.0f, 0.0f, 0.0f};
    int64_t id = 0;
    CHECK_OK(gm_store_concept(b, "k3", moved, 4, NULL, NULL, &id));
    CHECK_OK(gm_set_knn_snapshot(b, snap));
    const float far[4] = {999.0f, 0.0f, 0.0f, 0.0f};
    CHECK_OK(gm_nearest_concepts(b, far, 4, GM_METRIC_L2, 1, NULL, &l));
    CHECK(l != NULL && l->len == 1 && strcmp(l->items[0].name, "k3") == 0);
    gm_neighbor_list_free(l);
    CHECK_OK(gm_knn_matrix_source(b, &source));
    CHECK(source == GM_MATRIX_SNAPSHOT);
    uint8_t saved = 9;
    CHECK_OK(gm_save_knn_snapshot(b, &saved));
    CHECK(saved == 1);
    CHECK_OK(gm_save_knn_snapshot(b, &saved));
    CHECK(saved == 0);
    CHECK_OK(gm_set_knn_snapshot(b, NULL));
    gm_close(b);
    remove(path);
    remove(snap);
}


/* A store of at most three evictable episodes: each insert past them
 * evicts the oldest, a protected demonstration stays outside the budget,
 * a raw insert is pruned, and every result frees cleanly. */
static void test_retention(void) {
    char path[300];
    snprintf(path, sizeof path, "%s.retention.db", db_path);
    remove(path);
    gm_store *a = NULL;
    CHECK_OK(gm_open(path, NULL, &a));
    gm_retention_policy p = keep_at_most(3);
    p.protect_key = "demo";
    p.protect_value = "true";
    gm_evictions ev = {9, 9, 9, 9};
    CHECK_OK(gm_set_retention_policy(a, &p, &ev));
    CHECK(ev.by_age == 0 && ev.by_top_k == 0 && ev.by_count == 0 && ev.by_bytes == 0);

    gm_episode_input demo = episode_input("play", 0.0);
    demo.metadata = "{\"demo\": true}";
    int64_t demo_id = 0, id = 0, first = 0;
    CHECK_OK(gm_store_episode(a, &demo, &demo_id));
    for (int i = 0; i < 5; i++) {
        gm_episode_input in = episode_input("play", i);
        CHECK_OK(gm_store_episode(a, &in, &id));
        if (i == 0) first = id;
        CHECK_OK(gm_last_evictions(a, &ev));
        CHECK(ev.by_count == (i >= 3 ? 1u : 0u));
    }
    int64_t n = 0;
    CHECK_OK(gm_count_episodes(a, &n));
    CHECK(n == 4);
    gm_episode *e = NULL;
    CHECK(gm_get_episode(a, first, &e) == GM_ERR_NOT_FOUND && e == NULL);
    CHECK_OK(gm_get_episode(a, demo_id, &e));
    CHECK(e != NULL);
    gm_episode_free(e);

    gm_retention_status *st = NULL;
    CHECK_OK(gm_get_retention(a, &st));
    CHECK(st != NULL && st->has_policy == 1 && st->policy.has_max_episodes == 1 && st->policy.max_episodes == 3);
    CHECK(st && st->policy.order == GM_EVICT_OLDEST && strcmp(st->policy.protect_key, "demo") == 0 &&
          strcmp(st->policy.protect_value, "true") == 0);
    CHECK(st && st->episodes == 3 && st->evicted_total == 2 && st->experience_bytes == 15);
    gm_retention_status_free(st);
    gm_stats *stats = NULL;
    CHECK_OK(gm_get_stats(a, &stats));
    CHECK(stats && stats->episodes_evicted == 2 && stats->has_retention_policy == 1);
    gm_stats_free(stats);

    /* Written around the library: counted by the database, pruned. */
    CHECK_OK(gm_execute(a, "INSERT INTO episodes(timestamp, experience_data, performance_score, context_hash) "
                           "VALUES (1, x'00', 0.5, 'raw'), (2, x'00', 0.5, 'raw')", NULL, 0, NULL));
    gm_pruned *plan = NULL;
    CHECK_OK(gm_prune(a, 1, &plan));
    CHECK(plan && plan->count == 2 && plan->evictions.by_count == 2 && plan->ids[0] < plan->ids[1]);
    CHECK_OK(gm_count_episodes(a, &n));
    CHECK(n == 6);
    gm_pruned *done = NULL;
    CHECK_OK(gm_prune(a, 0, &done));
    CHECK(done && plan && done->count == 2 && done->ids[0] == plan->ids[0] && done->ids[1] == plan->ids[1]);
    gm_pruned_free(plan);
    gm_pruned_free(done);
    CHECK_OK(gm_prune(a, 0, &done));
    CHECK(done && done->count == 0 && done->ids == NULL);
    gm_pruned_free(done);

    /* Removed: nothing is evicted any more. */
    CHECK_OK(gm_set_retention_policy(a, NULL, NULL));
    CHECK_OK(gm_get_retention(a, &st));
    CHECK(st && st->has_policy == 0 && st->policy.protect_key == NULL);
    gm_retention_status_free(st);
    for (int i = 0; i < 3; i++) {
        gm_episode_input in = episode_input("play", i);
        CHECK_OK(gm_store_episode(a, &in, &id));
    }
    CHECK_OK(gm_count_episodes(a, &n));
    CHECK(n == 7);
    gm_retention_status_free(NULL);
    gm_pruned_free(NULL);
    gm_retention_policy_init(NULL);
    gm_close(a);
    remove(path);
}

static void test_sampler(void) {
    char path[300];
    snprintf(path, sizeof path, "%s.replay.db", db_path);
    remove(path);
    gm_store *a = NULL;
    CHECK_OK(gm_open(path, NULL, &a));
    int64_t ids[8];
    for (int i = 0; i < 8; i++) {
        gm_episode_input in = episode_input(i < 6 ? "play" : "other", i);
        CHECK_OK(gm_store_episode(a, &in, &ids[i]));
    }
    /* An actor gives ids[0] priority 0: it is never drawn. */
    double zero = 0.0;
    size_t stored = 9;
    CHECK_OK(gm_set_episode_priorities(a, ids, &zero, 1, &stored));
    CHECK(stored == 1);

    gm_sampler_config config = prioritized(1.0, 42);
    config.context = "play";
    gm_sampler *s = NULL;
    CHECK_OK(gm_sampler_new(a, &config, &s));
    gm_sample batch[5];
    uint64_t size = 0;
    CHECK_OK(gm_sampler_sample(s, 5, 0.4, 0, batch, &size));
    CHECK(size == 6);
    for (int i = 0; i < 5; i++) {
        CHECK(batch[i].id != ids[0] && batch[i].id <= ids[5]);
        /* the five drawable ones count at the maximum (1): P = 1/5 */
        CHECK(fabs(batch[i].probability - 0.2) < 1e-12);
        CHECK(batch[i].weight == 1.0);
        for (int j = 0; j < i; j++) CHECK(batch[j].id != batch[i].id);
    }
    /* Without replacement, six is more than can be drawn. */
    CHECK(gm_sampler_sample(s, 6, 0.4, 0, batch, NULL) == GM_ERR_INVALID_ARGUMENT);
    CHECK(strstr(gm_last_error_message(), "count") != NULL);

    /* The learner scores them; one update names a generation never drawn. */
    gm_priority_update updates[3] = {
        {batch[0].id, batch[0].generation, 4.0},
        {batch[1].id, batch[1].generation, 0.0},
        {batch[2].id, batch[2].generation + 1, 9.0},
    };
    uint8_t stale[3] = {7, 7, 7};
    size_t stale_count = 9;
    CHECK_OK(gm_sampler_update_priorities(s, updates, 3, stale, &stale_count));
    CHECK(stale[0] == 0 && stale[1] == 0 && stale[2] == 1 && stale_count == 1);
    size_t written = 0;
    CHECK_OK(gm_sampler_flush(s, &written));
    CHECK(written == 2);

    /* A checkpointed generator state repeats the draws that follow it. */
    uint8_t state[GM_RNG_STATE_BYTES];
    CHECK_OK(gm_sampler_rng_state(s, state, sizeof state));
    gm_sample first[16], again[16];
    CHECK_OK(gm_sampler_sample(s, 16, 1.0, 1, first, NULL));
    CHECK_OK(gm_sampler_set_rng_state(s, state, sizeof state));
    CHECK_OK(gm_sampler_sample(s, 16, 1.0, 1, again, NULL));
    CHECK(memcmp(first, again, sizeof first) == 0);

    /* One call per learner step: the samples and their episodes, in
     * draw order, in one list. */
    gm_sample drawn[12];
    gm_episode_list *episodes = NULL;
    CHECK_OK(gm_sampler_sample_episodes(s, 12, 0.4, 1, drawn, &size, &episodes));
    CHECK(episodes != NULL && episodes->len == 12 && size == 6);
    for (size_t i = 0; episodes && i < episodes->len; i++) {
        const gm_episode *e = &episodes->items[i];
        CHECK(e->id == drawn[i].id && e->experience_len == 5 && e->experience_data[4] == 255);
        CHECK(strcmp(e->context_hash, "play") == 0);
    }
    gm_episode_list_free(episodes);
    CHECK_OK(gm_sampler_sample_episodes(s, 0, 0.4, 1, NULL, NULL, &episodes));
    CHECK(episodes != NULL && episodes->len == 0);
    gm_episode_list_free(episodes);
    gm_sampler_free(s);

    /* The priorities persist: after a reopen only batch[0] (4.0) and the
     * unscored episodes (counting at 4.0) are drawn, never the zeroed. */
    gm_close(a);
    CHECK_OK(gm_open(path, NULL, &a));
    gm_sampler *t = NULL;
    CHECK_OK(gm_sampler_new(a, &config, &t));
    gm_sample many[64];
    CHECK_OK(gm_sampler_sample(t, 64, 0.0, 1, many, &size));
    for (int i = 0; i < 64; i++) CHECK(many[i].id != ids[0] && many[i].id != batch[1].id);
    /* A sampler outliving its store reports it instead of crashing. */
    gm_close(a);
    CHECK(gm_sampler_sample(t, 1, 0.0, 1, many, NULL) == GM_ERR_MISUSE);
    gm_sampler_free(t);
    gm_sampler_free(t); /* freed twice: a no-op */
    CHECK(gm_sampler_flush(t, NULL) == GM_ERR_MISUSE);
    remove(path);
}

static void test_threads(void) {
    int64_t before = 0, after = 0;
    gm_concept *c = NULL;
    CHECK_OK(gm_get_concept(S, concept_b, &c));
    int64_t accesses_before = c ? c->access_count : 0;
    gm_concept_free(c);
    CHECK_OK(gm_count_episodes(S, &before));
    pthread_t threads[THREADS];
    for (int t = 0; t < THREADS; t++) pthread_create(&threads[t], NULL, worker, (void *)(intptr_t)t);
    for (int t = 0; t < THREADS; t++) pthread_join(threads[t], NULL);
    CHECK(thread_errors == 0);
    CHECK_OK(gm_count_episodes(S, &after));
    /* PER_THREAD singles plus 3 transactions of 5 per thread */
    CHECK(after == before + THREADS * (PER_THREAD + 3 * 5));
    CHECK_OK(gm_get_concept(S, concept_b, &c));
    CHECK(c != NULL && c->access_count == accesses_before + THREADS * (PER_THREAD / 10));
    gm_concept_free(c);
}

/* Underscores are LIKE wildcards in the seed's call; GM_MATCH_LITERAL
 * finds them as themselves, in the name search and the k-NN filter. */
static void test_literal_names(void) {
    gm_store *s = NULL;
    CHECK_OK(gm_open(":memory:", NULL, &s));
    const char *names[] = {"level_1", "levelX1", "100%_done"};
    int64_t ids[3];
    for (int i = 0; i < 3; i++) {
        const float e[2] = {(float)i, 1.0f};
        CHECK_OK(gm_store_concept(s, names[i], e, 2, NULL, NULL, &ids[i]));
    }
    gm_concept_list *l = NULL;
    CHECK_OK(gm_search_concepts(s, "level_1", 10, &l));
    CHECK(l != NULL && l->len == 2);
    gm_concept_list_free(l);
    CHECK_OK(gm_search_concepts_matching(s, "level_1", GM_MATCH_LITERAL, 10, &l));
    CHECK(l != NULL && l->len == 1 && l->items[0].id == ids[0]);
    gm_concept_list_free(l);
    CHECK_OK(gm_search_concepts_matching(s, "%", GM_MATCH_LITERAL, 10, &l));
    CHECK(l != NULL && l->len == 1 && l->items[0].id == ids[2]);
    gm_concept_list_free(l);
    gm_search_filter f;
    memset(&f, 0, sizeof f);
    f.name_pattern = "level_1";
    f.name_match = GM_MATCH_LITERAL;
    const float q[2] = {1.0f, 1.0f};
    gm_neighbor_list *nl = NULL;
    CHECK_OK(gm_nearest_concepts(s, q, 2, GM_METRIC_L2, 5, &f, &nl));
    CHECK(nl != NULL && nl->len == 1 && nl->items[0].id == ids[0]);
    gm_neighbor_list_free(nl);
    gm_close(s);
}

/* Rows damaged by raw SQL are GM_ERR_CORRUPT naming the row, not INTERNAL;
 * statements that return rows run and their rows are discarded; missing
 * folders are created for VACUUM INTO as for backups; a closed handle
 * resets every out-param. */
static void test_damage_and_raw_sql(void) {
    gm_store *s = NULL;
    CHECK_OK(gm_open(":memory:", NULL, &s));
    const float e[4] = {1, 2, 3, 4};
    int64_t id = 0, changes = -1;
    CHECK_OK(gm_store_concept(s, "whole", e, 4, NULL, NULL, &id));
    CHECK_OK(gm_execute(s, "SELECT 1", NULL, 0, &changes));
    CHECK(changes == 0);
    CHECK_OK(gm_execute(s, "INSERT INTO gm_meta(key, value) VALUES ('k', 'v') RETURNING key", NULL, 0, &changes));
    CHECK(changes == 1);
    const char *damage[] = {
        "UPDATE concepts SET embedding = X'010203'",
        "UPDATE concepts SET embedding = 'text'",
        "UPDATE concepts SET embedding = 42",
        "UPDATE concepts SET name = CAST(X'FF00FE' AS TEXT)",
    };
    for (size_t i = 0; i < sizeof damage / sizeof damage[0]; i++) {
        CHECK_OK(gm_execute(s, "UPDATE concepts SET embedding = X'0000803F000000400000404000008040', name = 'whole'", NULL, 0, NULL));
        CHECK_OK(gm_execute(s, damage[i], NULL, 0, NULL));
        gm_concept *c = NULL;
        gm_concept_list *l = NULL;
        gm_neighbor_list *nl = NULL;
        gm_status st = gm_get_concept(s, id, &c);
        CHECK(st == GM_ERR_CORRUPT && strstr(gm_last_error_message(), "concept ") != NULL);
        st = gm_search_concepts(s, "", 10, &l);
        CHECK(st == GM_ERR_CORRUPT);
        st = gm_nearest_concepts(s, e, 4, GM_METRIC_L2, 1, NULL, &nl);
        CHECK(st == GM_ERR_CORRUPT && strstr(gm_last_error_message(), "concept ") != NULL);
        if (st != GM_ERR_CORRUPT) fprintf(stderr, "damage %zu: %u %s\n", i, st, gm_last_error_message());
        gm_concept_free(c);
        gm_concept_list_free(l);
        gm_neighbor_list_free(nl);
    }
    gm_episode_input in = episode_input("ctx", 0.5);
    CHECK_OK(gm_store_episode(s, &in, &id));
    CHECK_OK(gm_execute(s, "UPDATE episodes SET context_hash = CAST(X'FF' AS TEXT)", NULL, 0, NULL));
    gm_episode *ep = NULL;
    CHECK(gm_get_episode(s, id, &ep) == GM_ERR_CORRUPT && strstr(gm_last_error_message(), "episode ") != NULL);
    gm_close(s);

    char nested[300];
    const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(nested, sizeof nested, "%s/gm_ctest_vac_%ld/sub/compact.db", dir, (long)getpid());
    CHECK_OK(gm_vacuum_into(S, nested));
    unlink(nested);
    *strrchr(nested, '/') = 0;
    rmdir(nested);
    *strrchr(nested, '/') = 0;
    rmdir(nested);

    int64_t problems = 99;
    char *report = (char *)"stale";
    CHECK(gm_integrity_check((gm_store *)&closed_marker, &problems, &report) == GM_ERR_MISUSE);
    CHECK(problems == 0 && report == NULL);
}

/* ---------- transactions that outlive or change threads ---------------- */

static char tx_db[300];

static gm_store *open_with_timeout(double secs) {
    gm_options o;
    gm_options_init(&o);
    o.connection_timeout_secs = secs;
    gm_store *s = NULL;
    if (gm_open(tx_db, &o, &s) != GM_OK) fprintf(stderr, "open %s: %s\n", tx_db, gm_last_error_message());
    return s;
}

static int64_t episodes_in(gm_store *s) {
    int64_t n = -1;
    gm_count_episodes(s, &n);
    return n;
}

static double now_secs(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static gm_store *TX_STORE;

static void *begin_write_and_exit(void *arg) {
    (void)arg;
    gm_episode_input in = episode_input("abandoned", 0.1);
    int64_t id;
    gm_begin(TX_STORE);
    gm_store_episode(TX_STORE, &in, &id);
    return NULL; /* exits with the transaction open */
}

static uint64_t detached_token;

static void *begin_write_and_detach(void *arg) {
    (void)arg;
    gm_episode_input in = episode_input("handed_over", 0.2);
    int64_t id;
    gm_begin(TX_STORE);
    gm_store_episode(TX_STORE, &in, &id);
    gm_transaction_detach(TX_STORE, &detached_token);
    return NULL;
}

static gm_status attach_result, commit_result;

static void *attach_write_and_commit(void *arg) {
    (void)arg;
    gm_episode_input in = episode_input("handed_over", 0.3);
    int64_t id;
    attach_result = gm_transaction_attach(TX_STORE, detached_token);
    gm_store_episode(TX_STORE, &in, &id);
    commit_result = gm_commit(TX_STORE);
    return NULL;
}

static pthread_mutex_t hold_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t hold_cond = PTHREAD_COND_INITIALIZER;
static int hold_stage; /* 1: A began; 2: A may go on */
static gm_status a_commit, b_write;
static double b_waited;

static void *hold_until_told(void *arg) {
    (void)arg;
    gm_episode_input in = episode_input("held", 0.4);
    int64_t id;
    gm_begin(TX_STORE);
    gm_store_episode(TX_STORE, &in, &id);
    pthread_mutex_lock(&hold_lock);
    hold_stage = 1;
    pthread_cond_broadcast(&hold_cond);
    while (hold_stage < 2) pthread_cond_wait(&hold_cond, &hold_lock);
    pthread_mutex_unlock(&hold_lock);
    a_commit = gm_commit(TX_STORE);
    return NULL;
}

static void *wait_to_write(void *arg) {
    (void)arg;
    gm_episode_input in = episode_input("waiter", 0.5);
    int64_t id;
    double t0 = now_secs();
    b_write = gm_store_episode(TX_STORE, &in, &id);
    b_waited = now_secs() - t0;
    return NULL;
}

static void test_transactions_across_threads(void) {
    const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(tx_db, sizeof tx_db, "%s/gm_ctest_tx_%ld.db", dir, (long)getpid());
    pthread_t a, b;

    /* 1. A thread exits with its transaction open: rolled back at once. */
    TX_STORE = open_with_timeout(20.0);
    pthread_create(&a, NULL, begin_write_and_exit, NULL);
    pthread_join(a, NULL);
    gm_episode_input in = episode_input("main", 0.6);
    int64_t id;
    double t0 = now_secs();
    CHECK_OK(gm_store_episode(TX_STORE, &in, &id));
    CHECK(now_secs() - t0 < 2.0);
    CHECK(episodes_in(TX_STORE) == 1);

    /* 2. Detached on one thread, attached and committed on another; while
     * detached, other writers are told what holds the writer. */
    gm_close(TX_STORE);
    TX_STORE = open_with_timeout(0.2);
    pthread_create(&a, NULL, begin_write_and_detach, NULL);
    pthread_join(a, NULL);
    CHECK(detached_token != 0);
    CHECK(gm_store_episode(TX_STORE, &in, &id) == GM_ERR_BUSY);
    CHECK(strstr(gm_last_error_message(), "detached") != NULL);
    CHECK(gm_transaction_attach(TX_STORE, detached_token + 99) == GM_ERR_MISUSE);
    pthread_create(&b, NULL, attach_write_and_commit, NULL);
    pthread_join(b, NULL);
    CHECK(attach_result == GM_OK && commit_result == GM_OK);
    CHECK(episodes_in(TX_STORE) == 3);
    uint64_t token = 5;
    CHECK(gm_transaction_detach(TX_STORE, &token) == GM_ERR_MISUSE && token == 0);
    CHECK(gm_transaction_detach(TX_STORE, NULL) == GM_ERR_INVALID_ARGUMENT);
    gm_close(TX_STORE);

    /* 3. Close while A holds a transaction and B waits to write: A's work
     * is rolled back, B returns MISUSE at once, the file is free. */
    TX_STORE = open_with_timeout(20.0);
    pthread_create(&a, NULL, hold_until_told, NULL);
    pthread_mutex_lock(&hold_lock);
    while (hold_stage < 1) pthread_cond_wait(&hold_cond, &hold_lock);
    pthread_mutex_unlock(&hold_lock);
    pthread_create(&b, NULL, wait_to_write, NULL);
    struct timespec pause = {0, 200 * 1000 * 1000};
    nanosleep(&pause, NULL);
    gm_close(TX_STORE);
    pthread_join(b, NULL);
    CHECK(b_write == GM_ERR_MISUSE && b_waited < 5.0);
    gm_store *other = open_with_timeout(0.5);
    CHECK_OK(gm_store_episode(other, &in, &id));
    CHECK(episodes_in(other) == 4);
    pthread_mutex_lock(&hold_lock);
    hold_stage = 2;
    pthread_cond_broadcast(&hold_cond);
    pthread_mutex_unlock(&hold_lock);
    pthread_join(a, NULL);
    CHECK(a_commit == GM_ERR_MISUSE);
    gm_close(other);
    char side[320];
    unlink(tx_db);
    snprintf(side, sizeof side, "%s-wal", tx_db);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", tx_db);
    unlink(side);
}

int main(void) {
    const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(db_path, sizeof db_path, "%s/gm_ctest_%ld.db", dir, (long)getpid());
    char wal[300], shm[300];
    snprintf(wal, sizeof wal, "%s-wal", db_path);
    snprintf(shm, sizeof shm, "%s-shm", db_path);
    if (gm_open(db_path, NULL, &S) != GM_OK) {
        fprintf(stderr, "cannot open %s: %s\n", db_path, gm_last_error_message());
        return 1;
    }
    test_version();
    test_options_initializer();
    test_episodes();
    test_concepts();
    test_relationships();
    test_learning();
    test_strategy_stats();
    test_transactions();
    test_transaction_rolled_back_by_sqlite();
    test_stats_and_errors();
    test_bad_inputs();
    test_injection_shaped_names();
    test_read_only_and_closed();
    test_backups();
    test_experience();
    test_store_tensors_and_read_into();
    test_search();
    test_knn_snapshot();
    test_sampler();
    test_retention();
    test_literal_names();
    test_damage_and_raw_sql();
    test_threads();
    test_transactions_across_threads();
    gm_close(S);
    unlink(db_path);
    unlink(wal);
    unlink(shm);
    char backups[300];
    snprintf(backups, sizeof backups, "%s/backups", dir);
    rmdir(backups); /* only if empty: other runs may share TMPDIR */
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
