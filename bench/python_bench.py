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
    """The issue's small dict: a 64-float array, a string and a float."""
    return {"observation": np.full(64, i % 7, np.float32), "action": f"move_{i % 4}", "reward": 0.5}


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

    def episodes_batch(store):
        """The package's store_episodes; the baseline, which has no batch
        method in the seed's API, runs its per-row loop."""
        rows = [{"experience_data": small_experience(i), "performance_score": 0.5, "context_hash": contexts[i % 20],
                 "timestamp": float(i), "metadata": {"i": i}} for i in range(n_small)]
        if not hasattr(store, "store_episodes"):
            return episodes_in_one_transaction(store)
        return lambda: store.store_episodes(rows)

    def concepts_read_back(store):
        """The seed's own similarity recipe: every concept through
        search_concepts, each embedding through _deserialize_array."""
        def run():
            concepts = store.search_concepts("", limit=n_concepts)
            vectors = [store._deserialize_array(c.embedding) for c in concepts]
            assert len(vectors) == n_concepts // 2 and vectors[0].shape == (512,)
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
        # 10,000 reads (about 150 ms) rather than 2,000: a 30 ms measure
        # moved by 2x with one scheduling hiccup on these machines.
        ids = np.random.default_rng(5).integers(1, n_small + 1, n_small)

        def run():
            for i in ids:
                assert store.retrieve_episode(int(i)) is not None
        return run

    # (label, workload, target: gmstore time / the seed code's time)
    return [
        (f"store_episode, {n_small:,} small dicts, one transaction", episodes_in_one_transaction, 1.0),
        (f"{n_concepts:,} concept upserts, 512-d", concept_upserts, 0.5),
        (f"store_learning_event x{n_events:,}, one transaction", learning_events, 0.9),
        ("1,000-row context query x20", context_queries, 0.7),
        ("best strategies x200", best_strategies, 0.7),
        (f"retrieve_episode by id x{n_small:,}", retrieve_by_id, 1.0),
        (f"search_concepts('', {n_concepts:,}) + _deserialize_array of each", concepts_read_back, 0.7),
        # last, so the rows they add do not change the measures above
        (f"store_episodes, {n_small:,} small dicts in one call (vs the seed's loop)", episodes_batch, 0.5),
        (f"store_learning_events, {n_events:,} in one call (vs the seed's loop)", learning_events_batch, 0.5),
    ]


SETTLE_S = 0.25


def one_run(scale, first_gm):
    results = {}
    with tempfile.TemporaryDirectory() as d:
        sides = [("gmstore", lambda: SQLiteStorage(Path(d) / "gm.db")),
                 ("baseline", lambda: SeedSQLiteStorage(Path(d) / "seed.db"))]
        if not first_gm:
            sides.reverse()
        stores = {name: make() for name, make in sides}
        for label, make, _ in workloads(scale):
            for name, _ in sides:
                results[(label, name)] = timed(make(stores[name]))
                # gmstore copies its write-ahead log into the file on a
                # thread of its own after large commits. That work is not
                # in the call's time (it is the point of the thread), but
                # it must not run during the other side's timing either.
                time.sleep(SETTLE_S)
        for store in stores.values():
            store.close()
    return results


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--scale", type=float, default=1.0)
    args = parser.parse_args()
    runs = [one_run(args.scale, i % 2 == 0) for i in range(args.runs)]
    print(f"Python package vs sqlite3+pickle seed implementation, {args.runs} runs, medians (scale {args.scale})")
    print("| workload | gmstore (ms) | baseline (ms) | ratio (median) | ratio range | target |")
    print("|---|---:|---:|---:|---|---|")
    for label, _, target in workloads(args.scale):
        gm = [r[(label, "gmstore")] for r in runs]
        base = [r[(label, "baseline")] for r in runs]
        ratios = [g / b for g, b in zip(gm, base)]
        ratio = statistics.median(ratios)
        verdict = "-" if target is None else f"<= {target} {'met' if ratio <= target else 'MISSED'}"
        print(f"| {label} | {statistics.median(gm) * 1e3:.1f} | {statistics.median(base) * 1e3:.1f} | "
              f"{ratio:.3f} | {min(ratios):.3f}-{max(ratios):.3f} | {verdict} |")
        emit({"suite": "python", "workload": label, "baseline": "sqlite3 + pickle (the seed's code)",
              "gm_s": gm, "base_s": base, "target": None if target is None else f"<= {target}",
              "runs": args.runs})


if __name__ == "__main__":
    main()
