//! The writer connection and who holds it.
//!
//! One connection serves every write. A thread that begins a transaction
//! holds the writer until it commits or rolls back, and every store call
//! it makes meanwhile joins that transaction; other threads' writes wait.
//! Three ways out keep a held writer from blocking everyone forever:
//! - a thread that exits with its transaction open has it rolled back by a
//!   thread-local guard (Rust runs thread-local destructors on every thread
//!   exit, also for threads a C program made with pthreads);
//! - a transaction can be detached from its thread and attached to another
//!   (C# `async` code and job systems resume on other threads), which then
//!   commits or rolls it back;
//! - closing the store rolls back whatever is open and wakes every waiter.

use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::storage::SessionBox;

/// A process-unique id of the calling thread. Unlike `thread::current()`
/// it allocates nothing, so threads that never exit through Rust (a C main
/// thread) leak nothing under valgrind; ids are never reused.
pub(crate) fn thread_key() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    thread_local! {
        static KEY: u64 = NEXT.fetch_add(1, Ordering::Relaxed);
    }
    KEY.with(|k| *k)
}

/// The operating system's id of the calling thread, for messages: it is
/// what debuggers and `top -H` show.
fn os_thread_id() -> i64 {
    // SAFETY: gettid takes no arguments and cannot fail.
    unsafe { libc::syscall(libc::SYS_gettid) }
}

/// Who holds the writer.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Holder {
    /// A thread, for one write or for its open transaction.
    Thread { key: u64, os_id: i64 },
    /// A transaction detached from its thread, waiting to be attached.
    Detached { token: u64 },
}

impl Holder {
    fn me() -> Holder {
        Holder::Thread {
            key: thread_key(),
            os_id: os_thread_id(),
        }
    }

    fn is_thread(&self, key: u64) -> bool {
        matches!(self, Holder::Thread { key: k, .. } if *k == key)
    }

    fn describe(&self) -> String {
        match self {
            Holder::Thread { os_id, .. } => {
                format!("thread {os_id} of this process holds this store's writer")
            }
            Holder::Detached { token } => {
                format!("transaction {token}, detached from its thread and not yet attached, holds this store's writer")
            }
        }
    }
}

struct Ownership {
    holder: Option<Holder>,
    tx_depth: u32,
    closed: bool,
}

pub(crate) struct Writer {
    conn: Mutex<SessionBox>,
    state: Mutex<Ownership>,
    released: Condvar,
    timeout: Duration,
}

/// Proof that the calling thread holds the writer. Dropping it gives the
/// writer back unless a transaction is still open on this thread.
pub(crate) struct Held<'s> {
    writer: &'s Writer,
}

fn poisoned<T>(_: T) -> Error {
    Error::Internal("a lock was poisoned by an earlier panic; reopen the store".into())
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> Result<MutexGuard<'_, T>> {
    m.lock().map_err(poisoned)
}

fn closed_error() -> Error {
    Error::Misuse("the store was closed; any transaction open on it was rolled back".into())
}

impl Writer {
    pub(crate) fn new(conn: SessionBox, timeout: Duration) -> Arc<Writer> {
        Arc::new(Writer {
            conn: Mutex::new(conn),
            state: Mutex::new(Ownership {
                holder: None,
                tx_depth: 0,
                closed: false,
            }),
            released: Condvar::new(),
            timeout,
        })
    }

    /// Takes the writer for the calling thread, waiting up to the timeout
    /// for whoever holds it.
    pub(crate) fn acquire(&self) -> Result<Held<'_>> {
        let me = thread_key();
        let mut state = lock(&self.state)?;
        if state.holder.is_some_and(|h| h.is_thread(me)) {
            return Ok(Held { writer: self });
        }
        let deadline = Instant::now() + self.timeout;
        loop {
            if state.closed {
                return Err(closed_error());
            }
            let Some(holder) = state.holder else { break };
            let Some(left) = deadline.checked_duration_since(Instant::now()) else {
                return Err(Error::Busy(format!(
                    "database is locked: {} and kept a transaction open past connection_timeout ({:?}); \
                     it must commit or roll back",
                    holder.describe(),
                    self.timeout
                )));
            };
            state = self.released.wait_timeout(state, left).map_err(poisoned)?.0;
        }
        state.holder = Some(Holder::me());
        Ok(Held { writer: self })
    }

    /// Whether the calling thread holds the writer.
    pub(crate) fn held_by_me(&self) -> Result<bool> {
        Ok(lock(&self.state)?
            .holder
            .is_some_and(|h| h.is_thread(thread_key())))
    }

    /// Whether a transaction of another thread, or a detached one, is open.
    pub(crate) fn other_transaction_open(&self) -> bool {
        self.state
            .lock()
            .map(|s| s.tx_depth > 0 && !s.holder.is_some_and(|h| h.is_thread(thread_key())))
            .unwrap_or(false)
    }

    /// Whether the calling thread has a transaction open.
    pub(crate) fn in_transaction(&self) -> bool {
        self.state
            .lock()
            .map(|s| s.tx_depth > 0 && s.holder.is_some_and(|h| h.is_thread(thread_key())))
            .unwrap_or(false)
    }

    /// Detaches the calling thread's open transaction (every nesting level)
    /// and returns its token. It stays open and keeps the writer until a
    /// thread attaches it and ends it, or the store closes.
    pub(crate) fn detach(&self) -> Result<u64> {
        static NEXT_TOKEN: AtomicU64 = AtomicU64::new(1);
        let mut state = lock(&self.state)?;
        if state.tx_depth == 0 || !state.holder.is_some_and(|h| h.is_thread(thread_key())) {
            return Err(Error::Misuse(
                "detach: no transaction is open on this thread".into(),
            ));
        }
        let token = NEXT_TOKEN.fetch_add(1, Ordering::Relaxed);
        state.holder = Some(Holder::Detached { token });
        Ok(token)
    }

    /// Makes the detached transaction `token` the calling thread's: its
    /// calls join it, and commit or rollback end it.
    pub(crate) fn attach(self: &Arc<Self>, token: u64) -> Result<()> {
        let mut state = lock(&self.state)?;
        if state.closed {
            return Err(closed_error());
        }
        if state.tx_depth > 0 && state.holder.is_some_and(|h| h.is_thread(thread_key())) {
            return Err(Error::Misuse(
                "attach: this thread already has a transaction open; end it first".into(),
            ));
        }
        if state.holder != Some(Holder::Detached { token }) {
            return Err(Error::Misuse(format!(
                "attach: no detached transaction {token} (it was attached already, or the token is wrong)"
            )));
        }
        state.holder = Some(Holder::me());
        drop(state);
        self.roll_back_at_thread_exit();
        Ok(())
    }

    /// Registers this writer with the calling thread's exit guard, so an
    /// open transaction the thread leaves behind is rolled back.
    pub(crate) fn roll_back_at_thread_exit(self: &Arc<Self>) {
        let key = thread_key();
        let _ = OPEN_ON_THIS_THREAD.try_with(|guard| {
            let mut writers = guard.writers.borrow_mut();
            writers.retain(|(w, _)| w.strong_count() > 0);
            if !writers
                .iter()
                .any(|(w, _)| std::ptr::eq(w.as_ptr(), Arc::as_ptr(self)))
            {
                writers.push((Arc::downgrade(self), key));
            }
        });
    }

    /// Rolls back the transaction held by thread `key`, if it still holds
    /// one, and wakes the waiters.
    fn abandon(&self, key: u64) {
        let Ok(state) = self.state.lock() else { return };
        let open = state.tx_depth > 0 && state.holder.is_some_and(|h| h.is_thread(key));
        drop(state);
        if open {
            self.roll_back_everything(|holder| holder.is_some_and(|h| h.is_thread(key)));
        }
    }

    /// Marks the store closed, rolls back whatever transaction is open (a
    /// thread's or a detached one) and wakes every waiter, so the file's
    /// write lock is released at once, for other handles and processes too.
    pub(crate) fn close(&self) {
        if let Ok(mut state) = self.state.lock() {
            state.closed = true;
        }
        self.released.notify_all();
        self.roll_back_everything(|_| true);
    }

    /// Ends the open transaction if `still_ours` holds for its holder once
    /// the connection is free (a call running on it finishes first).
    fn roll_back_everything(&self, still_ours: impl Fn(Option<Holder>) -> bool) {
        // The connection is locked before the state, as every call does.
        let Ok(conn) = self.conn.lock() else { return };
        let Ok(mut state) = self.state.lock() else { return };
        if state.tx_depth == 0 || !still_ours(state.holder) {
            return;
        }
        if conn.in_transaction() {
            let _ = conn.rollback_write();
        }
        state.tx_depth = 0;
        state.holder = None;
        drop(state);
        self.released.notify_all();
    }
}

impl Held<'_> {
    pub(crate) fn conn(&self) -> Result<MutexGuard<'_, SessionBox>> {
        lock(&self.writer.conn)
    }

    pub(crate) fn tx_depth(&self) -> Result<u32> {
        Ok(lock(&self.writer.state)?.tx_depth)
    }

    pub(crate) fn set_tx_depth(&self, depth: u32) -> Result<()> {
        lock(&self.writer.state)?.tx_depth = depth;
        Ok(())
    }
}

impl Drop for Held<'_> {
    fn drop(&mut self) {
        if let Ok(mut state) = self.writer.state.lock() {
            if state.tx_depth == 0 {
                state.holder = None;
                drop(state);
                self.writer.released.notify_one();
            }
        }
    }
}

/// The writers with which the calling thread began or attached a
/// transaction; on thread exit, any still held by this thread is rolled
/// back.
struct ExitGuard {
    writers: RefCell<Vec<(Weak<Writer>, u64)>>,
}

impl Drop for ExitGuard {
    fn drop(&mut self) {
        for (writer, key) in self.writers.take() {
            if let Some(writer) = writer.upgrade() {
                writer.abandon(key);
            }
        }
    }
}

thread_local! {
    static OPEN_ON_THIS_THREAD: ExitGuard = const {
        ExitGuard {
            writers: RefCell::new(Vec::new()),
        }
    };
}
