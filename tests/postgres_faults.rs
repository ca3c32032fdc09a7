//! A PostgreSQL server that restarts under a store: calls fail with an I/O
//! error naming the server, the store reconnects by itself on the next
//! call, and no acknowledged write is lost. Its own test binary, because it
//! restarts the shared throwaway server (scripts/pg_throwaway.sh sets
//! GMSTORE_TEST_PG, GMSTORE_TEST_PG_DATA and GMSTORE_TEST_PG_BIN).

use std::process::Command;

use gmstore::{Error, Metric, NewEpisode, Options, SearchFilter, Store};

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} must be set: make test starts the server (scripts/pg_throwaway.sh)")
    })
}

/// Restarts the server as a crash would (`-m immediate`: no checkpoint).
fn restart_server() {
    let data = env("GMSTORE_TEST_PG_DATA");
    let pg_ctl = format!(
        "{}/pg_ctl -D {data} -l {data}/restart.log -m immediate -w restart",
        env("GMSTORE_TEST_PG_BIN")
    );
    let status = if unsafe { libc::geteuid() } == 0 {
        Command::new("su")
            .args(["postgres", "-s", "/bin/sh", "-c", &pg_ctl])
            .status()
    } else {
        Command::new("sh").args(["-c", &pg_ctl]).status()
    }
    .expect("run pg_ctl");
    assert!(status.success(), "pg_ctl restart failed");
}

/// The first call after a restart may fail (the client learns of the lost
/// connection by using it); it must fail as I/O naming the server.
fn once_reconnected<T>(what: &str, mut call: impl FnMut() -> gmstore::Result<T>) -> T {
    match call() {
        Ok(v) => v,
        Err(e) => {
            assert!(matches!(e, Error::Io(_)), "{what}: {e:?}");
            assert!(e.to_string().contains("PostgreSQL server"), "{what}: {e}");
            call().unwrap_or_else(|e| panic!("{what} after reconnecting: {e}"))
        }
    }
}

#[test]
fn a_restarting_server_loses_no_acknowledged_write_and_the_store_reconnects() {
    let target = format!("{} store=faults_{}", env("GMSTORE_TEST_PG"), std::process::id());
    let store = Store::open(Options::new(&target)).unwrap();
    let acknowledged: Vec<i64> = (0..50)
        .map(|i| {
            store
                .store_episode(&NewEpisode::new(&[i as u8], 0.5, "before"))
                .unwrap()
        })
        .collect();
    store.store_concept("a", &[1.0, 0.0], None, None).unwrap();
    assert_eq!(
        store
            .nearest_concepts(&[1.0, 0.0], 1, Metric::Cosine, &SearchFilter::default())
            .unwrap()
            .len(),
        1
    );

    // A transaction open across the restart is lost, and says so.
    store.begin().unwrap();
    store
        .store_episode(&NewEpisode::new(b"in flight", 0.5, "lost"))
        .unwrap();
    restart_server();
    let err = store
        .store_episode(&NewEpisode::new(b"in flight 2", 0.5, "lost"))
        .unwrap_err();
    assert!(matches!(err, Error::Io(_) | Error::Misuse(_)), "{err:?}");
    assert!(!err.to_string().contains("password"), "{err}");
    store.rollback().unwrap();

    // The next calls reconnect: writers, readers and the k-NN cache.
    let id = once_reconnected("write", || {
        store.store_episode(&NewEpisode::new(b"after", 0.5, "after"))
    });
    assert!(id > *acknowledged.last().unwrap());
    let count = once_reconnected("count", || store.count_episodes());
    assert_eq!(
        count, 51,
        "every acknowledged write is there, the rolled-back ones are not"
    );
    for id in &acknowledged {
        assert!(
            store.retrieve_episode(*id).unwrap().is_some(),
            "episode {id} lost"
        );
    }
    store.store_concept("b", &[0.0, 1.0], None, None).unwrap();
    let near = once_reconnected("search", || {
        store.nearest_concepts(&[0.0, 1.0], 1, Metric::Cosine, &SearchFilter::default())
    });
    assert_eq!(near[0].name, "b");
    assert!(store
        .get_episodes_by_context("lost", 10, None)
        .unwrap()
        .is_empty());
}
