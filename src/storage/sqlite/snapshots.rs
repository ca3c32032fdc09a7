//! Snapshot copies, restore and compaction of a SQLite store.

use std::path::Path;

use rusqlite::backup::Backup;
use rusqlite::{Connection, OpenFlags};

use super::backup_file::{copy_snapshot, verify_database};
use super::migrations;
use crate::error::{invalid, Error, Result};
use crate::storage::Snapshots;

impl Snapshots for Connection {
    fn copy_to_new_file(&self, dest: &Path, label: &str, taken_at: f64) -> Result<i64> {
        copy_snapshot(self, label, dest, taken_at)
    }

    fn replace_content_from(&mut self, backup: &Path) -> Result<()> {
        verify_database(backup)?;
        let src = Connection::open_with_flags(backup, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
        {
            let copy = Backup::new(&src, self)?;
            copy.step(-1).map_err(|e| match Error::from(e) {
                Error::ReadOnly(m) => Error::InvalidArgument(format!(
                    "backup: cannot restore over a WAL database with another page size ({m})"
                )),
                other => other,
            })?;
        }
        migrations::migrate(self)?;
        Ok(())
    }

    fn compact(&self, checkpoint: bool) -> Result<()> {
        self.execute_batch("VACUUM")?;
        if checkpoint {
            self.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        }
        Ok(())
    }

    fn compact_into(&self, dest: &Path) -> Result<()> {
        let dest_text = dest
            .to_str()
            .ok_or_else(|| invalid("dest", "path is not valid UTF-8"))?;
        self.execute("VACUUM INTO ?1", [dest_text])?;
        Ok(())
    }

    fn checkpoint_log(&self) -> Result<i64> {
        Ok(self.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get::<_, i64>(2))?)
    }
}
