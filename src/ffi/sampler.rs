//! Replay sampling across the C ABI: a `gm_sampler` handle draws episode
//! ids from its store and takes the learner's priorities back.

use std::ffi::c_char;
use std::sync::Mutex;

use super::boundary::{boundary, flag, opt_out, opt_text, out, quiet_boundary, slice, Out};
use super::episodes::{episode_list, gm_episode_list};
use super::handle::{gm_store, store_ref};
use super::registry::Registry;
use crate::error::{invalid, Error, Result};
use crate::sampler::{PriorityUpdate, Sample, SampleBatch, Sampler, SamplerConfig, Weighting};
use crate::status::*;
use crate::Store;

/// A replay sampler over one store's episodes. Opaque: create with
/// `gm_sampler_new`, release with `gm_sampler_free`. Thread-safe: calls
/// on one sampler take turns.
pub struct gm_sampler {
    _opaque: [u8; 0],
}

/// Values of `gm_sampler_config.weighting`.
#[repr(u32)]
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum gm_weighting {
    /// Draw in proportion to priority^alpha (the default of a zeroed
    /// config, with alpha 0 until set).
    GM_WEIGHTING_PRIORITIZED = 0,
    /// Draw every episode alike.
    GM_WEIGHTING_UNIFORM = 1,
}

/// Most episodes one `gm_sampler_sample` or priority call handles.
pub const GM_MAX_SAMPLE_BATCH: usize = 1 << 24;
/// Bytes of a sampler's saved generator state.
pub const GM_RNG_STATE_BYTES: usize = 32;
const _: () = assert!(GM_RNG_STATE_BYTES == crate::replay::RNG_STATE_BYTES);

/// What a sampler draws from and how. Plain data owned by the caller,
/// read only during `gm_sampler_new`; zero-initialise it, then set what
/// you need.
#[repr(C)]
pub struct gm_sampler_config {
    /// `GM_WEIGHTING_PRIORITIZED` (0) or `GM_WEIGHTING_UNIFORM`.
    pub weighting: u32,
    /// 1 to apply `min_score`, 0 to ignore it.
    pub has_min_score: u8,
    /// 1 to apply `max_score`, 0 to ignore it.
    pub has_max_score: u8,
    /// Reserved; must be 0.
    pub reserved: [u8; 2],
    /// The priority exponent (finite, >= 0; 0.6 is usual).
    pub alpha: f64,
    /// Only episodes of this context (NUL-terminated UTF-8); NULL for any.
    pub context: *const c_char,
    /// Only episodes scoring at least this; used when `has_min_score` is 1.
    pub min_score: f64,
    /// Only episodes scoring at most this; used when `has_max_score` is 1.
    pub max_score: f64,
    /// Seeds the generator: the same seed over the same episodes draws
    /// the same batches.
    pub seed: u64,
}

/// One drawn episode, written into the caller's array.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct gm_sample {
    /// The episode's id.
    pub id: i64,
    /// Its generation: give it back with a priority update.
    pub generation: i64,
    /// Its probability of being drawn, P(i) = p_i^alpha / sum p^alpha.
    pub probability: f64,
    /// Its importance weight (P(i) / P_min)^-beta, in (0, 1].
    pub weight: f64,
}

/// A learner's new priority for an episode it drew.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct gm_priority_update {
    /// The episode's id, as drawn.
    pub id: i64,
    /// Its generation, as drawn.
    pub generation: i64,
    /// The new priority (finite, >= 0).
    pub priority: f64,
}

/// A sampler and the store it draws from (by token: a sampler does not
/// keep a closed store open).
struct Entry {
    store: usize,
    sampler: Mutex<Sampler>,
}

static SAMPLERS: Registry<Entry> = Registry::new("sampler");

/// The sampler behind a handle and its store, for one call.
fn with_sampler<T>(handle: *mut gm_sampler, f: impl FnOnce(&Store, &mut Sampler) -> Result<T>) -> Result<T> {
    with_entry(&*SAMPLERS.get(handle as usize)?, f)
}

fn with_entry<T>(entry: &Entry, f: impl FnOnce(&Store, &mut Sampler) -> Result<T>) -> Result<T> {
    let store = store_ref(entry.store as *mut gm_store)
        .map_err(|_| Error::Misuse("sampler: its store is closed".into()))?;
    let mut sampler = entry
        .sampler
        .lock()
        .map_err(|_| Error::Internal("sampler: poisoned by an earlier panic".into()))?;
    f(&store, &mut sampler)
}

fn sampler_config(c: &gm_sampler_config) -> Result<SamplerConfig> {
    if c.reserved != [0; 2] {
        return Err(invalid("config.reserved", "must be 0"));
    }
    let weighting = match c.weighting {
        w if w == gm_weighting::GM_WEIGHTING_PRIORITIZED as u32 => Weighting::Prioritized { alpha: c.alpha },
        w if w == gm_weighting::GM_WEIGHTING_UNIFORM as u32 => Weighting::Uniform,
        other => return Err(invalid("config.weighting", format!("unknown weighting {other}"))),
    };
    Ok(SamplerConfig {
        weighting,
        // SAFETY: the caller passes a NUL-terminated string or NULL.
        context: unsafe { opt_text(c.context, "config.context")? }.map(str::to_owned),
        min_score: flag(c.has_min_score, "config.has_min_score")?.then_some(c.min_score),
        max_score: flag(c.has_max_score, "config.has_max_score")?.then_some(c.max_score),
        seed: c.seed,
    })
}

/// Makes a sampler over `store`'s episodes in `*out_sampler`; free it with
/// `gm_sampler_free`. It reads the episodes on its first draw. `config` is
/// only read during the call. Errors: `GM_ERR_INVALID_ARGUMENT` naming
/// the field (alpha negative or not finite, a score bound not finite, an
/// unknown weighting, reserved bytes not 0). Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn gm_sampler_new(
    store: *mut gm_store,
    config: *const gm_sampler_config,
    out_sampler: *mut *mut gm_sampler,
) -> gm_status {
    boundary("gm_sampler_new", || {
        let out_sampler = out(out_sampler, "out_sampler", std::ptr::null_mut())?;
        let store_token = store as usize;
        let c = sampler_config(super::boundary::input(config, "config")?)?;
        let sampler = store_ref(store)?.sampler(c)?;
        let token = SAMPLERS.insert(Entry {
            store: store_token,
            sampler: Mutex::new(sampler),
        })?;
        out_sampler.set(token as *mut gm_sampler);
        Ok(())
    })
}

/// Draws `count` episodes into the caller's array `out_samples` (room for
/// `count`), with or without replacement within the batch
/// (`with_replacement` 1 or 0), each with its probability and importance
/// weight for `beta` (finite, >= 0). First reads what other handles and
/// processes changed. `*out_table_size` (may be NULL) receives how many
/// episodes the sampler held. An episode without a priority of its own
/// counts at the current maximum. Errors: `GM_ERR_INVALID_ARGUMENT` for
/// `count` above what can be drawn (none, or more than there are without
/// replacement), or a bad `beta`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn gm_sampler_sample(
    sampler: *mut gm_sampler,
    count: usize,
    beta: f64,
    with_replacement: u8,
    out_samples: *mut gm_sample,
    out_table_size: *mut u64,
) -> gm_status {
    boundary("gm_sampler_sample", || {
        let table_size = opt_out(out_table_size, 0);
        let dest = sample_room(out_samples, count)?;
        let replacement = flag(with_replacement, "with_replacement")?;
        let batch = with_sampler(sampler, |store, s| s.sample(store, count, beta, replacement))?;
        write_batch(dest, table_size, &batch);
        Ok(())
    })
}

/// As `gm_sampler_sample`, and writes the drawn episodes themselves to
/// `*out_episodes` (free with `gm_episode_list_free`): `count` items in
/// draw order, item i the episode of `out_samples[i]` (one drawn twice
/// comes twice), all in one arena. One call per learner step. Should
/// another handle delete or replace a drawn episode before it is read,
/// the sampler catches up and draws again; `GM_ERR_BUSY` if that happens
/// 8 times running. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn gm_sampler_sample_episodes(
    sampler: *mut gm_sampler,
    count: usize,
    beta: f64,
    with_replacement: u8,
    out_samples: *mut gm_sample,
    out_table_size: *mut u64,
    out_episodes: *mut *mut gm_episode_list,
) -> gm_status {
    boundary("gm_sampler_sample_episodes", || {
        let table_size = opt_out(out_table_size, 0);
        let out_episodes = out(out_episodes, "out_episodes", std::ptr::null_mut())?;
        let dest = sample_room(out_samples, count)?;
        let replacement = flag(with_replacement, "with_replacement")?;
        let (batch, episodes) = with_sampler(sampler, |store, s| {
            s.sample_episodes(store, count, beta, replacement)
        })?;
        write_batch(dest, table_size, &batch);
        out_episodes.set(episode_list(&episodes));
        Ok(())
    })
}

/// The caller's array for `count` samples, checked.
unsafe fn sample_room<'a>(out_samples: *mut gm_sample, count: usize) -> Result<&'a mut [gm_sample]> {
    if count > GM_MAX_SAMPLE_BATCH {
        return Err(invalid("count", format!("{count} exceeds {GM_MAX_SAMPLE_BATCH}")));
    }
    if count == 0 {
        return Ok(&mut []);
    }
    if out_samples.is_null() {
        return Err(invalid("out_samples", "must not be NULL"));
    }
    // SAFETY: the caller gives room for `count` samples.
    Ok(std::slice::from_raw_parts_mut(out_samples, count))
}

fn write_batch(dest: &mut [gm_sample], table_size: Option<Out<'_, u64>>, batch: &SampleBatch) {
    for (d, s) in dest.iter_mut().zip(&batch.samples) {
        *d = c_sample(s);
    }
    if let Some(slot) = table_size {
        slot.set(batch.table_size as u64);
    }
}

fn c_sample(s: &Sample) -> gm_sample {
    gm_sample {
        id: s.id,
        generation: s.generation,
        probability: s.probability,
        weight: s.weight,
    }
}

/// Applies `count` new priorities where (id, generation) still names the
/// episode drawn. `out_stale` (may be NULL; else room for `count` bytes)
/// receives 1 for each update that was not applied (the episode is gone,
/// out of the sampler's scope, or was replaced) and 0 for the others;
/// `*out_stale_count` (may be NULL) how many. Updates take effect in the
/// sampler at once and reach the database in one transaction at most
/// every 5 seconds (once 4,096 are pending; at once past 1,048,576) and at
/// `gm_sampler_flush` and `gm_sampler_free`: a crash loses at most those
/// not yet written, about the last 5 seconds (the episodes keep their
/// previous priority). Errors:
/// `GM_ERR_INVALID_ARGUMENT` naming `updates[i].priority` for a negative
/// or non-finite priority, in which case none is applied. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn gm_sampler_update_priorities(
    sampler: *mut gm_sampler,
    updates: *const gm_priority_update,
    count: usize,
    out_stale: *mut u8,
    out_stale_count: *mut usize,
) -> gm_status {
    boundary("gm_sampler_update_priorities", || {
        let stale_count = opt_out(out_stale_count, 0);
        let updates = slice(updates, count, "updates", GM_MAX_SAMPLE_BATCH)?;
        let updates: Vec<PriorityUpdate> = updates
            .iter()
            .map(|u| PriorityUpdate {
                id: u.id,
                generation: u.generation,
                priority: u.priority,
            })
            .collect();
        let stale = with_sampler(sampler, |store, s| s.update_priorities(store, &updates))?;
        if !out_stale.is_null() && count > 0 {
            // SAFETY: the caller gives room for `count` bytes.
            let flags = std::slice::from_raw_parts_mut(out_stale, count);
            flags.fill(0);
            for &i in &stale {
                flags[i] = 1;
            }
        }
        if let Some(slot) = stale_count {
            slot.set(stale.len());
        }
        Ok(())
    })
}

/// Writes the sampler's pending priority updates in one transaction;
/// `*out_written` (may be NULL) receives how many (an episode deleted
/// meanwhile is skipped). Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn gm_sampler_flush(sampler: *mut gm_sampler, out_written: *mut usize) -> gm_status {
    boundary("gm_sampler_flush", || {
        let written_slot = opt_out(out_written, 0);
        let written = with_sampler(sampler, |store, s| s.flush(store))?;
        if let Some(slot) = written_slot {
            slot.set(written);
        }
        Ok(())
    })
}

/// Copies the generator's state (`GM_RNG_STATE_BYTES` bytes) into
/// `out_state`, to save with a learner's checkpoint. `len` must be
/// `GM_RNG_STATE_BYTES`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn gm_sampler_rng_state(
    sampler: *mut gm_sampler,
    out_state: *mut u8,
    len: usize,
) -> gm_status {
    boundary("gm_sampler_rng_state", || {
        if len != GM_RNG_STATE_BYTES {
            return Err(invalid("len", format!("must be {GM_RNG_STATE_BYTES}, got {len}")));
        }
        if out_state.is_null() {
            return Err(invalid("out_state", "must not be NULL"));
        }
        let state = with_sampler(sampler, |_, s| Ok(s.rng_state()))?;
        // SAFETY: the caller gives room for `len` bytes.
        std::slice::from_raw_parts_mut(out_state, len).copy_from_slice(&state);
        Ok(())
    })
}

/// Continues from a saved generator state (`len` must be
/// `GM_RNG_STATE_BYTES`); the next draws repeat those that followed the
/// save. Errors: `GM_ERR_INVALID_ARGUMENT` for a wrong length or the
/// all-zero state (not one the generator can be in). Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn gm_sampler_set_rng_state(
    sampler: *mut gm_sampler,
    state: *const u8,
    len: usize,
) -> gm_status {
    boundary("gm_sampler_set_rng_state", || {
        let state = slice(state, len, "state", GM_RNG_STATE_BYTES)?;
        with_sampler(sampler, |_, s| s.set_rng_state(state))
    })
}

/// Writes the sampler's pending priority updates (as `gm_sampler_flush`,
/// if its store is still open; a failure is not reported: flush first to
/// see it) and frees it. NULL or an already freed handle is a no-op.
#[no_mangle]
pub unsafe extern "C" fn gm_sampler_free(sampler: *mut gm_sampler) {
    quiet_boundary((), || {
        let Some(entry) = SAMPLERS.remove(sampler as usize) else {
            return;
        };
        let _ = with_entry(&entry, |store, s| s.flush(store));
    })
}

/// Gives `count` episodes priorities of their own (`ids[i]` gets
/// `priorities[i]`, finite and >= 0), for writers that compute one as
/// they store (Ape-X actors); otherwise an episode counts at the current
/// maximum until a learner updates it. One transaction; ids that are not
/// episodes are skipped; the last priority given for an id wins.
/// `*out_stored` (may be NULL) receives how many episodes got one.
/// Errors: `GM_ERR_INVALID_ARGUMENT` naming `priorities[i]`, in which case
/// none is stored. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn gm_set_episode_priorities(
    store: *mut gm_store,
    ids: *const i64,
    priorities: *const f64,
    count: usize,
    out_stored: *mut usize,
) -> gm_status {
    boundary("gm_set_episode_priorities", || {
        let stored_slot = opt_out(out_stored, 0);
        let ids = slice(ids, count, "ids", GM_MAX_SAMPLE_BATCH)?;
        let priorities = slice(priorities, count, "priorities", GM_MAX_SAMPLE_BATCH)?;
        let pairs: Vec<(i64, f64)> = ids.iter().copied().zip(priorities.iter().copied()).collect();
        let stored = store_ref(store)?.set_episode_priorities(&pairs)?;
        if let Some(slot) = stored_slot {
            slot.set(stored);
        }
        Ok(())
    })
}
