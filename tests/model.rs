//! Property tests: random sequences of operations against a plain
//! in-memory model of what the store must hold; and arbitrary bytes thrown
//! at the parsers (experience decoder, export import, the C ABI decoder).
mod common;

use std::collections::HashMap;

use gmstore::{Error, NewEpisode, Store};
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Op {
    Episode {
        ctx: u8,
        score: i8,
    },
    Batch {
        ctx: u8,
        n: u8,
        poison: bool,
    },
    Concept {
        name: u8,
        emb: [i8; 3],
        meta: Option<u8>,
    },
    ByName {
        name: u8,
    },
    Relate {
        src: u8,
        dst: u8,
        kind: u8,
        strength: u8,
    },
    Event {
        task: u8,
        strategy: u8,
        delta: i8,
    },
    RolledBack {
        ctx: u8,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0u8..3, any::<i8>()).prop_map(|(ctx, score)| Op::Episode { ctx, score }),
        (0u8..3, 0u8..5, any::<bool>()).prop_map(|(ctx, n, poison)| Op::Batch { ctx, n, poison }),
        (0u8..5, any::<[i8; 3]>(), proptest::option::of(0u8..3)).prop_map(|(name, emb, meta)| Op::Concept {
            name,
            emb,
            meta
        }),
        (0u8..6).prop_map(|name| Op::ByName { name }),
        (0u8..6, 0u8..6, 0u8..2, 0u8..=100).prop_map(|(src, dst, kind, strength)| Op::Relate {
            src,
            dst,
            kind,
            strength
        }),
        (0u8..2, 0u8..3, any::<i8>()).prop_map(|(task, strategy, delta)| Op::Event {
            task,
            strategy,
            delta
        }),
        (0u8..3).prop_map(|ctx| Op::RolledBack { ctx }),
    ]
}

#[derive(Default)]
struct Model {
    episodes: Vec<(i64, String, f64, u64)>, // id, ctx, score, insertion order
    concepts: HashMap<String, (i64, Vec<f32>, i64, String)>, // name -> id, emb, accesses, metadata
    edges: HashMap<(i64, i64, String), f64>,
    events: Vec<(String, String, f64)>,
    clock: u64,
}

fn apply(store: &Store, model: &mut Model, op: &Op) {
    match op {
        Op::Episode { ctx, score } => {
            model.clock += 1;
            let c = format!("ctx{ctx}");
            let e = NewEpisode {
                timestamp: Some(model.clock as f64),
                ..NewEpisode::new(b"e", *score as f64, &c)
            };
            let id = store.store_episode(&e).unwrap();
            model.episodes.push((id, c, *score as f64, model.clock));
        }
        Op::Batch { ctx, n, poison } => {
            let c = format!("ctx{ctx}");
            let mut batch: Vec<NewEpisode> = (0..*n)
                .map(|i| NewEpisode {
                    timestamp: Some((model.clock + 1 + i as u64) as f64),
                    ..NewEpisode::new(b"b", i as f64, &c)
                })
                .collect();
            if *poison && !batch.is_empty() {
                batch.last_mut().unwrap().performance_score = f64::NAN;
                assert!(matches!(
                    store.store_episodes(&batch),
                    Err(Error::InvalidArgument(_))
                ));
                return;
            }
            let ids = store.store_episodes(&batch).unwrap();
            for (i, id) in ids.into_iter().enumerate() {
                model.clock += 1;
                model.episodes.push((id, c.clone(), i as f64, model.clock));
            }
        }
        Op::Concept { name, emb, meta } => {
            let name = format!("concept{name}");
            let emb: Vec<f32> = emb.iter().map(|v| *v as f32).collect();
            let meta_text = meta.map(|m| format!("{{\"m\": {m}}}"));
            let id = store
                .store_concept(&name, &emb, meta_text.as_deref(), None)
                .unwrap();
            let entry = model
                .concepts
                .entry(name)
                .or_insert((id, emb.clone(), 0, "{}".into()));
            assert_eq!(entry.0, id, "an upsert keeps the id");
            entry.1 = emb;
            if let Some(m) = meta_text {
                entry.3 = m;
            }
        }
        Op::ByName { name } => {
            let name = format!("concept{name}");
            let got = store.retrieve_concept_by_name(&name).unwrap();
            match model.concepts.get_mut(&name) {
                Some(c) => {
                    c.2 += 1;
                    let got = got.expect("present");
                    assert_eq!(
                        (got.id, &got.embedding, got.access_count, &got.metadata),
                        (c.0, &c.1, c.2, &c.3)
                    );
                }
                None => assert!(got.is_none()),
            }
        }
        Op::Relate {
            src,
            dst,
            kind,
            strength,
        } => {
            let id_of = |n: u8| model.concepts.get(&format!("concept{n}")).map(|c| c.0);
            let kind = format!("kind{kind}");
            let s = *strength as f64 / 100.0;
            match (id_of(*src), id_of(*dst)) {
                (Some(a), Some(b)) => {
                    store.add_concept_relationship(a, b, &kind, s).unwrap();
                    model.edges.insert((a, b, kind), s);
                }
                (a, b) => {
                    let err = store
                        .add_concept_relationship(a.unwrap_or(9999), b.unwrap_or(9998), &kind, s)
                        .unwrap_err();
                    assert!(matches!(err, Error::NotFound(_)));
                }
            }
        }
        Op::Event {
            task,
            strategy,
            delta,
        } => {
            let (t, s) = (format!("task{task}"), format!("strategy{strategy}"));
            store
                .store_learning_event(&t, *delta as f64 / 10.0, &s, None, None)
                .unwrap();
            model.events.push((t, s, *delta as f64 / 10.0));
        }
        Op::RolledBack { ctx } => {
            let tx = store.transaction().unwrap();
            store
                .store_episode(&NewEpisode::new(b"never", 0.0, &format!("ctx{ctx}")))
                .unwrap();
            tx.rollback().unwrap();
        }
    }
}

fn check(store: &Store, model: &Model) {
    assert_eq!(store.count_episodes().unwrap() as usize, model.episodes.len());
    for ctx in 0..3 {
        let c = format!("ctx{ctx}");
        let mut want: Vec<&(i64, String, f64, u64)> = model.episodes.iter().filter(|e| e.1 == c).collect();
        want.sort_by(|a, b| b.3.cmp(&a.3).then(b.0.cmp(&a.0)));
        let got: Vec<(i64, f64)> = store
            .get_episodes_by_context(&c, 1000, None)
            .unwrap()
            .iter()
            .map(|e| (e.id, e.performance_score))
            .collect();
        assert_eq!(got, want.iter().map(|e| (e.0, e.2)).collect::<Vec<_>>());
    }
    assert_eq!(store.count_concepts().unwrap() as usize, model.concepts.len());
    for (a, b, kind) in model.edges.keys() {
        let edges = store.get_concept_relationships(*a, Some(kind)).unwrap();
        let e = edges.iter().find(|r| r.target_id == *b).expect("edge present");
        assert_eq!(e.strength, model.edges[&(*a, *b, kind.clone())]);
    }
    assert_eq!(store.count_relationships().unwrap() as usize, model.edges.len());
    for task in ["task0", "task1"] {
        let mut sums: HashMap<&str, (f64, i64)> = HashMap::new();
        for (t, s, d) in &model.events {
            if t == task {
                let e = sums.entry(s).or_default();
                e.0 += d;
                e.1 += 1;
            }
        }
        let got = store.get_best_strategies(task, 10).unwrap();
        assert_eq!(got.len(), sums.len());
        for s in &got {
            let (sum, n) = sums[s.strategy.as_str()];
            assert_eq!(s.usage_count, n);
            assert!((s.avg_delta - sum / n as f64).abs() < 1e-9);
        }
        assert!(
            got.windows(2).all(|w| w[0].avg_delta >= w[1].avg_delta),
            "best first"
        );
    }
}

proptest! {
    // 48 cases a run; PROPTEST_CASES (make test-long: 5000) asks for more.
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(48),
        ..ProptestConfig::default()
    })]

    #[test]
    fn random_operation_sequences_match_the_model(ops in proptest::collection::vec(op(), 1..40)) {
        let store = Store::open_in_memory().unwrap();
        let mut model = Model::default();
        for op in &ops {
            apply(&store, &mut model, op);
        }
        check(&store, &model);
    }

    #[test]
    fn the_experience_decoder_survives_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = gmstore::experience::decode(&bytes);
        let mut framed = (bytes.len() as u64).to_le_bytes().to_vec();
        framed.extend_from_slice(&bytes);
        let _ = gmstore::experience::decode(&framed);
        let mut out = std::ptr::null_mut();
        let status = unsafe { gmstore::ffi::experience::gm_experience_decode(framed.as_ptr(), framed.len(), &mut out) };
        if status == 0 {
            unsafe { gmstore::ffi::experience::gm_experience_free(out) };
        } else {
            prop_assert!(out.is_null());
        }
    }

    #[test]
    fn headers_that_parse_point_only_inside_the_buffer(names in proptest::collection::vec("[a-z]{1,8}", 1..4), dims in proptest::collection::vec(0usize..5, 1..4)) {
        let data = [7u8; 64];
        let tensors: Vec<gmstore::experience::Tensor> = names.iter().zip(&dims).map(|(n, d)| gmstore::experience::Tensor {
            name: n, dtype: gmstore::experience::DType::U8, shape: vec![*d], data: &data[..*d],
        }).collect();
        if let Ok(bytes) = gmstore::experience::encode(&tensors, None) {
            let decoded = gmstore::experience::decode(&bytes).unwrap();
            for t in decoded.tensors {
                prop_assert!(t.offset + t.len <= bytes.len());
            }
        }
    }

    #[test]
    fn import_rejects_garbage_without_writing(lines in proptest::collection::vec("[ -~]{0,80}", 0..5)) {
        let store = Store::open_in_memory().unwrap();
        let input = lines.join("\n");
        let _ = store.import(input.as_bytes(), |_, _| {});
        prop_assert_eq!(store.count_episodes().unwrap(), 0);
    }
}
