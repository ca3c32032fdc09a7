"""Every method of the seed's SQLiteStorage, against the real library."""

import json
import sqlite3
import time
from pathlib import Path

import numpy as np
import pytest

from gmstore import (Concept, Episode, InvalidArgumentError, LearningEvent, SQLiteStorage, SQLiteStorageError,
                     decode_experience)


def test_store_and_retrieve_episode_with_array_dict(store):
    obs = np.random.rand(84, 84, 3)
    eid = store.store_episode(
        experience_data={"observation": obs, "action": "move_forward", "reward": 1.0,
                         "next_observation": obs.astype(np.float32)},
        performance_score=0.85, context_hash="navigation_task_level_1", timestamp=1234.5,
        metadata={"difficulty": "medium", "episode_length": 150})
    assert isinstance(eid, int) and eid > 0
    e = store.retrieve_episode(eid)
    assert isinstance(e, Episode)
    assert (e.id, e.performance_score, e.context_hash, e.timestamp) == (eid, 0.85, "navigation_task_level_1", 1234.5)
    assert e.metadata == {"difficulty": "medium", "episode_length": 150}
    assert isinstance(e.experience_data, bytes)
    x = e.experience()
    assert x["action"] == "move_forward" and x["reward"] == 1.0
    assert x["observation"].dtype == np.float64 and x["observation"].shape == (84, 84, 3)
    np.testing.assert_array_equal(x["observation"], obs)
    assert x["next_observation"].dtype == np.float32


def test_missing_episode_is_none_and_defaults_apply(store):
    assert store.retrieve_episode(999) is None
    before = time.time()
    e = store.retrieve_episode(store.store_episode(b"raw bytes", 0.5, "ctx"))
    assert e.metadata == {} and before - 1 <= e.timestamp <= time.time() + 1
    assert e.experience_data == b"raw bytes" and e.experience() == b"raw bytes"


def test_episodes_by_context_min_score_limit_and_order(store):
    for i, score in enumerate([0.9, 0.5, 0.8, 0.95]):
        store.store_episode(np.arange(3), score, "ctx", timestamp=100 + i)
    store.store_episode(np.arange(3), 1.0, "other")
    got = store.get_episodes_by_context("ctx", limit=50, min_score=0.7)
    assert [e.performance_score for e in got] == [0.95, 0.8, 0.9]
    assert len(store.get_episodes_by_context("ctx", limit=2)) == 2
    assert len(store.get_episodes_by_context("ctx")) == 4


def test_recent_episodes(store):
    now = time.time()
    for age in (7200, 10, 1800, 5):
        store.store_episode(b"x", 0.5, "c", timestamp=now - age)
    recent = store.get_recent_episodes(time_window=3600.0, limit=100)
    assert [round(now - e.timestamp) for e in recent] == [5, 10, 1800]


def test_batch_store_is_atomic(store):
    ids = store.store_episodes([{"experience_data": np.ones(4), "performance_score": i / 10, "context_hash": "b"}
                                for i in range(10)])
    assert ids == list(range(ids[0], ids[0] + 10))
    with pytest.raises(ValueError, match=r"episodes\[1\]\.performance_score"):
        store.store_episodes([{"experience_data": b"", "performance_score": 0.1, "context_hash": "b"},
                              {"experience_data": b"", "performance_score": float("inf"), "context_hash": "b"}])
    assert store.get_database_stats()["episodes_count"] == 10


def assert_each_bad_row_is_named(store, store_batch, good, bad, count_key, count):
    """A batch of ``good`` then each bad row fails with the row's message
    and stores nothing: the count stays ``count``."""
    for row, message in bad:
        with pytest.raises(ValueError, match=message):
            store_batch([good, row])
    assert store.get_database_stats()[count_key] == count, "a failed batch stores nothing"


def test_episode_batch_keeps_each_rows_values_and_names_the_bad_row(store):
    """The episode batch also fills its C structs column by column."""
    before = time.time()
    rows = [{"experience_data": {"obs": np.arange(6, dtype=np.int16).reshape(2, 3), "done": True},
             "performance_score": 0.75, "context_hash": "höhle", "metadata": {"k": [1, 2]}, "timestamp": 7.0},
            {"experience_data": b"", "performance_score": -1, "context_hash": "c" * 500},
            {"experience_data": b"\x00raw\x00", "performance_score": 0.5, "context_hash": "c2", "metadata": {}}]
    ids = store.store_episodes(rows)
    first, empty, raw = (store.retrieve_episode(i) for i in ids)
    assert (first.context_hash, first.performance_score, first.metadata, first.timestamp) == ("höhle", 0.75, {"k": [1, 2]}, 7.0)
    back = first.experience()
    assert back["done"] is True and back["obs"].dtype == np.int16 and back["obs"].tolist() == [[0, 1, 2], [3, 4, 5]]
    assert (empty.experience_data, empty.context_hash, empty.metadata) == (b"", "c" * 500, {})
    assert empty.timestamp >= before - 1, "no timestamp means now"
    assert (raw.experience_data, raw.context_hash) == (b"\x00raw\x00", "c2")
    bad = [({"experience_data": b"", "performance_score": 0.1, "context_hash": ""}, r"episodes\[1\]\.context_hash"),
           ({"experience_data": b"", "context_hash": "c"}, r"episodes\[1\]: missing 'performance_score'"),
           ({"experience_data": b"", "performance_score": 0.1, "context_hash": "c", "metadata": "x"},
            r"episodes\[1\]\.metadata: must be a dict"),
           ({"experience_data": b"", "performance_score": 0.1, "context_hash": "c", "timestamp": float("nan")},
            r"episodes\[1\]\.timestamp")]
    assert_each_bad_row_is_named(store, store.store_episodes, rows[1], bad, "episodes_count", 3)


def test_learning_event_batch_is_atomic_and_checked(store):
    ids = store.store_learning_events([{"task_type": "t", "performance_delta": i / 10, "strategy_used": f"s{i % 2}",
                                        "parameters": {"i": i}, "timestamp": 100.0 + i} for i in range(6)])
    assert ids == list(range(ids[0], ids[0] + 6))
    events = store.get_learning_events_by_task("t", limit=10)
    assert [(e.id, e.parameters["i"], e.timestamp) for e in events] == [(ids[i], i, 100.0 + i) for i in reversed(range(6))]
    with pytest.raises(ValueError, match=r"events\[1\]\.performance_delta: must be a finite number"):
        store.store_learning_events([{"task_type": "t", "performance_delta": 0.1, "strategy_used": "s"},
                                     {"task_type": "t", "performance_delta": float("nan"), "strategy_used": "s"}])
    with pytest.raises(ValueError, match="task_type: must not contain NUL"):
        store.store_learning_event("t\0hidden", 0.1, "s")
    assert store.store_learning_events([]) == []
    assert store.get_database_stats()["learning_events_count"] == 6


def test_learning_event_batch_keeps_each_rows_values_and_names_the_bad_row(store):
    """The batch fills its C structs column by column: every row must come
    back with its own strings, parameters and time, and a bad row is named."""
    before = time.time()
    rows = [{"task_type": "épreuve", "performance_delta": -0.5, "strategy_used": "s" * 300},
            {"task_type": "t2", "performance_delta": 2, "strategy_used": "adam", "parameters": {"lr": 0.1},
             "timestamp": 5.0},
            {"task_type": "t2", "performance_delta": 0.25, "strategy_used": "sgd", "parameters": {}}]
    ids = store.store_learning_events(rows)
    first = store.get_learning_events_by_task("épreuve")[0]
    assert (first.id, first.strategy_used, first.performance_delta, first.parameters) == (ids[0], "s" * 300, -0.5, {})
    assert first.timestamp >= before - 1, "no timestamp means now"
    got = {e.id: e for e in store.get_learning_events_by_task("t2")}
    assert (got[ids[1]].strategy_used, got[ids[1]].parameters, got[ids[1]].timestamp) == ("adam", {"lr": 0.1}, 5.0)
    assert (got[ids[2]].strategy_used, got[ids[2]].performance_delta) == ("sgd", 0.25)
    bad = [({"task_type": 7, "performance_delta": 0.1, "strategy_used": "s"}, r"events\[1\]\.task_type: must be a str"),
           ({"task_type": "t", "performance_delta": 0.1}, r"events\[1\]: missing 'strategy_used'"),
           ({"task_type": "t", "performance_delta": 0.1, "strategy_used": "a\0b"},
            r"events\[1\]\.strategy_used: must not contain NUL"),
           ({"task_type": "t", "performance_delta": "x", "strategy_used": "s"}, r"events\[1\]\.performance_delta"),
           ({"task_type": "", "performance_delta": 0.1, "strategy_used": "s"}, r"events\[1\]\.task_type: must not be empty"),
           ({"task_type": "t", "performance_delta": 0.1, "strategy_used": "s", "parameters": [1]},
            r"events\[1\]\.parameters: must be a dict")]
    assert_each_bad_row_is_named(store, store.store_learning_events, rows[0], bad, "learning_events_count", 3)


def test_concepts_upsert_access_counts_and_dimension(store):
    emb = np.random.rand(512)
    cid = store.store_concept("neural_network", emb, metadata={"category": "machine_learning", "confidence": 0.95},
                              creation_time=100.0)
    c = store.retrieve_concept(cid)
    assert isinstance(c, Concept) and c.name == "neural_network" and c.access_count == 0
    vec = store._deserialize_array(c.embedding)
    assert vec.dtype == np.float32 and vec.shape == (512,)
    np.testing.assert_allclose(vec, emb.astype(np.float32))
    assert store.retrieve_concept_by_name("neural_network").access_count == 1
    assert store.retrieve_concept_by_name("neural_network").access_count == 2
    assert store.store_concept("neural_network", np.zeros(512)) == cid
    c = store.retrieve_concept(cid)
    assert c.access_count == 2 and c.metadata["category"] == "machine_learning" and c.creation_time == 100.0
    np.testing.assert_array_equal(c.embedding_array(), np.zeros(512, np.float32))
    with pytest.raises(ValueError, match="dimension 256 does not match the store's 512"):
        store.store_concept("small", np.zeros(256))
    assert store.retrieve_concept(424242) is None
    assert store.retrieve_concept_by_name("nope") is None


def test_embeddings_accept_anything_numpy_asarray_takes(store):
    class JaxLike:
        def __init__(self, values):
            self.values = np.asarray(values, dtype=np.float32)

        def __array__(self, dtype=None, copy=None):
            return self.values if dtype is None else self.values.astype(dtype)

    a = store.store_concept("from_list", [0.5, 1.5, 2.5])
    b = store.store_concept("from_jax_like", JaxLike([1, 2, 3]))
    c = store.store_concept("from_float16", np.array([1, 2, 3], dtype=np.float16))
    assert store.retrieve_concept(b).embedding_array().tolist() == [1.0, 2.0, 3.0]
    assert store.retrieve_concept(a).embedding_array().tolist() == [0.5, 1.5, 2.5]
    assert store.retrieve_concept(c).embedding_array().dtype == np.float32
    with pytest.raises(ValueError, match="embedding"):
        store.store_concept("bad", [1.0, float("nan"), 2.0])
    with pytest.raises(ValueError, match="embedding"):
        store.store_concept("bad", ["a", "b", "c"])


def test_search_concepts(store):
    for name in ["neural_network", "convolutional_neural_net", "decision_tree"]:
        store.store_concept(name, np.ones(4))
    assert {c.name for c in store.search_concepts("neural", limit=10)} == {"neural_network", "convolutional_neural_net"}
    assert len(store.search_concepts("", limit=10000)) == 3
    assert [c.name for c in store.search_concepts("decision_t%", limit=10)] == ["decision_tree"]
    assert len(store.search_concepts("", limit=1)) == 1


def test_relationships(store):
    a = store.store_concept("a", np.ones(4))
    b = store.store_concept("b", np.ones(4))
    c = store.store_concept("c", np.ones(4))
    assert store.add_concept_relationship(source_id=a, target_id=b, relationship_type="similar_to", strength=0.8) is True
    store.add_concept_relationship(a, c, "part_of", 0.9)
    assert store.get_concept_relationships(a) == [(c, "part_of", 0.9), (b, "similar_to", 0.8)]
    assert store.get_concept_relationships(a, relationship_type="similar_to") == [(b, "similar_to", 0.8)]
    with pytest.raises(SQLiteStorageError, match="target_id: no concept with id 99") as err:
        store.add_concept_relationship(a, 99, "x", 0.5)
    assert err.value.status == "GM_ERR_NOT_FOUND"
    with pytest.raises(ValueError, match=r"strength: 1.5 is outside \[0, 1\]"):
        store.add_concept_relationship(a, b, "x", 1.5)


def test_learning_events_and_best_strategies(store):
    for strategy, delta in [("adam_optimizer", 0.15), ("sgd", 0.05), ("adam_optimizer", 0.25)]:
        eid = store.store_learning_event(task_type="image_classification", performance_delta=delta,
                                         strategy_used=strategy,
                                         parameters={"learning_rate": 0.001, "batch_size": 32, "epochs": 10})
        assert eid > 0
    events = store.get_learning_events_by_task("image_classification", limit=50, min_performance_delta=0.1)
    assert all(isinstance(e, LearningEvent) for e in events) and len(events) == 2
    assert events[0].parameters == {"learning_rate": 0.001, "batch_size": 32, "epochs": 10}
    best = store.get_best_strategies("image_classification", limit=5)
    assert [(s, round(d, 6), n) for s, d, n in best] == [("adam_optimizer", 0.2, 2), ("sgd", 0.05, 1)]


def test_transaction_joins_store_calls_commits_and_rolls_back(store):
    with store._transaction() as conn:
        result = conn.execute(
            "INSERT INTO episodes (timestamp, experience_data, performance_score, context_hash, metadata) "
            "VALUES (?, ?, ?, ?, ?)", (time.time(), b"\x80\x04pickled", 0.8, "batch", json.dumps({"k": 1})))
        assert result.rowcount == 1
        store.store_episode(np.zeros(2), 0.5, "batch")
    assert len(store.get_episodes_by_context("batch")) == 2
    with pytest.raises(RuntimeError):
        with store._transaction():
            store.store_episode(np.zeros(2), 0.5, "batch")
            store.store_concept("rolled_back", np.ones(3))
            raise RuntimeError("boom")
    assert len(store.get_episodes_by_context("batch")) == 2
    assert store.retrieve_concept_by_name("rolled_back") is None
    with store._transaction():
        with pytest.raises(ValueError):
            with store._transaction():
                store.store_episode(b"", float("nan"), "x")
        store.store_episode(b"inner survives", 0.5, "batch")
    assert len(store.get_episodes_by_context("batch")) == 3


def test_raw_sql_binding_errors(store):
    with store._transaction() as conn:
        with pytest.raises(ValueError, match=r"params\[0\]: cannot bind a dict"):
            conn.execute("SELECT ?", ({"a": 1},))
        with pytest.raises(ValueError, match="sql"):
            conn.execute("BEGIN")


def test_stats_have_the_seed_keys(store):
    store.store_episode(b"x", 0.5, "c")
    stats = store.get_database_stats()
    for key in ("episodes_count", "concepts_count", "learning_events_count", "db_size_mb", "schema_version"):
        assert key in stats
    assert stats["episodes_count"] == 1 and stats["db_size_mb"] > 0 and stats["schema_version"] >= 2


def test_backups_vacuum_and_restore(store, db_path, tmp_path, monkeypatch):
    # Default backups go beside the file, or for a server store to ./backups.
    monkeypatch.chdir(tmp_path)
    store.store_episode(b"kept", 0.5, "c")
    path = store.create_backup()
    assert path.resolve().parent == db_path.parent / "backups" and path.exists()
    custom = store.create_backup(tmp_path / "manual" / "manual_backup.db")
    assert custom == tmp_path / "manual" / "manual_backup.db"
    assert store.auto_backup_if_needed() is None
    assert store.get_database_stats()["last_backup_time"] is not None
    store.store_episode(b"lost", 0.5, "c")
    store.restore_backup(custom)
    assert [e.experience_data for e in store.get_episodes_by_context("c")] == [b"kept"]
    assert store.vacuum_database() is True
    assert store.integrity_check() == []
    assert sqlite3.connect(custom).execute("SELECT count(*) FROM episodes").fetchone() == (1,)


def test_auto_backup_when_due(tmp_path):
    with SQLiteStorage(tmp_path / "a.db", backup_interval=0, max_backups=2) as s:
        made = [s.auto_backup_if_needed() for _ in range(3)]
        assert all(p is not None for p in made)
        assert len(list((tmp_path / "backups").glob("a_*.db"))) == 2


def test_errors_carry_code_and_message(store):
    cases = [
        (lambda: store.store_episode(b"", float("nan"), "c"), "performance_score: must be a finite number"),
        (lambda: store.store_episode(b"", 0.5, ""), "context_hash: must not be empty"),
        (lambda: store.store_episode(b"", 0.5, "c", metadata=[1, 2]), "metadata: must be a dict"),
        (lambda: store.store_episode(b"", 0.5, "c", metadata={"x": object()}), "metadata: not JSON-serialisable"),
        (lambda: store.store_episode(b"", 0.5, "c", timestamp=float("inf")), "timestamp: must be a finite"),
        (lambda: store.store_episode({"bad": object()}, 0.5, "c"), "experience_data/bad: cannot store"),
        (lambda: store.get_episodes_by_context("c", limit=-1), "limit: must not be negative"),
        (lambda: store.get_episodes_by_context("c", limit=2**62), "limit: .* exceeds"),
        (lambda: store.get_recent_episodes(time_window=-5), "time_window: must not be negative"),
        (lambda: store.retrieve_episode(-1), "episode_id: must be a positive id"),
        (lambda: store.store_learning_event("t", float("-inf"), "s"), "performance_delta"),
        (lambda: store.store_concept("", np.ones(3)), "name: must not be empty"),
        (lambda: store.store_concept("x", []), "embedding: must not be empty"),
        (lambda: store.search_concepts(None), "query: must be a str"),
    ]
    for call, pattern in cases:
        with pytest.raises((SQLiteStorageError, ValueError, TypeError), match=pattern):
            call()
    with pytest.raises(InvalidArgumentError) as err:
        store.store_episode(b"", float("nan"), "c")
    assert err.value.code == 2 and err.value.status == "GM_ERR_INVALID_ARGUMENT"
    assert isinstance(err.value, SQLiteStorageError) and isinstance(err.value, ValueError)


def test_open_errors(tmp_path):
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"definitely not sqlite" * 500)
    with pytest.raises(SQLiteStorageError) as err:
        SQLiteStorage(garbage)
    assert err.value.status == "GM_ERR_NOT_A_DATABASE"
    with pytest.raises(ValueError, match="is a directory"):
        SQLiteStorage(tmp_path)
    with pytest.raises(ValueError, match="connection_timeout"):
        SQLiteStorage(tmp_path / "t.db", connection_timeout=float("nan"))


def test_context_manager_and_close(db_path):
    with SQLiteStorage(db_path) as s:
        eid = s.store_episode(experience_data={"test": "data"}, performance_score=0.5, context_hash="test_context")
    with pytest.raises(SQLiteStorageError, match="closed"):
        s.retrieve_episode(eid)
    s.close()
    with SQLiteStorage(db_path) as again:
        assert again.retrieve_episode(eid).experience() == {"test": "data"}


def test_seed_made_file_with_pickle_is_read_only_on_request(tmp_path):
    """A file written by the seed's own Python implementation (its tables,
    some of its indexes, pickled experiences, no version table)."""
    import pickle

    path = tmp_path / "seed.db"
    conn = sqlite3.connect(path)
    conn.executescript(_seed_ddl())
    conn.execute("INSERT INTO episodes (timestamp, experience_data, performance_score, context_hash, metadata) "
                 "VALUES (1.0, ?, 0.9, 'legacy', '{}')", (pickle.dumps({"obs": [1, 2, 3]}),))
    conn.commit()
    conn.close()
    with SQLiteStorage(path) as s:
        e = s.get_episodes_by_context("legacy")[0]
        with pytest.raises(ValueError, match="allow_pickle=True"):
            e.experience()
        assert e.experience(allow_pickle=True) == {"obs": [1, 2, 3]}
        assert decode_experience(e.experience_data, allow_pickle=True) == {"obs": [1, 2, 3]}


def _seed_ddl() -> str:
    return """
    CREATE TABLE episodes (id INTEGER PRIMARY KEY AUTOINCREMENT, timestamp REAL NOT NULL,
        experience_data BLOB NOT NULL, performance_score REAL NOT NULL, context_hash TEXT NOT NULL,
        metadata TEXT DEFAULT '{}', created_at REAL DEFAULT (julianday('now')));
    CREATE TABLE concepts (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL UNIQUE,
        embedding BLOB NOT NULL, creation_time REAL NOT NULL, access_count INTEGER DEFAULT 0,
        last_accessed REAL DEFAULT 0, metadata TEXT DEFAULT '{}');
    CREATE INDEX idx_concepts_name ON concepts(name);
    CREATE TABLE learning_events (id INTEGER PRIMARY KEY AUTOINCREMENT, task_type TEXT NOT NULL,
        performance_delta REAL NOT NULL, strategy_used TEXT NOT NULL, timestamp REAL NOT NULL,
        parameters TEXT DEFAULT '{}');
    CREATE TABLE concept_relationships (id INTEGER PRIMARY KEY AUTOINCREMENT,
        source_concept_id INTEGER NOT NULL, target_concept_id INTEGER NOT NULL,
        relationship_type TEXT NOT NULL, strength REAL DEFAULT 1.0,
        created_at REAL DEFAULT (julianday('now')),
        FOREIGN KEY (source_concept_id) REFERENCES concepts (id),
        FOREIGN KEY (target_concept_id) REFERENCES concepts (id),
        UNIQUE(source_concept_id, target_concept_id, relationship_type));
    """


def test_library_is_found_where_documented(tmp_path, monkeypatch):
    import os

    import gmstore
    from gmstore import _native

    if os.environ.get("GMSTORE_TEST_INSTALLED"):
        assert Path(gmstore.library_path()).parent == Path(gmstore.__file__).parent, "the library ships inside"
    monkeypatch.setenv("GMSTORE_LIBRARY", str(tmp_path / "nowhere.so"))
    assert _native._candidates()[0] == tmp_path / "nowhere.so"
    monkeypatch.setattr(_native, "_candidates", lambda: [tmp_path / "nowhere.so"])
    with pytest.raises(_native.GmStoreLibraryNotFound, match="nowhere.so"):
        _native._load()


PICKLE_PREFIXES = [bytes([0x80, p]) for p in range(2, 6)]


def test_embeddings_are_never_taken_for_pickles(store):
    """About 1 float32 embedding in 16,000 starts with a pickle protocol
    prefix (0x80 0x02..0x05); _deserialize_array must still give floats."""
    crafted = []
    for i, prefix in enumerate(PICKLE_PREFIXES):
        vec = np.random.rand(16).astype(np.float32)
        raw = bytearray(vec.tobytes())
        raw[:2] = prefix
        vec = np.frombuffer(bytes(raw), dtype="<f4")
        assert np.isfinite(vec).all()
        store.store_concept(f"crafted_{i}", vec)
        crafted.append(vec)
    for i, vec in enumerate(crafted):
        concept = store.retrieve_concept_by_name(f"crafted_{i}")
        assert concept.embedding[:2] == PICKLE_PREFIXES[i]
        np.testing.assert_array_equal(SQLiteStorage._deserialize_array(concept.embedding), vec)
        np.testing.assert_array_equal(SQLiteStorage._deserialize_array(bytes(concept.embedding)), vec)


def test_the_seeds_similarity_recipe_reads_100k_random_embeddings(tmp_path):
    """The seed's own recipe: load every concept, _deserialize_array each."""
    rng = np.random.default_rng(3)
    vectors = rng.standard_normal((100_000, 8)).astype(np.float32)
    with SQLiteStorage(tmp_path / "many.db") as s:
        with s._transaction():
            for i, v in enumerate(vectors):
                s.store_concept(f"c{i}", v)
        concepts = s.search_concepts("", limit=100_000)
        assert len(concepts) == 100_000
        prefixed = sum(c.embedding[:2] in PICKLE_PREFIXES for c in concepts)
        by_name = {c.name: SQLiteStorage._deserialize_array(c.embedding) for c in concepts}
    np.testing.assert_array_equal(np.stack([by_name[f"c{i}"] for i in range(100_000)]), vectors)
    assert prefixed > 0, "this seed's vectors include some that start with a pickle prefix"
