//! How a store is opened. Defaults follow the seed document.

use std::path::PathBuf;
use std::time::Duration;

use crate::error::{invalid, Result};

/// The path that means "a private in-memory database".
pub const MEMORY_PATH: &str = ":memory:";

/// SQLite's `synchronous` setting for the store's connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Synchronous {
    /// Under WAL: durable against process crashes; the last commits may be
    /// lost on power failure, but the file is never corrupted.
    Normal,
    /// Every commit is fsynced: durable against power loss too.
    Full,
}

/// Options for [`crate::Store::open`]. Build with `Options::default()` or
/// `Options::new(path)` and adjust fields.
#[derive(Debug, Clone)]
pub struct Options {
    /// Database file, or `":memory:"` for a private in-memory store.
    pub db_path: PathBuf,
    /// Seconds between automatic backups (`auto_backup_if_needed`).
    pub backup_interval: Duration,
    /// How many automatic backups to keep.
    pub max_backups: u32,
    /// Write-ahead logging: readers never block the writer.
    pub enable_wal: bool,
    /// How long a call waits for a lock held by another thread or process
    /// before it fails with `Busy`.
    pub connection_timeout: Duration,
    /// Durability of commits; `Normal` by default under WAL, `Full` otherwise.
    pub synchronous: Option<Synchronous>,
    /// Open the file read-only: every write fails with `ReadOnly`.
    pub read_only: bool,
    /// Fix the embedding dimension up front instead of at the first concept.
    pub embedding_dim: Option<usize>,
    /// Page size for newly created files (bytes, power of two 512..=65536).
    /// 16 KiB fits seven 2 KB embedding rows a page, where 4 KiB fits one.
    pub page_size: u32,
    /// Unix permission bits for newly created database files.
    pub file_mode: u32,
    /// Cap on the database file's size in bytes (rounded down to whole
    /// pages): writes beyond it fail with `Full`, as on a full disk. For
    /// storage budgets in games and devices.
    pub max_db_size: Option<u64>,
    /// Keep every embedding in memory for k-NN search (about
    /// concepts x dim x 4 bytes); off means each search reads them anew.
    pub knn_cache: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            db_path: PathBuf::from("godly_ai.db"),
            backup_interval: Duration::from_secs(3600),
            max_backups: 10,
            enable_wal: true,
            connection_timeout: Duration::from_secs(30),
            synchronous: None,
            read_only: false,
            embedding_dim: None,
            page_size: 16384,
            file_mode: 0o600,
            knn_cache: true,
            max_db_size: None,
        }
    }
}

impl Options {
    /// Default options for the given path.
    pub fn new(db_path: impl Into<PathBuf>) -> Self {
        Options {
            db_path: db_path.into(),
            ..Options::default()
        }
    }

    /// A private in-memory store.
    pub fn in_memory() -> Self {
        Options::new(MEMORY_PATH)
    }

    /// The server connection string when `db_path` names a PostgreSQL
    /// store (`postgresql://...` or `host=... dbname=...`), not a file.
    pub fn server_target(&self) -> Option<&str> {
        self.db_path
            .to_str()
            .filter(|p| crate::storage::pg::is_server_target(p))
    }

    /// Whether this names a private in-memory database.
    pub fn is_memory(&self) -> bool {
        self.db_path.as_os_str() == MEMORY_PATH
    }

    /// The synchronous mode in force after defaults are applied.
    pub fn effective_synchronous(&self) -> Synchronous {
        self.synchronous.unwrap_or(if self.enable_wal {
            Synchronous::Normal
        } else {
            Synchronous::Full
        })
    }

    /// Largest timeout accepted: beyond it a caller almost certainly passed
    /// milliseconds where seconds were meant.
    pub const MAX_TIMEOUT: Duration = Duration::from_secs(24 * 3600);

    /// Checks every field; the message names the offending one.
    pub fn validate(&self) -> Result<()> {
        if self.db_path.as_os_str().is_empty() {
            return Err(invalid("db_path", "must not be empty"));
        }
        if self.connection_timeout > Self::MAX_TIMEOUT {
            return Err(invalid(
                "connection_timeout",
                format!("{:?} exceeds the maximum of 86400 s", self.connection_timeout),
            ));
        }
        if !(512..=65536).contains(&self.page_size) || !self.page_size.is_power_of_two() {
            return Err(invalid(
                "page_size",
                format!("{} is not a power of two between 512 and 65536", self.page_size),
            ));
        }
        if let Some(dim) = self.embedding_dim {
            crate::validate::embedding_dim("embedding_dim", dim)?;
        }
        if self.file_mode > 0o777 {
            return Err(invalid(
                "file_mode",
                format!("{:o} is not a permission mode", self.file_mode),
            ));
        }
        Ok(())
    }
}
