//! Stable status codes shared by the core error type and the C ABI.
//! Codes are never renumbered or reused; a retired code stays reserved.

/// The return type of every fallible `gm_*` call.
#[allow(non_camel_case_types)]
pub type gm_status = u32;

/// Success.
pub const GM_OK: gm_status = 0;
/// The requested episode, concept or other row does not exist.
pub const GM_ERR_NOT_FOUND: gm_status = 1;
/// An argument is NULL, not UTF-8, not finite, out of range, or otherwise
/// invalid; the message names it.
pub const GM_ERR_INVALID_ARGUMENT: gm_status = 2;
/// A database constraint was violated.
pub const GM_ERR_CONSTRAINT: gm_status = 3;
/// The database stayed locked beyond `connection_timeout`.
pub const GM_ERR_BUSY: gm_status = 4;
/// The operating system reported an I/O error (including a missing file
/// or a permission problem).
pub const GM_ERR_IO: gm_status = 5;
/// The database file is damaged.
pub const GM_ERR_CORRUPT: gm_status = 6;
/// The file is not a SQLite database, or not a gmstore one.
pub const GM_ERR_NOT_A_DATABASE: gm_status = 7;
/// The file was written by a newer gmstore; it was left untouched.
pub const GM_ERR_SCHEMA_TOO_NEW: gm_status = 8;
/// A write was attempted on a read-only store or file.
pub const GM_ERR_READ_ONLY: gm_status = 9;
/// The disk, or the database's size limit, is full.
pub const GM_ERR_FULL: gm_status = 10;
/// A bug inside gmstore (including a caught panic); please report it.
pub const GM_ERR_INTERNAL: gm_status = 11;
/// A call in the wrong state: commit without a transaction, a closed or
/// unknown store handle.
pub const GM_ERR_MISUSE: gm_status = 12;
/// The caller's buffer is too small; the needed size was written.
pub const GM_ERR_BUFFER_TOO_SMALL: gm_status = 13;
