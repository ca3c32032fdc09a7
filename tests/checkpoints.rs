//! The write-ahead log reaches the database file on the store's own
//! thread: after a large commit and no further call, the main file alone
//! (what a crash-free copy without the -wal file holds) has the rows, and
//! closing the store leaves no thread of it behind. SQLite files only.

use std::path::Path;
use std::time::{Duration, Instant};

use gmstore::{NewEpisode, Options, Store};

/// Rows of `episodes` in a copy of the main file alone, or None while a
/// checkpoint is writing it (a torn copy) or has not reached it.
fn episodes_in_main_file(db: &Path, scratch: &Path) -> Option<i64> {
    std::fs::copy(db, scratch).ok()?;
    let conn =
        rusqlite::Connection::open_with_flags(scratch, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).ok()?;
    conn.query_row("SELECT count(*) FROM episodes", [], |r| r.get(0))
        .ok()
}

/// Checkpoint threads now running in this process (Linux names a thread
/// by its first 15 bytes).
fn checkpoint_threads() -> usize {
    std::fs::read_dir("/proc/self/task")
        .expect("/proc/self/task")
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
        .filter(|name| name.trim_end() == "gmstore-checkpo")
        .count()
}

/// Checkpoint threads once they settle at `expected`, or what is seen
/// after 10 s: a new thread names itself after it starts, so a count
/// taken right after open can miss it.
fn checkpoint_threads_settled(expected: usize) -> usize {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let now = checkpoint_threads();
        if now == expected || Instant::now() > deadline {
            return now;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// The tests of this file one at a time: they count the stores' threads.
fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(|p| p.into_inner())
}

/// Stores 1,200 episodes of 16 KiB in one call: past the 1,000 log pages
/// that wake the thread whatever the page size.
fn store_a_large_batch(store: &Store) {
    let blob = vec![0xA5u8; 16 * 1024];
    let episodes: Vec<_> = (0..1200).map(|_| NewEpisode::new(&blob, 0.5, "ctx")).collect();
    store.store_episodes(&episodes).unwrap();
}

/// Waits until the main file alone holds `count` episodes; the count seen.
fn wait_for_main_file(db: &Path, count: i64) -> Option<i64> {
    let scratch = db.with_extension("main-only");
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut seen = None;
    while Instant::now() < deadline {
        seen = episodes_in_main_file(db, &scratch);
        if seen == Some(count) {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    seen
}

#[test]
fn a_large_commit_reaches_the_main_file_without_another_call() {
    let _serial = one_at_a_time();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("gm.db");
    let store = Store::open(Options::new(&db)).unwrap();
    store_a_large_batch(&store);
    assert_eq!(
        wait_for_main_file(&db, 1200),
        Some(1200),
        "the log was not checkpointed into the main file"
    );
    // The store's own view is unchanged by the checkpoint.
    assert_eq!(store.count_episodes().unwrap(), 1200);
}

#[test]
fn small_commits_leave_the_log_to_grow_until_the_bound() {
    // Below 1,000 log pages nothing is copied: a checkpoint per small
    // commit would cost a sync each.
    let _serial = one_at_a_time();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("gm.db");
    let store = Store::open(Options::new(&db)).unwrap();
    store_a_large_batch(&store);
    assert_eq!(wait_for_main_file(&db, 1200), Some(1200));
    // The checkpoint marks the log done after syncing the file; a write
    // that begins before that appends to the log instead of restarting it.
    std::thread::sleep(Duration::from_millis(500));
    store
        .store_episode(&NewEpisode::new(b"small", 0.5, "ctx"))
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(episodes_in_main_file(&db, &dir.path().join("b.db")), Some(1200));
    assert_eq!(store.count_episodes().unwrap(), 1201);
}

#[test]
fn closing_a_store_stops_its_checkpoint_thread() {
    let _serial = one_at_a_time();
    let dir = tempfile::tempdir().unwrap();
    let before = checkpoint_threads();
    let stores: Vec<_> = (0..4)
        .map(|i| Store::open(Options::new(dir.path().join(format!("{i}.db")))).unwrap())
        .collect();
    assert_eq!(
        checkpoint_threads_settled(before + 4),
        before + 4,
        "one checkpoint thread per store"
    );
    for store in &stores {
        store.close();
    }
    // The kernel drops a joined thread's /proc entry a moment after the
    // join returns, hence the settle.
    assert_eq!(
        checkpoint_threads_settled(before),
        before,
        "close joins the thread"
    );
    drop(stores);
}

#[test]
fn stores_without_a_log_of_their_own_start_no_thread() {
    let _serial = one_at_a_time();
    let dir = tempfile::tempdir().unwrap();
    let before = checkpoint_threads();
    let memory = Store::open_in_memory().unwrap();
    let mut rollback = Options::new(dir.path().join("rollback.db"));
    rollback.enable_wal = false;
    let rollback = Store::open(rollback).unwrap();
    let path = dir.path().join("ro.db");
    Store::open(Options::new(&path)).unwrap().close();
    let mut ro = Options::new(&path);
    ro.read_only = true;
    let read_only = Store::open(ro).unwrap();
    assert_eq!(checkpoint_threads(), before);
    drop((memory, rollback, read_only));
}
