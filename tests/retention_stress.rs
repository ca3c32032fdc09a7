//! Retention under load and under crashes, on SQLite files (processes
//! share a file; the server engine's fleet tests cover many clients):
//!
//! - 4 threads of this process and 2 child processes write for 10 s
//!   (single stores and batches, some protected) while a checker reads the
//!   file with plain rusqlite: every snapshot is within the budget, the
//!   database's counts equal a count of the rows, protected episodes all
//!   stay, and inserts = kept + evicted at the end.
//! - A writer with a FIFO policy is killed with SIGKILL at random moments:
//!   the file is sound, within budget, its counts true, every acknowledged
//!   protected episode present and every acknowledged episode newer than
//!   the oldest kept one present (FIFO evicts nothing newer).

use std::collections::HashSet;
use std::io::{BufRead, Write};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use gmstore::{EvictionOrder, NewEpisode, Options, Protection, RetentionPolicy, Store};
use rusqlite::Connection;

const CHILD_DB: &str = "GMSTORE_RETENTION_CHILD_DB";
const MAX_EPISODES: i64 = 200;
const MAX_BYTES: i64 = 40_000;
const PROTECTED: &str = r#"{"keep": true}"#;

fn policy() -> RetentionPolicy {
    RetentionPolicy {
        max_episodes: Some(MAX_EPISODES),
        max_experience_bytes: Some(MAX_BYTES),
        protect: Some(Protection {
            key: "keep".into(),
            value: "true".into(),
        }),
        order: EvictionOrder::LowestScore,
        ..RetentionPolicy::default()
    }
}

/// What one writer did: unprotected episodes stored, protected ids.
#[derive(Default)]
struct Written {
    evictable: u64,
    protected: Vec<i64>,
}

/// Writes for `seconds`: single stores and batches of 1-10, sizes 10-500
/// bytes, scores spread, one in 25 protected.
fn write_for(store: &Store, seconds: f64, seed: u64) -> Written {
    let mut rng = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let mut out = Written::default();
    let until = Instant::now() + Duration::from_secs_f64(seconds);
    while Instant::now() < until {
        let n = if next() % 3 == 0 {
            1 + (next() % 10) as usize
        } else {
            1
        };
        let sizes: Vec<usize> = (0..n).map(|_| 10 + (next() % 491) as usize).collect();
        let protect: Vec<bool> = (0..n).map(|_| next() % 25 == 0).collect();
        let scores: Vec<f64> = (0..n).map(|_| (next() % 1000) as f64 / 1000.0).collect();
        let data: Vec<Vec<u8>> = sizes.iter().map(|&s| vec![(s % 251) as u8; s]).collect();
        let batch: Vec<NewEpisode<'_>> = (0..n)
            .map(|i| NewEpisode {
                metadata: protect[i].then_some(PROTECTED),
                ..NewEpisode::new(&data[i], scores[i], "stress")
            })
            .collect();
        let ids = if n == 1 {
            vec![store.store_episode(&batch[0]).unwrap()]
        } else {
            store.store_episodes(&batch).unwrap()
        };
        for (id, p) in ids.iter().zip(&protect) {
            match p {
                true => out.protected.push(*id),
                false => out.evictable += 1,
            }
        }
    }
    out
}

/// (evictable rows, their bytes, the counting row's two numbers), read in
/// one snapshot by plain rusqlite.
fn ground_truth(conn: &mut Connection) -> (i64, i64, i64, i64) {
    let tx = conn.transaction().unwrap();
    let rows: (i64, i64) = tx
        .query_row(
            "SELECT count(*), coalesce(sum(length(experience_data)), 0) FROM episodes \
             WHERE coalesce(json_extract(metadata, '$.keep'), 0) IS NOT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    // The row's count plus the episodes above its mark, as the engine
    // reads them (storage/sqlite/retention.rs).
    let counted: (i64, i64) = tx
        .query_row(
            "SELECT counted_episodes + (SELECT count(*) FROM episodes e WHERE e.id > r.counted_through_id \
             AND coalesce(json_extract(e.metadata, '$.keep'), 0) IS NOT 1), \
             counted_bytes + (SELECT coalesce(sum(length(e.experience_data)), 0) FROM episodes e \
             WHERE e.id > r.counted_through_id AND coalesce(json_extract(e.metadata, '$.keep'), 0) IS NOT 1) \
             FROM gm_retention r",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    tx.commit().unwrap();
    (rows.0, rows.1, counted.0, counted.1)
}

fn reader(path: &std::path::Path) -> Connection {
    let conn = Connection::open(path).unwrap();
    conn.busy_timeout(Duration::from_secs(10)).unwrap();
    conn
}

/// Runs only as a child process: writes for the seconds given, then prints
/// "evictable N" and "protected id id ...".
#[test]
#[ignore = "a child process of another test; it does nothing on its own"]
fn retention_child_writer() {
    let Ok(db) = std::env::var(CHILD_DB) else { return };
    let seconds: f64 = std::env::var("GMSTORE_RETENTION_SECONDS")
        .unwrap()
        .parse()
        .unwrap();
    let store = Store::open(Options::new(db)).unwrap();
    let w = write_for(&store, seconds, std::process::id() as u64);
    let ids: Vec<String> = w.protected.iter().map(i64::to_string).collect();
    println!("evictable {}", w.evictable);
    println!("protected {}", ids.join(" "));
}

fn spawn_child(test: &str, db: &std::path::Path, envs: &[(&str, String)]) -> std::process::Child {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args(["--exact", test, "--ignored", "--test-threads=1", "--nocapture"])
        .env(CHILD_DB, db)
        .stdout(Stdio::piped());
    for (k, v) in envs {
        command.env(k, v);
    }
    command.spawn().unwrap()
}

#[test]
fn four_threads_and_two_processes_never_see_the_store_over_budget() {
    const SECONDS: f64 = 10.0;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("stress.db");
    let store = Arc::new(Store::open(Options::new(&path)).unwrap());
    store.set_retention_policy(Some(&policy())).unwrap();
    let children: Vec<_> = (0..2)
        .map(|_| {
            spawn_child(
                "retention_child_writer",
                &path,
                &[("GMSTORE_RETENTION_SECONDS", SECONDS.to_string())],
            )
        })
        .collect();
    let done = Arc::new(AtomicBool::new(false));
    let checker = {
        let (done, path) = (done.clone(), path.clone());
        std::thread::spawn(move || {
            let mut conn = reader(&path);
            let mut snapshots = 0;
            while !done.load(Ordering::Relaxed) {
                let (rows, bytes, counted_rows, counted_bytes) = ground_truth(&mut conn);
                assert!(
                    rows <= MAX_EPISODES && bytes <= MAX_BYTES,
                    "over budget: {rows} rows, {bytes} bytes"
                );
                assert_eq!((rows, bytes), (counted_rows, counted_bytes), "the counts drifted");
                snapshots += 1;
            }
            snapshots
        })
    };
    let writers: Vec<_> = (0..4u64)
        .map(|t| {
            let store = store.clone();
            std::thread::spawn(move || write_for(&store, SECONDS, 1000 + t))
        })
        .collect();
    let mut evictable = 0;
    let mut protected = Vec::new();
    for w in writers {
        let w = w.join().unwrap();
        evictable += w.evictable;
        protected.extend(w.protected);
    }
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "a child writer failed");
        // The harness's own "test ... " may share a line with ours.
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let after = |tag: &str| {
            text.lines()
                .find_map(|l| l.split_once(tag).map(|(_, rest)| rest.to_owned()))
        };
        evictable += after("evictable ")
            .expect("the child's count")
            .trim()
            .parse::<u64>()
            .unwrap();
        let ids = after("protected").expect("the child's protected ids");
        protected.extend(ids.split_whitespace().map(|id| id.parse::<i64>().unwrap()));
    }
    done.store(true, Ordering::Relaxed);
    let snapshots = checker.join().unwrap();
    assert!(snapshots > 10, "the checker looked {snapshots} times");
    assert!(evictable > 1000, "the writers did real work: {evictable}");
    let status = store.retention_status().unwrap();
    assert_eq!(status.episodes as u64 + status.evicted_total as u64, evictable);
    for id in &protected {
        assert!(
            store.retrieve_episode(*id).unwrap().is_some(),
            "protected episode {id} was evicted"
        );
    }
    assert_eq!(
        store.count_episodes().unwrap(),
        status.episodes + protected.len() as i64
    );
    assert!(store.integrity_check().unwrap().is_empty());
}

/// Runs only as the crash child: writes until killed, logging each
/// acknowledged id (`P id` for protected, `E id` otherwise).
#[test]
#[ignore = "a child process of another test; it does nothing on its own"]
fn retention_crash_child() {
    let Ok(db) = std::env::var(CHILD_DB) else { return };
    let store = Store::open(Options::new(db)).unwrap();
    let mut out = std::io::stdout().lock();
    for seq in 0u64.. {
        let protect = seq % 17 == 0;
        let data = vec![(seq % 256) as u8; 20 + (seq % 50) as usize];
        let episode = NewEpisode {
            metadata: protect.then_some(PROTECTED),
            ..NewEpisode::new(&data, 0.5, "crash")
        };
        let id = store.store_episode(&episode).unwrap();
        writeln!(out, "{} {id}", if protect { "P" } else { "E" }).unwrap();
        out.flush().unwrap();
    }
}

#[test]
fn a_killed_writer_leaves_the_store_within_budget_and_loses_nothing_it_should_keep() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crash.db");
    {
        let store = Store::open(Options::new(&path)).unwrap();
        store
            .set_retention_policy(Some(&RetentionPolicy {
                max_episodes: Some(50),
                protect: policy().protect,
                ..RetentionPolicy::default()
            }))
            .unwrap();
    }
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos() as u64;
    eprintln!("retention crash trials, seed {seed}");
    let mut acked_protected = HashSet::new();
    let mut acked = Vec::new();
    for trial in 0..5u64 {
        let mut child = spawn_child("retention_crash_child", &path, &[]);
        let stdout = child.stdout.take().unwrap();
        let lines = std::thread::spawn(move || {
            std::io::BufReader::new(stdout)
                .lines()
                .map_while(|l| l.ok())
                .collect::<Vec<_>>()
        });
        let wait_ms = 150 + (seed.wrapping_mul(trial + 1) % 400);
        std::thread::sleep(Duration::from_millis(wait_ms));
        child.kill().unwrap();
        child.wait().unwrap();
        for line in lines.join().unwrap() {
            let Some((kind, id)) = line.split_once(' ') else {
                continue;
            };
            let Ok(id) = id.parse::<i64>() else { continue };
            if kind == "P" {
                acked_protected.insert(id);
            } else {
                acked.push(id);
            }
        }
        let store = Store::open(Options::new(&path)).unwrap();
        assert!(
            store.integrity_check().unwrap().is_empty(),
            "trial {trial}: file unsound"
        );
        let status = store.retention_status().unwrap();
        let mut conn = reader(&path);
        let (rows, _, counted, _) = ground_truth(&mut conn);
        assert!(
            rows <= 50,
            "trial {trial}: {rows} evictable episodes after recovery"
        );
        assert_eq!(rows, counted, "trial {trial}: counts drifted");
        assert_eq!(status.episodes, rows);
        for id in &acked_protected {
            assert!(
                store.retrieve_episode(*id).unwrap().is_some(),
                "trial {trial}: protected {id} lost"
            );
        }
        let oldest_kept: i64 = conn
            .query_row(
                "SELECT min(id) FROM episodes WHERE coalesce(json_extract(metadata, '$.keep'), 0) IS NOT 1",
                [],
                |r| r.get::<_, Option<i64>>(0),
            )
            .unwrap()
            .unwrap_or(i64::MAX);
        for id in acked.iter().filter(|&&id| id >= oldest_kept) {
            assert!(
                store.retrieve_episode(*id).unwrap().is_some(),
                "trial {trial}: acknowledged {id} lost"
            );
        }
    }
    assert!(
        acked.len() > 50,
        "the writer wrote past its budget: {}",
        acked.len()
    );
}
