/* One learner step through the C ABI: sample 256 episodes with their
 * weights, then update their 256 priorities. `learner_step DB STEPS SEED`
 * prints one line per step: the step's nanoseconds (after 20 warm-up steps
 * that also load the sampler), then `flush NS`: the time to write the
 * priorities those steps left pending, which a learner pays sooner or
 * later, and `memory BYTES`: how much the process's resident memory grew
 * from before the sampler was made to after its first draws loaded it.
 * Priorities are a deterministic function of the step and the sample, as
 * a learner's TD errors would be. */
#define _POSIX_C_SOURCE 199309L
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "gmstore.h"

#define BATCH 256

/* Resident bytes of this process (Linux). */
static long resident_bytes(void) {
    long pages = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f == NULL) return 0;
    if (fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
    fclose(f);
    return resident * 4096;
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
    if (argc != 4) return 2;
    gm_store *s = NULL;
    if (gm_open(argv[1], NULL, &s) != GM_OK) return 1;
    long steps = atol(argv[2]);
    gm_sampler_config config = {0};
    config.weighting = GM_WEIGHTING_PRIORITIZED;
    config.alpha = 0.6;
    config.seed = (uint64_t)atoll(argv[3]);
    long before = resident_bytes();
    gm_sampler *sampler = NULL;
    if (gm_sampler_new(s, &config, &sampler) != GM_OK) return 1;
    long loaded = 0;
    gm_sample batch[BATCH];
    gm_priority_update updates[BATCH];
    for (long step = -20; step < steps; step++) {
        double start = now();
        if (gm_sampler_sample(sampler, BATCH, 0.4, 1, batch, NULL) != GM_OK) return 1;
        for (int i = 0; i < BATCH; i++) {
            double td = (double)((batch[i].id * 2654435761u + (uint64_t)step) % 1000) / 100.0;
            updates[i] = (gm_priority_update){batch[i].id, batch[i].generation, td + 1e-3};
        }
        if (gm_sampler_update_priorities(sampler, updates, BATCH, NULL, NULL) != GM_OK) return 1;
        if (step >= 0) printf("%.0f\n", (now() - start) * 1e9);
        if (step == -20) loaded = resident_bytes();
    }
    printf("memory %ld\n", loaded - before);
    double start = now();
    if (gm_sampler_flush(sampler, NULL) != GM_OK) return 1;
    printf("flush %.0f\n", (now() - start) * 1e9);
    gm_sampler_free(sampler);
    gm_close(s);
    return 0;
}
