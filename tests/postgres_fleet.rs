//! Fleets on one server store: 4 writer and 2 reader processes at once
//! (exact counts, zero errors), and SIGKILL trials of a client in the middle
//! of a batch (every acknowledged batch whole, no batch partly visible).
//! Needs the server `make test` starts (GMSTORE_TEST_PG). GMSTORE_FLEET_SECS
//! (default 20) and GMSTORE_PG_KILL_TRIALS (default 20) size the runs.

use std::collections::HashSet;
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use gmstore::{Metric, NewEpisode, Options, SearchFilter, Store};

const ROLE: &str = "GMSTORE_FLEET_ROLE";
const BATCH: usize = 100;

fn server() -> String {
    std::env::var("GMSTORE_TEST_PG").expect("GMSTORE_TEST_PG must be set: make test starts the server")
}

fn child(role: &str, target: &str, extra: &[(&str, String)]) -> Command {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([
        "--exact",
        "fleet_child",
        "--ignored",
        "--test-threads=1",
        "--nocapture",
    ])
    .env(ROLE, role)
    .env("GMSTORE_FLEET_TARGET", target)
    .stdout(Stdio::piped())
    .stderr(Stdio::inherit());
    for (k, v) in extra {
        cmd.env(k, v);
    }
    cmd
}

/// The child processes' side: a writer, a reader, or a batch writer that
/// runs until it is killed.
#[test]
#[ignore = "a child process of the fleet tests; it does nothing on its own"]
fn fleet_child() {
    let Ok(role) = std::env::var(ROLE) else { return };
    let target = std::env::var("GMSTORE_FLEET_TARGET").unwrap();
    let store = Store::open(Options::new(&target)).unwrap();
    let until = Instant::now()
        + Duration::from_secs_f64(std::env::var("GMSTORE_FLEET_FOR").map_or(1.0, |s| s.parse().unwrap()));
    match role.as_str() {
        "writer" => {
            let me = std::env::var("GMSTORE_FLEET_ME").unwrap();
            let (mut written, mut errors) = (0u64, 0u64);
            while Instant::now() < until {
                let data = format!("{me}:{written}");
                match store.store_episode(&NewEpisode::new(data.as_bytes(), 0.5, &me)) {
                    Ok(_) => written += 1,
                    Err(e) => {
                        errors += 1;
                        eprintln!("writer {me}: {e}");
                    }
                }
                if written % 10 == 0 {
                    store
                        .store_learning_event("fleet", written as f64, &me, None, None)
                        .unwrap();
                    store
                        .store_concept(&format!("{me}_{written}"), &[1.0, written as f32], None, None)
                        .unwrap();
                }
            }
            println!("written {written} errors {errors}");
        }
        "reader" => {
            let (mut reads, mut errors) = (0u64, 0u64);
            while Instant::now() < until {
                let ok = store.count_episodes().is_ok()
                    && store.get_best_strategies("fleet", 10).is_ok()
                    && store
                        .nearest_concepts(&[1.0, 3.0], 3, Metric::Cosine, &SearchFilter::default())
                        .is_ok();
                if ok {
                    reads += 1
                } else {
                    errors += 1
                }
            }
            println!("reads {reads} errors {errors}");
        }
        "batcher" => {
            let trial = std::env::var("GMSTORE_FLEET_ME").unwrap();
            let log_path = std::env::var("GMSTORE_FLEET_LOG").unwrap();
            let mut log = std::fs::OpenOptions::new()
                .append(true)
                .create(true)
                .open(log_path)
                .unwrap();
            for seq in 0u64.. {
                let context = format!("batch_{trial}_{seq}");
                let data: Vec<Vec<u8>> = (0..BATCH)
                    .map(|i| format!("{context}:{i}").into_bytes())
                    .collect();
                let batch: Vec<_> = data.iter().map(|d| NewEpisode::new(d, 0.5, &context)).collect();
                store.store_episodes(&batch).unwrap();
                // one write() per record: a kill never leaves half a record
                log.write_all(format!("{context}\n").as_bytes()).unwrap();
            }
        }
        other => panic!("unknown role {other}"),
    }
}

fn field(output: &str, name: &str) -> u64 {
    let words: Vec<&str> = output.split_whitespace().collect();
    let at = words
        .iter()
        .position(|w| *w == name)
        .unwrap_or_else(|| panic!("no {name} in {output:?}"));
    words[at + 1].parse().unwrap()
}

#[test]
fn four_writer_and_two_reader_processes_share_one_store_without_errors() {
    let secs: f64 = std::env::var("GMSTORE_FLEET_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20.0);
    let target = format!("{} store=fleet_{}", server(), std::process::id());
    Store::open(Options::new(&target)).unwrap(); // created once, before the fleet
    let duration = ("GMSTORE_FLEET_FOR", secs.to_string());
    let writers: Vec<_> = (0..4)
        .map(|w| {
            child(
                "writer",
                &target,
                &[duration.clone(), ("GMSTORE_FLEET_ME", format!("w{w}"))],
            )
            .spawn()
            .unwrap()
        })
        .collect();
    let readers: Vec<_> = (0..2)
        .map(|_| {
            child("reader", &target, std::slice::from_ref(&duration))
                .spawn()
                .unwrap()
        })
        .collect();
    let mut total = 0;
    let store = Store::open(Options::new(&target)).unwrap();
    for (w, writer) in writers.into_iter().enumerate() {
        let out = writer.wait_with_output().unwrap();
        assert!(out.status.success(), "writer {w} failed");
        let text = String::from_utf8_lossy(&out.stdout);
        assert_eq!(field(&text, "errors"), 0, "writer {w}");
        let written = field(&text, "written");
        assert!(written > 0);
        assert_eq!(
            store
                .get_episodes_by_context(&format!("w{w}"), 10_000_000, None)
                .unwrap()
                .len() as u64,
            written,
            "writer {w}: every acknowledged write, no other"
        );
        total += written;
    }
    for (r, reader) in readers.into_iter().enumerate() {
        let out = reader.wait_with_output().unwrap();
        assert!(out.status.success(), "reader {r} failed");
        let text = String::from_utf8_lossy(&out.stdout);
        assert_eq!(field(&text, "errors"), 0, "reader {r}");
        assert!(field(&text, "reads") > 0);
    }
    assert_eq!(store.count_episodes().unwrap() as u64, total);
    println!(
        "fleet: 4 writers wrote {total} episodes in {secs} s ({:.0}/s), 2 readers, 0 errors",
        total as f64 / secs
    );
}

#[test]
fn a_client_killed_mid_batch_leaves_every_acknowledged_batch_whole_and_no_partial_one() {
    let trials: u64 = std::env::var("GMSTORE_PG_KILL_TRIALS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20);
    let target = format!("{} store=kills_{}", server(), std::process::id());
    let store = Store::open(Options::new(&target)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("acks.log");
    let mut rng = 0x9e37_79b9_7f4a_7c15u64;
    for trial in 0..trials {
        let mut c = child(
            "batcher",
            &target,
            &[
                ("GMSTORE_FLEET_ME", trial.to_string()),
                ("GMSTORE_FLEET_LOG", log.display().to_string()),
            ],
        )
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        std::thread::sleep(Duration::from_millis(150 + rng % 300));
        c.kill().unwrap(); // SIGKILL
        assert!(
            c.wait().unwrap().code().is_none(),
            "trial {trial}: the client must die by the signal"
        );
    }
    let text = std::fs::read_to_string(&log).unwrap();
    let complete = &text[..text.rfind('\n').map_or(0, |i| i + 1)];
    let acknowledged: HashSet<&str> = complete.lines().collect();
    assert!(
        !acknowledged.is_empty(),
        "no batch was acknowledged: the children never got going"
    );
    for context in &acknowledged {
        assert_eq!(
            store.get_episodes_by_context(context, 1000, None).unwrap().len(),
            BATCH,
            "{context} lost or torn"
        );
    }
    let total = store.count_episodes().unwrap() as usize;
    assert_eq!(total % BATCH, 0, "a batch is partly visible: {total} episodes");
    // At most one batch per trial was in flight when the kill came: it is
    // either whole (committed, not yet logged) or absent.
    assert!(total / BATCH - acknowledged.len() <= trials as usize);
    println!(
        "kill trials: {trials} kills mid-batch, {} acknowledged batches whole, {} committed unlogged, 0 partial",
        acknowledged.len(),
        total / BATCH - acknowledged.len()
    );
}
