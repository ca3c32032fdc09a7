//! Fault injection: each fault gets its status code, and what was stored
//! before it is still there, byte for byte, with a sound file.
mod common;

use std::path::Path;
use std::process::Command;

use gmstore::{Error, NewEpisode, Options, Store};

fn fill(store: &Store, n: usize, tag: &str) -> Vec<(i64, Vec<u8>)> {
    (0..n)
        .map(|i| {
            let data: Vec<u8> = format!("{tag}-{i}").into_bytes().repeat(20);
            (
                store.store_episode(&NewEpisode::new(&data, 0.5, tag)).unwrap(),
                data,
            )
        })
        .collect()
}

fn assert_intact(store: &Store, kept: &[(i64, Vec<u8>)]) {
    for (id, data) in kept {
        assert_eq!(
            &store
                .retrieve_episode(*id)
                .unwrap()
                .expect("still there")
                .experience_data,
            data
        );
    }
    assert!(store.integrity_check().unwrap().is_empty());
}

/// A store capped at 400 KB, in its own temporary folder.
fn capped_store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let opts = Options {
        max_db_size: Some(400_000),
        ..Options::new(dir.path().join("cap.db"))
    };
    let store = Store::open(opts).unwrap();
    (dir, store)
}

/// Stores 50 KB episodes until one fails, and returns that error.
fn fill_until_error(store: &Store) -> Error {
    let big = vec![1u8; 50_000];
    (0..100)
        .find_map(|_| store.store_episode(&NewEpisode::new(&big, 0.5, "big")).err())
        .expect("the cap is hit")
}

fn mount_tmpfs(dir: &Path, size: &str) {
    let status = Command::new("mount")
        .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
        .arg(dir)
        .status()
        .expect("run mount");
    assert!(
        status.success(),
        "these fault tests mount a small tmpfs and need root (CI runs as root)"
    );
}

struct Mounted<'a>(&'a Path);
impl Drop for Mounted<'_> {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.0).status();
    }
}

#[test]
fn size_cap_reports_full_and_keeps_data() {
    let (_dir, store) = capped_store();
    let kept = fill(&store, 20, "before");
    let err = fill_until_error(&store);
    let big = vec![1u8; 50_000];
    assert!(matches!(err, Error::Full(_)), "{err:?}");
    assert_eq!(err.code(), gmstore::ffi::GM_ERR_FULL);
    assert_intact(&store, &kept);
    let batch: Vec<_> = (0..50).map(|_| NewEpisode::new(&big, 0.5, "batch")).collect();
    assert!(matches!(
        store.store_episodes(&batch).unwrap_err(),
        Error::Full(_)
    ));
    assert!(
        store
            .get_episodes_by_context("batch", 100, None)
            .unwrap()
            .is_empty(),
        "a failed batch leaves nothing"
    );
    store
        .store_episode(&NewEpisode::new(b"small", 0.5, "after"))
        .unwrap();
}

/// A full disk in the middle of a caller's transaction makes SQLite roll
/// the whole transaction back. Later writes must not run one by one
/// outside it: they are refused, commit says nothing was kept, and after
/// the rollback the store works again.
#[test]
fn a_full_disk_inside_a_transaction_ends_it_and_later_writes_are_refused() {
    let (_dir, store) = capped_store();
    let kept = fill(&store, 5, "before");
    store.begin().unwrap();
    store.begin().unwrap();
    fill(&store, 3, "inside");
    let err = fill_until_error(&store);
    assert!(matches!(err, Error::Full(_)), "{err:?}");
    assert!(
        err.to_string().contains("rolled back the whole transaction"),
        "{err}"
    );
    for refused in [
        store
            .store_episode(&NewEpisode::new(b"late", 0.5, "late"))
            .unwrap_err(),
        store.store_concept("c", &[1.0, 2.0], None, None).unwrap_err(),
        store.store_learning_event("t", 0.1, "s", None, None).unwrap_err(),
        store.begin().unwrap_err(),
    ] {
        assert!(matches!(refused, Error::Misuse(_)), "{refused:?}");
        assert!(
            refused.to_string().contains("nothing of it was kept"),
            "{refused}"
        );
    }
    let err = store.commit().unwrap_err();
    assert!(
        matches!(err, Error::Misuse(_)) && err.to_string().starts_with("commit"),
        "{err}"
    );
    store.rollback().unwrap();
    assert!(!store.in_transaction());
    assert_eq!(
        store.count_episodes().unwrap(),
        5,
        "only what was committed before"
    );
    assert!(store
        .get_episodes_by_context("late", 10, None)
        .unwrap()
        .is_empty());
    assert_intact(&store, &kept);
    store
        .store_episode(&NewEpisode::new(b"small", 0.5, "after"))
        .unwrap();
}

#[test]
fn a_real_full_disk_reports_full_and_keeps_data() {
    let dir = tempfile::tempdir().unwrap();
    mount_tmpfs(dir.path(), "2m");
    let _m = Mounted(dir.path());
    let store = Store::open(Options::new(dir.path().join("disk.db"))).unwrap();
    let kept = fill(&store, 10, "before");
    let big = vec![2u8; 100_000];
    let err = (0..100)
        .find_map(|_| store.store_episode(&NewEpisode::new(&big, 0.5, "big")).err())
        .expect("the disk fills");
    assert!(matches!(err, Error::Full(_) | Error::Io(_)), "{err:?}");
    assert_intact(&store, &kept);
}

#[test]
fn a_read_only_file_system_refuses_writes_and_serves_reads() {
    let dir = tempfile::tempdir().unwrap();
    mount_tmpfs(dir.path(), "8m");
    let _m = Mounted(dir.path());
    let path = dir.path().join("ro.db");
    let kept = {
        let store = Store::open(Options::new(&path)).unwrap();
        let kept = fill(&store, 10, "before");
        store.checkpoint().unwrap();
        kept
    };
    let remount = Command::new("mount")
        .args(["-o", "remount,ro"])
        .arg(dir.path())
        .status()
        .unwrap();
    assert!(remount.success());
    let err = Store::open(Options::new(&path))
        .err()
        .expect("read-write open of a read-only file fails");
    assert!(matches!(err, Error::ReadOnly(_) | Error::Io(_)), "{err:?}");
    let ro = Store::open(Options {
        read_only: true,
        ..Options::new(&path)
    })
    .unwrap();
    assert_intact(&ro, &kept);
    assert!(matches!(
        ro.store_episode(&NewEpisode::new(b"x", 0.5, "c")).unwrap_err(),
        Error::ReadOnly(_)
    ));
    let _ = Command::new("mount")
        .args(["-o", "remount,rw"])
        .arg(dir.path())
        .status();
}

#[test]
fn an_unwritable_backup_folder_is_an_io_error_and_the_store_goes_on() {
    let t = common::temp_store();
    let kept = fill(&t.store, 5, "before");
    let blocker = t.dir.path().join("not_a_dir");
    std::fs::write(&blocker, b"a file where a folder should be").unwrap();
    let err = t.store.create_backup(Some(&blocker.join("b.db"))).unwrap_err();
    assert!(matches!(err, Error::Io(_)), "{err:?}");
    assert!(err.to_string().contains("not_a_dir"), "{err}");
    assert_intact(&t.store, &kept);

    let dir = tempfile::tempdir().unwrap();
    mount_tmpfs(dir.path(), "1m");
    let _m = Mounted(dir.path());
    Command::new("mount")
        .args(["-o", "remount,ro"])
        .arg(dir.path())
        .status()
        .unwrap();
    let err = t.store.create_backup(Some(&dir.path().join("b.db"))).unwrap_err();
    assert!(matches!(err, Error::Io(_)), "{err:?}");
    assert_intact(&t.store, &kept);
}

#[test]
fn a_file_deleted_or_replaced_under_an_open_handle_refuses_writes() {
    for replace in [false, true] {
        let t = common::temp_store();
        fill(&t.store, 5, "before");
        let path = t.path();
        let replacement = if replace {
            let other = t.dir.path().join("other.db");
            drop(Store::open_path(&other).unwrap());
            std::fs::rename(&other, &path).unwrap();
            Some(std::fs::read(&path).unwrap())
        } else {
            std::fs::remove_file(&path).unwrap();
            None
        };
        let err = t
            .store
            .store_episode(&NewEpisode::new(b"lost?", 0.5, "after"))
            .unwrap_err();
        assert!(matches!(err, Error::ReadOnly(_)), "replace={replace}: {err:?}");
        assert!(err.to_string().contains("deleted or replaced"), "{err}");
        assert!(matches!(t.store.begin().unwrap_err(), Error::ReadOnly(_)));
        // reads are served from connections already open, or refused; never
        // from a file conjured or swapped in at the path
        let _ = t.store.count_episodes();
        let _ = std::thread::scope(|s| {
            s.spawn(|| t.store.get_episodes_by_context("before", 10, None))
                .join()
        });
        match replacement {
            Some(before) => assert_eq!(
                std::fs::read(&path).unwrap(),
                before,
                "the new file was not written to"
            ),
            None => assert!(!path.exists(), "no empty database was created at the path"),
        }
    }
}

#[test]
fn a_corrupted_page_is_reported_as_corrupt() {
    let t = common::temp_store();
    fill(&t.store, 300, "bulk");
    t.store.checkpoint().unwrap();
    let path = t.path();
    drop(t.store);
    let mut bytes = std::fs::read(&path).unwrap();
    let page = 16384;
    let pages = bytes.len() / page;
    for p in 2..pages {
        for b in &mut bytes[p * page..p * page + 64] {
            *b = 0xEE;
        }
    }
    std::fs::write(&path, &bytes).unwrap();
    let outcome = Store::open_path(&path).and_then(|s| {
        let problems = s.integrity_check()?;
        Ok((
            problems,
            s.get_episodes_by_context("bulk", 1000, None).map(|v| v.len()),
        ))
    });
    match outcome {
        Err(e) => assert!(matches!(e, Error::Corrupt(_) | Error::NotADatabase(_)), "{e:?}"),
        Ok((problems, read)) => {
            assert!(!problems.is_empty(), "integrity_check must report the damage");
            if let Err(e) = read {
                assert!(matches!(e, Error::Corrupt(_)), "{e:?}");
            }
        }
    }
}

#[test]
fn bad_paths_and_newer_or_foreign_files_are_clear_errors() {
    // also covered in tests/migrations.rs; gathered here as the fault list
    let dir = tempfile::tempdir().unwrap();
    assert!(matches!(
        Store::open_path("").err().unwrap(),
        Error::InvalidArgument(_)
    ));
    assert!(matches!(
        Store::open_path(dir.path()).err().unwrap(),
        Error::InvalidArgument(_)
    ));
    let junk = dir.path().join("junk.db");
    std::fs::write(&junk, vec![9u8; 4096]).unwrap();
    assert!(matches!(
        Store::open_path(&junk).err().unwrap(),
        Error::NotADatabase(_)
    ));
    let newer = dir.path().join("newer.db");
    drop(Store::open_path(&newer).unwrap());
    rusqlite::Connection::open(&newer)
        .unwrap()
        .execute("INSERT INTO gm_schema_version VALUES (42, 0, 'x')", [])
        .unwrap();
    assert!(matches!(
        Store::open_path(&newer).err().unwrap(),
        Error::SchemaTooNew(_)
    ));
}

/// Rows damaged by raw SQL are CORRUPT and name the row; they were
/// INTERNAL ("a bug"). Other rows stay readable.
#[test]
fn rows_damaged_by_raw_sql_are_corrupt_and_named() {
    use gmstore::{Error, Metric, SearchFilter};
    let t = common::temp_store();
    let good = t.store.store_concept("good", &[1.0, 2.0], None, None).unwrap();
    let bad = t.store.store_concept("bad", &[3.0, 4.0], None, None).unwrap();
    for damage in ["embedding = X'010203'", "embedding = 'text'", "embedding = 42"] {
        t.store
            .execute(&format!("UPDATE concepts SET {damage} WHERE id = {bad}"), &[])
            .unwrap();
        let err = t.store.retrieve_concept(bad).unwrap_err();
        assert!(matches!(err, Error::Corrupt(_)), "{damage}: {err:?}");
        assert!(err.to_string().contains(&format!("concept {bad}")), "{err}");
        assert!(matches!(
            t.store.search_concepts("", 10).unwrap_err(),
            Error::Corrupt(_)
        ));
        let err = t
            .store
            .nearest_concepts(&[1.0, 2.0], 1, Metric::L2, &SearchFilter::default())
            .unwrap_err();
        assert!(matches!(err, Error::Corrupt(_)), "{damage}: {err:?}");
        assert_eq!(t.store.retrieve_concept(good).unwrap().unwrap().name, "good");
    }
    assert_eq!(t.store.execute("SELECT 1", &[]).unwrap(), 0, "rows are discarded");
    assert!(matches!(
        t.store.execute(" \n ", &[]).unwrap_err(),
        Error::InvalidArgument(_)
    ));
    assert!(matches!(
        t.store.execute("/* nothing */", &[]).unwrap_err(),
        Error::InvalidArgument(_)
    ));
}
