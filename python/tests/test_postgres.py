"""The seed's SQLiteStorage API on a PostgreSQL store: the same calls give
the same results as on a SQLite file. `make test` provides the server
(scripts/pg_throwaway.sh sets GMSTORE_TEST_PG); without it these fail."""

import math

import numpy as np
import pytest

from gmstore import SQLiteStorage, SQLiteStorageError
from gmstore import _native as n

from conftest import server_store_target


@pytest.fixture
def pg_target():
    return server_store_target()


def script(store):
    """Seed-document calls; returns everything they observably return."""
    out = []
    eid = store.store_episode({"observation": np.arange(6, dtype=np.float32).reshape(2, 3), "action": "left",
                               "reward": 1.5}, 0.85, "navigation", timestamp=100.0, metadata={"seed": 1})
    ep = store.retrieve_episode(eid)
    out.append((ep.performance_score, ep.context_hash, ep.metadata, ep.timestamp))
    x = ep.experience()
    out.append((x["observation"].tolist(), x["action"], x["reward"]))
    out.append(store.retrieve_episode(424242))
    store.store_episodes([{"experience_data": {"v": i}, "performance_score": i / 10, "context_hash": "batch",
                           "timestamp": float(i)} for i in range(5)])
    out.append([e.performance_score for e in store.get_episodes_by_context("batch", limit=3, min_score=0.15)])
    for name, vec in [("cat", [1.0, 0.0, 0.0]), ("dog", [0.9, 0.1, 0.0]), ("car", [0.0, 0.0, 1.0])]:
        store.store_concept(name, np.array(vec, dtype=np.float32), metadata={"n": name})
    c = store.retrieve_concept_by_name("dog")
    out.append((c.name, c.access_count, c.metadata, store._deserialize_array(c.embedding).tolist()))
    out.append([c.name for c in store.search_concepts("a", limit=10)])
    out.append([name for _, name, _ in store.nearest_concepts(np.array([1, 0, 0], np.float32), k=2)])
    cat, dog = store.retrieve_concept_by_name("cat").id, store.retrieve_concept_by_name("dog").id
    store.add_concept_relationship(cat, dog, "similar", 0.9)
    out.append(store.get_concept_relationships(cat))
    for i, (d, s) in enumerate([(0.1, "adam"), (0.3, "adam"), (0.2, "sgd"), (1e6 + 0.5, "big"), (1e6 - 0.5, "big")]):
        store.store_learning_event("train", d, s, parameters={"lr": 0.01}, timestamp=float(i))
    out.append(store.get_best_strategies("train", 5))
    out.append([(s.strategy, s.count, s.mean, round(s.std_dev, 12) if not math.isnan(s.std_dev) else "nan")
                for s in store.strategy_stats("train")])
    with store._transaction() as conn:
        conn.execute("UPDATE episodes SET metadata = ? WHERE context_hash = ?", ('{"k": 2}', "batch"))
    out.append(sorted(e.metadata["k"] for e in store.get_episodes_by_context("batch", limit=10)))
    stats = store.get_database_stats()
    out.append({k: stats[k] for k in ("episodes_count", "concepts_count", "learning_events_count",
                                      "relationships_count")})
    return out


def test_the_seed_api_gives_the_same_results_on_both_engines(tmp_path, pg_target):
    with SQLiteStorage(tmp_path / "file.db") as on_file, SQLiteStorage(pg_target) as on_server:
        assert script(on_server) == script(on_file)
        assert on_server.db_path == pg_target


def test_backups_of_a_server_store_open_as_files_and_bad_servers_fail_clearly(tmp_path, pg_target):
    with SQLiteStorage(pg_target) as store:
        eid = store.store_episode({"x": np.arange(3)}, 0.5, "c")
        backup = store.create_backup(str(tmp_path / "b.db"))
        with SQLiteStorage(backup) as copy:
            assert copy.retrieve_episode(eid).experience()["x"].tolist() == [0, 1, 2]
        with pytest.raises(ValueError):
            store.store_episode({"x": 1}, float("nan"), "c")
    with pytest.raises(SQLiteStorageError) as e:
        SQLiteStorage("postgresql://me:hunter2@127.0.0.1:1/nowhere?connect_timeout=2")
    assert e.value.code == n.GM_ERR_IO and "hunter2" not in str(e.value) and "127.0.0.1/nowhere" in str(e.value)
