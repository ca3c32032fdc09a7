//! The concepts as the k-NN cache reads them, on SQLite.

use rusqlite::{params, Connection, OptionalExtension};

use super::change_log::ChangeLog;
use crate::error::{Error, Result};
use crate::storage::{Changes, ConceptFeed, ContentMark, MetaRows, Start};
use crate::{meta, validate};

impl ConceptFeed for Connection {
    fn commit_probe(&self) -> Result<i64> {
        // Moves only when another connection commits to the file.
        Ok(self
            .prepare_cached("PRAGMA data_version")?
            .query_row([], |r| r.get(0))?)
    }

    fn content_mark(&self) -> Result<ContentMark> {
        Ok(ContentMark {
            seq: ChangeLog::Concepts.max_seq(self)?,
            incarnation: self.meta_get(meta::INCARNATION)?,
            snapshot: None,
        })
    }

    fn changes_since(&self, mark: &ContentMark) -> Result<Changes> {
        let changed = ChangeLog::Concepts.ids_since(self, mark.seq)?;
        let now = self.content_mark()?;
        // A log that went backwards, or a new incarnation: a restore.
        let replaced = now.seq < mark.seq || now.incarnation != mark.incarnation;
        Ok(match changed {
            Some(ids) if !replaced => Changes::Since(ids, now),
            _ => Changes::Unknown,
        })
    }

    fn concept_count(&self) -> Result<usize> {
        // count(*) alone reads only page headers, not rows.
        let count: i64 = self.query_row("SELECT count(*) FROM concepts", [], |r| r.get(0))?;
        Ok(usize::try_from(count).unwrap_or(0))
    }

    fn embedding(&self, id: i64) -> Result<Option<Vec<f32>>> {
        let blob: Option<Vec<u8>> = self
            .prepare_cached("SELECT embedding FROM concepts WHERE id = ?1")?
            .query_row([id], |r| r.get(0))
            .optional()?;
        blob.map(|b| validate::blob_to_embedding(&b).map_err(|e| e.context(&format!("concept {id}"))))
            .transpose()
    }

    fn each_embedding(
        &self,
        start: Start,
        limit: usize,
        f: &mut dyn FnMut(i64, &[u8]) -> Result<()>,
    ) -> Result<()> {
        let sql = match start {
            Start::LowestId => "SELECT id, embedding FROM concepts ORDER BY id LIMIT ?1",
            Start::HighestId => "SELECT id, embedding FROM concepts ORDER BY id DESC LIMIT ?1",
        };
        let mut stmt = self.prepare(sql)?;
        let mut rows = stmt.query([i64::try_from(limit).unwrap_or(i64::MAX)])?;
        while let Some(row) = rows.next()? {
            let id: i64 = row.get(0)?;
            let blob = row
                .get_ref(1)?
                .as_blob()
                .map_err(|e| Error::Corrupt(format!("concept {id}: embedding: {e}")))?;
            f(id, blob)?;
        }
        Ok(())
    }

    fn ids_matching(&self, like_pattern: Option<&str>, min_access_count: Option<i64>) -> Result<Vec<i64>> {
        let mut stmt = self.prepare_cached(
            "SELECT id FROM concepts WHERE (?1 IS NULL OR name LIKE '%' || ?1 || '%' ESCAPE '\\') \
             AND (?2 IS NULL OR coalesce(access_count, 0) >= ?2)",
        )?;
        let ids = stmt.query_map(params![like_pattern, min_access_count], |r| r.get::<_, i64>(0))?;
        Ok(ids.collect::<rusqlite::Result<_>>()?)
    }

    fn names(&self, ids: &[i64]) -> Result<Vec<String>> {
        let mut stmt = self.prepare_cached("SELECT name FROM concepts WHERE id = ?1")?;
        ids.iter()
            .map(|&id| {
                Ok(stmt.query_row([id], |r| {
                    r.get(0).map_err(|e| super::errors::damaged_row("concept", id, e))
                })?)
            })
            .collect()
    }
}
