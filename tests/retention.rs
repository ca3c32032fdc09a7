//! Retention: after every episode write the store is within its policy
//! (count, bytes, age, top k overall and per context), evictions go in
//! the policy's order and are counted, protected episodes are never
//! evicted nor counted, the policy persists, a dry-run prune changes
//! nothing, a rolled-back transaction keeps what it would have evicted,
//! and writes by raw SQL or the sqlite3 CLI are counted by the database
//! and pruned. Engine-neutral: make test runs it on PostgreSQL too.
mod common;

use gmstore::{Error, EvictionOrder, Evictions, NewEpisode, Protection, RetentionPolicy, SqlValue, Store};

/// Every episode's id, in id order.
fn ids_in(store: &Store) -> Vec<i64> {
    let mut ids: Vec<i64> = store
        .get_recent_episodes(1e12, 1_000_000)
        .unwrap()
        .iter()
        .map(|e| e.id)
        .collect();
    ids.sort_unstable();
    ids
}

fn store_one(store: &Store, score: f64, context: &str) -> i64 {
    store
        .store_episode(&NewEpisode::new(b"payload", score, context))
        .unwrap()
}

fn policy() -> RetentionPolicy {
    RetentionPolicy::default()
}

#[test]
fn a_store_at_its_maximum_evicts_the_oldest_episode_per_insert_and_says_so() {
    let t = common::temp_store();
    let first: Vec<i64> = (0..3).map(|i| store_one(&t.store, i as f64, "a")).collect();
    let at_once = t
        .store
        .set_retention_policy(Some(&RetentionPolicy {
            max_episodes: Some(5),
            ..policy()
        }))
        .unwrap();
    assert_eq!(at_once, Evictions::default());
    let mut kept = first.clone();
    for i in 0..7 {
        let id = store_one(&t.store, i as f64, "a");
        kept.push(id);
        let evicted = t.store.last_evictions();
        if kept.len() > 5 {
            kept.remove(0);
            assert_eq!(evicted.by_count, 1, "insert {i}");
        } else {
            assert_eq!(evicted.total(), 0, "insert {i}");
        }
        assert_eq!(ids_in(&t.store), kept);
    }
    let status = t.store.retention_status().unwrap();
    assert_eq!(status.episodes, 5);
    assert_eq!(status.evicted_total, 5);
    assert_eq!(t.store.get_database_stats().unwrap().episodes_count, 5);
}

#[test]
fn a_batch_larger_than_the_budget_keeps_what_the_order_prefers() {
    let t = common::temp_store();
    t.store
        .set_retention_policy(Some(&RetentionPolicy {
            max_episodes: Some(3),
            order: EvictionOrder::LowestScore,
            ..policy()
        }))
        .unwrap();
    let scores = [0.5, 0.9, 0.1, 0.9, 0.7, 0.1, 0.3, 0.9, 0.2, 0.0];
    let rows: Vec<NewEpisode<'_>> = scores.iter().map(|&s| NewEpisode::new(b"x", s, "b")).collect();
    let ids = t.store.store_episodes(&rows).unwrap();
    assert_eq!(ids.len(), 10, "every episode is stored, then the policy applies");
    assert_eq!(t.store.last_evictions().by_count, 7);
    // The three 0.9s survive; among equal scores the oldest goes first.
    assert_eq!(ids_in(&t.store), vec![ids[1], ids[3], ids[7]]);
    // Ties at the boundary: one more 0.9 evicts the oldest 0.9.
    let newest = store_one(&t.store, 0.9, "b");
    assert_eq!(ids_in(&t.store), vec![ids[3], ids[7], newest]);
}

#[test]
fn lowest_priority_order_evicts_by_priority_and_keeps_unprioritised_episodes_longest() {
    let t = common::temp_store();
    let ids: Vec<i64> = (0..4).map(|i| store_one(&t.store, i as f64, "c")).collect();
    t.store
        .set_episode_priorities(&[(ids[1], 0.5), (ids[2], 0.1), (ids[3], 2.0)])
        .unwrap();
    let evicted = t
        .store
        .set_retention_policy(Some(&RetentionPolicy {
            max_episodes: Some(2),
            order: EvictionOrder::LowestPriority,
            ..policy()
        }))
        .unwrap();
    assert_eq!(evicted.by_count, 2);
    assert_eq!(ids_in(&t.store), vec![ids[0], ids[3]]);
    // Two more without priorities: the prioritised one goes first, then
    // the oldest of those without.
    let e4 = store_one(&t.store, 0.0, "c");
    assert_eq!(ids_in(&t.store), vec![ids[0], e4]);
    let e5 = store_one(&t.store, 0.0, "c");
    assert_eq!(ids_in(&t.store), vec![e4, e5]);
}

#[test]
fn a_byte_budget_evicts_just_enough_oldest_experiences() {
    let t = common::temp_store();
    t.store
        .set_retention_policy(Some(&RetentionPolicy {
            max_experience_bytes: Some(1000),
            ..policy()
        }))
        .unwrap();
    let sizes = [400usize, 300, 200, 100, 350, 1];
    let blobs: Vec<Vec<u8>> = sizes.iter().map(|&n| vec![7u8; n]).collect();
    let mut ids = Vec::new();
    for b in &blobs {
        ids.push(t.store.store_episode(&NewEpisode::new(b, 0.5, "d")).unwrap());
    }
    // 400+300+200+100 = 1000 fits; +350 evicts 400 (950); +1 fits (951).
    assert_eq!(ids_in(&t.store), ids[1..].to_vec());
    let status = t.store.retention_status().unwrap();
    assert_eq!(status.experience_bytes, 951);
    assert_eq!(status.episodes, 5);
    // A single experience over the whole budget is stored, then evicted
    // with everything older (the budget holds after the commit).
    let huge = vec![1u8; 5000];
    let id = t.store.store_episode(&NewEpisode::new(&huge, 0.5, "d")).unwrap();
    assert_eq!(t.store.last_evictions().by_bytes, 6);
    assert!(t.store.retrieve_episode(id).unwrap().is_none());
    assert_eq!(t.store.retention_status().unwrap().experience_bytes, 0);
}

#[test]
fn old_episodes_go_at_the_next_write_and_at_a_prune() {
    let t = common::temp_store();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let at = |age: f64| NewEpisode {
        timestamp: Some(now - age),
        ..NewEpisode::new(b"x", 0.5, "e")
    };
    let old = t.store.store_episode(&at(7200.0)).unwrap();
    let recent = t.store.store_episode(&at(60.0)).unwrap();
    let dry = t
        .store
        .set_retention_policy(Some(&RetentionPolicy {
            max_age_seconds: Some(3600.0),
            ..policy()
        }))
        .unwrap();
    assert_eq!(dry.by_age, 1);
    assert_eq!(ids_in(&t.store), vec![recent]);
    assert!(t.store.retrieve_episode(old).unwrap().is_none());
    // Written by another program, bypassing gmstore: pruned later.
    t.store
        .execute(
            &format!(
                "INSERT INTO episodes(timestamp, experience_data, performance_score, context_hash) \
                 VALUES ({}, ?1, 0.5, 'e')",
                now - 9000.0
            ),
            &[SqlValue::Blob(&[0])],
        )
        .unwrap();
    assert_eq!(t.store.count_episodes().unwrap(), 2);
    let plan = t.store.prune(true).unwrap();
    assert_eq!(plan.evictions.by_age, 1);
    assert_eq!(plan.ids.len(), 1);
    assert_eq!(t.store.count_episodes().unwrap(), 2, "a dry run changes nothing");
    let done = t.store.prune(false).unwrap();
    assert_eq!(done, plan);
    assert_eq!(ids_in(&t.store), vec![recent]);
    assert_eq!(t.store.retention_status().unwrap().evicted_total, 2);
}

#[test]
fn top_k_keeps_the_best_scores_overall_or_per_context() {
    let t = common::temp_store();
    let mut by_ctx = std::collections::HashMap::new();
    for (i, ctx) in ["p", "q", "p", "q", "p", "q", "p"].iter().enumerate() {
        let id = store_one(&t.store, (i % 3) as f64, ctx);
        by_ctx
            .entry(*ctx)
            .or_insert_with(Vec::new)
            .push((id, (i % 3) as f64));
    }
    let evicted = t
        .store
        .set_retention_policy(Some(&RetentionPolicy {
            keep_top_k: Some(2),
            top_k_per_context: true,
            ..policy()
        }))
        .unwrap();
    // p: scores 0,2,1,0 -> keep 2 and 1; q: 1,0,2 -> keep 1 and 2.
    assert_eq!(evicted.by_top_k, 3);
    let kept = ids_in(&t.store);
    let p = &by_ctx["p"];
    let q = &by_ctx["q"];
    assert_eq!(kept, vec![q[0].0, p[1].0, p[2].0, q[2].0]);
    // A new best in p evicts p's worst, q is untouched.
    let best = store_one(&t.store, 5.0, "p");
    assert_eq!(t.store.last_evictions().by_top_k, 1);
    assert_eq!(ids_in(&t.store), vec![q[0].0, p[1].0, q[2].0, best]);
    // Overall: the best two of everything.
    t.store
        .set_retention_policy(Some(&RetentionPolicy {
            keep_top_k: Some(2),
            ..policy()
        }))
        .unwrap();
    assert_eq!(ids_in(&t.store), vec![q[2].0, best]);
}

#[test]
fn protected_episodes_are_never_evicted_nor_counted() {
    let t = common::temp_store();
    t.store
        .set_retention_policy(Some(&RetentionPolicy {
            max_episodes: Some(2),
            protect: Some(Protection {
                key: "demonstration".into(),
                value: "true".into(),
            }),
            ..policy()
        }))
        .unwrap();
    let demo = |meta: &'static str| NewEpisode {
        metadata: Some(meta),
        ..NewEpisode::new(b"x", 0.0, "f")
    };
    let kept_demo = t
        .store
        .store_episode(&demo(r#"{"demonstration": true}"#))
        .unwrap();
    // Near misses: the string "true", 1, a nested key, another key.
    let near: Vec<i64> = [
        r#"{"demonstration": "true"}"#,
        r#"{"demonstration": 1}"#,
        r#"{"x": {"demonstration": true}}"#,
        r#"{"demonstrations": true}"#,
    ]
    .iter()
    .map(|m| t.store.store_episode(&demo(m)).unwrap())
    .collect();
    assert_eq!(ids_in(&t.store), vec![kept_demo, near[2], near[3]]);
    let status = t.store.retention_status().unwrap();
    assert_eq!(status.episodes, 2, "the protected one is outside the budget");
    // Metadata that is not JSON (another program's) counts as unprotected
    // and breaks nothing.
    t.store
        .execute(
            "INSERT INTO episodes(timestamp, experience_data, performance_score, context_hash, metadata) \
             VALUES (1e9, ?1, 0.5, 'f', '{not json')",
            &[SqlValue::Blob(&[0])],
        )
        .unwrap();
    assert_eq!(t.store.retention_status().unwrap().episodes, 3);
    store_one(&t.store, 0.0, "f");
    assert_eq!(t.store.retention_status().unwrap().episodes, 2);
    assert!(t.store.retrieve_episode(kept_demo).unwrap().is_some());
    let more: Vec<i64> = (0..5)
        .map(|_| {
            t.store
                .store_episode(&demo(r#"{"demonstration":true,"n":1}"#))
                .unwrap()
        })
        .collect();
    assert!(more
        .iter()
        .all(|&id| t.store.retrieve_episode(id).unwrap().is_some()));
    assert_eq!(t.store.count_episodes().unwrap(), 8);
}

#[test]
fn the_policy_persists_changes_and_goes() {
    let t = common::temp_store();
    assert_eq!(t.store.retention_policy().unwrap(), None);
    let set = RetentionPolicy {
        max_episodes: Some(10),
        max_experience_bytes: Some(1 << 20),
        max_age_seconds: Some(86400.0),
        keep_top_k: Some(8),
        top_k_per_context: true,
        protect: Some(Protection {
            key: "tag".into(),
            value: " \"demo\" ".into(),
        }),
        order: EvictionOrder::LowestScore,
        eviction_batch: 25,
    };
    t.store.set_retention_policy(Some(&set)).unwrap();
    let path = t.path();
    t.store.close();
    let again = Store::open(gmstore::Options::new(&path)).unwrap();
    let read = again.retention_policy().unwrap().unwrap();
    assert_eq!(
        read.protect.as_ref().unwrap().value,
        "\"demo\"",
        "normalised JSON"
    );
    assert_eq!(
        RetentionPolicy {
            protect: set.protect.clone().map(|p| Protection {
                value: "\"demo\"".into(),
                ..p
            }),
            ..set.clone()
        },
        read
    );
    let stats = again.get_database_stats().unwrap();
    assert_eq!(stats.retention.as_ref(), Some(&read));
    again.set_retention_policy(None).unwrap();
    assert_eq!(again.retention_policy().unwrap(), None);
    for _ in 0..20 {
        store_one(&again, 0.5, "g");
    }
    assert_eq!(again.count_episodes().unwrap(), 20, "no policy: nothing evicted");
    // A policy without any limit is no policy.
    again.set_retention_policy(Some(&policy())).unwrap();
    assert_eq!(again.retention_policy().unwrap(), None);
}

#[test]
fn bad_policies_are_refused_naming_the_field() {
    let t = common::temp_store();
    let cases: Vec<(RetentionPolicy, &str)> = vec![
        (
            RetentionPolicy {
                max_episodes: Some(-1),
                ..policy()
            },
            "max_episodes",
        ),
        (
            RetentionPolicy {
                max_experience_bytes: Some(-5),
                ..policy()
            },
            "max_experience_bytes",
        ),
        (
            RetentionPolicy {
                max_age_seconds: Some(f64::NAN),
                ..policy()
            },
            "max_age_seconds",
        ),
        (
            RetentionPolicy {
                max_age_seconds: Some(-1.0),
                ..policy()
            },
            "max_age_seconds",
        ),
        (
            RetentionPolicy {
                keep_top_k: Some(-2),
                ..policy()
            },
            "keep_top_k",
        ),
        (
            RetentionPolicy {
                max_episodes: Some(1),
                eviction_batch: -1,
                ..policy()
            },
            "eviction_batch",
        ),
        (
            RetentionPolicy {
                top_k_per_context: true,
                max_episodes: Some(1),
                ..policy()
            },
            "top_k_per_context",
        ),
        (protecting("", "true"), "protect.key"),
        (protecting("a\"b", "true"), "protect.key"),
        (protecting("k", "{\"a\":1}"), "protect.value"),
        (protecting("k", "1.5"), "protect.value"),
        (protecting("k", "tru"), "protect.value"),
    ];
    store_one(&t.store, 0.5, "h");
    for (bad, field) in cases {
        match t.store.set_retention_policy(Some(&bad)) {
            Err(Error::InvalidArgument(m)) => assert!(m.contains(field), "{m} should name {field}"),
            other => panic!("{bad:?}: expected InvalidArgument, got {other:?}"),
        }
    }
    assert_eq!(t.store.retention_policy().unwrap(), None);
    assert_eq!(t.store.count_episodes().unwrap(), 1);
}

fn protecting(key: &str, value: &str) -> RetentionPolicy {
    RetentionPolicy {
        max_episodes: Some(1),
        protect: Some(Protection {
            key: key.into(),
            value: value.into(),
        }),
        ..policy()
    }
}

#[test]
fn a_rolled_back_transaction_keeps_what_it_would_have_evicted() {
    let t = common::temp_store();
    let ids: Vec<i64> = (0..3).map(|i| store_one(&t.store, i as f64, "i")).collect();
    t.store
        .set_retention_policy(Some(&RetentionPolicy {
            max_episodes: Some(3),
            ..policy()
        }))
        .unwrap();
    t.store.begin().unwrap();
    store_one(&t.store, 9.0, "i");
    store_one(&t.store, 9.0, "i");
    assert_eq!(
        t.store.count_episodes().unwrap(),
        3,
        "within budget inside the transaction too"
    );
    t.store.rollback().unwrap();
    assert_eq!(ids_in(&t.store), ids);
    let status = t.store.retention_status().unwrap();
    assert_eq!((status.episodes, status.evicted_total), (3, 0));
}

#[test]
fn writes_by_the_sqlite3_cli_are_counted_and_pruned() {
    if common::on_server() {
        return;
    }
    let t = common::temp_store();
    t.store
        .set_retention_policy(Some(&RetentionPolicy {
            max_episodes: Some(4),
            ..policy()
        }))
        .unwrap();
    let out = std::process::Command::new("sqlite3")
        .arg(t.path())
        .arg(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10) \
             INSERT INTO episodes(timestamp, experience_data, performance_score, context_hash) \
             SELECT i, zeroblob(i), 0.5, 'cli' FROM n;",
        )
        .output()
        .expect("the sqlite3 CLI (apt install sqlite3)");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let status = t.store.retention_status().unwrap();
    assert_eq!((status.episodes, status.experience_bytes), (10, 55));
    let pruned = t.store.prune(false).unwrap();
    assert_eq!(pruned.evictions.by_count, 6);
    assert_eq!(pruned.ids, (1..=6).collect::<Vec<i64>>());
    let status = t.store.retention_status().unwrap();
    assert_eq!((status.episodes, status.experience_bytes), (4, 34));
}

#[test]
fn an_eviction_batch_evicts_several_at_once_and_holds_the_cap() {
    let t = common::temp_store();
    t.store
        .set_retention_policy(Some(&RetentionPolicy {
            max_episodes: Some(10),
            eviction_batch: 4,
            ..policy()
        }))
        .unwrap();
    let ids: Vec<i64> = (0..11).map(|i| store_one(&t.store, i as f64, "j")).collect();
    assert_eq!(t.store.last_evictions().by_count, 4);
    assert_eq!(ids_in(&t.store), ids[4..].to_vec());
    let more: Vec<i64> = (0..3).map(|i| store_one(&t.store, i as f64, "j")).collect();
    assert_eq!(t.store.last_evictions().total(), 0);
    assert_eq!(t.store.count_episodes().unwrap(), 10);
    store_one(&t.store, 0.0, "j");
    assert_eq!(t.store.last_evictions().by_count, 4);
    assert_eq!(t.store.count_episodes().unwrap(), 7);
    assert!(ids_in(&t.store).windows(3).any(|w| w == more.as_slice()));
    // Bytes (7 per payload): at least the batch goes, even when one
    // episode would do.
    t.store
        .set_retention_policy(Some(&RetentionPolicy {
            max_experience_bytes: Some(7 * 7),
            eviction_batch: 3,
            ..policy()
        }))
        .unwrap();
    store_one(&t.store, 0.0, "j");
    assert_eq!(t.store.last_evictions().by_bytes, 3);
    assert_eq!(t.store.count_episodes().unwrap(), 5);
}
