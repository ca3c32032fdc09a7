"""k-NN through the Python package against numpy on the same data, same run.

- single query: gmstore.nearest_concepts vs numpy `M @ q` + argpartition over
  the same cached float32 matrix;
- 100 batched queries: nearest_concepts_batch vs numpy `Q @ M.T` + argpartition;
- first query after opening (cache build included) vs the user's way: load
  every concept through the seed API (sqlite3 + pickle), stack, then numpy;
- the similarity graph for 20,000 concepts at threshold 0.8, one call.

    .venv/bin/python bench/knn_bench.py [--n 50000] [--dim 512] [--runs 5]
"""

import argparse
import statistics
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


def timed(fn):
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def numpy_topk(matrix, q, k):
    scores = matrix @ q
    idx = np.argpartition(-scores, k)[:k]
    return idx[np.argsort(-scores[idx])]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=50_000)
    ap.add_argument("--dim", type=int, default=512)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--graph-n", type=int, default=20_000)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    matrix = rng.standard_normal((args.n, args.dim)).astype(np.float32)
    rows = []
    with tempfile.TemporaryDirectory() as d:
        gm_path, seed_path = Path(d) / "gm.db", Path(d) / "seed.db"
        with SQLiteStorage(gm_path) as store, store._transaction():
            for i, row in enumerate(matrix):
                store.store_concept(f"concept_{i}", row)
        seed = SeedSQLiteStorage(seed_path)
        with seed._transaction():
            for i, row in enumerate(matrix):
                seed.store_concept(f"concept_{i}", row)

        queries = rng.standard_normal((100, args.dim)).astype(np.float32)
        first, user_way = [], []
        for run in range(args.runs):
            q = queries[run]
            time.sleep(0.3)  # let numpy's BLAS threads stop spinning (see below)
            with SQLiteStorage(gm_path) as fresh:
                first.append(timed(lambda: fresh.nearest_concepts(q, k=10, metric="dot"))[0])

            def users_way():
                concepts = seed.search_concepts("", limit=10 ** 9)
                m = np.stack([seed._deserialize_array(c.embedding) for c in concepts]).astype(np.float32)
                return numpy_topk(m, q, 10)
            time.sleep(0.3)
            user_way.append(timed(users_way)[0])
        rows.append(("first query after open (cache build included)", first, user_way,
                     "load all via seed API + numpy", "<= 0.05", lambda r: r <= 0.05))

        store = SQLiteStorage(gm_path)
        store.nearest_concepts(queries[0], k=10, metric="dot")  # build the cache
        single_gm, single_np = [], []
        # not interleaved: numpy's BLAS threads keep spinning for a while
        # after each call and would compete with gmstore's scan threads
        for run in range(args.runs):
            single_gm += [timed(lambda: store.nearest_concepts(q, k=10, metric="dot"))[0] for q in queries[:20]]
            time.sleep(0.2)
            single_np += [timed(lambda: numpy_topk(matrix, q, 10))[0] for q in queries[:20]]
            time.sleep(0.2)
        rows.append(("single query, k=10", single_gm, single_np, "numpy M @ q + argpartition", "<= 1.2",
                     lambda r: r <= 1.2))

        batch_gm, batch_np = [], []
        for run in range(args.runs):
            time.sleep(0.2)
            batch_gm.append(timed(lambda: store.nearest_concepts_batch(queries, k=10, metric="dot"))[0])
            time.sleep(0.2)

            def numpy_batch():
                scores = queries @ matrix.T
                idx = np.argpartition(-scores, 10, axis=1)[:, :10]
                return np.take_along_axis(idx, np.argsort(-np.take_along_axis(scores, idx, axis=1), axis=1), axis=1)
            batch_np.append(timed(numpy_batch)[0])
        rows.append(("100 batched queries, k=10", batch_gm, batch_np, "numpy Q @ M.T + argpartition", "<= 1.5",
                     lambda r: r <= 1.5))
        store.close()

        graph_path = Path(d) / "graph.db"
        # Clusters of ten around random centres: each concept has about nine
        # neighbours above 0.8, so the graph has edges to write.
        centres = rng.standard_normal((args.graph_n // 10, args.dim)).astype(np.float32)
        centres /= np.linalg.norm(centres, axis=1, keepdims=True)
        noise = rng.standard_normal((args.graph_n, args.dim)).astype(np.float32) * (0.4 / np.sqrt(args.dim))
        clustered = centres[np.arange(args.graph_n) % len(centres)] + noise
        with SQLiteStorage(graph_path) as g:
            with g._transaction():
                for i, row in enumerate(clustered):
                    g.store_concept(f"c{i}", row)
            g.nearest_concepts(matrix[0], k=1)
            graph_time, edges = timed(lambda: g.build_similarity_graph(threshold=0.8))

    print(f"k-NN: {args.n:,} x {args.dim} float32, {args.runs} runs, medians; gmstore vs baseline in the same run")
    print("| workload | gmstore (ms) | baseline (ms) | baseline | ratio (median) | target |")
    print("|---|---:|---:|---|---:|---|")
    for label, gm, base, what, target, ok in rows:
        ratio = statistics.median(gm) / statistics.median(base)
        print(f"| {label} | {statistics.median(gm) * 1e3:.2f} | {statistics.median(base) * 1e3:.2f} | {what} | "
              f"{ratio:.3f} | {target} {'met' if ok(ratio) else 'MISSED'} |")
        emit({"suite": "knn", "workload": f"{label}, {args.n:,} x {args.dim}", "baseline": what,
              "gm_s": gm, "base_s": base, "target": target, "runs": args.runs})
    print(f"| similarity graph, {args.graph_n:,} concepts, threshold 0.8 | {graph_time * 1e3:.0f} | - | "
          f"one call, {edges} edges | - | - |")
    emit({"suite": "knn", "workload": f"similarity graph, {args.graph_n:,} x {args.dim}, threshold 0.8",
          "gm_s": [graph_time], "edges": edges})


if __name__ == "__main__":
    main()
