//! Property test: random sequences of inserts (single and batched, some
//! protected), deletes by raw SQL, policy changes, prunes, draws and
//! priority updates against a plain in-memory model of what the store must
//! hold. After every step the store holds exactly the model's episodes,
//! its counts are the model's, a sampler holds them all and draws only
//! them, and updates for evicted episodes are reported stale.
//! Engine-neutral: make test runs it on PostgreSQL too.
mod common;

use std::collections::BTreeMap;

use gmstore::{
    EvictionOrder, NewEpisode, PriorityUpdate, Protection, RetentionPolicy, SamplerConfig, SqlValue, Store,
};
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Op {
    Insert {
        score: i8,
        protected: bool,
        size: u8,
    },
    Batch {
        scores: Vec<i8>,
    },
    DeleteRaw {
        pick: u16,
    },
    Policy {
        max: u8,
        order: u8,
        batch: u8,
    },
    NoPolicy,
    Prune,
    DrawAndUpdate {
        draws: u8,
        priority: u8,
        stale_pick: u16,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (any::<i8>(), proptest::bool::weighted(0.15), 1u8..40)
            .prop_map(|(score, protected, size)| Op::Insert { score, protected, size }),
        2 => proptest::collection::vec(any::<i8>(), 2..6).prop_map(|scores| Op::Batch { scores }),
        1 => any::<u16>().prop_map(|pick| Op::DeleteRaw { pick }),
        1 => (0u8..8, 0u8..3, 0u8..3).prop_map(|(max, order, batch)| Op::Policy { max, order, batch }),
        1 => Just(Op::NoPolicy),
        1 => Just(Op::Prune),
        2 => (1u8..6, 1u8..5, any::<u16>())
            .prop_map(|(draws, priority, stale_pick)| Op::DrawAndUpdate { draws, priority, stale_pick }),
    ]
}

#[derive(Debug, Clone, Copy)]
struct Row {
    score: f64,
    protected: bool,
    bytes: i64,
    priority: Option<f64>,
    generation: i64,
}

#[derive(Default)]
struct Model {
    rows: BTreeMap<i64, Row>,
    policy: Option<(i64, EvictionOrder, i64)>,
    evicted: i64,
    /// Ids once held and evicted or deleted, with their generation.
    gone: Vec<(i64, i64)>,
}

impl Model {
    fn evictable(&self) -> impl Iterator<Item = (&i64, &Row)> {
        self.rows.iter().filter(|(_, r)| !r.protected)
    }

    /// Evicts down to the policy's maximum (at least `batch` at once), in
    /// its order, as the store must.
    fn enforce(&mut self) {
        let Some((max, order, batch)) = self.policy else {
            return;
        };
        let held = self.evictable().count() as i64;
        if held <= max {
            return;
        }
        let mut order_of: Vec<(i64, Row)> = self.evictable().map(|(&id, &r)| (id, r)).collect();
        order_of.sort_by(|a, b| {
            let key = |(id, r): &(i64, Row)| match order {
                EvictionOrder::Oldest => (0.0, 0.0, *id),
                EvictionOrder::LowestScore => (r.score, 0.0, *id),
                EvictionOrder::LowestPriority => match r.priority {
                    Some(p) => (0.0, p, *id),
                    None => (1.0, 0.0, *id),
                },
            };
            key(a).partial_cmp(&key(b)).unwrap()
        });
        let n = (held - max).max(batch).min(held) as usize;
        for (id, r) in order_of.into_iter().take(n) {
            self.rows.remove(&id);
            self.gone.push((id, r.generation));
            self.evicted += 1;
        }
    }
}

fn order(code: u8) -> EvictionOrder {
    [
        EvictionOrder::Oldest,
        EvictionOrder::LowestScore,
        EvictionOrder::LowestPriority,
    ][code as usize]
}

const PROTECTED: &str = r#"{"demo": true}"#;

/// An episode's generation; 0 when it is already gone (evicted by the
/// write that stored it: ids are never handed out again, so any update
/// naming it is stale whatever the generation).
fn generation_of(store: &Store, id: i64) -> i64 {
    store
        .retrieve_episode(id)
        .unwrap()
        .map_or(0, |e| e.created_at.to_bits() as i64)
}

fn check(store: &Store, model: &Model) -> Result<(), TestCaseError> {
    let held: Vec<i64> = store
        .get_recent_episodes(1e12, 100_000)
        .unwrap()
        .iter()
        .map(|e| e.id)
        .rev()
        .collect();
    let mut held_sorted = held.clone();
    held_sorted.sort_unstable();
    prop_assert_eq!(held_sorted, model.rows.keys().copied().collect::<Vec<_>>());
    let status = store.retention_status().unwrap();
    prop_assert_eq!(status.evicted_total, model.evicted);
    if model.policy.is_some() {
        prop_assert_eq!(status.episodes, model.evictable().count() as i64);
        let bytes: i64 = model.evictable().map(|(_, r)| r.bytes).sum();
        prop_assert_eq!(status.experience_bytes, bytes);
    }
    Ok(())
}

fn run(ops: Vec<Op>) -> Result<(), TestCaseError> {
    let t = common::temp_store();
    let store = &t.store;
    let mut model = Model::default();
    let mut sampler = store
        .sampler(SamplerConfig {
            seed: 3,
            ..SamplerConfig::default()
        })
        .unwrap();
    let payload = |size: u8| vec![size; size as usize];
    for op in ops {
        match op {
            Op::Insert {
                score,
                protected,
                size,
            } => {
                let data = payload(size);
                let e = NewEpisode {
                    metadata: protected.then_some(PROTECTED),
                    ..NewEpisode::new(&data, score as f64, "m")
                };
                let id = store.store_episode(&e).unwrap();
                let row = Row {
                    score: score as f64,
                    protected,
                    bytes: size as i64,
                    priority: None,
                    generation: generation_of(store, id),
                };
                model.rows.insert(id, row);
                let before = model.evicted;
                model.enforce();
                prop_assert_eq!(store.last_evictions().by_count as i64, model.evicted - before);
            }
            Op::Batch { scores } => {
                let data = payload(3);
                let rows: Vec<NewEpisode<'_>> = scores
                    .iter()
                    .map(|&s| NewEpisode::new(&data, s as f64, "m"))
                    .collect();
                let ids = store.store_episodes(&rows).unwrap();
                for (&id, &s) in ids.iter().zip(&scores) {
                    let generation = generation_of(store, id);
                    let row = Row {
                        score: s as f64,
                        protected: false,
                        bytes: 3,
                        priority: None,
                        generation,
                    };
                    model.rows.insert(id, row);
                }
                model.enforce();
            }
            Op::DeleteRaw { pick } => {
                let Some(&id) = model.rows.keys().nth(pick as usize % model.rows.len().max(1)) else {
                    continue;
                };
                store
                    .execute("DELETE FROM episodes WHERE id = ?1", &[SqlValue::Integer(id)])
                    .unwrap();
                let row = model.rows.remove(&id).unwrap();
                model.gone.push((id, row.generation));
            }
            Op::Policy { max, order: o, batch } => {
                let policy = RetentionPolicy {
                    max_episodes: Some(max as i64),
                    order: order(o),
                    eviction_batch: batch as i64,
                    protect: Some(Protection {
                        key: "demo".into(),
                        value: "true".into(),
                    }),
                    ..RetentionPolicy::default()
                };
                let evicted = store.set_retention_policy(Some(&policy)).unwrap();
                model.policy = Some((max as i64, order(o), batch as i64));
                let before = model.evicted;
                model.enforce();
                prop_assert_eq!(evicted.by_count as i64, model.evicted - before);
            }
            Op::NoPolicy => {
                store.set_retention_policy(None).unwrap();
                model.policy = None;
            }
            Op::Prune => {
                let plan = store.prune(true).unwrap();
                let done = store.prune(false).unwrap();
                prop_assert_eq!(&plan, &done);
                prop_assert!(done.ids.is_empty(), "nothing left over: {:?}", done);
            }
            Op::DrawAndUpdate {
                draws,
                priority,
                stale_pick,
            } => {
                if model.rows.is_empty() {
                    prop_assert!(sampler.sample(store, 1, 0.4, true).is_err());
                    continue;
                }
                let batch = sampler.sample(store, draws as usize, 0.4, true).unwrap();
                prop_assert_eq!(batch.table_size, model.rows.len());
                let mut updates: Vec<PriorityUpdate> = batch
                    .samples
                    .iter()
                    .map(|s| PriorityUpdate {
                        id: s.id,
                        generation: s.generation,
                        priority: priority as f64,
                    })
                    .collect();
                for s in &batch.samples {
                    prop_assert!(
                        model.rows.contains_key(&s.id),
                        "drew {} which the store no longer holds",
                        s.id
                    );
                }
                let stale_one = model
                    .gone
                    .get(stale_pick as usize % model.gone.len().max(1))
                    .copied();
                if let Some((id, generation)) = stale_one {
                    updates.push(PriorityUpdate {
                        id,
                        generation,
                        priority: 1.0,
                    });
                }
                let stale = sampler.update_priorities(store, &updates).unwrap();
                let expected: Vec<usize> = stale_one.map(|_| updates.len() - 1).into_iter().collect();
                prop_assert_eq!(stale, expected);
                sampler.flush(store).unwrap();
                for s in &batch.samples {
                    model.rows.get_mut(&s.id).unwrap().priority = Some(priority as f64);
                }
            }
        }
        check(store, &model)?;
    }
    Ok(())
}

proptest! {
    // 32 cases a run; PROPTEST_CASES (make test-long: 5000) asks for more.
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(32),
        ..ProptestConfig::default()
    })]

    #[test]
    fn insert_evict_sample_update_sequences_match_the_model(ops in proptest::collection::vec(op(), 1..40)) {
        run(ops)?;
    }
}
