//! Semantic memory: named concepts with float32 embeddings.

use std::sync::MutexGuard;

use crate::access_log::Pending;
use crate::clock::now;
use crate::error::{Error, Result};
pub use crate::records::Concept;
use crate::storage::{ConceptRows, Table};
use crate::store::Store;
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
            let upsert =
                |conn: &dyn ConceptRows| conn.upsert_concept(name, &blob, creation_time, metadata, now());
            if !conn.check_embedding_dim(embedding.len(), "embedding")? {
                return upsert(conn);
            }
            crate::store::atomically(conn, |conn| {
                let id = upsert(conn)?;
                conn.record_embedding_dim(embedding.len())?;
                Ok(id)
            })
        })
    }

    /// The concept with this id, or `None`. Does not count as an access.
    pub fn retrieve_concept(&self, id: i64) -> Result<Option<Concept>> {
        let id = validate::id("concept_id", id)?;
        let found = self.read(|conn| conn.concept(id))?;
        found
            .map(|c| self.pending_accesses().map(|p| p.overlay(c)))
            .transpose()
    }

    /// The concept with this name, or `None`. Counts an access: its
    /// `access_count` goes up by one and `last_accessed` becomes now, and
    /// the returned concept shows the updated values. On a read-only store
    /// nothing is counted. Counts are kept in memory and written in one
    /// transaction at most a second later (or after 65,536 concepts), before
    /// any call of this handle that orders or filters by them, and at close;
    /// this handle's reads show them at once, other handles once written.
    /// Inside this thread's transaction the count is written at once and
    /// rolls back with it.
    pub fn retrieve_concept_by_name(&self, name: &str) -> Result<Option<Concept>> {
        let name = validate::non_empty("name", name)?;
        if self.in_transaction() {
            return self.write(|conn| conn.concept_by_name_counted(name, now()));
        }
        let found = self.read(|conn| conn.concept_by_name(name))?;
        let Some(concept) = found else { return Ok(None) };
        if self.options().read_only {
            return Ok(Some(concept));
        }
        let time = now();
        let mut pending = self.pending_accesses()?;
        let entry = pending.by_id.entry(concept.id).or_insert((0, time));
        entry.0 += 1;
        entry.1 = time;
        pending.oldest.get_or_insert(time);
        let concept = pending.overlay(concept);
        if pending.due(time) {
            drop(pending);
            self.flush_access_counts()?;
        }
        Ok(Some(concept))
    }

    fn pending_accesses(&self) -> Result<MutexGuard<'_, Pending>> {
        self.access_log
            .pending
            .lock()
            .map_err(|_| Error::Internal("access-count lock poisoned".into()))
    }

    /// Writes the access counts `retrieve_concept_by_name` kept in memory.
    /// Called before reads that order or filter by them, and at close.
    pub(crate) fn flush_access_counts(&self) -> Result<()> {
        let taken = std::mem::take(&mut *self.pending_accesses()?);
        if taken.by_id.is_empty() {
            return Ok(());
        }
        // In id order the updates walk the table and the count index
        // page by page instead of jumping: 4,096 random updates took 3x
        // as long.
        let mut updates: Vec<(&i64, &(i64, f64))> = taken.by_id.iter().collect();
        updates.sort_unstable_by_key(|(id, _)| **id);
        let written = self.write_atomic(|conn| {
            updates
                .into_iter()
                .try_for_each(|(&id, &(count, last))| conn.add_accesses(id, count, last))
        });
        if written.is_err() {
            // Kept for the next try rather than lost.
            let mut pending = self.pending_accesses()?;
            for (id, (count, last)) in taken.by_id {
                let entry = pending.by_id.entry(id).or_insert((0, last));
                entry.0 += count;
                entry.1 = entry.1.max(last);
            }
            pending.oldest = taken.oldest.into_iter().chain(pending.oldest).reduce(f64::min);
        }
        written
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
        // Ordered by access count: every counted access must be in it.
        self.flush_access_counts()?;
        let pattern = matching.like_pattern(query);
        self.read(|conn| {
            // One savepoint, so both statements read one snapshot: a row
            // deleted between them would otherwise be missing.
            crate::store::atomically(conn, |conn| {
                conn.concepts_by_id(&conn.concept_ids_by_access(&pattern, limit)?)
            })
        })
    }

    /// How many concepts are stored.
    pub fn count_concepts(&self) -> Result<i64> {
        self.read(|conn| conn.count_rows(Table::Concepts))
    }

    /// The store's embedding dimension, once fixed by the first concept or
    /// by `Options::embedding_dim`.
    pub fn embedding_dim(&self) -> Result<Option<usize>> {
        self.read(|conn| conn.embedding_dim())
    }
}
