//! Replay sampling through the store: priorities persist and survive a
//! reopen, updates for episodes deleted or replaced since they were drawn
//! are reported and not applied, a sampler follows what another handle
//! (or the sqlite3 CLI) inserts, deletes and re-prioritises, and its draws
//! match the distribution it promises. Engine-neutral: make test runs it
//! on PostgreSQL too (which reloads where SQLite follows its change log).
mod common;

use std::collections::HashMap;

use gmstore::{NewEpisode, Options, PriorityUpdate, SamplerConfig, Store, Weighting};

fn store_n(store: &Store, n: usize, context: &str) -> Vec<i64> {
    let rows: Vec<NewEpisode<'_>> = (0..n)
        .map(|i| NewEpisode::new(b"x", i as f64 / n as f64, context))
        .collect();
    store.store_episodes(&rows).unwrap()
}

fn prioritized(alpha: f64, seed: u64) -> SamplerConfig {
    SamplerConfig {
        weighting: Weighting::Prioritized { alpha },
        seed,
        ..SamplerConfig::default()
    }
}

/// How often each id comes up in `draws` draws with replacement.
fn frequencies(store: &Store, config: SamplerConfig, draws: usize) -> HashMap<i64, usize> {
    let mut sampler = store.sampler(config).unwrap();
    let batch = sampler.sample(store, draws, 0.0, true).unwrap();
    let mut counts = HashMap::new();
    for s in batch.samples {
        *counts.entry(s.id).or_insert(0) += 1;
    }
    counts
}

#[test]
fn priorities_given_by_a_learner_persist_across_a_reopen() {
    let t = common::temp_store();
    let ids = store_n(&t.store, 4, "ctx");
    let mut sampler = t.store.sampler(prioritized(1.0, 1)).unwrap();
    let batch = sampler.sample(&t.store, 4, 0.0, false).unwrap();
    assert_eq!(batch.table_size, 4);
    let generation_of: HashMap<i64, i64> = batch.samples.iter().map(|s| (s.id, s.generation)).collect();
    // Only ids[0] keeps a share: the other three go to priority 0.
    let updates: Vec<PriorityUpdate> = ids
        .iter()
        .map(|&id| PriorityUpdate {
            id,
            generation: generation_of[&id],
            priority: if id == ids[0] { 2.5 } else { 0.0 },
        })
        .collect();
    assert!(sampler.update_priorities(&t.store, &updates).unwrap().is_empty());
    assert_eq!(sampler.pending_updates(), 4);
    assert_eq!(sampler.flush(&t.store).unwrap(), 4);
    drop(sampler);
    let path = t.path();
    t.store.close();
    let reopened = Store::open(Options::new(&path)).unwrap();
    let counts = frequencies(&reopened, prioritized(1.0, 2), 500);
    assert_eq!(counts.get(&ids[0]), Some(&500), "{counts:?}");
}

#[test]
fn updates_for_deleted_or_replaced_episodes_are_reported_and_not_applied() {
    let t = common::temp_store();
    let ids = store_n(&t.store, 3, "ctx");
    let mut sampler = t.store.sampler(prioritized(1.0, 3)).unwrap();
    let drawn = sampler.sample(&t.store, 3, 0.0, false).unwrap().samples;
    let gen = |id: i64| drawn.iter().find(|s| s.id == id).unwrap().generation;
    // Another writer deletes ids[1] after the draw.
    t.store
        .execute(
            "DELETE FROM episodes WHERE id = ?1",
            &[gmstore::SqlValue::Integer(ids[1])],
        )
        .unwrap();
    let updates = [
        PriorityUpdate {
            id: ids[0],
            generation: gen(ids[0]),
            priority: 1.0,
        },
        PriorityUpdate {
            id: ids[1],
            generation: gen(ids[1]),
            priority: 9.0,
        },
        // A generation that is not the one drawn: as if the id now named
        // another episode.
        PriorityUpdate {
            id: ids[2],
            generation: gen(ids[2]) ^ 1,
            priority: 9.0,
        },
        PriorityUpdate {
            id: 1_000_000,
            generation: 0,
            priority: 9.0,
        },
    ];
    let stale = sampler.update_priorities(&t.store, &updates).unwrap();
    assert_eq!(stale, vec![1, 2, 3]);
    sampler.flush(&t.store).unwrap();
    let after = sampler.sample(&t.store, 2, 0.0, false).unwrap();
    assert_eq!(after.table_size, 2);
    assert!(after.samples.iter().all(|s| s.id != ids[1]));
}

#[test]
fn a_sampler_follows_another_handles_inserts_deletes_and_priorities() {
    let t = common::temp_store();
    let first = store_n(&t.store, 50, "ctx");
    let other = Store::open(Options::new(t.path())).unwrap();
    let mut sampler = t.store.sampler(prioritized(1.0, 4)).unwrap();
    assert_eq!(sampler.sample(&t.store, 1, 0.0, true).unwrap().table_size, 50);
    let added = store_n(&other, 10, "ctx");
    other
        .execute(
            "DELETE FROM episodes WHERE id <= ?1",
            &[gmstore::SqlValue::Integer(first[39])],
        )
        .unwrap();
    // Every episode but one goes to priority 0, set by the other handle.
    let zeroed: Vec<(i64, f64)> = first[40..]
        .iter()
        .chain(&added[1..])
        .map(|&id| (id, 0.0))
        .collect();
    assert_eq!(other.set_episode_priorities(&zeroed).unwrap(), zeroed.len());
    let batch = sampler.sample(&t.store, 200, 0.0, true).unwrap();
    assert_eq!(batch.table_size, 20);
    assert!(
        batch.samples.iter().all(|s| s.id == added[0]),
        "only the unzeroed new episode"
    );
    assert_eq!(batch.samples[0].probability, 1.0);
}

#[test]
fn draws_follow_priority_to_the_alpha_within_the_scope() {
    let t = common::temp_store();
    let ids = store_n(&t.store, 6, "a");
    let outside = store_n(&t.store, 6, "b");
    let priorities: Vec<(i64, f64)> = ids
        .iter()
        .zip([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
        .map(|(&i, p)| (i, p))
        .collect();
    t.store.set_episode_priorities(&priorities).unwrap();
    let alpha = 0.7;
    let config = SamplerConfig {
        context: Some("a".into()),
        ..prioritized(alpha, 11)
    };
    let draws = 120_000;
    let counts = frequencies(&t.store, config, draws);
    assert!(outside.iter().all(|id| !counts.contains_key(id)));
    let total: f64 = priorities.iter().map(|(_, p)| p.powf(alpha)).sum();
    // Within 5 standard deviations of the binomial count, per episode.
    for (id, p) in priorities {
        let expected = draws as f64 * p.powf(alpha) / total;
        let sd = (expected * (1.0 - p.powf(alpha) / total)).sqrt();
        let got = counts[&id] as f64;
        assert!(
            (got - expected).abs() < 5.0 * sd,
            "episode {id}: {got} draws, expected {expected:.0}"
        );
    }
}

#[test]
fn a_saved_generator_state_repeats_the_next_batches() {
    let t = common::temp_store();
    store_n(&t.store, 100, "ctx");
    let mut a = t.store.sampler(prioritized(0.6, 7)).unwrap();
    a.sample(&t.store, 32, 0.4, true).unwrap();
    let state = a.rng_state();
    let next_a = a.sample(&t.store, 32, 0.4, true).unwrap();
    let mut b = t.store.sampler(prioritized(0.6, 999)).unwrap();
    b.set_rng_state(&state).unwrap();
    assert_eq!(b.sample(&t.store, 32, 0.4, true).unwrap(), next_a);
    assert!(b.set_rng_state(&[0; 32]).is_err());
    assert!(b.set_rng_state(&state[..31]).is_err());
}

#[test]
fn bad_arguments_name_their_field() {
    let t = common::temp_store();
    store_n(&t.store, 3, "ctx");
    let message = |e: gmstore::Error| e.to_string();
    let bad_alpha = t.store.sampler(prioritized(-1.0, 0)).unwrap_err();
    assert!(message(bad_alpha).contains("alpha"));
    let nan_alpha = t.store.sampler(prioritized(f64::NAN, 0)).unwrap_err();
    assert!(message(nan_alpha).contains("alpha"));
    let mut s = t.store.sampler(prioritized(1.0, 0)).unwrap();
    assert!(message(s.sample(&t.store, 1, -0.5, true).unwrap_err()).contains("beta"));
    assert!(message(s.sample(&t.store, 4, 0.0, false).unwrap_err()).contains("count"));
    let bad = [PriorityUpdate {
        id: 1,
        generation: 0,
        priority: f64::INFINITY,
    }];
    assert!(message(s.update_priorities(&t.store, &bad).unwrap_err()).contains("updates[0].priority"));
    let negative = t.store.set_episode_priorities(&[(1, -1.0)]).unwrap_err();
    assert!(message(negative).contains("priorities[0]"));
}

#[test]
fn the_sqlite3_cli_deleting_and_reprioritising_is_seen() {
    if common::on_server() {
        return;
    }
    let t = common::temp_store();
    let ids = store_n(&t.store, 5, "ctx");
    let mut sampler = t.store.sampler(prioritized(1.0, 5)).unwrap();
    assert_eq!(sampler.sample(&t.store, 1, 0.0, true).unwrap().table_size, 5);
    let sql = format!(
        "DELETE FROM episodes WHERE id = {}; \
         INSERT INTO gm_episode_priorities(episode_id, priority) VALUES ({}, 0), ({}, 0), ({}, 0);",
        ids[0], ids[1], ids[2], ids[3]
    );
    let out = std::process::Command::new("sqlite3")
        .arg(t.path())
        .arg(sql)
        .output()
        .expect("the sqlite3 CLI (apt install sqlite3)");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let batch = sampler.sample(&t.store, 50, 0.0, true).unwrap();
    assert_eq!(batch.table_size, 4);
    assert!(batch.samples.iter().all(|s| s.id == ids[4]));
}

#[test]
fn execute_counts_the_rows_a_statement_changed_not_what_its_triggers_logged() {
    // Updating and deleting episodes now writes the replay change log too;
    // a caller's count must stay the statement's own.
    let t = common::temp_store();
    store_n(&t.store, 5, "ctx");
    let n = |sql: &str| t.store.execute(sql, &[]).unwrap();
    assert_eq!(
        n("UPDATE episodes SET metadata = '{\"k\":1}' WHERE performance_score >= 0.4"),
        3
    );
    assert_eq!(n("DELETE FROM episodes WHERE performance_score < 0.2"), 1);
    assert_eq!(n("SELECT count(*) FROM episodes"), 0);
    assert_eq!(
        n("UPDATE episodes SET metadata = '{}' WHERE performance_score > 99"),
        0
    );
}

#[test]
fn a_deletion_just_before_a_flush_is_still_seen() {
    // The sampler skips reading back its own flush's log entries; an entry
    // another handle wrote between its last read and the flush must not be
    // skipped with them.
    let t = common::temp_store();
    let ids = store_n(&t.store, 3, "ctx");
    let other = Store::open(Options::new(t.path())).unwrap();
    let mut sampler = t.store.sampler(prioritized(1.0, 6)).unwrap();
    let drawn = sampler.sample(&t.store, 3, 0.0, false).unwrap().samples;
    let updates: Vec<PriorityUpdate> = drawn
        .iter()
        .map(|s| PriorityUpdate {
            id: s.id,
            generation: s.generation,
            priority: 1.0,
        })
        .collect();
    assert!(sampler.update_priorities(&t.store, &updates).unwrap().is_empty());
    other
        .execute(
            "DELETE FROM episodes WHERE id = ?1",
            &[gmstore::SqlValue::Integer(ids[0])],
        )
        .unwrap();
    assert_eq!(
        sampler.flush(&t.store).unwrap(),
        2,
        "the deleted episode is skipped"
    );
    let batch = sampler.sample(&t.store, 100, 0.0, true).unwrap();
    assert_eq!(batch.table_size, 2);
    assert!(batch.samples.iter().all(|s| s.id != ids[0]));
    // And after a flush that saw everything, later changes still arrive.
    let more = store_n(&other, 1, "ctx");
    let batch = sampler.sample(&t.store, 1, 0.0, true).unwrap();
    assert_eq!(batch.table_size, 3, "{more:?} found");
}

#[test]
fn one_call_draws_a_batch_with_its_episodes_in_draw_order() {
    let t = common::temp_store();
    let payloads: Vec<Vec<u8>> = (0..6u8).map(|i| vec![i; 10 + i as usize]).collect();
    let rows: Vec<NewEpisode<'_>> = payloads
        .iter()
        .enumerate()
        .map(|(i, p)| NewEpisode::new(p, i as f64, "ctx"))
        .collect();
    let ids = t.store.store_episodes(&rows).unwrap();
    let mut sampler = t.store.sampler(prioritized(1.0, 11)).unwrap();
    let (batch, episodes) = sampler.sample_episodes(&t.store, 64, 0.4, true).unwrap();
    assert_eq!(
        (batch.samples.len(), episodes.len(), batch.table_size),
        (64, 64, 6)
    );
    for (s, e) in batch.samples.iter().zip(&episodes) {
        assert_eq!(s.id, e.id);
        assert_eq!(s.generation, e.created_at.to_bits() as i64);
        let i = ids.iter().position(|&id| id == e.id).unwrap();
        assert_eq!(e.experience_data, payloads[i]);
    }
    assert!(
        episodes
            .iter()
            .map(|e| e.id)
            .collect::<std::collections::HashSet<_>>()
            .len()
            < 64
    );
    // Another handle deletes two: the next batch never holds them.
    let other = Store::open(Options::new(t.path())).unwrap();
    other
        .execute(
            &format!("DELETE FROM episodes WHERE id IN ({}, {})", ids[4], ids[5]),
            &[],
        )
        .unwrap();
    let (batch, episodes) = sampler.sample_episodes(&t.store, 4, 0.4, false).unwrap();
    assert_eq!(batch.table_size, 4);
    let mut drawn: Vec<i64> = episodes.iter().map(|e| e.id).collect();
    drawn.sort_unstable();
    assert_eq!(drawn, ids[..4].to_vec());
}
