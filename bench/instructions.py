"""Instructions per row of the Python package and of the seed's sqlite3 +
pickle code, counted by callgrind: repeatable where wall time on these
machines moves by 2x. Each workload runs in a child under valgrind twice,
preparing the same N rows of input (and the same stored rows it reads), once
doing the work and once not; the difference over N is the cost of one row
(set-up, input creation, imports and start-up cancel out).

    .venv/bin/python bench/instructions.py [--rows 2000] [workload ...]
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "python"))


def small_experience(i):
    return {"observation": np.full(64, i % 7, np.float32), "action": f"move_{i % 4}", "reward": 0.5}


def episode_rows(n):
    return [{"experience_data": small_experience(i), "performance_score": 0.5, "context_hash": f"ctx_{i % 20}",
             "timestamp": float(i), "metadata": {"i": i}} for i in range(n)]


def event_rows(n):
    return [{"task_type": f"task_{i % 10}", "performance_delta": (i % 100) / 100,
             "strategy_used": f"strategy_{(i // 10) % 8}", "timestamp": float(i)} for i in range(n)]


# Each workload prepares its inputs (and any rows it reads) in both runs and
# does the measured work only when `measure` is true.

def _store_each_episode(store, rows):
    with store._transaction():
        for r in rows:
            store.store_episode(r["experience_data"], r["performance_score"], r["context_hash"],
                                timestamp=r["timestamp"], metadata=r["metadata"])


def store_episode(store, n, measure):
    rows = episode_rows(n)
    if measure:
        _store_each_episode(store, rows)


def store_episodes(store, n, measure):
    rows = episode_rows(n)
    if measure:
        store.store_episodes(rows) if hasattr(store, "store_episodes") else _store_each_episode(store, rows)


def retrieve_episode(store, n, measure):
    _store_each_episode(store, episode_rows(2000))
    ids = [(i * 7919) % 2000 + 1 for i in range(n)]
    if measure:
        for i in ids:
            store.retrieve_episode(i)


def _store_each_event(store, rows):
    with store._transaction():
        for e in rows:
            store.store_learning_event(e["task_type"], e["performance_delta"], e["strategy_used"],
                                       timestamp=e["timestamp"])


def store_learning_event(store, n, measure):
    rows = event_rows(n)
    if measure:
        _store_each_event(store, rows)


def store_learning_events(store, n, measure):
    rows = event_rows(n)
    if measure:
        store.store_learning_events(rows) if hasattr(store, "store_learning_events") else _store_each_event(store, rows)


def search_concepts(store, n, measure):
    """Per concept read back (search_concepts + _deserialize_array of each)."""
    vectors = np.random.default_rng(1).random((n, 512))
    with store._transaction():
        for i in range(n):
            store.store_concept(f"concept_{i}", vectors[i])
    if measure:
        [store._deserialize_array(c.embedding) for c in store.search_concepts("", limit=n)]


WORKLOADS = [store_episode, retrieve_episode, store_learning_event, search_concepts, store_episodes,
             store_learning_events]


def child(workload, side, n, phase):
    from gmstore import SQLiteStorage
    from seed_baseline import SeedSQLiteStorage

    with tempfile.TemporaryDirectory() as d:
        store = (SQLiteStorage if side == "gmstore" else SeedSQLiteStorage)(Path(d) / "x.db")
        globals()[workload](store, n, phase == "count")
        store.close()


def count(workload, side, n, phase):
    """Instructions of one child run (callgrind's total)."""
    with tempfile.TemporaryDirectory() as d:
        out = subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={d}/cg.out",
                              sys.executable, __file__, "--child", workload, side, str(n), phase],
                             capture_output=True, text=True, check=True,
                             env={**os.environ, "PYTHONHASHSEED": "0"}).stderr
    return int(re.search(r"refs:\s+([\d,]+)", out).group(1).replace(",", ""))


def per_row(workload, side, n):
    return (count(workload, side, n, "count") - count(workload, side, n, "skip")) / n


def main():
    if sys.argv[1:2] == ["--child"]:
        child(sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5])
        return
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("workloads", nargs="*", default=[w.__name__ for w in WORKLOADS])
    args = parser.parse_args()
    print("| per row (callgrind) | seed code | gmstore | ratio |")
    print("|---|---:|---:|---:|")
    for name in args.workloads:
        seed, gm = (per_row(name, side, args.rows) for side in ("seed", "gmstore"))
        print(f"| {name} | {seed / 1e3:.1f} k | {gm / 1e3:.1f} k | {gm / seed:.2f} |", flush=True)


if __name__ == "__main__":
    main()
