//! The one error type of the store. Each variant maps to exactly one stable
//! status code of the C ABI (see `Error::code`), and its message names the
//! field or object concerned.

use rusqlite::ErrorCode;

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

/// A row read back as something other than what gmstore writes (an
/// embedding of 3 bytes, text where a blob belongs, invalid UTF-8), changed
/// by raw SQL or another program: CORRUPT, naming the row, never INTERNAL.
/// Carried through rusqlite's row callbacks as a conversion failure whose
/// source is the gmstore error itself.
pub(crate) fn damaged_row(what: &str, id: i64, err: rusqlite::Error) -> rusqlite::Error {
    let problem = match Error::from(err) {
        Error::Corrupt(m) => m,
        other => other.to_string(),
    };
    rusqlite::Error::FromSqlConversionFailure(
        0,
        rusqlite::types::Type::Null,
        Box::new(Error::Corrupt(format!(
            "{what} {id} holds a value gmstore did not write (changed by raw SQL or another program?): {problem}"
        ))),
    )
}

impl From<rusqlite::Error> for Error {
    fn from(err: rusqlite::Error) -> Self {
        let err = match err {
            rusqlite::Error::FromSqlConversionFailure(i, ty, inner) => match inner.downcast::<Error>() {
                Ok(ours) => return *ours,
                Err(other) => rusqlite::Error::FromSqlConversionFailure(i, ty, other),
            },
            other => other,
        };
        let message = err.to_string();
        let Some(code) = err.sqlite_error_code() else {
            return match err {
                rusqlite::Error::QueryReturnedNoRows => Error::NotFound(message),
                rusqlite::Error::MultipleStatement => Error::InvalidArgument(format!("sql: {message}")),
                rusqlite::Error::InvalidParameterCount(..) => {
                    Error::InvalidArgument(format!("params: {message}"))
                }
                rusqlite::Error::FromSqlConversionFailure(..)
                | rusqlite::Error::InvalidColumnType(..)
                | rusqlite::Error::IntegralValueOutOfRange(..)
                | rusqlite::Error::Utf8Error(..) => Error::Corrupt(message),
                _ => Error::Internal(format!("sqlite: {message}")),
            };
        };
        match code {
            ErrorCode::DatabaseBusy => Error::Busy(format!(
                "database is locked by another connection to the file (another store handle or process) \
                 past connection_timeout: {message}"
            )),
            ErrorCode::DatabaseLocked => Error::Busy(format!("database is locked: {message}")),
            ErrorCode::ConstraintViolation => Error::Constraint(message),
            ErrorCode::SystemIoFailure | ErrorCode::CannotOpen | ErrorCode::FileLockingProtocolFailed => {
                Error::Io(message)
            }
            ErrorCode::DatabaseCorrupt => Error::Corrupt(message),
            ErrorCode::NotADatabase => Error::NotADatabase(message),
            ErrorCode::ReadOnly => Error::ReadOnly(message),
            ErrorCode::DiskFull => Error::Full(message),
            ErrorCode::NoLargeFileSupport | ErrorCode::OutOfMemory => Error::Io(message),
            ErrorCode::PermissionDenied | ErrorCode::OperationAborted | ErrorCode::OperationInterrupted => {
                Error::Io(message)
            }
            ErrorCode::TooBig | ErrorCode::ParameterOutOfRange | ErrorCode::TypeMismatch => {
                Error::InvalidArgument(message)
            }
            ErrorCode::ApiMisuse => Error::Misuse(message),
            _ => Error::Internal(format!("sqlite: {message}")),
        }
    }
}

impl From<std::io::Error> for Error {
    fn from(err: std::io::Error) -> Self {
        Error::Io(err.to_string())
    }
}
