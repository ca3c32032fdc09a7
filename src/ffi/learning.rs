//! Learning events across the C ABI.

use std::ffi::c_char;

use super::boundary::{
    boundary, flag, opt_f64, opt_text, out, quiet_boundary, store_batch, text, GM_MAX_BATCH,
};
use super::handle::{gm_store, store_ref};
use super::results::{arena_list, free_list, into_list, text_size, Arena, CRecord};
use crate::error::Result;
use crate::status::*;
use crate::{LearningEvent, NewLearningEvent, StrategyStats};

/// A learning event to store, for `gm_store_learning_events`. Plain data
/// owned by the caller; read during the call.
#[repr(C)]
pub struct gm_learning_event_input {
    /// NUL-terminated UTF-8, non-empty.
    pub task_type: *const c_char,
    /// Must be finite.
    pub performance_delta: f64,
    /// NUL-terminated UTF-8, non-empty.
    pub strategy_used: *const c_char,
    /// NUL-terminated UTF-8 JSON object, or NULL for `{}`.
    pub parameters: *const c_char,
    /// Unix time in seconds; used only when `has_timestamp` is 1.
    pub timestamp: f64,
    /// 1 to use `timestamp`, 0 for the current time.
    pub has_timestamp: u8,
    /// Reserved; must be 0.
    pub reserved: [u8; 7],
}

/// Checks one input; messages name the field, which the caller qualifies.
unsafe fn to_new_event(e: &gm_learning_event_input) -> Result<NewLearningEvent<'_>> {
    if e.reserved != [0; 7] {
        return Err(crate::error::invalid("reserved", "must be 0"));
    }
    Ok(NewLearningEvent {
        task_type: text(e.task_type, "task_type")?,
        performance_delta: e.performance_delta,
        strategy_used: text(e.strategy_used, "strategy_used")?,
        parameters: opt_text(e.parameters, "parameters")?,
        timestamp: flag(e.has_timestamp, "has_timestamp")?.then_some(e.timestamp),
    })
}

/// A stored learning event. Pointers live as long as the list that holds it.
#[repr(C)]
pub struct gm_learning_event {
    /// Event id.
    pub id: i64,
    /// The change in performance the event recorded.
    pub performance_delta: f64,
    /// Unix time in seconds.
    pub timestamp: f64,
    /// NUL-terminated UTF-8.
    pub task_type: *const c_char,
    /// Byte length of `task_type`, without the NUL.
    pub task_type_len: usize,
    /// NUL-terminated UTF-8.
    pub strategy_used: *const c_char,
    /// Byte length of `strategy_used`, without the NUL.
    pub strategy_used_len: usize,
    /// NUL-terminated UTF-8 JSON object.
    pub parameters: *const c_char,
    /// Byte length of `parameters`, without the NUL.
    pub parameters_len: usize,
}

/// A list of learning events, owned by the caller, freed with
/// `gm_learning_event_list_free`. Strings lie in `[arena, arena + arena_len)`.
#[repr(C)]
pub struct gm_learning_event_list {
    /// The records, `len` of them.
    pub items: *const gm_learning_event,
    /// How many records `items` holds.
    pub len: usize,
    /// The block every string and blob of the records lies in.
    pub arena: *const u8,
    /// Bytes in `arena`.
    pub arena_len: usize,
}

/// One strategy's record: the seed's `(strategy, avg_delta, count)`.
#[repr(C)]
pub struct gm_strategy {
    /// Mean performance delta of the strategy.
    pub avg_delta: f64,
    /// How many events used it.
    pub usage_count: i64,
    /// NUL-terminated UTF-8.
    pub strategy: *const c_char,
    /// Byte length of `strategy`, without the NUL.
    pub strategy_len: usize,
}

/// A list of strategies, best first, owned by the caller, freed with
/// `gm_strategy_list_free`. Strings lie in `[arena, arena + arena_len)`.
#[repr(C)]
pub struct gm_strategy_list {
    /// The records, `len` of them.
    pub items: *const gm_strategy,
    /// How many records `items` holds.
    pub len: usize,
    /// The block every string and blob of the records lies in.
    pub arena: *const u8,
    /// Bytes in `arena`.
    pub arena_len: usize,
}

arena_list!(gm_learning_event_list of gm_learning_event, gm_strategy_list of gm_strategy);

impl CRecord for LearningEvent {
    type C = gm_learning_event;

    fn arena_size(&self) -> (usize, usize) {
        (
            text_size(&self.task_type) + text_size(&self.strategy_used) + text_size(&self.parameters),
            0,
        )
    }

    fn to_c(&self, arena: &mut Arena) -> gm_learning_event {
        gm_learning_event {
            id: self.id,
            performance_delta: self.performance_delta,
            timestamp: self.timestamp,
            task_type: arena.text(&self.task_type),
            task_type_len: self.task_type.len(),
            strategy_used: arena.text(&self.strategy_used),
            strategy_used_len: self.strategy_used.len(),
            parameters: arena.text(&self.parameters),
            parameters_len: self.parameters.len(),
        }
    }
}

impl CRecord for StrategyStats {
    type C = gm_strategy;

    fn arena_size(&self) -> (usize, usize) {
        (text_size(&self.strategy), 0)
    }

    fn to_c(&self, arena: &mut Arena) -> gm_strategy {
        gm_strategy {
            avg_delta: self.avg_delta,
            usage_count: self.usage_count,
            strategy: arena.text(&self.strategy),
            strategy_len: self.strategy.len(),
        }
    }
}

/// Stores a learning event and writes its id to `*out_id`. `parameters`
/// (a JSON object) may be NULL for `{}`; `timestamp` may be NULL for now.
/// Errors: `GM_ERR_INVALID_ARGUMENT` for empty names, a non-finite delta or
/// timestamp, or bad parameters. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn gm_store_learning_event(
    store: *mut gm_store,
    task_type: *const c_char,
    performance_delta: f64,
    strategy_used: *const c_char,
    parameters: *const c_char,
    timestamp: *const f64,
    out_id: *mut i64,
) -> gm_status {
    boundary("gm_store_learning_event", || {
        let out_id = out(out_id, "out_id", 0)?;
        let store = store_ref(store)?;
        let task = text(task_type, "task_type")?;
        let strategy = text(strategy_used, "strategy_used")?;
        let params = opt_text(parameters, "parameters")?;
        out_id.set(store.store_learning_event(
            task,
            performance_delta,
            strategy,
            params,
            opt_f64(timestamp),
        )?);
        Ok(())
    })
}

/// Stores `count` learning events in one transaction (all or none) and
/// writes their ids, in order, to the caller's array `out_ids` of `count`
/// slots. `events` may be NULL only when `count` is 0. Every event is
/// checked before anything is written; the message names the first bad
/// index (`events[2].performance_delta: ...`). Inside a `gm_begin` scope on
/// this thread the batch joins that transaction. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn gm_store_learning_events(
    store: *mut gm_store,
    events: *const gm_learning_event_input,
    count: usize,
    out_ids: *mut i64,
) -> gm_status {
    boundary("gm_store_learning_events", || {
        let store = store_ref(store)?;
        store_batch(
            events,
            count,
            out_ids,
            ("events", GM_MAX_BATCH),
            |e| to_new_event(e),
            |batch| store.store_learning_events(batch),
        )
    })
}

/// Writes the events of `task_type`, newest first, at most `limit`, to
/// `*out_list` (free with `gm_learning_event_list_free`); with
/// `min_performance_delta` not NULL, only those with at least that delta.
/// Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn gm_get_learning_events_by_task(
    store: *mut gm_store,
    task_type: *const c_char,
    limit: i64,
    min_performance_delta: *const f64,
    out_list: *mut *mut gm_learning_event_list,
) -> gm_status {
    boundary("gm_get_learning_events_by_task", || {
        let out_list = out(out_list, "out_list", std::ptr::null_mut())?;
        let store = store_ref(store)?;
        let task = text(task_type, "task_type")?;
        let events = store.get_learning_events_by_task(task, limit, opt_f64(min_performance_delta))?;
        out_list.set(into_list(&events, gm_learning_event_list::from));
        Ok(())
    })
}

/// Writes the strategies of `task_type` by average delta, best first, at
/// most `limit`, to `*out_list` (free with `gm_strategy_list_free`).
/// Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn gm_get_best_strategies(
    store: *mut gm_store,
    task_type: *const c_char,
    limit: i64,
    out_list: *mut *mut gm_strategy_list,
) -> gm_status {
    boundary("gm_get_best_strategies", || {
        let out_list = out(out_list, "out_list", std::ptr::null_mut())?;
        let store = store_ref(store)?;
        let strategies = store.get_best_strategies(text(task_type, "task_type")?, limit)?;
        out_list.set(into_list(&strategies, gm_strategy_list::from));
        Ok(())
    })
}

/// Writes the number of stored learning events to `*out_count`.
/// Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn gm_count_learning_events(store: *mut gm_store, out_count: *mut i64) -> gm_status {
    boundary("gm_count_learning_events", || {
        let out_count = out(out_count, "out_count", 0)?;
        out_count.set(store_ref(store)?.count_learning_events()?);
        Ok(())
    })
}

/// Frees a learning-event list with every pointer in it. NULL is a no-op.
#[no_mangle]
pub unsafe extern "C" fn gm_learning_event_list_free(list: *mut gm_learning_event_list) {
    quiet_boundary((), || {
        free_list::<gm_learning_event_list, gm_learning_event>(list)
    })
}

/// Frees a strategy list with every pointer in it. NULL is a no-op.
#[no_mangle]
pub unsafe extern "C" fn gm_strategy_list_free(list: *mut gm_strategy_list) {
    quiet_boundary((), || free_list::<gm_strategy_list, gm_strategy>(list))
}
