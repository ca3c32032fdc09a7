//! Core benchmark: gmstore's Rust API and C ABI against raw rusqlite doing
//! the same work, measured in the same run. Each workload runs RUNS times
//! on fresh files, alternating which side goes first; the table gives the
//! median time of each side and the median of the per-run ratios.
//!
//! Baseline: the straightforward rusqlite code a user would write on the
//! seed's own schema and pragmas (seed DDL with its duplicate indexes,
//! 4 KiB pages, WAL, synchronous NORMAL, one transaction per batch).
//!
//! For single-row commits a second baseline isolates library overhead: raw
//! rusqlite on a file gmstore created (same schema, page size, pragmas).
//! The gap between the two baselines is the page-size trade-off: 16 KiB
//! pages pack embedding rows densely but write more per tiny commit.
//!
//! `cargo bench --bench core` (or `make bench`). GM_BENCH_RUNS overrides
//! the run count, GM_PAGE_SIZE gmstore's page size.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use gmstore::ffi::episodes::{gm_episode_input, gm_store_episode};
use gmstore::ffi::handle::{gm_close, gm_open, gm_store};
use gmstore::{NewEpisode, Options, Store};
use rusqlite::{params, Connection};

const SMALL_EPISODE: usize = 64;

struct Row {
    name: &'static str,
    gm: Vec<Duration>,
    base: Vec<Duration>,
    target: Option<(f64, &'static str)>,
    baseline: &'static str,
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

fn timed(f: impl FnOnce()) -> Duration {
    let start = Instant::now();
    f();
    start.elapsed()
}

fn raw_seed_db(path: &Path) -> Connection {
    let conn = Connection::open(path).unwrap();
    conn.pragma_update(None, "journal_mode", "WAL").unwrap();
    conn.pragma_update(None, "synchronous", "NORMAL").unwrap();
    conn.pragma_update(None, "foreign_keys", true).unwrap();
    conn.execute_batch(gmstore::migrations::seed_ddl()).unwrap();
    conn
}

fn gm_db(path: &Path) -> Store {
    let page_size = std::env::var("GM_PAGE_SIZE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(Options::default().page_size);
    Store::open(Options {
        page_size,
        ..Options::new(path)
    })
    .unwrap()
}

fn raw_insert_episode(conn: &Connection, data: &[u8], score: f64, ctx: &str, ts: f64) {
    conn.prepare_cached(
        "INSERT INTO episodes (timestamp, experience_data, performance_score, context_hash, metadata) VALUES (?1, ?2, ?3, ?4, ?5)",
    )
    .unwrap()
    .execute(params![ts, data, score, ctx, "{}"])
    .unwrap();
}

fn now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

type RawEpisode = (i64, f64, Vec<u8>, f64, String, String, f64);

struct Bench {
    dir: tempfile::TempDir,
    run: usize,
}

impl Bench {
    fn fresh(&mut self, name: &str) -> PathBuf {
        self.run += 1;
        self.dir.path().join(format!("{name}_{}.db", self.run))
    }
}

fn batch_store(b: &mut Bench, n: usize) -> (Duration, Duration) {
    let data = vec![7u8; SMALL_EPISODE];
    let store = gm_db(&b.fresh("gm_batch"));
    let batch: Vec<_> = (0..n)
        .map(|i| NewEpisode {
            timestamp: Some(i as f64),
            ..NewEpisode::new(&data, 0.5, "ctx")
        })
        .collect();
    let gm = timed(|| {
        black_box(store.store_episodes(&batch).unwrap());
    });
    let mut conn = raw_seed_db(&b.fresh("raw_batch"));
    let base = timed(|| {
        let tx = conn.transaction().unwrap();
        for i in 0..n {
            raw_insert_episode(&tx, &data, 0.5, "ctx", i as f64);
        }
        tx.commit().unwrap();
    });
    (gm, base)
}

/// Raw rusqlite on a file laid out by gmstore: same schema and page size.
fn raw_same_format_db(path: &Path) -> Connection {
    drop(gm_db(path));
    let conn = Connection::open(path).unwrap();
    conn.pragma_update(None, "synchronous", "NORMAL").unwrap();
    conn.pragma_update(None, "foreign_keys", true).unwrap();
    conn
}

/// Single-episode stores, one transaction each: Rust API, C ABI, raw on
/// the seed's format, raw on gmstore's format.
fn single_store(b: &mut Bench, n: usize) -> (Duration, Duration, Duration, Duration) {
    let data = vec![7u8; SMALL_EPISODE];
    let store = gm_db(&b.fresh("gm_single"));
    let rust = timed(|| {
        for _ in 0..n {
            black_box(store.store_episode(&NewEpisode::new(&data, 0.5, "ctx")).unwrap());
        }
    });
    let path = std::ffi::CString::new(b.fresh("abi_single").to_str().unwrap()).unwrap();
    let mut handle: *mut gm_store = std::ptr::null_mut();
    assert_eq!(
        unsafe { gm_open(path.as_ptr(), std::ptr::null(), &mut handle) },
        0
    );
    let input = gm_episode_input {
        experience_data: data.as_ptr(),
        experience_len: data.len(),
        performance_score: 0.5,
        timestamp: 0.0,
        context_hash: c"ctx".as_ptr(),
        metadata: std::ptr::null(),
        has_timestamp: 0,
        reserved: [0; 7],
    };
    let abi = timed(|| {
        for _ in 0..n {
            let mut id = 0i64;
            assert_eq!(unsafe { gm_store_episode(handle, &input, &mut id) }, 0);
            black_box(id);
        }
    });
    unsafe { gm_close(handle) };
    let conn = raw_seed_db(&b.fresh("raw_single"));
    let raw = timed(|| {
        for _ in 0..n {
            raw_insert_episode(&conn, &data, 0.5, "ctx", now());
        }
    });
    let conn = raw_same_format_db(&b.fresh("raw_same_single"));
    let raw_same = timed(|| {
        for _ in 0..n {
            raw_insert_episode(&conn, &data, 0.5, "ctx", now());
        }
    });
    (rust, abi, raw, raw_same)
}

/// 1,000-row context query among 50,000 episodes of 50 contexts.
fn context_query(b: &mut Bench, queries: usize) -> (Duration, Duration) {
    let data = vec![1u8; SMALL_EPISODE];
    let store = gm_db(&b.fresh("gm_ctx"));
    let contexts: Vec<String> = (0..50).map(|c| format!("ctx_{c}")).collect();
    let batch: Vec<_> = (0..50_000)
        .map(|i| NewEpisode {
            timestamp: Some(i as f64),
            ..NewEpisode::new(&data, (i % 100) as f64 / 100.0, &contexts[i % 50])
        })
        .collect();
    store.store_episodes(&batch).unwrap();
    let mut conn = raw_seed_db(&b.fresh("raw_ctx"));
    let tx = conn.transaction().unwrap();
    for (i, e) in batch.iter().enumerate() {
        raw_insert_episode(
            &tx,
            e.experience_data,
            e.performance_score,
            e.context_hash,
            i as f64,
        );
    }
    tx.commit().unwrap();
    let gm = timed(|| {
        for q in 0..queries {
            let rows = store
                .get_episodes_by_context(&contexts[q % 50], 1000, None)
                .unwrap();
            assert_eq!(rows.len(), 1000);
        }
    });
    let base = timed(|| {
        for q in 0..queries {
            let mut stmt = conn
                .prepare_cached(
                    "SELECT id, timestamp, experience_data, performance_score, context_hash, metadata, created_at \
                     FROM episodes WHERE context_hash = ?1 ORDER BY timestamp DESC LIMIT 1000",
                )
                .unwrap();
            let rows: Vec<RawEpisode> = stmt
                .query_map([&contexts[q % 50]], |r| {
                    Ok((
                        r.get(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        r.get(5)?,
                        r.get(6)?,
                    ))
                })
                .unwrap()
                .map(|r| r.unwrap())
                .collect();
            assert_eq!(rows.len(), 1000);
        }
    });
    (gm, base)
}

/// Upserts of 512-d concepts: n inserts, then n updates of the same names,
/// each in one transaction.
fn concept_upsert(b: &mut Bench, n: usize) -> (Duration, Duration) {
    let embeddings: Vec<Vec<f32>> = (0..n)
        .map(|i| (0..512).map(|j| ((i * 31 + j) % 97) as f32 / 97.0).collect())
        .collect();
    let names: Vec<String> = (0..n).map(|i| format!("concept_{i:06}")).collect();
    let store = gm_db(&b.fresh("gm_concepts"));
    let gm = timed(|| {
        for _round in 0..2 {
            let tx = store.transaction().unwrap();
            for (name, emb) in names.iter().zip(&embeddings) {
                black_box(store.store_concept(name, emb, None, None).unwrap());
            }
            tx.commit().unwrap();
        }
    });
    let mut conn = raw_seed_db(&b.fresh("raw_concepts"));
    let base = timed(|| {
        for _round in 0..2 {
            let tx = conn.transaction().unwrap();
            for (name, emb) in names.iter().zip(&embeddings) {
                let blob: Vec<u8> = emb.iter().flat_map(|v| v.to_le_bytes()).collect();
                let id: i64 = tx
                    .prepare_cached(
                        "INSERT INTO concepts (name, embedding, creation_time, metadata) VALUES (?1, ?2, ?3, '{}') \
                         ON CONFLICT(name) DO UPDATE SET embedding = excluded.embedding RETURNING id",
                    )
                    .unwrap()
                    .query_row(params![name, blob, now()], |r| r.get(0))
                    .unwrap();
                black_box(id);
            }
            tx.commit().unwrap();
        }
    });
    (gm, base)
}

/// Best strategies of one task among 100,000 events of 20 tasks.
fn best_strategies(b: &mut Bench, queries: usize) -> (Duration, Duration) {
    let store = gm_db(&b.fresh("gm_learning"));
    let mut conn = raw_seed_db(&b.fresh("raw_learning"));
    let tasks: Vec<String> = (0..20).map(|t| format!("task_{t}")).collect();
    let strategies: Vec<String> = (0..10).map(|s| format!("strategy_{s}")).collect();
    let tx = store.transaction().unwrap();
    let raw_tx = conn.transaction().unwrap();
    for i in 0..100_000usize {
        let (task, strategy, delta) = (
            &tasks[i % 20],
            &strategies[(i / 20) % 10],
            ((i * 7919) % 1000) as f64 / 1000.0,
        );
        store
            .store_learning_event(task, delta, strategy, None, Some(i as f64))
            .unwrap();
        raw_tx
            .prepare_cached("INSERT INTO learning_events (task_type, performance_delta, strategy_used, timestamp, parameters) VALUES (?1, ?2, ?3, ?4, '{}')")
            .unwrap()
            .execute(params![task, delta, strategy, i as f64])
            .unwrap();
    }
    tx.commit().unwrap();
    raw_tx.commit().unwrap();
    let gm = timed(|| {
        for q in 0..queries {
            assert_eq!(store.get_best_strategies(&tasks[q % 20], 5).unwrap().len(), 5);
        }
    });
    let base = timed(|| {
        for q in 0..queries {
            let mut stmt = conn
                .prepare_cached(
                    "SELECT strategy_used, AVG(performance_delta) AS avg_delta, COUNT(*) FROM learning_events \
                     WHERE task_type = ?1 GROUP BY strategy_used ORDER BY avg_delta DESC LIMIT ?2",
                )
                .unwrap();
            let rows: Vec<(String, f64, i64)> = stmt
                .query_map(params![&tasks[q % 20], 5], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                })
                .unwrap()
                .map(|r| r.unwrap())
                .collect();
            assert_eq!(rows.len(), 5);
        }
    });
    (gm, base)
}

fn main() {
    let runs: usize = std::env::var("GM_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(7);
    let mut b = Bench {
        dir: tempfile::tempdir().unwrap(),
        run: 0,
    };
    let mut rows = vec![
        Row {
            name: "batch store, 10,000 small episodes",
            gm: vec![],
            base: vec![],
            target: Some((1.2, "<=")),
            baseline: "raw rusqlite",
        },
        Row {
            name: "single store x2,000, Rust API",
            gm: vec![],
            base: vec![],
            target: None,
            baseline: "raw rusqlite, seed format",
        },
        Row {
            name: "single store x2,000, C ABI",
            gm: vec![],
            base: vec![],
            target: None,
            baseline: "raw rusqlite, seed format",
        },
        Row {
            name: "single store x2,000, C ABI",
            gm: vec![],
            base: vec![],
            target: Some((1.2, "<=")),
            baseline: "raw rusqlite, same format",
        },
        Row {
            name: "single store x2,000, C ABI vs Rust API",
            gm: vec![],
            base: vec![],
            target: Some((1.1, "<=")),
            baseline: "Rust API",
        },
        Row {
            name: "context query, 1,000 rows x20",
            gm: vec![],
            base: vec![],
            target: None,
            baseline: "raw rusqlite",
        },
        Row {
            name: "concept upsert 512-d, 2x5,000",
            gm: vec![],
            base: vec![],
            target: Some((1.0, "<")),
            baseline: "raw rusqlite, seed schema",
        },
        Row {
            name: "best strategies x200 (100k events)",
            gm: vec![],
            base: vec![],
            target: None,
            baseline: "raw rusqlite",
        },
    ];
    for run in 0..runs {
        eprintln!("run {}/{runs}", run + 1);
        let (g, r) = batch_store(&mut b, 10_000);
        rows[0].gm.push(g);
        rows[0].base.push(r);
        let (rust, abi, raw, raw_same) = single_store(&mut b, 2_000);
        rows[1].gm.push(rust);
        rows[1].base.push(raw);
        rows[2].gm.push(abi);
        rows[2].base.push(raw);
        rows[3].gm.push(abi);
        rows[3].base.push(raw_same);
        rows[4].gm.push(abi);
        rows[4].base.push(rust);
        let (g, r) = context_query(&mut b, 20);
        rows[5].gm.push(g);
        rows[5].base.push(r);
        let (g, r) = concept_upsert(&mut b, 5_000);
        rows[6].gm.push(g);
        rows[6].base.push(r);
        let (g, r) = best_strategies(&mut b, 200);
        rows[7].gm.push(g);
        rows[7].base.push(r);
    }
    println!(
        "gmstore {} on SQLite {}, {runs} runs, medians",
        gmstore::VERSION,
        gmstore::sqlite_version()
    );
    println!(
        "| workload | gmstore (ms) | baseline (ms) | baseline | ratio (median) | ratio range | target |"
    );
    println!("|---|---:|---:|---|---:|---|---|");
    for row in &rows {
        let ms = |v: &[Duration]| median(v.iter().map(|d| d.as_secs_f64() * 1e3).collect());
        let ratios: Vec<f64> = row
            .gm
            .iter()
            .zip(&row.base)
            .map(|(g, r)| g.as_secs_f64() / r.as_secs_f64())
            .collect();
        let lo = ratios.iter().cloned().fold(f64::MAX, f64::min);
        let hi = ratios.iter().cloned().fold(f64::MIN, f64::max);
        let ratio = median(ratios);
        let verdict = match row.target {
            Some((t, "<=")) => format!("<= {t} {}", if ratio <= t { "met" } else { "MISSED" }),
            Some((t, _)) => format!("< {t} {}", if ratio < t { "met" } else { "MISSED" }),
            None => "-".into(),
        };
        println!(
            "| {} | {:.2} | {:.2} | {} | {:.3} | {:.3}-{:.3} | {} |",
            row.name,
            ms(&row.gm),
            ms(&row.base),
            row.baseline,
            ratio,
            lo,
            hi,
            verdict
        );
    }
}
