//! Strategy statistics with uncertainty, ranking, and bandit suggestions.
mod common;

use gmstore::{
    Error, NewLearningEvent, StrategyOrder, StrategyQuery, SuggestMethod, SuggestOptions, Suggestion,
};
use rusqlite::Connection;

/// Two-pass float64 reference: mean, then squared deviations from it.
fn reference(xs: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, var.sqrt())
}

fn close(got: f64, want: f64, what: &str) {
    let scale = want.abs().max(f64::MIN_POSITIVE);
    assert!(((got - want) / scale).abs() <= 1e-9, "{what}: {got} vs {want}");
}

fn store_all(store: &gmstore::Store, task: &str, strategy: &str, deltas: &[f64], t0: f64) {
    let events: Vec<NewLearningEvent<'_>> = deltas
        .iter()
        .enumerate()
        .map(|(i, &d)| NewLearningEvent {
            task_type: task,
            performance_delta: d,
            strategy_used: strategy,
            parameters: None,
            timestamp: Some(t0 + i as f64),
        })
        .collect();
    store.store_learning_events(&events).unwrap();
}

/// A deterministic stream of noise in [-1, 1).
fn noise(seed: u64, n: usize) -> Vec<f64> {
    let mut s = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..n)
        .map(|_| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((s >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
        })
        .collect()
}

#[test]
fn statistics_match_a_two_pass_reference_even_on_a_large_offset() {
    let t = common::temp_store();
    let offset: Vec<f64> = noise(1, 3000).iter().map(|d| 1e6 + d * 1e-3).collect();
    let wide: Vec<f64> = noise(2, 40).iter().map(|d| d * 1e8).collect();
    let tiny: Vec<f64> = noise(3, 7).iter().map(|d| 1e-100 * (1.0 + d)).collect();
    store_all(&t.store, "task", "offset", &offset, 1000.0);
    store_all(&t.store, "task", "wide", &wide, 5000.0);
    store_all(&t.store, "task", "tiny", &tiny, 9000.0);
    let rows = t.store.strategy_stats("task", &StrategyQuery::default()).unwrap();
    assert_eq!(rows.len(), 3);
    for (name, xs, t0) in [
        ("offset", &offset, 1000.0),
        ("wide", &wide, 5000.0),
        ("tiny", &tiny, 9000.0),
    ] {
        let row = rows.iter().find(|r| r.strategy == name).unwrap();
        let (mean, sd) = reference(xs);
        assert_eq!(row.count, xs.len() as i64);
        close(row.mean, mean, "mean");
        close(row.std_dev, sd, "std_dev");
        close(row.std_error, sd / (xs.len() as f64).sqrt(), "std_error");
        assert!(row.ci_low < row.mean && row.mean < row.ci_high);
        assert_eq!((row.first_used, row.last_used), (t0, t0 + xs.len() as f64 - 1.0));
    }
    // The naive sum of squares on the offset data is wrong in its first digit.
    let n = offset.len() as f64;
    let naive =
        (offset.iter().map(|x| x * x).sum::<f64>() - offset.iter().sum::<f64>().powi(2) / n) / (n - 1.0);
    let (_, sd) = reference(&offset);
    assert!(
        (naive.max(0.0).sqrt() - sd).abs() / sd > 0.1,
        "the case must break the naive formula"
    );
}

#[test]
fn confidence_interval_uses_students_t() {
    let t = common::temp_store();
    store_all(&t.store, "task", "s", &[1.0, 2.0, 3.0, 4.0], 0.0);
    let row = &t.store.strategy_stats("task", &StrategyQuery::default()).unwrap()[0];
    // mean 2.5, sd √(5/3), se sd/2, t(0.975, 3) = 3.182446305284263.
    let se = (5.0f64 / 3.0).sqrt() / 2.0;
    close(row.ci_low, 2.5 - 3.182446305284263 * se, "ci_low");
    close(row.ci_high, 2.5 + 3.182446305284263 * se, "ci_high");
}

#[test]
fn single_and_identical_events_have_honest_spreads() {
    let t = common::temp_store();
    store_all(&t.store, "task", "once", &[5.0], 0.0);
    store_all(&t.store, "task", "same", &[2.0, 2.0, 2.0], 0.0);
    let rows = t.store.strategy_stats("task", &StrategyQuery::default()).unwrap();
    let once = rows.iter().find(|r| r.strategy == "once").unwrap();
    assert!(once.std_dev.is_nan() && once.std_error.is_nan());
    assert_eq!((once.ci_low, once.ci_high), (f64::NEG_INFINITY, f64::INFINITY));
    let same = rows.iter().find(|r| r.strategy == "same").unwrap();
    assert_eq!((same.std_dev, same.ci_low, same.ci_high), (0.0, 2.0, 2.0));
}

#[test]
fn ranking_by_lower_bound_min_count_window_and_limit() {
    let t = common::temp_store();
    // "lucky": one great result; "steady": many good ones; "noisy": a
    // high mean with a wide spread.
    store_all(&t.store, "task", "lucky", &[10.0], 100.0);
    store_all(
        &t.store,
        "task",
        "steady",
        &[1.0, 1.1, 0.9, 1.0, 1.05, 0.95, 1.0, 1.0],
        0.0,
    );
    store_all(&t.store, "task", "noisy", &[9.0, -6.0, 8.0, -5.0], 50.0);
    store_all(&t.store, "other", "x", &[100.0], 0.0);
    let names = |q: StrategyQuery| -> Vec<String> {
        t.store
            .strategy_stats("task", &q)
            .unwrap()
            .into_iter()
            .map(|r| r.strategy)
            .collect()
    };
    assert_eq!(names(StrategyQuery::default()), ["lucky", "noisy", "steady"]);
    let by_bound = StrategyQuery {
        order: StrategyOrder::LowerBound,
        ..Default::default()
    };
    assert_eq!(names(by_bound), ["steady", "noisy", "lucky"]);
    assert_eq!(
        names(StrategyQuery {
            min_count: 2,
            ..Default::default()
        }),
        ["noisy", "steady"]
    );
    assert_eq!(
        names(StrategyQuery {
            limit: 1,
            ..Default::default()
        }),
        ["lucky"]
    );
    // Window: only events at or after t = 50 (noisy's and lucky's).
    assert_eq!(
        names(StrategyQuery {
            since: Some(50.0),
            ..Default::default()
        }),
        ["lucky", "noisy"]
    );
    // The mean order is the seed's: get_best_strategies agrees.
    let best: Vec<String> = t
        .store
        .get_best_strategies("task", 10)
        .unwrap()
        .into_iter()
        .map(|s| s.strategy)
        .collect();
    assert_eq!(best, names(StrategyQuery::default()));
    assert!(t
        .store
        .strategy_stats("unknown", &StrategyQuery::default())
        .unwrap()
        .is_empty());
}

#[test]
fn ties_rank_by_name() {
    let t = common::temp_store();
    for name in ["b", "c", "a"] {
        store_all(&t.store, "task", name, &[1.0, 3.0], 0.0);
    }
    for order in [StrategyOrder::Mean, StrategyOrder::LowerBound] {
        let rows = t
            .store
            .strategy_stats(
                "task",
                &StrategyQuery {
                    order,
                    ..Default::default()
                },
            )
            .unwrap();
        assert_eq!(
            rows.iter().map(|r| r.strategy.as_str()).collect::<Vec<_>>(),
            ["a", "b", "c"]
        );
    }
}

#[test]
fn bad_queries_and_options_name_the_field() {
    let t = common::temp_store();
    store_all(&t.store, "task", "s", &[1.0], 0.0);
    let err = |e: Error| e.to_string();
    let q = |q: StrategyQuery| err(t.store.strategy_stats("task", &q).unwrap_err());
    assert!(q(StrategyQuery {
        since: Some(f64::NAN),
        ..Default::default()
    })
    .contains("since"));
    assert!(q(StrategyQuery {
        min_count: -1,
        ..Default::default()
    })
    .contains("min_count"));
    assert!(q(StrategyQuery {
        limit: -1,
        ..Default::default()
    })
    .contains("limit"));
    let s = |o: SuggestOptions<'_>| t.store.suggest_strategy("task", &o).unwrap_err();
    let e = s(SuggestOptions {
        prior_mean: Some(f64::NAN),
        ..Default::default()
    });
    assert!(matches!(e, Error::InvalidArgument(_)) && err(e).contains("prior_mean"));
    assert!(err(s(SuggestOptions {
        prior_std: Some(0.0),
        ..Default::default()
    }))
    .contains("prior_std"));
    assert!(err(s(SuggestOptions {
        exploration: f64::INFINITY,
        ..Default::default()
    }))
    .contains("exploration"));
    let e = s(SuggestOptions {
        candidates: Some(&[]),
        ..Default::default()
    });
    assert!(matches!(e, Error::InvalidArgument(_)) && err(e).contains("candidates"));
    assert!(err(s(SuggestOptions {
        candidates: Some(&["a", ""]),
        ..Default::default()
    }))
    .contains("candidates[1]"));
    assert!(err(s(SuggestOptions {
        candidates: Some(&["a", "b", "a"]),
        ..Default::default()
    }))
    .contains("candidates[2]"));
    let e = t
        .store
        .suggest_strategy("unknown", &SuggestOptions::default())
        .unwrap_err();
    assert!(matches!(e, Error::NotFound(_)) && err(e).contains("unknown"));
}

#[test]
fn candidates_never_tried_come_first_for_ucb_and_use_the_prior_for_thompson() {
    let t = common::temp_store();
    store_all(&t.store, "task", "known", &[1.0, 2.0, 3.0], 0.0);
    let candidates = ["known", "fresh", "other"];
    let ucb = t
        .store
        .suggest_strategy(
            "task",
            &SuggestOptions {
                candidates: Some(&candidates),
                ..Default::default()
            },
        )
        .unwrap();
    let Suggestion {
        strategy,
        score,
        count,
        mean,
        candidate_index,
    } = ucb;
    assert_eq!(
        (strategy.as_str(), score, count, candidate_index),
        ("fresh", f64::INFINITY, 0, 1)
    );
    assert!(mean.is_nan());
    // A prior far above what "known" achieves makes Thompson pick an untried one.
    let thompson = SuggestOptions {
        method: SuggestMethod::Thompson,
        candidates: Some(&candidates),
        prior_mean: Some(100.0),
        prior_std: Some(1.0),
        ..Default::default()
    };
    let pick = t.store.suggest_strategy("task", &thompson).unwrap();
    assert!(pick.strategy == "fresh" || pick.strategy == "other", "{pick:?}");
    // An unknown task with candidates is a cold start, not an error.
    let cold = t.store.suggest_strategy("new task", &thompson).unwrap();
    assert_eq!(cold.count, 0);
}

#[test]
fn thompson_is_reproducible_from_its_seed() {
    let t = common::temp_store();
    store_all(&t.store, "task", "a", &[1.0, 0.0, 2.0], 0.0);
    store_all(&t.store, "task", "b", &[1.1, -0.5, 2.3], 0.0);
    let pick = |seed| {
        let o = SuggestOptions {
            method: SuggestMethod::Thompson,
            seed,
            ..Default::default()
        };
        t.store.suggest_strategy("task", &o).unwrap()
    };
    for seed in 0..20 {
        assert_eq!(pick(seed), pick(seed));
    }
    let picks: std::collections::HashSet<String> = (0..50).map(|s| pick(s).strategy).collect();
    assert_eq!(picks.len(), 2, "two close arms: different seeds must pick both");
}

/// Plays `rounds` of a 3-armed bandit with Gaussian rewards through the
/// store; `choose` picks an arm index each round. Returns how often the
/// best arm (index 0) was picked in the last 500 rounds.
fn play(choose: &mut dyn FnMut(&gmstore::Store, u64) -> usize, seed: u64, first: &[f64]) -> f64 {
    let t = common::temp_store();
    let arms = ["best", "close", "bad"];
    let means = [1.0, 0.8, 0.0];
    let rewards = noise(seed, 4000);
    // Fixed first results, one per arm (the trap is set here).
    for (i, r) in first.iter().enumerate() {
        t.store
            .store_learning_event("bandit", *r, arms[i], None, Some(i as f64))
            .unwrap();
    }
    let mut best = 0;
    for round in 0..2000u64 {
        let arm = choose(&t.store, round);
        // Uniform noise with the spread of a unit normal (√3 · U[-1, 1)).
        let r = means[arm] + 3f64.sqrt() * rewards[round as usize * 2];
        t.store
            .store_learning_event("bandit", r, arms[arm], None, Some(10.0 + round as f64))
            .unwrap();
        if round >= 1500 && arm == 0 {
            best += 1;
        }
    }
    best as f64 / 500.0
}

fn index_of(name: &str) -> usize {
    ["best", "close", "bad"].iter().position(|a| *a == name).unwrap()
}

#[test]
fn ucb1_and_thompson_find_the_best_arm_where_the_best_mean_gets_trapped() {
    // The best arm's first result is unlucky: the greedy rule never tries it again.
    let trap = [-2.0, 0.8, 0.0];
    let mut greedy =
        |s: &gmstore::Store, _| index_of(&s.get_best_strategies("bandit", 1).unwrap()[0].strategy);
    let mut ucb = |s: &gmstore::Store, _| {
        index_of(
            &s.suggest_strategy("bandit", &SuggestOptions::default())
                .unwrap()
                .strategy,
        )
    };
    let mut thompson = |s: &gmstore::Store, round| {
        let o = SuggestOptions {
            method: SuggestMethod::Thompson,
            seed: round,
            ..Default::default()
        };
        index_of(&s.suggest_strategy("bandit", &o).unwrap().strategy)
    };
    let g = play(&mut greedy, 7, &trap);
    let u = play(&mut ucb, 7, &trap);
    let th = play(&mut thompson, 7, &trap);
    assert!(u > 0.8, "UCB1 picked the best arm {u} of the last 500 rounds");
    assert!(
        th > 0.8,
        "Thompson picked the best arm {th} of the last 500 rounds"
    );
    assert!(g < 0.5, "the greedy rule should stay trapped, picked best {g}");
    eprintln!("best arm in the last 500 rounds: greedy {g}, UCB1 {u}, Thompson {th}");
}

#[test]
fn the_stats_query_reads_only_the_covering_index() {
    if common::on_server() {
        return; // about the SQLite file itself: its bytes, the sqlite3 CLI, the query plan
    }
    let t = common::temp_store();
    store_all(&t.store, "task", "s", &[1.0, 2.0], 0.0);
    let conn = Connection::open(t.path()).unwrap();
    let plan: Vec<String> = conn
        .prepare(
            "EXPLAIN QUERY PLAN SELECT strategy_used, count(performance_delta), min(timestamp), max(timestamp) \
             FROM learning_events WHERE task_type = 'task' AND timestamp >= 0 GROUP BY strategy_used",
        )
        .unwrap()
        .query_map([], |r| r.get::<_, String>(3))
        .unwrap()
        .map(|r| r.unwrap())
        .collect();
    assert!(
        plan.iter()
            .any(|p| p.contains("COVERING INDEX idx_learning_events_task_strategy_at")),
        "{plan:?}"
    );
    assert!(!plan.iter().any(|p| p.contains("TEMP B-TREE")), "{plan:?}");
}

#[test]
fn deltas_written_by_another_program_are_read_or_refused_clearly() {
    if common::on_server() {
        return; // about the SQLite file itself: its bytes, the sqlite3 CLI, the query plan
    }
    let t = common::temp_store();
    store_all(&t.store, "task", "s", &[1.5], 0.0);
    let conn = Connection::open(t.path()).unwrap();
    // An integer delta (another driver's) counts as a number.
    conn.execute(
        "INSERT INTO learning_events (task_type, performance_delta, strategy_used, timestamp) VALUES ('task', 2, 's', 1)",
        [],
    )
    .unwrap();
    let row = &t.store.strategy_stats("task", &StrategyQuery::default()).unwrap()[0];
    assert_eq!((row.count, row.mean), (2, 1.75));
    // Text that is no number is refused, not averaged as 0 as avg() would.
    conn.execute(
        "INSERT INTO learning_events (task_type, performance_delta, strategy_used, timestamp) VALUES ('task', 'abc', 's', 2)",
        [],
    )
    .unwrap();
    let err = t
        .store
        .strategy_stats("task", &StrategyQuery::default())
        .unwrap_err();
    assert!(err.to_string().contains("performance_delta"), "{err}");
    assert_eq!(t.store.count_learning_events().unwrap(), 3);
}
