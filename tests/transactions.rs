mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::temp_store;
use gmstore::{Error, NewEpisode, SqlValue};

fn episode() -> NewEpisode<'static> {
    NewEpisode::new(b"tx", 0.5, "tx")
}

#[test]
fn scope_commits_on_commit_and_rolls_back_on_drop() {
    let t = temp_store();
    let tx = t.store.transaction().unwrap();
    t.store.store_episode(&episode()).unwrap();
    assert!(t.store.in_transaction());
    assert_eq!(
        t.store.count_episodes().unwrap(),
        1,
        "reads in the scope see its writes"
    );
    tx.commit().unwrap();
    assert!(!t.store.in_transaction());
    {
        let _tx = t.store.transaction().unwrap();
        t.store.store_episode(&episode()).unwrap();
    }
    assert_eq!(t.store.count_episodes().unwrap(), 1);
}

#[test]
fn with_transaction_rolls_back_on_error() {
    let t = temp_store();
    let result: gmstore::Result<()> = t.store.with_transaction(|s| {
        s.store_episode(&episode())?;
        s.store_concept("a", &[1.0], None, None)?;
        s.store_episode(&NewEpisode::new(b"", f64::NAN, "x"))?;
        Ok(())
    });
    assert!(result.is_err());
    assert_eq!(t.store.count_episodes().unwrap(), 0);
    assert_eq!(t.store.count_concepts().unwrap(), 0);
    assert_eq!(
        t.store.embedding_dim().unwrap(),
        None,
        "the dimension fixed inside is rolled back too"
    );
}

#[test]
fn nested_scopes_are_savepoints() {
    let t = temp_store();
    let outer = t.store.transaction().unwrap();
    t.store.store_episode(&episode()).unwrap();
    {
        let inner = t.store.transaction().unwrap();
        t.store.store_episode(&episode()).unwrap();
        inner.rollback().unwrap();
    }
    let inner = t.store.transaction().unwrap();
    t.store.store_episode(&episode()).unwrap();
    inner.commit().unwrap();
    outer.commit().unwrap();
    assert_eq!(t.store.count_episodes().unwrap(), 2);
}

#[test]
fn seed_batch_example_runs_as_raw_sql_in_a_scope() {
    let t = temp_store();
    let tx = t.store.transaction().unwrap();
    for i in 0..10 {
        let changed = t
            .store
            .execute(
                "INSERT INTO episodes (timestamp, experience_data, performance_score, context_hash, metadata) \
                 VALUES (?, ?, ?, ?, ?)",
                &[
                    SqlValue::Real(1000.0 + i as f64),
                    SqlValue::Blob(&[1, 2, 3]),
                    SqlValue::Real(0.5),
                    SqlValue::Text("batch"),
                    SqlValue::Text("{}"),
                ],
            )
            .unwrap();
        assert_eq!(changed, 1);
    }
    t.store.store_episode(&episode()).unwrap();
    tx.commit().unwrap();
    assert_eq!(
        t.store.get_episodes_by_context("batch", 100, None).unwrap().len(),
        10
    );
    let err = t
        .store
        .execute(
            "UPDATE episodes SET performance_score = ? WHERE context_hash = 'batch'",
            &[SqlValue::Null],
        )
        .unwrap_err();
    assert!(
        matches!(err, Error::Constraint(_)),
        "NOT NULL holds for raw SQL too: {err:?}"
    );
}

#[test]
fn raw_sql_cannot_steer_the_connection() {
    let t = temp_store();
    for sql in [
        "BEGIN",
        "COMMIT",
        "SAVEPOINT x",
        "PRAGMA foreign_keys = OFF",
        "ATTACH ':memory:' AS other",
    ] {
        let err = t.store.execute(sql, &[]).unwrap_err();
        assert!(matches!(err, Error::InvalidArgument(_)), "{sql}: {err:?}");
    }
    let err = t.store.execute("SELEC 1", &[]).unwrap_err();
    assert!(err.to_string().starts_with("sql:"), "{err}");
    let err = t
        .store
        .execute("SELECT 1", &[SqlValue::Real(f64::NAN)])
        .unwrap_err();
    assert!(err.to_string().starts_with("params[0]"), "{err}");
    // the store still works and is not stuck in a transaction
    t.store.store_episode(&episode()).unwrap();
    assert!(!t.store.in_transaction());
}

#[test]
fn commit_or_rollback_without_a_transaction_is_misuse() {
    let t = temp_store();
    assert!(matches!(t.store.commit().unwrap_err(), Error::Misuse(_)));
    assert!(matches!(t.store.rollback().unwrap_err(), Error::Misuse(_)));
}

#[test]
fn other_threads_wait_for_an_open_transaction_and_do_not_join_it() {
    let t = Arc::new(temp_store());
    t.store.begin().unwrap();
    t.store.store_episode(&episode()).unwrap();
    let finished = Arc::new(AtomicBool::new(false));
    let writer = {
        let (t, finished) = (t.clone(), finished.clone());
        std::thread::spawn(move || {
            // a reader on another thread does not see the uncommitted row
            assert_eq!(t.store.count_episodes().unwrap(), 0);
            t.store
                .store_episode(&NewEpisode::new(b"other", 0.1, "other"))
                .unwrap();
            finished.store(true, Ordering::SeqCst);
        })
    };
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        !finished.load(Ordering::SeqCst),
        "the other thread's write waits for our commit"
    );
    t.store.rollback().unwrap();
    writer.join().unwrap();
    assert_eq!(
        t.store.count_episodes().unwrap(),
        1,
        "only the other thread's write remains"
    );
    assert!(
        t.store.commit().is_err(),
        "the other thread does not own our transaction"
    );
}

#[test]
fn a_transaction_held_past_the_timeout_makes_others_busy_not_stuck() {
    let dir = tempfile::tempdir().unwrap();
    let opts = gmstore::Options {
        connection_timeout: Duration::from_millis(200),
        ..gmstore::Options::new(dir.path().join("t.db"))
    };
    let store = Arc::new(gmstore::Store::open(opts).unwrap());
    store.begin().unwrap();
    let other = store.clone();
    let err = std::thread::spawn(move || other.store_episode(&episode()).unwrap_err())
        .join()
        .unwrap();
    assert!(matches!(err, Error::Busy(_)), "{err:?}");
    store.commit().unwrap();
}

fn store_with_timeout(path: &std::path::Path, timeout: Duration) -> gmstore::Store {
    gmstore::Store::open(gmstore::Options {
        connection_timeout: timeout,
        ..gmstore::Options::new(path)
    })
    .unwrap()
}

/// A thread that exits with its transaction open has it rolled back at
/// once: other writers no longer wait for the lock timeout until close.
#[test]
fn a_transaction_left_open_by_an_exiting_thread_is_rolled_back() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(store_with_timeout(
        &dir.path().join("t.db"),
        Duration::from_secs(20),
    ));
    let worker = Arc::clone(&store);
    std::thread::spawn(move || {
        worker.begin().unwrap();
        worker.store_episode(&episode()).unwrap();
        // returns without commit or rollback
    })
    .join()
    .unwrap();
    let started = std::time::Instant::now();
    store.store_episode(&episode()).unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(store.count_episodes().unwrap(), 1, "the abandoned write is gone");
}

/// Closing while thread A holds a transaction and thread B waits to write:
/// A's transaction is rolled back, B returns MISUSE at once (not after the
/// 20 s timeout, and not blaming A), and the file is free for others.
#[test]
fn close_rolls_back_and_wakes_every_waiting_writer() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    let store = Arc::new(store_with_timeout(&path, Duration::from_secs(20)));
    let (began_tx, began) = std::sync::mpsc::channel();
    let (go_on_tx, go_on) = std::sync::mpsc::channel::<()>();
    let a = {
        let store = Arc::clone(&store);
        std::thread::spawn(move || {
            store.begin().unwrap();
            store.store_episode(&episode()).unwrap();
            began_tx.send(()).unwrap();
            go_on.recv().unwrap();
            store.commit()
        })
    };
    began.recv().unwrap();
    let b = {
        let store = Arc::clone(&store);
        std::thread::spawn(move || {
            let started = std::time::Instant::now();
            (store.store_episode(&episode()), started.elapsed())
        })
    };
    std::thread::sleep(Duration::from_millis(200));
    store.close();
    let (waited, took) = b.join().unwrap();
    let err = waited.unwrap_err();
    assert!(matches!(err, Error::Misuse(_)), "{err:?}");
    assert!(err.to_string().contains("closed"), "{err}");
    assert!(took < Duration::from_secs(5), "{took:?}");
    let other = store_with_timeout(&path, Duration::from_millis(500));
    other.store_episode(&episode()).unwrap();
    assert_eq!(other.count_episodes().unwrap(), 1, "A's write was rolled back");
    go_on_tx.send(()).unwrap();
    assert!(matches!(a.join().unwrap().unwrap_err(), Error::Misuse(_)));
}

/// A transaction begun on one thread is detached, waits while other
/// writers are told who holds the writer, and is finished on another
/// thread: attached, written to, committed or rolled back.
#[test]
fn a_detached_transaction_is_finished_on_another_thread() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    let store = Arc::new(store_with_timeout(&path, Duration::from_millis(150)));
    for commit in [true, false] {
        let first = Arc::clone(&store);
        let token = std::thread::spawn(move || {
            first.begin().unwrap();
            first.store_episode(&episode()).unwrap();
            let token = first.detach_transaction().unwrap();
            assert!(!first.in_transaction());
            token
        })
        .join()
        .unwrap();
        let err = store.store_episode(&episode()).unwrap_err();
        assert!(matches!(err, Error::Busy(_)), "{err:?}");
        assert!(
            err.to_string()
                .contains(&format!("transaction {token}, detached")),
            "{err}"
        );
        let second = Arc::clone(&store);
        std::thread::spawn(move || {
            let bad = second.attach_transaction(token + 1000).unwrap_err();
            assert!(matches!(bad, Error::Misuse(_)), "{bad:?}");
            second.attach_transaction(token).unwrap();
            assert!(second.in_transaction());
            assert!(matches!(second.attach_transaction(token), Err(Error::Misuse(_))));
            second.store_episode(&episode()).unwrap();
            if commit {
                second.commit().unwrap();
            } else {
                second.rollback().unwrap();
            }
        })
        .join()
        .unwrap();
    }
    assert_eq!(store.count_episodes().unwrap(), 2, "the committed pair only");
    assert!(matches!(store.detach_transaction(), Err(Error::Misuse(_))));
}

/// BUSY names the thread that holds the writer by its OS thread id.
#[test]
fn busy_names_the_thread_holding_the_writer() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(store_with_timeout(
        &dir.path().join("t.db"),
        Duration::from_millis(100),
    ));
    let (held_tx, held) = std::sync::mpsc::channel();
    let (done_tx, done) = std::sync::mpsc::channel::<()>();
    let holder = {
        let store = Arc::clone(&store);
        std::thread::spawn(move || {
            store.begin().unwrap();
            held_tx.send(unsafe { libc::syscall(libc::SYS_gettid) }).unwrap();
            done.recv().unwrap();
            store.rollback().unwrap();
        })
    };
    let os_id = held.recv().unwrap();
    let err = store.store_episode(&episode()).unwrap_err();
    assert!(matches!(err, Error::Busy(_)), "{err:?}");
    assert!(
        err.to_string()
            .contains(&format!("thread {os_id} of this process")),
        "{err}"
    );
    done_tx.send(()).unwrap();
    holder.join().unwrap();
    store.store_episode(&episode()).unwrap();
}
