//! The `gm_meta` table: every key the store keeps there, and the two
//! statements that read and write them.

use rusqlite::{Connection, OptionalExtension};

use crate::error::{invalid, Result};

/// The embedding dimension, fixed by the first concept or the option.
pub(crate) const EMBEDDING_DIM: &str = "embedding_dim";
/// Written by a restore; a k-NN matrix built before it must be rebuilt.
pub(crate) const INCARNATION: &str = "gmstore_incarnation";
/// Written into every backup; retention only ever deletes files with it.
pub(crate) const BACKUP_OF: &str = "gmstore_backup_of";
/// Unix time a backup's snapshot was taken, in the backup.
pub(crate) const BACKUP_TIME: &str = "gmstore_backup_time";

/// The value stored under `key`, if any.
pub(crate) fn get(conn: &Connection, key: &str) -> Result<Option<String>> {
    Ok(conn
        .prepare_cached("SELECT value FROM gm_meta WHERE key = ?1")?
        .query_row([key], |r| r.get(0))
        .optional()?)
}

/// Stores `value` under `key`, replacing what was there.
pub(crate) fn set(conn: &Connection, key: &str, value: &str) -> Result<()> {
    conn.prepare_cached("INSERT OR REPLACE INTO gm_meta(key, value) VALUES (?1, ?2)")?
        .execute([key, value])?;
    Ok(())
}

/// The store's fixed embedding dimension, if one is fixed.
pub(crate) fn embedding_dim(conn: &Connection) -> Result<Option<usize>> {
    Ok(get(conn, EMBEDDING_DIM)?.and_then(|t| t.parse().ok()))
}

/// Checks `dim` against the store's fixed dimension. Returns true when no
/// dimension is fixed yet, so the caller records it after its own write.
/// `field` names what the caller passed, for the error message.
pub(crate) fn check_embedding_dim(conn: &Connection, dim: usize, field: &str) -> Result<bool> {
    match embedding_dim(conn)? {
        Some(stored) if stored == dim => Ok(false),
        Some(stored) => Err(invalid(
            field,
            format!("dimension {dim} does not match the store's {stored}"),
        )),
        None => Ok(true),
    }
}

/// Records `dim` as the store's dimension; the caller checked none is fixed.
pub(crate) fn record_embedding_dim(conn: &Connection, dim: usize) -> Result<()> {
    set(conn, EMBEDDING_DIM, &dim.to_string())
}

/// Fixes the dimension to `dim`, or fails if another one is fixed.
pub(crate) fn fix_embedding_dim(conn: &Connection, dim: usize) -> Result<()> {
    if check_embedding_dim(conn, dim, "embedding_dim")? {
        record_embedding_dim(conn, dim)?;
    }
    Ok(())
}
