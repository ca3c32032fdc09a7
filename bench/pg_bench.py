"""The Python package on a PostgreSQL store (make bench runs this under
scripts/pg_throwaway.sh, which sets GMSTORE_TEST_PG):

- the first k-NN query after opening a store of 50,000 x 512 concepts
  against the user's way with the seed's code (every concept through
  search_concepts, sqlite3 + pickle, stacked, then numpy): with the k-NN
  snapshot an earlier run of this process left on this machine (then a
  peer's write since is read from the change log), and with none (every
  row from the server);
- writers: the same 6,000 episodes written by 1, 2 and 4 processes at
  once, each through its own handle; the ratio is the wall time against
  one process (below 1: the server takes writes in parallel).

    .venv/bin/python bench/pg_bench.py [--n 50000] [--dim 512] [--runs 5]
"""

import argparse
import multiprocessing
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "python"))

from gmstore import SQLiteStorage  # noqa: E402
from results_file import emit  # noqa: E402
from seed_baseline import SeedSQLiteStorage  # noqa: E402

SERVER = os.environ.get("GMSTORE_TEST_PG")


def numpy_topk(matrix, q, k):
    scores = matrix @ q
    idx = np.argpartition(-scores, k)[:k]
    return idx[np.argsort(-scores[idx])]


def write_share(target, name, count, start):
    with SQLiteStorage(target) as store:
        while time.time() < start:
            time.sleep(0.001)
        for i in range(count):
            store.store_episode(b"x" * 64, 0.5, name, timestamp=float(i))


def writers(target, processes, total):
    start = time.time() + 0.5  # every process connected before the clock starts
    procs = [multiprocessing.Process(target=write_share, args=(target, f"p{p}", total // processes, start))
             for p in range(processes)]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
        assert p.exitcode == 0
    return time.time() - start


def main():
    assert SERVER, "GMSTORE_TEST_PG must name a server: run under scripts/pg_throwaway.sh"
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=50_000)
    ap.add_argument("--dim", type=int, default=512)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--writes", type=int, default=6_000)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    matrix = rng.standard_normal((args.n, args.dim)).astype(np.float32)
    target = f"{SERVER} store=bench_knn_{os.getpid()}"
    with SQLiteStorage(target) as store, store._transaction():
        for i, row in enumerate(matrix):
            store.store_concept(f"concept_{i}", row)
    with tempfile.TemporaryDirectory() as d:
        seed = SeedSQLiteStorage(Path(d) / "seed.db")
        with seed._transaction():
            for i, row in enumerate(matrix):
                seed.store_concept(f"concept_{i}", row)
        snapshot = Path(d) / "knn.snap"
        cold, warm, user_way = [], [], []
        for run in range(args.runs):
            q = matrix[run] + 0.01
            # cold: no snapshot on this machine, every row comes from the server
            snapshot.unlink(missing_ok=True)
            time.sleep(0.3)
            with SQLiteStorage(target, knn_snapshot=snapshot) as fresh:
                t = time.perf_counter()
                fresh.nearest_concepts(q, k=10, metric="dot")
                cold.append(time.perf_counter() - t)
            # another handle (a fleet peer) writes while this process is away
            with SQLiteStorage(target) as peer:
                peer.store_concept(f"peer_{run}", rng.standard_normal(args.dim).astype(np.float32))
            time.sleep(0.3)
            with SQLiteStorage(target, knn_snapshot=snapshot) as fresh:
                t = time.perf_counter()
                fresh.nearest_concepts(q, k=10, metric="dot")
                warm.append(time.perf_counter() - t)
                assert fresh.knn_matrix_source() == "snapshot"
            time.sleep(0.3)
            t = time.perf_counter()
            concepts = seed.search_concepts("", limit=10 ** 9)
            m = np.stack([seed._deserialize_array(c.embedding) for c in concepts]).astype(np.float32)
            numpy_topk(m, q, 10)
            user_way.append(time.perf_counter() - t)
    shape = f"{args.n:,} x {args.dim}"
    rows = [(f"first k-NN query after open on PostgreSQL, {shape}, snapshot on this machine + change log", warm,
             "<= 0.1"),
            (f"first k-NN query after open on PostgreSQL, {shape}, no snapshot (every row from the server)", cold,
             None)]
    for workload, times, target_ratio in rows:
        emit({"suite": "postgres", "workload": workload, "baseline": "load all via seed API (sqlite3 + pickle) + numpy",
              "gm_s": times, "base_s": user_way, "target": target_ratio, "runs": args.runs})
        print(f"{workload}: {np.median(times) * 1e3:.0f} ms vs {np.median(user_way) * 1e3:.0f} ms")

    times = {p: [] for p in (1, 2, 4)}
    for run in range(args.runs):
        for p in (1, 2, 4):
            times[p].append(writers(f"{SERVER} store=bench_writers_{os.getpid()}_{run}_{p}", p, args.writes))
    for p in (2, 4):
        emit({"suite": "postgres", "workload": f"{args.writes:,} single writes by {p} processes at once",
              "baseline": "the same writes by 1 process", "gm_s": times[p], "base_s": times[1], "target": None,
              "runs": args.runs})
    for p in (1, 2, 4):
        rate = args.writes / np.median(times[p])
        print(f"{p} writer process(es): {rate:,.0f} writes/s")
        emit({"suite": "writers", "workload": f"{args.writes:,} single writes by {p} process(es)",
              "processes": p, "writes": args.writes, "gm_s": times[p], "runs": args.runs})


if __name__ == "__main__":
    main()
