"""The Python package on a PostgreSQL store against a straightforward
psycopg 3 implementation of the seed's class (bench/psycopg_baseline.py) on
the same server, interleaved, medians of the per-run ratios. make bench runs
it under scripts/pg_throwaway.sh (GMSTORE_TEST_PG).

    .venv/bin/python bench/pg_python_bench.py [--runs 5]
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "python"))

from gmstore import SQLiteStorage  # noqa: E402
from psycopg_baseline import PsycopgStorage  # noqa: E402
from results_file import emit  # noqa: E402

SERVER = os.environ.get("GMSTORE_TEST_PG")


def experience(i):
    return {"observation": np.full(64, i % 7, np.float32), "action": f"move_{i % 4}", "reward": 0.5}


def timed(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def workloads(n_single, n_batch):
    ids = {}

    def store_single(store):
        def run():
            ids[store] = [store.store_episode(experience(i), 0.5, f"ctx_{i % 20}", timestamp=float(i))
                          for i in range(n_single)]
        return run

    def retrieve(store):
        return lambda: [store.retrieve_episode(i) for i in ids[store]]

    def learning(store):
        return lambda: [store.store_learning_event("task", i / 100, "adam", timestamp=float(i))
                        for i in range(n_single)]

    def context_query(store):
        return lambda: [store.get_episodes_by_context(f"ctx_{q}", limit=100) for q in range(20)]

    def batch(store):
        rows = [{"experience_data": experience(i), "performance_score": 0.5, "context_hash": "batch",
                 "timestamp": float(i)} for i in range(n_batch)]
        return lambda: store.store_episodes(rows)

    return [
        (f"store_episode x{n_single:,} (64-float dict), a commit each", store_single, "<= 0.9"),
        (f"retrieve_episode x{n_single:,}", retrieve, "<= 0.9"),
        (f"store_learning_event x{n_single:,}, a commit each", learning, "<= 0.9"),
        ("get_episodes_by_context x20", context_query, "<= 0.9"),
        (f"store_episodes, {n_batch:,} dicts in one call (psycopg: executemany)", batch, "<= 0.2"),
    ]


def main():
    assert SERVER, "GMSTORE_TEST_PG must name a server: run under scripts/pg_throwaway.sh"
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--single", type=int, default=2000)
    ap.add_argument("--batch", type=int, default=10000)
    args = ap.parse_args()
    results = {}
    for run in range(args.runs):
        gm = SQLiteStorage(f"{SERVER} store=pybench_{os.getpid()}_{run}")
        base = PsycopgStorage(SERVER, f"psycopg_{os.getpid()}_{run}")
        sides = [("gmstore", gm), ("psycopg", base)] if run % 2 == 0 else [("psycopg", base), ("gmstore", gm)]
        for label, make, _ in workloads(args.single, args.batch):
            for name, store in sides:
                results.setdefault((label, name), []).append(timed(make(store)))
        gm.close()
        base.close()
    print("| workload | gmstore (ms) | psycopg (ms) | ratio |")
    print("|---|---:|---:|---:|")
    for label, _, target in workloads(args.single, args.batch):
        g, b = results[(label, "gmstore")], results[(label, "psycopg")]
        ratio = statistics.median(x / y for x, y in zip(g, b))
        print(f"| {label} | {statistics.median(g) * 1e3:.1f} | {statistics.median(b) * 1e3:.1f} | {ratio:.3f} |")
        emit({"suite": "postgres", "workload": f"Python: {label}", "baseline": "psycopg 3 + pickle (the seed's class)",
              "gm_s": g, "base_s": b, "target": target, "runs": args.runs})


if __name__ == "__main__":
    main()
