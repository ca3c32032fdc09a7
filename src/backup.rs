//! Online backups with verification and retention, restore, and the
//! maintenance operations (vacuum, compact copy, WAL checkpoint).
//!
//! A backup is a gmstore SQLite file copied from one consistent snapshot
//! (the engine's [`Snapshots`]), so it is consistent while other threads
//! and processes keep writing. This file holds what does not depend on
//! the engine: names, retention, the interval, the partial-file protocol.
//! A backup is written to a temporary file, verified, and renamed into
//! place, so a backup path never names a half-written file.

use std::fs;
use std::path::{Path, PathBuf};

use crate::clock::{now, parse_utc_stamp, utc_stamp};
use crate::error::{invalid, Error, Result};
use crate::files::{self, file_size, size_on_disk, with_suffix};
use crate::meta;
use crate::storage::sqlite::backup_file::is_gmstore_backup;
pub use crate::storage::sqlite::backup_file::verify_database;
use crate::store::Store;

/// What a verified backup holds.
#[derive(Debug, Clone, PartialEq)]
pub struct BackupInfo {
    /// Where the verified copy is.
    pub path: PathBuf,
    /// The copy's schema version.
    pub schema_version: i64,
    /// Size of the copy in bytes.
    pub size_bytes: u64,
    /// Unix time the snapshot was taken.
    pub created_at: f64,
}

/// Creates `path` empty with `mode`, refusing to overwrite anything; the
/// error names the folder or the file that could not be made.
fn create_private(path: &Path, mode: u32) -> Result<()> {
    files::create_parent_dirs(path).map_err(|e| {
        let folder = path.parent().unwrap_or(Path::new("."));
        Error::from(e).context(&format!("backup folder {}", folder.display()))
    })?;
    files::create_new(path, mode)
        .map_err(|e| Error::from(e).context(&format!("backup file {}", path.display())))
}

impl Store {
    /// The path default backups are named after: the database file, or
    /// for a server store `<store name>.db` in the working directory, so
    /// its backups go to `./backups/<store>_<stamp>.db`.
    fn db_path_for_backups(&self) -> Result<PathBuf> {
        if let Some(store) = self.server_store_name() {
            return Ok(PathBuf::from(format!("{store}.db")));
        }
        if self.options().is_memory() {
            return Err(invalid(
                "backup_path",
                "an in-memory store has no folder for default backups; pass a path",
            ));
        }
        Ok(self.options().db_path.clone())
    }

    /// `<db dir>/backups`, where default backups go (`./backups` for a
    /// server store).
    pub fn backup_dir(&self) -> Result<PathBuf> {
        Ok(files::backup_dir(&self.db_path_for_backups()?))
    }

    fn backup_stem(&self) -> Result<String> {
        Ok(files::backup_stem(&self.db_path_for_backups()?))
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
        let label = self.label();
        let result = self.read_snapshot(|conn| conn.copy_to_new_file(&partial, &label, taken_at));
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
        self.with_writer_conn(|dest| {
            dest.replace_content_from(backup)?;
            // Tells every k-NN cache, in this process or another, that the
            // change log no longer describes how the content got here.
            dest.meta_set(meta::INCARNATION, &utc_stamp(now()))
        })
    }

    /// Rebuilds the file to reclaim free pages; returns the bytes
    /// reclaimed on disk (main file and WAL).
    pub fn vacuum(&self) -> Result<u64> {
        let before = self.size_now();
        let checkpoint = !self.options().is_memory() && self.options().enable_wal;
        self.with_writer_conn(|conn| conn.compact(checkpoint))?;
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
        files::create_parent_dirs(dest).map_err(|e| {
            let folder = dest.parent().unwrap_or(Path::new("."));
            Error::from(e).context(&format!("folder {}", folder.display()))
        })?;
        let taken_at = now();
        self.read_snapshot(|conn| conn.compact_into(dest))?;
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
        self.with_writer_conn(|conn| conn.checkpoint_log())
    }
}
