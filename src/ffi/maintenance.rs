//! Transactions, raw SQL, statistics and checks across the C ABI.

use std::ffi::c_char;

use super::boundary::{boundary, opt_out, out, quiet_boundary, slice, text, text_bytes};
use super::handle::{gm_store, store_ref};
use super::results::{free_string, hand_string, Handed};
use crate::error::{invalid, Result};
use crate::status::*;
use crate::validate::MAX_BLOB_LEN;
use crate::SqlValue;

/// Kinds of `gm_value.kind`.
#[repr(u32)]
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum gm_value_kind {
    /// `gm_value.kind`: SQL NULL.
    GM_VALUE_NULL = 0,
    /// `gm_value.kind`: a 64-bit integer in `int_value`.
    GM_VALUE_INTEGER = 1,
    /// `gm_value.kind`: a finite double in `real_value`.
    GM_VALUE_REAL = 2,
    /// `gm_value.kind`: UTF-8 text of `len` bytes at `data` (no NUL needed).
    GM_VALUE_TEXT = 3,
    /// `gm_value.kind`: a blob of `len` bytes at `data`.
    GM_VALUE_BLOB = 4,
}

/// [`gm_value_kind::GM_VALUE_NULL`] as the number the C ABI passes.
pub const GM_VALUE_NULL: u32 = gm_value_kind::GM_VALUE_NULL as u32;
/// [`gm_value_kind::GM_VALUE_INTEGER`] as the number the C ABI passes.
pub const GM_VALUE_INTEGER: u32 = gm_value_kind::GM_VALUE_INTEGER as u32;
/// [`gm_value_kind::GM_VALUE_REAL`] as the number the C ABI passes.
pub const GM_VALUE_REAL: u32 = gm_value_kind::GM_VALUE_REAL as u32;
/// [`gm_value_kind::GM_VALUE_TEXT`] as the number the C ABI passes.
pub const GM_VALUE_TEXT: u32 = gm_value_kind::GM_VALUE_TEXT as u32;
/// [`gm_value_kind::GM_VALUE_BLOB`] as the number the C ABI passes.
pub const GM_VALUE_BLOB: u32 = gm_value_kind::GM_VALUE_BLOB as u32;

/// A bound parameter for `gm_execute`. Plain data owned by the caller; the
/// field that `kind` names is read, the others are ignored.
#[repr(C)]
pub struct gm_value {
    /// One of the `GM_VALUE_*` kinds.
    pub kind: u32,
    /// Reserved; must be 0.
    pub reserved: u32,
    /// Read when `kind` is `GM_VALUE_INTEGER`.
    pub int_value: i64,
    /// Read when `kind` is `GM_VALUE_REAL`; must be finite.
    pub real_value: f64,
    /// Text or blob bytes; NULL only when `len` is 0.
    pub data: *const u8,
    /// Byte length of `data`.
    pub len: usize,
}

/// Database statistics, owned by the caller, freed with `gm_stats_free`.
/// New fields are only ever appended.
#[repr(C)]
pub struct gm_stats {
    /// Stored episodes.
    pub episodes_count: i64,
    /// Stored concepts.
    pub concepts_count: i64,
    /// Stored learning events.
    pub learning_events_count: i64,
    /// Stored relationships.
    pub relationships_count: i64,
    /// Main file plus WAL, in bytes.
    pub db_size_bytes: u64,
    /// The same in MiB.
    pub db_size_mb: f64,
    /// The file's schema version.
    pub schema_version: i64,
    /// SQLite page size in bytes.
    pub page_size: i64,
    /// Pages in the main file.
    pub page_count: i64,
    /// Free pages a vacuum would reclaim.
    pub freelist_count: i64,
    /// 0 while no concept has fixed it.
    pub embedding_dim: u64,
    /// Unix time of the newest automatic backup; valid when
    /// `has_last_backup_time` is 1.
    pub last_backup_time: f64,
    /// 1 when `last_backup_time` is valid, else 0.
    pub has_last_backup_time: u8,
    /// Always 0.
    pub reserved: [u8; 7],
    /// Episodes the retention policy has evicted since the store was
    /// created.
    pub episodes_evicted: i64,
    /// 1 when a retention policy is in force (read it with
    /// `gm_get_retention`), else 0.
    pub has_retention_policy: u8,
    /// Always 0.
    pub reserved_tail: [u8; 7],
}

impl Handed for gm_stats {
    type View = gm_stats;
}

/// Largest parameter count for `gm_execute` (SQLite's own limit).
pub const GM_MAX_SQL_PARAMS: usize = 32_766;

unsafe fn to_sql_value(v: &gm_value, i: usize) -> Result<SqlValue<'_>> {
    let field = format!("params[{i}]");
    if v.reserved != 0 {
        return Err(invalid(&format!("{field}.reserved"), "must be 0"));
    }
    Ok(match v.kind {
        GM_VALUE_NULL => SqlValue::Null,
        GM_VALUE_INTEGER => SqlValue::Integer(v.int_value),
        GM_VALUE_REAL => SqlValue::Real(v.real_value),
        GM_VALUE_TEXT => SqlValue::Text(text_bytes(v.data, v.len, &field, MAX_BLOB_LEN)?),
        GM_VALUE_BLOB => SqlValue::Blob(slice(v.data, v.len, &field, MAX_BLOB_LEN)?),
        other => return Err(invalid(&format!("{field}.kind"), format!("unknown kind {other}"))),
    })
}

/// Executes one SQL statement with `count` bound parameters (`params` may
/// be NULL when `count` is 0) and writes the number of changed rows to
/// `*out_changes` (may be NULL). Joins this thread's transaction if one is
/// open. Transaction control, ATTACH, DETACH and PRAGMA are refused with
/// `GM_ERR_INVALID_ARGUMENT`, as is a SQL error, blank SQL or SQL that is
/// only comments. A statement that returns rows (`SELECT`, `INSERT ...
/// RETURNING`) runs to completion and its rows are discarded. Every
/// `gm_value.reserved` must be 0. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn gm_execute(
    store: *mut gm_store,
    sql: *const c_char,
    params: *const gm_value,
    count: usize,
    out_changes: *mut i64,
) -> gm_status {
    boundary("gm_execute", || {
        let out_changes = opt_out(out_changes, 0);
        let store = store_ref(store)?;
        let sql = text(sql, "sql")?;
        let values = slice(params, count, "params", GM_MAX_SQL_PARAMS)?
            .iter()
            .enumerate()
            .map(|(i, v)| to_sql_value(v, i))
            .collect::<Result<Vec<_>>>()?;
        let changed = store.execute(sql, &values)?;
        if let Some(slot) = out_changes {
            slot.set(changed as i64);
        }
        Ok(())
    })
}

/// Writes the store's statistics to `*out_stats` (free with
/// `gm_stats_free`). Counts come from one consistent snapshot. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn gm_get_stats(store: *mut gm_store, out_stats: *mut *mut gm_stats) -> gm_status {
    boundary("gm_get_stats", || {
        let out_stats = out(out_stats, "out_stats", std::ptr::null_mut())?;
        let s = store_ref(store)?.get_database_stats()?;
        out_stats.set(
            gm_stats {
                episodes_count: s.episodes_count,
                concepts_count: s.concepts_count,
                learning_events_count: s.learning_events_count,
                relationships_count: s.relationships_count,
                db_size_bytes: s.db_size_bytes,
                db_size_mb: s.db_size_mb(),
                schema_version: s.schema_version,
                page_size: s.page_size,
                page_count: s.page_count,
                freelist_count: s.freelist_count,
                embedding_dim: s.embedding_dim.unwrap_or(0) as u64,
                last_backup_time: s.last_backup_time.unwrap_or(0.0),
                has_last_backup_time: s.last_backup_time.is_some() as u8,
                reserved: [0; 7],
                episodes_evicted: s.episodes_evicted,
                has_retention_policy: s.retention.is_some() as u8,
                reserved_tail: [0; 7],
            }
            .hand_over(),
        );
        Ok(())
    })
}

/// Frees statistics from `gm_get_stats`. NULL is a no-op.
#[no_mangle]
pub unsafe extern "C" fn gm_stats_free(stats: *mut gm_stats) {
    quiet_boundary((), || gm_stats::free(stats))
}

/// Runs SQLite's integrity and foreign-key checks and writes the number of
/// problems found to `*out_problems` (0 means sound) and, when
/// `out_report` is not NULL, a NUL-terminated report to `*out_report`
/// ("ok", or one problem a line), owned by the caller and freed with
/// `gm_string_free`. Problems are not an error: the status is `GM_OK`.
/// Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn gm_integrity_check(
    store: *mut gm_store,
    out_problems: *mut i64,
    out_report: *mut *mut c_char,
) -> gm_status {
    boundary("gm_integrity_check", || {
        let out_problems = out(out_problems, "out_problems", 0)?;
        let report_slot = opt_out(out_report, std::ptr::null_mut());
        let problems = store_ref(store)?.integrity_check()?;
        let report = if problems.is_empty() {
            "ok".to_string()
        } else {
            problems.join("\n")
        };
        out_problems.set(problems.len() as i64);
        if let Some(slot) = report_slot {
            slot.set(hand_string(&report));
        }
        Ok(())
    })
}

/// Frees a string returned by a gm call (a report, a path). NULL is a no-op.
#[no_mangle]
pub unsafe extern "C" fn gm_string_free(s: *mut c_char) {
    quiet_boundary((), || free_string(s))
}
