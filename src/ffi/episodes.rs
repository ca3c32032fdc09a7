//! Episodes across the C ABI.

use std::ffi::c_char;

use super::boundary::{boundary, input, opt_f64, opt_text, out, slice, store_batch, text, GM_MAX_BATCH};
use super::experience::{encode, gm_tensor};
use super::handle::{gm_store, store_ref};
use super::results::{
    arena_list, free_list, free_one, into_list, into_one, text_size, write_into, Arena, CRecord,
};
use crate::error::Result;
use crate::status::*;
use crate::validate::MAX_BLOB_LEN;
use crate::{Episode, NewEpisode};

/// An episode to store. Plain data owned by the caller; read during the call.
#[repr(C)]
pub struct gm_episode_input {
    /// Experience bytes (see `gm_experience_*` for the shared tensor
    /// format); NULL only when `experience_len` is 0.
    pub experience_data: *const u8,
    /// Length of `experience_data` in bytes.
    pub experience_len: usize,
    /// Must be finite.
    pub performance_score: f64,
    /// Unix time in seconds; used only when `has_timestamp` is 1.
    pub timestamp: f64,
    /// NUL-terminated UTF-8, non-empty.
    pub context_hash: *const c_char,
    /// NUL-terminated UTF-8 JSON object, or NULL for `{}`.
    pub metadata: *const c_char,
    /// 1 to use `timestamp`, 0 for the current time.
    pub has_timestamp: u8,
    /// Reserved; must be 0.
    pub reserved: [u8; 7],
}

/// An episode to store whose experience is given as tensors and a value
/// tree, encoded by the library as `gm_experience_encode` would (one call
/// instead of encode, store and free). Plain data owned by the caller; read
/// during the call.
#[repr(C)]
pub struct gm_tensor_episode_input {
    /// `tensor_count` tensors; NULL only when `tensor_count` is 0.
    pub tensors: *const gm_tensor,
    /// Number of tensors at `tensors`.
    pub tensor_count: usize,
    /// The JSON value tree (`{"$tensor": "name"}` stands for a tensor), or
    /// NULL for none.
    pub values_json: *const c_char,
    /// Must be finite.
    pub performance_score: f64,
    /// Unix time in seconds; used only when `has_timestamp` is 1.
    pub timestamp: f64,
    /// NUL-terminated UTF-8, non-empty.
    pub context_hash: *const c_char,
    /// NUL-terminated UTF-8 JSON object, or NULL for `{}`.
    pub metadata: *const c_char,
    /// 1 to use `timestamp`, 0 for the current time.
    pub has_timestamp: u8,
    /// Reserved; must be 0.
    pub reserved: [u8; 7],
}

/// A stored episode. Every pointer lives exactly as long as the result that
/// holds it (`gm_episode_free` or `gm_episode_list_free`).
#[repr(C)]
pub struct gm_episode {
    /// Episode id.
    pub id: i64,
    /// Unix time in seconds.
    pub timestamp: f64,
    /// The score the writer gave.
    pub performance_score: f64,
    /// Insertion time as a Julian day (the seed schema's default).
    pub created_at: f64,
    /// The experience bytes; NULL only when `experience_len` is 0.
    pub experience_data: *const u8,
    /// Byte length of `experience_data`.
    pub experience_len: usize,
    /// NUL-terminated UTF-8.
    pub context_hash: *const c_char,
    /// Byte length of `context_hash`, without the NUL.
    pub context_hash_len: usize,
    /// NUL-terminated UTF-8 JSON object.
    pub metadata: *const c_char,
    /// Byte length of `metadata`, without the NUL.
    pub metadata_len: usize,
}

/// A list of episodes, owned by the caller, freed with
/// `gm_episode_list_free`. All strings and blobs of the list lie in one
/// block, `[arena, arena + arena_len)`, so a binding may copy it at once.
#[repr(C)]
pub struct gm_episode_list {
    /// The records, `len` of them.
    pub items: *const gm_episode,
    /// How many records `items` holds.
    pub len: usize,
    /// The block every string and blob of the records lies in.
    pub arena: *const u8,
    /// Bytes in `arena`.
    pub arena_len: usize,
}

arena_list!(gm_episode_list of gm_episode);

impl CRecord for Episode {
    type C = gm_episode;

    fn arena_size(&self) -> (usize, usize) {
        (
            self.experience_data.len() + text_size(&self.context_hash) + text_size(&self.metadata),
            0,
        )
    }

    fn to_c(&self, arena: &mut Arena) -> gm_episode {
        gm_episode {
            id: self.id,
            timestamp: self.timestamp,
            performance_score: self.performance_score,
            created_at: self.created_at,
            experience_data: arena.blob(&self.experience_data),
            experience_len: self.experience_data.len(),
            context_hash: arena.text(&self.context_hash),
            context_hash_len: self.context_hash.len(),
            metadata: arena.text(&self.metadata),
            metadata_len: self.metadata.len(),
        }
    }
}

pub(crate) fn episode_list(episodes: &[Episode]) -> *mut gm_episode_list {
    into_list(episodes, gm_episode_list::from)
}

/// Checks one input; error messages name the field (`context_hash: ...`),
/// which callers qualify with the input's name, only when there is one to
/// report: a batch must not format names for rows that are fine.
unsafe fn to_new_episode(e: &gm_episode_input) -> Result<NewEpisode<'_>> {
    if e.reserved != [0; 7] {
        return Err(crate::error::invalid("reserved", "must be 0"));
    }
    Ok(NewEpisode {
        experience_data: slice(
            e.experience_data,
            e.experience_len,
            "experience_data",
            MAX_BLOB_LEN,
        )?,
        performance_score: e.performance_score,
        context_hash: text(e.context_hash, "context_hash")?,
        timestamp: super::boundary::flag(e.has_timestamp, "has_timestamp")?.then_some(e.timestamp),
        metadata: opt_text(e.metadata, "metadata")?,
    })
}

/// Stores one episode and writes its id to `*out_id`.
///
/// Errors: `GM_ERR_INVALID_ARGUMENT` for a NULL argument, invalid UTF-8, a
/// non-finite score or timestamp, an empty context hash, or metadata that
/// is not a JSON object. Inside a `gm_begin` scope on this thread the write
/// joins that transaction. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn gm_store_episode(
    store: *mut gm_store,
    episode: *const gm_episode_input,
    out_id: *mut i64,
) -> gm_status {
    boundary("gm_store_episode", || {
        let out_id = out(out_id, "out_id", 0)?;
        let store = store_ref(store)?;
        let episode = to_new_episode(input(episode, "episode")?).map_err(|e| e.within("episode"))?;
        out_id.set(store.store_episode(&episode)?);
        Ok(())
    })
}

/// An episode whose experience bytes the library encoded: the bytes it
/// will store and the fields that borrow from the caller.
struct EncodedEpisode<'a> {
    experience: Vec<u8>,
    fields: NewEpisode<'a>,
}

impl EncodedEpisode<'_> {
    fn episode(&self) -> NewEpisode<'_> {
        NewEpisode {
            experience_data: &self.experience,
            ..self.fields
        }
    }
}

unsafe fn to_encoded_episode(e: &gm_tensor_episode_input) -> Result<EncodedEpisode<'_>> {
    if e.reserved != [0; 7] {
        return Err(crate::error::invalid("reserved", "must be 0"));
    }
    Ok(EncodedEpisode {
        experience: encode(e.tensors, e.tensor_count, e.values_json)?,
        fields: NewEpisode {
            experience_data: &[],
            performance_score: e.performance_score,
            context_hash: text(e.context_hash, "context_hash")?,
            timestamp: super::boundary::flag(e.has_timestamp, "has_timestamp")?.then_some(e.timestamp),
            metadata: opt_text(e.metadata, "metadata")?,
        },
    })
}

/// Encodes `tensor_count` tensors and the value tree `values_json` (may be
/// NULL) as an experience, exactly as `gm_experience_encode` does, and
/// stores it as a new episode, in one call: no buffer to free. The other
/// arguments are `gm_store_episode`'s: `metadata` may be NULL for `{}`,
/// `timestamp` NULL for now. Writes the id to `*out_id`.
///
/// Errors: `GM_ERR_INVALID_ARGUMENT` for anything `gm_experience_encode` or
/// `gm_store_episode` refuses, the message naming the field
/// (`tensors[0].dtype: ...`). Joins this thread's transaction. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn gm_store_episode_tensors(
    store: *mut gm_store,
    tensors: *const gm_tensor,
    tensor_count: usize,
    values_json: *const c_char,
    performance_score: f64,
    context_hash: *const c_char,
    metadata: *const c_char,
    timestamp: *const f64,
    out_id: *mut i64,
) -> gm_status {
    boundary("gm_store_episode_tensors", || {
        let out_id = out(out_id, "out_id", 0)?;
        let store = store_ref(store)?;
        let experience = encode(tensors, tensor_count, values_json)?;
        out_id.set(store.store_episode(&NewEpisode {
            experience_data: &experience,
            performance_score,
            context_hash: text(context_hash, "context_hash")?,
            timestamp: opt_f64(timestamp),
            metadata: opt_text(metadata, "metadata")?,
        })?);
        Ok(())
    })
}

/// `gm_store_episodes` for episodes given as tensors: encodes each one's
/// experience as `gm_store_episode_tensors` does and stores them all in one
/// transaction (all or none), writing their ids in order to the caller's
/// array `out_ids` of `count` slots. Every episode is checked and encoded
/// before anything is written; the message names the first bad one
/// (`episodes[3].tensors[0].data: ...`). Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn gm_store_episodes_tensors(
    store: *mut gm_store,
    episodes: *const gm_tensor_episode_input,
    count: usize,
    out_ids: *mut i64,
) -> gm_status {
    boundary("gm_store_episodes_tensors", || {
        let store = store_ref(store)?;
        store_batch(
            episodes,
            count,
            out_ids,
            ("episodes", GM_MAX_BATCH),
            |e| to_encoded_episode(e),
            |batch| store.store_episodes(&batch.iter().map(EncodedEpisode::episode).collect::<Vec<_>>()),
        )
    })
}

/// Stores `count` episodes in one transaction (all or none) and writes
/// their ids, in order, to the caller's array `out_ids` of `count` slots.
/// `episodes` may be NULL only when `count` is 0. Every episode is checked
/// before anything is written; the message names the first bad index
/// (`episodes[3].performance_score: ...`). Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn gm_store_episodes(
    store: *mut gm_store,
    episodes: *const gm_episode_input,
    count: usize,
    out_ids: *mut i64,
) -> gm_status {
    boundary("gm_store_episodes", || {
        let store = store_ref(store)?;
        store_batch(
            episodes,
            count,
            out_ids,
            ("episodes", GM_MAX_BATCH),
            |e| to_new_episode(e),
            |batch| store.store_episodes(batch),
        )
    })
}

/// Writes the episode with id `id` to `*out_episode`, owned by the caller
/// and freed with `gm_episode_free`. Returns `GM_ERR_NOT_FOUND` (and NULL)
/// when there is none, `GM_ERR_INVALID_ARGUMENT` for an id <= 0.
/// Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn gm_get_episode(
    store: *mut gm_store,
    id: i64,
    out_episode: *mut *mut gm_episode,
) -> gm_status {
    boundary("gm_get_episode", || {
        let out_episode = out(out_episode, "out_episode", std::ptr::null_mut())?;
        let store = store_ref(store)?;
        let episode = store
            .retrieve_episode(id)?
            .ok_or_else(|| crate::Error::NotFound(format!("episode_id: no episode with id {id}")))?;
        out_episode.set(into_one(&episode));
        Ok(())
    })
}

/// Writes the episode with id `id` into the caller's buffer `buf` of
/// `capacity` bytes, with no result to free: a `gm_episode` at its start
/// (`buf` aligned to 8 bytes), then the bytes its pointers point to, all
/// within `buf`. Writes the size this takes to `*out_size` in every case
/// but a NULL `out_size`. `GM_ERR_BUFFER_TOO_SMALL` (buffer untouched) when
/// `capacity` is less: call again with `*out_size` bytes (NULL and 0 ask
/// for the size alone). `GM_ERR_NOT_FOUND` when there is no such episode,
/// `GM_ERR_INVALID_ARGUMENT` for an id <= 0 or an unaligned `buf`. For
/// bindings that read many episodes one at a time: one call, no free.
/// Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn gm_get_episode_into(
    store: *mut gm_store,
    id: i64,
    buf: *mut u8,
    capacity: usize,
    out_size: *mut usize,
) -> gm_status {
    boundary("gm_get_episode_into", || {
        let out_size = out(out_size, "out_size", 0)?;
        let store = store_ref(store)?;
        let episode = store
            .retrieve_episode(id)?
            .ok_or_else(|| crate::Error::NotFound(format!("episode_id: no episode with id {id}")))?;
        write_into(&episode, buf, capacity, out_size)
    })
}

/// Writes the episodes whose context is `context_hash`, newest first, at
/// most `limit` (0 ..= 10000000), to `*out_list`; with `min_score` not
/// NULL, only those scoring at least `*min_score`. The list is owned by the
/// caller and freed with `gm_episode_list_free`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn gm_get_episodes_by_context(
    store: *mut gm_store,
    context_hash: *const c_char,
    limit: i64,
    min_score: *const f64,
    out_list: *mut *mut gm_episode_list,
) -> gm_status {
    boundary("gm_get_episodes_by_context", || {
        let out_list = out(out_list, "out_list", std::ptr::null_mut())?;
        let store = store_ref(store)?;
        let context = text(context_hash, "context_hash")?;
        let episodes = store.get_episodes_by_context(context, limit, opt_f64(min_score))?;
        out_list.set(episode_list(&episodes));
        Ok(())
    })
}

/// Writes the episodes of the last `time_window` seconds, newest first, at
/// most `limit`, to `*out_list` (free with `gm_episode_list_free`).
/// Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn gm_get_recent_episodes(
    store: *mut gm_store,
    time_window: f64,
    limit: i64,
    out_list: *mut *mut gm_episode_list,
) -> gm_status {
    boundary("gm_get_recent_episodes", || {
        let out_list = out(out_list, "out_list", std::ptr::null_mut())?;
        let store = store_ref(store)?;
        out_list.set(episode_list(&store.get_recent_episodes(time_window, limit)?));
        Ok(())
    })
}

/// Writes the number of stored episodes to `*out_count`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn gm_count_episodes(store: *mut gm_store, out_count: *mut i64) -> gm_status {
    boundary("gm_count_episodes", || {
        let out_count = out(out_count, "out_count", 0)?;
        out_count.set(store_ref(store)?.count_episodes()?);
        Ok(())
    })
}

/// Frees an episode from `gm_get_episode`. NULL is a no-op.
#[no_mangle]
pub unsafe extern "C" fn gm_episode_free(episode: *mut gm_episode) {
    super::boundary::quiet_boundary((), || free_one(episode))
}

/// Frees a list from an episode query, with every pointer in it. NULL is a
/// no-op.
#[no_mangle]
pub unsafe extern "C" fn gm_episode_list_free(list: *mut gm_episode_list) {
    super::boundary::quiet_boundary((), || free_list::<gm_episode_list, gm_episode>(list))
}
