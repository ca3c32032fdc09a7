//! Concepts, on SQLite.

use rusqlite::{params, Connection, OptionalExtension, Row};

use crate::error::Result;
use crate::records::Concept;
use crate::storage::ConceptRows;
use crate::validate;

/// The columns every query reads, in `from_row`'s order. A macro so the
/// statements below are compile-time constants, not formatted per call.
macro_rules! columns {
    () => {
        "id, name, embedding, creation_time, access_count, last_accessed, metadata"
    };
}
const BY_ID: &str = concat!("SELECT ", columns!(), " FROM concepts WHERE id = ?1");
const ACCESS_BY_NAME: &str = concat!(
    "UPDATE concepts SET access_count = coalesce(access_count, 0) + 1, last_accessed = ?2 \
     WHERE name = ?1 RETURNING ",
    columns!()
);
const BY_NAME: &str = concat!("SELECT ", columns!(), " FROM concepts WHERE name = ?1");
const ADD_ACCESSES: &str = "UPDATE concepts SET access_count = coalesce(access_count, 0) + ?2, \
     last_accessed = max(coalesce(last_accessed, 0), ?3) WHERE id = ?1";
/// The ids a search returns, in order. Only (access count, id) pairs are
/// sorted: sorting whole rows, embeddings included, made SQLite's sorter
/// move every blob and cost six times the scan; the rows are then read by id.
const SEARCH_IDS: &str = "SELECT id FROM concepts WHERE name LIKE '%' || ?1 || '%' ESCAPE '\\' \
     ORDER BY access_count DESC, id ASC LIMIT ?2";
/// The same for an empty query, which matches every name: without the name
/// test the access-count index alone answers it, no row is read.
const ALL_IDS: &str = "SELECT id FROM concepts WHERE ?1 = '' ORDER BY access_count DESC, id ASC LIMIT ?2";

fn from_row(row: &Row<'_>) -> rusqlite::Result<Concept> {
    let id: i64 = row.get(0)?;
    read_row(row, id).map_err(|e| super::errors::damaged_row("concept", id, e))
}

fn read_row(row: &Row<'_>, id: i64) -> rusqlite::Result<Concept> {
    let blob = row.get_ref(2)?.as_blob().map_err(|_| {
        rusqlite::Error::InvalidColumnType(
            2,
            "embedding".into(),
            row.get_ref(2)
                .map_or(rusqlite::types::Type::Null, |v| v.data_type()),
        )
    })?;
    let embedding = validate::blob_to_embedding(blob).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(2, rusqlite::types::Type::Blob, Box::new(e))
    })?;
    Ok(Concept {
        id,
        name: row.get(1)?,
        embedding,
        creation_time: row.get(3)?,
        access_count: row.get::<_, Option<i64>>(4)?.unwrap_or(0),
        last_accessed: row.get::<_, Option<f64>>(5)?.unwrap_or(0.0),
        metadata: row.get::<_, Option<String>>(6)?.unwrap_or_else(|| "{}".into()),
    })
}

impl ConceptRows for Connection {
    fn upsert_concept(
        &self,
        name: &str,
        blob: &[u8],
        creation_time: Option<f64>,
        metadata: Option<&str>,
        now: f64,
    ) -> Result<i64> {
        let updated = self
            .prepare_cached(
                "UPDATE OR FAIL concepts SET embedding = ?2, \
                 creation_time = coalesce(?3, creation_time), metadata = coalesce(?4, metadata) \
                 WHERE name = ?1",
            )?
            .execute(params![name, blob, creation_time, metadata])?;
        if updated == 0 {
            self.prepare_cached(
                "INSERT OR FAIL INTO concepts (name, embedding, creation_time, metadata) \
                 VALUES (?1, ?2, coalesce(?3, ?5), coalesce(?4, '{}'))",
            )?
            .execute(params![name, blob, creation_time, metadata, now])?;
            return Ok(self.last_insert_rowid());
        }
        Ok(self
            .prepare_cached("SELECT id FROM concepts WHERE name = ?1")?
            .query_row([name], |r| r.get(0))?)
    }

    fn concept(&self, id: i64) -> Result<Option<Concept>> {
        Ok(self.prepare_cached(BY_ID)?.query_row([id], from_row).optional()?)
    }

    fn concepts_by_id(&self, ids: &[i64]) -> Result<Vec<Concept>> {
        let mut stmt = self.prepare_cached(BY_ID)?;
        let concepts = ids.iter().map(|&id| stmt.query_row([id], from_row));
        Ok(concepts.collect::<rusqlite::Result<_>>()?)
    }

    fn concept_by_name(&self, name: &str) -> Result<Option<Concept>> {
        Ok(self
            .prepare_cached(BY_NAME)?
            .query_row([name], from_row)
            .optional()?)
    }

    fn concept_by_name_counted(&self, name: &str, now: f64) -> Result<Option<Concept>> {
        Ok(self
            .prepare_cached(ACCESS_BY_NAME)?
            .query_row(params![name, now], from_row)
            .optional()?)
    }

    fn add_accesses(&self, id: i64, count: i64, last: f64) -> Result<()> {
        self.prepare_cached(ADD_ACCESSES)?
            .execute(params![id, count, last])?;
        Ok(())
    }

    fn concept_ids_by_access(&self, like_pattern: &str, limit: i64) -> Result<Vec<i64>> {
        let sql = if like_pattern.is_empty() {
            ALL_IDS
        } else {
            SEARCH_IDS
        };
        let mut stmt = self.prepare_cached(sql)?;
        let ids = stmt.query_map(params![like_pattern, limit], |r| r.get::<_, i64>(0))?;
        Ok(ids.collect::<rusqlite::Result<_>>()?)
    }
}
