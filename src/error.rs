//! The one error type of the store. Each variant maps to exactly one stable
//! status code of the C ABI (see `Error::code`), and its message names the
//! field or object concerned.

use crate::status::*;

/// Result alias used throughout the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Every failure the store can report.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// A requested row (episode, concept, ...) does not exist.
    #[error("{0}")]
    NotFound(String),
    /// An argument failed validation; the message names the argument.
    #[error("{0}")]
    InvalidArgument(String),
    /// A database constraint (uniqueness, foreign key, ...) was violated.
    #[error("{0}")]
    Constraint(String),
    /// The database stayed locked by another connection beyond the timeout.
    #[error("{0}")]
    Busy(String),
    /// The operating system reported an I/O error.
    #[error("{0}")]
    Io(String),
    /// The database file is damaged.
    #[error("{0}")]
    Corrupt(String),
    /// The file is not a SQLite database, or not a gmstore one.
    #[error("{0}")]
    NotADatabase(String),
    /// The file was written by a newer gmstore; it is left untouched.
    #[error("{0}")]
    SchemaTooNew(String),
    /// A write was attempted on a read-only store or file.
    #[error("{0}")]
    ReadOnly(String),
    /// The disk or the database's size limit is full.
    #[error("{0}")]
    Full(String),
    /// A call was made in the wrong state (commit with no transaction,
    /// a closed handle).
    #[error("{0}")]
    Misuse(String),
    /// A bug in gmstore or SQLite; never the caller's fault.
    #[error("{0}")]
    Internal(String),
    /// A caller's buffer cannot hold the result; the message gives the
    /// size needed, which the call also writes to its size out-parameter.
    #[error("{0}")]
    BufferTooSmall(String),
}

impl Error {
    /// The stable C ABI status code of this error (`GM_ERR_*`).
    pub fn code(&self) -> gm_status {
        match self {
            Error::NotFound(_) => GM_ERR_NOT_FOUND,
            Error::InvalidArgument(_) => GM_ERR_INVALID_ARGUMENT,
            Error::Constraint(_) => GM_ERR_CONSTRAINT,
            Error::Busy(_) => GM_ERR_BUSY,
            Error::Io(_) => GM_ERR_IO,
            Error::Corrupt(_) => GM_ERR_CORRUPT,
            Error::NotADatabase(_) => GM_ERR_NOT_A_DATABASE,
            Error::SchemaTooNew(_) => GM_ERR_SCHEMA_TOO_NEW,
            Error::ReadOnly(_) => GM_ERR_READ_ONLY,
            Error::Full(_) => GM_ERR_FULL,
            Error::Misuse(_) => GM_ERR_MISUSE,
            Error::Internal(_) => GM_ERR_INTERNAL,
            Error::BufferTooSmall(_) => GM_ERR_BUFFER_TOO_SMALL,
        }
    }

    /// Prefixes the message with what was being done, keeping the kind.
    pub fn context(self, what: &str) -> Error {
        self.map_message(|m| format!("{what}: {m}"))
    }

    /// Qualifies the field a message names with its parent
    /// (`performance_score: ...` becomes `episodes[3].performance_score: ...`).
    pub fn within(self, parent: &str) -> Error {
        self.map_message(|m| format!("{parent}.{m}"))
    }

    pub(crate) fn map_message(self, f: impl FnOnce(String) -> String) -> Error {
        match self {
            Error::NotFound(m) => Error::NotFound(f(m)),
            Error::InvalidArgument(m) => Error::InvalidArgument(f(m)),
            Error::Constraint(m) => Error::Constraint(f(m)),
            Error::Busy(m) => Error::Busy(f(m)),
            Error::Io(m) => Error::Io(f(m)),
            Error::Corrupt(m) => Error::Corrupt(f(m)),
            Error::NotADatabase(m) => Error::NotADatabase(f(m)),
            Error::SchemaTooNew(m) => Error::SchemaTooNew(f(m)),
            Error::ReadOnly(m) => Error::ReadOnly(f(m)),
            Error::Full(m) => Error::Full(f(m)),
            Error::Misuse(m) => Error::Misuse(f(m)),
            Error::Internal(m) => Error::Internal(f(m)),
            Error::BufferTooSmall(m) => Error::BufferTooSmall(f(m)),
        }
    }
}

/// Shorthand for an `InvalidArgument` that names the field.
pub(crate) fn invalid(field: &str, problem: impl std::fmt::Display) -> Error {
    Error::InvalidArgument(format!("{field}: {problem}"))
}

impl From<std::io::Error> for Error {
    fn from(err: std::io::Error) -> Self {
        Error::Io(err.to_string())
    }
}
