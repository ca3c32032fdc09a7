/* Built against an installed gmstore (pkg-config or CMake), as a user's
 * program would be: opens a store, writes and reads one episode. */
#include <gmstore.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv) {
    if (argc < 2) return 2;
    if (gm_version() != GM_VERSION_NUMBER) {
        fprintf(stderr, "header %u and library %u disagree\n", GM_VERSION_NUMBER, gm_version());
        return 1;
    }
    gm_store *store = NULL;
    if (gm_open(argv[1], NULL, &store) != GM_OK) {
        fprintf(stderr, "open: %s\n", gm_last_error_message());
        return 1;
    }
    const uint8_t bytes[3] = {1, 2, 3};
    gm_episode_input in;
    memset(&in, 0, sizeof in);
    in.experience_data = bytes;
    in.experience_len = sizeof bytes;
    in.performance_score = 0.5;
    in.context_hash = "installed";
    int64_t id = 0;
    gm_episode *out = NULL;
    int ok = gm_store_episode(store, &in, &id) == GM_OK && gm_get_episode(store, id, &out) == GM_OK &&
             out->experience_len == 3 && memcmp(out->experience_data, bytes, 3) == 0;
    gm_episode_free(out);
    gm_close(store);
    printf(ok ? "installed gmstore: ok\n" : "installed gmstore: WRONG\n");
    return ok ? 0 : 1;
}
