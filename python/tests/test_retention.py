"""Retention through the Python package, on both engines: the store stays
within its policy after every write, protected episodes stay, evictions
are reported per call and in stats, the policy round-trips, prune reports
before it applies, and bad arguments name their field."""

import numpy as np
import pytest

from gmstore import InvalidArgumentError, SQLiteStorage


def ids_of(store):
    return sorted(e.id for e in store.get_recent_episodes(time_window=1e12, limit=100_000))


def test_the_oldest_go_first_and_each_write_says_what_it_evicted(store):
    assert store.set_retention_policy(max_episodes=3)["total"] == 0
    ids = [store.store_episode({"obs": np.zeros(4, np.float32)}, float(i), "ctx") for i in range(5)]
    assert ids_of(store) == ids[2:]
    assert store.last_evictions() == {"by_age": 0, "by_top_k": 0, "by_count": 1, "by_bytes": 0, "total": 1}
    batch = store.store_episodes([{"experience_data": b"x", "performance_score": 0.0, "context_hash": "ctx"}
                                  for _ in range(4)])
    assert ids_of(store) == batch[1:]
    assert store.last_evictions()["by_count"] == 4
    stats = store.get_database_stats()
    assert stats["episodes_evicted"] == 6
    assert stats["retention"]["max_episodes"] == 3


def test_protected_demonstrations_stay_and_the_policy_round_trips(store):
    policy = dict(max_episodes=1, max_experience_bytes=None, max_age_seconds=3600.0, keep_top_k=5,
                  top_k_per_context=True, protect={"demonstration": True}, order="lowest_score",
                  eviction_batch=0)
    store.set_retention_policy(**policy)
    assert store.get_retention_policy() == policy
    demo = store.store_episode(b"demo", 0.0, "ctx", metadata={"demonstration": True})
    near = store.store_episode(b"near", 0.0, "ctx", metadata={"demonstration": "true"})
    best = store.store_episode(b"best", 0.9, "ctx")
    assert ids_of(store) == [demo, best]
    assert near not in ids_of(store)
    status = store.retention_status()
    assert (status["episodes"], status["experience_bytes"], status["evicted_total"]) == (1, 4, 1)
    store.clear_retention_policy()
    assert store.get_retention_policy() is None
    assert store.get_database_stats()["retention"] is None


def test_prune_reports_then_applies_after_raw_writes(store):
    store.set_retention_policy(max_episodes=2)
    kept = [store.store_episode(b"x", 0.5, "ctx") for _ in range(2)]
    store._execute("INSERT INTO episodes(timestamp, experience_data, performance_score, context_hash) "
                  "VALUES (1, ?, 0.5, 'raw')", [b"\x00"])
    plan = store.prune(dry_run=True)
    assert plan["evicted"]["by_count"] == 1 and plan["ids"] == [kept[0]]
    assert len(ids_of(store)) == 3
    assert store.prune() == plan
    assert len(ids_of(store)) == 2


def test_a_new_handle_sees_the_policy_set_by_another(db_path):
    with SQLiteStorage(db_path) as store, SQLiteStorage(db_path) as other:
        other.store_episode(b"a", 0.1, "ctx")
        store.set_retention_policy(max_episodes=1)
        other.store_episode(b"b", 0.1, "ctx")
        newest = other.store_episode(b"c", 0.1, "ctx")
        assert ids_of(other) == [newest]
        assert ids_of(store) == [newest]


@pytest.mark.parametrize("kwargs, field", [
    (dict(max_episodes=-1), "max_episodes"),
    (dict(max_episodes=1.5), "max_episodes"),
    (dict(max_age_seconds=float("nan")), "max_age_seconds"),
    (dict(max_age_seconds="soon"), "max_age_seconds"),
    (dict(keep_top_k=-3), "keep_top_k"),
    (dict(max_episodes=1, order="newest"), "order"),
    (dict(max_episodes=1, top_k_per_context=True), "top_k_per_context"),
    (dict(max_episodes=1, protect={"a": 1.5}), "protect.value"),
    (dict(max_episodes=1, protect={"a": [1]}), "protect.value"),
    (dict(max_episodes=1, protect={"": True}), "protect.key"),
    (dict(max_episodes=1, protect={"a": 1, "b": 2}), "protect"),
])
def test_bad_policies_name_their_field(store, kwargs, field):
    store.store_episode(b"x", 0.5, "ctx")
    with pytest.raises(InvalidArgumentError, match=field):
        store.set_retention_policy(**kwargs)
    assert store.get_retention_policy() is None
    assert len(ids_of(store)) == 1
