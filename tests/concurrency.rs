//! Many threads, and several processes, on one file: no call may fail and
//! every count must come out exact.
mod common;

use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use gmstore::{NewEpisode, Options, Store};

const CHILD_ENV: &str = "GMSTORE_TEST_CHILD_DB";
const CHILD_EPISODES: usize = 400;

#[test]
fn eight_threads_mixing_reads_and_writes_for_three_seconds() {
    let t = Arc::new(common::temp_store());
    let shared_id = t.store.store_concept("shared", &[0.5; 16], None, None).unwrap();
    let deadline = Instant::now() + Duration::from_secs(3);
    let workers: Vec<_> = (0..8)
        .map(|w| {
            let t = t.clone();
            std::thread::spawn(move || {
                let context = format!("worker_{w}");
                let (mut stored, mut accesses, mut events) = (0i64, 0i64, 0i64);
                let mut i = 0u64;
                while Instant::now() < deadline {
                    i += 1;
                    match i % 5 {
                        0 => {
                            let batch: Vec<_> = (0..10)
                                .map(|_| NewEpisode::new(b"batch", 0.5, &context))
                                .collect();
                            stored += t.store.store_episodes(&batch).unwrap().len() as i64;
                        }
                        1 => {
                            t.store
                                .store_episode(&NewEpisode::new(&[w as u8; 64], 0.7, &context))
                                .unwrap();
                            stored += 1;
                        }
                        2 => {
                            let seen = t
                                .store
                                .get_episodes_by_context(&context, 100_000, None)
                                .unwrap()
                                .len() as i64;
                            assert_eq!(seen, stored, "a thread reads its own writes");
                        }
                        3 => {
                            t.store.retrieve_concept_by_name("shared").unwrap().unwrap();
                            accesses += 1;
                        }
                        _ => {
                            t.store
                                .store_learning_event("soak", 0.1, &context, None, None)
                                .unwrap();
                            events += 1;
                            t.store.get_best_strategies("soak", 10).unwrap();
                        }
                    }
                }
                (stored, accesses, events)
            })
        })
        .collect();
    let totals = workers
        .into_iter()
        .map(|w| w.join().expect("no worker failed"))
        .fold((0, 0, 0), |a, b| (a.0 + b.0, a.1 + b.1, a.2 + b.2));
    assert!(totals.0 > 100, "the soak did real work: {totals:?}");
    assert_eq!(t.store.count_episodes().unwrap(), totals.0);
    assert_eq!(t.store.count_learning_events().unwrap(), totals.2);
    let shared = t.store.retrieve_concept(shared_id).unwrap().unwrap();
    assert_eq!(shared.access_count, totals.1);
    assert!(t.store.integrity_check().unwrap().is_empty());
}

/// Runs only as a child process: writes CHILD_EPISODES episodes to the file.
#[test]
#[ignore = "a child process of another test; it does nothing on its own"]
fn child_writer() {
    let Ok(path) = std::env::var(CHILD_ENV) else {
        return;
    };
    let store = Store::open(Options::new(path)).unwrap();
    let pid = std::process::id().to_string();
    let mut written = 0;
    while written < CHILD_EPISODES {
        if written % 40 == 0 {
            let batch: Vec<_> = (0..20).map(|_| NewEpisode::new(b"child", 0.5, &pid)).collect();
            written += store.store_episodes(&batch).unwrap().len();
        } else {
            store
                .store_episode(&NewEpisode::new(b"child", 0.5, &pid))
                .unwrap();
            written += 1;
        }
        store.get_episodes_by_context(&pid, 10, None).unwrap();
    }
}

#[test]
fn two_processes_and_this_one_write_the_same_file() {
    let t = common::temp_store();
    let path = t.path();
    let children: Vec<_> = (0..2)
        .map(|_| {
            Command::new(std::env::current_exe().unwrap())
                .args([
                    "--exact",
                    "child_writer",
                    "--ignored",
                    "--test-threads=1",
                    "--nocapture",
                ])
                .env(CHILD_ENV, &path)
                .stdout(std::process::Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for _ in 0..300 {
        t.store
            .store_episode(&NewEpisode::new(b"parent", 0.5, "parent"))
            .unwrap();
    }
    for mut child in children {
        assert!(child.wait().unwrap().success(), "a child writer saw an error");
    }
    assert_eq!(t.store.count_episodes().unwrap(), 300 + 2 * CHILD_EPISODES as i64);
    assert!(t.store.integrity_check().unwrap().is_empty());
}
