"""The experience format's fidelity, and one SQLiteStorage shared by threads."""

import threading

import numpy as np
import pytest

from gmstore import SQLiteStorage, SQLiteStorageError, decode_experience, encode_experience

DTYPES = [np.bool_, np.uint8, np.int8, np.uint16, np.int16, np.float16, np.uint32, np.int32, np.float32,
          np.uint64, np.int64, np.float64]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(), (0,), (5,), (2, 3), (2, 1, 4, 3)])
def test_arrays_round_trip_with_exact_dtype_and_shape(dtype, shape):
    rng = np.random.default_rng(1)
    array = (rng.standard_normal(shape) * 100).astype(dtype)
    back = decode_experience(encode_experience(array))
    assert isinstance(back, (np.ndarray, np.generic))
    back = np.asarray(back)
    assert back.dtype == np.dtype(dtype) and back.shape == shape
    np.testing.assert_array_equal(back, array)


def test_nested_dict_round_trip_and_zero_copy():
    exp = {
        "observation": np.arange(12, dtype=np.float32).reshape(3, 4),
        "action": "move_forward",
        "reward": 1.0,
        "done": False,
        "count": 3,
        "nothing": None,
        "nan_reward": float("nan"),
        "info": {"path": [1, 2, 3], "frames": [np.zeros(2, np.uint8), np.ones((1, 2))], "raw": b"\x00\xff"},
        "big_endian": np.arange(3, dtype=">i4"),
        "non_contiguous": np.arange(16, dtype=np.int16).reshape(4, 4)[:, 1],
    }
    data = encode_experience(exp)
    back = decode_experience(data)
    assert back["action"] == "move_forward" and back["reward"] == 1.0 and back["done"] is False
    assert back["count"] == 3 and back["nothing"] is None and np.isnan(back["nan_reward"])
    assert back["info"]["path"] == [1, 2, 3] and back["info"]["raw"] == b"\x00\xff"
    np.testing.assert_array_equal(back["info"]["frames"][1], np.ones((1, 2)))
    np.testing.assert_array_equal(back["big_endian"], [0, 1, 2])
    np.testing.assert_array_equal(back["non_contiguous"], [1, 5, 9, 13])
    obs = back["observation"]
    assert obs.base is not None and not obs.flags.writeable, "a view of the stored bytes, not a copy"


def test_bytes_pass_through_and_foreign_bytes_stay_bytes():
    assert encode_experience(b"raw") == b"raw"
    assert decode_experience(b"not an experience") == b"not an experience"


def test_unsupported_values_are_rejected_with_the_path():
    with pytest.raises(TypeError, match=r"experience_data/a/b: cannot store a set"):
        encode_experience({"a": {"b": {1, 2}}})
    with pytest.raises(TypeError, match="dtype complex128"):
        encode_experience({"z": np.zeros(2, dtype=np.complex128)})
    with pytest.raises(TypeError, match="keys must be str"):
        encode_experience({1: "x"})
    with pytest.raises(ValueError, match="reserved"):
        encode_experience({"$tensor": "x"})


def test_threads_share_one_storage(tmp_path):
    store = SQLiteStorage(tmp_path / "threads.db")
    store.store_concept("shared", np.ones(8))
    errors = []
    per_thread = 60

    def work(t):
        try:
            for i in range(per_thread):
                store.store_episode({"obs": np.full(4, t, np.float32)}, i / per_thread, f"t{t}")
                if i % 10 == 0:
                    store.retrieve_concept_by_name("shared")
                    got = store.get_episodes_by_context(f"t{t}", limit=1000)
                    assert len(got) == i + 1
                    assert all(np.all(e.experience()["obs"] == t) for e in got)
                if i % 20 == 0:
                    with store._transaction():
                        store.store_learning_event("threads", 0.1, f"s{t}")
                        store.store_learning_event("threads", 0.3, f"s{t}")
        except Exception as e:  # noqa: BLE001 - collected and asserted below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(6)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []
    stats = store.get_database_stats()
    assert stats["episodes_count"] == 6 * per_thread
    assert stats["learning_events_count"] == 6 * 3 * 2
    assert store.retrieve_concept(1).access_count == 6 * (per_thread // 10)
    store.close()


def test_invalid_experience_raises_the_seeds_error(store):
    """The seed's "Error Handling" example catches SQLiteStorageError for
    data it cannot store; it is also a TypeError for code that expects one."""
    from gmstore import SQLiteStorageError
    for bad in (object(), lambda: 1, {"k": object()}, {"a": [1, {2, 3}]}):
        with pytest.raises(SQLiteStorageError, match="experience_data") as info:
            store.store_episode(experience_data=bad, performance_score=0.8, context_hash="test")
        assert isinstance(info.value, TypeError)
    looped = {}
    looped["self"] = looped
    with pytest.raises(SQLiteStorageError, match="nested too deeply"):
        store.store_episode(looped, 0.5, "test")
    assert store.get_database_stats()["episodes_count"] == 0


def test_tensor_names_reserved_or_repeated_still_round_trip(store):
    """safetensors keeps its header under '__metadata__': a tensor of that
    name used to encode and then never decode. Python names it otherwise;
    paths that collide ({"a/b": x} and {"a": {"b": y}}) get unique names."""
    data = {"__metadata__": np.arange(3), "a/b": np.ones(2), "a": {"b": np.zeros(2)},
            "inner": {"__metadata__": np.float32(2.5)}}
    eid = store.store_episode(data, 0.5, "names")
    back = store.retrieve_episode(eid).experience()
    np.testing.assert_array_equal(back["__metadata__"], np.arange(3))
    np.testing.assert_array_equal(back["a/b"], np.ones(2))
    np.testing.assert_array_equal(back["a"]["b"], np.zeros(2))
    assert back["inner"]["__metadata__"] == np.float32(2.5)


def test_a_transaction_moves_to_another_thread(tmp_path):
    """Begun on one thread, detached, attached and committed on another, as
    code resuming after an await does; a thread that exits with its
    transaction open has it rolled back."""
    store = SQLiteStorage(tmp_path / "handover.db")
    box = {}

    def first():
        store.begin_transaction()
        store.store_episode(b"one", 0.1, "handover")
        box["token"] = store.detach_transaction()

    def second():
        store.attach_transaction(box["token"])
        store.store_episode(b"two", 0.2, "handover")
        store.commit_transaction()

    def abandons():
        store.begin_transaction()
        store.store_episode(b"lost", 0.3, "handover")

    for work in (first, second, abandons):
        t = threading.Thread(target=work)
        t.start()
        t.join()
    store.store_episode(b"three", 0.4, "handover")
    assert sorted(e.experience_data for e in store.get_episodes_by_context("handover")) == [b"one", b"three", b"two"]
    with pytest.raises(SQLiteStorageError, match="no detached transaction"):
        store.attach_transaction(box["token"])
    store.close()
