//! Stable status codes shared by the core error type and the C ABI.
//! Codes are never renumbered or reused; a retired code stays reserved.

/// The return type of every fallible `gm_*` call.
#[allow(non_camel_case_types)]
pub type gm_status = u32;

/// Every status a `gm_*` call returns, as an enum for bindings that cannot
/// see macros (C#, LuaJIT). Functions return the fixed-width `gm_status`.
#[repr(u32)]
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum gm_status_code {
    /// Success.
    GM_OK = 0,
    /// The requested episode, concept or other row does not exist.
    GM_ERR_NOT_FOUND = 1,
    /// An argument is NULL, not UTF-8, not finite, out of range, or otherwise
    /// invalid; the message names it.
    GM_ERR_INVALID_ARGUMENT = 2,
    /// A database constraint was violated.
    GM_ERR_CONSTRAINT = 3,
    /// The database stayed locked beyond `connection_timeout`.
    GM_ERR_BUSY = 4,
    /// The operating system reported an I/O error (including a missing file
    /// or a permission problem).
    GM_ERR_IO = 5,
    /// The database file is damaged.
    GM_ERR_CORRUPT = 6,
    /// The file is not a SQLite database, or not a gmstore one.
    GM_ERR_NOT_A_DATABASE = 7,
    /// The file was written by a newer gmstore; it was left untouched.
    GM_ERR_SCHEMA_TOO_NEW = 8,
    /// A write was attempted on a read-only store or file.
    GM_ERR_READ_ONLY = 9,
    /// The disk, or the database's size limit, is full.
    GM_ERR_FULL = 10,
    /// A bug inside gmstore (including a caught panic); please report it.
    GM_ERR_INTERNAL = 11,
    /// A call in the wrong state: commit without a transaction, a closed or
    /// unknown store handle.
    GM_ERR_MISUSE = 12,
    /// The caller's buffer is too small; the needed size was written.
    GM_ERR_BUFFER_TOO_SMALL = 13,
}

/// [`gm_status_code::GM_OK`] as the number the C ABI passes.
pub const GM_OK: gm_status = gm_status_code::GM_OK as gm_status;
/// [`gm_status_code::GM_ERR_NOT_FOUND`] as the number the C ABI passes.
pub const GM_ERR_NOT_FOUND: gm_status = gm_status_code::GM_ERR_NOT_FOUND as gm_status;
/// [`gm_status_code::GM_ERR_INVALID_ARGUMENT`] as the number the C ABI passes.
pub const GM_ERR_INVALID_ARGUMENT: gm_status = gm_status_code::GM_ERR_INVALID_ARGUMENT as gm_status;
/// [`gm_status_code::GM_ERR_CONSTRAINT`] as the number the C ABI passes.
pub const GM_ERR_CONSTRAINT: gm_status = gm_status_code::GM_ERR_CONSTRAINT as gm_status;
/// [`gm_status_code::GM_ERR_BUSY`] as the number the C ABI passes.
pub const GM_ERR_BUSY: gm_status = gm_status_code::GM_ERR_BUSY as gm_status;
/// [`gm_status_code::GM_ERR_IO`] as the number the C ABI passes.
pub const GM_ERR_IO: gm_status = gm_status_code::GM_ERR_IO as gm_status;
/// [`gm_status_code::GM_ERR_CORRUPT`] as the number the C ABI passes.
pub const GM_ERR_CORRUPT: gm_status = gm_status_code::GM_ERR_CORRUPT as gm_status;
/// [`gm_status_code::GM_ERR_NOT_A_DATABASE`] as the number the C ABI passes.
pub const GM_ERR_NOT_A_DATABASE: gm_status = gm_status_code::GM_ERR_NOT_A_DATABASE as gm_status;
/// [`gm_status_code::GM_ERR_SCHEMA_TOO_NEW`] as the number the C ABI passes.
pub const GM_ERR_SCHEMA_TOO_NEW: gm_status = gm_status_code::GM_ERR_SCHEMA_TOO_NEW as gm_status;
/// [`gm_status_code::GM_ERR_READ_ONLY`] as the number the C ABI passes.
pub const GM_ERR_READ_ONLY: gm_status = gm_status_code::GM_ERR_READ_ONLY as gm_status;
/// [`gm_status_code::GM_ERR_FULL`] as the number the C ABI passes.
pub const GM_ERR_FULL: gm_status = gm_status_code::GM_ERR_FULL as gm_status;
/// [`gm_status_code::GM_ERR_INTERNAL`] as the number the C ABI passes.
pub const GM_ERR_INTERNAL: gm_status = gm_status_code::GM_ERR_INTERNAL as gm_status;
/// [`gm_status_code::GM_ERR_MISUSE`] as the number the C ABI passes.
pub const GM_ERR_MISUSE: gm_status = gm_status_code::GM_ERR_MISUSE as gm_status;
/// [`gm_status_code::GM_ERR_BUFFER_TOO_SMALL`] as the number the C ABI passes.
pub const GM_ERR_BUFFER_TOO_SMALL: gm_status = gm_status_code::GM_ERR_BUFFER_TOO_SMALL as gm_status;
