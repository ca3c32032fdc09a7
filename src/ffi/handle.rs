//! Store handles, options, versions and the last-error calls.
//!
//! A `gm_store *` is an opaque token, never a pointer to memory (see
//! `registry.rs`): a call on a closed handle is `GM_ERR_MISUSE`, and a
//! close that races another thread's call frees the store only after that
//! call returns.

use std::ffi::c_char;
use std::sync::Arc;
use std::time::Duration;

use super::boundary::{boundary, input, out, quiet_boundary, text, with_last_error};
use super::registry::Registry;
use crate::error::{invalid, Error, Result};
use crate::options::{Options, Synchronous};
use crate::status::*;
use crate::Store;

/// An open store. Opaque: create with `gm_open`, release with `gm_close`.
/// Thread-safe: any number of threads may call into one handle at once.
pub struct gm_store {
    _opaque: [u8; 0],
}

/// Values of `gm_options.synchronous`.
#[repr(u8)]
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum gm_sync {
    /// `gm_options.synchronous`: NORMAL under WAL, FULL otherwise.
    GM_SYNC_DEFAULT = 0,
    /// `gm_options.synchronous`: survives process crashes; the last commits may
    /// be lost on power failure.
    GM_SYNC_NORMAL = 1,
    /// `gm_options.synchronous`: every commit is fsynced; survives power loss.
    GM_SYNC_FULL = 2,
}

/// [`gm_sync::GM_SYNC_DEFAULT`] as the number the C ABI passes.
pub const GM_SYNC_DEFAULT: u8 = gm_sync::GM_SYNC_DEFAULT as u8;
/// [`gm_sync::GM_SYNC_NORMAL`] as the number the C ABI passes.
pub const GM_SYNC_NORMAL: u8 = gm_sync::GM_SYNC_NORMAL as u8;
/// [`gm_sync::GM_SYNC_FULL`] as the number the C ABI passes.
pub const GM_SYNC_FULL: u8 = gm_sync::GM_SYNC_FULL as u8;

/// Major version of this header; `gm_version()` reports the library's.
pub const GM_VERSION_MAJOR: u32 = 0;
/// Minor version of this header.
pub const GM_VERSION_MINOR: u32 = 2;
/// Patch version of this header.
pub const GM_VERSION_PATCH: u32 = 0;

/// Options for `gm_open`. Initialise with `gm_options_init`, then change
/// fields. Plain data owned by the caller; the library only reads it during
/// `gm_open`.
#[repr(C)]
pub struct gm_options {
    /// Must be `sizeof(gm_options)`; set by `gm_options_init`.
    pub struct_size: u32,
    /// Automatic backups to keep (default 10).
    pub max_backups: u32,
    /// Seconds between automatic backups (default 3600).
    pub backup_interval_secs: i64,
    /// Seconds a call waits for a lock before `GM_ERR_BUSY` (default 30).
    pub connection_timeout_secs: f64,
    /// 1 enables write-ahead logging (default 1).
    pub enable_wal: u8,
    /// 1 opens read-only: writes fail with `GM_ERR_READ_ONLY` (default 0).
    pub read_only: u8,
    /// `GM_SYNC_DEFAULT`, `GM_SYNC_NORMAL` or `GM_SYNC_FULL`.
    pub synchronous: u8,
    /// 1 keeps every embedding in memory for k-NN search (default 1).
    pub knn_cache: u8,
    /// Page size in bytes for new files (default 16384).
    pub page_size: u32,
    /// Fixed embedding dimension, or 0 to take the first concept's.
    pub embedding_dim: u32,
    /// Unix permission bits for new database files (default 0600).
    pub file_mode: u32,
    /// Reserved; must be 0.
    pub reserved: u32,
    /// Cap on the database size in bytes; writes past it fail with
    /// `GM_ERR_FULL`. 0 for no cap (default).
    pub max_db_size: u64,
}

static STORES: Registry<Store> = Registry::new("store");

/// The live store behind a handle, held for the duration of one call.
pub(crate) fn store_ref(handle: *mut gm_store) -> Result<Arc<Store>> {
    STORES.get(handle as usize).map_err(|e| match e {
        Error::Misuse(_) => Error::Misuse("store: handle is closed or was never opened".into()),
        other => other,
    })
}

fn register(store: Store) -> Result<*mut gm_store> {
    Ok(STORES.insert(store)? as *mut gm_store)
}

fn defaults() -> gm_options {
    let d = Options::default();
    gm_options {
        struct_size: std::mem::size_of::<gm_options>() as u32,
        max_backups: d.max_backups,
        backup_interval_secs: d.backup_interval.as_secs() as i64,
        connection_timeout_secs: d.connection_timeout.as_secs_f64(),
        enable_wal: d.enable_wal as u8,
        read_only: d.read_only as u8,
        synchronous: GM_SYNC_DEFAULT,
        knn_cache: d.knn_cache as u8,
        reserved: 0,
        max_db_size: 0,
        page_size: d.page_size,
        embedding_dim: 0,
        file_mode: d.file_mode,
    }
}

fn to_options(path: &str, o: &gm_options) -> Result<Options> {
    let expected = std::mem::size_of::<gm_options>() as u32;
    if o.struct_size != expected {
        return Err(invalid(
            "options.struct_size",
            format!(
                "{} is not sizeof(gm_options) = {expected}; call gm_options_init",
                o.struct_size
            ),
        ));
    }
    if o.reserved != 0 {
        return Err(invalid("options.reserved", "must be 0"));
    }
    if o.backup_interval_secs < 0 {
        return Err(invalid(
            "options.backup_interval_secs",
            format!("must not be negative, got {}", o.backup_interval_secs),
        ));
    }
    let timeout = crate::validate::finite("options.connection_timeout_secs", o.connection_timeout_secs)?;
    if timeout < 0.0 || timeout > Options::MAX_TIMEOUT.as_secs_f64() {
        return Err(invalid(
            "options.connection_timeout_secs",
            format!("{timeout} is outside [0, 86400]"),
        ));
    }
    let synchronous = match o.synchronous {
        GM_SYNC_DEFAULT => None,
        GM_SYNC_NORMAL => Some(Synchronous::Normal),
        GM_SYNC_FULL => Some(Synchronous::Full),
        other => return Err(invalid("options.synchronous", format!("unknown mode {other}"))),
    };
    Ok(Options {
        db_path: path.into(),
        backup_interval: Duration::from_secs(o.backup_interval_secs as u64),
        max_backups: o.max_backups,
        enable_wal: super::boundary::flag(o.enable_wal, "options.enable_wal")?,
        connection_timeout: Duration::from_secs_f64(timeout),
        synchronous,
        read_only: super::boundary::flag(o.read_only, "options.read_only")?,
        embedding_dim: (o.embedding_dim != 0)
            .then(|| crate::validate::embedding_dim("options.embedding_dim", o.embedding_dim as usize))
            .transpose()?,
        page_size: o.page_size,
        file_mode: o.file_mode,
        knn_cache: super::boundary::flag(o.knn_cache, "options.knn_cache")?,
        max_db_size: (o.max_db_size != 0).then_some(o.max_db_size),
    })
}

/// Fills `*opts` with the defaults (the seed's: WAL on, 30 s timeout,
/// hourly backups, 10 kept) and sets `struct_size`.
///
/// Returns `GM_ERR_INVALID_ARGUMENT` if `opts` is NULL. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn gm_options_init(opts: *mut gm_options) -> gm_status {
    boundary("gm_options_init", || {
        out(opts, "opts", defaults())?.set(defaults());
        Ok(())
    })
}

/// Opens (creating if needed) the store at `path` and writes its handle to
/// `*out_store`. `path` is a NUL-terminated UTF-8 file path, or
/// `":memory:"` for a private in-memory store. `opts` may be NULL for the
/// defaults. Pending schema migrations are applied atomically.
///
/// Ownership: the caller owns the handle and releases it with `gm_close`.
/// `path` and `opts` are only read during the call.
/// Errors: `GM_ERR_NOT_A_DATABASE` (not SQLite, or foreign tables),
/// `GM_ERR_SCHEMA_TOO_NEW` (file untouched), `GM_ERR_CORRUPT`, `GM_ERR_IO`,
/// `GM_ERR_INVALID_ARGUMENT`. On failure `*out_store` is NULL.
/// Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn gm_open(
    path: *const c_char,
    opts: *const gm_options,
    out_store: *mut *mut gm_store,
) -> gm_status {
    boundary("gm_open", || {
        let out_store = out(out_store, "out_store", std::ptr::null_mut())?;
        let path = text(path, "path")?;
        let options = match opts.is_null() {
            true => to_options(path, &defaults())?,
            false => to_options(path, input(opts, "opts")?)?,
        };
        out_store.set(register(Store::open(options)?)?);
        Ok(())
    })
}

/// Closes a store and releases its handle. NULL is a no-op. The handle is
/// invalid for new calls at once, and later calls on it return
/// `GM_ERR_MISUSE`. Any open transaction, of any thread or detached, is
/// rolled back and threads waiting to write return `GM_ERR_MISUSE` at
/// once, so the file's write lock is free when this returns (a statement
/// running on the writer finishes first). Closing while other threads
/// still use the handle is a caller bug, but never a memory error.
#[no_mangle]
pub unsafe extern "C" fn gm_close(store: *mut gm_store) {
    quiet_boundary((), || {
        let removed = STORES.remove(store as usize);
        // Calls still running on other threads keep the store alive until
        // they return; closing it now rolls back any open transaction and
        // wakes every waiting writer, so the file is free at once.
        if let Some(store) = removed {
            store.close();
        }
    })
}

/// The library version as `major * 1000000 + minor * 1000 + patch`, to
/// compare with `GM_VERSION_MAJOR/MINOR/PATCH` of the header compiled
/// against. Thread-safe.
#[no_mangle]
pub extern "C" fn gm_version() -> u32 {
    GM_VERSION_MAJOR * 1_000_000 + GM_VERSION_MINOR * 1000 + GM_VERSION_PATCH
}

/// The library version as a static NUL-terminated string ("0.2.0"). Never
/// freed. Thread-safe.
#[no_mangle]
pub extern "C" fn gm_version_string() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

/// The bundled SQLite version as a static NUL-terminated string. Never
/// freed. Thread-safe.
#[no_mangle]
pub extern "C" fn gm_sqlite_version() -> *const c_char {
    rusqlite::ffi::SQLITE_VERSION.as_ptr().cast()
}

/// A static NUL-terminated name for a status code ("GM_ERR_BUSY"), or
/// "GM_ERR_UNKNOWN". Never freed. Thread-safe.
#[no_mangle]
pub extern "C" fn gm_status_name(status: gm_status) -> *const c_char {
    let name: &'static str = match status {
        GM_OK => "GM_OK\0",
        GM_ERR_NOT_FOUND => "GM_ERR_NOT_FOUND\0",
        GM_ERR_INVALID_ARGUMENT => "GM_ERR_INVALID_ARGUMENT\0",
        GM_ERR_CONSTRAINT => "GM_ERR_CONSTRAINT\0",
        GM_ERR_BUSY => "GM_ERR_BUSY\0",
        GM_ERR_IO => "GM_ERR_IO\0",
        GM_ERR_CORRUPT => "GM_ERR_CORRUPT\0",
        GM_ERR_NOT_A_DATABASE => "GM_ERR_NOT_A_DATABASE\0",
        GM_ERR_SCHEMA_TOO_NEW => "GM_ERR_SCHEMA_TOO_NEW\0",
        GM_ERR_READ_ONLY => "GM_ERR_READ_ONLY\0",
        GM_ERR_FULL => "GM_ERR_FULL\0",
        GM_ERR_INTERNAL => "GM_ERR_INTERNAL\0",
        GM_ERR_MISUSE => "GM_ERR_MISUSE\0",
        GM_ERR_BUFFER_TOO_SMALL => "GM_ERR_BUFFER_TOO_SMALL\0",
        _ => "GM_ERR_UNKNOWN\0",
    };
    name.as_ptr().cast()
}

/// The message of the last failed `gm_*` call on this thread, or "" if the
/// last call succeeded. The pointer is owned by the library and valid until
/// the next `gm_*` call on this thread; copy it to keep it. Managed callers
/// (.NET) should use `gm_last_error_copy` instead. Thread-safe: each thread
/// has its own message.
#[no_mangle]
pub extern "C" fn gm_last_error_message() -> *const c_char {
    quiet_boundary(c"".as_ptr(), || with_last_error(|m| m.as_ptr()))
}

/// Copies the last error message of this thread, NUL-terminated, into the
/// caller's buffer `buf` of `cap` bytes, and writes the size it needs
/// (message length + 1) to `*out_needed` when that is not NULL. Does not
/// change the last error itself.
///
/// Returns `GM_ERR_BUFFER_TOO_SMALL` (buffer untouched) when `cap` is less
/// than needed or `buf` is NULL; call again with a larger buffer.
#[no_mangle]
pub unsafe extern "C" fn gm_last_error_copy(
    buf: *mut c_char,
    cap: usize,
    out_needed: *mut usize,
) -> gm_status {
    quiet_boundary(GM_ERR_INTERNAL, || {
        with_last_error(|message| {
            let bytes = message.to_bytes_with_nul();
            if let Some(needed) = out_needed.as_mut() {
                *needed = bytes.len();
            }
            if buf.is_null() || cap < bytes.len() {
                return GM_ERR_BUFFER_TOO_SMALL;
            }
            std::ptr::copy_nonoverlapping(bytes.as_ptr(), buf.cast(), bytes.len());
            GM_OK
        })
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn header_version_matches_cargo() {
        assert_eq!(
            super::GM_VERSION_MAJOR.to_string(),
            env!("CARGO_PKG_VERSION_MAJOR")
        );
        assert_eq!(
            super::GM_VERSION_MINOR.to_string(),
            env!("CARGO_PKG_VERSION_MINOR")
        );
        assert_eq!(
            super::GM_VERSION_PATCH.to_string(),
            env!("CARGO_PKG_VERSION_PATCH")
        );
    }
}
