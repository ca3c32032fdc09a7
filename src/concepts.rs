//! Semantic memory: named concepts with float32 embeddings.

use rusqlite::{params, Connection, OptionalExtension, Row};

use crate::error::{invalid, Result};
use crate::store::{now, Store};
use crate::validate;

/// How a name query is read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum NameMatch {
    /// A SQL LIKE pattern, as in the seed: `%` matches any run of
    /// characters and `_` any one character.
    #[default]
    Like,
    /// Plain text: `%`, `_` and `\` match only themselves (game names are
    /// full of underscores: `level_1` must not match `levelX1`).
    Literal,
}

impl NameMatch {
    /// The LIKE pattern (with `\` as the escape character) that finds
    /// names containing `query`.
    pub(crate) fn like_pattern(self, query: &str) -> std::borrow::Cow<'_, str> {
        let needs_escape = |c: char| matches!(c, '%' | '_' | '\\');
        match self {
            NameMatch::Literal if query.contains(needs_escape) => query
                .chars()
                .flat_map(|c| needs_escape(c).then_some('\\').into_iter().chain([c]))
                .collect::<String>()
                .into(),
            // A backslash in a seed-style pattern stays an ordinary
            // character: it is doubled so the ESCAPE clause leaves it alone.
            NameMatch::Like if query.contains('\\') => query.replace('\\', "\\\\").into(),
            _ => query.into(),
        }
    }
}

/// A stored concept, as the seed's `Concept` dataclass.
#[derive(Debug, Clone, PartialEq)]
pub struct Concept {
    pub id: i64,
    pub name: String,
    pub embedding: Vec<f32>,
    pub creation_time: f64,
    pub access_count: i64,
    pub last_accessed: f64,
    /// A JSON object, as text.
    pub metadata: String,
}

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
const SEARCH: &str = concat!(
    "SELECT ",
    columns!(),
    " FROM concepts WHERE name LIKE '%' || ?1 || '%' ESCAPE '\\' ORDER BY access_count DESC, id ASC LIMIT ?2"
);
const DIM_KEY: &str = "embedding_dim";

fn from_row(row: &Row<'_>) -> rusqlite::Result<Concept> {
    let blob: Vec<u8> = row.get(2)?;
    let embedding = validate::blob_to_embedding(&blob).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(2, rusqlite::types::Type::Blob, Box::new(e))
    })?;
    Ok(Concept {
        id: row.get(0)?,
        name: row.get(1)?,
        embedding,
        creation_time: row.get(3)?,
        access_count: row.get::<_, Option<i64>>(4)?.unwrap_or(0),
        last_accessed: row.get::<_, Option<f64>>(5)?.unwrap_or(0.0),
        metadata: row.get::<_, Option<String>>(6)?.unwrap_or_else(|| "{}".into()),
    })
}

pub(crate) fn stored_dim(conn: &Connection) -> Result<Option<usize>> {
    let text: Option<String> = conn
        .prepare_cached("SELECT value FROM gm_meta WHERE key = ?1")?
        .query_row([DIM_KEY], |r| r.get(0))
        .optional()?;
    Ok(text.and_then(|t| t.parse().ok()))
}

/// Checks `dim` against the store's fixed dimension. Returns true when no
/// dimension is fixed yet, so the caller records it after its own write.
/// `field` names what the caller passed, for the error message.
fn check_dim(conn: &Connection, dim: usize, field: &str) -> Result<bool> {
    match stored_dim(conn)? {
        Some(stored) if stored == dim => Ok(false),
        Some(stored) => Err(invalid(
            field,
            format!("dimension {dim} does not match the store's {stored}"),
        )),
        None => Ok(true),
    }
}

fn record_dim(conn: &Connection, dim: usize) -> Result<()> {
    conn.prepare_cached("INSERT INTO gm_meta(key, value) VALUES (?1, ?2)")?
        .execute(params![DIM_KEY, dim.to_string()])?;
    Ok(())
}

pub(crate) fn fix_dim(conn: &Connection, dim: usize) -> Result<()> {
    if check_dim(conn, dim, "embedding_dim")? {
        record_dim(conn, dim)?;
    }
    Ok(())
}

impl Store {
    /// Stores a concept, or updates the one with the same name: the id and
    /// access statistics are kept, the embedding replaced, and metadata and
    /// creation time replaced only when given. Returns the concept id.
    pub fn store_concept(
        &self,
        name: &str,
        embedding: &[f32],
        metadata: Option<&str>,
        creation_time: Option<f64>,
    ) -> Result<i64> {
        let name = validate::non_empty("name", name)?;
        let blob = validate::embedding_to_blob(validate::embedding(embedding)?);
        let metadata = validate::json_object("metadata", metadata)?;
        let creation_time = validate::finite_opt("creation_time", creation_time)?;
        // Only the first concept, which also records the dimension, needs
        // a savepoint; for every later one the upsert is the only write, and
        // a savepoint would copy each 16 KiB page it touches to the
        // sub-journal first.
        self.write(|conn| {
            let upsert = |conn: &Connection| -> Result<i64> {
                let updated = conn
                    .prepare_cached(
                        "UPDATE OR FAIL concepts SET embedding = ?2, \
                         creation_time = coalesce(?3, creation_time), metadata = coalesce(?4, metadata) \
                         WHERE name = ?1",
                    )?
                    .execute(params![name, blob, creation_time, metadata])?;
                if updated == 0 {
                    conn.prepare_cached(
                        "INSERT OR FAIL INTO concepts (name, embedding, creation_time, metadata) \
                         VALUES (?1, ?2, coalesce(?3, ?5), coalesce(?4, '{}'))",
                    )?
                    .execute(params![name, blob, creation_time, metadata, now()])?;
                    return Ok(conn.last_insert_rowid());
                }
                Ok(conn
                    .prepare_cached("SELECT id FROM concepts WHERE name = ?1")?
                    .query_row([name], |r| r.get(0))?)
            };
            if !check_dim(conn, embedding.len(), "embedding")? {
                return upsert(conn);
            }
            crate::store::atomically(conn, |conn| {
                let id = upsert(conn)?;
                record_dim(conn, embedding.len())?;
                Ok(id)
            })
        })
    }

    /// The concept with this id, or `None`. Does not count as an access.
    pub fn retrieve_concept(&self, id: i64) -> Result<Option<Concept>> {
        let id = validate::id("concept_id", id)?;
        self.read(|conn| Ok(conn.prepare_cached(BY_ID)?.query_row([id], from_row).optional()?))
    }

    /// The concept with this name, or `None`. Atomically increments its
    /// `access_count` and sets `last_accessed` to now; the returned concept
    /// shows the updated values.
    pub fn retrieve_concept_by_name(&self, name: &str) -> Result<Option<Concept>> {
        let name = validate::non_empty("name", name)?;
        self.write(|conn| {
            Ok(conn
                .prepare_cached(ACCESS_BY_NAME)?
                .query_row(params![name, now()], from_row)
                .optional()?)
        })
    }

    /// Concepts whose name contains `query`, most accessed first, as the
    /// seed's call: `%` and `_` in `query` act as SQL LIKE wildcards; `""`
    /// matches every concept. Matching is case-insensitive for ASCII
    /// letters, as LIKE is. [`Store::search_concepts_matching`] with
    /// [`NameMatch::Literal`] searches for `_` and `%` themselves.
    pub fn search_concepts(&self, query: &str, limit: i64) -> Result<Vec<Concept>> {
        self.search_concepts_matching(query, NameMatch::Like, limit)
    }

    /// As [`Store::search_concepts`], with `query` read as `matching` says.
    pub fn search_concepts_matching(
        &self,
        query: &str,
        matching: NameMatch,
        limit: i64,
    ) -> Result<Vec<Concept>> {
        let limit = validate::limit(limit)?;
        let pattern = matching.like_pattern(query);
        self.read(|conn| {
            let mut stmt = conn.prepare_cached(SEARCH)?;
            let rows = stmt.query_map(params![pattern, limit], from_row)?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    /// How many concepts are stored.
    pub fn count_concepts(&self) -> Result<i64> {
        self.read(|conn| {
            Ok(conn
                .prepare_cached("SELECT count(*) FROM concepts")?
                .query_row([], |r| r.get(0))?)
        })
    }

    /// The store's embedding dimension, once fixed by the first concept or
    /// by `Options::embedding_dim`.
    pub fn embedding_dim(&self) -> Result<Option<usize>> {
        self.read(stored_dim)
    }
}
