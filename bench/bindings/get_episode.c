/* Per-call cost of gm_get_episode from C: the baseline of the bindings
 * benchmark. `get_episode DB prepare` fills DB with 1,000 episodes of 64
 * bytes; `get_episode DB N` prints nanoseconds per call (get, read a field,
 * free) over N calls after N/10 warm-up calls. */
#define _POSIX_C_SOURCE 199309L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gmstore.h"

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
    if (argc != 3) return 2;
    gm_store *s = NULL;
    if (gm_open(argv[1], NULL, &s) != GM_OK) return 1;
    if (strcmp(argv[2], "prepare") == 0) {
        unsigned char data[64] = {0};
        gm_begin(s);
        for (int i = 0; i < 1000; i++) {
            gm_episode_input in;
            memset(&in, 0, sizeof in);
            in.experience_data = data;
            in.experience_len = sizeof data;
            in.performance_score = 0.5;
            in.context_hash = "bench";
            int64_t id;
            if (gm_store_episode(s, &in, &id) != GM_OK) return 1;
        }
        gm_commit(s);
        gm_close(s);
        return 0;
    }
    long n = atol(argv[2]);
    int64_t sum = 0;
    double start = 0;
    for (long i = -n / 10; i < n; i++) {
        if (i == 0) start = now();
        gm_episode *e = NULL;
        if (gm_get_episode(s, 1 + (i < 0 ? -i : i) % 1000, &e) != GM_OK) return 1;
        sum += e->id;
        gm_episode_free(e);
    }
    double ns = (now() - start) / n * 1e9;
    printf("c %.1f\n", ns);
    gm_close(s);
    return sum > 0 ? 0 : 1;
}
