//! Opening a store, its connections, and the concurrency model.
//!
//! One writer connection serves every write, guarded by a thread-owned
//! lock: a thread that begins a transaction owns the writer until it
//! commits or rolls back, and every store call it makes meanwhile joins
//! that transaction. Readers on other threads use pooled read connections,
//! which under WAL never block and are never blocked by the writer.
//! Every write starts with `BEGIN IMMEDIATE`, so it takes SQLite's write
//! lock up front and waits in the busy handler instead of failing with
//! `SQLITE_BUSY` on a read-to-write upgrade.

use std::path::Path;
use std::sync::{Arc, Mutex};

use crate::error::{Error, Result};
use crate::files;
use crate::options::Options;
use crate::storage::migrations;
use crate::storage::pg::{self, PgTarget};
use crate::storage::sqlite::checkpointer::Checkpointer;
use crate::storage::sqlite::connection::{
    configure_writer, create_file, explain_open_error, open_bulk_reader, open_connection, require_current,
};
use crate::storage::{ConceptFeed, Session, SessionBox};
use crate::writer::{lock, Writer};

/// Idle read connections kept for reuse.
const MAX_IDLE_READERS: usize = 16;

/// A gmstore database. `Send + Sync`: share it between threads freely.
pub struct Store {
    options: Options,
    engine: Engine,
    writer: Arc<Writer>,
    readers: Option<ReaderPool>,
    pub(crate) knn: crate::knn::KnnCache,
    pub(crate) access_log: crate::access_log::AccessLog,
    /// (device, inode) of the file opened. SQLite in WAL mode keeps writing
    /// to a file unlinked or replaced under it, which would lose every later
    /// write at close; each write transaction checks the path still names it.
    file_id: Option<(u64, u64)>,
    /// Copies the write-ahead log into the file off the callers' threads
    /// (a SQLite file in WAL mode opened read-write); stopped at close.
    checkpointer: Mutex<Option<Checkpointer>>,
    /// Tells this store from every other opened by the process (reports
    /// kept per thread name the store they are about).
    serial: u64,
}

/// Where the store lives.
enum Engine {
    /// A SQLite file (or a private in-memory database).
    Sqlite,
    /// A schema on a PostgreSQL server.
    Server(Box<PgTarget>),
}

/// The read sessions of a store: reused, and at most `max` open at once
/// (a server's connections are a budget shared by the fleet).
struct ReaderPool {
    state: Mutex<PoolState>,
    returned: std::sync::Condvar,
    max: usize,
}

struct PoolState {
    idle: Vec<SessionBox>,
    /// Sessions open, idle or in use.
    open: usize,
}

impl ReaderPool {
    fn new(max: usize) -> ReaderPool {
        ReaderPool {
            state: Mutex::new(PoolState {
                idle: Vec::new(),
                open: 0,
            }),
            returned: std::sync::Condvar::new(),
            max,
        }
    }
}

/// How a write op wants its work wrapped inside a caller's transaction.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Nesting {
    /// One writing statement: atomic by itself, so no savepoint. (Inside a
    /// transaction a savepoint copies every page it touches to a
    /// sub-journal: with 16 KiB pages that dominated small writes.)
    Statement,
    /// Several writing statements: a savepoint makes them all-or-nothing.
    Savepoint,
}

/// Rolls back on drop unless finished, so an error or a panic inside a
/// write never leaves the connection inside a half-done transaction.
struct OpenTx<'c> {
    conn: &'c dyn Session,
    /// How the scope ends; None when the op runs bare inside the
    /// caller's transaction.
    scope: Option<Scope>,
    finished: bool,
}

/// What an op opened around itself.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Scope {
    Transaction,
    Savepoint,
}

/// The savepoint a write op opens inside a caller's transaction.
const OP_SAVEPOINT: &str = "gm_op";

impl<'c> OpenTx<'c> {
    fn begin(conn: &'c dyn Session, in_caller_tx: bool, nesting: Nesting) -> Result<Self> {
        let scope = match (in_caller_tx, nesting) {
            (false, Nesting::Statement) if conn.statement_is_atomic() => None,
            (false, _) => Some(Scope::Transaction),
            (true, Nesting::Savepoint) => Some(Scope::Savepoint),
            (true, Nesting::Statement) => None,
        };
        match scope {
            Some(Scope::Transaction) => conn.begin_write()?,
            Some(Scope::Savepoint) => conn.savepoint(OP_SAVEPOINT)?,
            None => {}
        }
        Ok(OpenTx {
            conn,
            scope,
            finished: false,
        })
    }

    fn commit(mut self) -> Result<()> {
        let result = match self.scope {
            Some(Scope::Transaction) => self.conn.commit_write(),
            Some(Scope::Savepoint) => self.conn.release(OP_SAVEPOINT),
            None => Ok(()),
        };
        self.finished = result.is_ok();
        result
    }
}

impl Drop for OpenTx<'_> {
    fn drop(&mut self) {
        match (self.finished, self.scope) {
            // A failed COMMIT may already have ended the transaction.
            (false, Some(Scope::Transaction)) if self.conn.in_transaction() => {
                let _ = self.conn.rollback_write();
            }
            (false, Some(Scope::Savepoint)) => {
                let _ = self.conn.rollback_to(OP_SAVEPOINT);
            }
            _ => {}
        }
    }
}

/// Runs `f`, which writes several statements, all or none, inside the
/// transaction a [`Store::write`] closure already holds: a savepoint, so a
/// failure part-way leaves nothing behind even in a caller's transaction.
pub(crate) fn atomically<T>(conn: &dyn Session, f: impl FnOnce(&dyn Session) -> Result<T>) -> Result<T> {
    let tx = OpenTx::begin(conn, true, Nesting::Savepoint)?;
    let value = f(conn)?;
    tx.commit()?;
    Ok(value)
}

/// SQLite ends a transaction by itself when a statement inside it fails
/// with a full disk, an I/O error or out of memory and has no statement
/// journal to undo just itself. The thread's transaction is then gone:
/// later writes are refused rather than run one by one outside it.
fn rolled_back_by_sqlite(what: &str) -> Error {
    Error::Misuse(format!(
        "{what}: SQLite rolled back this thread's transaction after an earlier error \
         (a full disk, an I/O error or out of memory); nothing of it was kept. \
         Roll back to end it, then start again"
    ))
}

/// A number no other store of this process has had.
fn next_serial() -> u64 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

fn savepoint_name(depth: u32) -> String {
    format!("gm_tx_{depth}")
}

impl Store {
    /// Opens (creating if needed) the store described by `options`,
    /// applying pending migrations atomically.
    pub fn open(options: Options) -> Result<Store> {
        options.validate()?;
        if let Some(text) = options.server_target() {
            // Named by the server's host and database: the string itself
            // may carry a password.
            let target = PgTarget::parse(text)?;
            let label = format!("store '{}' on {}", target.store, target.server);
            return Self::open_server(options, target).map_err(|e| e.context(&label));
        }
        let path_label = options.db_path.display().to_string();
        Self::open_inner(options).map_err(|e| e.context(&format!("db_path '{path_label}'")))
    }

    fn open_server(options: Options, target: PgTarget) -> Result<Store> {
        let session = pg::open_store(&target, options.read_only)?;
        let store = Store {
            writer: Writer::new(Box::new(session), options.connection_timeout),
            file_id: None,
            readers: Some(ReaderPool::new(target.pool_size)),
            options,
            engine: Engine::Server(Box::new(target)),
            knn: crate::knn::KnnCache::new(),
            access_log: Default::default(),
            checkpointer: Mutex::new(None),
            serial: next_serial(),
        };
        store.apply_embedding_dim_option()?;
        Ok(store)
    }

    /// A new session on the store's engine: a read connection, or one
    /// that may write (for copies that must not hold the writer).
    fn open_session(&self, reader: bool) -> Result<SessionBox> {
        match &self.engine {
            Engine::Sqlite => Ok(Box::new(open_connection(&self.options, reader)?)),
            Engine::Server(target) => Ok(Box::new(pg::PgSession::connect(target)?)),
        }
    }

    /// The store's name when it lives on a server.
    pub(crate) fn server_store_name(&self) -> Option<&str> {
        match &self.engine {
            Engine::Sqlite => None,
            Engine::Server(t) => Some(&t.store),
        }
    }

    /// Whether the store lives on a server rather than in a file.
    pub fn is_server(&self) -> bool {
        self.server_store_name().is_some()
    }

    /// How messages name the store: its path, or its name and server
    /// (never a password).
    pub fn label(&self) -> String {
        match &self.engine {
            Engine::Sqlite => self.options.db_path.display().to_string(),
            Engine::Server(t) => format!("store '{}' on {}", t.store, t.server),
        }
    }

    /// Opens a store at `path` with default options.
    pub fn open_path(path: impl AsRef<Path>) -> Result<Store> {
        Self::open(Options::new(path.as_ref()))
    }

    /// A private in-memory store, for tests and scratch work.
    pub fn open_in_memory() -> Result<Store> {
        Self::open(Options::in_memory())
    }

    fn open_inner(options: Options) -> Result<Store> {
        let created = !options.is_memory() && !options.read_only && create_file(&options)?;
        let path = created.then(|| options.db_path.clone());
        Self::open_created(options).inspect_err(|_| {
            // A failed open creates nothing: not the file, not a journal.
            if let Some(path) = &path {
                files::remove_database_files(path);
            }
        })
    }

    fn open_created(options: Options) -> Result<Store> {
        let conn = open_connection(&options, false)?;
        let version = migrations::detect_version(&conn).map_err(explain_open_error)?;
        migrations::check_not_newer(version)?;
        if options.read_only {
            require_current(version)?;
        } else {
            configure_writer(&conn, &options, version)?;
            // Only a migration needs the write lock: an up-to-date file
            // opens while another handle holds a write transaction.
            if version < migrations::LATEST_VERSION {
                if version >= 1 && !options.is_memory() {
                    migrations::backup_before_migration(&conn, &options.db_path, version, options.file_mode)?;
                }
                migrations::migrate(&conn)?;
            }
        }
        // SQLite readers cost a file handle each: no cap beyond the idle one.
        let readers = (!options.is_memory()).then(|| ReaderPool::new(usize::MAX));
        let background_checkpoints = options.enable_wal && !options.is_memory() && !options.read_only;
        let checkpointer = match background_checkpoints {
            true => Some(Checkpointer::start(&conn, open_connection(&options, false)?)?),
            false => None,
        };
        let store = Store {
            writer: Writer::new(Box::new(conn), options.connection_timeout),
            file_id: (!options.is_memory())
                .then(|| files::identity(&options.db_path))
                .flatten(),
            readers,
            options,
            engine: Engine::Sqlite,
            knn: crate::knn::KnnCache::new(),
            access_log: Default::default(),
            checkpointer: Mutex::new(checkpointer),
            serial: next_serial(),
        };
        store.apply_embedding_dim_option()?;
        Ok(store)
    }

    fn apply_embedding_dim_option(&self) -> Result<()> {
        let Some(dim) = self.options.embedding_dim.filter(|_| !self.options.read_only) else {
            return Ok(());
        };
        // Checked with a read first: a store whose dimension is already
        // fixed opens without waiting for the write lock.
        if self.read(|conn| conn.embedding_dim())? == Some(dim) {
            return Ok(());
        }
        self.write(|conn| conn.fix_embedding_dim(dim))
    }

    /// (device, inode) of the store's file; None in memory or on a server.
    pub(crate) fn serial(&self) -> u64 {
        self.serial
    }

    pub(crate) fn file_identity(&self) -> Option<(u64, u64)> {
        self.file_id
    }

    /// The options the store was opened with.
    pub fn options(&self) -> &Options {
        &self.options
    }

    /// Runs `f`, which makes at most one writing statement, as a write: in
    /// its own `BEGIN IMMEDIATE` transaction, or bare inside this thread's
    /// open transaction. Commits on `Ok`, rolls back on `Err` or panic.
    pub(crate) fn write<T>(&self, f: impl FnOnce(&dyn Session) -> Result<T>) -> Result<T> {
        self.write_with(Nesting::Statement, f)
    }

    /// As [`Store::write`] for `f` that writes several statements: inside
    /// this thread's transaction they run in a savepoint, all or none.
    pub(crate) fn write_atomic<T>(&self, f: impl FnOnce(&dyn Session) -> Result<T>) -> Result<T> {
        self.write_with(Nesting::Savepoint, f)
    }

    fn write_with<T>(&self, nesting: Nesting, f: impl FnOnce(&dyn Session) -> Result<T>) -> Result<T> {
        self.ensure_writable()?;
        let held = self.writer.acquire()?;
        let in_caller_tx = held.tx_depth()? > 0;
        if !in_caller_tx {
            self.check_file_identity()?;
        }
        let conn = held.conn()?;
        if in_caller_tx && !conn.in_transaction() {
            return Err(rolled_back_by_sqlite("write"));
        }
        let tx = OpenTx::begin(&**conn, in_caller_tx, nesting)?;
        let value = f(&**conn).map_err(|e| {
            if in_caller_tx && !conn.in_transaction() {
                e.map_message(|m| format!("{m}; SQLite rolled back the whole transaction"))
            } else {
                e
            }
        })?;
        tx.commit()?;
        Ok(value)
    }

    /// Runs `f` on a connection that sees everything this thread has
    /// written: the writer inside this thread's transaction (or for an
    /// in-memory store), else a pooled reader that blocks nobody.
    pub(crate) fn read<T>(&self, f: impl FnOnce(&dyn Session) -> Result<T>) -> Result<T> {
        let pool = match &self.readers {
            Some(pool) if !self.writer.held_by_me()? => pool,
            _ => {
                let held = self.writer.acquire()?;
                let conn = held.conn()?;
                return f(&**conn);
            }
        };
        let conn = self.take_reader(pool)?;
        let result = f(&*conn);
        let mut state = lock(&pool.state)?;
        if state.idle.len() < MAX_IDLE_READERS {
            state.idle.push(conn);
        } else {
            state.open -= 1;
        }
        drop(state);
        pool.returned.notify_one();
        result
    }

    /// An idle reader, a new one while fewer than the pool's maximum are
    /// open, or the next one returned, waiting up to `connection_timeout`.
    fn take_reader(&self, pool: &ReaderPool) -> Result<SessionBox> {
        let deadline = std::time::Instant::now() + self.options.connection_timeout;
        let mut state = lock(&pool.state)?;
        loop {
            if let Some(conn) = state.idle.pop() {
                return Ok(conn);
            }
            if state.open < pool.max {
                state.open += 1;
                drop(state);
                let opened = self.check_file_identity().and_then(|()| self.open_session(true));
                if opened.is_err() {
                    lock(&pool.state)?.open -= 1;
                    pool.returned.notify_one();
                }
                return opened;
            }
            let Some(left) = deadline.checked_duration_since(std::time::Instant::now()) else {
                return Err(Error::Busy(format!(
                    "all {} read connections of the pool are in use past connection_timeout ({:?})",
                    pool.max, self.options.connection_timeout
                )));
            };
            state = pool
                .returned
                .wait_timeout(state, left)
                .map_err(|_| Error::Internal("reader pool lock poisoned".into()))?
                .0;
        }
    }

    /// Runs `f` on a connection of its own that reads committed data only:
    /// copies (backup, VACUUM INTO) run there without holding the writer.
    pub(crate) fn read_snapshot<T>(&self, f: impl FnOnce(&dyn Session) -> Result<T>) -> Result<T> {
        if self.in_transaction() {
            return Err(Error::Misuse(
                "cannot copy the database while this thread has a transaction open".into(),
            ));
        }
        if self.options.is_memory() {
            return self.read(f);
        }
        f(&*self.open_session(false)?)
    }

    /// Runs `f` on the writer connection outside any transaction, for
    /// operations SQLite refuses inside one (VACUUM, restore).
    pub(crate) fn with_writer_conn<T>(&self, f: impl FnOnce(&mut dyn Session) -> Result<T>) -> Result<T> {
        self.ensure_writable()?;
        let held = self.writer.acquire()?;
        if held.tx_depth()? > 0 {
            return Err(Error::Misuse(
                "not allowed while this thread has a transaction open".into(),
            ));
        }
        let mut conn = held.conn()?;
        f(&mut **conn)
    }

    /// A new connection that only reads, for long-lived readers (the
    /// k-NN cache's change watcher).
    /// A read session of its own for a bulk load (the k-NN cache), which
    /// reads every embedding once.
    pub(crate) fn open_bulk_reader(&self) -> Result<Box<dyn ConceptFeed>> {
        match &self.engine {
            Engine::Sqlite => Ok(Box::new(open_bulk_reader(&self.options)?)),
            Engine::Server(target) => Ok(Box::new(pg::PgSession::connect(target)?)),
        }
    }

    fn check_file_identity(&self) -> Result<()> {
        match self.file_id {
            Some(opened) if files::identity(&self.options.db_path) != Some(opened) => {
                Err(Error::ReadOnly(format!(
                    "db_path '{}': the database file was deleted or replaced while open; \
                 writes are refused so none is lost, reopen the store",
                    self.options.db_path.display()
                )))
            }
            _ => Ok(()),
        }
    }

    fn ensure_writable(&self) -> Result<()> {
        if self.options.read_only {
            return Err(Error::ReadOnly("the store was opened read-only".into()));
        }
        Ok(())
    }

    /// Begins a transaction owned by the calling thread; nested calls make
    /// savepoints. Every store call on this thread joins it until the
    /// matching `commit` or `rollback`. Other threads' writes wait for it.
    pub fn begin(&self) -> Result<()> {
        self.ensure_writable()?;
        let held = self.writer.acquire()?;
        let depth = held.tx_depth()?;
        if depth == 0 {
            self.check_file_identity()?;
        }
        let conn = held.conn()?;
        if depth > 0 && !conn.in_transaction() {
            return Err(rolled_back_by_sqlite("begin"));
        }
        if depth == 0 {
            conn.begin_write()?;
        } else {
            conn.savepoint(&savepoint_name(depth))?;
        }
        drop(conn);
        if depth == 0 {
            // A thread that exits with the transaction open has it rolled
            // back, instead of leaving every other writer waiting.
            self.writer.roll_back_at_thread_exit();
        }
        held.set_tx_depth(depth + 1)
    }

    /// Commits the innermost transaction of the calling thread.
    pub fn commit(&self) -> Result<()> {
        self.end_transaction(true)
    }

    /// Rolls back the innermost transaction of the calling thread.
    pub fn rollback(&self) -> Result<()> {
        self.end_transaction(false)
    }

    fn end_transaction(&self, commit: bool) -> Result<()> {
        let what = if commit { "commit" } else { "rollback" };
        if !self.writer.held_by_me()? {
            return Err(Error::Misuse(format!(
                "{what}: no transaction is open on this thread"
            )));
        }
        let held = self.writer.acquire()?;
        let depth = held.tx_depth()?;
        if depth == 0 {
            return Err(Error::Misuse(format!(
                "{what}: no transaction is open on this thread"
            )));
        }
        let conn = held.conn()?;
        if !conn.in_transaction() {
            // Nothing is left to end: each commit or rollback closes one
            // level, and a commit reports that nothing was kept.
            drop(conn);
            held.set_tx_depth(depth - 1)?;
            return if commit {
                Err(rolled_back_by_sqlite("commit"))
            } else {
                Ok(())
            };
        }
        drop(conn);
        let name = savepoint_name(depth - 1);
        let conn = held.conn()?;
        let result = match (commit, depth) {
            (true, 1) => conn.commit_write(),
            (false, 1) => conn.rollback_write(),
            (true, _) => conn.release(&name),
            (false, _) => conn.rollback_to(&name),
        };
        // The engine may end the whole transaction on its own (I/O error,
        // full disk); then the depth is 0 whatever we asked for.
        let new_depth = if !conn.in_transaction() {
            0
        } else if result.is_ok() {
            depth - 1
        } else {
            depth
        };
        drop(conn);
        held.set_tx_depth(new_depth)?;
        result
    }

    /// Whether the calling thread has a transaction open.
    pub fn in_transaction(&self) -> bool {
        self.writer.in_transaction()
    }

    /// Detaches the calling thread's open transaction (with every nested
    /// level) from the thread and returns its token. It stays open and
    /// keeps the writer: other threads' writes still wait, and this
    /// thread's calls no longer join it. Any thread ends it by
    /// [`Store::attach_transaction`] then `commit` or `rollback`; closing
    /// the store rolls it back. For code that resumes on another thread
    /// (C# `async`, job systems).
    pub fn detach_transaction(&self) -> Result<u64> {
        self.writer.detach()
    }

    /// Makes the detached transaction `token` the calling thread's: its
    /// calls join it, and `commit` or `rollback` end it.
    pub fn attach_transaction(&self, token: u64) -> Result<()> {
        self.writer.attach(token)
    }

    /// Rolls back whatever transaction is open on this store, from any
    /// thread or detached, wakes every thread waiting to write, and makes
    /// every later call fail with `Misuse`. The file's write lock is free
    /// when this returns (a call running on the writer finishes first).
    /// The C ABI's `gm_close` calls it; dropping a store closes it too.
    pub fn close(&self) {
        // Counted accesses are written first, unless that would wait for
        // another thread's transaction: they are statistics, and closing
        // must not hang.
        if !self.writer.other_transaction_open() {
            let _ = self.flush_access_counts();
        }
        // A cache file: failing to write it loses nothing but time at the
        // next open (save_knn_snapshot reports errors).
        let _ = self.save_knn_snapshot();
        self.writer.close();
        // Joined here, so no thread of this store outlives its close.
        drop(self.checkpointer.lock().map(|mut c| c.take()));
    }

    /// A transaction scope: commits on [`Transaction::commit`], rolls back
    /// when dropped otherwise. Scopes nest as savepoints.
    pub fn transaction(&self) -> Result<Transaction<'_>> {
        self.begin()?;
        Ok(Transaction {
            store: self,
            finished: false,
            _not_send: std::marker::PhantomData,
        })
    }

    /// Runs `f` in a transaction scope: commits if it returns `Ok`, rolls
    /// back if it returns `Err` or panics.
    pub fn with_transaction<T>(&self, f: impl FnOnce(&Store) -> Result<T>) -> Result<T> {
        let tx = self.transaction()?;
        let value = f(self)?;
        tx.commit()?;
        Ok(value)
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        self.close();
    }
}

/// A transaction scope bound to the thread that opened it.
pub struct Transaction<'s> {
    store: &'s Store,
    finished: bool,
    // The transaction belongs to the opening thread's writer ownership.
    _not_send: std::marker::PhantomData<*const ()>,
}

impl Transaction<'_> {
    /// Commits this scope (releases the savepoint when nested).
    pub fn commit(mut self) -> Result<()> {
        self.finished = true;
        self.store.commit()
    }

    /// Rolls this scope back explicitly.
    pub fn rollback(mut self) -> Result<()> {
        self.finished = true;
        self.store.rollback()
    }
}

impl Drop for Transaction<'_> {
    fn drop(&mut self) {
        if !self.finished {
            let _ = self.store.rollback();
        }
    }
}
