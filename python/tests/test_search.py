"""Semantic search and traversal against numpy float64 brute force."""

import numpy as np
import pytest

from gmstore import SQLiteStorage, SQLiteStorageError


def brute(matrix, q, metric, k):
    m = matrix.astype(np.float64)
    q = np.asarray(q, dtype=np.float32).astype(np.float64)
    if metric == "dot":
        scores = m @ q
    elif metric == "cosine":
        scores = (m @ q) / (np.linalg.norm(m, axis=1) * np.linalg.norm(q))
    else:
        scores = -np.linalg.norm(m - q, axis=1)
    return list(np.argsort(-scores, kind="stable")[:k] + 1)


@pytest.mark.parametrize("dim", [8, 96, 512])
def test_nearest_matches_numpy_float64(tmp_path, dim):
    rng = np.random.default_rng(dim)
    matrix = rng.standard_normal((600, dim)).astype(np.float32)
    with SQLiteStorage(tmp_path / "s.db") as store:
        with store._transaction():
            for i, row in enumerate(matrix):
                store.store_concept(f"c{i}", row)
        for metric in ("cosine", "dot", "l2"):
            for _ in range(3):
                q = rng.standard_normal(dim)
                got = [cid for cid, _, _ in store.nearest_concepts(q, k=10, metric=metric)]
                assert got == brute(matrix, q, metric, 10), metric
            qs = rng.standard_normal((5, dim))
            batch = store.nearest_concepts_batch(qs, k=4, metric=metric)
            assert [[cid for cid, _, _ in found] for found in batch] == [brute(matrix, q, metric, 4) for q in qs]


def test_l2_nearest_first_filters_and_coherence(tmp_path):
    with SQLiteStorage(tmp_path / "s.db") as store:
        a = store.store_concept("apple", [0.0, 0.0])
        b = store.store_concept("apricot", [1.0, 0.0])
        c = store.store_concept("banana", [3.0, 4.0])
        assert store.nearest_concepts([0, 0], k=3, metric="l2") == [(a, "apple", 0.0), (b, "apricot", 1.0),
                                                                      (c, "banana", 5.0)]
        assert [x[0] for x in store.nearest_concepts([3, 4], k=3, metric="l2", name_pattern="ap")] == [b, a]
        store.retrieve_concept_by_name("banana")
        assert [x[0] for x in store.nearest_concepts([0, 0], k=3, min_access_count=1)] == [c]
        d = store.store_concept("durian", [0.1, 0.0])
        assert store.nearest_concepts([0.1, 0.0], k=1, metric="l2")[0][0] == d
        with SQLiteStorage(tmp_path / "s.db") as other:
            e = other.store_concept("elderberry", [0.1, 0.0001])
        assert store.nearest_concepts([0.1, 0.0001], k=1, metric="l2")[0][0] == e
        with pytest.raises(ValueError, match="metric"):
            store.nearest_concepts([0, 0], metric="manhattan")
        with pytest.raises(ValueError, match="query: dimension 3 does not match the store's 2"):
            store.nearest_concepts([0, 0, 0])


def test_similarity_graph_and_traversal(tmp_path):
    with SQLiteStorage(tmp_path / "g.db") as store:
        x = store.store_concept("x", [1.0, 0.0])
        x2 = store.store_concept("x2", [0.9, 0.1])
        y = store.store_concept("y", [0.0, 1.0])
        assert store.build_similarity_graph(threshold=0.8) == 2
        assert [t for t, _, _ in store.get_concept_relationships(x)] == [x2]
        store.add_concept_relationship(x2, y, "leads_to", 0.5)
        assert store.concept_neighborhood(x, max_hops=2) == [(x2, "x2", 1), (y, "y", 2)]
        assert store.concept_neighborhood(x, max_hops=2, relationship_type="similar_to") == [(x2, "x2", 1)]
        ids, strength = store.strongest_path(x, y)
        assert ids == [x, x2, y] and abs(strength - 0.5 * store.get_concept_relationships(x)[0][2]) < 1e-12
        assert store.strongest_path(y, x) is None
        with pytest.raises(SQLiteStorageError, match="to_id: no concept with id 999"):
            store.strongest_path(x, 999)


def test_underscores_match_literally_on_request(store):
    for i, name in enumerate(["level_1", "levelX1", "100%_done", "1000_done"]):
        store.store_concept(name, np.array([i, 1.0]))
    names = lambda concepts: sorted(c.name for c in concepts)  # noqa: E731
    assert names(store.search_concepts("level_1")) == ["levelX1", "level_1"], "the seed's LIKE"
    assert names(store.search_concepts("level_1", literal=True)) == ["level_1"]
    assert names(store.search_concepts("0%_", literal=True)) == ["100%_done"]
    near = store.nearest_concepts([1.0, 1.0], k=5, metric="l2", name_pattern="level_1", name_literal=True)
    assert [name for _, name, _ in near] == ["level_1"]
    assert len(store.nearest_concepts([1.0, 1.0], k=5, name_pattern="level_1")) == 2


def test_a_knn_snapshot_serves_the_next_open_and_sees_later_writes(store, tmp_path):
    rng = np.random.default_rng(7)
    matrix = rng.standard_normal((300, 32)).astype(np.float32)
    with store._transaction():
        for i, row in enumerate(matrix):
            store.store_concept(f"c{i}", row)
    snapshot = tmp_path / "knn.snap"
    with SQLiteStorage(store.db_path, knn_snapshot=snapshot) as first:
        assert first.knn_matrix_source() == "not loaded"
        first.nearest_concepts(matrix[0], k=5)
        assert first.knn_matrix_source() == "built"
    assert snapshot.stat().st_size > matrix.nbytes  # written at close
    moved = rng.standard_normal(32).astype(np.float32)
    store.store_concept("c42", moved)  # a write while no handle holds the matrix
    matrix[42] = moved
    with SQLiteStorage(store.db_path, knn_snapshot=snapshot) as second:
        for q in (moved, matrix[7], rng.standard_normal(32).astype(np.float32)):
            got = [n[0] for n in second.nearest_concepts(q, k=10, metric="dot")]
            assert got == brute(matrix, q, "dot", 10)
        assert second.knn_matrix_source() == "snapshot"
        assert second.save_knn_snapshot() is True
        assert second.save_knn_snapshot() is False


def test_a_knn_snapshot_needs_a_store_with_a_cache(tmp_path):
    with pytest.raises(SQLiteStorageError, match="knn_snapshot"):
        SQLiteStorage(":memory:", knn_snapshot=tmp_path / "x.snap")
    with SQLiteStorage(tmp_path / "s.db") as s:
        with pytest.raises(SQLiteStorageError, match="path"):
            s.set_knn_snapshot("bad\0path")
        s.set_knn_snapshot(None)
