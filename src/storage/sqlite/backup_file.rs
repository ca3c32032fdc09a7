//! gmstore backup files, which are SQLite files whatever engine the store
//! runs on: copying a snapshot into one, verifying one, recognising one.

use std::path::Path;

use rusqlite::backup::Backup;
use rusqlite::{Connection, OpenFlags};

use super::migrations;
use crate::error::{Error, Result};
use crate::meta;
use crate::storage::MetaRows;

/// Opens a file read-only and checks it is a sound gmstore database;
/// returns its schema version.
pub fn verify_database(path: &Path) -> Result<i64> {
    let label = format!("backup '{}'", path.display());
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(|e| Error::from(e).context(&label))?;
    let check: Vec<String> = conn
        .prepare("PRAGMA integrity_check")
        .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
        .map_err(|e| Error::from(e).context(&label))?;
    if check != ["ok"] {
        return Err(Error::Corrupt(format!(
            "{label}: integrity_check failed: {}",
            check.join("; ")
        )));
    }
    let version = migrations::detect_version(&conn).map_err(|e| e.context(&label))?;
    migrations::check_not_newer(version).map_err(|e| e.context(&label))?;
    if version == 0 {
        return Err(Error::NotADatabase(format!("{label}: holds no gmstore schema")));
    }
    Ok(version)
}

/// Whether `path` is a backup this library wrote (it carries the marker).
pub(crate) fn is_gmstore_backup(path: &Path) -> bool {
    let Ok(conn) = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY) else {
        return false;
    };
    matches!(conn.meta_get(meta::BACKUP_OF), Ok(Some(_)))
}

/// Copies `src` (one consistent snapshot) into the new file `dest`, marks
/// it, makes it a self-contained rollback-journal file, and verifies it.
pub(crate) fn copy_snapshot(src: &Connection, src_label: &str, dest: &Path, taken_at: f64) -> Result<i64> {
    let mut out = Connection::open(dest)?;
    {
        let backup = Backup::new(src, &mut out)?;
        // One step copies everything under one read snapshot: no restart
        // when writers commit meanwhile, and WAL writers are not blocked.
        backup.step(-1)?;
    }
    out.pragma_update(None, "journal_mode", "DELETE")?;
    out.meta_set(meta::BACKUP_OF, src_label)?;
    out.meta_set(meta::BACKUP_TIME, &taken_at.to_string())?;
    drop(out);
    verify_database(dest)
}
