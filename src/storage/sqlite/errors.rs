//! SQLite's errors as the store's: every result code maps to one status.

use rusqlite::ErrorCode;

use crate::error::Error;

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
