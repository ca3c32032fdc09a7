//! Semantic search: exact k-nearest concepts by cosine, dot product or L2,
//! single or batched, over an in-memory float32 matrix of every embedding;
//! and the similarity graph built from it in one call.
//!
//! This file holds the public types and the `Store` k-NN calls;
//! `cache.rs` runs the cache's coherence protocol for a store and
//! `similarity.rs` builds the similarity graph. The algorithms themselves
//! (kernels, exact top-k, the matrix, the bulk build and refresh) live in
//! `crate::knn`, over the storage seam. Scores are scanned in float32
//! with SIMD; the best candidates are then re-scored in float64 so the
//! order equals a float64 brute force.

use crate::concepts::NameMatch;
use crate::error::{invalid, Error, Result};
use crate::storage::ConceptFeed;
use crate::store::Store;
use crate::validate;

mod cache;
mod similarity;
use crate::knn::matrix::Matrix;
pub use crate::knn::Metric;

/// Filters applied while scanning, before ranking.
#[derive(Debug, Clone, Default)]
pub struct SearchFilter<'a> {
    /// Keep names containing this, read as `name_match` says (by default
    /// a LIKE pattern: `%` and `_` are wildcards).
    pub name_pattern: Option<&'a str>,
    /// How `name_pattern` is read.
    pub name_match: NameMatch,
    /// Keep concepts accessed at least this often.
    pub min_access_count: Option<i64>,
}

impl SearchFilter<'_> {
    /// Whether it keeps every concept.
    pub fn is_empty(&self) -> bool {
        self.name_pattern.is_none() && self.min_access_count.is_none()
    }
}

/// One search result.
#[derive(Debug, Clone, PartialEq)]
pub struct Neighbor {
    /// Concept id.
    pub id: i64,
    /// Concept name.
    pub name: String,
    /// Cosine or dot similarity, or Euclidean distance for L2.
    pub score: f64,
}

/// Largest k accepted.
pub const MAX_K: usize = 100_000;

fn allowed_rows(conn: &dyn ConceptFeed, m: &Matrix, filter: &SearchFilter<'_>) -> Result<Option<Vec<usize>>> {
    if filter.is_empty() {
        return Ok(None);
    }
    let pattern = filter.name_pattern.map(|p| filter.name_match.like_pattern(p));
    let ids = conn.ids_matching(pattern.as_deref(), filter.min_access_count)?;
    let mut rows: Vec<usize> = ids.iter().filter_map(|id| m.row_of().get(id).copied()).collect();
    rows.sort_unstable();
    Ok(Some(rows))
}

fn names_of(conn: &dyn ConceptFeed, m: &Matrix, found: Vec<(usize, f64)>) -> Result<Vec<Neighbor>> {
    let ids: Vec<i64> = found.iter().map(|&(row, _)| m.ids[row]).collect();
    let names = conn.names(&ids)?;
    Ok(ids
        .into_iter()
        .zip(names)
        .zip(found)
        .map(|((id, name), (_, score))| Neighbor { id, name, score })
        .collect())
}

fn check_query(field: &str, values: &[f32], dim: Option<usize>) -> Result<usize> {
    validate::embedding(values).map_err(|e| match e {
        Error::InvalidArgument(m) => Error::InvalidArgument(m.replacen("embedding", field, 1)),
        other => other,
    })?;
    match dim {
        Some(d) if d == values.len() => Ok(d),
        Some(d) => Err(invalid(
            field,
            format!("dimension {} does not match the store's {d}", values.len()),
        )),
        None => Ok(values.len()),
    }
}

fn check_k(k: usize) -> Result<usize> {
    if k == 0 || k > MAX_K {
        return Err(invalid("k", format!("{k} is outside 1..={MAX_K}")));
    }
    Ok(k)
}

impl Store {
    /// The `k` concepts nearest to `query`, best first (for L2: smallest
    /// distance first), as (id, name, score). Exact: the order equals a
    /// float64 brute force over the stored float32 embeddings.
    pub fn nearest_concepts(
        &self,
        query: &[f32],
        k: usize,
        metric: Metric,
        filter: &SearchFilter<'_>,
    ) -> Result<Vec<Neighbor>> {
        let k = check_k(k)?;
        if filter.min_access_count.is_some() {
            self.flush_access_counts()?;
        }
        // A filtered search scores only the allowed rows: nothing to
        // compute while the matrix loads.
        self.with_matrix(filter.is_empty().then_some(query), |conn, m, dots| {
            if m.ids.is_empty() {
                return Ok(Vec::new());
            }
            check_query("query", query, Some(m.dim))?;
            let allowed = allowed_rows(conn, m, filter)?;
            names_of(conn, m, m.search(metric, query, k, allowed.as_deref(), dots))
        })
    }

    /// Nearest concepts for many queries at once (`queries` holds
    /// `queries.len() / dim` row-major vectors), computed as blocked matrix
    /// products. One result list per query.
    pub fn nearest_concepts_batch(
        &self,
        queries: &[f32],
        dim: usize,
        k: usize,
        metric: Metric,
        filter: &SearchFilter<'_>,
    ) -> Result<Vec<Vec<Neighbor>>> {
        let k = check_k(k)?;
        if dim == 0 || !queries.len().is_multiple_of(dim) {
            return Err(invalid(
                "queries",
                format!("{} values are not a whole number of {dim}-d rows", queries.len()),
            ));
        }
        if filter.min_access_count.is_some() {
            self.flush_access_counts()?;
        }
        self.with_matrix(None, |conn, m, _| {
            let nq = queries.len() / dim;
            if m.ids.is_empty() {
                return Ok(vec![Vec::new(); nq]);
            }
            for (i, q) in queries.chunks_exact(dim).enumerate() {
                check_query(&format!("queries[{i}]"), q, Some(m.dim))?;
            }
            let allowed = allowed_rows(conn, m, filter)?;
            m.search_batch(metric, queries, k, allowed.as_deref())
                .into_iter()
                .map(|found| names_of(conn, m, found))
                .collect()
        })
    }
}
