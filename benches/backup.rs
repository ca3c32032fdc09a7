//! Online backup of a ~500 MB database against a plain copy of the same
//! file (`std::fs::copy`), in the same run. The backup does more: a
//! consistent snapshot while writers may run, integrity_check of the copy,
//! and an atomic rename. GM_BENCH_BACKUP_MB sets the size (default 500).

mod common;

use std::time::{Duration, Instant};

use gmstore::{NewEpisode, Options, Store};

fn median(v: &[Duration]) -> Duration {
    let mut v = v.to_vec();
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let mb: usize = std::env::var("GM_BENCH_BACKUP_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(500);
    let runs: usize = std::env::var("GM_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.db");
    let store = Store::open(Options::new(&path)).unwrap();
    let payload: Vec<u8> = (0..170_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    let per_batch = 50;
    let batches = (mb * 1_000_000).div_ceil(payload.len() * per_batch);
    for _ in 0..batches {
        let batch: Vec<_> = (0..per_batch)
            .map(|i| NewEpisode::new(&payload, i as f64, "big"))
            .collect();
        store.store_episodes(&batch).unwrap();
    }
    store.checkpoint().unwrap();
    let size = std::fs::metadata(&path).unwrap().len();
    let (mut backup, mut copy) = (Vec::new(), Vec::new());
    for run in 0..runs {
        let b = dir.path().join(format!("backup_{run}.db"));
        let c = dir.path().join(format!("copy_{run}.db"));
        let t = Instant::now();
        store.create_backup(Some(&b)).unwrap();
        backup.push(t.elapsed());
        let t = Instant::now();
        std::fs::copy(&path, &c).unwrap();
        copy.push(t.elapsed());
        std::fs::remove_file(&b).unwrap();
        std::fs::remove_file(&c).unwrap();
    }
    let ratios: Vec<f64> = backup
        .iter()
        .zip(&copy)
        .map(|(b, c)| b.as_secs_f64() / c.as_secs_f64())
        .collect();
    common::append_result(&serde_json::json!({
        "suite": "backup",
        "workload": format!("verified online backup, {:.0} MB", size as f64 / 1e6),
        "baseline": "plain file copy",
        "gm_s": common::secs(&backup),
        "base_s": common::secs(&copy),
        "target": null,
        "runs": runs,
    }));
    let mut sorted = ratios.clone();
    sorted.sort_by(|a, b| a.partial_cmp(b).unwrap());
    println!("| workload | gmstore (ms) | baseline (ms) | baseline | ratio (median) | ratio range |");
    println!("|---|---:|---:|---|---:|---|");
    println!(
        "| verified online backup, {:.0} MB | {:.0} | {:.0} | plain file copy | {:.2} | {:.2}-{:.2} |",
        size as f64 / 1e6,
        median(&backup).as_secs_f64() * 1e3,
        median(&copy).as_secs_f64() * 1e3,
        sorted[sorted.len() / 2],
        sorted[0],
        sorted[sorted.len() - 1]
    );
}
