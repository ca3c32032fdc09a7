/*
 * A small grid-world simulator that keeps its memory in gmstore.
 *
 * An agent crosses an 8x8 grid to a goal with one of three strategies. Each
 * run is stored as an episode: its experience holds the float32
 * observations of every step as a [steps, 8, 8] tensor plus the strategy
 * and outcome, in gmstore's experience format, which Python reads back as
 * numpy arrays; the score, the level as context and JSON metadata go with
 * it. The
 * landmarks it meets are concepts with embeddings and relationships; each
 * strategy's improvement over the random baseline is a learning event.
 * Then it queries its memory back and prints a report.
 *
 * Usage: simulator [db_path]   (default: godly_ai.db; a PostgreSQL connection
 * string works too). With GM_SIM_NAME set, its contexts are "<name>/grid_level_N",
 * so several simulators sharing one store can be told apart (make demo-fleet).
 */
#include "gmstore.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GRID 8
#define MAX_STEPS 64
#define OBS_FLOATS (GRID * GRID)
#define EMBED_DIM 16
#define RUNS_PER_STRATEGY 20

static gm_store *store;

/* The context of a level: "grid_level_N", or "<GM_SIM_NAME>/grid_level_N". */
static void level_context(char *out, size_t cap, int level) {
    const char *name = getenv("GM_SIM_NAME");
    if (name != NULL && name[0] != '\0')
        snprintf(out, cap, "%s/grid_level_%d", name, level);
    else
        snprintf(out, cap, "grid_level_%d", level);
}

static void die(const char *what, gm_status status) {
    fprintf(stderr, "simulator: %s failed: %s: %s\n", what, gm_status_name(status), gm_last_error_message());
    gm_close(store);
    exit(1);
}

#define TRY(what, call)                      \
    do {                                     \
        gm_status st_ = (call);              \
        if (st_ != GM_OK) die(what, st_);    \
    } while (0)

/* xorshift: reproducible runs without depending on the C library's rand */
static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint32_t next_random(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 32);
}

typedef enum { RANDOM_WALK, GREEDY, EPSILON_GREEDY, STRATEGIES } strategy;
static const char *const STRATEGY_NAMES[STRATEGIES] = {"random_walk", "greedy", "epsilon_greedy"};

typedef struct {
    int steps;
    int reached_goal;
    float observations[MAX_STEPS][OBS_FLOATS];
} run_result;

static void observe(float *obs, int x, int y, int gx, int gy) {
    memset(obs, 0, sizeof(float) * OBS_FLOATS);
    obs[gy * GRID + gx] = 0.5f;
    obs[y * GRID + x] = 1.0f;
}

static void run_episode(strategy s, int level, run_result *out) {
    int x = 0, y = 0, gx = GRID - 1 - level % 3, gy = GRID - 1;
    out->steps = 0;
    out->reached_goal = 0;
    while (out->steps < MAX_STEPS) {
        observe(out->observations[out->steps], x, y, gx, gy);
        out->steps++;
        if (x == gx && y == gy) {
            out->reached_goal = 1;
            break;
        }
        int explore = s == RANDOM_WALK || (s == EPSILON_GREEDY && next_random() % 10 < 2);
        if (explore) {
            switch (next_random() % 4) {
            case 0: x = x + 1 < GRID ? x + 1 : x; break;
            case 1: x = x > 0 ? x - 1 : x; break;
            case 2: y = y + 1 < GRID ? y + 1 : y; break;
            default: y = y > 0 ? y - 1 : y; break;
            }
        } else if (x != gx) {
            x += x < gx ? 1 : -1;
        } else {
            y += y < gy ? 1 : -1;
        }
    }
}

static double score_of(const run_result *r) {
    return r->reached_goal ? 1.0 - (double)r->steps / MAX_STEPS : 0.0;
}

static void store_landmarks(int64_t ids[3]) {
    static const char *const names[3] = {"goal_cell", "open_floor", "grid_corner"};
    static const char *const meta[3] = {"{\"kind\": \"target\"}", "{\"kind\": \"terrain\"}",
                                        "{\"kind\": \"terrain\"}"};
    for (int c = 0; c < 3; c++) {
        float embedding[EMBED_DIM];
        for (int i = 0; i < EMBED_DIM; i++) embedding[i] = (float)sin(0.3 * (i + 1) * (c + 1));
        TRY("gm_store_concept", gm_store_concept(store, names[c], embedding, EMBED_DIM, meta[c], NULL, &ids[c]));
    }
    TRY("gm_add_relationship", gm_add_relationship(store, ids[0], ids[1], "reached_via", 0.9));
    TRY("gm_add_relationship", gm_add_relationship(store, ids[1], ids[2], "adjacent_to", 0.6));
    TRY("gm_add_relationship", gm_add_relationship(store, ids[2], ids[0], "far_from", 0.2));
}

/* The run as an experience: observations as a tensor, outcome as values. */
static gm_buffer *encode_run(const run_result *run, strategy s) {
    uint64_t shape[3] = {(uint64_t)run->steps, GRID, GRID};
    gm_tensor obs;
    memset(&obs, 0, sizeof obs);
    obs.name = "observation";
    obs.dtype = GM_DTYPE_F32;
    obs.ndim = 3;
    obs.shape = shape;
    obs.data = (const uint8_t *)run->observations;
    obs.data_len = sizeof(float) * OBS_FLOATS * (size_t)run->steps;
    char values[160];
    snprintf(values, sizeof values,
             "{\"observation\": {\"$tensor\": \"observation\"}, \"strategy\": \"%s\", \"reached_goal\": %s}",
             STRATEGY_NAMES[s], run->reached_goal ? "true" : "false");
    gm_buffer *out = NULL;
    TRY("gm_experience_encode", gm_experience_encode(&obs, 1, values, &out));
    return out;
}

/* Runs every strategy on every level; one transaction per strategy batch. */
static void simulate(double mean_score[STRATEGIES]) {
    static run_result run;
    for (int s = 0; s < STRATEGIES; s++) {
        double total = 0;
        TRY("gm_begin", gm_begin(store));
        for (int i = 0; i < RUNS_PER_STRATEGY; i++) {
            int level = i % 3;
            run_episode((strategy)s, level, &run);
            char context[96], metadata[128];
            level_context(context, sizeof context, level);
            snprintf(metadata, sizeof metadata,
                     "{\"strategy\": \"%s\", \"steps\": %d, \"reached_goal\": %s, \"obs_shape\": [%d, %d, %d]}",
                     STRATEGY_NAMES[s], run.steps, run.reached_goal ? "true" : "false", run.steps, GRID, GRID);
            gm_buffer *experience = encode_run(&run, (strategy)s);
            gm_episode_input in;
            memset(&in, 0, sizeof in);
            in.experience_data = experience->data;
            in.experience_len = experience->len;
            in.performance_score = score_of(&run);
            in.context_hash = context;
            in.metadata = metadata;
            int64_t id;
            TRY("gm_store_episode", gm_store_episode(store, &in, &id));
            gm_buffer_free(experience);
            total += in.performance_score;
        }
        TRY("gm_commit", gm_commit(store));
        mean_score[s] = total / RUNS_PER_STRATEGY;
    }
    for (int s = 0; s < STRATEGIES; s++) {
        char params[96];
        snprintf(params, sizeof params, "{\"runs\": %d, \"grid\": %d}", RUNS_PER_STRATEGY, GRID);
        int64_t id;
        TRY("gm_store_learning_event",
            gm_store_learning_event(store, "grid_navigation", mean_score[s] - mean_score[RANDOM_WALK],
                                    STRATEGY_NAMES[s], params, NULL, &id));
    }
}

/* Decodes an episode's experience in place to show its observation shape. */
static void print_episode(const gm_episode *e) {
    gm_experience *x = NULL;
    TRY("gm_experience_decode", gm_experience_decode(e->experience_data, e->experience_len, &x));
    const gm_tensor_info *obs = &x->tensors[0];
    printf("  episode %-5lld score %.3f  %s [%llu x %llu x %llu]  %s\n", (long long)e->id, e->performance_score,
           obs->name, (unsigned long long)obs->shape[0], (unsigned long long)obs->shape[1],
           (unsigned long long)obs->shape[2], e->metadata);
    gm_experience_free(x);
}

static void report(const int64_t landmarks[3]) {
    printf("\n== best strategies for grid_navigation ==\n");
    gm_strategy_list *best = NULL;
    TRY("gm_get_best_strategies", gm_get_best_strategies(store, "grid_navigation", 5, &best));
    for (size_t i = 0; i < best->len; i++)
        printf("  %-15s avg improvement %+.3f over %lld run(s)\n", best->items[i].strategy,
               best->items[i].avg_delta, (long long)best->items[i].usage_count);
    gm_strategy_list_free(best);

    char level0[96];
    level_context(level0, sizeof level0, 0);
    printf("\n== top episodes on %s (score >= 0.7) ==\n", level0);
    gm_episode_list *eps = NULL;
    double min_score = 0.7;
    TRY("gm_get_episodes_by_context", gm_get_episodes_by_context(store, level0, 5, &min_score, &eps));
    for (size_t i = 0; i < eps->len; i++)
        print_episode(&eps->items[i]);
    gm_episode_list_free(eps);

    printf("\n== knowledge graph around goal_cell ==\n");
    gm_concept *goal = NULL;
    TRY("gm_get_concept_by_name", gm_get_concept_by_name(store, "goal_cell", &goal));
    printf("  %s: %zu-d embedding, accessed %lld time(s)\n", goal->name, goal->embedding_len,
           (long long)goal->access_count);
    gm_concept_free(goal);
    for (int c = 0; c < 3; c++) {
        gm_relationship_list *edges = NULL;
        TRY("gm_get_relationships", gm_get_relationships(store, landmarks[c], NULL, &edges));
        for (size_t i = 0; i < edges->len; i++)
            printf("  concept %lld -%s-> concept %lld (strength %.2f)\n", (long long)landmarks[c],
                   edges->items[i].relationship_type, (long long)edges->items[i].target_id,
                   edges->items[i].strength);
        gm_relationship_list_free(edges);
    }

    printf("\n== concepts nearest to goal_cell (cosine) and within 2 hops ==\n");
    gm_concept *goal_again = NULL;
    TRY("gm_get_concept", gm_get_concept(store, landmarks[0], &goal_again));
    gm_neighbor_list *near = NULL;
    TRY("gm_nearest_concepts", gm_nearest_concepts(store, goal_again->embedding, goal_again->embedding_len,
                                                   GM_METRIC_COSINE, 3, NULL, &near));
    for (size_t i = 0; i < near->len; i++)
        printf("  %-12s cosine %.3f\n", near->items[i].name, near->items[i].score);
    gm_neighbor_list_free(near);
    gm_concept_free(goal_again);
    gm_reached_list *hood = NULL;
    TRY("gm_concept_neighborhood", gm_concept_neighborhood(store, landmarks[0], 2, NULL, 0.0, &hood));
    for (size_t i = 0; i < hood->len; i++) printf("  %-12s %u hop(s)\n", hood->items[i].name, hood->items[i].hops);
    gm_reached_list_free(hood);

    gm_stats *stats = NULL;
    TRY("gm_get_stats", gm_get_stats(store, &stats));
    printf("\n== store ==\n  %lld episodes, %lld concepts, %lld relationships, %lld learning events\n"
           "  %.2f MB on disk, schema v%lld, page size %lld, gmstore %s on SQLite %s\n",
           (long long)stats->episodes_count, (long long)stats->concepts_count,
           (long long)stats->relationships_count, (long long)stats->learning_events_count, stats->db_size_mb,
           (long long)stats->schema_version, (long long)stats->page_size, gm_version_string(),
           gm_sqlite_version());
    gm_stats_free(stats);
}

int main(int argc, char **argv) {
    const char *path = argc > 1 ? argv[1] : "godly_ai.db";
    gm_options opts;
    gm_options_init(&opts);
    gm_status st = gm_open(path, &opts, &store);
    if (st != GM_OK) die("gm_open", st);
    printf("gmstore grid-world simulator: %d runs per strategy into %s\n", RUNS_PER_STRATEGY, path);

    int64_t landmarks[3];
    double mean_score[STRATEGIES];
    store_landmarks(landmarks);
    simulate(mean_score);
    for (int s = 0; s < STRATEGIES; s++) printf("  %-15s mean score %.3f\n", STRATEGY_NAMES[s], mean_score[s]);
    report(landmarks);
    gm_close(store);
    return 0;
}
