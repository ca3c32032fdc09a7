"""The fast paths of the package store and read exactly what the plain
paths do: a batch described a column at a time gives the same bytes as the
same rows stored one by one, batches it cannot take go row by row and name
the bad row, and reads into the reusable buffer grow past it."""

import json
import math

import numpy as np
import pytest

from gmstore import InvalidArgumentError, SQLiteStorage
from gmstore._marshal import JsonRows, _encode_json
from gmstore.experience import UniformBatch, describe_experience


def rows_of(trees, **extra):
    return [{"experience_data": t, "performance_score": 0.5, "context_hash": "ctx", "timestamp": float(i),
             "metadata": {"i": i}, **extra} for i, t in enumerate(trees)]


def stored_bytes(store, ids):
    return [store.retrieve_episode(i).experience_data for i in ids]


def one_by_one(store, rows):
    return [store.store_episode(r["experience_data"], r["performance_score"], r["context_hash"],
                                timestamp=r["timestamp"], metadata=r["metadata"]) for r in rows]


UNIFORM = [
    # the usual RL step, with strings that need escaping and extreme numbers
    [{"obs": np.full(64, i, np.float32), "action": ["left", "right \"q\"", "\u00e9\u4e2d", "a\nb"][i % 4],
      "reward": [0.5, -0.0, 1e308, 5e-324][i % 4], "step": [0, -1, 2**63 - 1, 2**70][i % 4],
      "done": i % 2 == 0, "info": None} for i in range(40)],
    # several arrays of different dtypes and shapes, bool and 0-d
    [{"a": np.arange(6, dtype=np.int16).reshape(2, 3) + i, "b": np.array([i % 2 == 0, True]),
      "c": np.array(float(i)), "d": np.zeros((0, 3), np.uint8)} for i in range(25)],
    # scalars only, and arrays only
    [{"x": float(i) / 3} for i in range(10)],
    [{"m": np.full((3, 3), i, np.float64)} for i in range(10)],
]


@pytest.mark.parametrize("trees", UNIFORM, ids=["rl-step", "arrays", "scalars", "one-array"])
def test_a_uniform_batch_stores_the_bytes_of_one_by_one(store, trees):
    assert UniformBatch.of(trees) is not None
    rows = rows_of(trees)
    batch_ids = store.store_episodes(rows)
    single_ids = one_by_one(store, rows)
    assert stored_bytes(store, batch_ids) == stored_bytes(store, single_ids)
    for tree, i in zip(trees, batch_ids):
        back = store.retrieve_episode(i).experience()
        assert back.keys() == tree.keys()
        for key, value in tree.items():
            if isinstance(value, np.ndarray):
                np.testing.assert_array_equal(back[key], value)
                assert back[key].dtype == value.dtype and back[key].shape == value.shape
            else:
                assert back[key] == value and type(back[key]) is type(value)


def test_uniform_values_json_equals_the_row_by_row_description():
    trees = UNIFORM[0]
    batch = UniformBatch.of(trees)
    assert [v.encode("ascii") for v in batch.values_json] == [describe_experience(t)[1] for t in trees]


NOT_UNIFORM = [
    [{"a": 1}, {"a": 1, "b": 2}],  # other keys
    [{"a": 1, "b": 2}, {"b": 2, "a": 1}],  # same keys, other order
    [{"a": 1}, {"a": 1.0}],  # int then float
    [{"a": True}, {"a": 1}],  # bool then int
    [{"a": 1.0}, {"a": float("nan")}],  # NaN is stored as a tensor
    [{"a": np.zeros(3, np.float32)}, {"a": np.zeros(3, np.float64)}],  # other dtype
    [{"a": np.zeros(3)}, {"a": np.zeros(4)}],  # other shape
    [{"a": {"nested": 1}}, {"a": {"nested": 2}}],  # nested dict
    [{"a": np.zeros(20000)}, {"a": np.zeros(20000)}],  # 160 KB arrays go by address
    [{"$tensor": "x"}, {"$tensor": "y"}],  # reserved by the format
    [np.zeros(3), np.ones(3)],  # not dicts
]


@pytest.mark.parametrize("trees", NOT_UNIFORM)
def test_other_batches_go_row_by_row_and_store_the_same(store, trees):
    assert UniformBatch.of(trees) is None
    rows = rows_of(trees)
    if isinstance(trees[0], dict) and list(trees[0]) == ["$tensor"]:
        with pytest.raises(InvalidArgumentError, match=r"episodes\[0\].*reserved"):
            store.store_episodes(rows)
        return
    assert stored_bytes(store, store.store_episodes(rows)) == stored_bytes(store, one_by_one(store, rows))


def test_a_batch_mixing_raw_bytes_and_trees(store):
    rows = rows_of([b"\x80\x04raw", {"a": 1}, np.arange(3)])
    ids = store.store_episodes(rows)
    assert store.retrieve_episode(ids[0]).experience_data == b"\x80\x04raw"
    assert store.retrieve_episode(ids[1]).experience() == {"a": 1}


@pytest.mark.parametrize("bad, message", [
    ({"performance_score": float("nan")}, r"episodes\[3\]\.performance_score: must be a finite number"),
    ({"performance_score": "high"}, r"episodes\[3\]\.performance_score: not a number"),
    ({"context_hash": 7}, r"episodes\[3\]\.context_hash: must be a str"),
    ({"context_hash": "a\0b"}, r"episodes\[3\]\.context_hash: must not contain NUL"),
    ({"context_hash": ""}, r"episodes\[3\]\.context_hash: must not be empty"),
    ({"metadata": [1, 2]}, r"episodes\[3\]\.metadata: must be a dict"),
    ({"metadata": {"x": float("inf")}}, r"episodes\[3\]\.metadata: not JSON-serialisable"),
    ({"timestamp": float("inf")}, r"episodes\[3\]\.timestamp: must be a finite number"),
    ({"experience_data": {"a": object()}}, r"episodes\[3\]\.experience_data/a: cannot store a object"),
])
def test_a_bad_row_is_named_and_nothing_is_stored(store, bad, message):
    rows = rows_of([{"obs": np.zeros(4, np.float32), "r": 0.5} for _ in range(6)])
    rows[3] = {**rows[3], **bad}
    before = store.get_database_stats()["episodes_count"]
    with pytest.raises(InvalidArgumentError, match=message):
        store.store_episodes(rows)
    assert store.get_database_stats()["episodes_count"] == before


def test_a_missing_key_is_named(store):
    rows = rows_of([{"a": 1}] * 3)
    del rows[2]["context_hash"]
    with pytest.raises(InvalidArgumentError, match=r"episodes\[2\]: missing 'context_hash'"):
        store.store_episodes(rows)


def test_metadata_written_a_column_at_a_time_is_the_encoders_json():
    dicts = [{"i": i, "name": f"n\u00e9{i}", "ok": i % 2 == 0, "x": i / 7, "none": None} for i in range(30)]
    assert JsonRows.of_dicts(dicts) == [_encode_json(d).decode("ascii") for d in dicts]
    assert JsonRows.of_dicts([{}, {}]) == ["{}", "{}"]
    assert JsonRows.of_dicts([{"a": [1]}, {"a": [2]}]) is None


@pytest.mark.parametrize("bad, message", [
    ({"performance_delta": float("nan")}, r"events\[2\]\.performance_delta: must be a finite number"),
    ({"task_type": "a\0b"}, r"events\[2\]\.task_type: must not contain NUL"),
    ({"strategy_used": None}, r"events\[2\]\.strategy_used: must be a str"),
    ({"parameters": {"lr": float("nan")}}, r"events\[2\]\.parameters: not JSON-serialisable"),
    ({"timestamp": "soon"}, r"events\[2\]\.timestamp: not a number"),
])
def test_a_bad_learning_event_is_named_and_nothing_is_stored(store, bad, message):
    events = [{"task_type": "t", "performance_delta": 0.1, "strategy_used": "s", "parameters": {"lr": 0.1}}
              for _ in range(4)]
    events[2] = {**events[2], **bad}
    with pytest.raises(InvalidArgumentError, match=message):
        store.store_learning_events(events)
    assert store.get_learning_events_by_task("t") == []


def test_learning_events_by_columns_equal_one_by_one(store):
    events = [{"task_type": f"task_{i % 3}", "performance_delta": (i % 7) / 7 - 0.5,
               "strategy_used": ["s", "\u00fcber", "q\"uote"][i % 3], "parameters": {"lr": i / 10, "tag": "x"},
               "timestamp": 1000.0 + i} for i in range(30)]
    events[5]["parameters"] = None
    events[6].pop("timestamp")
    ids = store.store_learning_events(events)
    got = {e.id: e for t in ("task_0", "task_1", "task_2") for e in store.get_learning_events_by_task(t, 100)}
    for i, e in zip(ids, events):
        assert (got[i].task_type, got[i].strategy_used) == (e["task_type"], e["strategy_used"])
        assert got[i].performance_delta == e["performance_delta"]
        assert got[i].parameters == (e["parameters"] or {})
        if "timestamp" in e:
            assert got[i].timestamp == e["timestamp"]


def test_retrieve_grows_its_buffer_and_keeps_working(store):
    small = store.store_episode({"a": 1}, 0.1, "c", metadata={"k": "v"})
    big_array = np.arange(100_000, dtype=np.float64)  # 800 KB, past the 64 KB buffer
    big = store.store_episode({"big": big_array}, 0.2, "c\u00e9", metadata={"deep": {"x": [1, 2]}})
    for _ in range(2):
        e = store.retrieve_episode(big)
        np.testing.assert_array_equal(e.experience()["big"], big_array)
        assert e.context_hash == "c\u00e9" and e.metadata == {"deep": {"x": [1, 2]}}
        assert store.retrieve_episode(small).metadata == {"k": "v"}
    assert store.retrieve_episode(10**9) is None


def test_retrieve_reads_metadata_written_by_raw_sql(store):
    i = store.store_episode(b"x", 0.1, "c")
    with store._transaction() as conn:
        conn.execute("UPDATE episodes SET metadata = ? WHERE id = ?", ('  {"a": 1}  ', i))
    assert store.retrieve_episode(i).metadata == {"a": 1}
    with store._transaction() as conn:
        conn.execute("UPDATE episodes SET metadata = ? WHERE id = ?", ("{not json", i))
    with pytest.raises(json.JSONDecodeError):
        store.retrieve_episode(i)


def test_episode_arrays_past_the_copy_threshold_round_trip(store):
    arrays = {"a": np.random.default_rng(1).random((300, 300)).astype(np.float32), "b": np.arange(5)}
    e = store.retrieve_episode(store.store_episode(arrays, 0.5, "big"))
    for key, value in arrays.items():
        np.testing.assert_array_equal(e.experience()[key], value)


def test_non_finite_floats_in_a_tree_survive_both_paths(store):
    tree = {"r": float("nan"), "s": float("-inf"), "t": 1.5}
    single = store.retrieve_episode(store.store_episode(tree, 0.5, "c")).experience()
    batch = store.retrieve_episode(store.store_episodes(rows_of([tree, tree]))[0]).experience()
    for back in (single, batch):
        assert math.isnan(back["r"]) and back["s"] == float("-inf") and back["t"] == 1.5
