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

        std::printf("episodes in arena_level_3: %zu (expected 1)\n", episodes.size());
        std::printf("episode %lld holds %zu bytes\n", static_cast<long long>(stored->id), stored->experience_len);
        std::printf("%s accessed %lld time(s), %zu-d\n", spawn->name, static_cast<long long>(spawn->access_count),
                    spawn->embedding_len);
        for (const auto &s : best) std::printf("strategy %s: %+.2f\n", s.strategy, s.avg_delta);
        for (const auto &e : edges) std::printf("edge -%s-> %lld\n", e.relationship_type, static_cast<long long>(e.target_id));

        const bool ok = episodes.size() == 1 && best.size() == 2 && std::string(best[0].strategy) == "flanking" &&
                        edges.size() == 1 && !store.get_episode(999999);
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
