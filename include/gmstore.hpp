// gmstore.hpp: a header-only C++17 RAII wrapper over the gmstore C ABI.
//
// - gm::Store is a move-only owner of a gm_store handle (closed on
//   destruction). Like the handle, it is safe to use from many threads.
// - Every result is a smart pointer or list that frees itself.
// - Every failure throws gm::Error carrying the status code and message.
//
// Hand-written (not generated); it only calls functions of gmstore.h.
#ifndef GMSTORE_HPP
#define GMSTORE_HPP

#include "gmstore.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gm {

/// A failed gmstore call: `code()` is the gm_status, `what()` the message.
class Error : public std::runtime_error {
  public:
    Error(gm_status code, const std::string &message)
        : std::runtime_error(std::string(gm_status_name(code)) + ": " + message), code_(code) {}
    gm_status code() const noexcept { return code_; }

  private:
    gm_status code_;
};

/// Throws gm::Error for any status but GM_OK, with this thread's message.
inline void check(gm_status status) {
    if (status != GM_OK) throw Error(status, gm_last_error_message());
}

namespace detail {
template <typename T, void (*Free)(T *)> struct Deleter {
    void operator()(T *p) const noexcept { Free(p); }
};
}  // namespace detail

using EpisodePtr = std::unique_ptr<gm_episode, detail::Deleter<gm_episode, gm_episode_free>>;
using ConceptPtr = std::unique_ptr<gm_concept, detail::Deleter<gm_concept, gm_concept_free>>;
using StatsPtr = std::unique_ptr<gm_stats, detail::Deleter<gm_stats, gm_stats_free>>;
using SuggestionPtr = std::unique_ptr<gm_suggestion, detail::Deleter<gm_suggestion, gm_suggestion_free>>;

/// An owned list result, iterable as its item structs.
template <typename List, typename Item, void (*Free)(List *)> class ListOf {
  public:
    explicit ListOf(List *list) : list_(list) {}
    const Item *begin() const noexcept { return list_->items; }
    const Item *end() const noexcept { return list_->items + list_->len; }
    std::size_t size() const noexcept { return list_->len; }
    bool empty() const noexcept { return list_->len == 0; }
    const Item &operator[](std::size_t i) const noexcept { return list_->items[i]; }
    const List &raw() const noexcept { return *list_; }

  private:
    std::unique_ptr<List, detail::Deleter<List, Free>> list_;
};

using Episodes = ListOf<gm_episode_list, gm_episode, gm_episode_list_free>;
using Concepts = ListOf<gm_concept_list, gm_concept, gm_concept_list_free>;
using Relationships = ListOf<gm_relationship_list, gm_relationship, gm_relationship_list_free>;
using LearningEvents = ListOf<gm_learning_event_list, gm_learning_event, gm_learning_event_list_free>;
using Strategies = ListOf<gm_strategy_list, gm_strategy, gm_strategy_list_free>;
using StrategySummaries = ListOf<gm_strategy_summary_list, gm_strategy_summary, gm_strategy_summary_list_free>;

/// Options with the library's defaults; change fields before opening.
inline gm_options default_options() {
    gm_options opts;
    check(gm_options_init(&opts));
    return opts;
}

class Store {
  public:
    explicit Store(const std::string &path, const gm_options &opts = default_options()) {
        check(gm_open(path.c_str(), &opts, &handle_));
    }
    ~Store() { gm_close(handle_); }
    Store(Store &&other) noexcept : handle_(std::exchange(other.handle_, nullptr)) {}
    Store &operator=(Store &&other) noexcept {
        if (this != &other) {
            gm_close(handle_);
            handle_ = std::exchange(other.handle_, nullptr);
        }
        return *this;
    }
    Store(const Store &) = delete;
    Store &operator=(const Store &) = delete;

    gm_store *handle() const noexcept { return handle_; }

    int64_t store_episode(const gm_episode_input &episode) {
        int64_t id = 0;
        check(gm_store_episode(handle_, &episode, &id));
        return id;
    }
    std::vector<int64_t> store_episodes(const std::vector<gm_episode_input> &episodes) {
        std::vector<int64_t> ids(episodes.size());
        check(gm_store_episodes(handle_, episodes.data(), episodes.size(), ids.data()));
        return ids;
    }
    /// Stores an experience given as tensors and an optional value tree
    /// (`{"$tensor": "name"}` stands for a tensor); the library encodes it
    /// during the insert, one call per episode.
    int64_t store_episode_tensors(const std::vector<gm_tensor> &tensors, const char *values_json, double score,
                                  const std::string &context, const char *metadata_json = nullptr,
                                  std::optional<double> timestamp = std::nullopt) {
        int64_t id = 0;
        check(gm_store_episode_tensors(handle_, tensors.data(), tensors.size(), values_json, score, context.c_str(),
                                       metadata_json, timestamp ? &*timestamp : nullptr, &id));
        return id;
    }
    std::vector<int64_t> store_episodes_tensors(const std::vector<gm_tensor_episode_input> &episodes) {
        std::vector<int64_t> ids(episodes.size());
        check(gm_store_episodes_tensors(handle_, episodes.data(), episodes.size(), ids.data()));
        return ids;
    }
    /// Reads the episode into `buffer` (grown as needed and reused across
    /// calls, so a loop allocates once) and returns a view of it, valid
    /// until `buffer` changes; nullptr when there is none.
    const gm_episode *get_episode_into(int64_t id, std::vector<std::max_align_t> &buffer) {
        for (;;) {
            std::size_t needed = 0;
            const std::size_t capacity = buffer.size() * sizeof(std::max_align_t);
            auto *bytes = reinterpret_cast<uint8_t *>(buffer.data());
            const gm_status st = gm_get_episode_into(handle_, id, bytes, capacity, &needed);
            if (st == GM_OK) return reinterpret_cast<const gm_episode *>(bytes);
            if (st == GM_ERR_NOT_FOUND) return nullptr;
            if (st != GM_ERR_BUFFER_TOO_SMALL) check(st);
            buffer.resize((needed + sizeof(std::max_align_t) - 1) / sizeof(std::max_align_t));
        }
    }

    /// The episode, or an empty pointer when there is none.
    EpisodePtr get_episode(int64_t id) {
        gm_episode *e = nullptr;
        gm_status st = gm_get_episode(handle_, id, &e);
        if (st == GM_ERR_NOT_FOUND) return EpisodePtr();
        check(st);
        return EpisodePtr(e);
    }
    Episodes episodes_by_context(const std::string &context, int64_t limit,
                                 std::optional<double> min_score = std::nullopt) {
        gm_episode_list *l = nullptr;
        check(gm_get_episodes_by_context(handle_, context.c_str(), limit, min_score ? &*min_score : nullptr, &l));
        return Episodes(l);
    }
    Episodes recent_episodes(double time_window, int64_t limit) {
        gm_episode_list *l = nullptr;
        check(gm_get_recent_episodes(handle_, time_window, limit, &l));
        return Episodes(l);
    }

    int64_t store_concept(const std::string &name, const std::vector<float> &embedding,
                          const char *metadata_json = nullptr) {
        int64_t id = 0;
        check(gm_store_concept(handle_, name.c_str(), embedding.data(), embedding.size(), metadata_json, nullptr, &id));
        return id;
    }
    /// The concept, or an empty pointer when there is none.
    ConceptPtr get_concept(int64_t id) {
        gm_concept *c = nullptr;
        const gm_status st = gm_get_concept(handle_, id, &c);
        return concept_or_empty(st, c);
    }
    /// The concept (counting an access), or an empty pointer.
    ConceptPtr get_concept_by_name(const std::string &name) {
        gm_concept *c = nullptr;
        const gm_status st = gm_get_concept_by_name(handle_, name.c_str(), &c);
        return concept_or_empty(st, c);
    }
    Concepts search_concepts(const std::string &query, int64_t limit) {
        gm_concept_list *l = nullptr;
        check(gm_search_concepts(handle_, query.c_str(), limit, &l));
        return Concepts(l);
    }

    void add_relationship(int64_t source, int64_t target, const std::string &type, double strength) {
        check(gm_add_relationship(handle_, source, target, type.c_str(), strength));
    }
    Relationships relationships(int64_t concept_id, const char *type = nullptr) {
        gm_relationship_list *l = nullptr;
        check(gm_get_relationships(handle_, concept_id, type, &l));
        return Relationships(l);
    }

    int64_t store_learning_event(const std::string &task, double delta, const std::string &strategy,
                                 const char *parameters_json = nullptr) {
        int64_t id = 0;
        check(gm_store_learning_event(handle_, task.c_str(), delta, strategy.c_str(), parameters_json, nullptr, &id));
        return id;
    }
    LearningEvents learning_events(const std::string &task, int64_t limit,
                                   std::optional<double> min_delta = std::nullopt) {
        gm_learning_event_list *l = nullptr;
        check(gm_get_learning_events_by_task(handle_, task.c_str(), limit, min_delta ? &*min_delta : nullptr, &l));
        return LearningEvents(l);
    }
    Strategies best_strategies(const std::string &task, int64_t limit) {
        gm_strategy_list *l = nullptr;
        check(gm_get_best_strategies(handle_, task.c_str(), limit, &l));
        return Strategies(l);
    }

    /// Per-strategy statistics with 95% intervals; `query` nullptr for the defaults.
    StrategySummaries strategy_stats(const std::string &task, const gm_strategy_query *query = nullptr) {
        gm_strategy_summary_list *l = nullptr;
        check(gm_strategy_stats(handle_, task.c_str(), query, &l));
        return StrategySummaries(l);
    }
    /// The strategy to try next; an empty `candidates` means the strategies already tried.
    SuggestionPtr suggest_strategy(const std::string &task, const std::vector<std::string> &candidates = {},
                                   const gm_suggest_options *options = nullptr) {
        std::vector<const char *> names;
        for (const auto &c : candidates) names.push_back(c.c_str());
        gm_suggestion *s = nullptr;
        check(gm_suggest_strategy(handle_, task.c_str(), names.empty() ? nullptr : names.data(), names.size(),
                                  options, &s));
        return SuggestionPtr(s);
    }

    StatsPtr stats() {
        gm_stats *s = nullptr;
        check(gm_get_stats(handle_, &s));
        return StatsPtr(s);
    }

    /// A transaction scope on the calling thread: commit() or roll back
    /// when destroyed (including by an exception).
    class Transaction {
      public:
        explicit Transaction(Store &store) : store_(&store) { check(gm_begin(store.handle_)); }
        ~Transaction() {
            if (store_) gm_rollback(store_->handle_);
        }
        Transaction(const Transaction &) = delete;
        Transaction &operator=(const Transaction &) = delete;
        void commit() {
            Store *s = std::exchange(store_, nullptr);
            check(gm_commit(s->handle_));
        }

      private:
        Store *store_;
    };
    Transaction transaction() { return Transaction(*this); }

  private:
    static ConceptPtr concept_or_empty(gm_status st, gm_concept *c) {
        if (st == GM_ERR_NOT_FOUND) return ConceptPtr();
        check(st);
        return ConceptPtr(c);
    }

    gm_store *handle_ = nullptr;
};

}  // namespace gm

#endif  // GMSTORE_HPP
