//! Online backups with verification and retention, restore, and the
//! maintenance operations (vacuum, compact copy, WAL checkpoint).
//!
//! Backups go through SQLite's online backup API from a read connection
//! holding one snapshot, so they are consistent while other threads and
//! processes keep writing, and under WAL they never block those writers.
//! A backup is written to a temporary file, verified, and renamed into
//! place, so a backup path never names a half-written file.

use std::fs::{self, OpenOptions};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use rusqlite::backup::Backup;
use rusqlite::{Connection, OpenFlags, OptionalExtension};

use crate::error::{invalid, Error, Result};
use crate::migrations;
use crate::store::{now, Store};

/// The marker gmstore writes into every backup's `gm_meta`; retention only
/// ever deletes files that carry it.
const BACKUP_MARKER: &str = "gmstore_backup_of";
const BACKUP_DIR: &str = "backups";
const PREMIGRATION_TAG: &str = "premigration";

/// What a verified backup holds.
#[derive(Debug, Clone, PartialEq)]
pub struct BackupInfo {
    pub path: PathBuf,
    pub schema_version: i64,
    pub size_bytes: u64,
    /// Unix time the snapshot was taken.
    pub created_at: f64,
}

/// Formats Unix time as a sortable UTC stamp: `20261126T041115.123456Z`.
pub fn utc_stamp(unix: f64) -> String {
    let secs = unix.floor() as i64;
    let micros = ((unix - secs as f64) * 1e6).round().min(999_999.0) as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}{m:02}{d:02}T{:02}{:02}{:02}.{micros:06}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Parses a stamp made by [`utc_stamp`] back to Unix time.
pub fn parse_utc_stamp(stamp: &str) -> Option<f64> {
    let b = stamp.as_bytes();
    if b.len() != 23 || b[8] != b'T' || b[15] != b'.' || b[22] != b'Z' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| stamp.get(r)?.parse::<i64>().ok();
    let days = days_from_civil(num(0..4)?, num(4..6)?, num(6..8)?);
    let secs = days * 86_400 + num(9..11)? * 3600 + num(11..13)? * 60 + num(13..15)?;
    Some(secs as f64 + num(16..22)? as f64 / 1e6)
}

// Howard Hinnant's civil-calendar algorithms (public domain).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn file_size(path: &Path) -> u64 {
    fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

/// Main file plus WAL, in bytes.
pub(crate) fn size_on_disk(path: &Path) -> u64 {
    file_size(path) + file_size(&with_suffix(path, "-wal"))
}

/// Creates `path` empty with `mode`, refusing to overwrite anything.
fn create_private(path: &Path, mode: u32) -> Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        fs::create_dir_all(parent)
            .map_err(|e| Error::from(e).context(&format!("backup folder {}", parent.display())))?;
    }
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
        .map_err(|e| Error::from(e).context(&format!("backup file {}", path.display())))?;
    Ok(())
}

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
fn is_gmstore_backup(path: &Path) -> bool {
    let Ok(conn) = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY) else {
        return false;
    };
    conn.query_row("SELECT 1 FROM gm_meta WHERE key = ?1", [BACKUP_MARKER], |r| {
        r.get::<_, i64>(0)
    })
    .optional()
    .ok()
    .flatten()
    .is_some()
}

/// Copies `src` (one consistent snapshot) into the new file `dest`, marks
/// it, makes it a self-contained rollback-journal file, and verifies it.
fn copy_snapshot(src: &Connection, src_label: &str, dest: &Path, taken_at: f64) -> Result<i64> {
    let mut out = Connection::open(dest)?;
    {
        let backup = Backup::new(src, &mut out)?;
        // One step copies everything under one read snapshot: no restart
        // when writers commit meanwhile, and WAL writers are not blocked.
        backup.step(-1)?;
    }
    out.pragma_update(None, "journal_mode", "DELETE")?;
    out.execute(
        "INSERT OR REPLACE INTO gm_meta(key, value) VALUES (?1, ?2), ('gmstore_backup_time', ?3)",
        rusqlite::params![BACKUP_MARKER, src_label, taken_at.to_string()],
    )?;
    drop(out);
    verify_database(dest)
}

impl Store {
    fn db_path_for_backups(&self) -> Result<&Path> {
        if self.options().is_memory() {
            return Err(invalid(
                "backup_path",
                "an in-memory store has no folder for default backups; pass a path",
            ));
        }
        Ok(&self.options().db_path)
    }

    /// `<db dir>/backups`, where default backups go.
    pub fn backup_dir(&self) -> Result<PathBuf> {
        let db = self.db_path_for_backups()?;
        Ok(db
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .join(BACKUP_DIR))
    }

    fn backup_stem(&self) -> Result<String> {
        let db = self.db_path_for_backups()?;
        Ok(db
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "gmstore".into()))
    }

    /// Backs the store up, consistently and without blocking writers, to
    /// `path` or by default to `<db dir>/backups/<stem>_<UTC stamp>.db`.
    /// The copy is verified (`integrity_check`, schema version) before it
    /// is renamed into place. After a default backup, only the newest
    /// `max_backups` gmstore backups of this store are kept.
    pub fn create_backup(&self, path: Option<&Path>) -> Result<BackupInfo> {
        self.flush_access_counts()?;
        let taken_at = now();
        let dest = match path {
            Some(p) if p.as_os_str().is_empty() => return Err(invalid("backup_path", "must not be empty")),
            Some(p) => p.to_path_buf(),
            None => self
                .backup_dir()?
                .join(format!("{}_{}.db", self.backup_stem()?, utc_stamp(taken_at))),
        };
        if dest.exists() {
            return Err(invalid(
                "backup_path",
                format!("{} already exists", dest.display()),
            ));
        }
        let partial = with_suffix(&dest, ".partial");
        let _ = fs::remove_file(&partial);
        create_private(&partial, self.options().file_mode)?;
        let label = self.options().db_path.display().to_string();
        let result = self.read_snapshot(|conn| copy_snapshot(conn, &label, &partial, taken_at));
        let schema_version = match result {
            Ok(v) => v,
            Err(e) => {
                let _ = fs::remove_file(&partial);
                return Err(e.context("backup"));
            }
        };
        fs::rename(&partial, &dest)?;
        if path.is_none() {
            self.apply_retention()?;
        }
        Ok(BackupInfo {
            size_bytes: file_size(&dest),
            path: dest,
            schema_version,
            created_at: taken_at,
        })
    }

    /// The default backups of this store on disk, oldest first, with the
    /// time in their names. Only files gmstore marked as its backups.
    pub fn list_backups(&self) -> Result<Vec<(PathBuf, f64)>> {
        let dir = self.backup_dir()?;
        let prefix = format!("{}_", self.backup_stem()?);
        let Ok(entries) = fs::read_dir(&dir) else {
            return Ok(Vec::new());
        };
        let mut found: Vec<(PathBuf, f64)> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter_map(|p| {
                let name = p.file_name()?.to_str()?;
                let stamp = name.strip_prefix(&prefix)?.strip_suffix(".db")?;
                Some((p.clone(), parse_utc_stamp(stamp)?))
            })
            .filter(|(p, _)| is_gmstore_backup(p))
            .collect();
        found.sort_by(|a, b| a.1.total_cmp(&b.1));
        Ok(found)
    }

    fn apply_retention(&self) -> Result<()> {
        let backups = self.list_backups()?;
        let keep = self.options().max_backups as usize;
        for (path, _) in backups.iter().take(backups.len().saturating_sub(keep)) {
            fs::remove_file(path)
                .map_err(|e| Error::from(e).context(&format!("retention: {}", path.display())))?;
        }
        Ok(())
    }

    /// Unix time of the newest default backup on disk, so the interval
    /// holds across restarts.
    pub fn last_backup_time(&self) -> Result<Option<f64>> {
        if self.options().is_memory() {
            return Ok(None);
        }
        Ok(self.list_backups()?.last().map(|(_, t)| *t))
    }

    /// Backs up to the default folder when `backup_interval` has passed
    /// since the newest backup on disk (or there is none).
    pub fn auto_backup_if_needed(&self) -> Result<Option<BackupInfo>> {
        let due = match self.last_backup_time()? {
            None => true,
            Some(last) => now() - last >= self.options().backup_interval.as_secs_f64(),
        };
        if due {
            self.create_backup(None).map(Some)
        } else {
            Ok(None)
        }
    }

    /// Replaces the store's content with a verified backup, through the
    /// online backup API into the open store: one write transaction, so
    /// readers see the old state or the new one and a crash leaves one of
    /// them whole. Other handles on the file see the new content at their
    /// next read. Older backups are migrated afterwards.
    pub fn restore(&self, backup: &Path) -> Result<()> {
        self.restore_from(backup).map_err(|e| e.context("restore"))
    }

    fn restore_from(&self, backup: &Path) -> Result<()> {
        self.flush_access_counts()?;
        verify_database(backup)?;
        let src = Connection::open_with_flags(backup, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
        self.with_writer_conn(|dest| {
            {
                let copy = Backup::new(&src, dest)?;
                copy.step(-1).map_err(|e| match Error::from(e) {
                    Error::ReadOnly(m) => Error::InvalidArgument(format!(
                        "backup: cannot restore over a WAL database with another page size ({m})"
                    )),
                    other => other,
                })?;
            }
            migrations::migrate(dest)?;
            // Tells every k-NN cache, in this process or another, that the
            // change log no longer describes how the content got here.
            dest.execute(
                "INSERT OR REPLACE INTO gm_meta(key, value) VALUES (?1, ?2)",
                rusqlite::params![crate::search::INCARNATION_KEY, utc_stamp(now())],
            )?;
            Ok(())
        })
    }

    /// Rebuilds the file to reclaim free pages; returns the bytes
    /// reclaimed on disk (main file and WAL).
    pub fn vacuum(&self) -> Result<u64> {
        let before = self.size_now();
        self.with_writer_conn(|conn| {
            conn.execute_batch("VACUUM")?;
            if !self.options().is_memory() && self.options().enable_wal {
                conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
            }
            Ok(())
        })?;
        Ok(before.saturating_sub(self.size_now()))
    }

    fn size_now(&self) -> u64 {
        if self.options().is_memory() {
            0
        } else {
            size_on_disk(&self.options().db_path)
        }
    }

    /// Writes a compacted copy of the store to the new file `dest`
    /// (`VACUUM INTO`), verified like a backup.
    pub fn vacuum_into(&self, dest: &Path) -> Result<BackupInfo> {
        self.flush_access_counts()?;
        if dest.as_os_str().is_empty() {
            return Err(invalid("dest", "must not be empty"));
        }
        if dest.exists() {
            return Err(invalid("dest", format!("{} already exists", dest.display())));
        }
        // Missing folders are created, as for a backup.
        if let Some(parent) = dest.parent().filter(|p| !p.as_os_str().is_empty()) {
            fs::create_dir_all(parent)
                .map_err(|e| Error::from(e).context(&format!("folder {}", parent.display())))?;
        }
        let dest_text = dest
            .to_str()
            .ok_or_else(|| invalid("dest", "path is not valid UTF-8"))?;
        let taken_at = now();
        self.read_snapshot(|conn| Ok(conn.execute("VACUUM INTO ?1", [dest_text])?))?;
        let schema_version = verify_database(dest)?;
        Ok(BackupInfo {
            path: dest.to_path_buf(),
            schema_version,
            size_bytes: file_size(dest),
            created_at: taken_at,
        })
    }

    /// Copies the WAL into the main file and truncates it. Returns the
    /// number of WAL frames checkpointed.
    pub fn checkpoint(&self) -> Result<i64> {
        if self.options().is_memory() || !self.options().enable_wal {
            return Ok(0);
        }
        self.with_writer_conn(|conn| {
            Ok(conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get::<_, i64>(2))?)
        })
    }
}

/// Before migrating a non-empty file, copies it next to the default backups
/// as `<stem>_premigration_v<N>_<stamp>.db`. Retention never deletes these.
pub(crate) fn backup_before_migration(
    conn: &Connection,
    db_path: &Path,
    from: i64,
    mode: u32,
) -> Result<PathBuf> {
    let dir = db_path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .join(BACKUP_DIR);
    let stem = db_path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "gmstore".into());
    let dest = dir.join(format!(
        "{stem}_{PREMIGRATION_TAG}_v{from}_{}.db",
        utc_stamp(now())
    ));
    create_private(&dest, mode)?;
    let mut out = Connection::open(&dest)?;
    Backup::new(conn, &mut out)?.step(-1)?;
    out.pragma_update(None, "journal_mode", "DELETE")?;
    Ok(dest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_round_trip_and_sort() {
        for t in [0.0, 951_782_400.5, 1_764_130_275.123_456, 4_102_444_800.999_999] {
            let s = utc_stamp(t);
            assert!((parse_utc_stamp(&s).unwrap() - t).abs() < 1e-5, "{t} -> {s}");
        }
        assert_eq!(utc_stamp(951_782_400.0), "20000229T000000.000000Z");
        assert!(utc_stamp(1_000.0) < utc_stamp(2_000.0));
        assert_eq!(parse_utc_stamp("not a stamp"), None);
    }
}
