/* The C ABI on a PostgreSQL store: the same calls as on a file, opened
 * with a connection string. Run by `make test` with the throwaway server
 * of scripts/pg_throwaway.sh (GMSTORE_TEST_PG); fails without one. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gmstore.h"

static int failed, passed;
#define CHECK(cond)                                                                               \
    do {                                                                                          \
        if (cond) {                                                                               \
            passed++;                                                                             \
        } else {                                                                                  \
            failed++;                                                                             \
            fprintf(stderr, "%s:%d: FAILED: %s (%s)\n", __FILE__, __LINE__, #cond, gm_last_error_message()); \
        }                                                                                         \
    } while (0)

int main(void) {
    const char *server = getenv("GMSTORE_TEST_PG");
    if (server == NULL) {
        fprintf(stderr, "GMSTORE_TEST_PG is not set: make test starts a server (scripts/pg_throwaway.sh)\n");
        return 1;
    }
    char target[1024];
    snprintf(target, sizeof target, "%s store=c_abi_%ld", server, (long)getpid());
    gm_store *s = NULL;
    CHECK(gm_open(target, NULL, &s) == GM_OK && s != NULL);
    if (s == NULL) return 1;

    const uint8_t data[4] = {1, 0, 2, 255};
    gm_episode_input in;
    memset(&in, 0, sizeof in);
    in.experience_data = data;
    in.experience_len = sizeof data;
    in.performance_score = 0.75;
    in.context_hash = "arena";
    int64_t id = 0;
    CHECK(gm_store_episode(s, &in, &id) == GM_OK && id > 0);
    gm_episode *e = NULL;
    CHECK(gm_get_episode(s, id, &e) == GM_OK && e && e->experience_len == 4 && memcmp(e->experience_data, data, 4) == 0 &&
          e->performance_score == 0.75 && strcmp(e->context_hash, "arena") == 0);
    gm_episode_free(e);
    CHECK(gm_get_episode(s, 424242, &e) == GM_ERR_NOT_FOUND && e == NULL);

    const float v[3] = {1.0f, 0.0f, 0.5f};
    int64_t cid = 0;
    CHECK(gm_store_concept(s, "sword", v, 3, NULL, NULL, &cid) == GM_OK);
    gm_neighbor_list *near = NULL;
    CHECK(gm_nearest_concepts(s, v, 3, GM_METRIC_COSINE, 1, NULL, &near) == GM_OK && near && near->len == 1 &&
          near->items[0].id == cid && fabs(near->items[0].score - 1.0) < 1e-9);
    gm_neighbor_list_free(near);

    for (int i = 0; i < 4; i++) {
        double ts = i;
        CHECK(gm_store_learning_event(s, "task", 1.0 + i, i % 2 ? "odd" : "even", NULL, &ts, &id) == GM_OK);
    }
    gm_strategy_summary_list *stats = NULL;
    CHECK(gm_strategy_stats(s, "task", NULL, &stats) == GM_OK && stats && stats->len == 2 &&
          strcmp(stats->items[0].strategy, "odd") == 0 && stats->items[0].mean == 3.0);
    gm_strategy_summary_list_free(stats);

    CHECK(gm_begin(s) == GM_OK);
    CHECK(gm_store_episode(s, &in, &id) == GM_OK);
    CHECK(gm_rollback(s) == GM_OK);
    int64_t count = 0;
    CHECK(gm_count_episodes(s, &count) == GM_OK && count == 1);

    /* bad input is refused before the server sees it, as on a file */
    in.performance_score = NAN;
    CHECK(gm_store_episode(s, &in, &id) == GM_ERR_INVALID_ARGUMENT &&
          strstr(gm_last_error_message(), "performance_score") != NULL);
    /* a backup of a server store is a gmstore SQLite file, opened as one */
    char backup[256];
    snprintf(backup, sizeof backup, "/tmp/gm_pg_backup_%ld.db", (long)getpid());
    unlink(backup);
    char *path = NULL;
    CHECK(gm_create_backup(s, backup, &path) == GM_OK && path != NULL);
    gm_string_free(path);
    gm_close(s);
    gm_store *file = NULL;
    CHECK(gm_open(backup, NULL, &file) == GM_OK && gm_count_episodes(file, &count) == GM_OK && count == 1);
    gm_close(file);
    unlink(backup);

    gm_store *none = NULL;
    CHECK(gm_open("postgresql://me:hunter2@127.0.0.1:1/nowhere?connect_timeout=2", NULL, &none) == GM_ERR_IO &&
          none == NULL && strstr(gm_last_error_message(), "hunter2") == NULL &&
          strstr(gm_last_error_message(), "127.0.0.1/nowhere") != NULL);
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
