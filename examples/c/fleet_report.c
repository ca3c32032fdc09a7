/*
 * The merged report of a fleet of simulators that shared one store (make
 * demo-fleet): the best strategies over every simulator's runs, with their
 * uncertainty, and how many episodes each simulator wrote.
 *
 * Usage: fleet_report STORE NAME...   (STORE: a path or connection string)
 */
#include "gmstore.h"

#include <stdio.h>

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: fleet_report STORE NAME...\n");
        return 2;
    }
    gm_store *store = NULL;
    if (gm_open(argv[1], NULL, &store) != GM_OK) {
        fprintf(stderr, "fleet_report: %s\n", gm_last_error_message());
        return 1;
    }
    gm_strategy_summary_list *stats = NULL;
    if (gm_strategy_stats(store, "grid_navigation", NULL, &stats) != GM_OK) {
        fprintf(stderr, "fleet_report: %s\n", gm_last_error_message());
        gm_close(store);
        return 1;
    }
    printf("== best strategies over the whole fleet ==\n");
    for (size_t i = 0; i < stats->len; i++) {
        const gm_strategy_summary *s = &stats->items[i];
        printf("  %-15s improvement %+.3f  95%% CI [%+.3f, %+.3f]  from %lld simulator run(s)\n", s->strategy, s->mean,
               s->ci_low, s->ci_high, (long long)s->count);
    }
    gm_strategy_summary_list_free(stats);

    printf("\n== episodes per simulator ==\n");
    int64_t total = 0, all = 0;
    for (int n = 2; n < argc; n++) {
        int64_t mine = 0;
        for (int level = 0; level < 3; level++) {
            char context[96];
            snprintf(context, sizeof context, "%s/grid_level_%d", argv[n], level);
            gm_episode_list *eps = NULL;
            if (gm_get_episodes_by_context(store, context, 1000000, NULL, &eps) != GM_OK) return 1;
            mine += (int64_t)eps->len;
            gm_episode_list_free(eps);
        }
        printf("  %-6s %lld\n", argv[n], (long long)mine);
        total += mine;
    }
    gm_count_episodes(store, &all);
    printf("  total  %lld (store holds %lld)\n", (long long)total, (long long)all);
    gm_close(store);
    return total == all ? 0 : 1;
}
