//! Transactions across the C ABI: begin, commit, rollback, and handing an
//! open transaction from one thread to another.

use super::boundary::{boundary, out};
use super::handle::{gm_store, store_ref};
use crate::status::*;

/// Begins a transaction owned by the calling thread (nested calls make
/// savepoints). Every gm call this thread makes on the store joins it until
/// the matching `gm_commit` or `gm_rollback`; other threads' writes wait
/// for it, up to `connection_timeout`, and then fail with `GM_ERR_BUSY`
/// naming the thread (its OS thread id) that holds it. End it on the same
/// thread, or hand it to another with `gm_transaction_detach` and
/// `gm_transaction_attach`. If the thread exits with it open, it is rolled
/// back at once; `gm_close` rolls back whatever is open.
///
/// If a call inside it fails with `GM_ERR_FULL`, `GM_ERR_IO` or out of
/// memory, SQLite may roll the whole transaction back (the message then
/// ends "SQLite rolled back the whole transaction"). Every later write,
/// `gm_begin` and `gm_commit` in it returns `GM_ERR_MISUSE` instead of
/// running outside a transaction; `gm_rollback` ends it (once per level).
#[no_mangle]
pub unsafe extern "C" fn gm_begin(store: *mut gm_store) -> gm_status {
    boundary("gm_begin", || store_ref(store)?.begin())
}

/// Commits the calling thread's innermost transaction. `GM_ERR_MISUSE` if
/// this thread has none open, or if SQLite rolled it back after an earlier
/// error (see `gm_begin`; the level is closed all the same).
#[no_mangle]
pub unsafe extern "C" fn gm_commit(store: *mut gm_store) -> gm_status {
    boundary("gm_commit", || store_ref(store)?.commit())
}

/// Rolls back the calling thread's innermost transaction. `GM_ERR_MISUSE`
/// if this thread has none open.
#[no_mangle]
pub unsafe extern "C" fn gm_rollback(store: *mut gm_store) -> gm_status {
    boundary("gm_rollback", || store_ref(store)?.rollback())
}

/// Detaches the calling thread's open transaction, with every nested
/// level, and writes its token to `*out_token` (never 0). The transaction
/// stays open and keeps the writer: other threads' writes still wait, and
/// this thread's calls no longer join it. Give the token to the thread
/// that continues the work (C# code after an `await`, a job system's next
/// worker); it calls `gm_transaction_attach`, then writes, commits or
/// rolls back. A detached transaction survives its thread's exit; `gm_close`
/// rolls it back. `GM_ERR_MISUSE` if this thread has no transaction open.
#[no_mangle]
pub unsafe extern "C" fn gm_transaction_detach(store: *mut gm_store, out_token: *mut u64) -> gm_status {
    boundary("gm_transaction_detach", || {
        let out_token = out(out_token, "out_token", 0)?;
        out_token.set(store_ref(store)?.detach_transaction()?);
        Ok(())
    })
}

/// Makes the detached transaction `token` the calling thread's: its calls
/// join it, and `gm_commit` or `gm_rollback` end it. `GM_ERR_MISUSE` if no
/// transaction with that token is detached (already attached, ended, or a
/// wrong token) or this thread already has one open.
#[no_mangle]
pub unsafe extern "C" fn gm_transaction_attach(store: *mut gm_store, token: u64) -> gm_status {
    boundary("gm_transaction_attach", || {
        store_ref(store)?.attach_transaction(token)
    })
}
