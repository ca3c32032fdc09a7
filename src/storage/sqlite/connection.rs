//! Opening SQLite connections for a store: the file, its settings, read
//! and write connections, read-only media; and SQLite's transaction
//! statements behind the seam's [`Transactions`].

use std::fs;
use std::path::Path;

use rusqlite::{Connection, OpenFlags};

use super::migrations;
use crate::error::{Error, Result};
use crate::files;
use crate::options::{Options, Synchronous};
use crate::storage::Transactions;

/// Prepared statements kept per connection; more than the store uses.
const STATEMENT_CACHE: usize = 64;

/// The writer's page cache, in KiB (SQLite's default is 2 MiB). Index
/// inserts land all over an index whose keys arrive unsorted (a task's
/// strategies and deltas): with 2 MiB, a batch of 100,000 learning events
/// into a table of 200,000 re-read evicted index pages and took 1.5x as
/// long (`bench/NOTES.md`). Pages are taken only as they are touched.
const WRITER_CACHE_KIB: i64 = 16 * 1024;

/// How much of the file a reader maps (SQLite maps no more than the file).
const READER_MMAP_BYTES: i64 = 1 << 34;

/// Creates the database file if it does not exist; returns whether it did.
pub(crate) fn create_file(options: &Options) -> Result<bool> {
    let path = &options.db_path;
    if path.is_dir() {
        return Err(crate::error::invalid(
            "db_path",
            "is a directory, not a database file",
        ));
    }
    if path.exists() && !path.is_file() {
        // A device or a pipe: SQLite would put its journal beside it
        // (`/dev/null-journal`).
        return Err(crate::error::invalid(
            "db_path",
            "is not a regular file (a device, pipe or socket)",
        ));
    }
    files::create_parent_dirs(path)?;
    // Created here, not by SQLite, so the file never exists with wider
    // permissions than asked; SQLite gives -wal and -shm the same mode.
    match files::create_new(path, options.file_mode) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(e.into()),
    }
}

pub(crate) fn open_connection(options: &Options, reader: bool) -> Result<Connection> {
    // Only the writer may create the file: a reader opened after the file
    // vanished must fail, not conjure an empty database at the path.
    let flags = match (options.read_only, reader) {
        (true, _) => OpenFlags::SQLITE_OPEN_READ_ONLY,
        (false, true) => OpenFlags::SQLITE_OPEN_READ_WRITE,
        (false, false) => OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE,
    } | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let mut conn = Connection::open_with_flags(&options.db_path, flags)?;
    if options.read_only && !options.is_memory() && cannot_open_shared_memory(&conn) {
        conn = open_immutable(&options.db_path)?;
    }
    conn.busy_timeout(options.connection_timeout)?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    super::functions::register(&conn)?;
    conn.pragma_update(None, "foreign_keys", true)?;
    // Savepoint sub-journals and sorts stay in memory, off the disk.
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    if reader {
        conn.pragma_update(None, "query_only", true)?;
        // Readers map the file: a large read (every concept of a search)
        // then costs no read() copy per page and no page-cache eviction.
        conn.pragma_update(None, "mmap_size", READER_MMAP_BYTES)?;
    }
    Ok(conn)
}

/// Memory map for a bulk reader (the file is read once, whole).
const BULK_MMAP_BYTES: i64 = 1 << 34;

/// A read connection for a bulk load: mapping the file saves a read() per
/// page. Read-only, so a failing disk shows as an error on that
/// connection only.
pub(crate) fn open_bulk_reader(options: &Options) -> Result<Connection> {
    let conn = open_connection(options, true)?;
    conn.pragma_update(None, "mmap_size", BULK_MMAP_BYTES)?;
    Ok(conn)
}

/// A WAL database on read-only media (a read-only mount, a game's asset
/// partition) or in a folder this process may not write (a shipped install
/// folder, another user's files) cannot get its -shm file, so SQLite cannot
/// read it normally: it says CANTOPEN, or READONLY_CANTINIT when the
/// folder is writable by nobody here.
fn cannot_open_shared_memory(conn: &Connection) -> bool {
    use rusqlite::ErrorCode::{CannotOpen, ReadOnly};
    match conn.query_row("SELECT count(*) FROM sqlite_schema", [], |_| Ok(())) {
        Err(e) => matches!(e.sqlite_error_code(), Some(CannotOpen | ReadOnly)),
        Ok(()) => false,
    }
}

/// Opens the file as immutable: no locks and no -shm, valid because nothing
/// can write to read-only media.
fn open_immutable(path: &Path) -> Result<Connection> {
    let absolute = fs::canonicalize(path)?;
    let mut uri = String::from("file:");
    for b in absolute.to_string_lossy().bytes() {
        match b {
            b'/' | b'-' | b'_' | b'.' | b'~' | b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' => uri.push(b as char),
            other => uri.push_str(&format!("%{other:02X}")),
        }
    }
    uri.push_str("?immutable=1");
    let flags =
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_URI | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    Ok(Connection::open_with_flags(uri, flags)?)
}

pub(crate) fn explain_open_error(err: Error) -> Error {
    match err {
        Error::NotADatabase(m) => Error::NotADatabase(format!("not a SQLite database ({m})")),
        other => other,
    }
}

pub(crate) fn require_current(version: i64) -> Result<()> {
    if version == migrations::LATEST_VERSION {
        return Ok(());
    }
    if version == 0 {
        return Err(Error::NotADatabase(
            "the file holds no gmstore schema and the store is read-only".into(),
        ));
    }
    Err(Error::ReadOnly(format!(
        "schema version {version} needs migrating to {}; open it read-write once first",
        migrations::LATEST_VERSION
    )))
}

pub(crate) fn configure_writer(conn: &Connection, options: &Options, version: i64) -> Result<()> {
    if version == 0 {
        // Takes effect only on a file with no pages yet; set before WAL.
        conn.pragma_update(None, "page_size", options.page_size)?;
    }
    if options.enable_wal && !options.is_memory() {
        let mode: String = conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(Error::Io(format!(
                "could not enable WAL (journal_mode is {mode})"
            )));
        }
    }
    let sync = match options.effective_synchronous() {
        Synchronous::Normal => "NORMAL",
        Synchronous::Full => "FULL",
    };
    conn.pragma_update(None, "synchronous", sync)?;
    conn.pragma_update(None, "cache_size", -WRITER_CACHE_KIB)?;
    if let Some(bytes) = options.max_db_size {
        let page_size: u64 = conn.pragma_query_value(None, "page_size", |r| r.get::<_, i64>(0))? as u64;
        conn.pragma_update(None, "max_page_count", (bytes / page_size.max(1)).max(1) as i64)?;
    }
    Ok(())
}

impl Transactions for Connection {
    fn begin_read(&self) -> Result<()> {
        Ok(self.execute_batch("BEGIN")?)
    }

    fn end_read(&self) -> Result<()> {
        Ok(self.execute_batch("COMMIT")?)
    }

    fn begin_write(&self) -> Result<()> {
        // Takes the write lock up front: waiting happens in the busy
        // handler, never as SQLITE_BUSY on a read-to-write upgrade.
        self.prepare_cached("BEGIN IMMEDIATE")?.execute([])?;
        Ok(())
    }

    fn commit_write(&self) -> Result<()> {
        self.prepare_cached("COMMIT")?.execute([])?;
        Ok(())
    }

    fn rollback_write(&self) -> Result<()> {
        Ok(self.execute_batch("ROLLBACK")?)
    }

    // Cached: a write op inside a caller's transaction opens and releases
    // a savepoint each time.
    fn savepoint(&self, name: &str) -> Result<()> {
        self.prepare_cached(&format!("SAVEPOINT {name}"))?.execute([])?;
        Ok(())
    }

    fn release(&self, name: &str) -> Result<()> {
        self.prepare_cached(&format!("RELEASE {name}"))?.execute([])?;
        Ok(())
    }

    fn rollback_to(&self, name: &str) -> Result<()> {
        Ok(self.execute_batch(&format!("ROLLBACK TO {name}; RELEASE {name}"))?)
    }

    fn in_transaction(&self) -> bool {
        !self.is_autocommit()
    }
}
