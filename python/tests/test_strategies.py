"""strategy_stats and suggest_strategy against float64 references (numpy,
scipy's Student t), with data chosen to break a naive implementation."""

import math
import statistics
import subprocess

import numpy as np
import pytest
from scipy import stats

from gmstore import InvalidArgumentError, SQLiteStorage, SQLiteStorageError, StrategySummary, Suggestion
from gmstore import _native as n


def store_deltas(store, task, strategy, deltas, t0=0.0):
    store.store_learning_events([
        {"task_type": task, "performance_delta": float(d), "strategy_used": strategy, "timestamp": t0 + i}
        for i, d in enumerate(deltas)
    ])


def assert_close(got, want, what):
    assert got == pytest.approx(want, rel=1e-9, abs=0.0), what


def check_against_reference(row: StrategySummary, xs, t0):
    # The statistics module sums exactly (fractions): on near-duplicates
    # numpy's two-pass std is itself 9e-8 off, and gmstore must match the
    # exact value, not numpy's rounding.
    xs = [float(x) for x in xs]
    n_ = len(xs)
    mean = statistics.fmean(xs)
    sd = statistics.stdev(xs)
    se = sd / math.sqrt(n_)
    half = float(stats.t.ppf(0.975, n_ - 1)) * se
    assert row.count == n_
    assert_close(row.mean, mean, "mean")
    assert_close(row.std_dev, sd, "std_dev")
    assert_close(row.std_error, se, "std_error")
    assert_close(row.ci_high, mean + half, "ci_high")
    assert_close(row.ci_low, mean - half, "ci_low")
    assert (row.first_used, row.last_used) == (t0, t0 + n_ - 1)


DATASETS = {
    # the naive Σx² − (Σx)²/n loses every digit of these
    "offset_1e6": lambda rng: 1e6 + rng.normal(0, 1e-3, 5000),
    "offset_1e12_ints": lambda rng: 1e12 + rng.integers(-3, 4, 300).astype(float),
    "near_duplicates": lambda rng: np.r_[np.full(999, 0.1), 0.1 + 1e-12],
    "huge_spread": lambda rng: rng.normal(0, 1e15, 200),
    "two_values": lambda rng: np.array([-7.25, 3.5]),
    "many_events_large_dof": lambda rng: rng.normal(0.3, 2.0, 30000),
    "random": lambda rng: rng.normal(rng.uniform(-1, 1), rng.uniform(0.1, 3), 57),
}


def test_statistics_match_numpy_and_scipy_on_random_and_adversarial_data(store):
    rng = np.random.default_rng(20)
    data = {name: make(rng) for name, make in DATASETS.items()}
    for i, (name, xs) in enumerate(data.items()):
        store_deltas(store, "task", name, xs, t0=1000.0 * i)
    rows = {r.strategy: r for r in store.strategy_stats("task")}
    assert set(rows) == set(data)
    for i, (name, xs) in enumerate(data.items()):
        check_against_reference(rows[name], xs, 1000.0 * i)
    # the default order is get_best_strategies' order
    assert [r.strategy for r in store.strategy_stats("task")] == [s for s, _, _ in store.get_best_strategies("task", 50)]


def test_the_adversarial_data_really_is_adversarial():
    xs = 1e6 + np.random.default_rng(1).normal(0, 1e-3, 5000)
    naive = (np.sum(xs * xs) - np.sum(xs) ** 2 / len(xs)) / (len(xs) - 1)
    assert abs(math.sqrt(max(naive, 0.0)) - statistics.stdev(xs)) / statistics.stdev(xs) > 0.1
    near = np.r_[np.full(999, 0.1), 0.1 + 1e-12]
    assert abs(np.std(near, ddof=1) / statistics.stdev(near) - 1) > 1e-9


def test_window_order_min_count_and_limit(store):
    store_deltas(store, "t", "lucky", [10.0], t0=100.0)
    store_deltas(store, "t", "steady", [1.0, 1.1, 0.9, 1.0, 1.05, 0.95], t0=0.0)
    store_deltas(store, "t", "noisy", [9.0, -6.0, 8.0, -5.0], t0=50.0)
    names = lambda **kw: [r.strategy for r in store.strategy_stats("t", **kw)]  # noqa: E731
    assert names() == ["lucky", "noisy", "steady"]
    assert names(order="lower_bound") == ["steady", "noisy", "lucky"]
    assert names(min_count=2) == ["noisy", "steady"]
    assert names(limit=2) == ["lucky", "noisy"]
    assert names(limit=0) == []
    window = store.strategy_stats("t", since=51.0)
    assert [(r.strategy, r.count) for r in window] == [("lucky", 1), ("noisy", 3)]
    check_against_reference(window[1], [-6.0, 8.0, -5.0], 51.0)
    lucky = window[0]
    assert math.isnan(lucky.std_dev) and lucky.ci_low == -math.inf and lucky.ci_high == math.inf
    assert store.strategy_stats("no such task") == []


def test_events_written_by_the_sqlite3_cli_are_counted(db_path):
    with SQLiteStorage(db_path) as s:
        store_deltas(s, "t", "a", [1.0, 2.0])
    script = "INSERT INTO learning_events (task_type, performance_delta, strategy_used, timestamp) " \
             "VALUES ('t', 3, 'a', 9.5), ('t', 4.5, 'b', 1), ('t', 5.5, 'b', 2);"
    subprocess.run(["sqlite3", str(db_path), script], check=True)
    with SQLiteStorage(db_path) as s:
        rows = {r.strategy: r for r in s.strategy_stats("t")}
    check_against_reference(rows["b"], [4.5, 5.5], 1.0)
    assert rows["a"].count == 3 and rows["a"].mean == 2.0 and rows["a"].last_used == 9.5


def test_bad_arguments_name_the_field(store):
    store_deltas(store, "t", "a", [1.0, 2.0])
    cases = [
        (lambda: store.strategy_stats("t", order="best"), "order"),
        (lambda: store.strategy_stats("t", since=math.nan), "query.since"),
        (lambda: store.strategy_stats("t", min_count=-1), "query.min_count"),
        (lambda: store.strategy_stats("t", limit=-5), "limit"),
        (lambda: store.suggest_strategy("t", method="greedy"), "method"),
        (lambda: store.suggest_strategy("t", prior_mean=math.nan), "options.prior_mean"),
        (lambda: store.suggest_strategy("t", prior_std=-1.0), "options.prior_std"),
        (lambda: store.suggest_strategy("t", exploration=math.inf), "options.exploration"),
        (lambda: store.suggest_strategy("t", candidates=[]), "candidates"),
        (lambda: store.suggest_strategy("t", candidates="abc"), "candidates"),
        (lambda: store.suggest_strategy("t", candidates=["a", "a"]), "candidates[1]"),
        (lambda: store.suggest_strategy("t", candidates=["a", 3]), "candidates[1]"),
        (lambda: store.suggest_strategy("t", seed=-1), "seed"),
    ]
    for call, field in cases:
        with pytest.raises(InvalidArgumentError) as e:
            call()
        assert field in str(e.value), (field, str(e.value))
    with pytest.raises(SQLiteStorageError) as e:
        store.suggest_strategy("unknown")
    assert e.value.code == n.GM_ERR_NOT_FOUND and "unknown" in e.value.message
    assert store.get_database_stats()["learning_events_count"] == 2


def test_candidates_never_tried_and_reproducible_thompson(store):
    store_deltas(store, "t", "a", [1.0, 0.0, 2.0])
    store_deltas(store, "t", "b", [1.1, -0.5, 2.3])
    s = store.suggest_strategy("t", candidates=["a", "fresh"])
    assert (s.strategy, s.count, s.candidate_index, s.score) == ("fresh", 0, 1, math.inf) and math.isnan(s.mean)
    picks = [store.suggest_strategy("t", method="thompson", seed=k) for k in range(40)]
    assert picks == [store.suggest_strategy("t", method="thompson", seed=k) for k in range(40)]
    assert {p.strategy for p in picks} == {"a", "b"}
    assert all(isinstance(p, Suggestion) and p.candidate_index is None for p in picks)
    cold = store.suggest_strategy("new task", method="thompson", candidates=["x", "y"], seed=3)
    assert cold.strategy in ("x", "y") and cold.count == 0


def play(store, choose, first, seed):
    arms, means = ["best", "close", "bad"], [1.0, 0.8, 0.0]
    rng = np.random.default_rng(seed)
    for i, r in enumerate(first):
        store.store_learning_event("bandit", r, arms[i])
    best = 0
    for round_ in range(2000):
        arm = arms.index(choose(round_))
        store.store_learning_event("bandit", means[arm] + rng.normal(), arms[arm])
        best += round_ >= 1500 and arm == 0
    return best / 500


def test_bandits_find_the_best_arm_where_always_best_mean_is_trapped(tmp_path):
    trap = [-2.0, 0.8, 0.0]  # the best arm's first result is unlucky
    results = {}
    rules = {
        "greedy": lambda s: lambda r: s.get_best_strategies("bandit", 1)[0][0],
        "ucb1": lambda s: lambda r: s.suggest_strategy("bandit").strategy,
        "thompson": lambda s: lambda r: s.suggest_strategy("bandit", method="thompson", seed=r).strategy,
    }
    for name, rule in rules.items():
        with SQLiteStorage(tmp_path / f"{name}.db") as s:
            results[name] = play(s, rule(s), trap, seed=5)
    assert results["ucb1"] > 0.8, results
    assert results["thompson"] > 0.8, results
    assert results["greedy"] < 0.5, results
