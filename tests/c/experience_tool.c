/*
 * Writes or reads an episode's experience through the C ABI, for the
 * cross-language tests (python/tests/test_cross_language.py):
 *
 *   experience_tool write <db> <context>   store observation F32[2,3] = 0..5,
 *                                          action I64 scalar = 7, label "from C"
 *   experience_tool read <db> <context>    print every tensor of the newest
 *                                          episode: name dtype shape values
 */
#include "gmstore.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(const char *what, gm_status st) {
    fprintf(stderr, "%s: %s: %s\n", what, gm_status_name(st), gm_last_error_message());
    return 1;
}

static int write_episode(gm_store *s, const char *context) {
    float obs[6] = {0, 1, 2, 3, 4, 5};
    int64_t action = 7;
    uint64_t obs_shape[2] = {2, 3};
    gm_tensor tensors[2];
    memset(tensors, 0, sizeof tensors);
    tensors[0].name = "observation";
    tensors[0].dtype = GM_DTYPE_F32;
    tensors[0].ndim = 2;
    tensors[0].shape = obs_shape;
    tensors[0].data = (const uint8_t *)obs;
    tensors[0].data_len = sizeof obs;
    tensors[1].name = "action";
    tensors[1].dtype = GM_DTYPE_I64;
    tensors[1].data = (const uint8_t *)&action;
    tensors[1].data_len = sizeof action;
    const char *values =
        "{\"observation\": {\"$tensor\": \"observation\"}, \"action\": {\"$tensor\": \"action\"}, \"label\": \"from C\"}";
    gm_buffer *buf = NULL;
    gm_status st = gm_experience_encode(tensors, 2, values, &buf);
    if (st != GM_OK) return fail("gm_experience_encode", st);
    gm_episode_input in;
    memset(&in, 0, sizeof in);
    in.experience_data = buf->data;
    in.experience_len = buf->len;
    in.performance_score = 0.5;
    in.context_hash = context;
    int64_t id;
    st = gm_store_episode(s, &in, &id);
    gm_buffer_free(buf);
    if (st != GM_OK) return fail("gm_store_episode", st);
    printf("stored %lld\n", (long long)id);
    return 0;
}

static double element(const uint8_t *p, uint32_t dtype, size_t i) {
    switch (dtype) {
    case GM_DTYPE_F32: { float v; memcpy(&v, p + 4 * i, 4); return v; }
    case GM_DTYPE_F64: { double v; memcpy(&v, p + 8 * i, 8); return v; }
    case GM_DTYPE_I64: { int64_t v; memcpy(&v, p + 8 * i, 8); return (double)v; }
    case GM_DTYPE_I32: { int32_t v; memcpy(&v, p + 4 * i, 4); return v; }
    case GM_DTYPE_U8: case GM_DTYPE_BOOL: return p[i];
    default: return -1.0e300; /* not printed by the tests */
    }
}

static int read_episode(gm_store *s, const char *context) {
    gm_episode_list *list = NULL;
    gm_status st = gm_get_episodes_by_context(s, context, 1, NULL, &list);
    if (st != GM_OK) return fail("gm_get_episodes_by_context", st);
    if (list->len != 1) {
        fprintf(stderr, "no episode in context %s\n", context);
        gm_episode_list_free(list);
        return 1;
    }
    const gm_episode *e = &list->items[0];
    gm_experience *x = NULL;
    st = gm_experience_decode(e->experience_data, e->experience_len, &x);
    if (st != GM_OK) {
        gm_episode_list_free(list);
        return fail("gm_experience_decode", st);
    }
    for (size_t t = 0; t < x->count; t++) {
        const gm_tensor_info *info = &x->tensors[t];
        printf("%s %u [", info->name, info->dtype);
        size_t count = 1;
        for (uint32_t d = 0; d < info->ndim; d++) {
            printf(d ? ",%llu" : "%llu", (unsigned long long)info->shape[d]);
            count *= info->shape[d];
        }
        printf("]");
        for (size_t i = 0; i < count; i++) printf(" %.17g", element(e->experience_data + info->offset, info->dtype, i));
        printf("\n");
    }
    printf("values %s\n", x->values_json ? x->values_json : "null");
    gm_experience_free(x);
    gm_episode_list_free(list);
    return 0;
}

int main(int argc, char **argv) {
    if (argc != 4 || (strcmp(argv[1], "write") != 0 && strcmp(argv[1], "read") != 0)) {
        fprintf(stderr, "usage: experience_tool write|read <db> <context>\n");
        return 2;
    }
    gm_store *s = NULL;
    gm_status st = gm_open(argv[2], NULL, &s);
    if (st != GM_OK) return fail("gm_open", st);
    int rc = strcmp(argv[1], "write") == 0 ? write_episode(s, argv[3]) : read_episode(s, argv[3]);
    gm_close(s);
    return rc;
}
