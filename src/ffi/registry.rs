//! Handles as tokens: the objects a handle names sit in a registry keyed
//! by token, and each call holds its own reference for the call's
//! duration. So a call on a freed handle is reported as `GM_ERR_MISUSE`
//! instead of touching freed memory, and a free that races another
//! thread's call drops the object only after that call returns. Tokens
//! are never reused, across every kind of handle.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};

use crate::error::{invalid, Error, Result};

static NEXT_TOKEN: AtomicUsize = AtomicUsize::new(1);
// Tokens are spaced like aligned pointers so they look like one in a debugger.
const TOKEN_STRIDE: usize = 16;

/// The live objects of one kind of handle.
pub(crate) struct Registry<T> {
    live: RwLock<BTreeMap<usize, Arc<T>>>,
    /// The handle's name in messages ("store", "sampler").
    kind: &'static str,
}

fn poisoned<E>(_: E) -> Error {
    Error::Internal("the handle registry was poisoned by an earlier panic".into())
}

impl<T> Registry<T> {
    pub(crate) const fn new(kind: &'static str) -> Self {
        Self {
            live: RwLock::new(BTreeMap::new()),
            kind,
        }
    }

    /// A new token for `value`.
    pub(crate) fn insert(&self, value: T) -> Result<usize> {
        let token = NEXT_TOKEN.fetch_add(1, Ordering::Relaxed) * TOKEN_STRIDE;
        self.live
            .write()
            .map_err(poisoned)?
            .insert(token, Arc::new(value));
        Ok(token)
    }

    /// The object a token names, held for one call.
    pub(crate) fn get(&self, token: usize) -> Result<Arc<T>> {
        if token == 0 {
            return Err(invalid(self.kind, "must not be NULL"));
        }
        self.live
            .read()
            .map_err(poisoned)?
            .get(&token)
            .cloned()
            .ok_or_else(|| Error::Misuse(format!("{}: handle is freed or was never made", self.kind)))
    }

    /// Takes the object out; None for an unknown token.
    pub(crate) fn remove(&self, token: usize) -> Option<Arc<T>> {
        self.live.write().ok()?.remove(&token)
    }
}
