//! The one boundary every exported function goes through: it clears and
//! sets the thread-local error, catches panics, and offers the argument
//! checks (NULL, UTF-8, lengths, finiteness) that turn raw C inputs into
//! safe Rust values.

use std::cell::RefCell;
use std::ffi::{c_char, CStr, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::error::{invalid, Error, Result};
use crate::status::*;

thread_local! {
    static LAST_ERROR: RefCell<CString> = RefCell::new(CString::default());
}

fn set_last_error(message: &str) {
    let clean = CString::new(message.replace('\0', "?")).unwrap_or_default();
    LAST_ERROR.with(|slot| *slot.borrow_mut() = clean);
}

fn clear_last_error() {
    LAST_ERROR.with(|slot| {
        let mut slot = slot.borrow_mut();
        if !slot.as_bytes().is_empty() {
            *slot = CString::default();
        }
    });
}

/// Calls `f` with a pointer to the thread's last error message (NUL
/// terminated, possibly empty).
pub(crate) fn with_last_error<T>(f: impl FnOnce(&CStr) -> T) -> T {
    LAST_ERROR.with(|slot| f(slot.borrow().as_c_str()))
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}

/// Runs the body of an exported function: clears the last error, catches
/// any panic as `GM_ERR_INTERNAL`, and records the message of a failure.
pub(crate) fn boundary(function: &str, body: impl FnOnce() -> Result<()>) -> gm_status {
    clear_last_error();
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => GM_OK,
        Ok(Err(err)) => {
            set_last_error(&err.to_string());
            err.code()
        }
        Err(payload) => {
            set_last_error(&format!(
                "{function}: internal error (caught panic: {}); please report it",
                panic_message(payload.as_ref())
            ));
            GM_ERR_INTERNAL
        }
    }
}

/// For functions that cannot fail (frees, getters): only catches panics.
pub(crate) fn quiet_boundary<T>(fallback: T, body: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or(fallback)
}

/// An out-parameter: checked for NULL, reset to its empty value at once
/// (so a failure never leaves a stale value), and written on success.
pub(crate) struct Out<'a, T>(&'a mut T);

impl<T> Out<'_, T> {
    pub(crate) fn set(self, value: T) {
        *self.0 = value;
    }
}

/// Checks an out-pointer and resets it to `empty`.
///
/// # Safety
/// `ptr` must be NULL or valid for writes of `T`.
pub(crate) unsafe fn out<'a, T>(ptr: *mut T, field: &str, empty: T) -> Result<Out<'a, T>> {
    let slot = ptr.as_mut().ok_or_else(|| null(field))?;
    *slot = empty;
    Ok(Out(slot))
}

/// An out-parameter the caller may pass as NULL: reset to `empty` on
/// entry when given, `None` when not.
///
/// # Safety
/// `ptr` must be NULL or valid for writes of a `T`.
pub(crate) unsafe fn opt_out<'a, T>(ptr: *mut T, empty: T) -> Option<Out<'a, T>> {
    let slot = ptr.as_mut()?;
    *slot = empty;
    Some(Out(slot))
}

pub(crate) fn null(field: &str) -> Error {
    invalid(field, "must not be NULL")
}

/// A required NUL-terminated UTF-8 string.
///
/// # Safety
/// `ptr` must be NULL or point to a NUL-terminated string.
pub(crate) unsafe fn text<'a>(ptr: *const c_char, field: &str) -> Result<&'a str> {
    if ptr.is_null() {
        return Err(null(field));
    }
    CStr::from_ptr(ptr)
        .to_str()
        .map_err(|e| invalid(field, format!("not valid UTF-8 (at byte {})", e.valid_up_to())))
}

/// An optional string: NULL means absent.
///
/// # Safety
/// As [`text`].
pub(crate) unsafe fn opt_text<'a>(ptr: *const c_char, field: &str) -> Result<Option<&'a str>> {
    if ptr.is_null() {
        Ok(None)
    } else {
        text(ptr, field).map(Some)
    }
}

/// UTF-8 text given as (pointer, byte length), not NUL-terminated.
///
/// # Safety
/// As [`slice`].
pub(crate) unsafe fn text_bytes<'a>(ptr: *const u8, len: usize, field: &str, max: usize) -> Result<&'a str> {
    let bytes = slice(ptr, len, field, max)?;
    std::str::from_utf8(bytes)
        .map_err(|e| invalid(field, format!("not valid UTF-8 (at byte {})", e.valid_up_to())))
}

/// A (pointer, count) pair: NULL only with count 0, count at most `max`
/// (checked before the memory is touched).
///
/// # Safety
/// `ptr` must be NULL or valid for reads of `len` elements.
pub(crate) unsafe fn slice<'a, T>(ptr: *const T, len: usize, field: &str, max: usize) -> Result<&'a [T]> {
    if len > max {
        return Err(invalid(
            field,
            format!("length {len} exceeds the maximum of {max}"),
        ));
    }
    if len == 0 {
        return Ok(&[]);
    }
    if ptr.is_null() {
        return Err(invalid(field, format!("is NULL but its length is {len}")));
    }
    Ok(std::slice::from_raw_parts(ptr, len))
}

/// Largest batch accepted by `gm_store_episodes`, `gm_store_episodes_tensors`
/// and `gm_store_learning_events`.
pub const GM_MAX_BATCH: usize = 10_000_000;

/// A batch call's plumbing: checks the (pointer, count) pair and the id
/// array, converts every item (an error names its index, `items[3].x`),
/// stores the batch with `store` and writes the ids to `out_ids`.
///
/// # Safety
/// `items` must be NULL or valid for reads of `count` elements, and
/// `out_ids` NULL or valid for writes of `count` ids.
pub(crate) unsafe fn store_batch<'a, I, T>(
    items: *const I,
    count: usize,
    out_ids: *mut i64,
    (field, max): (&str, usize),
    convert: impl Fn(&'a I) -> Result<T>,
    store: impl FnOnce(&[T]) -> Result<Vec<i64>>,
) -> Result<()>
where
    I: 'a,
{
    let inputs: &'a [I] = slice(items, count, field, max)?;
    if count > 0 && out_ids.is_null() {
        return Err(null("out_ids"));
    }
    let batch = inputs
        .iter()
        .enumerate()
        .map(|(i, item)| convert(item).map_err(|err| err.within(&format!("{field}[{i}]"))))
        .collect::<Result<Vec<_>>>()?;
    let ids = store(&batch)?;
    if count > 0 {
        std::slice::from_raw_parts_mut(out_ids, count).copy_from_slice(&ids);
    }
    Ok(())
}

/// An optional number given as a nullable pointer.
///
/// # Safety
/// `ptr` must be NULL or valid for a read of `f64`.
pub(crate) unsafe fn opt_f64(ptr: *const f64) -> Option<f64> {
    ptr.as_ref().copied()
}

/// A required input struct.
///
/// # Safety
/// `ptr` must be NULL or valid for reads of `T`.
pub(crate) unsafe fn input<'a, T>(ptr: *const T, field: &str) -> Result<&'a T> {
    ptr.as_ref().ok_or_else(|| null(field))
}

/// A C flag byte: 0 or 1 only, so garbage is caught rather than guessed.
pub(crate) fn flag(value: u8, field: &str) -> Result<bool> {
    match value {
        0 => Ok(false),
        1 => Ok(true),
        other => Err(invalid(field, format!("must be 0 or 1, got {other}"))),
    }
}
