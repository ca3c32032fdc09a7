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

mod common;

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use gmstore::ffi::concepts::gm_store_concept;
use gmstore::ffi::episodes::{
    gm_episode_free, gm_episode_input, gm_episode_list_free, gm_get_episode, gm_get_episodes_by_context,
    gm_store_episode, gm_store_episodes,
};
use gmstore::ffi::handle::{gm_close, gm_open, gm_store};
use gmstore::ffi::learning::{
    gm_get_best_strategies, gm_store_learning_event, gm_strategy_list_free, gm_strategy_stats,
    gm_strategy_summary_list_free,
};
use gmstore::ffi::transactions::{gm_begin, gm_commit};
use gmstore::{NewEpisode, NewLearningEvent, Options, RetentionPolicy, Store, StrategyQuery};
use rusqlite::{params, Connection};

const SMALL_EPISODE: usize = 64;
const LARGE_EPISODE: usize = 170_000;

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
    conn.execute_batch(gmstore::seed_ddl()).unwrap();
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
    // Closed before the next side is timed: its checkpoint thread must not
    // copy this side's log during another side's timing.
    drop(store);
    let handle = abi_open(&b.fresh("abi_single"));
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

/// Single-episode stores into a store of `fill` episodes: without a
/// policy, under a cap it never reaches (the check alone), at a cap of
/// `fill` (each store evicts the oldest, in its own transaction), at that
/// cap evicting 1% at a time, and the user's own way to the exact cap:
/// insert, then delete the oldest.
fn retention_stores(b: &mut Bench, fill: usize, n: usize) -> [Duration; 5] {
    let data = vec![7u8; SMALL_EPISODE];
    let caps = [
        (None, 0),
        (Some(fill + n), 0),
        (Some(fill), 0),
        (Some(fill), fill / 100),
    ];
    let mut times = [Duration::ZERO; 5];
    for (i, (cap, at_once)) in caps.into_iter().enumerate() {
        let store = gm_db(&b.fresh("gm_retention"));
        let batch: Vec<_> = (0..fill).map(|_| NewEpisode::new(&data, 0.5, "ctx")).collect();
        store.store_episodes(&batch).unwrap();
        let policy = cap.map(|max| RetentionPolicy {
            max_episodes: Some(max as i64),
            eviction_batch: at_once as i64,
            ..RetentionPolicy::default()
        });
        store.set_retention_policy(policy.as_ref()).unwrap();
        times[i] = timed(|| {
            for _ in 0..n {
                black_box(store.store_episode(&NewEpisode::new(&data, 0.5, "ctx")).unwrap());
            }
        });
        let kept = store.count_episodes().unwrap() as usize;
        match cap {
            None => assert_eq!(kept, fill + n),
            Some(max) => assert!(
                kept <= max && kept + at_once.max(1) > max,
                "{kept} kept under {max}"
            ),
        }
    }
    let store = gm_db(&b.fresh("gm_own_delete"));
    let batch: Vec<_> = (0..fill).map(|_| NewEpisode::new(&data, 0.5, "ctx")).collect();
    store.store_episodes(&batch).unwrap();
    times[4] = timed(|| {
        for _ in 0..n {
            store.begin().unwrap();
            black_box(store.store_episode(&NewEpisode::new(&data, 0.5, "ctx")).unwrap());
            store
                .execute(
                    "DELETE FROM episodes WHERE id = (SELECT min(id) FROM episodes)",
                    &[],
                )
                .unwrap();
            store.commit().unwrap();
        }
    });
    times
}

/// 1,000-row context query among 50,000 episodes of 50 contexts.
fn context_query(b: &mut Bench, queries: usize) -> (Duration, Duration, Duration) {
    let data = vec![1u8; SMALL_EPISODE];
    let path = b.fresh("gm_ctx");
    let store = gm_db(&path);
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
    drop(store);
    let handle = abi_open(&path);
    let contexts_c: Vec<std::ffi::CString> = contexts
        .iter()
        .map(|c| std::ffi::CString::new(c.as_str()).unwrap())
        .collect();
    let abi = timed(|| {
        for q in 0..queries {
            let mut list = std::ptr::null_mut();
            let status = unsafe {
                gm_get_episodes_by_context(
                    handle,
                    contexts_c[q % 50].as_ptr(),
                    1000,
                    std::ptr::null(),
                    &mut list,
                )
            };
            assert_eq!(status, 0);
            assert_eq!(unsafe { (*list).len }, 1000);
            unsafe { gm_episode_list_free(list) };
        }
    });
    unsafe { gm_close(handle) };
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
    (gm, abi, base)
}

/// Upserts of 512-d concepts: n inserts, then n updates of the same names,
/// each in one transaction.
fn concept_upsert(b: &mut Bench, n: usize) -> (Duration, Duration, Duration) {
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
    let handle = abi_open(&b.fresh("abi_concepts"));
    let names_c: Vec<std::ffi::CString> = names
        .iter()
        .map(|n| std::ffi::CString::new(n.as_str()).unwrap())
        .collect();
    let abi = timed(|| {
        for _round in 0..2 {
            assert_eq!(unsafe { gm_begin(handle) }, 0);
            for (name, emb) in names_c.iter().zip(&embeddings) {
                let mut id = 0i64;
                let status = unsafe {
                    gm_store_concept(
                        handle,
                        name.as_ptr(),
                        emb.as_ptr(),
                        emb.len(),
                        std::ptr::null(),
                        std::ptr::null(),
                        &mut id,
                    )
                };
                assert_eq!(status, 0);
            }
            assert_eq!(unsafe { gm_commit(handle) }, 0);
        }
    });
    unsafe { gm_close(handle) };
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
    (gm, abi, base)
}

/// Best strategies of one task among 100,000 events of 20 tasks: Rust
/// API, C ABI (query and free), raw.
fn best_strategies(b: &mut Bench, queries: usize) -> (Duration, Duration, Duration) {
    let path = b.fresh("gm_learning");
    let store = gm_db(&path);
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
    drop(store);
    let handle = abi_open(&path);
    let tasks_c: Vec<std::ffi::CString> = tasks
        .iter()
        .map(|t| std::ffi::CString::new(t.as_str()).unwrap())
        .collect();
    let abi = timed(|| {
        for q in 0..queries {
            let mut list = std::ptr::null_mut();
            let status = unsafe { gm_get_best_strategies(handle, tasks_c[q % 20].as_ptr(), 5, &mut list) };
            assert_eq!(status, 0);
            assert_eq!(unsafe { (*list).len }, 5);
            unsafe { gm_strategy_list_free(list) };
        }
    });
    unsafe { gm_close(handle) };
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
    (gm, abi, base)
}

/// Opens a store through the C ABI.
fn abi_open(path: &Path) -> *mut gm_store {
    let path = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
    let mut handle: *mut gm_store = std::ptr::null_mut();
    assert_eq!(
        unsafe { gm_open(path.as_ptr(), std::ptr::null(), &mut handle) },
        0
    );
    handle
}

fn abi_input(data: &[u8], timestamp: f64, context: &std::ffi::CStr) -> gm_episode_input {
    gm_episode_input {
        experience_data: data.as_ptr(),
        experience_len: data.len(),
        performance_score: 0.5,
        timestamp,
        context_hash: context.as_ptr(),
        metadata: std::ptr::null(),
        has_timestamp: 1,
        reserved: [0; 7],
    }
}

/// The same batch of small episodes through gm_store_episodes.
fn batch_store_abi(b: &mut Bench, n: usize) -> (Duration, Duration) {
    let data = vec![7u8; SMALL_EPISODE];
    let handle = abi_open(&b.fresh("abi_batch"));
    let inputs: Vec<_> = (0..n).map(|i| abi_input(&data, i as f64, c"ctx")).collect();
    let mut ids = vec![0i64; n];
    let gm = timed(|| {
        assert_eq!(
            unsafe { gm_store_episodes(handle, inputs.as_ptr(), n, ids.as_mut_ptr()) },
            0
        );
    });
    unsafe { gm_close(handle) };
    let mut conn = raw_seed_db(&b.fresh("raw_batch_abi"));
    let base = timed(|| {
        let tx = conn.transaction().unwrap();
        for i in 0..n {
            raw_insert_episode(&tx, &data, 0.5, "ctx", i as f64);
        }
        tx.commit().unwrap();
    });
    (gm, base)
}

/// Episodes of 170 KB: `n` in one batch, then `n / 2` one commit each.
/// Returns (batched Rust, batched raw, per call Rust, per call raw,
/// batched C ABI, per call C ABI).
fn large_episodes(b: &mut Bench, n: usize) -> [Duration; 6] {
    let data: Vec<u8> = (0..LARGE_EPISODE as u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    let store = gm_db(&b.fresh("gm_large"));
    let batch: Vec<_> = (0..n).map(|_| NewEpisode::new(&data, 0.5, "big")).collect();
    let gm_batch = timed(|| {
        black_box(store.store_episodes(&batch).unwrap());
    });
    let gm_single = timed(|| {
        for e in &batch[..n / 2] {
            black_box(store.store_episode(e).unwrap());
        }
    });
    // Closed (its checkpoint thread joined) before another side is timed.
    drop(store);
    let mut conn = raw_seed_db(&b.fresh("raw_large"));
    let raw_batch = timed(|| {
        let tx = conn.transaction().unwrap();
        for _ in 0..n {
            raw_insert_episode(&tx, &data, 0.5, "big", now());
        }
        tx.commit().unwrap();
    });
    let raw_single = timed(|| {
        for _ in 0..n / 2 {
            raw_insert_episode(&conn, &data, 0.5, "big", now());
        }
    });
    let handle = abi_open(&b.fresh("abi_large"));
    let inputs: Vec<_> = (0..n).map(|i| abi_input(&data, i as f64, c"big")).collect();
    let mut ids = vec![0i64; n];
    let abi_batch = timed(|| {
        assert_eq!(
            unsafe { gm_store_episodes(handle, inputs.as_ptr(), n, ids.as_mut_ptr()) },
            0
        );
    });
    let abi_single = timed(|| {
        for input in &inputs[..n / 2] {
            let mut id = 0i64;
            assert_eq!(unsafe { gm_store_episode(handle, input, &mut id) }, 0);
        }
    });
    unsafe { gm_close(handle) };
    [gm_batch, raw_batch, gm_single, raw_single, abi_batch, abi_single]
}

/// Episodes by random id among 50,000: Rust API, C ABI (get and free), raw.
fn retrieve_by_id(b: &mut Bench, lookups: usize) -> (Duration, Duration, Duration) {
    let data = vec![3u8; SMALL_EPISODE];
    let path = b.fresh("gm_by_id");
    let store = gm_db(&path);
    let batch: Vec<_> = (0..50_000)
        .map(|i| NewEpisode {
            timestamp: Some(i as f64),
            ..NewEpisode::new(&data, 0.5, "ctx")
        })
        .collect();
    store.store_episodes(&batch).unwrap();
    let mut conn = raw_seed_db(&b.fresh("raw_by_id"));
    let tx = conn.transaction().unwrap();
    for i in 0..50_000 {
        raw_insert_episode(&tx, &data, 0.5, "ctx", i as f64);
    }
    tx.commit().unwrap();
    let ids: Vec<i64> = (0..lookups).map(|i| (i as i64 * 7919) % 50_000 + 1).collect();
    let rust = timed(|| {
        for id in &ids {
            assert!(store.retrieve_episode(*id).unwrap().is_some());
        }
    });
    drop(store);
    let handle = abi_open(&path);
    let abi = timed(|| {
        for id in &ids {
            let mut episode = std::ptr::null_mut();
            assert_eq!(unsafe { gm_get_episode(handle, *id, &mut episode) }, 0);
            unsafe { gm_episode_free(black_box(episode)) };
        }
    });
    unsafe { gm_close(handle) };
    let raw = timed(|| {
        for id in &ids {
            let row: RawEpisode = conn
                .prepare_cached(
                    "SELECT id, timestamp, experience_data, performance_score, context_hash, metadata, created_at \
                     FROM episodes WHERE id = ?1",
                )
                .unwrap()
                .query_row([id], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?))
                })
                .unwrap();
            black_box(row);
        }
    });
    (rust, abi, raw)
}

/// Concepts (512-d) among 10,000 looked up by name, which counts an access,
/// against the same concepts by id, which does not: the counting must not
/// make a lookup a write transaction (target: at most 2x by id). Every
/// count is written inside the timed span: the flushes during the loop and
/// the last one, forced by a search that orders by the counts.
fn concept_by_name(b: &mut Bench, lookups: usize) -> (Duration, Duration) {
    let store = gm_db(&b.fresh("gm_by_name"));
    let embedding = vec![0.5f32; 512];
    let tx = store.transaction().unwrap();
    let ids: Vec<i64> = (0..10_000)
        .map(|i| {
            store
                .store_concept(&format!("concept_{i}"), &embedding, None, None)
                .unwrap()
        })
        .collect();
    tx.commit().unwrap();
    let picks: Vec<usize> = (0..lookups).map(|i| (i * 7919) % ids.len()).collect();
    let names: Vec<String> = picks.iter().map(|&i| format!("concept_{i}")).collect();
    let by_name = timed(|| {
        for name in &names {
            black_box(store.retrieve_concept_by_name(name).unwrap().unwrap());
        }
        store.search_concepts("", 0).unwrap();
    });
    let by_id = timed(|| {
        for &i in &picks {
            black_box(store.retrieve_concept(ids[i]).unwrap().unwrap());
        }
    });
    (by_name, by_id)
}

/// `n` learning events in one transaction: Rust API, C ABI, raw.
fn learning_events(b: &mut Bench, n: usize) -> (Duration, Duration, Duration) {
    let tasks: Vec<String> = (0..10).map(|t| format!("task_{t}")).collect();
    let task_c: Vec<std::ffi::CString> = tasks
        .iter()
        .map(|t| std::ffi::CString::new(t.as_str()).unwrap())
        .collect();
    let store = gm_db(&b.fresh("gm_events"));
    let rust = timed(|| {
        let tx = store.transaction().unwrap();
        for i in 0..n {
            black_box(
                store
                    .store_learning_event(&tasks[i % 10], 0.5, "strategy", None, Some(i as f64))
                    .unwrap(),
            );
        }
        tx.commit().unwrap();
    });
    let handle = abi_open(&b.fresh("abi_events"));
    let abi = timed(|| {
        assert_eq!(unsafe { gm_begin(handle) }, 0);
        for i in 0..n {
            let (mut id, ts) = (0i64, i as f64);
            let status = unsafe {
                gm_store_learning_event(
                    handle,
                    task_c[i % 10].as_ptr(),
                    0.5,
                    c"strategy".as_ptr(),
                    std::ptr::null(),
                    &ts,
                    &mut id,
                )
            };
            assert_eq!(status, 0);
        }
        assert_eq!(unsafe { gm_commit(handle) }, 0);
    });
    unsafe { gm_close(handle) };
    let mut conn = raw_seed_db(&b.fresh("raw_events"));
    let raw = timed(|| {
        let tx = conn.transaction().unwrap();
        for i in 0..n {
            tx.prepare_cached("INSERT INTO learning_events (task_type, performance_delta, strategy_used, timestamp, parameters) VALUES (?1, ?2, ?3, ?4, '{}')")
                .unwrap()
                .execute(params![&tasks[i % 10], 0.5, "strategy", i as f64])
                .unwrap();
            black_box(tx.last_insert_rowid());
        }
        tx.commit().unwrap();
    });
    (rust, abi, raw)
}

/// Neighbourhoods among 20,000 concepts with 4 edges each: gmstore's
/// breadth-first search (one query per hop level) against the recursive
/// CTE a SQL user would write, on the same edges. The CTE revisits a node
/// at every depth it is reachable from, so deep searches diverge.
fn neighbourhood(b: &mut Bench, starts: usize, hops: u32) -> (Duration, Duration) {
    const N: i64 = 20_000;
    let edge = |i: i64, e: i64| ((i * 7919 + e * 104_729) % N + 1, 0.5 + (e as f64) / 10.0);
    let store = gm_db(&b.fresh("gm_graph"));
    let mut conn = raw_seed_db(&b.fresh("raw_graph"));
    let tx = store.transaction().unwrap();
    let raw_tx = conn.transaction().unwrap();
    for i in 1..=N {
        let name = format!("c{i}");
        store
            .store_concept(&name, &[i as f32, 1.0], None, Some(0.0))
            .unwrap();
        raw_tx
            .execute(
                "INSERT INTO concepts (id, name, embedding, creation_time) VALUES (?1, ?2, x'00', 0)",
                params![i, name],
            )
            .unwrap();
    }
    for i in 1..=N {
        for e in 0..4 {
            let (target, strength) = edge(i, e);
            store
                .add_concept_relationship(i, target, "rel", strength)
                .unwrap();
            raw_tx
                .execute(
                    "INSERT OR REPLACE INTO concept_relationships (source_concept_id, target_concept_id, relationship_type, strength) VALUES (?1, ?2, 'rel', ?3)",
                    params![i, target, strength],
                )
                .unwrap();
        }
    }
    tx.commit().unwrap();
    raw_tx.commit().unwrap();
    let start_ids: Vec<i64> = (0..starts as i64).map(|s| (s * 4_001) % N + 1).collect();
    let filter = gmstore::EdgeFilter {
        relationship_type: None,
        min_strength: 0.0,
    };
    let mut found = Vec::new();
    let gm = timed(|| {
        for id in &start_ids {
            found.push(store.concept_neighborhood(*id, hops, &filter).unwrap().len());
        }
    });
    let mut raw_found = Vec::new();
    let base = timed(|| {
        for id in &start_ids {
            let mut stmt = conn
                .prepare_cached(
                    "WITH RECURSIVE reach(id, hops) AS ( \
                       SELECT ?1, 0 UNION \
                       SELECT r.target_concept_id, reach.hops + 1 FROM concept_relationships r \
                       JOIN reach ON r.source_concept_id = reach.id WHERE reach.hops < ?2) \
                     SELECT c.id, c.name, min(reach.hops) AS h FROM reach JOIN concepts c ON c.id = reach.id \
                     WHERE reach.id != ?1 GROUP BY c.id ORDER BY h, c.id",
                )
                .unwrap();
            let rows: Vec<(i64, String, i64)> = stmt
                .query_map(params![id, hops], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .unwrap()
                .map(|r| r.unwrap())
                .collect();
            raw_found.push(rows.len());
        }
    });
    assert_eq!(found, raw_found, "both traversals reach the same concepts");
    (gm, base)
}

/// Every row to the results file bench/report.py gathers.
fn emit_json(rows: &[Row], runs: usize) {
    for row in rows {
        common::append_result(&serde_json::json!({
            "suite": "core",
            "workload": row.name,
            "baseline": row.baseline,
            "gm_s": common::secs(&row.gm),
            "base_s": common::secs(&row.base),
            "target": row.target.map(|(t, op)| format!("{op} {t}")),
            "runs": runs,
        }));
    }
}

/// `strategy_stats` against `get_best_strategies` over one task of 100,000
/// events and 10 strategies: both scan the same covering index, so the
/// ratio is the cost of the uncertainty (moments, first and last use, the
/// t quantile). Interleaved; returns (Rust stats, Rust best, C stats, C best).
fn strategy_stats_vs_best(b: &mut Bench, queries: usize) -> [Duration; 4] {
    let path = b.fresh("gm_strategy_stats");
    let store = gm_db(&path);
    let names: Vec<String> = (0..10).map(|s| format!("strategy_{s}")).collect();
    let events: Vec<NewLearningEvent<'_>> = (0..100_000usize)
        .map(|i| NewLearningEvent {
            task_type: "task",
            performance_delta: 1e6 + ((i * 7919) % 1000) as f64 / 1000.0,
            strategy_used: &names[(i * 31) % 10],
            parameters: None,
            timestamp: Some(i as f64),
        })
        .collect();
    store.store_learning_events(&events).unwrap();
    let query = StrategyQuery::default();
    let mut times = [Duration::ZERO; 4];
    for _ in 0..queries {
        times[0] += timed(|| assert_eq!(store.strategy_stats("task", &query).unwrap().len(), 10));
        times[1] += timed(|| assert_eq!(store.get_best_strategies("task", 10).unwrap().len(), 10));
    }
    drop(store);
    let handle = abi_open(&path);
    let task = c"task";
    for _ in 0..queries {
        times[2] += timed(|| {
            let mut list = std::ptr::null_mut();
            assert_eq!(
                unsafe { gm_strategy_stats(handle, task.as_ptr(), std::ptr::null(), &mut list) },
                0
            );
            assert_eq!(unsafe { (*list).len }, 10);
            unsafe { gm_strategy_summary_list_free(list) };
        });
        times[3] += timed(|| {
            let mut list = std::ptr::null_mut();
            assert_eq!(
                unsafe { gm_get_best_strategies(handle, task.as_ptr(), 10, &mut list) },
                0
            );
            assert_eq!(unsafe { (*list).len }, 10);
            unsafe { gm_strategy_list_free(list) };
        });
    }
    unsafe { gm_close(handle) };
    times
}

fn row(name: &'static str, baseline: &'static str, target: Option<(f64, &'static str)>) -> Row {
    Row {
        name,
        gm: vec![],
        base: vec![],
        target,
        baseline,
    }
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
    const RAW: &str = "raw rusqlite";
    let mut rows = vec![
        row(
            "batch store, 10,000 small episodes, Rust API",
            RAW,
            Some((1.2, "<=")),
        ),
        row(
            "batch store, 10,000 small episodes, C ABI",
            RAW,
            Some((1.2, "<=")),
        ),
        row("batch store, 200 episodes of 170 KB, Rust API", RAW, None),
        row("batch store, 200 episodes of 170 KB, C ABI", RAW, None),
        row("single store x100, 170 KB episodes, Rust API", RAW, None),
        row("single store x100, 170 KB episodes, C ABI", RAW, None),
        row("single store x2,000, Rust API", "raw rusqlite, seed format", None),
        row("single store x2,000, C ABI", "raw rusqlite, seed format", None),
        row(
            "single store x2,000, C ABI",
            "raw rusqlite, same format",
            Some((1.2, "<=")),
        ),
        row(
            "single store x2,000, C ABI vs Rust API",
            "Rust API",
            Some((1.1, "<=")),
        ),
        row("retrieve by id x2,000, Rust API", RAW, None),
        row("retrieve by id x2,000, C ABI", RAW, None),
        row("context query, 1,000 rows x20, Rust API", RAW, None),
        row("context query, 1,000 rows x20, C ABI", RAW, None),
        row(
            "concept upsert 512-d, 2x5,000, Rust API",
            "raw rusqlite, seed schema",
            Some((1.0, "<")),
        ),
        row(
            "concept upsert 512-d, 2x5,000, C ABI",
            "raw rusqlite, seed schema",
            Some((1.0, "<")),
        ),
        row("learning events x10,000, one transaction, Rust API", RAW, None),
        row("learning events x10,000, one transaction, C ABI", RAW, None),
        row("best strategies x200 (100k events), Rust API", RAW, None),
        row("best strategies x200 (100k events), C ABI", RAW, None),
        row(
            "3-hop neighbourhood x200 (20k concepts, 80k edges), Rust API",
            "raw rusqlite, recursive CTE",
            None,
        ),
        row(
            "8-hop neighbourhood x10 (20k concepts, 80k edges), Rust API",
            "raw rusqlite, recursive CTE",
            None,
        ),
        row(
            "strategy stats x20 (one task, 100k events), Rust API",
            "get_best_strategies, Rust API",
            Some((1.2, "<=")),
        ),
        row(
            "strategy stats x20 (one task, 100k events), C ABI",
            "gm_get_best_strategies",
            Some((1.2, "<=")),
        ),
        row(
            "concept by name (counted, written) x50,000, Rust API",
            "the same concepts by id, Rust API",
            Some((2.0, "<=")),
        ),
        row(
            "single store x2,000 into 20,000, retention cap not reached, Rust API",
            "no policy",
            Some((1.2, "<=")),
        ),
        row(
            "single store x2,000 at a 20,000-episode cap (each evicts one), Rust API",
            "no policy",
            None,
        ),
        row(
            "single store x2,000 at a 20,000-episode cap (each evicts one), Rust API",
            "insert + DELETE oldest by hand, one transaction each",
            None,
        ),
        row(
            "single store x2,000 at a 20,000-episode cap, eviction_batch 200, Rust API",
            "no policy",
            Some((1.2, "<=")),
        ),
    ];
    for run in 0..runs {
        eprintln!("run {}/{runs}", run + 1);
        let mut record = |i: usize, gm: Duration, base: Duration| {
            rows[i].gm.push(gm);
            rows[i].base.push(base);
        };
        let (g, r) = batch_store(&mut b, 10_000);
        record(0, g, r);
        let (g, r) = batch_store_abi(&mut b, 10_000);
        record(1, g, r);
        let [gb, rb, gs, rs, ab, asg] = large_episodes(&mut b, 200);
        record(2, gb, rb);
        record(3, ab, rb);
        record(4, gs, rs);
        record(5, asg, rs);
        let (rust, abi, raw, raw_same) = single_store(&mut b, 2_000);
        record(6, rust, raw);
        record(7, abi, raw);
        record(8, abi, raw_same);
        record(9, abi, rust);
        let (rust, abi, raw) = retrieve_by_id(&mut b, 2_000);
        record(10, rust, raw);
        record(11, abi, raw);
        let (rust, abi, raw) = context_query(&mut b, 20);
        record(12, rust, raw);
        record(13, abi, raw);
        let (rust, abi, raw) = concept_upsert(&mut b, 5_000);
        record(14, rust, raw);
        record(15, abi, raw);
        let (rust, abi, raw) = learning_events(&mut b, 10_000);
        record(16, rust, raw);
        record(17, abi, raw);
        let (rust, abi, raw) = best_strategies(&mut b, 200);
        record(18, rust, raw);
        record(19, abi, raw);
        let (g, r) = neighbourhood(&mut b, 200, 3);
        record(20, g, r);
        let (g, r) = neighbourhood(&mut b, 10, 8);
        record(21, g, r);
        let [rust_stats, rust_best, abi_stats, abi_best] = strategy_stats_vs_best(&mut b, 20);
        record(22, rust_stats, rust_best);
        record(23, abi_stats, abi_best);
        let (g, r) = concept_by_name(&mut b, 50_000);
        record(24, g, r);
        let [off, under, at_cap, batched, by_hand] = retention_stores(&mut b, 20_000, 2_000);
        record(25, under, off);
        record(26, at_cap, off);
        record(27, at_cap, by_hand);
        record(28, batched, off);
    }
    emit_json(&rows, runs);
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
