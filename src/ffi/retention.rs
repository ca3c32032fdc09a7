//! Retention across the C ABI: the policy, what it evicted, and prune.

use std::ffi::{c_char, CString};

use super::boundary::{boundary, flag, input, opt_out, opt_text, out, quiet_boundary};
use super::handle::{gm_store, store_ref};
use super::results::Handed;
use crate::error::{invalid, Result};
use crate::retention::{EvictionOrder, Evictions, Protection, Pruned, RetentionPolicy, RetentionStatus};
use crate::status::*;

/// `gm_retention_policy.order`: the lowest id (the oldest insert) first.
pub const GM_EVICT_OLDEST: u32 = 0;
/// `gm_retention_policy.order`: the lowest performance score first.
pub const GM_EVICT_LOWEST_SCORE: u32 = 1;
/// `gm_retention_policy.order`: the lowest replay priority first;
/// episodes without one go last.
pub const GM_EVICT_LOWEST_PRIORITY: u32 = 2;

/// A retention policy. As an input, plain data owned by the caller and
/// read only during the call: initialise it with
/// `gm_retention_policy_init`, then set what you need. Limits apply to
/// the evictable episodes (all but the protected ones).
#[repr(C)]
pub struct gm_retention_policy {
    /// `sizeof(gm_retention_policy)`, set by `gm_retention_policy_init`.
    pub struct_size: u32,
    /// Which episode goes first under the count and byte limits:
    /// `GM_EVICT_OLDEST` (0), `GM_EVICT_LOWEST_SCORE`,
    /// `GM_EVICT_LOWEST_PRIORITY`. Ties go oldest first.
    pub order: u32,
    /// 1 to apply `max_episodes`.
    pub has_max_episodes: u8,
    /// 1 to apply `max_experience_bytes`.
    pub has_max_experience_bytes: u8,
    /// 1 to apply `max_age_seconds`.
    pub has_max_age_seconds: u8,
    /// 1 to apply `keep_top_k`.
    pub has_keep_top_k: u8,
    /// 1: `keep_top_k` per context; 0: overall.
    pub top_k_per_context: u8,
    /// Reserved; must be 0.
    pub reserved: [u8; 3],
    /// Keep at most this many evictable episodes (>= 0).
    pub max_episodes: i64,
    /// Keep at most this many bytes of evictable experiences (>= 0).
    pub max_experience_bytes: i64,
    /// Evict episodes whose `timestamp` is more than this many seconds
    /// before now (finite, >= 0).
    pub max_age_seconds: f64,
    /// Keep only the k best-scoring evictable episodes (>= 0).
    pub keep_top_k: i64,
    /// When the count or byte limit is exceeded, evict at least this many
    /// at once (0 or 1: exactly down to the limit; >= 0). Batches spare a
    /// store at its cap a delete per insert: it then holds between
    /// `max_episodes - eviction_batch + 1` and `max_episodes`.
    pub eviction_batch: i64,
    /// Protected episodes: those whose metadata's top-level key
    /// `protect_key` holds `protect_value`. NULL: none protected.
    pub protect_key: *const c_char,
    /// The protected value as JSON text (a string, boolean or integer:
    /// `true`, `"demo"`, `3`); required with `protect_key`.
    pub protect_value: *const c_char,
}

/// Episodes evicted, by the rule that evicted them (rules run in this
/// order). Written into the caller's struct.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct gm_evictions {
    /// Older than `max_age_seconds`.
    pub by_age: u64,
    /// Outside the top k by score.
    pub by_top_k: u64,
    /// Over `max_episodes`.
    pub by_count: u64,
    /// Over `max_experience_bytes`.
    pub by_bytes: u64,
}

/// The policy in force and the budget's counts, owned by the caller and
/// freed with `gm_retention_status_free` (which frees the policy's
/// strings too).
#[repr(C)]
pub struct gm_retention_status {
    /// 1 when a policy is in force (`policy` is valid), else 0.
    pub has_policy: u8,
    /// Always 0.
    pub reserved: [u8; 7],
    /// The policy, when `has_policy` is 1.
    pub policy: gm_retention_policy,
    /// Evictable episodes held (counted while a policy is in force).
    pub episodes: i64,
    /// Their experience bytes.
    pub experience_bytes: i64,
    /// Episodes evicted since the store was created.
    pub evicted_total: i64,
}

/// What `gm_prune` evicted (or would evict), owned by the caller and freed
/// with `gm_pruned_free`.
#[repr(C)]
pub struct gm_pruned {
    /// Counts by rule.
    pub evictions: gm_evictions,
    /// The evicted episodes' ids in eviction order; NULL when `count` is 0.
    pub ids: *const i64,
    /// Entries in `ids`.
    pub count: usize,
}

/// A status and the strings its policy points at.
#[repr(C)]
struct OwnedStatus {
    view: gm_retention_status,
    _strings: Vec<CString>,
}

impl Handed for OwnedStatus {
    type View = gm_retention_status;
}

#[repr(C)]
struct OwnedPruned {
    view: gm_pruned,
    _ids: Vec<i64>,
}

impl Handed for OwnedPruned {
    type View = gm_pruned;
}

fn evictions(e: Evictions) -> gm_evictions {
    gm_evictions {
        by_age: e.by_age,
        by_top_k: e.by_top_k,
        by_count: e.by_count,
        by_bytes: e.by_bytes,
    }
}

fn order_from(code: u32) -> Result<EvictionOrder> {
    match code {
        GM_EVICT_OLDEST => Ok(EvictionOrder::Oldest),
        GM_EVICT_LOWEST_SCORE => Ok(EvictionOrder::LowestScore),
        GM_EVICT_LOWEST_PRIORITY => Ok(EvictionOrder::LowestPriority),
        other => Err(invalid("policy.order", format!("unknown order {other}"))),
    }
}

fn order_code(order: EvictionOrder) -> u32 {
    match order {
        EvictionOrder::Oldest => GM_EVICT_OLDEST,
        EvictionOrder::LowestScore => GM_EVICT_LOWEST_SCORE,
        EvictionOrder::LowestPriority => GM_EVICT_LOWEST_PRIORITY,
    }
}

/// The policy a caller's struct describes.
///
/// # Safety
/// The struct's strings must be NULL or NUL-terminated.
unsafe fn policy_from(p: &gm_retention_policy) -> Result<RetentionPolicy> {
    let expected = std::mem::size_of::<gm_retention_policy>() as u32;
    if p.struct_size != expected {
        return Err(invalid(
            "policy.struct_size",
            format!(
                "is {}, expected {expected}: call gm_retention_policy_init",
                p.struct_size
            ),
        ));
    }
    if p.reserved != [0; 3] {
        return Err(invalid("policy.reserved", "must be 0"));
    }
    let key = opt_text(p.protect_key, "policy.protect_key")?;
    let value = opt_text(p.protect_value, "policy.protect_value")?;
    let protect = match (key, value) {
        (Some(key), Some(value)) => Some(Protection {
            key: key.to_owned(),
            value: value.to_owned(),
        }),
        (None, None) => None,
        (Some(_), None) => {
            return Err(invalid(
                "policy.protect_value",
                "is NULL while protect_key is set",
            ))
        }
        (None, Some(_)) => {
            return Err(invalid(
                "policy.protect_key",
                "is NULL while protect_value is set",
            ))
        }
    };
    let when = |has: u8, field: &str| flag(has, field);
    Ok(RetentionPolicy {
        max_episodes: when(p.has_max_episodes, "policy.has_max_episodes")?.then_some(p.max_episodes),
        max_experience_bytes: when(p.has_max_experience_bytes, "policy.has_max_experience_bytes")?
            .then_some(p.max_experience_bytes),
        max_age_seconds: when(p.has_max_age_seconds, "policy.has_max_age_seconds")?
            .then_some(p.max_age_seconds),
        keep_top_k: when(p.has_keep_top_k, "policy.has_keep_top_k")?.then_some(p.keep_top_k),
        top_k_per_context: flag(p.top_k_per_context, "policy.top_k_per_context")?,
        protect,
        order: order_from(p.order)?,
        eviction_batch: p.eviction_batch,
    })
}

fn empty_policy() -> gm_retention_policy {
    gm_retention_policy {
        struct_size: std::mem::size_of::<gm_retention_policy>() as u32,
        order: GM_EVICT_OLDEST,
        has_max_episodes: 0,
        has_max_experience_bytes: 0,
        has_max_age_seconds: 0,
        has_keep_top_k: 0,
        top_k_per_context: 0,
        reserved: [0; 3],
        max_episodes: 0,
        max_experience_bytes: 0,
        max_age_seconds: 0.0,
        keep_top_k: 0,
        eviction_batch: 0,
        protect_key: std::ptr::null(),
        protect_value: std::ptr::null(),
    }
}

fn owned_status(s: RetentionStatus) -> OwnedStatus {
    let mut strings = Vec::new();
    let mut policy = empty_policy();
    if let Some(p) = &s.policy {
        policy.order = order_code(p.order);
        policy.has_max_episodes = p.max_episodes.is_some() as u8;
        policy.max_episodes = p.max_episodes.unwrap_or(0);
        policy.has_max_experience_bytes = p.max_experience_bytes.is_some() as u8;
        policy.max_experience_bytes = p.max_experience_bytes.unwrap_or(0);
        policy.has_max_age_seconds = p.max_age_seconds.is_some() as u8;
        policy.max_age_seconds = p.max_age_seconds.unwrap_or(0.0);
        policy.has_keep_top_k = p.keep_top_k.is_some() as u8;
        policy.keep_top_k = p.keep_top_k.unwrap_or(0);
        policy.top_k_per_context = p.top_k_per_context as u8;
        policy.eviction_batch = p.eviction_batch;
        if let Some(protect) = &p.protect {
            // Validated keys and JSON text hold no NUL.
            strings.push(CString::new(protect.key.as_str()).unwrap_or_default());
            strings.push(CString::new(protect.value.as_str()).unwrap_or_default());
            policy.protect_key = strings[0].as_ptr();
            policy.protect_value = strings[1].as_ptr();
        }
    }
    OwnedStatus {
        view: gm_retention_status {
            has_policy: s.policy.is_some() as u8,
            reserved: [0; 7],
            policy,
            episodes: s.episodes,
            experience_bytes: s.experience_bytes,
            evicted_total: s.evicted_total,
        },
        _strings: strings,
    }
}

/// Zeroes `*policy` (no limits, `GM_EVICT_OLDEST`, nothing protected) and
/// sets its `struct_size`. NULL is a no-op.
#[no_mangle]
pub unsafe extern "C" fn gm_retention_policy_init(policy: *mut gm_retention_policy) {
    quiet_boundary((), || {
        if !policy.is_null() {
            policy.write(empty_policy());
        }
    })
}

/// Sets the store's retention policy (NULL, or one without any limit,
/// removes it) and applies it at once, in one transaction; writes what
/// that evicted to `*out_evicted` (may be NULL). From then on every
/// episode write applies it in its own transaction. Errors:
/// `GM_ERR_INVALID_ARGUMENT` naming the field (a negative limit, an age
/// not finite, `top_k_per_context` without `has_keep_top_k`, a protected
/// key that is empty or holds `"`, a value that is not a JSON string,
/// boolean or integer, a wrong `struct_size`, a flag not 0 or 1).
/// Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn gm_set_retention_policy(
    store: *mut gm_store,
    policy: *const gm_retention_policy,
    out_evicted: *mut gm_evictions,
) -> gm_status {
    boundary("gm_set_retention_policy", || {
        let out_evicted = opt_out(out_evicted, gm_evictions::default());
        let store = store_ref(store)?;
        let policy = match policy.is_null() {
            true => None,
            false => Some(policy_from(input(policy, "policy")?)?),
        };
        let evicted = store.set_retention_policy(policy.as_ref())?;
        if let Some(slot) = out_evicted {
            slot.set(evictions(evicted));
        }
        Ok(())
    })
}

/// Writes the policy in force and the budget's counts to `*out_status`
/// (free with `gm_retention_status_free`). Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn gm_get_retention(
    store: *mut gm_store,
    out_status: *mut *mut gm_retention_status,
) -> gm_status {
    boundary("gm_get_retention", || {
        let out_status = out(out_status, "out_status", std::ptr::null_mut())?;
        let status = store_ref(store)?.retention_status()?;
        out_status.set(owned_status(status).hand_over());
        Ok(())
    })
}

/// Frees a status from `gm_get_retention`, with its policy's strings.
/// NULL is a no-op.
#[no_mangle]
pub unsafe extern "C" fn gm_retention_status_free(status: *mut gm_retention_status) {
    quiet_boundary((), || OwnedStatus::free(status))
}

/// Writes what the calling thread's last episode write on `store`
/// evicted to `*out_evicted` (all zero when nothing, or no policy).
/// Thread-safe; each thread sees its own writes.
#[no_mangle]
pub unsafe extern "C" fn gm_last_evictions(
    store: *mut gm_store,
    out_evicted: *mut gm_evictions,
) -> gm_status {
    boundary("gm_last_evictions", || {
        let out_evicted = out(out_evicted, "out_evicted", gm_evictions::default())?;
        out_evicted.set(evictions(store_ref(store)?.last_evictions()));
        Ok(())
    })
}

/// Brings the store within its policy (after writes by other programs, or
/// as time passes a `max_age_seconds`) and writes what it evicted to
/// `*out_pruned` (free with `gm_pruned_free`). With `dry_run` 1, reports
/// what it would evict and changes nothing. Backups are never touched.
/// Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn gm_prune(
    store: *mut gm_store,
    dry_run: u8,
    out_pruned: *mut *mut gm_pruned,
) -> gm_status {
    boundary("gm_prune", || {
        let out_pruned = out(out_pruned, "out_pruned", std::ptr::null_mut())?;
        let dry_run = flag(dry_run, "dry_run")?;
        let store = store_ref(store)?;
        let Pruned { evictions: e, ids } = store.prune(dry_run)?;
        let view = gm_pruned {
            evictions: evictions(e),
            ids: if ids.is_empty() {
                std::ptr::null()
            } else {
                ids.as_ptr()
            },
            count: ids.len(),
        };
        out_pruned.set(OwnedPruned { view, _ids: ids }.hand_over());
        Ok(())
    })
}

/// Frees a result of `gm_prune`. NULL is a no-op.
#[no_mangle]
pub unsafe extern "C" fn gm_pruned_free(pruned: *mut gm_pruned) {
    quiet_boundary((), || OwnedPruned::free(pruned))
}
