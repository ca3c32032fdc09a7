// The C++ wrapper in use: RAII handles, exceptions, transactions that roll
// back when an exception leaves their scope.
#include "gmstore.hpp"

#include <cstdio>
#include <string>
#include <vector>

int main(int argc, char **argv) {
    const std::string path = argc > 1 ? argv[1] : "cpp_demo.db";
    try {
        gm::Store store(path);

        std::vector<float> observation(84, 0.25f);
        gm_episode_input episode{};
        episode.experience_data = reinterpret_cast<const uint8_t *>(observation.data());
        episode.experience_len = observation.size() * sizeof(float);
        episode.performance_score = 0.9;
        episode.context_hash = "arena_level_3";
        episode.metadata = R"({"engine": "unreal"})";
        const int64_t id = store.store_episode(episode);

        // An exception inside a transaction scope rolls it back.
        try {
            auto tx = store.transaction();
            store.store_episode(episode);
            episode.performance_score = 0.0 / 0.0;  // NaN: rejected
            store.store_episode(episode);
            tx.commit();
        } catch (const gm::Error &e) {
            std::printf("rejected as expected (%s)\n", e.what());
        }
        episode.performance_score = 0.9;

        const auto a = store.store_concept("enemy_spawn", std::vector<float>(8, 0.5f), R"({"kind": "landmark"})");
        const auto b = store.store_concept("health_pack", std::vector<float>(8, -0.5f));
        store.add_relationship(a, b, "near", 0.75);

        store.store_learning_event("combat", 0.12, "flanking");
        store.store_learning_event("combat", 0.02, "rushing");

        const auto episodes = store.episodes_by_context("arena_level_3", 10);
        const auto stored = store.get_episode(id);
        const auto spawn = store.get_concept_by_name("enemy_spawn");
        const auto best = store.best_strategies("combat", 3);
        const auto edges = store.relationships(a);
        const auto summaries = store.strategy_stats("combat");
        const auto next = store.suggest_strategy("combat", {"flanking", "rushing", "stealth"});

        std::printf("episodes in arena_level_3: %zu (expected 1)\n", episodes.size());
        std::printf("episode %lld holds %zu bytes\n", static_cast<long long>(stored->id), stored->experience_len);
        std::printf("%s accessed %lld time(s), %zu-d\n", spawn->name, static_cast<long long>(spawn->access_count),
                    spawn->embedding_len);
        for (const auto &s : best) std::printf("strategy %s: %+.2f\n", s.strategy, s.avg_delta);
        for (const auto &s : summaries)
            std::printf("strategy %s: %lld use(s), mean %+.2f\n", s.strategy, static_cast<long long>(s.count), s.mean);
        std::printf("try next: %s (never tried, so UCB1 explores it)\n", next->strategy);
        for (const auto &e : edges) std::printf("edge -%s-> %lld\n", e.relationship_type, static_cast<long long>(e.target_id));

        // An experience as tensors, encoded by the library during the
        // insert; read back into one reusable buffer.
        const std::vector<uint64_t> shape{84};
        std::vector<gm_tensor> tensors(1);
        tensors[0].name = "observation";
        tensors[0].dtype = GM_DTYPE_F32;
        tensors[0].ndim = 1;
        tensors[0].shape = shape.data();
        tensors[0].data = reinterpret_cast<const uint8_t *>(observation.data());
        tensors[0].data_len = observation.size() * sizeof(float);
        const int64_t tensor_id = store.store_episode_tensors(
            tensors, R"({"obs": {"$tensor": "observation"}, "reward": 1.5})", 0.7, "arena_level_4");
        std::vector<std::max_align_t> buffer;
        const gm_episode *read_back = store.get_episode_into(tensor_id, buffer);
        gm_experience *decoded = nullptr;
        gm::check(gm_experience_decode(read_back->experience_data, read_back->experience_len, &decoded));
        const bool tensors_ok = decoded->count == 1 && decoded->tensors[0].len == observation.size() * sizeof(float) &&
                                store.get_episode_into(999999, buffer) == nullptr;
        gm_experience_free(decoded);
        std::printf("tensor episode %lld: %zu bytes encoded, read back into a %zu-byte buffer\n",
                    static_cast<long long>(tensor_id), read_back->experience_len,
                    buffer.size() * sizeof(std::max_align_t));

        const bool ok = tensors_ok && episodes.size() == 1 && best.size() == 2 && std::string(best[0].strategy) == "flanking" &&
                        edges.size() == 1 && !store.get_episode(999999) && summaries.size() == 2 &&
                        std::string(next->strategy) == "stealth" && next->candidate_index == 2;
        try {
            store.add_relationship(a, 424242, "near", 0.5);
            return 1;
        } catch (const gm::Error &e) {
            if (e.code() != GM_ERR_NOT_FOUND) return 1;
        }
        std::printf(ok ? "C++ demo: ok\n" : "C++ demo: UNEXPECTED RESULT\n");
        return ok ? 0 : 1;
    } catch (const gm::Error &e) {
        std::fprintf(stderr, "gmstore error %u: %s\n", e.code(), e.what());
        return 1;
    }
}
