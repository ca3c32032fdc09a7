//! Semantic search and graph traversal across the C ABI.

use std::ffi::c_char;

use super::boundary::{boundary, opt_out, opt_text, out, quiet_boundary, slice, text};
use super::concepts::name_match;
use super::handle::{gm_store, store_ref};
use super::results::{arena_list, free_list, into_list, text_size, Arena, CRecord};
use crate::error::{invalid, Result};
use crate::search::{Metric, Neighbor, SearchFilter};
use crate::status::*;
use crate::validate::MAX_EMBEDDING_DIM;

/// k-NN metrics (`metric`).
#[repr(u32)]
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum gm_metric {
    /// `metric`: cosine similarity, best first.
    GM_METRIC_COSINE = 0,
    /// `metric`: dot product, best first.
    GM_METRIC_DOT = 1,
    /// `metric`: Euclidean distance, nearest (smallest) first.
    GM_METRIC_L2 = 2,
}

/// [`gm_metric::GM_METRIC_COSINE`] as the number the C ABI passes.
pub const GM_METRIC_COSINE: u32 = gm_metric::GM_METRIC_COSINE as u32;
/// [`gm_metric::GM_METRIC_DOT`] as the number the C ABI passes.
pub const GM_METRIC_DOT: u32 = gm_metric::GM_METRIC_DOT as u32;
/// [`gm_metric::GM_METRIC_L2`] as the number the C ABI passes.
pub const GM_METRIC_L2: u32 = gm_metric::GM_METRIC_L2 as u32;
/// Most queries one batch call accepts.
pub const GM_MAX_QUERIES: usize = 1_000_000;
/// Largest `k` a k-NN call accepts.
pub const GM_MAX_K: usize = 100_000;
const _: () = assert!(GM_MAX_K == crate::search::MAX_K);

/// Filters applied during a k-NN scan. Plain data owned by the caller;
/// zero-initialise it for "no filter".
#[repr(C)]
pub struct gm_search_filter {
    /// Keep names containing this (LIKE wildcards work unless `name_match`
    /// is `GM_MATCH_LITERAL`); NULL for any.
    pub name_pattern: *const c_char,
    /// Keep concepts accessed at least this often; used when
    /// `has_min_access_count` is 1.
    pub min_access_count: i64,
    /// 1 to apply `min_access_count`, 0 to ignore it.
    pub has_min_access_count: u8,
    /// How `name_pattern` is read: `GM_MATCH_LIKE` (0, the default of a
    /// zeroed filter) or `GM_MATCH_LITERAL`.
    pub name_match: u8,
    /// Reserved; must be 0.
    pub reserved: [u8; 6],
}

/// One k-NN result. Pointers live as long as the list that holds it.
#[repr(C)]
pub struct gm_neighbor {
    /// Concept id.
    pub id: i64,
    /// Cosine or dot similarity, or Euclidean distance for L2.
    pub score: f64,
    /// Index of the query this answers (0 for single queries).
    pub query: u64,
    /// NUL-terminated UTF-8.
    pub name: *const c_char,
    /// Byte length of `name`, without the NUL.
    pub name_len: usize,
}

/// k-NN results, best first, grouped by query in query order. Owned by the
/// caller, freed with `gm_neighbor_list_free`.
#[repr(C)]
pub struct gm_neighbor_list {
    /// The records, `len` of them.
    pub items: *const gm_neighbor,
    /// How many records `items` holds.
    pub len: usize,
    /// The block every string and blob of the records lies in.
    pub arena: *const u8,
    /// Bytes in `arena`.
    pub arena_len: usize,
}

arena_list!(gm_neighbor_list of gm_neighbor);

impl CRecord for (u64, Neighbor) {
    type C = gm_neighbor;

    fn arena_size(&self) -> (usize, usize) {
        (text_size(&self.1.name), 0)
    }

    fn to_c(&self, arena: &mut Arena) -> gm_neighbor {
        gm_neighbor {
            id: self.1.id,
            score: self.1.score,
            query: self.0,
            name: arena.text(&self.1.name),
            name_len: self.1.name.len(),
        }
    }
}

fn metric(code: u32) -> Result<Metric> {
    match code {
        GM_METRIC_COSINE => Ok(Metric::Cosine),
        GM_METRIC_DOT => Ok(Metric::Dot),
        GM_METRIC_L2 => Ok(Metric::L2),
        other => Err(invalid("metric", format!("unknown metric {other}"))),
    }
}

unsafe fn search_filter<'a>(filter: *const gm_search_filter) -> Result<SearchFilter<'a>> {
    let Some(f) = filter.as_ref() else {
        return Ok(SearchFilter::default());
    };
    if f.reserved != [0; 6] {
        return Err(invalid("filter.reserved", "must be 0"));
    }
    Ok(SearchFilter {
        name_pattern: opt_text(f.name_pattern, "filter.name_pattern")?,
        name_match: name_match(f.name_match.into(), "filter.name_match")?,
        min_access_count: super::boundary::flag(f.has_min_access_count, "filter.has_min_access_count")?
            .then_some(f.min_access_count),
    })
}

fn neighbor_list(groups: Vec<Vec<Neighbor>>) -> *mut gm_neighbor_list {
    let flat: Vec<(u64, Neighbor)> = groups
        .into_iter()
        .enumerate()
        .flat_map(|(q, g)| g.into_iter().map(move |n| (q as u64, n)))
        .collect();
    into_list(&flat, gm_neighbor_list::from)
}

/// Writes the `k` concepts nearest to `query` (`dim` floats) to
/// `*out_list`, best first (for `GM_METRIC_L2`, smallest distance first),
/// free with `gm_neighbor_list_free`. `filter` may be NULL. Exact: the
/// order equals a float64 brute force. The first search builds an
/// in-memory matrix of every embedding (unless `knn_cache` is 0); later
/// ones refresh only rows changed by any writer. Thread-safe; searches on
/// one store take turns on the cache.
#[no_mangle]
pub unsafe extern "C" fn gm_nearest_concepts(
    store: *mut gm_store,
    query: *const f32,
    dim: usize,
    metric_code: u32,
    k: usize,
    filter: *const gm_search_filter,
    out_list: *mut *mut gm_neighbor_list,
) -> gm_status {
    boundary("gm_nearest_concepts", || {
        let out_list = out(out_list, "out_list", std::ptr::null_mut())?;
        let store = store_ref(store)?;
        let query = slice(query, dim, "query", MAX_EMBEDDING_DIM)?;
        let found = store.nearest_concepts(query, k, metric(metric_code)?, &search_filter(filter)?)?;
        out_list.set(neighbor_list(vec![found]));
        Ok(())
    })
}

/// As `gm_nearest_concepts` for `count` queries of `dim` floats each,
/// row-major in `queries`, computed as blocked matrix products. Results of
/// query i carry `query == i` and come in query order. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn gm_nearest_concepts_batch(
    store: *mut gm_store,
    queries: *const f32,
    count: usize,
    dim: usize,
    metric_code: u32,
    k: usize,
    filter: *const gm_search_filter,
    out_list: *mut *mut gm_neighbor_list,
) -> gm_status {
    boundary("gm_nearest_concepts_batch", || {
        let out_list = out(out_list, "out_list", std::ptr::null_mut())?;
        let store = store_ref(store)?;
        if count > GM_MAX_QUERIES || dim > MAX_EMBEDDING_DIM {
            return Err(invalid("queries", format!("{count} x {dim} exceeds the limits")));
        }
        let values = slice(
            queries,
            count * dim,
            "queries",
            GM_MAX_QUERIES * MAX_EMBEDDING_DIM,
        )?;
        let found =
            store.nearest_concepts_batch(values, dim, k, metric(metric_code)?, &search_filter(filter)?)?;
        out_list.set(neighbor_list(found));
        Ok(())
    })
}

/// Frees a k-NN result list. NULL is a no-op.
#[no_mangle]
pub unsafe extern "C" fn gm_neighbor_list_free(list: *mut gm_neighbor_list) {
    quiet_boundary((), || free_list::<gm_neighbor_list, gm_neighbor>(list))
}

/// Connects every ordered pair of concepts with cosine similarity at least
/// `threshold` (in [0, 1]), or with `top_k` > 0 each concept to its `top_k`
/// most similar above it, as `relationship_type` edges whose strength is
/// the similarity. Blocked matrix products, one transaction. Writes the
/// number of edges to `*out_edges` (may be NULL). Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn gm_build_similarity_graph(
    store: *mut gm_store,
    threshold: f64,
    top_k: usize,
    relationship_type: *const c_char,
    out_edges: *mut i64,
) -> gm_status {
    boundary("gm_build_similarity_graph", || {
        let out_edges = opt_out(out_edges, 0);
        let store = store_ref(store)?;
        let edges =
            store.build_similarity_graph(threshold, top_k, text(relationship_type, "relationship_type")?)?;
        if let Some(slot) = out_edges {
            slot.set(edges as i64);
        }
        Ok(())
    })
}

/// Where a handle's k-NN matrix came from (`gm_knn_matrix_source`).
#[repr(u32)]
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum gm_matrix_source {
    /// No search has needed the matrix yet (or the cache is off).
    GM_MATRIX_NOT_LOADED = 0,
    /// Built from the store, every row read.
    GM_MATRIX_BUILT = 1,
    /// Read from the snapshot file, then brought up to date from the
    /// change log.
    GM_MATRIX_SNAPSHOT = 2,
}

const GM_MATRIX_NOT_LOADED_CODE: u32 = gm_matrix_source::GM_MATRIX_NOT_LOADED as u32;

/// Keeps this handle's k-NN matrix in the file at `path` (NUL-terminated
/// UTF-8; NULL: in no file). The first search after this reads the file
/// instead of every concept, if it is an intact snapshot of this store
/// (the same SQLite file, not a copy or a restored one; the same server
/// store), and applies what the change log says changed since; otherwise
/// it builds the matrix from the store as before. `gm_close` writes the
/// matrix back if its rows changed; so does `gm_save_knn_snapshot`. The
/// file is a cache (delete it at will), written through a temporary file
/// and a rename with `file_mode`. For a server store the file is on this
/// machine. `path` is only read during the call.
///
/// Errors: `GM_ERR_INVALID_ARGUMENT` for a path that is not UTF-8, an
/// in-memory store, or a store opened with `knn_cache` = 0. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn gm_set_knn_snapshot(store: *mut gm_store, path: *const c_char) -> gm_status {
    boundary("gm_set_knn_snapshot", || {
        let store = store_ref(store)?;
        let path = opt_text(path, "path")?;
        store.set_knn_snapshot(path.map(std::path::Path::new))
    })
}

/// Writes the k-NN matrix to the snapshot file now (a long-running
/// process that may not close cleanly) if its rows changed since it was
/// loaded or last saved; `*out_saved` (may be NULL) is 1 if it wrote, 0 if
/// there was nothing to write (no snapshot file set, no matrix built yet,
/// nothing changed). Errors: `GM_ERR_IO` when the file cannot be written
/// (the matrix in memory is unaffected). Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn gm_save_knn_snapshot(store: *mut gm_store, out_saved: *mut u8) -> gm_status {
    boundary("gm_save_knn_snapshot", || {
        let out_saved = opt_out(out_saved, 0);
        let saved = store_ref(store)?.save_knn_snapshot()?;
        if let Some(slot) = out_saved {
            slot.set(u8::from(saved));
        }
        Ok(())
    })
}

/// Writes where this handle's k-NN matrix came from to `*out_source`, a
/// `gm_matrix_source` value: to check that a snapshot was used. Errors:
/// `GM_ERR_INVALID_ARGUMENT` if `out_source` is NULL. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn gm_knn_matrix_source(store: *mut gm_store, out_source: *mut u32) -> gm_status {
    boundary("gm_knn_matrix_source", || {
        let out_source = out(out_source, "out_source", GM_MATRIX_NOT_LOADED_CODE)?;
        let source = match store_ref(store)?.knn_matrix_source() {
            crate::MatrixSource::Built => gm_matrix_source::GM_MATRIX_BUILT,
            crate::MatrixSource::Snapshot => gm_matrix_source::GM_MATRIX_SNAPSHOT,
            _ => gm_matrix_source::GM_MATRIX_NOT_LOADED,
        };
        out_source.set(source as u32);
        Ok(())
    })
}
