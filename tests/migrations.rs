//! Opening files of every kind: new, seed-made, newer, foreign, garbage.
mod common;

use gmstore::{seed_ddl, LATEST_VERSION};
use gmstore::{Error, Options, Store};
use rusqlite::Connection;

fn index_names(path: &std::path::Path) -> Vec<String> {
    let conn = Connection::open(path).unwrap();
    let mut stmt = conn
        .prepare("SELECT name FROM sqlite_schema WHERE type = 'index' AND sql IS NOT NULL ORDER BY name")
        .unwrap();
    stmt.query_map([], |r| r.get(0))
        .unwrap()
        .map(|r| r.unwrap())
        .collect()
}

#[test]
fn new_file_gets_the_seed_tables_and_latest_version() {
    let t = common::temp_store();
    assert_eq!(t.store.schema_version().unwrap(), LATEST_VERSION);
    drop(t.store);
    let conn = Connection::open(t.dir.path().join("test.db")).unwrap();
    let tables: Vec<String> = conn
        .prepare(
            "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
        )
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(|r| r.unwrap())
        .collect();
    assert_eq!(
        tables,
        [
            "concept_relationships",
            "concepts",
            "episodes",
            "gm_concept_changes",
            "gm_episode_changes",
            "gm_episode_priorities",
            "gm_meta",
            "gm_retention",
            "gm_schema_version",
            "learning_events"
        ]
    );
    let page_size: i64 = conn.query_row("PRAGMA page_size", [], |r| r.get(0)).unwrap();
    assert_eq!(page_size, 16384);
    let mode: String = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
    assert_eq!(mode, "wal");
}

#[test]
fn seed_made_file_is_recognised_as_v1_and_upgraded_with_data_intact() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("seed.db");
    {
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch(seed_ddl()).unwrap();
        conn.execute_batch(
            "INSERT INTO episodes (timestamp, experience_data, performance_score, context_hash, metadata)
                 VALUES (10.0, X'00FF10', 0.75, 'nav', '{\"k\": 1}');
             INSERT INTO concepts (name, embedding, creation_time) VALUES ('a', X'0000803F00000040', 5.0);
             INSERT INTO concepts (name, embedding, creation_time, access_count) VALUES ('b', X'0000404000008040', 6.0, 3);
             INSERT INTO concept_relationships (source_concept_id, target_concept_id, relationship_type, strength)
                 VALUES (1, 2, 'similar_to', 0.5);
             INSERT INTO learning_events (task_type, performance_delta, strategy_used, timestamp)
                 VALUES ('t', 0.2, 's', 7.0);",
        )
        .unwrap();
    }
    assert!(index_names(&path).contains(&"idx_concepts_name".to_string()));

    let store = Store::open_path(&path).unwrap();
    assert_eq!(store.schema_version().unwrap(), LATEST_VERSION);
    let e = store.retrieve_episode(1).unwrap().unwrap();
    assert_eq!(
        (
            e.experience_data.as_slice(),
            e.performance_score,
            e.metadata.as_str()
        ),
        (&[0u8, 255, 16][..], 0.75, "{\"k\": 1}")
    );
    assert_eq!(
        store.retrieve_concept(1).unwrap().unwrap().embedding,
        vec![1.0, 2.0]
    );
    assert_eq!(store.retrieve_concept(2).unwrap().unwrap().access_count, 3);
    assert_eq!(store.get_concept_relationships(1, None).unwrap()[0].strength, 0.5);
    assert_eq!(store.get_best_strategies("t", 5).unwrap()[0].usage_count, 1);
    assert_eq!(
        store.embedding_dim().unwrap(),
        Some(2),
        "dimension recorded from the existing concepts"
    );
    store.store_concept("c", &[3.0, 4.0], None, None).unwrap();
    drop(store);

    let indexes = index_names(&path);
    assert!(
        !indexes.contains(&"idx_concepts_name".to_string()),
        "the duplicate of UNIQUE(name) is dropped"
    );
    assert!(indexes.contains(&"idx_episodes_context_time".to_string()));
    assert!(indexes.contains(&"idx_learning_events_task_strategy_at".to_string()));
    assert!(indexes.contains(&"idx_learning_events_task_time".to_string()));
    for unused in [
        "idx_learning_events_task_strategy",
        "idx_learning_events_task_strategy_time",
        "idx_learning_events_timestamp",
        "idx_learning_events_performance_delta",
    ] {
        assert!(!indexes.contains(&unused.to_string()), "{unused} is dropped");
    }
    let conn = Connection::open(&path).unwrap();
    let versions: Vec<i64> = conn
        .prepare("SELECT version FROM gm_schema_version ORDER BY version")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(|r| r.unwrap())
        .collect();
    assert_eq!(versions, (1..=LATEST_VERSION).collect::<Vec<_>>());
    let ok: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(ok, "ok");
}

#[test]
fn reopening_applies_nothing_twice() {
    let t = common::temp_store();
    let path = t.path();
    drop(t.store);
    for _ in 0..3 {
        let s = Store::open_path(&path).unwrap();
        assert_eq!(s.schema_version().unwrap(), LATEST_VERSION);
    }
    let conn = Connection::open(&path).unwrap();
    let n: i64 = conn
        .query_row("SELECT count(*) FROM gm_schema_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, LATEST_VERSION);
}

#[test]
fn newer_schema_is_refused_and_the_file_left_byte_for_byte_untouched() {
    let t = common::temp_store();
    let path = t.path();
    drop(t.store);
    {
        let conn = Connection::open(&path).unwrap();
        conn.execute(
            "INSERT INTO gm_schema_version VALUES (99, 0, 'from the future')",
            [],
        )
        .unwrap();
        conn.pragma_update(None, "journal_mode", "DELETE").unwrap();
    }
    let before = std::fs::read(&path).unwrap();
    let err = Store::open_path(&path).err().unwrap();
    assert!(matches!(err, Error::SchemaTooNew(_)), "{err:?}");
    assert!(err.to_string().contains("schema version 99 is newer"), "{err}");
    assert_eq!(std::fs::read(&path).unwrap(), before);
    assert!(!path.with_extension("db-wal").exists());
}

#[test]
fn garbage_file_is_not_a_database_and_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("garbage.db");
    let junk: Vec<u8> = (0..8192u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    std::fs::write(&path, &junk).unwrap();
    let err = Store::open_path(&path).err().unwrap();
    assert!(matches!(err, Error::NotADatabase(_)), "{err:?}");
    assert!(
        err.to_string().contains("garbage.db"),
        "the message names the file: {err}"
    );
    assert_eq!(std::fs::read(&path).unwrap(), junk);
}

#[test]
fn foreign_sqlite_database_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.db");
    Connection::open(&path)
        .unwrap()
        .execute_batch("CREATE TABLE users(id INTEGER); PRAGMA journal_mode=DELETE;")
        .unwrap();
    let before = std::fs::read(&path).unwrap();
    let err = Store::open_path(&path).err().unwrap();
    assert!(err.to_string().contains("not a gmstore database"), "{err}");
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

#[test]
fn empty_file_becomes_a_store() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("empty.db");
    std::fs::write(&path, b"").unwrap();
    let store = Store::open_path(&path).unwrap();
    assert_eq!(store.schema_version().unwrap(), LATEST_VERSION);
}

#[test]
fn bad_paths_and_options_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let err = Store::open_path("").err().unwrap();
    assert_eq!(err, Error::InvalidArgument("db_path: must not be empty".into()));
    let err = Store::open_path(dir.path()).err().unwrap();
    assert!(err.to_string().contains("is a directory"), "{err}");
    let missing = Options {
        read_only: true,
        ..Options::new(dir.path().join("missing.db"))
    };
    let err = Store::open(missing).err().unwrap();
    assert!(matches!(err, Error::Io(_)), "{err:?}");
    let err = Store::open(Options {
        page_size: 1000,
        ..Options::new(dir.path().join("p.db"))
    })
    .err()
    .unwrap();
    assert!(err.to_string().starts_with("page_size"), "{err}");
}

#[test]
fn new_files_are_private_and_parent_folders_are_created() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data/nested/godly_ai.db");
    let store = Store::open_path(&path).unwrap();
    store
        .store_episode(&gmstore::NewEpisode::new(b"x", 0.5, "c"))
        .unwrap();
    assert_eq!(
        std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let wal = path.with_file_name("godly_ai.db-wal");
    assert_eq!(
        std::fs::metadata(&wal).unwrap().permissions().mode() & 0o777,
        0o600
    );
}

#[test]
fn read_only_store_reads_and_refuses_writes() {
    let t = common::temp_store();
    t.store
        .store_episode(&gmstore::NewEpisode::new(b"x", 0.5, "c"))
        .unwrap();
    let ro = Store::open(Options {
        read_only: true,
        ..Options::new(t.path())
    })
    .unwrap();
    assert_eq!(ro.count_episodes().unwrap(), 1);
    let err = ro
        .store_episode(&gmstore::NewEpisode::new(b"x", 0.5, "c"))
        .unwrap_err();
    assert!(matches!(err, Error::ReadOnly(_)), "{err:?}");
    assert!(matches!(ro.begin().unwrap_err(), Error::ReadOnly(_)));
    // A lookup by name reads without counting the access (it used to
    // fail with READ_ONLY because counting is a write).
    t.store.store_concept("x", &[1.0], None, None).unwrap();
    for _ in 0..2 {
        let c = ro.retrieve_concept_by_name("x").unwrap().unwrap();
        assert_eq!((c.name.as_str(), c.access_count), ("x", 0));
    }
    assert!(ro.retrieve_concept_by_name("nothing").unwrap().is_none());
    drop(ro);
    assert_eq!(
        t.store
            .retrieve_concept_by_name("x")
            .unwrap()
            .unwrap()
            .access_count,
        1
    );
}

#[test]
fn in_memory_store_works_and_is_private() {
    let a = Store::open_in_memory().unwrap();
    let b = Store::open_in_memory().unwrap();
    a.store_episode(&gmstore::NewEpisode::new(b"x", 0.5, "c"))
        .unwrap();
    assert_eq!(a.count_episodes().unwrap(), 1);
    assert_eq!(b.count_episodes().unwrap(), 0);
    assert!(a.get_database_stats().unwrap().db_size_bytes > 0);
}

/// Opening an up-to-date store needs no write lock: it succeeds while
/// another handle holds a write transaction (it returned BUSY), also with
/// `embedding_dim` set to the stored dimension.
#[test]
fn opening_does_not_wait_for_another_handles_write_transaction() {
    let t = common::temp_store();
    t.store.store_concept("c", &[1.0, 2.0, 3.0], None, None).unwrap();
    t.store.begin().unwrap();
    t.store.store_concept("d", &[1.0, 2.0, 3.0], None, None).unwrap();
    let quick = |dim| Options {
        connection_timeout: std::time::Duration::from_millis(100),
        embedding_dim: dim,
        ..Options::new(t.path())
    };
    let started = std::time::Instant::now();
    let other = Store::open(quick(None)).unwrap();
    let with_dim = Store::open(quick(Some(3))).unwrap();
    assert!(started.elapsed() < std::time::Duration::from_millis(90));
    assert_eq!(other.count_concepts().unwrap(), 1, "reads the committed state");
    assert_eq!(with_dim.embedding_dim().unwrap(), Some(3));
    t.store.commit().unwrap();
    assert_eq!(other.count_concepts().unwrap(), 2);
}

/// A failed open creates nothing: not `/dev/null-journal` beside a device,
/// not an empty database at a new path.
#[test]
fn a_failed_open_creates_nothing() {
    let err = Store::open_path("/dev/null").err().expect("a device is refused");
    assert!(matches!(err, Error::InvalidArgument(_)), "{err:?}");
    assert!(err.to_string().contains("not a regular file"), "{err}");
    assert!(!std::path::Path::new("/dev/null-journal").exists());

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tiny.db");
    let err = Store::open(Options {
        max_db_size: Some(1),
        ..Options::new(&path)
    })
    .err()
    .expect("one page cannot hold the schema");
    assert!(matches!(err, Error::Full(_)), "{err:?}");
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert!(left.is_empty(), "{left:?}");
}
