"""Replay sampling through the Python package, on both engines: draws follow
priority**alpha, priorities persist across a reopen, stale updates are
reported, another handle's writes are seen, a saved generator state
repeats the draws, and bad arguments name their field."""

import numpy as np
import pytest
from scipy import stats

from gmstore import InvalidArgumentError, SQLiteStorage, SQLiteStorageError


def store_episodes(store, n, context="ctx"):
    return store.store_episodes([{"experience_data": b"x", "performance_score": i / max(n, 1),
                                  "context_hash": context} for i in range(n)])


def test_draws_follow_priority_to_the_alpha(store):
    ids = store_episodes(store, 8)
    priorities = np.array([0.5, 1, 1, 2, 3, 5, 8, 13.0])
    assert store.set_episode_priorities(ids, priorities) == 8
    alpha, draws = 0.7, 100_000
    with store.sampler(alpha=alpha, seed=3) as sampler:
        batch = sampler.sample(draws, beta=0.5)
    expected_p = priorities ** alpha / np.sum(priorities ** alpha)
    observed = np.array([np.count_nonzero(batch.ids == i) for i in ids])
    # chi-square at a fixed seed, significance 0.001
    assert stats.chisquare(observed, expected_p * draws).pvalue > 0.001
    by_id = dict(zip(ids, expected_p))
    assert np.array_equal(batch.probabilities, np.array([by_id[i] for i in batch.ids]))
    # weights (P(i)/P_min)^-beta against float64 numpy, exactly
    p_min = np.min(priorities ** alpha)
    w = {i: (p ** alpha / p_min) ** -0.5 for i, p in zip(ids, priorities)}
    assert np.all(batch.weights == np.array([w[i] for i in batch.ids]))
    assert batch.table_size == 8


def test_priorities_persist_and_stale_updates_are_reported(store, tmp_path):
    ids = store_episodes(store, 4)
    with store.sampler(alpha=1.0, seed=1) as sampler:
        batch = sampler.sample(4, replace=False)
        order = np.argsort(batch.ids)
        gens = batch.generations[order]
        # ids[3] is deleted after the draw; ids[2]'s generation is wrong.
        store._execute("DELETE FROM episodes WHERE id = ?", (ids[3],))
        stale = sampler.update_priorities(ids, gens + np.array([0, 0, 1, 0]), [5.0, 0.0, 9.0, 9.0])
        assert list(stale) == [2, 3]
    with SQLiteStorage(store.db_path) as again, again.sampler(alpha=1.0, seed=2) as sampler:
        batch = sampler.sample(300)
        assert batch.table_size == 3
        # ids[1] went to 0; ids[2] has no priority and counts at the max (5)
        assert set(batch.ids) == {ids[0], ids[2]}


def test_another_handle_writes_are_seen(store):
    ids = store_episodes(store, 10)
    with store.sampler(alpha=1.0, seed=4) as sampler, SQLiteStorage(store.db_path) as other:
        assert sampler.sample(1).table_size == 10
        new = store_episodes(other, 5)
        other.set_episode_priorities(ids + new[1:], np.zeros(len(ids) + 4))
        batch = sampler.sample(100)
        assert batch.table_size == 15
        assert set(batch.ids) == {new[0]}


def test_a_saved_rng_state_repeats_the_draws(store):
    store_episodes(store, 50)
    with store.sampler(seed=9) as a, store.sampler(seed=123) as b:
        a.sample(10)
        state = a.rng_state()
        assert len(state) == 32
        expected = a.sample(20, beta=0.3)
        b.set_rng_state(state)
        got = b.sample(20, beta=0.3)
        assert np.array_equal(got.ids, expected.ids) and np.array_equal(got.weights, expected.weights)


def test_uniform_context_and_score_scope(store):
    store_episodes(store, 6, "a")
    outside = store_episodes(store, 6, "b")
    with store.sampler(alpha=None, context="a", min_score=0.3, seed=5) as sampler:
        batch = sampler.sample(2000)
        assert batch.table_size == 4  # scores 0.33, 0.5, 0.67, 0.83 of context a
        assert not set(batch.ids) & set(outside)
        assert np.all(batch.probabilities == 0.25) and np.all(batch.weights == 1.0)


def test_bad_arguments_name_their_field(store):
    store_episodes(store, 3)
    with pytest.raises(InvalidArgumentError, match="alpha"):
        store.sampler(alpha=-1)
    with pytest.raises(InvalidArgumentError, match="seed"):
        store.sampler(seed=-1)
    with pytest.raises(InvalidArgumentError, match="context"):
        store.sampler(context="a\0b")
    with store.sampler() as sampler:
        with pytest.raises(InvalidArgumentError, match="beta"):
            sampler.sample(1, beta=float("nan"))
        with pytest.raises(InvalidArgumentError, match="count"):
            sampler.sample(4, replace=False)
        with pytest.raises(InvalidArgumentError, match=r"updates\[1\].priority"):
            sampler.update_priorities([1, 2], [0, 0], [1.0, -1.0])
        with pytest.raises(InvalidArgumentError, match="differ in length"):
            sampler.update_priorities([1, 2], [0], [1.0, 1.0])
        with pytest.raises(InvalidArgumentError, match="rng_state"):
            sampler.set_rng_state(bytes(32))
    with pytest.raises(SQLiteStorageError, match="closed"):
        sampler.sample(1)
    with pytest.raises(InvalidArgumentError, match=r"priorities\[0\]"):
        store.set_episode_priorities([1], [float("inf")])


def test_one_call_draws_a_batch_with_its_episodes(store):
    ids = [store.store_episode({"obs": np.full(3, i, np.float32)}, float(i), "ctx") for i in range(5)]
    with store.sampler(alpha=1.0, seed=5) as sampler:
        batch = sampler.sample(32, beta=0.4, episodes=True)
    assert len(batch.episodes) == 32 and batch.table_size == 5
    for i, e in zip(batch.ids, batch.episodes):
        assert e.id == i
        assert np.array_equal(e.experience()["obs"], np.full(3, ids.index(i), np.float32))
    assert sampler_free_batch_is_plain(store)


def sampler_free_batch_is_plain(store):
    with store.sampler(seed=1) as sampler:
        return sampler.sample(4).episodes is None
