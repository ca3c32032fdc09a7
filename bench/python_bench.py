"""The Python package against the straightforward sqlite3 + pickle
implementation of the seed (bench/seed_baseline.py), same workload, same
run. Each measure runs RUNS times on fresh files, alternating which side
goes first; prints medians and the median of the per-run ratios.

    .venv/bin/python bench/python_bench.py [--runs 5] [--scale 1.0]
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


def small_experience(i):
    return {"observation": np.full(16, i % 7, np.float32), "action": i % 4, "reward": 0.5}


def timed(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def workloads(scale):
    n_small = int(10_000 * scale)
    n_concepts = int(50_000 * scale)
    n_events = int(100_000 * scale)
    contexts = [f"ctx_{c}" for c in range(20)]
    rng = np.random.default_rng(3)
    embeddings = rng.random((min(n_concepts, 5000), 512))

    def episodes_in_one_transaction(store):
        def run():
            with store._transaction():
                for i in range(n_small):
                    store.store_episode(small_experience(i), 0.5, contexts[i % 20], timestamp=float(i),
                                        metadata={"i": i})
        return run

    def concept_upserts(store):
        def run():
            with store._transaction():
                for i in range(n_concepts):
                    store.store_concept(f"concept_{i % (n_concepts // 2)}", embeddings[i % len(embeddings)])
        return run

    def learning_events(store):
        def run():
            with store._transaction():
                for i in range(n_events):
                    store.store_learning_event(f"task_{i % 10}", (i % 100) / 100, f"strategy_{(i // 10) % 8}",
                                               timestamp=float(i))
        return run

    def learning_events_batch(store):
        """The package's batch call where it exists; the baseline, which has
        no batch method in the seed's API, runs its per-row loop."""
        events = [{"task_type": f"task_{i % 10}", "performance_delta": (i % 100) / 100,
                   "strategy_used": f"strategy_{(i // 10) % 8}", "timestamp": float(i)} for i in range(n_events)]
        if not hasattr(store, "store_learning_events"):
            return learning_events(store)
        return lambda: store.store_learning_events(events)

    def context_queries(store):
        def run():
            for q in range(20):
                assert len(store.get_episodes_by_context(contexts[q % 20], limit=1000)) == min(1000, n_small // 20)
        return run

    def best_strategies(store):
        def run():
            for q in range(200):
                assert len(store.get_best_strategies(f"task_{q % 10}", limit=5)) == 5
        return run

    def retrieve_by_id(store):
        ids = np.random.default_rng(5).integers(1, n_small + 1, 2000)

        def run():
            for i in ids:
                assert store.retrieve_episode(int(i)) is not None
        return run

    return [
        ("write", f"{n_small:,} small episodes, one transaction", episodes_in_one_transaction),
        ("write", f"{n_concepts:,} concept upserts, 512-d", concept_upserts),
        ("write", f"{n_events:,} learning events", learning_events),
        ("query", "1,000-row context query x20", context_queries),
        ("query", "best strategies x200", best_strategies),
        ("query", "retrieve by id x2,000", retrieve_by_id),
        # last, so the events it adds do not change the measures above
        ("extra", f"{n_events:,} learning events, one store_learning_events call (vs the seed's loop)",
         learning_events_batch),
    ]


def one_run(scale, first_gm):
    results = {}
    with tempfile.TemporaryDirectory() as d:
        sides = [("gmstore", lambda: SQLiteStorage(Path(d) / "gm.db")),
                 ("baseline", lambda: SeedSQLiteStorage(Path(d) / "seed.db"))]
        if not first_gm:
            sides.reverse()
        stores = {name: make() for name, make in sides}
        for kind, label, make in workloads(scale):
            for name, _ in sides:
                results[(label, name)] = timed(make(stores[name]))
        for store in stores.values():
            store.close()
    return results


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--scale", type=float, default=1.0)
    args = parser.parse_args()
    runs = [one_run(args.scale, i % 2 == 0) for i in range(args.runs)]
    # "extra" measures an API the seed does not have: reported, no target.
    targets = {"write": 0.5, "query": 0.7, "extra": None}
    print(f"Python package vs sqlite3+pickle seed implementation, {args.runs} runs, medians (scale {args.scale})")
    print("| workload | gmstore (ms) | baseline (ms) | ratio (median) | ratio range | target |")
    print("|---|---:|---:|---:|---|---|")
    for kind, label, _ in workloads(args.scale):
        gm = [r[(label, "gmstore")] for r in runs]
        base = [r[(label, "baseline")] for r in runs]
        ratios = [g / b for g, b in zip(gm, base)]
        ratio = statistics.median(ratios)
        target = targets[kind]
        verdict = "-" if target is None else f"<= {target} {'met' if ratio <= target else 'MISSED'}"
        print(f"| {label} | {statistics.median(gm) * 1e3:.1f} | {statistics.median(base) * 1e3:.1f} | "
              f"{ratio:.3f} | {min(ratios):.3f}-{max(ratios):.3f} | {verdict} |")
        emit({"suite": "python", "workload": label, "baseline": "sqlite3 + pickle (the seed's code)",
              "gm_s": gm, "base_s": base, "target": None if target is None else f"<= {target}",
              "runs": args.runs})


if __name__ == "__main__":
    main()
