"""One learner step over 1,000,000 episodes (sample 256 with importance
weights, update their 256 priorities), through the C ABI and through the
Python package, against cpprb's PrioritizedReplayBuffer (a C++ sum tree for
Python) doing the same in the same run. Each side runs RUNS rounds of STEPS
steps, alternating. gmstore's time per step is amortised: the steps plus
writing the priorities they left pending (a flush), over the steps; the
median step alone is printed beside it.

    .venv/bin/python bench/replay_bench.py [--runs 5] [--episodes 1000000]
"""

import argparse
import statistics
import subprocess
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

BATCH, ALPHA, BETA = 256, 0.6, 0.4
LEARNER_STEP = HERE.parent / "target" / "c" / "learner_step"


def fill(path, n):
    with SQLiteStorage(path) as store:
        chunk = 100_000
        for start in range(0, n, chunk):
            store.store_episodes([{"experience_data": b"e", "performance_score": (i % 100) / 100,
                                   "context_hash": "run"} for i in range(start, min(n, start + chunk))])
        # a learner that has trained a while: every episode has a priority
        ids = np.arange(1, n + 1, dtype=np.int64)
        store.set_episode_priorities(ids, 0.01 + (ids * 2654435761 % 1000) / 100.0)


def td_errors(ids, step):
    return ((ids * 2654435761 + step) % 1000) / 100.0 + 1e-3


def python_steps(path, steps, seed):
    """(per-step times, the flush of what they left pending)."""
    times = []
    with SQLiteStorage(path) as store, store.sampler(alpha=ALPHA, seed=seed) as sampler:
        for step in range(-20, steps):
            start = time.perf_counter()
            batch = sampler.sample(BATCH, beta=BETA)
            sampler.update_priorities(batch.ids, batch.generations, td_errors(batch.ids, step))
            if step >= 0:
                times.append(time.perf_counter() - start)
        start = time.perf_counter()
        sampler.flush()
        return times, time.perf_counter() - start


# What a sampler must hold per episode: id, generation and priority (24
# bytes), and the sum/min/max trees over them (n leaves and n - 1 inner
# nodes of three f64: 48 bytes).
THEORY_BYTES_PER_EPISODE = 72


def c_steps(path, steps, seed):
    """(per-step times, the flush of what they left pending, RSS growth as the sampler loaded)."""
    out = subprocess.run([str(LEARNER_STEP), str(path), str(steps), str(seed)], check=True, capture_output=True,
                         text=True).stdout.split("\n")
    tagged = {line.split()[0]: int(line.split()[1]) for line in out if line[:1].isalpha()}
    times = [int(line) * 1e-9 for line in out if line and line[0].isdigit()]
    c_steps.memory.append(tagged["memory"])
    return times, tagged["flush"] * 1e-9


c_steps.memory = []


def cpprb_buffer(n):
    from cpprb import PrioritizedReplayBuffer

    rb = PrioritizedReplayBuffer(n, {"id": {"dtype": np.int64}}, alpha=ALPHA)
    ids = np.arange(1, n + 1, dtype=np.int64)
    chunk = 100_000
    for start in range(0, n, chunk):
        part = ids[start:start + chunk]
        rb.add(id=part, priorities=0.01 + (part * 2654435761 % 1000) / 100.0)
    return rb


def cpprb_steps(rb, steps):
    times = []
    for step in range(-20, steps):
        start = time.perf_counter()
        batch = rb.sample(BATCH, beta=BETA)
        rb.update_priorities(batch["indexes"], td_errors(batch["id"].ravel(), step))
        if step >= 0:
            times.append(time.perf_counter() - start)
    return times


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--episodes", type=int, default=1_000_000)
    ap.add_argument("--steps", type=int, default=200)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "replay.db"
        t = time.perf_counter()
        fill(path, args.episodes)
        print(f"filled {args.episodes:,} episodes in {time.perf_counter() - t:.1f} s")
        rb = cpprb_buffer(args.episodes)
        sides = {"c": [], "python": [], "cpprb": []}
        medians = {"c": [], "python": []}
        for run in range(args.runs):
            for name in (["c", "python", "cpprb"] if run % 2 == 0 else ["cpprb", "python", "c"]):
                time.sleep(0.2)
                if name == "cpprb":
                    sides[name].append(statistics.mean(cpprb_steps(rb, args.steps)))
                    continue
                times, flush = (c_steps if name == "c" else python_steps)(path, args.steps, run)
                sides[name].append((sum(times) + flush) / len(times))
                medians[name].append(statistics.median(times))
    memory = statistics.median(c_steps.memory)
    theory = THEORY_BYTES_PER_EPISODE * args.episodes
    print(f"sampler memory at {args.episodes:,} episodes: {memory / 1e6:.0f} MB (resident growth as it loads, "
          f"median of {len(c_steps.memory)}) vs {theory / 1e6:.0f} MB in theory "
          f"({THEORY_BYTES_PER_EPISODE} bytes per episode): {memory / theory:.2f}x")
    emit({"suite": "replay_memory", "workload": f"sampler memory at {args.episodes:,} episodes",
          "memory_bytes": memory, "theory_bytes": theory, "runs": len(c_steps.memory)})
    base = sides["cpprb"]
    print(f"one learner step (sample {BATCH} + update {BATCH}) over {args.episodes:,} episodes, "
          f"mean per step with the flush of its priorities, median of {args.runs} runs")
    for name, label, target in (("c", "C ABI", 0.25), ("python", "Python package", 0.5)):
        gm = sides[name]
        ratios = [g / b for g, b in zip(gm, base)]
        print(f"  {label}: {statistics.median(gm) * 1e6:.0f} us (median step alone "
              f"{statistics.median(medians[name]) * 1e6:.0f} us) vs cpprb {statistics.median(base) * 1e6:.0f} us: "
              f"ratio {statistics.median(ratios):.3f} (target <= {target})")
        emit({"suite": "replay",
              "workload": f"learner step over {args.episodes:,} episodes (flush of its priorities included), {label}",
              "baseline": "cpprb PrioritizedReplayBuffer (C++ sum tree)", "gm_s": gm, "base_s": base,
              "target": f"<= {target}", "runs": args.runs})


if __name__ == "__main__":
    main()
