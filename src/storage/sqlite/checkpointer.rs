//! WAL checkpoints on a background thread.
//!
//! SQLite's default copies the write-ahead log into the database file on
//! the thread whose commit pushed the log past 1,000 pages, so that one
//! commit in many takes tens of milliseconds longer than the rest: a hitch
//! in a simulator's or a game's frame. A store on a WAL file instead
//! hands that work to a thread of its own, nudged by the writer's commit
//! hook. If the thread falls behind (a reader pins an old snapshot, the
//! disk is slow) or is gone (the process forked), the committing thread
//! checkpoints as SQLite would, once the log passes 4,000 pages, so the
//! log stays bounded either way. Checkpoints are PASSIVE: they never wait
//! for or block the writer or readers.

use std::ffi::{c_char, c_int, c_void};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, Weak};
use std::thread::JoinHandle;

use rusqlite::{ffi, Connection};

use crate::error::{Error, Result};

/// Log pages after a commit that wake the thread (SQLite's own default
/// autocheckpoint bound).
const BACKGROUND_PAGES: c_int = 1_000;

/// Log pages after a commit at which the committing thread checkpoints by
/// itself because the background thread has not kept up.
const INLINE_PAGES: c_int = 4 * BACKGROUND_PAGES;

/// What the commit hook and the thread share.
struct Shared {
    state: Mutex<State>,
    wake: Condvar,
}

#[derive(Default)]
struct State {
    pending: bool,
    stop: bool,
    /// The log's size in pages when a checkpoint was last asked for. A log
    /// that keeps growing under a stream of commits (it can only restart
    /// once a checkpoint has caught up between two of them) is copied once
    /// per 1,000 new pages, not after every commit: each checkpoint syncs
    /// the file.
    asked_at: c_int,
}

/// The commit hook reaches a store's thread through this registry rather
/// than a pointer: the writer connection may outlive the store (its
/// `Arc<Writer>` is shared), and a stale key finds nothing, where a stale
/// pointer would be freed memory. A handful of stores per process: a list.
static HOOKED: Mutex<Vec<(u64, Weak<Shared>)>> = Mutex::new(Vec::new());
static NEXT_KEY: AtomicU64 = AtomicU64::new(1);

/// A store's checkpoint thread; stops and joins when dropped.
pub(crate) struct Checkpointer {
    key: u64,
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl Checkpointer {
    /// Starts the thread with its own connection `conn` to the store's
    /// file and hooks the writer connection `writer` to it.
    pub(crate) fn start(writer: &Connection, conn: Connection) -> Result<Checkpointer> {
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            wake: Condvar::new(),
        });
        let worker = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("gmstore-checkpoint".into())
            .spawn(move || run(&worker, &conn))
            .map_err(|e| Error::Io(format!("could not start the checkpoint thread: {e}")))?;
        let key = NEXT_KEY.fetch_add(1, Ordering::Relaxed);
        lock(&HOOKED).push((key, Arc::downgrade(&shared)));
        // SAFETY: the handle is the writer's open connection; the argument
        // is a registry key, never dereferenced.
        unsafe { ffi::sqlite3_wal_hook(writer.handle(), Some(on_commit), key as usize as *mut c_void) };
        Ok(Checkpointer {
            key,
            shared,
            thread: Some(thread),
        })
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        let mut hooked = lock(&HOOKED);
        hooked.retain(|(key, _)| *key != self.key);
        if hooked.is_empty() {
            // Nothing of gmstore stays allocated once every store is closed.
            *hooked = Vec::new();
        }
        drop(hooked);
        lock(&self.shared.state).stop = true;
        self.shared.wake.notify_one();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // The state is two flags: a panic elsewhere cannot leave it half-set.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn run(shared: &Shared, conn: &Connection) {
    loop {
        {
            let mut state = lock(&shared.state);
            while !state.pending && !state.stop {
                state = shared.wake.wait(state).unwrap_or_else(|p| p.into_inner());
            }
            if state.stop {
                return;
            }
            state.pending = false;
        }
        // A failure (a busy lock, a full disk) leaves the log as it was;
        // the next commit nudges again, and the inline bound still holds.
        let _ = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
    }
}

/// SQLite's WAL hook: runs inside every commit of the writer, after the
/// log was written, with the log's size in pages.
unsafe extern "C" fn on_commit(
    key: *mut c_void,
    db: *mut ffi::sqlite3,
    name: *const c_char,
    pages: c_int,
) -> c_int {
    if pages < BACKGROUND_PAGES {
        return ffi::SQLITE_OK;
    }
    let nudged = std::panic::catch_unwind(|| nudge(key as usize as u64, pages)).unwrap_or(false);
    if !nudged {
        // SAFETY: db and name are what SQLite passed to this hook, valid
        // for its duration; a checkpoint from a WAL hook is what SQLite's
        // own autocheckpoint does.
        unsafe { ffi::sqlite3_wal_checkpoint(db, name) };
    }
    ffi::SQLITE_OK
}

/// Wakes the store's thread; false when the committing thread should
/// checkpoint itself (no thread, or the log is past the inline bound).
fn nudge(key: u64, pages: c_int) -> bool {
    let shared = lock(&HOOKED)
        .iter()
        .find(|(k, _)| *k == key)
        .and_then(|(_, shared)| shared.upgrade());
    let Some(shared) = shared.filter(|_| pages < INLINE_PAGES) else {
        return false;
    };
    let mut state = lock(&shared.state);
    if pages < state.asked_at {
        state.asked_at = 0; // the log restarted
    }
    if pages >= state.asked_at + BACKGROUND_PAGES {
        state.asked_at = pages;
        state.pending = true;
        shared.wake.notify_one();
    }
    true
}
