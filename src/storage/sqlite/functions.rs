//! SQL functions gmstore's own queries call, registered on each of its
//! connections (other programs opening the file neither see nor need them).
//!
//! `gm_strategy_moments(delta, timestamp)` returns a group's count, mean,
//! sum of squared deviations and first and last timestamp, computed in one
//! pass, as 40 bytes: an i64 then four f64, little-endian. SQLite has no
//! variance, and `avg(x*x) - avg(x)*avg(x)` cancels catastrophically on
//! deltas like 1e6 + noise; [`Moments`] does not.
//!
//! It is registered through SQLite's C API rather than rusqlite's
//! `Aggregate` trait: the trait's per-row wrapper (a boxed accumulator
//! behind the aggregate context, an unwind guard, a typed context) cost
//! 15% of the whole scan, which put `strategy_stats` at 1.27x
//! `get_best_strategies` instead of 1.12x over the same covering index
//! (bench/NOTES.md). The two callbacks below touch only SQLite's
//! zero-initialised aggregate memory and their arguments, and cannot panic.

use std::ffi::c_int;

use rusqlite::{ffi, Connection};

use crate::error::{Error, Result};
use crate::estimates::Moments;

/// Bytes of a `gm_strategy_moments` result.
const STRATEGY_MOMENTS_LEN: usize = 40;

/// The per-group state, living in SQLite's aggregate memory. All-zero bytes
/// are a valid value of every field, which is how SQLite hands it over.
#[derive(Default)]
#[repr(C)]
struct StrategyAccumulator {
    deltas: Moments,
    first: f64,
    last: f64,
    /// Set when a value was no number; the group then reports an error.
    poisoned: bool,
}

impl StrategyAccumulator {
    fn push(&mut self, delta: f64, timestamp: f64) {
        if self.deltas.count() == 0 {
            (self.first, self.last) = (timestamp, timestamp);
        }
        self.deltas.push(delta);
        self.first = self.first.min(timestamp);
        self.last = self.last.max(timestamp);
    }

    fn to_bytes(&self) -> [u8; STRATEGY_MOMENTS_LEN] {
        let (mean, m2) = self.deltas.mean_and_m2();
        let mut bytes = [0u8; STRATEGY_MOMENTS_LEN];
        bytes[..8].copy_from_slice(&self.deltas.count().to_le_bytes());
        for (i, x) in [mean, m2, self.first, self.last].into_iter().enumerate() {
            bytes[8 + i * 8..16 + i * 8].copy_from_slice(&x.to_le_bytes());
        }
        bytes
    }
}

/// A numeric SQL value as f64; None for text, blobs and NULL (which
/// `avg` would silently count as 0).
///
/// # Safety
/// `value` must be a valid argument of the current call.
unsafe fn number(value: *mut ffi::sqlite3_value) -> Option<f64> {
    match ffi::sqlite3_value_type(value) {
        ffi::SQLITE_FLOAT | ffi::SQLITE_INTEGER => Some(ffi::sqlite3_value_double(value)),
        _ => None,
    }
}

/// # Safety
/// Called by SQLite only, with two arguments (the arity it was registered with).
unsafe extern "C" fn strategy_moments_step(
    ctx: *mut ffi::sqlite3_context,
    _argc: c_int,
    argv: *mut *mut ffi::sqlite3_value,
) {
    let size = std::mem::size_of::<StrategyAccumulator>() as c_int;
    // SAFETY: SQLite returns memory of `size` bytes, zeroed on the group's
    // first call, aligned for 8-byte values, owned by this aggregate until
    // finalize; NULL only when out of memory.
    let Some(acc) = ffi::sqlite3_aggregate_context(ctx, size)
        .cast::<StrategyAccumulator>()
        .as_mut()
    else {
        ffi::sqlite3_result_error_nomem(ctx);
        return;
    };
    match (number(*argv), number(*argv.add(1))) {
        (Some(delta), Some(timestamp)) => acc.push(delta, timestamp),
        _ => acc.poisoned = true,
    }
}

/// # Safety
/// Called by SQLite only, once per group.
unsafe extern "C" fn strategy_moments_final(ctx: *mut ffi::sqlite3_context) {
    // SAFETY: size 0 asks for the existing memory without allocating: NULL
    // when the group had no rows.
    let acc = ffi::sqlite3_aggregate_context(ctx, 0)
        .cast::<StrategyAccumulator>()
        .as_ref();
    if acc.is_some_and(|a| a.poisoned) {
        let message = c"a performance_delta or timestamp holds text, a blob or NULL, not a number";
        ffi::sqlite3_result_error(ctx, message.as_ptr(), -1);
        return;
    }
    let bytes = acc.map_or([0; STRATEGY_MOMENTS_LEN], StrategyAccumulator::to_bytes);
    // SAFETY: SQLITE_TRANSIENT makes SQLite copy the bytes before returning.
    ffi::sqlite3_result_blob(
        ctx,
        bytes.as_ptr().cast(),
        bytes.len() as c_int,
        ffi::SQLITE_TRANSIENT(),
    );
}

/// Registers gmstore's SQL functions on `conn`.
pub(crate) fn register(conn: &Connection) -> Result<()> {
    let flags = ffi::SQLITE_UTF8 | ffi::SQLITE_DETERMINISTIC | ffi::SQLITE_INNOCUOUS;
    // SAFETY: the handle is live for the call; the name is a C string
    // literal; the callbacks match SQLite's signatures and need no user data.
    let rc = unsafe {
        ffi::sqlite3_create_function_v2(
            conn.handle(),
            c"gm_strategy_moments".as_ptr(),
            2,
            flags,
            std::ptr::null_mut(),
            None,
            Some(strategy_moments_step),
            Some(strategy_moments_final),
            None,
        )
    };
    if rc != ffi::SQLITE_OK {
        return Err(Error::Internal(format!(
            "registering gm_strategy_moments failed with SQLite code {rc}"
        )));
    }
    Ok(())
}
