"""ctypes binding of libgmstore: finding the library, the C structs and
the function signatures. Mirrors include/gmstore.h; nothing else in the
package touches ctypes declarations."""

from __future__ import annotations

import ctypes
import os
import threading
from ctypes import (POINTER, Structure, c_char, c_char_p, c_double, c_int64, c_size_t,
                    c_uint8, c_uint32, c_uint64, c_void_p)
from pathlib import Path

LIBRARY_ENV = "GMSTORE_LIBRARY"
_NAME = "libgmstore.so"

# Status codes (GM_OK, GM_ERR_*) and tensor dtypes (GM_DTYPE_*), as the
# header defines them (tests/test_abi_mirror.py compares the two).
GM_OK = 0
GM_ERR_NOT_FOUND = 1
GM_ERR_INVALID_ARGUMENT = 2
GM_ERR_CONSTRAINT = 3
GM_ERR_BUSY = 4
GM_ERR_IO = 5
GM_ERR_CORRUPT = 6
GM_ERR_NOT_A_DATABASE = 7
GM_ERR_SCHEMA_TOO_NEW = 8
GM_ERR_READ_ONLY = 9
GM_ERR_FULL = 10
GM_ERR_INTERNAL = 11
GM_ERR_MISUSE = 12
GM_ERR_BUFFER_TOO_SMALL = 13

GM_DTYPE_BOOL, GM_DTYPE_U8, GM_DTYPE_I8, GM_DTYPE_U16, GM_DTYPE_I16 = 1, 2, 3, 4, 5
GM_DTYPE_F16, GM_DTYPE_BF16, GM_DTYPE_U32, GM_DTYPE_I32, GM_DTYPE_F32 = 6, 7, 8, 9, 10
GM_DTYPE_U64, GM_DTYPE_I64, GM_DTYPE_F64 = 11, 12, 13

GM_VALUE_NULL, GM_VALUE_INTEGER, GM_VALUE_REAL, GM_VALUE_TEXT, GM_VALUE_BLOB = 0, 1, 2, 3, 4
GM_SYNC_DEFAULT, GM_SYNC_NORMAL, GM_SYNC_FULL = 0, 1, 2
GM_MATCH_LIKE, GM_MATCH_LITERAL = 0, 1
GM_METRIC_COSINE, GM_METRIC_DOT, GM_METRIC_L2 = 0, 1, 2
GM_MATRIX_NOT_LOADED, GM_MATRIX_BUILT, GM_MATRIX_SNAPSHOT = 0, 1, 2
GM_WEIGHTING_PRIORITIZED, GM_WEIGHTING_UNIFORM = 0, 1
GM_RNG_STATE_BYTES = 32
GM_STRATEGY_ORDER_MEAN, GM_STRATEGY_ORDER_LOWER_BOUND = 0, 1
GM_SUGGEST_UCB1, GM_SUGGEST_THOMPSON = 0, 1


class GmStoreLibraryNotFound(OSError):
    """libgmstore.so could not be found; the message lists where we looked."""


def _candidates() -> list[Path]:
    here = Path(__file__).resolve().parent
    found = []
    if os.environ.get(LIBRARY_ENV):
        found.append(Path(os.environ[LIBRARY_ENV]))
    found.append(here / _NAME)
    for parent in [here.parent, *here.parents]:
        if (parent / "Cargo.toml").is_file():
            found += [parent / "target" / "release" / _NAME, parent / "target" / "debug" / _NAME]
            break
    return found


def _load() -> ctypes.CDLL:
    candidates = _candidates()
    for path in candidates:
        if path.is_file():
            return ctypes.CDLL(str(path))
    looked = "\n  ".join(str(p) for p in candidates)
    raise GmStoreLibraryNotFound(
        f"libgmstore.so not found. Looked in, in order:\n  {looked}\n"
        f"Set {LIBRARY_ENV} to the library's path, install the package with the library "
        f"inside (pip install ./python), or build it with `cargo build --release`."
    )


class Options(Structure):
    _fields_ = [
        ("struct_size", c_uint32), ("max_backups", c_uint32), ("backup_interval_secs", c_int64),
        ("connection_timeout_secs", c_double), ("enable_wal", c_uint8), ("read_only", c_uint8),
        ("synchronous", c_uint8), ("knn_cache", c_uint8), ("page_size", c_uint32),
        ("embedding_dim", c_uint32), ("file_mode", c_uint32), ("reserved", c_uint32), ("max_db_size", c_uint64),
    ]


class EpisodeInput(Structure):
    # c_char_p points straight into the bytes object given (kept alive by
    # the struct): no copy and no cast.
    _fields_ = [
        ("experience_data", c_char_p), ("experience_len", c_size_t), ("performance_score", c_double),
        ("timestamp", c_double), ("context_hash", c_char_p), ("metadata", c_char_p),
        ("has_timestamp", c_uint8), ("reserved", c_uint8 * 7),
    ]


class LearningEventInput(Structure):
    _fields_ = [
        ("task_type", c_char_p), ("performance_delta", c_double), ("strategy_used", c_char_p),
        ("parameters", c_char_p), ("timestamp", c_double), ("has_timestamp", c_uint8), ("reserved", c_uint8 * 7),
    ]


class Episode(Structure):
    _fields_ = [
        ("id", c_int64), ("timestamp", c_double), ("performance_score", c_double), ("created_at", c_double),
        ("experience_data", c_void_p), ("experience_len", c_size_t),
        ("context_hash", c_void_p), ("context_hash_len", c_size_t),
        ("metadata", c_void_p), ("metadata_len", c_size_t),
    ]


class EpisodeList(Structure):
    _fields_ = [("items", POINTER(Episode)), ("len", c_size_t), ("arena", c_void_p), ("arena_len", c_size_t)]


class Concept(Structure):
    _fields_ = [
        ("id", c_int64), ("creation_time", c_double), ("last_accessed", c_double), ("access_count", c_int64),
        ("name", c_void_p), ("name_len", c_size_t), ("embedding", c_void_p), ("embedding_len", c_size_t),
        ("metadata", c_void_p), ("metadata_len", c_size_t),
    ]


class ConceptList(Structure):
    _fields_ = [
        ("items", POINTER(Concept)), ("len", c_size_t), ("arena", c_void_p), ("arena_len", c_size_t),
        ("floats", c_void_p), ("floats_len", c_size_t),
    ]


class Relationship(Structure):
    _fields_ = [("target_id", c_int64), ("strength", c_double), ("relationship_type", c_void_p),
                ("relationship_type_len", c_size_t)]


class RelationshipList(Structure):
    _fields_ = [("items", POINTER(Relationship)), ("len", c_size_t), ("arena", c_void_p), ("arena_len", c_size_t)]


class LearningEvent(Structure):
    _fields_ = [
        ("id", c_int64), ("performance_delta", c_double), ("timestamp", c_double),
        ("task_type", c_void_p), ("task_type_len", c_size_t), ("strategy_used", c_void_p),
        ("strategy_used_len", c_size_t), ("parameters", c_void_p), ("parameters_len", c_size_t),
    ]


class LearningEventList(Structure):
    _fields_ = [("items", POINTER(LearningEvent)), ("len", c_size_t), ("arena", c_void_p), ("arena_len", c_size_t)]


class Strategy(Structure):
    _fields_ = [("avg_delta", c_double), ("usage_count", c_int64), ("strategy", c_void_p), ("strategy_len", c_size_t)]


class StrategyList(Structure):
    _fields_ = [("items", POINTER(Strategy)), ("len", c_size_t), ("arena", c_void_p), ("arena_len", c_size_t)]


class StrategyQuery(Structure):
    _fields_ = [("since", c_double), ("min_count", c_int64), ("limit", c_int64), ("has_since", c_uint8),
                ("order", c_uint8), ("reserved", c_uint8 * 6)]


class StrategySummary(Structure):
    _fields_ = [("count", c_int64), ("mean", c_double), ("std_dev", c_double), ("std_error", c_double),
                ("ci_low", c_double), ("ci_high", c_double), ("first_used", c_double), ("last_used", c_double),
                ("strategy", c_void_p), ("strategy_len", c_size_t)]


class StrategySummaryList(Structure):
    _fields_ = [("items", POINTER(StrategySummary)), ("len", c_size_t), ("arena", c_void_p), ("arena_len", c_size_t)]


class SuggestOptions(Structure):
    _fields_ = [("seed", c_uint64), ("prior_mean", c_double), ("prior_std", c_double), ("exploration", c_double),
                ("since", c_double), ("method", c_uint8), ("has_prior_mean", c_uint8), ("has_prior_std", c_uint8),
                ("has_exploration", c_uint8), ("has_since", c_uint8), ("reserved", c_uint8 * 3)]


class Suggestion(Structure):
    _fields_ = [("score", c_double), ("mean", c_double), ("count", c_int64), ("candidate_index", c_int64),
                ("strategy", c_void_p), ("strategy_len", c_size_t)]


class Value(Structure):
    _fields_ = [("kind", c_uint32), ("reserved", c_uint32), ("int_value", c_int64), ("real_value", c_double),
                ("data", c_void_p), ("len", c_size_t)]


class Stats(Structure):
    _fields_ = [
        ("episodes_count", c_int64), ("concepts_count", c_int64), ("learning_events_count", c_int64),
        ("relationships_count", c_int64), ("db_size_bytes", c_uint64), ("db_size_mb", c_double),
        ("schema_version", c_int64), ("page_size", c_int64), ("page_count", c_int64),
        ("freelist_count", c_int64), ("embedding_dim", c_uint64), ("last_backup_time", c_double),
        ("has_last_backup_time", c_uint8), ("reserved", c_uint8 * 7), ("episodes_evicted", c_int64),
        ("has_retention_policy", c_uint8), ("reserved_tail", c_uint8 * 7),
    ]


class RetentionPolicy(Structure):
    _fields_ = [
        ("struct_size", c_uint32), ("order", c_uint32), ("has_max_episodes", c_uint8),
        ("has_max_experience_bytes", c_uint8), ("has_max_age_seconds", c_uint8), ("has_keep_top_k", c_uint8),
        ("top_k_per_context", c_uint8), ("reserved", c_uint8 * 3), ("max_episodes", c_int64),
        ("max_experience_bytes", c_int64), ("max_age_seconds", c_double), ("keep_top_k", c_int64),
        ("eviction_batch", c_int64), ("protect_key", c_char_p), ("protect_value", c_char_p),
    ]


class Evictions(Structure):
    _fields_ = [("by_age", c_uint64), ("by_top_k", c_uint64), ("by_count", c_uint64), ("by_bytes", c_uint64)]


class RetentionStatus(Structure):
    _fields_ = [("has_policy", c_uint8), ("reserved", c_uint8 * 7), ("policy", RetentionPolicy),
                ("episodes", c_int64), ("experience_bytes", c_int64), ("evicted_total", c_int64)]


class Pruned(Structure):
    _fields_ = [("evictions", Evictions), ("ids", c_void_p), ("count", c_size_t)]


class Tensor(Structure):
    # `data` as c_char_p takes either a bytes object (pointer to its buffer,
    # kept alive by the struct) or an int address, both without a cast.
    _fields_ = [("name", c_char_p), ("dtype", c_uint32), ("ndim", c_uint32), ("shape", c_void_p),
                ("data", c_char_p), ("data_len", c_size_t)]


class TensorEpisodeInput(Structure):
    _fields_ = [
        ("tensors", c_void_p), ("tensor_count", c_size_t), ("values_json", c_char_p),
        ("performance_score", c_double), ("timestamp", c_double), ("context_hash", c_char_p),
        ("metadata", c_char_p), ("has_timestamp", c_uint8), ("reserved", c_uint8 * 7),
    ]


class Buffer(Structure):
    _fields_ = [("data", c_void_p), ("len", c_size_t)]


class TensorInfo(Structure):
    _fields_ = [("name", c_char_p), ("name_len", c_size_t), ("dtype", c_uint32), ("ndim", c_uint32),
                ("shape", POINTER(c_uint64)), ("offset", c_uint64), ("len", c_uint64)]


class Experience(Structure):
    _fields_ = [("tensors", POINTER(TensorInfo)), ("count", c_size_t), ("values_json", c_char_p),
                ("values_json_len", c_size_t)]


class SearchFilter(Structure):
    _fields_ = [("name_pattern", c_char_p), ("min_access_count", c_int64), ("has_min_access_count", c_uint8),
                ("name_match", c_uint8), ("reserved", c_uint8 * 6)]


class Neighbor(Structure):
    _fields_ = [("id", c_int64), ("score", c_double), ("query", c_uint64), ("name", c_void_p),
                ("name_len", c_size_t)]


class NeighborList(Structure):
    _fields_ = [("items", POINTER(Neighbor)), ("len", c_size_t), ("arena", c_void_p), ("arena_len", c_size_t)]


class SamplerConfig(Structure):
    _fields_ = [("weighting", c_uint32), ("has_min_score", c_uint8), ("has_max_score", c_uint8),
                ("reserved", c_uint8 * 2), ("alpha", c_double), ("context", c_char_p), ("min_score", c_double),
                ("max_score", c_double), ("seed", c_uint64)]


class Sample(Structure):
    _fields_ = [("id", c_int64), ("generation", c_int64), ("probability", c_double), ("weight", c_double)]


class PriorityUpdate(Structure):
    _fields_ = [("id", c_int64), ("generation", c_int64), ("priority", c_double)]


class Reached(Structure):
    _fields_ = [("id", c_int64), ("hops", c_uint32), ("reserved", c_uint32), ("name", c_void_p),
                ("name_len", c_size_t)]


class ReachedList(Structure):
    _fields_ = [("items", POINTER(Reached)), ("len", c_size_t), ("arena", c_void_p), ("arena_len", c_size_t)]


class PathResult(Structure):
    _fields_ = [("ids", POINTER(c_int64)), ("len", c_size_t), ("strength", c_double)]


_status = c_uint32
_store = c_void_p
_pd = POINTER(c_double)

_SIGNATURES = {
    "gm_options_init": (_status, [POINTER(Options)]),
    "gm_open": (_status, [c_char_p, POINTER(Options), POINTER(_store)]),
    "gm_close": (None, [_store]),
    "gm_version": (c_uint32, []),
    "gm_version_string": (c_char_p, []),
    "gm_sqlite_version": (c_char_p, []),
    "gm_status_name": (c_char_p, [_status]),
    "gm_last_error_message": (c_char_p, []),
    "gm_last_error_copy": (_status, [POINTER(c_char), c_size_t, POINTER(c_size_t)]),
    "gm_store_episode": (_status, [_store, POINTER(EpisodeInput), POINTER(c_int64)]),
    "gm_store_episodes": (_status, [_store, POINTER(EpisodeInput), c_size_t, POINTER(c_int64)]),
    "gm_get_episode": (_status, [_store, c_int64, POINTER(POINTER(Episode))]),
    "gm_get_episode_into": (_status, [_store, c_int64, c_void_p, c_size_t, POINTER(c_size_t)]),
    "gm_get_episodes_by_context": (_status, [_store, c_char_p, c_int64, _pd, POINTER(POINTER(EpisodeList))]),
    "gm_get_recent_episodes": (_status, [_store, c_double, c_int64, POINTER(POINTER(EpisodeList))]),
    "gm_count_episodes": (_status, [_store, POINTER(c_int64)]),
    "gm_episode_free": (None, [POINTER(Episode)]),
    "gm_episode_list_free": (None, [POINTER(EpisodeList)]),
    # the embedding goes as little-endian float32 bytes (c_char_p: no copy)
    "gm_store_concept": (_status, [_store, c_char_p, c_char_p, c_size_t, c_char_p, _pd, POINTER(c_int64)]),
    "gm_get_concept": (_status, [_store, c_int64, POINTER(POINTER(Concept))]),
    "gm_get_concept_by_name": (_status, [_store, c_char_p, POINTER(POINTER(Concept))]),
    "gm_search_concepts": (_status, [_store, c_char_p, c_int64, POINTER(POINTER(ConceptList))]),
    "gm_search_concepts_matching": (_status, [_store, c_char_p, c_uint32, c_int64, POINTER(POINTER(ConceptList))]),
    "gm_count_concepts": (_status, [_store, POINTER(c_int64)]),
    "gm_embedding_dim": (_status, [_store, POINTER(c_size_t)]),
    "gm_concept_free": (None, [POINTER(Concept)]),
    "gm_concept_list_free": (None, [POINTER(ConceptList)]),
    "gm_add_relationship": (_status, [_store, c_int64, c_int64, c_char_p, c_double]),
    "gm_get_relationships": (_status, [_store, c_int64, c_char_p, POINTER(POINTER(RelationshipList))]),
    "gm_relationship_list_free": (None, [POINTER(RelationshipList)]),
    "gm_store_learning_event": (_status, [_store, c_char_p, c_double, c_char_p, c_char_p, _pd, POINTER(c_int64)]),
    "gm_store_learning_events": (_status, [_store, POINTER(LearningEventInput), c_size_t, POINTER(c_int64)]),
    "gm_get_learning_events_by_task": (_status, [_store, c_char_p, c_int64, _pd,
                                                 POINTER(POINTER(LearningEventList))]),
    "gm_get_best_strategies": (_status, [_store, c_char_p, c_int64, POINTER(POINTER(StrategyList))]),
    "gm_count_learning_events": (_status, [_store, POINTER(c_int64)]),
    "gm_learning_event_list_free": (None, [POINTER(LearningEventList)]),
    "gm_strategy_list_free": (None, [POINTER(StrategyList)]),
    "gm_strategy_stats": (_status, [_store, c_char_p, POINTER(StrategyQuery), POINTER(POINTER(StrategySummaryList))]),
    "gm_strategy_summary_list_free": (None, [POINTER(StrategySummaryList)]),
    "gm_suggest_strategy": (_status, [_store, c_char_p, POINTER(c_char_p), c_size_t, POINTER(SuggestOptions),
                                      POINTER(POINTER(Suggestion))]),
    "gm_suggestion_free": (None, [POINTER(Suggestion)]),
    "gm_begin": (_status, [_store]),
    "gm_commit": (_status, [_store]),
    "gm_rollback": (_status, [_store]),
    "gm_transaction_detach": (_status, [_store, POINTER(c_uint64)]),
    "gm_transaction_attach": (_status, [_store, c_uint64]),
    "gm_execute": (_status, [_store, c_char_p, POINTER(Value), c_size_t, POINTER(c_int64)]),
    "gm_get_stats": (_status, [_store, POINTER(POINTER(Stats))]),
    "gm_stats_free": (None, [POINTER(Stats)]),
    "gm_integrity_check": (_status, [_store, POINTER(c_int64), POINTER(c_void_p)]),
    "gm_string_free": (None, [c_void_p]),
    "gm_create_backup": (_status, [_store, c_char_p, POINTER(c_void_p)]),
    "gm_auto_backup_if_needed": (_status, [_store, POINTER(c_void_p)]),
    "gm_restore": (_status, [_store, c_char_p]),
    "gm_vacuum": (_status, [_store, POINTER(c_uint64)]),
    "gm_vacuum_into": (_status, [_store, c_char_p]),
    "gm_checkpoint": (_status, [_store, POINTER(c_int64)]),
    "gm_set_knn_snapshot": (_status, [_store, c_char_p]),
    "gm_save_knn_snapshot": (_status, [_store, POINTER(c_uint8)]),
    "gm_knn_matrix_source": (_status, [_store, POINTER(c_uint32)]),
    "gm_sampler_new": (_status, [_store, POINTER(SamplerConfig), POINTER(c_void_p)]),
    "gm_sampler_sample": (_status, [c_void_p, c_size_t, c_double, c_uint8, c_void_p, POINTER(c_uint64)]),
    "gm_sampler_sample_episodes": (_status, [c_void_p, c_size_t, c_double, c_uint8, c_void_p, POINTER(c_uint64),
                                             POINTER(POINTER(EpisodeList))]),
    "gm_sampler_update_priorities": (_status, [c_void_p, c_void_p, c_size_t, c_void_p, POINTER(c_size_t)]),
    "gm_sampler_flush": (_status, [c_void_p, POINTER(c_size_t)]),
    "gm_sampler_rng_state": (_status, [c_void_p, c_void_p, c_size_t]),
    "gm_sampler_set_rng_state": (_status, [c_void_p, c_char_p, c_size_t]),
    "gm_sampler_free": (None, [c_void_p]),
    "gm_set_episode_priorities": (_status, [_store, c_void_p, c_void_p, c_size_t, POINTER(c_size_t)]),
    "gm_retention_policy_init": (None, [POINTER(RetentionPolicy)]),
    "gm_set_retention_policy": (_status, [_store, POINTER(RetentionPolicy), POINTER(Evictions)]),
    "gm_get_retention": (_status, [_store, POINTER(POINTER(RetentionStatus))]),
    "gm_retention_status_free": (None, [POINTER(RetentionStatus)]),
    "gm_last_evictions": (_status, [_store, POINTER(Evictions)]),
    "gm_prune": (_status, [_store, c_uint8, POINTER(POINTER(Pruned))]),
    "gm_pruned_free": (None, [POINTER(Pruned)]),
    "gm_experience_encode": (_status, [c_void_p, c_size_t, c_char_p, POINTER(POINTER(Buffer))]),
    "gm_store_episode_tensors": (_status, [_store, c_void_p, c_size_t, c_char_p, c_double, c_char_p, c_char_p, _pd,
                                           POINTER(c_int64)]),
    "gm_store_episodes_tensors": (_status, [_store, POINTER(TensorEpisodeInput), c_size_t, POINTER(c_int64)]),
    "gm_buffer_free": (None, [POINTER(Buffer)]),
    "gm_experience_decode": (_status, [c_void_p, c_size_t, POINTER(POINTER(Experience))]),
    "gm_experience_free": (None, [POINTER(Experience)]),
    "gm_nearest_concepts": (_status, [_store, c_void_p, c_size_t, c_uint32, c_size_t, POINTER(SearchFilter),
                                      POINTER(POINTER(NeighborList))]),
    "gm_nearest_concepts_batch": (_status, [_store, c_void_p, c_size_t, c_size_t, c_uint32, c_size_t,
                                            POINTER(SearchFilter), POINTER(POINTER(NeighborList))]),
    "gm_neighbor_list_free": (None, [POINTER(NeighborList)]),
    "gm_build_similarity_graph": (_status, [_store, c_double, c_size_t, c_char_p, POINTER(c_int64)]),
    "gm_concept_neighborhood": (_status, [_store, c_int64, c_uint32, c_char_p, c_double,
                                          POINTER(POINTER(ReachedList))]),
    "gm_reached_list_free": (None, [POINTER(ReachedList)]),
    "gm_strongest_path": (_status, [_store, c_int64, c_int64, c_char_p, c_double, POINTER(POINTER(PathResult))]),
    "gm_path_free": (None, [POINTER(PathResult)]),
}

_lib = None
_lock = threading.Lock()


def lib() -> ctypes.CDLL:
    """The loaded library with every signature declared (loaded once)."""
    global _lib
    if _lib is not None:
        return _lib
    with _lock:
        if _lib is None:
            loaded = _load()
            for name, (restype, argtypes) in _SIGNATURES.items():
                fn = getattr(loaded, name)
                fn.restype = restype
                fn.argtypes = argtypes
            _lib = loaded
        return _lib


def library_path() -> str:
    """Where the loaded library lives."""
    return lib()._name


def take_string(ptr: c_void_p) -> str | None:
    """Copies and frees a library-owned string (NULL gives None)."""
    if not ptr.value:
        return None
    try:
        return ctypes.string_at(ptr.value).decode("utf-8")
    finally:
        lib().gm_string_free(ptr)
