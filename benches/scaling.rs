//! How costs grow with the store: k-NN (cached query and first query after
//! open), concept inserts and upserts at 10k, 50k, 200k and 1M concepts of
//! 512 dimensions; 1,000-row context queries at 10k, 100k and 1M episodes;
//! and the peak memory of the k-NN cache and of a 1M-episode store, each
//! measured in a child process of its own against its theoretical size.
//!
//! `cargo bench --bench scaling` (or `make bench`). GM_SCALING_MAX caps the
//! largest size (default 1,000,000); GM_BENCH_JSON names a JSON Lines file
//! for bench/report.py.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use gmstore::{MatrixSource, Metric, NewEpisode, SearchFilter, Store};
use serde_json::json;

const DIM: usize = 512;
const CONCEPT_SIZES: [usize; 4] = [10_000, 50_000, 200_000, 1_000_000];
const EPISODE_SIZES: [usize; 3] = [10_000, 100_000, 1_000_000];
/// Ten contexts: even the smallest store has 1,000 rows per context.
const CONTEXTS: usize = 10;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn timed(f: impl FnOnce()) -> f64 {
    let start = Instant::now();
    f();
    start.elapsed().as_secs_f64()
}

/// A deterministic pseudo-random vector per concept number.
fn embedding(i: usize) -> Vec<f32> {
    let mut x = (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..DIM)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 40) as f32 / (1u64 << 24) as f32 - 0.5
        })
        .collect()
}

fn emit(line: serde_json::Value) {
    println!("{line}");
    common::append_result(&line);
}

/// Fields of /proc/self/status in bytes (Linux).
fn proc_status(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches(" kB").parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

fn insert_concepts(store: &Store, from: usize, to: usize) {
    for chunk_start in (from..to).step_by(10_000) {
        let tx = store.transaction().unwrap();
        for i in chunk_start..(chunk_start + 10_000).min(to) {
            store
                .store_concept(&format!("concept_{i:07}"), &embedding(i), None, Some(0.0))
                .unwrap();
        }
        tx.commit().unwrap();
    }
}

fn concept_scaling(dir: &Path, max: usize) {
    let path = dir.join("concepts.db");
    let store = Store::open_path(&path).unwrap();
    let query = embedding(usize::MAX / 3);
    let mut have = 0;
    for n in CONCEPT_SIZES.into_iter().filter(|n| *n <= max) {
        let insert_s = timed(|| insert_concepts(&store, have, n)) / (n - have) as f64;
        have = n;
        // Upserts of existing names, spread over the whole store.
        let upsert_s = timed(|| {
            let tx = store.transaction().unwrap();
            for j in 0..2_000 {
                let i = (j * 7919) % n;
                store
                    .store_concept(&format!("concept_{i:07}"), &embedding(i + 1), None, Some(0.0))
                    .unwrap();
            }
            tx.commit().unwrap();
        }) / 2_000.0;
        // A store at rest: the first query reads the main file, not the WAL.
        store.checkpoint().unwrap();
        let filter = SearchFilter::default();
        let first: Vec<f64> = (0..3)
            .map(|_| {
                let fresh = Store::open_path(&path).unwrap();
                timed(|| {
                    fresh.nearest_concepts(&query, 10, Metric::Dot, &filter).unwrap();
                })
            })
            .collect();
        store.nearest_concepts(&query, 10, Metric::Dot, &filter).unwrap();
        let first_from_snapshot = first_query_from_snapshot(&store, &path, &query);
        let cached: Vec<f64> = (0..15)
            .map(|q| {
                let v = embedding(q * 31 + 7);
                timed(|| {
                    store.nearest_concepts(&v, 10, Metric::Dot, &filter).unwrap();
                })
            })
            .collect();
        let memory = child_memory(&["knn", path.to_str().unwrap()]);
        emit(json!({
            "suite": "scaling", "what": "concepts", "n": n, "dim": DIM,
            "insert_s": insert_s, "upsert_s": upsert_s,
            "first_query_s": median(first), "query_s": median(cached),
            "first_query_snapshot_s": first_from_snapshot,
            "knn_cache_bytes": memory["anon_growth"], "rss_file_bytes": memory["rss_file"],
            "theory_bytes": n * (DIM * 4 + 8 + 4),
            "db_bytes": std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0),
        }));
    }
}

/// The first query of a fresh handle whose matrix comes from a snapshot
/// file (median of 3): `store`, the writer, saves it, then changes one
/// concept, so each fresh handle also catches up from the change log.
fn first_query_from_snapshot(store: &Store, path: &Path, query: &[f32]) -> f64 {
    let snapshot = path.with_extension("knn");
    store.set_knn_snapshot(Some(&snapshot)).unwrap();
    store.save_knn_snapshot().unwrap();
    store
        .store_concept("concept_0000000", &embedding(3), None, Some(0.0))
        .unwrap();
    let filter = SearchFilter::default();
    let times = (0..3)
        .map(|_| {
            let fresh = Store::open_path(path).unwrap();
            fresh.set_knn_snapshot(Some(&snapshot)).unwrap();
            let t = timed(|| {
                fresh.nearest_concepts(query, 10, Metric::Dot, &filter).unwrap();
            });
            assert_eq!(fresh.knn_matrix_source(), MatrixSource::Snapshot);
            fresh.set_knn_snapshot(None).unwrap();
            t
        })
        .collect();
    store.set_knn_snapshot(None).unwrap();
    median(times)
}

fn episode_scaling(dir: &Path, max: usize) {
    let path = dir.join("episodes.db");
    let store = Store::open_path(&path).unwrap();
    let data = [5u8; 64];
    let contexts: Vec<String> = (0..CONTEXTS).map(|c| format!("ctx_{c}")).collect();
    let mut have = 0;
    for n in EPISODE_SIZES.into_iter().filter(|n| *n <= max) {
        for start in (have..n).step_by(50_000) {
            let batch: Vec<_> = (start..(start + 50_000).min(n))
                .map(|i| NewEpisode {
                    timestamp: Some(i as f64),
                    ..NewEpisode::new(&data, (i % 100) as f64 / 100.0, &contexts[i % CONTEXTS])
                })
                .collect();
            store.store_episodes(&batch).unwrap();
        }
        have = n;
        store.checkpoint().unwrap();
        // Measured on a fresh handle after one unmeasured pass over every
        // context: right after a million inserts the first queries run
        // cold and made the curve grow where, warm, it is flat (measured
        // interleaved: 0.75-0.84 ms from 10k to 1M).
        let reader = Store::open_path(&path).unwrap();
        let limit = 1_000;
        let query = |q: usize| {
            let rows = reader
                .get_episodes_by_context(&contexts[q % CONTEXTS], limit as i64, None)
                .unwrap();
            assert_eq!(rows.len(), limit);
        };
        (0..CONTEXTS).for_each(query);
        let queries: Vec<f64> = (0..40).map(|q| timed(|| query(q))).collect();
        let memory = child_memory(&["episodes", path.to_str().unwrap()]);
        emit(json!({
            "suite": "scaling", "what": "episodes", "n": n, "rows": limit,
            "context_query_s": median(queries),
            "peak_rss_bytes": memory["peak"], "anon_bytes": memory["anon"],
            "db_bytes": std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0),
        }));
    }
}

/// Runs this binary again as `child <kind> <path>` and reads its report, so
/// each memory figure comes from a process that did only that one job.
fn child_memory(args: &[&str]) -> serde_json::Value {
    let exe = std::env::current_exe().unwrap();
    let out = std::process::Command::new(exe)
        .arg("child")
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "child failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn child(kind: &str, path: &str) {
    let store = Store::open_path(path).unwrap();
    let anon_before = proc_status("RssAnon");
    let report = match kind {
        "knn" => {
            store
                .nearest_concepts(&embedding(1), 10, Metric::Dot, &SearchFilter::default())
                .unwrap();
            json!({
                "anon_growth": proc_status("RssAnon").saturating_sub(anon_before),
                "rss_file": proc_status("RssFile"),
            })
        }
        _ => {
            for q in 0..200 {
                store
                    .get_episodes_by_context(&format!("ctx_{}", q % CONTEXTS), 1_000, None)
                    .unwrap();
            }
            store.get_recent_episodes(f64::MAX, 1_000).unwrap();
            json!({"peak": proc_status("VmHWM"), "anon": proc_status("RssAnon")})
        }
    };
    println!("{report}");
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("child") {
        return child(&args[2], &args[3]);
    }
    let max: usize = std::env::var("GM_SCALING_MAX")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    // Episodes first: after the 1M-concept phase has freed its 2 GB the
    // kernel is still compacting memory, which slowed every episode query
    // about 2x in a measured run.
    episode_scaling(dir.path(), max);
    concept_scaling(dir.path(), max);
    eprintln!(
        "scaling: {:.0?}",
        Duration::from_secs_f64(started.elapsed().as_secs_f64())
    );
}
