//! The C ABI on a PostgreSQL store against the raw `postgres` crate running
//! the same statements on the same server, interleaved in one run (medians
//! of the per-run ratios). Needs GMSTORE_TEST_PG (make bench runs it under
//! scripts/pg_throwaway.sh). GM_BENCH_RUNS sets the runs (default 5).
//!
//! The baseline is what a user would write by hand: one prepared INSERT or
//! SELECT per call, autocommit.
mod common;

use std::ffi::CString;
use std::time::{Duration, Instant};

use gmstore::ffi::episodes::{gm_episode_free, gm_episode_input, gm_get_episode, gm_store_episode};
use gmstore::ffi::handle::{gm_close, gm_open, gm_store};
use gmstore::ffi::learning::gm_store_learning_event;

const CALLS: usize = 2_000;

fn timed(f: impl FnOnce()) -> Duration {
    let start = Instant::now();
    f();
    start.elapsed()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

fn main() {
    let server =
        std::env::var("GMSTORE_TEST_PG").expect("GMSTORE_TEST_PG: run under scripts/pg_throwaway.sh");
    let runs: usize = std::env::var("GM_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    let store_name = format!("bench_{}", std::process::id());
    let target = CString::new(format!("{server} store={store_name}")).unwrap();
    let mut handle: *mut gm_store = std::ptr::null_mut();
    assert_eq!(
        unsafe { gm_open(target.as_ptr(), std::ptr::null(), &mut handle) },
        0
    );
    let mut raw = postgres::Client::connect(&server, postgres::NoTls).unwrap();
    raw.batch_execute(&format!("SET search_path TO \"gm_{store_name}\""))
        .unwrap();
    let insert = raw
        .prepare(
            "INSERT INTO episodes (timestamp, experience_data, performance_score, context_hash, metadata) \
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .unwrap();
    let select = raw
        .prepare(
            "SELECT id, timestamp, experience_data, performance_score, context_hash, metadata, created_at \
             FROM episodes WHERE id = $1",
        )
        .unwrap();
    let event = raw
        .prepare(
            "INSERT INTO learning_events (task_type, performance_delta, strategy_used, timestamp, parameters) \
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .unwrap();
    let data = vec![7u8; 64];
    let context = CString::new("bench").unwrap();
    let (task, strategy) = (CString::new("task").unwrap(), CString::new("adam").unwrap());
    let mut rows: Vec<(&str, Vec<f64>, Vec<f64>)> = vec![
        ("store_episode x2,000 (64 B), C ABI on PostgreSQL", vec![], vec![]),
        ("get_episode x2,000, C ABI on PostgreSQL", vec![], vec![]),
        ("store_learning_event x2,000, C ABI on PostgreSQL", vec![], vec![]),
    ];
    let mut ids = Vec::new();
    for run in 0..runs {
        let gm = timed(|| {
            for i in 0..CALLS {
                let input = gm_episode_input {
                    experience_data: data.as_ptr(),
                    experience_len: data.len(),
                    performance_score: 0.5,
                    timestamp: i as f64,
                    context_hash: context.as_ptr(),
                    metadata: std::ptr::null(),
                    has_timestamp: 1,
                    reserved: [0; 7],
                };
                let mut id = 0;
                assert_eq!(unsafe { gm_store_episode(handle, &input, &mut id) }, 0);
                ids.push(id);
            }
        });
        let base = timed(|| {
            for i in 0..CALLS {
                let id: i64 = raw
                    .query_one(&insert, &[&(i as f64), &data, &0.5f64, &"bench", &"{}"])
                    .unwrap()
                    .get(0);
                assert!(id > 0);
            }
        });
        rows[0].1.push(gm.as_secs_f64());
        rows[0].2.push(base.as_secs_f64());
        let gm = timed(|| {
            for id in &ids[ids.len() - CALLS..] {
                let mut e = std::ptr::null_mut();
                assert_eq!(unsafe { gm_get_episode(handle, *id, &mut e) }, 0);
                unsafe { gm_episode_free(e) };
            }
        });
        let base = timed(|| {
            for id in &ids[ids.len() - CALLS..] {
                let row = raw.query_one(&select, &[id]).unwrap();
                let _: (i64, Vec<u8>) = (row.get(0), row.get(2));
            }
        });
        rows[1].1.push(gm.as_secs_f64());
        rows[1].2.push(base.as_secs_f64());
        let gm = timed(|| {
            for i in 0..CALLS {
                let (ts, mut id) = (i as f64, 0);
                assert_eq!(
                    unsafe {
                        gm_store_learning_event(
                            handle,
                            task.as_ptr(),
                            0.1,
                            strategy.as_ptr(),
                            std::ptr::null(),
                            &ts,
                            &mut id,
                        )
                    },
                    0
                );
            }
        });
        let base = timed(|| {
            for i in 0..CALLS {
                raw.query_one(&event, &[&"task", &0.1f64, &"adam", &(i as f64), &"{}"])
                    .unwrap();
            }
        });
        rows[2].1.push(gm.as_secs_f64());
        rows[2].2.push(base.as_secs_f64());
        eprintln!("run {}/{runs}", run + 1);
    }
    unsafe { gm_close(handle) };
    println!("| workload | gmstore (ms) | raw postgres crate (ms) | ratio (median) |");
    println!("|---|---:|---:|---:|");
    for (name, gm, base) in &rows {
        let ratio = median(gm.iter().zip(base).map(|(g, b)| g / b).collect());
        println!(
            "| {name} | {:.1} | {:.1} | {ratio:.3} |",
            median(gm.clone()) * 1e3,
            median(base.clone()) * 1e3
        );
        common::append_result(&serde_json::json!({
            "suite": "postgres", "workload": name, "baseline": "raw postgres crate, same statements, prepared",
            "gm_s": gm, "base_s": base, "target": "<= 1.2", "runs": runs,
        }));
    }
}
