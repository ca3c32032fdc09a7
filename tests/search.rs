//! k-NN against a float64 brute force, coherence with writes from this
//! handle and others, and the similarity graph.
mod common;

use gmstore::{Metric, Options, SearchFilter, Store};

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> f32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        ((self.0 >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
    }
    fn vec(&mut self, dim: usize) -> Vec<f32> {
        (0..dim).map(|_| self.next()).collect()
    }
}

fn brute_force(data: &[(i64, Vec<f32>)], q: &[f32], metric: Metric, k: usize) -> Vec<i64> {
    let q64: Vec<f64> = q.iter().map(|v| *v as f64).collect();
    let mut scored: Vec<(i64, f64)> = data
        .iter()
        .map(|(id, v)| {
            let v64: Vec<f64> = v.iter().map(|x| *x as f64).collect();
            let dot: f64 = q64.iter().zip(&v64).map(|(a, b)| a * b).sum();
            let score = match metric {
                Metric::Dot => dot,
                Metric::Cosine => {
                    dot / (q64.iter().map(|a| a * a).sum::<f64>().sqrt()
                        * v64.iter().map(|a| a * a).sum::<f64>().sqrt())
                }
                Metric::L2 => q64
                    .iter()
                    .zip(&v64)
                    .map(|(a, b)| (a - b).powi(2))
                    .sum::<f64>()
                    .sqrt(),
                other => panic!("the reference has no formula for {other:?}"),
            };
            (*id, score)
        })
        .collect();
    scored.sort_by(|a, b| match metric {
        Metric::L2 => a.1.total_cmp(&b.1),
        _ => b.1.total_cmp(&a.1),
    });
    scored.into_iter().take(k).map(|(id, _)| id).collect()
}

/// The ids of the `k` nearest concepts, unfiltered, best first.
fn nearest_ids(store: &Store, q: &[f32], k: usize, metric: Metric) -> Vec<i64> {
    store
        .nearest_concepts(q, k, metric, &SearchFilter::default())
        .unwrap()
        .into_iter()
        .map(|n| n.id)
        .collect()
}

fn populate(store: &Store, n: usize, dim: usize, seed: u64) -> Vec<(i64, Vec<f32>)> {
    let mut rng = Rng(seed);
    let tx = store.transaction().unwrap();
    let data: Vec<(i64, Vec<f32>)> = (0..n)
        .map(|i| {
            let v = rng.vec(dim);
            (
                store
                    .store_concept(&format!("concept_{i:05}"), &v, None, None)
                    .unwrap(),
                v,
            )
        })
        .collect();
    tx.commit().unwrap();
    data
}

#[test]
fn matches_float64_brute_force_for_every_metric_and_dimension() {
    for (dim, n) in [(3, 200), (64, 1500), (512, 800)] {
        let t = common::temp_store();
        let data = populate(&t.store, n, dim, 7 + dim as u64);
        let mut rng = Rng(99);
        for metric in [Metric::Cosine, Metric::Dot, Metric::L2] {
            for _ in 0..5 {
                let q = rng.vec(dim);
                let got = nearest_ids(&t.store, &q, 10, metric);
                assert_eq!(got, brute_force(&data, &q, metric, 10), "dim {dim}, {metric:?}");
            }
            let queries: Vec<f32> = (0..7).flat_map(|_| rng.vec(dim)).collect();
            let batch = t
                .store
                .nearest_concepts_batch(&queries, dim, 5, metric, &SearchFilter::default())
                .unwrap();
            for (i, found) in batch.iter().enumerate() {
                let ids: Vec<i64> = found.iter().map(|n| n.id).collect();
                assert_eq!(
                    ids,
                    brute_force(&data, &queries[i * dim..(i + 1) * dim], metric, 5),
                    "batch dim {dim} {metric:?}"
                );
            }
        }
    }
}

/// A matrix above the parallel threshold (4M floats) is read in two halves
/// on two connections. Deleting most of the low ids makes the halves
/// uneven (the count is odd); every metric must still equal the brute
/// force, and the rows at both ends and where the halves meet must be found.
#[test]
fn a_matrix_built_in_two_halves_equals_the_brute_force() {
    let (dim, n) = (384, 20_000);
    let t = common::temp_store();
    let mut data = populate(&t.store, n, dim, 5);
    t.store
        .execute("DELETE FROM concepts WHERE id % 3 = 0 AND id < 12000", &[])
        .unwrap();
    data.retain(|(id, _)| !(id % 3 == 0 && *id < 12000));
    let mut rng = Rng(31);
    for metric in [Metric::Cosine, Metric::Dot, Metric::L2] {
        let q = rng.vec(dim);
        let got = nearest_ids(&t.store, &q, 10, metric);
        assert_eq!(got, brute_force(&data, &q, metric, 10), "{metric:?}");
    }
    // An exact copy of rows at both ends is its own nearest neighbour.
    for (id, v) in [data.first().unwrap(), data.last().unwrap(), &data[data.len() / 2]] {
        let found = t
            .store
            .nearest_concepts(v, 1, Metric::L2, &SearchFilter::default())
            .unwrap();
        assert_eq!(found[0].id, *id);
    }
}

/// The first query after opening is scored while the matrix loads, in one
/// thread for a small store and in two halves for a large one. For every
/// metric it must equal the brute force, and a first query of the wrong
/// dimension must fail without spoiling the next one.
#[test]
fn the_first_query_after_open_equals_the_brute_force() {
    for (dim, n) in [(16, 300), (512, 9_001)] {
        let t = common::temp_store();
        let data = populate(&t.store, n, dim, 11);
        let mut rng = Rng(5);
        for metric in [Metric::Cosine, Metric::Dot, Metric::L2] {
            let fresh = Store::open(Options::new(t.path())).unwrap();
            let q = rng.vec(dim);
            let got = nearest_ids(&fresh, &q, 10, metric);
            assert_eq!(got, brute_force(&data, &q, metric, 10), "n {n}, {metric:?}");
        }
        let fresh = Store::open(Options::new(t.path())).unwrap();
        let err = fresh
            .nearest_concepts(&rng.vec(dim + 1), 3, Metric::Dot, &SearchFilter::default())
            .unwrap_err();
        assert!(err.to_string().contains("dimension"), "{err}");
        let q = rng.vec(dim);
        let got = nearest_ids(&fresh, &q, 3, Metric::Dot);
        assert_eq!(got, brute_force(&data, &q, Metric::Dot, 3));
    }
}

#[test]
fn l2_is_nearest_first_with_distances() {
    let t = common::temp_store();
    let a = t.store.store_concept("origin", &[0.0, 0.0], None, None).unwrap();
    let b = t.store.store_concept("near", &[1.0, 0.0], None, None).unwrap();
    let c = t.store.store_concept("far", &[3.0, 4.0], None, None).unwrap();
    let found = t
        .store
        .nearest_concepts(&[0.0, 0.0], 3, Metric::L2, &SearchFilter::default())
        .unwrap();
    assert_eq!(found.iter().map(|n| n.id).collect::<Vec<_>>(), vec![a, b, c]);
    assert_eq!(
        found.iter().map(|n| n.score).collect::<Vec<_>>(),
        vec![0.0, 1.0, 5.0]
    );
    assert_eq!(found[2].name, "far");
    let cos = t
        .store
        .nearest_concepts(&[1.0, 0.0], 1, Metric::Cosine, &SearchFilter::default())
        .unwrap();
    assert_eq!(cos[0].id, b);
}

#[test]
fn filters_apply_during_the_scan() {
    let t = common::temp_store();
    let data = populate(&t.store, 300, 16, 3);
    for id in data.iter().take(40).map(|(id, _)| *id) {
        t.store
            .retrieve_concept_by_name(&format!("concept_{:05}", id - 1))
            .unwrap();
    }
    let q = Rng(5).vec(16);
    let filter = SearchFilter {
        name_pattern: Some("concept_001"),
        min_access_count: None,
        ..Default::default()
    };
    let got: Vec<i64> = t
        .store
        .nearest_concepts(&q, 5, Metric::Cosine, &filter)
        .unwrap()
        .into_iter()
        .map(|n| n.id)
        .collect();
    let subset: Vec<_> = data
        .iter()
        .filter(|(id, _)| (101..=200).contains(id))
        .cloned()
        .collect();
    assert_eq!(got, brute_force(&subset, &q, Metric::Cosine, 5));
    let filter = SearchFilter {
        name_pattern: None,
        min_access_count: Some(1),
        ..Default::default()
    };
    let got: Vec<i64> = t
        .store
        .nearest_concepts(&q, 50, Metric::Dot, &filter)
        .unwrap()
        .into_iter()
        .map(|n| n.id)
        .collect();
    assert_eq!(got, brute_force(&data[..40], &q, Metric::Dot, 50));
    let none = SearchFilter {
        name_pattern: Some("no such"),
        min_access_count: None,
        ..Default::default()
    };
    assert!(t
        .store
        .nearest_concepts(&q, 5, Metric::L2, &none)
        .unwrap()
        .is_empty());
}

#[test]
fn cache_sees_writes_through_this_handle_and_from_other_handles() {
    let t = common::temp_store();
    populate(&t.store, 100, 8, 11);
    let target = [9.0f32; 8];
    let first = t
        .store
        .nearest_concepts(&target, 1, Metric::L2, &SearchFilter::default())
        .unwrap();
    let mine = t.store.store_concept("mine", &[8.9; 8], None, None).unwrap();
    assert_eq!(
        t.store
            .nearest_concepts(&target, 1, Metric::L2, &SearchFilter::default())
            .unwrap()[0]
            .id,
        mine
    );

    let other = Store::open(Options::new(t.path())).unwrap();
    let theirs = other.store_concept("theirs", &[9.0; 8], None, None).unwrap();
    assert_eq!(
        t.store
            .nearest_concepts(&target, 1, Metric::L2, &SearchFilter::default())
            .unwrap()[0]
            .id,
        theirs
    );
    other.store_concept("theirs", &[-9.0; 8], None, None).unwrap();
    assert_eq!(
        t.store
            .nearest_concepts(&target, 1, Metric::L2, &SearchFilter::default())
            .unwrap()[0]
            .id,
        mine
    );
    other
        .execute("DELETE FROM concepts WHERE name = 'mine'", &[])
        .unwrap();
    let now = t
        .store
        .nearest_concepts(&target, 1, Metric::L2, &SearchFilter::default())
        .unwrap();
    assert_ne!(now[0].id, mine);
    assert_eq!(now[0].id, first[0].id);
}

#[test]
fn another_process_write_shows_up_in_the_next_query() {
    if common::on_server() {
        return; // about the SQLite file itself: its bytes, the sqlite3 CLI, the query plan
    }
    let t = common::temp_store();
    populate(&t.store, 50, 4, 2);
    t.store
        .nearest_concepts(&[1.0; 4], 1, Metric::Cosine, &SearchFilter::default())
        .unwrap();
    let status = std::process::Command::new("sqlite3")
        .arg(t.path())
        .arg("INSERT INTO concepts (name, embedding, creation_time) VALUES ('external', X'0000A0400000A0400000A0400000A040', 0);")
        .status()
        .expect("sqlite3 CLI");
    assert!(status.success());
    let found = t
        .store
        .nearest_concepts(&[5.0; 4], 1, Metric::L2, &SearchFilter::default())
        .unwrap();
    assert_eq!(found[0].name, "external");
}

#[test]
fn uncached_and_in_transaction_searches_agree() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(Options {
        knn_cache: false,
        ..Options::new(dir.path().join("n.db"))
    })
    .unwrap();
    let data = populate(&store, 200, 12, 4);
    let q = Rng(8).vec(12);
    let got = nearest_ids(&store, &q, 7, Metric::Cosine);
    assert_eq!(got, brute_force(&data, &q, Metric::Cosine, 7));
    let tx = store.transaction().unwrap();
    let id = store.store_concept("inside", &q, None, None).unwrap();
    assert_eq!(
        store
            .nearest_concepts(&q, 1, Metric::Cosine, &SearchFilter::default())
            .unwrap()[0]
            .id,
        id
    );
    drop(tx);
    assert_ne!(
        store
            .nearest_concepts(&q, 1, Metric::Cosine, &SearchFilter::default())
            .unwrap()[0]
            .id,
        id
    );
}

#[test]
fn bad_queries_are_rejected_with_the_field() {
    let t = common::temp_store();
    assert!(t
        .store
        .nearest_concepts(&[1.0, 2.0], 3, Metric::Cosine, &SearchFilter::default())
        .unwrap()
        .is_empty());
    t.store.store_concept("a", &[1.0, 2.0, 3.0], None, None).unwrap();
    let f = SearchFilter::default();
    let err = t
        .store
        .nearest_concepts(&[1.0, 2.0], 3, Metric::Cosine, &f)
        .unwrap_err();
    assert_eq!(err.to_string(), "query: dimension 2 does not match the store's 3");
    assert!(t
        .store
        .nearest_concepts(&[1.0, f32::NAN, 3.0], 3, Metric::Cosine, &f)
        .unwrap_err()
        .to_string()
        .starts_with("query: component 1"));
    assert!(t
        .store
        .nearest_concepts(&[1.0, 2.0, 3.0], 0, Metric::Cosine, &f)
        .unwrap_err()
        .to_string()
        .starts_with("k:"));
    assert!(t
        .store
        .nearest_concepts_batch(&[1.0; 5], 3, 1, Metric::Dot, &f)
        .unwrap_err()
        .to_string()
        .starts_with("queries"));
}

#[test]
fn similarity_graph_connects_exactly_the_pairs_above_threshold() {
    let t = common::temp_store();
    let x = t.store.store_concept("x", &[1.0, 0.0], None, None).unwrap();
    let x2 = t.store.store_concept("x2", &[0.9, 0.1], None, None).unwrap();
    let y = t.store.store_concept("y", &[0.0, 1.0], None, None).unwrap();
    let diag = t.store.store_concept("diag", &[1.0, 1.0], None, None).unwrap();
    let edges = t.store.build_similarity_graph(0.8, 0, "similar_to").unwrap();
    // cos(x, x2) = 0.994, cos(x2, diag) = 0.781, cos(x, diag) = 0.707, cos(y, diag) = 0.707
    assert_eq!(edges, 2);
    let from_x: Vec<(i64, String)> = t
        .store
        .get_concept_relationships(x, None)
        .unwrap()
        .into_iter()
        .map(|r| (r.target_id, r.relationship_type))
        .collect();
    assert_eq!(from_x, vec![(x2, "similar_to".to_string())]);
    assert_eq!(
        t.store.get_concept_relationships(x2, None).unwrap()[0].target_id,
        x
    );
    assert!(t.store.get_concept_relationships(y, None).unwrap().is_empty());
    assert!(t.store.get_concept_relationships(diag, None).unwrap().is_empty());
    let strength = t.store.get_concept_relationships(x, None).unwrap()[0].strength;
    assert!((strength - 0.9938837346736189).abs() < 1e-6, "{strength}");
    let top1 = t.store.build_similarity_graph(0.0, 1, "nearest").unwrap();
    assert_eq!(top1, 4, "each concept to its single most similar one");
    assert!(t.store.build_similarity_graph(1.5, 0, "x").is_err());
}

/// Above the parallel threshold the graph is computed in blocks on several
/// threads over the upper triangle: it must still hold every pair whose
/// float64 cosine clears the threshold, in both directions, and no other.
#[test]
fn similarity_graph_in_parallel_blocks_equals_the_pairwise_brute_force() {
    let (dim, n, threshold) = (64, 1500, 0.8);
    let t = common::temp_store();
    let mut rng = Rng(17);
    let centres: Vec<Vec<f32>> = (0..150).map(|_| rng.vec(dim)).collect();
    let tx = t.store.transaction().unwrap();
    let data: Vec<(i64, Vec<f32>)> = (0..n)
        .map(|i| {
            let v: Vec<f32> = centres[i / 10].iter().map(|c| c + 0.12 * rng.next()).collect();
            (
                t.store.store_concept(&format!("c{i}"), &v, None, None).unwrap(),
                v,
            )
        })
        .collect();
    tx.commit().unwrap();
    let cosine = |a: &[f32], b: &[f32]| {
        let dot: f64 = a.iter().zip(b).map(|(x, y)| *x as f64 * *y as f64).sum();
        let norm = |v: &[f32]| v.iter().map(|x| (*x as f64).powi(2)).sum::<f64>().sqrt();
        dot / (norm(a) * norm(b))
    };
    let edges = t
        .store
        .build_similarity_graph(threshold, 0, "similar_to")
        .unwrap();
    let mut expected = 0;
    for (i, (a, va)) in data.iter().enumerate() {
        let linked: std::collections::HashMap<i64, f64> = t
            .store
            .get_concept_relationships(*a, Some("similar_to"))
            .unwrap()
            .into_iter()
            .map(|r| (r.target_id, r.strength))
            .collect();
        for (j, (b, vb)) in data.iter().enumerate() {
            let c = cosine(va, vb);
            let near_threshold = (c - threshold).abs() < 1e-5;
            if i == j || near_threshold {
                continue;
            }
            if c > threshold {
                expected += 1;
                let s = linked
                    .get(b)
                    .unwrap_or_else(|| panic!("missing edge {a}->{b}, cosine {c}"));
                assert!((s - c).abs() < 1e-5, "strength {s} for cosine {c}");
            } else {
                assert!(
                    !linked.contains_key(b),
                    "edge {a}->{b} below threshold, cosine {c}"
                );
            }
        }
    }
    assert!(expected > n, "clusters give edges to check ({expected})");
    assert_eq!(edges, expected, "edges written, both directions");
}

#[test]
fn a_restore_is_seen_by_every_cache() {
    let t = common::temp_store();
    populate(&t.store, 30, 4, 9);
    let backup = t.store.create_backup(None).unwrap().path;
    let other = Store::open(Options::new(t.path())).unwrap();
    let target = [7.0f32; 4];
    let f = SearchFilter::default();
    let late = t.store.store_concept("late", &target, None, None).unwrap();
    assert_eq!(
        t.store.nearest_concepts(&target, 1, Metric::L2, &f).unwrap()[0].id,
        late
    );
    assert_eq!(
        other.nearest_concepts(&target, 1, Metric::L2, &f).unwrap()[0].id,
        late
    );
    t.store.restore(&backup).unwrap();
    assert_ne!(
        t.store.nearest_concepts(&target, 1, Metric::L2, &f).unwrap()[0].name,
        "late"
    );
    assert_ne!(
        other.nearest_concepts(&target, 1, Metric::L2, &f).unwrap()[0].name,
        "late",
        "another handle's cache too"
    );
}

/// Stores `vectors` in order (ids ascending, as the brute force's tie
/// order expects) and returns them with their ids.
fn store_all(store: &Store, vectors: Vec<Vec<f32>>) -> Vec<(i64, Vec<f32>)> {
    let tx = store.transaction().unwrap();
    let data = vectors
        .into_iter()
        .enumerate()
        .map(|(i, v)| {
            (
                store.store_concept(&format!("v{i:05}"), &v, None, None).unwrap(),
                v,
            )
        })
        .collect();
    tx.commit().unwrap();
    data
}

/// Single, batched, filtered: every path must equal the float64 brute force.
fn assert_exact_everywhere(
    store: &Store,
    data: &[(i64, Vec<f32>)],
    queries: &[Vec<f32>],
    k: usize,
    label: &str,
) {
    let dim = queries[0].len();
    let flat: Vec<f32> = queries.concat();
    // "v0" matches v00000..v09999: a filter that keeps most rows, applied
    // on the filtered path (a row list), not the full scan.
    let filter = SearchFilter {
        name_pattern: Some("v0"),
        min_access_count: None,
        ..Default::default()
    };
    for metric in [Metric::Cosine, Metric::Dot, Metric::L2] {
        let batch = store
            .nearest_concepts_batch(&flat, dim, k, metric, &SearchFilter::default())
            .unwrap();
        for (q, found) in queries.iter().zip(&batch) {
            let want = brute_force(data, q, metric, k);
            assert_eq!(
                nearest_ids(store, q, k, metric),
                want,
                "{label}: single {metric:?}"
            );
            let ids: Vec<i64> = found.iter().map(|n| n.id).collect();
            assert_eq!(ids, want, "{label}: batch {metric:?}");
            let filtered: Vec<i64> = store
                .nearest_concepts(q, k, metric, &filter)
                .unwrap()
                .into_iter()
                .map(|n| n.id)
                .collect();
            assert_eq!(filtered, want, "{label}: filtered {metric:?}");
        }
    }
}

/// 64 copies of one 512-d vector with noise 1e-3 or 1e-4: far more rows
/// than any fixed candidate margin score within float32 rounding of the
/// k-th best. Before the error bounds, 9 of 10 matched.
#[test]
fn near_duplicate_clusters_equal_the_brute_force() {
    for noise in [1e-3f32, 1e-4, 1e-6] {
        let t = common::temp_store();
        let mut rng = Rng(41);
        let centre = rng.vec(512);
        let mut vectors: Vec<Vec<f32>> = (0..64)
            .map(|_| centre.iter().map(|c| c + noise * rng.next()).collect())
            .collect();
        vectors.extend((0..200).map(|_| rng.vec(512)));
        let data = store_all(&t.store, vectors);
        let queries = vec![
            centre.clone(),
            data[3].1.clone(),
            centre.iter().map(|c| c * 3.0).collect(),
        ];
        assert_exact_everywhere(&t.store, &data, &queries, 10, &format!("noise {noise}"));
    }
}

/// Exact duplicates tie in every metric: ties go to the lower id, and a
/// cluster of 300 ties around the k-th place must not lose any of them.
#[test]
fn ties_go_to_the_lower_id() {
    let t = common::temp_store();
    let mut rng = Rng(8);
    let dup = rng.vec(64);
    let mut vectors: Vec<Vec<f32>> = (0..150).map(|_| rng.vec(64)).collect();
    for i in 0..300 {
        vectors.insert((i * 7) % vectors.len(), dup.clone());
    }
    let data = store_all(&t.store, vectors);
    let mut queries = vec![dup.clone()];
    queries.extend((0..3).map(|_| rng.vec(64)));
    assert_exact_everywhere(&t.store, &data, &queries, 25, "ties");
}

/// Norms from 1e-20 to 1e18 per component: float32 squares underflow to
/// subnormals or overflow to infinity, where no relative bound holds; such
/// rows must be re-scored in float64 rather than mis-ranked.
#[test]
fn huge_and_tiny_norms_equal_the_brute_force() {
    let t = common::temp_store();
    let mut rng = Rng(77);
    let mut vectors: Vec<Vec<f32>> = Vec::new();
    for scale in [1e-20f32, 1e-12, 1e-3, 1.0, 1e3, 1e12, 1e18] {
        for _ in 0..40 {
            vectors.push(rng.vec(32).iter().map(|v| v * scale).collect());
        }
    }
    // one near-duplicate pair at each extreme
    vectors.push(vectors[0].iter().map(|v| v * (1.0 + 1e-7)).collect());
    vectors.push(vectors[260].iter().map(|v| v * (1.0 - 1e-7)).collect());
    vectors.push(vec![0.0; 32]);
    let data = store_all(&t.store, vectors);
    let queries = vec![
        data[0].1.clone(),
        data[260].1.clone(),
        rng.vec(32),
        rng.vec(32).iter().map(|v| v * 1e-20).collect(),
        rng.vec(32).iter().map(|v| v * 1e19).collect(),
        vec![0.0; 32],
    ];
    assert_exact_everywhere(&t.store, &data, &queries, 12, "norms");
}

fn hex_blob(v: &[f32]) -> String {
    let hex: String = v
        .iter()
        .flat_map(|x| x.to_le_bytes())
        .map(|b| format!("{b:02X}"))
        .collect();
    format!("X'{hex}'")
}

fn sqlite3_cli(path: &std::path::Path, sql: &str) {
    let out = std::process::Command::new("sqlite3")
        .arg(path)
        .arg(sql)
        .output()
        .expect("the sqlite3 CLI is installed");
    assert!(
        out.status.success(),
        "{sql}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Every way a plain SQLite client can write a concept must keep a warm
/// k-NN cache coherent. REPLACE deletes the conflicting row without firing
/// delete triggers (recursive_triggers is off in the CLI), and an UPDATE of
/// the id moves a row: before schema v5 the cache kept the old id and the
/// next query failed with NOT_FOUND or returned a row that is gone.
#[test]
fn writes_from_the_sqlite3_cli_keep_the_cache_coherent() {
    if common::on_server() {
        return; // about the SQLite file itself: its bytes, the sqlite3 CLI, the query plan
    }
    let t = common::temp_store();
    populate(&t.store, 60, 4, 21);
    let v = |x: f32| hex_blob(&[x, x + 0.5, -x, 2.0 * x]);
    let statements = [
        format!("INSERT OR REPLACE INTO concepts (name, embedding, creation_time) VALUES ('concept_00003', {}, 0)", v(7.0)),
        format!("REPLACE INTO concepts (id, name, embedding, creation_time) VALUES (5, 'fresh', {}, 0)", v(-7.0)),
        format!("INSERT INTO concepts (name, embedding, creation_time) VALUES ('concept_00007', {}, 0) \
                 ON CONFLICT(name) DO UPDATE SET embedding = excluded.embedding", v(3.0)),
        "DELETE FROM concepts WHERE id = 9".to_string(),
        "UPDATE concepts SET id = 1000 WHERE id = 10".to_string(),
        "UPDATE concepts SET name = 'renamed' WHERE id = 11".to_string(),
        format!("UPDATE concepts SET embedding = {} WHERE id = 12", v(5.0)),
        "UPDATE OR REPLACE concepts SET name = 'concept_00020' WHERE id = 13".to_string(),
        format!("INSERT OR REPLACE INTO concepts (id, name, embedding, creation_time) VALUES (14, 'concept_00030', {}, 0)", v(1.0)),
    ];
    let queries = [
        [7.0f32, 7.5, -7.0, 14.0],
        [-7.0, -6.5, 7.0, -14.0],
        [0.1, 0.2, 0.3, 0.4],
    ];
    for sql in &statements {
        // Warm the cache, let the CLI write, then query the warm cache.
        nearest_ids(&t.store, &queries[2], 1, Metric::L2);
        sqlite3_cli(&t.path(), sql);
        let mut now: Vec<(i64, Vec<f32>)> = t
            .store
            .search_concepts("", 1000)
            .unwrap()
            .into_iter()
            .map(|c| (c.id, c.embedding))
            .collect();
        now.sort_by_key(|(id, _)| *id);
        for q in &queries {
            for metric in [Metric::L2, Metric::Cosine] {
                let found = t
                    .store
                    .nearest_concepts(q, 1000, metric, &SearchFilter::default())
                    .unwrap_or_else(|e| panic!("after {sql}: {e}"));
                let ids: Vec<i64> = found.iter().map(|n| n.id).collect();
                assert_eq!(ids, brute_force(&now, q, metric, 1000), "after {sql}");
                for n in &found {
                    let c = t.store.retrieve_concept(n.id).unwrap().unwrap();
                    assert_eq!(n.name, c.name, "after {sql}");
                }
            }
        }
    }
}
