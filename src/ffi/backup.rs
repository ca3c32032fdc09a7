//! Backups and maintenance across the C ABI.

use std::ffi::c_char;

use super::boundary::{boundary, opt_out, opt_text, out, text};
use super::handle::{gm_store, store_ref};
use super::results::hand_string;
use crate::status::*;

fn path_text(path: &std::path::Path) -> String {
    path.to_string_lossy().into_owned()
}

/// Backs the store up and writes the backup's path to `*out_path` (a
/// NUL-terminated string owned by the caller, freed with `gm_string_free`).
/// With `backup_path` NULL the backup goes to
/// `<db dir>/backups/<db stem>_<UTC stamp>.db` and only the newest
/// `max_backups` default backups are kept; otherwise to `backup_path`,
/// which must not exist. The copy is consistent while other threads and
/// processes write, does not block them, and is verified
/// (`integrity_check`) before it appears under its name. Files are created
/// with `file_mode` (default 0600). `GM_ERR_MISUSE` inside a transaction of
/// this thread. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn gm_create_backup(
    store: *mut gm_store,
    backup_path: *const c_char,
    out_path: *mut *mut c_char,
) -> gm_status {
    boundary("gm_create_backup", || {
        let out_path = out(out_path, "out_path", std::ptr::null_mut())?;
        let store = store_ref(store)?;
        let dest = opt_text(backup_path, "backup_path")?.map(std::path::Path::new);
        let info = store.create_backup(dest)?;
        out_path.set(hand_string(&path_text(&info.path)));
        Ok(())
    })
}

/// Backs up to the default folder when `backup_interval` has passed since
/// the newest backup on disk. Writes the new backup's path to `*out_path`
/// (free with `gm_string_free`), or NULL when no backup was due. The last
/// backup time comes from the files on disk, so the interval holds across
/// restarts. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn gm_auto_backup_if_needed(
    store: *mut gm_store,
    out_path: *mut *mut c_char,
) -> gm_status {
    boundary("gm_auto_backup_if_needed", || {
        let out_path = out(out_path, "out_path", std::ptr::null_mut())?;
        let made = store_ref(store)?.auto_backup_if_needed()?;
        out_path.set(made.map_or(std::ptr::null_mut(), |info| hand_string(&path_text(&info.path))));
        Ok(())
    })
}

/// Replaces the store's content with the backup at `backup_path`, after
/// verifying it (a corrupt or foreign file is refused and the store left
/// untouched). The copy runs through SQLite's online backup API into the
/// open store as one transaction: other threads and handles see the old
/// content or the new, never a mix, and a crash leaves one of them whole.
/// `GM_ERR_MISUSE` inside a transaction of this thread. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn gm_restore(store: *mut gm_store, backup_path: *const c_char) -> gm_status {
    boundary("gm_restore", || {
        let store = store_ref(store)?;
        store.restore(std::path::Path::new(text(backup_path, "backup_path")?))
    })
}

/// Rebuilds the database file to reclaim free pages and writes the bytes
/// reclaimed on disk to `*out_reclaimed` (may be NULL). Waits for, then
/// blocks, other writers while it runs. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn gm_vacuum(store: *mut gm_store, out_reclaimed: *mut u64) -> gm_status {
    boundary("gm_vacuum", || {
        let out_reclaimed = opt_out(out_reclaimed, 0);
        let reclaimed = store_ref(store)?.vacuum()?;
        if let Some(slot) = out_reclaimed {
            slot.set(reclaimed);
        }
        Ok(())
    })
}

/// Writes a compacted, verified copy of the store to the new file
/// `dest_path` (`VACUUM INTO`). Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn gm_vacuum_into(store: *mut gm_store, dest_path: *const c_char) -> gm_status {
    boundary("gm_vacuum_into", || {
        let store = store_ref(store)?;
        store
            .vacuum_into(std::path::Path::new(text(dest_path, "dest_path")?))
            .map(|_| ())
    })
}

/// Copies the write-ahead log into the main file and truncates it; writes
/// the number of frames checkpointed to `*out_frames` (may be NULL).
/// Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn gm_checkpoint(store: *mut gm_store, out_frames: *mut i64) -> gm_status {
    boundary("gm_checkpoint", || {
        let out_frames = opt_out(out_frames, 0);
        let frames = store_ref(store)?.checkpoint()?;
        if let Some(slot) = out_frames {
            slot.set(frames);
        }
        Ok(())
    })
}
