//! Concurrency soak: 8 threads and 2 extra processes on one file, mixed
//! reads and writes, for GMSTORE_SOAK_SECS (default 5; `make test-long`
//! runs 30). Every call must succeed, the counts must come out exact, and
//! no reader may ever see part of a batch.

use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use gmstore::{NewEpisode, Options, Store};

const BATCH: usize = 10;
const CHILD: &str = "GMSTORE_SOAK_CHILD_DB";

fn soak_secs() -> u64 {
    std::env::var("GMSTORE_SOAK_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5)
}

/// Child process: writes batches until the deadline, prints how many.
#[test]
#[ignore = "a child process of another test; it does nothing on its own"]
fn soak_child_writer() {
    let Ok(db) = std::env::var(CHILD) else { return };
    let secs: u64 = std::env::var("GMSTORE_SOAK_CHILD_SECS").unwrap().parse().unwrap();
    let store = Store::open(Options::new(db)).unwrap();
    let deadline = Instant::now() + Duration::from_secs(secs);
    let pid = std::process::id();
    let mut written = 0;
    while Instant::now() < deadline {
        let context = format!("p{pid}_b{written}");
        let batch: Vec<_> = (0..BATCH)
            .map(|_| NewEpisode::new(b"child", 0.5, &context))
            .collect();
        store.store_episodes(&batch).unwrap();
        written += 1;
        let seen = store.get_episodes_by_context(&context, 100, None).unwrap().len();
        assert_eq!(seen, BATCH);
    }
    println!("SOAK_CHILD_BATCHES {written}");
}

#[test]
fn eight_threads_and_two_processes_on_one_file() {
    let secs = soak_secs();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("soak.db");
    let store = Arc::new(Store::open(Options::new(&db)).unwrap());
    let concept = store.store_concept("shared", &[1.0; 8], None, None).unwrap();
    let children: Vec<_> = (0..2)
        .map(|_| {
            Command::new(std::env::current_exe().unwrap())
                .args([
                    "--exact",
                    "soak_child_writer",
                    "--ignored",
                    "--test-threads=1",
                    "--nocapture",
                ])
                .env(CHILD, &db)
                .env("GMSTORE_SOAK_CHILD_SECS", secs.to_string())
                .stdout(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    // the batch each writer thread is writing now: readers probe it
    let in_flight: Arc<Vec<AtomicU64>> = Arc::new((0..4).map(|_| AtomicU64::new(0)).collect());
    let ops = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(secs);
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let (store, in_flight, ops) = (store.clone(), in_flight.clone(), ops.clone());
            std::thread::spawn(move || {
                let (mut batches, mut accesses, mut torn_checks) = (0u64, 0u64, 0u64);
                while Instant::now() < deadline {
                    if t < 4 {
                        let n = in_flight[t].load(Ordering::SeqCst) + 1;
                        in_flight[t].store(n, Ordering::SeqCst);
                        let context = format!("t{t}_b{n}");
                        let batch: Vec<_> = (0..BATCH)
                            .map(|_| NewEpisode::new(b"thread", 0.5, &context))
                            .collect();
                        store.store_episodes(&batch).unwrap();
                        batches += 1;
                    } else {
                        let w = (t - 4) % 4;
                        let n = in_flight[w].load(Ordering::SeqCst);
                        let seen = store
                            .get_episodes_by_context(&format!("t{w}_b{n}"), 100, None)
                            .unwrap()
                            .len();
                        assert!(
                            seen == 0 || seen == BATCH,
                            "a reader saw {seen} of a {BATCH}-episode batch"
                        );
                        torn_checks += 1;
                        store.retrieve_concept_by_name("shared").unwrap().unwrap();
                        accesses += 1;
                        store.get_recent_episodes(5.0, 50).unwrap();
                    }
                    ops.fetch_add(1, Ordering::Relaxed);
                }
                (batches, accesses, torn_checks)
            })
        })
        .collect();
    let results: Vec<(u64, u64, u64)> = threads
        .into_iter()
        .map(|h| h.join().expect("no thread failed"))
        .collect();
    let mut child_batches = 0u64;
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "a child process saw an error");
        let text = String::from_utf8_lossy(&out.stdout);
        let (_, after) = text.split_once("SOAK_CHILD_BATCHES ").expect("child reported");
        child_batches += after.split_whitespace().next().unwrap().parse::<u64>().unwrap();
    }
    let thread_batches: u64 = results.iter().map(|r| r.0).sum();
    let accesses: u64 = results.iter().map(|r| r.1).sum();
    let torn_checks: u64 = results.iter().map(|r| r.2).sum();
    assert_eq!(
        store.count_episodes().unwrap() as u64,
        (thread_batches + child_batches) * BATCH as u64
    );
    assert_eq!(
        store.retrieve_concept(concept).unwrap().unwrap().access_count as u64,
        accesses
    );
    assert!(store.integrity_check().unwrap().is_empty());
    println!(
        "soak: {secs} s, {} thread ops, {thread_batches} thread batches, {child_batches} process batches, \
         {torn_checks} torn-batch probes, 0 errors, 0 lost",
        ops.load(Ordering::Relaxed)
    );
}
