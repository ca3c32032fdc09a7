//! What the benchmark binaries share: where their results go.

use std::io::Write;
use std::time::Duration;

/// Appends one result row to the JSON Lines file named by GM_BENCH_JSON
/// (set by `make bench`, read by bench/report.py); nothing when unset.
pub fn append_result(line: &serde_json::Value) {
    let Ok(path) = std::env::var("GM_BENCH_JSON") else {
        return;
    };
    let mut out = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    writeln!(out, "{line}").unwrap();
}

/// Durations as seconds, the unit of every result file.
#[allow(dead_code)] // not every bench reports durations
pub fn secs(v: &[Duration]) -> Vec<f64> {
    v.iter().map(Duration::as_secs_f64).collect()
}
