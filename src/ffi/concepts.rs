//! Concepts across the C ABI.

use std::ffi::c_char;

use super::boundary::{boundary, opt_f64, opt_text, out, quiet_boundary, slice, text};
use super::handle::{gm_store, store_ref};
use super::results::{free_list, free_one, into_list, into_one, text_size, Arena, CRecord};
use crate::error::{invalid, Result};
use crate::status::*;
use crate::validate::MAX_EMBEDDING_DIM;
use crate::{Concept, NameMatch};

/// A stored concept. Every pointer lives exactly as long as the result that
/// holds it (`gm_concept_free` or `gm_concept_list_free`).
#[repr(C)]
pub struct gm_concept {
    /// Concept id.
    pub id: i64,
    /// Unix time the concept was created.
    pub creation_time: f64,
    /// Unix time of the last retrieval, 0 if never.
    pub last_accessed: f64,
    /// How often it was retrieved.
    pub access_count: i64,
    /// NUL-terminated UTF-8.
    pub name: *const c_char,
    /// Byte length of `name`, without the NUL.
    pub name_len: usize,
    /// `embedding_len` float32 values.
    pub embedding: *const f32,
    /// Number of floats at `embedding`.
    pub embedding_len: usize,
    /// NUL-terminated UTF-8 JSON object.
    pub metadata: *const c_char,
    /// Byte length of `metadata`, without the NUL.
    pub metadata_len: usize,
}

/// A list of concepts, owned by the caller, freed with
/// `gm_concept_list_free`. Strings lie in `[arena, arena + arena_len)` and
/// embeddings, one after another in list order, in
/// `[floats, floats + floats_len)`: with one dimension D that block is a
/// row-major `len x D` matrix.
#[repr(C)]
pub struct gm_concept_list {
    /// The records, `len` of them.
    pub items: *const gm_concept,
    /// How many records `items` holds.
    pub len: usize,
    /// The block every string and blob of the records lies in.
    pub arena: *const u8,
    /// Bytes in `arena`.
    pub arena_len: usize,
    /// The block every embedding of the records lies in.
    pub floats: *const f32,
    /// Floats in `floats`.
    pub floats_len: usize,
}

impl CRecord for Concept {
    type C = gm_concept;

    fn arena_size(&self) -> (usize, usize) {
        (
            text_size(&self.name) + text_size(&self.metadata),
            self.embedding.len(),
        )
    }

    fn to_c(&self, arena: &mut Arena) -> gm_concept {
        gm_concept {
            id: self.id,
            creation_time: self.creation_time,
            last_accessed: self.last_accessed,
            access_count: self.access_count,
            name: arena.text(&self.name),
            name_len: self.name.len(),
            embedding: arena.floats(&self.embedding),
            embedding_len: self.embedding.len(),
            metadata: arena.text(&self.metadata),
            metadata_len: self.metadata.len(),
        }
    }
}

fn not_found(what: String) -> crate::Error {
    crate::Error::NotFound(what)
}

/// Stores the concept `name` with `dim` float32 components at `embedding`,
/// or updates the concept of that name (keeping its id and access counts).
/// `metadata` (a JSON object) and `creation_time` may be NULL: a new
/// concept then gets `{}` and now, an existing one keeps its values.
/// Writes the concept id to `*out_id`.
///
/// Errors: `GM_ERR_INVALID_ARGUMENT` for an empty or non-finite embedding,
/// a dimension other than the store's (the message gives both), or bad
/// metadata. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn gm_store_concept(
    store: *mut gm_store,
    name: *const c_char,
    embedding: *const f32,
    dim: usize,
    metadata: *const c_char,
    creation_time: *const f64,
    out_id: *mut i64,
) -> gm_status {
    boundary("gm_store_concept", || {
        let out_id = out(out_id, "out_id", 0)?;
        let store = store_ref(store)?;
        let name = text(name, "name")?;
        let embedding = slice(embedding, dim, "embedding", MAX_EMBEDDING_DIM)?;
        let metadata = opt_text(metadata, "metadata")?;
        out_id.set(store.store_concept(name, embedding, metadata, opt_f64(creation_time))?);
        Ok(())
    })
}

/// Writes the concept with id `id` to `*out_concept` (free with
/// `gm_concept_free`); `GM_ERR_NOT_FOUND` if there is none. Does not count
/// as an access. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn gm_get_concept(
    store: *mut gm_store,
    id: i64,
    out_concept: *mut *mut gm_concept,
) -> gm_status {
    boundary("gm_get_concept", || {
        let out_concept = out(out_concept, "out_concept", std::ptr::null_mut())?;
        let store = store_ref(store)?;
        let concept = store
            .retrieve_concept(id)?
            .ok_or_else(|| not_found(format!("concept_id: no concept with id {id}")))?;
        out_concept.set(into_one(&concept));
        Ok(())
    })
}

/// Writes the concept named `name` to `*out_concept` (free with
/// `gm_concept_free`) and counts an access: the result shows its access
/// count plus one and its last access time as now. The count is kept in
/// memory and written in one transaction within about a second, before any
/// call of this handle that orders or filters by counts (search,
/// `min_access_count`, raw SQL, backup, export) and at close; this handle
/// shows it at once, other handles once written. Inside this thread's
/// transaction it is written at once. A read-only store counts nothing.
/// `GM_ERR_NOT_FOUND` if there is none. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn gm_get_concept_by_name(
    store: *mut gm_store,
    name: *const c_char,
    out_concept: *mut *mut gm_concept,
) -> gm_status {
    boundary("gm_get_concept_by_name", || {
        let out_concept = out(out_concept, "out_concept", std::ptr::null_mut())?;
        let store = store_ref(store)?;
        let name = text(name, "name")?;
        let concept = store
            .retrieve_concept_by_name(name)?
            .ok_or_else(|| not_found(format!("name: no concept named '{name}'")))?;
        out_concept.set(into_one(&concept));
        Ok(())
    })
}

/// How a name pattern is read (`name_match`).
#[repr(u32)]
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum gm_name_match {
    /// `name_match`: the text is a SQL LIKE pattern (`%` any run, `_` any one
    /// character), as in the seed's `search_concepts`.
    GM_MATCH_LIKE = 0,
    /// `name_match`: the text is plain; `%`, `_` and `\` match only themselves.
    GM_MATCH_LITERAL = 1,
}

/// [`gm_name_match::GM_MATCH_LIKE`] as the number the C ABI passes.
pub const GM_MATCH_LIKE: u32 = gm_name_match::GM_MATCH_LIKE as u32;
/// [`gm_name_match::GM_MATCH_LITERAL`] as the number the C ABI passes.
pub const GM_MATCH_LITERAL: u32 = gm_name_match::GM_MATCH_LITERAL as u32;

pub(crate) fn name_match(code: u32, field: &str) -> Result<NameMatch> {
    match code {
        GM_MATCH_LIKE => Ok(NameMatch::Like),
        GM_MATCH_LITERAL => Ok(NameMatch::Literal),
        other => Err(invalid(field, format!("unknown match mode {other}"))),
    }
}

/// Writes the concepts whose name contains `query` (SQL LIKE wildcards `%`
/// and `_` work; "" matches all), most accessed first, at most `limit`, to
/// `*out_list` (free with `gm_concept_list_free`). ASCII letters match
/// either case. `gm_search_concepts_matching` with `GM_MATCH_LITERAL`
/// finds `_` and `%` themselves. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn gm_search_concepts(
    store: *mut gm_store,
    query: *const c_char,
    limit: i64,
    out_list: *mut *mut gm_concept_list,
) -> gm_status {
    gm_search_concepts_matching(store, query, GM_MATCH_LIKE, limit, out_list)
}

/// As `gm_search_concepts`, with `query` read as `name_match` says
/// (`GM_MATCH_LIKE` or `GM_MATCH_LITERAL`). Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn gm_search_concepts_matching(
    store: *mut gm_store,
    query: *const c_char,
    name_match: u32,
    limit: i64,
    out_list: *mut *mut gm_concept_list,
) -> gm_status {
    boundary("gm_search_concepts_matching", || {
        let out_list = out(out_list, "out_list", std::ptr::null_mut())?;
        let store = store_ref(store)?;
        let matching = self::name_match(name_match, "name_match")?;
        let concepts = store.search_concepts_matching(text(query, "query")?, matching, limit)?;
        out_list.set(into_list(&concepts, |p| gm_concept_list {
            items: p.items,
            len: p.len,
            arena: p.arena,
            arena_len: p.arena_len,
            floats: p.floats,
            floats_len: p.floats_len,
        }));
        Ok(())
    })
}

/// Writes the number of stored concepts to `*out_count`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn gm_count_concepts(store: *mut gm_store, out_count: *mut i64) -> gm_status {
    boundary("gm_count_concepts", || {
        let out_count = out(out_count, "out_count", 0)?;
        out_count.set(store_ref(store)?.count_concepts()?);
        Ok(())
    })
}

/// Writes the store's embedding dimension to `*out_dim`, or 0 while no
/// concept has fixed it. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn gm_embedding_dim(store: *mut gm_store, out_dim: *mut usize) -> gm_status {
    boundary("gm_embedding_dim", || {
        let out_dim = out(out_dim, "out_dim", 0)?;
        out_dim.set(store_ref(store)?.embedding_dim()?.unwrap_or(0));
        Ok(())
    })
}

/// Frees a concept from `gm_get_concept*`. NULL is a no-op.
#[no_mangle]
pub unsafe extern "C" fn gm_concept_free(item: *mut gm_concept) {
    quiet_boundary((), || free_one(item))
}

/// Frees a concept list with every pointer in it. NULL is a no-op.
#[no_mangle]
pub unsafe extern "C" fn gm_concept_list_free(list: *mut gm_concept_list) {
    quiet_boundary((), || free_list::<gm_concept_list, gm_concept>(list))
}
