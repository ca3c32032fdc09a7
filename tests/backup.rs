//! Backups, retention, restore and maintenance on real files.
mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use gmstore::{NewEpisode, Options, Store};
use rusqlite::Connection;

fn count(path: &std::path::Path, sql: &str) -> i64 {
    Connection::open(path)
        .unwrap()
        .query_row(sql, [], |r| r.get(0))
        .unwrap()
}

#[test]
fn backup_while_four_threads_write_is_a_consistent_snapshot() {
    let t = Arc::new(common::temp_store());
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let (t, stop) = (t.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut batches = 0;
                while !stop.load(Ordering::SeqCst) {
                    let context = format!("w{w}_b{batches}");
                    let batch: Vec<_> = (0..10)
                        .map(|_| NewEpisode::new(&[7u8; 256], 0.5, &context))
                        .collect();
                    t.store.store_episodes(&batch).expect("writer saw no error");
                    batches += 1;
                }
                batches
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    // A server store's default folder is ./backups of the working directory:
    // the test keeps its copy in its own folder instead.
    let info = if common::on_server() {
        t.store
            .create_backup(Some(&t.dir.path().join("backups/server.db")))
            .unwrap()
    } else {
        t.store.create_backup(None).unwrap()
    };
    std::thread::sleep(Duration::from_millis(100));
    stop.store(true, Ordering::SeqCst);
    let written: i64 = writers.into_iter().map(|w| w.join().unwrap() as i64).sum();

    assert!(info.path.starts_with(t.dir.path().join("backups")));
    assert_eq!(info.schema_version, gmstore::LATEST_VERSION);
    let conn = Connection::open(&info.path).unwrap();
    let ok: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(ok, "ok");
    let torn: i64 = conn
        .query_row("SELECT count(*) FROM (SELECT context_hash FROM episodes GROUP BY context_hash HAVING count(*) != 10)", [], |r| r.get(0))
        .unwrap();
    assert_eq!(torn, 0, "every batch is wholly in the backup or wholly out");
    let in_backup: i64 = conn
        .query_row("SELECT count(*) FROM episodes", [], |r| r.get(0))
        .unwrap();
    assert!(
        in_backup > 0 && in_backup < written * 10,
        "a point in time between start and end: {in_backup} of {}",
        written * 10
    );
    assert_eq!(t.store.count_episodes().unwrap(), written * 10);
    let mode: String = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
    assert_eq!(mode, "delete", "a backup is one self-contained file");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&info.path).unwrap().permissions().mode() & 0o777,
        0o600
    );
}

#[test]
fn retention_keeps_exactly_the_newest_and_never_touches_foreign_files() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(Options {
        max_backups: 3,
        ..Options::new(dir.path().join("mem.db"))
    })
    .unwrap();
    let backups = dir.path().join("backups");
    std::fs::create_dir_all(&backups).unwrap();
    // look-alikes gmstore did not make: same naming pattern, other content
    let impostor = backups.join("mem_20000101T000000.000000Z.db");
    std::fs::write(&impostor, b"my own notes").unwrap();
    let other_db = backups.join("mem_19990101T000000.000000Z.db");
    Connection::open(&other_db)
        .unwrap()
        .execute_batch("CREATE TABLE gm_meta(key TEXT, value TEXT);")
        .unwrap();
    let unrelated = backups.join("notes.txt");
    std::fs::write(&unrelated, b"keep me").unwrap();

    let mut made = Vec::new();
    for i in 0..5 {
        store
            .store_episode(&NewEpisode::new(b"x", i as f64, "c"))
            .unwrap();
        made.push(store.create_backup(None).unwrap().path);
        std::thread::sleep(Duration::from_millis(5));
    }
    let kept: Vec<_> = store
        .list_backups()
        .unwrap()
        .into_iter()
        .map(|(p, _)| p)
        .collect();
    assert_eq!(kept, made[2..].to_vec(), "the newest three, oldest first");
    assert!(!made[0].exists() && !made[1].exists());
    assert!(impostor.exists() && other_db.exists() && unrelated.exists());
    assert_eq!(count(&made[4], "SELECT count(*) FROM episodes"), 5);

    let custom = dir.path().join("manual/manual_backup.db");
    let info = store.create_backup(Some(&custom)).unwrap();
    assert_eq!(info.path, custom);
    assert_eq!(
        store.list_backups().unwrap().len(),
        3,
        "custom paths are not subject to retention"
    );
    let err = store.create_backup(Some(&custom)).unwrap_err();
    assert!(err.to_string().contains("already exists"), "{err}");
}

#[test]
fn auto_backup_interval_holds_across_close_and_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let opts = Options {
        backup_interval: Duration::from_secs(3600),
        ..Options::new(dir.path().join("a.db"))
    };
    let store = Store::open(opts.clone()).unwrap();
    assert_eq!(store.get_database_stats().unwrap().last_backup_time, None);
    let first = store
        .auto_backup_if_needed()
        .unwrap()
        .expect("no backup yet: one is due");
    assert!(
        store.auto_backup_if_needed().unwrap().is_none(),
        "not due again within the hour"
    );
    drop(store);
    let store = Store::open(opts).unwrap();
    assert!(
        store.auto_backup_if_needed().unwrap().is_none(),
        "the interval survives a restart"
    );
    let last = store.get_database_stats().unwrap().last_backup_time.unwrap();
    assert!((last - first.created_at).abs() < 1e-3);
    drop(store);
    let eager = Store::open(Options {
        backup_interval: Duration::ZERO,
        ..Options::new(dir.path().join("a.db"))
    })
    .unwrap();
    assert!(eager.auto_backup_if_needed().unwrap().is_some());
}

#[test]
fn restore_round_trip_returns_exactly_the_backed_up_state() {
    let t = common::temp_store();
    t.store
        .store_episode(&NewEpisode::new(b"before", 0.1, "c"))
        .unwrap();
    t.store.store_concept("kept", &[1.0, 2.0], None, None).unwrap();
    let backup = t.store.create_backup(None).unwrap().path;
    t.store
        .store_episode(&NewEpisode::new(b"after", 0.2, "c"))
        .unwrap();
    t.store.store_concept("lost", &[3.0, 4.0], None, None).unwrap();
    let other_handle = Store::open(Options::new(t.path())).unwrap();
    assert_eq!(other_handle.count_episodes().unwrap(), 2);

    t.store.restore(&backup).unwrap();
    assert_eq!(t.store.count_episodes().unwrap(), 1);
    assert!(t.store.retrieve_concept_by_name("lost").unwrap().is_none());
    assert!(t.store.retrieve_concept_by_name("kept").unwrap().is_some());
    assert_eq!(
        other_handle.count_episodes().unwrap(),
        1,
        "another handle sees the restored state"
    );
    assert!(t.store.integrity_check().unwrap().is_empty());
    t.store
        .store_episode(&NewEpisode::new(b"later", 0.3, "c"))
        .unwrap();
}

#[test]
fn corrupt_or_foreign_backup_is_refused_and_the_live_store_untouched() {
    let t = common::temp_store();
    t.store
        .store_episode(&NewEpisode::new(b"live", 0.1, "c"))
        .unwrap();
    let good = t.store.create_backup(None).unwrap().path;
    let mut bytes = std::fs::read(&good).unwrap();
    let page = 16384;
    for b in &mut bytes[page..page + 2000] {
        *b = 0xA5;
    }
    let corrupt = t.dir.path().join("corrupt.db");
    std::fs::write(&corrupt, &bytes).unwrap();
    let err = t.store.restore(&corrupt).unwrap_err();
    assert!(
        matches!(err, gmstore::Error::Corrupt(_) | gmstore::Error::NotADatabase(_)),
        "{err:?}"
    );
    let garbage = t.dir.path().join("garbage.db");
    std::fs::write(&garbage, vec![3u8; 9000]).unwrap();
    assert!(t.store.restore(&garbage).is_err());
    assert!(t.store.restore(&t.dir.path().join("missing.db")).is_err());
    assert_eq!(t.store.count_episodes().unwrap(), 1);
    assert_eq!(
        t.store.retrieve_episode(1).unwrap().unwrap().experience_data,
        b"live"
    );
}

#[test]
fn vacuum_reclaims_space_and_compact_copy_is_verified() {
    if common::on_server() {
        return; // about the SQLite file itself: its free pages
    }
    let t = common::temp_store();
    let big = vec![9u8; 50_000];
    let batch: Vec<_> = (0..200).map(|_| NewEpisode::new(&big, 0.5, "bulk")).collect();
    t.store.store_episodes(&batch).unwrap();
    t.store.checkpoint().unwrap();
    t.store.execute("DELETE FROM episodes", &[]).unwrap();
    t.store.checkpoint().unwrap();
    assert!(t.store.get_database_stats().unwrap().freelist_count > 100);
    let reclaimed = t.store.vacuum().unwrap();
    assert!(reclaimed > 5_000_000, "reclaimed {reclaimed} bytes");
    assert_eq!(t.store.get_database_stats().unwrap().freelist_count, 0);

    t.store.store_episode(&NewEpisode::new(b"x", 0.5, "c")).unwrap();
    let copy = t.dir.path().join("compact.db");
    let info = t.store.vacuum_into(&copy).unwrap();
    assert_eq!(info.schema_version, gmstore::LATEST_VERSION);
    assert_eq!(count(&copy, "SELECT count(*) FROM episodes"), 1);
    assert!(t.store.vacuum_into(&copy).is_err(), "never overwrites");
}

#[test]
fn migrating_a_non_empty_file_backs_it_up_first() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    Connection::open(&path)
        .unwrap()
        .execute_batch(&format!(
            "{} INSERT INTO learning_events (task_type, performance_delta, strategy_used, timestamp) VALUES ('t', 1, 's', 1);",
            gmstore::seed_ddl()
        ))
        .unwrap();
    Store::open_path(&path).unwrap();
    let saved: Vec<_> = std::fs::read_dir(dir.path().join("backups"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(saved.len(), 1);
    let name = saved[0].file_name().unwrap().to_str().unwrap().to_string();
    assert!(name.starts_with("old_premigration_v1_"), "{name}");
    assert_eq!(count(&saved[0], "SELECT count(*) FROM learning_events"), 1);
    let has_version_table = count(
        &saved[0],
        "SELECT count(*) FROM sqlite_schema WHERE name = 'gm_schema_version'",
    );
    assert_eq!(has_version_table, 0, "the copy is the file as it was");
}

#[test]
fn in_memory_store_needs_an_explicit_backup_path() {
    let store = Store::open_in_memory().unwrap();
    store.store_episode(&NewEpisode::new(b"x", 0.5, "c")).unwrap();
    assert!(store
        .create_backup(None)
        .unwrap_err()
        .to_string()
        .contains("backup_path"));
    let dir = tempfile::tempdir().unwrap();
    let info = store.create_backup(Some(&dir.path().join("m.db"))).unwrap();
    assert_eq!(count(&info.path, "SELECT count(*) FROM episodes"), 1);
}
