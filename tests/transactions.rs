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
