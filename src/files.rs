//! The database file and its neighbours on disk: sizes, the -wal/-shm
//! companions, private creation, identity, and where backups go.

use std::fs::{self, OpenOptions};
use std::io;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// The folder beside the database that default backups go to.
const BACKUP_DIR: &str = "backups";

/// Size of `path` in bytes, 0 when it does not exist.
pub(crate) fn file_size(path: &Path) -> u64 {
    fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

/// `path` with `suffix` appended to its file name (`db` -> `db-wal`).
pub(crate) fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

/// Main file plus WAL, in bytes.
pub(crate) fn size_on_disk(path: &Path) -> u64 {
    file_size(path) + file_size(&with_suffix(path, "-wal"))
}

/// Removes the database and every companion SQLite may have made.
pub(crate) fn remove_database_files(path: &Path) {
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let _ = fs::remove_file(with_suffix(path, suffix));
    }
}

/// Creates the folders above `path` that are missing.
pub(crate) fn create_parent_dirs(path: &Path) -> io::Result<()> {
    match path.parent().filter(|p| !p.as_os_str().is_empty()) {
        Some(parent) => fs::create_dir_all(parent),
        None => Ok(()),
    }
}

/// Creates `path` empty with `mode`; never opens an existing file, so the
/// file never exists with wider permissions than asked.
pub(crate) fn create_new(path: &Path, mode: u32) -> io::Result<()> {
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
        .map(drop)
}

/// (device, inode) of `path`: what a store checks to notice its file was
/// unlinked or replaced under it.
pub(crate) fn identity(path: &Path) -> Option<(u64, u64)> {
    fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

/// `<db dir>/backups`, where default backups of `db_path` go.
pub(crate) fn backup_dir(db_path: &Path) -> PathBuf {
    db_path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .join(BACKUP_DIR)
}

/// The file stem backups of `db_path` are named after.
pub(crate) fn backup_stem(db_path: &Path) -> String {
    db_path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "gmstore".into())
}
