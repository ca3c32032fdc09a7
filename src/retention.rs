//! Retention: a budget for the episodes a store keeps, enforced inside
//! the transaction of every episode write, so that after any commit of
//! gmstore's the store is within it.
//!
//! A policy limits the evictable episodes (every episode but the
//! protected ones) by count, by experience bytes, by age, and to the top
//! k by performance score, overall or per context. When a limit is
//! exceeded, episodes go in the policy's eviction order (Reverb's
//! "remover"): oldest first, lowest score first or lowest priority first.
//! Protected episodes (a metadata key holding a given value, for example
//! demonstrations) are outside the budget: never evicted, never counted.
//!
//! Writes by other programs (the sqlite3 CLI, raw `execute`) are counted
//! by the database itself (triggers) and brought within the budget by the
//! next episode write of gmstore's, or by [`Store::prune`].
//!
//! The rules and their order live here, the same on every engine; the
//! storage seam only counts, selects and deletes.

use std::cell::Cell;

use crate::clock::now;
use crate::error::Result;
pub use crate::records::{EvictionOrder, Evictions, Protection, Pruned, RetentionPolicy, RetentionStatus};
use crate::storage::{Session, Victims};
use crate::store::{atomically, Store};

thread_local! {
    /// (store serial, evictions) of this thread's last episode write.
    static LAST: Cell<(u64, Evictions)> = const { Cell::new((0, Evictions { by_age: 0, by_top_k: 0, by_count: 0, by_bytes: 0 })) };
}

impl Store {
    /// Sets (or with `None` removes) the retention policy and applies it
    /// at once, in one transaction; returns what that evicted.
    pub fn set_retention_policy(&self, policy: Option<&RetentionPolicy>) -> Result<Evictions> {
        let policy = policy.map(RetentionPolicy::validated).transpose()?;
        let policy = policy.filter(RetentionPolicy::limits_anything);
        self.write_atomic(|s| {
            s.store_retention_policy(policy.as_ref())?;
            enforce_current(s, &mut Vec::new())
        })
    }

    /// The policy in force, if any.
    pub fn retention_policy(&self) -> Result<Option<RetentionPolicy>> {
        Ok(self.retention_status()?.policy)
    }

    /// The policy and the budget's counts.
    pub fn retention_status(&self) -> Result<RetentionStatus> {
        self.read(|s| s.retention_state())
    }

    /// Brings the store within its policy (after writes by other programs,
    /// or as time passes under `max_age_seconds`). With `dry_run`, reports
    /// what it would evict and changes nothing.
    pub fn prune(&self, dry_run: bool) -> Result<Pruned> {
        let run = |s: &dyn Session| {
            // A prune is the moment to catch what the engine's bookkeeping
            // may have missed (rows inserted with explicit old ids).
            if s.retention_state()?.policy.is_some() {
                s.recount_retention()?;
            }
            let mut ids = Vec::new();
            let evictions = enforce_current(s, &mut ids)?;
            Ok(Pruned { evictions, ids })
        };
        if !dry_run {
            return self.write_atomic(run);
        }
        self.begin()?;
        let result = self.write_atomic(run);
        self.rollback()?;
        result
    }

    /// What the calling thread's last episode write on this store evicted
    /// (all zero when it evicted nothing or there is no policy).
    pub fn last_evictions(&self) -> Evictions {
        match LAST.with(Cell::get) {
            (serial, evictions) if serial == self.serial() => evictions,
            _ => Evictions::default(),
        }
    }

    /// Runs `insert`, an episode write touching `contexts` in one
    /// statement or `several`, then applies the policy if `insert` found
    /// one in force (its own statement reads that: no extra round trip).
    /// Inside the caller's transaction the evictions are all or none, and a
    /// write of `several` with them; a single insert is one statement,
    /// kept if its evictions fail (the caller's transaction then holds it
    /// and the error: roll back).
    pub(crate) fn write_episodes<T>(
        &self,
        contexts: &[&str],
        several: bool,
        insert: impl FnOnce(&dyn Session) -> Result<(T, bool)>,
    ) -> Result<T> {
        let in_caller_tx = self.in_transaction();
        let write = |s: &dyn Session| {
            let (value, in_force) = insert(s)?;
            if !in_force {
                return Ok((value, Evictions::default()));
            }
            let status = s.retention_state()?;
            let Some(policy) = status.policy.clone() else {
                return Ok((value, Evictions::default()));
            };
            let scope = Scope::Contexts(contexts);
            let run = |s: &dyn Session| enforce(s, &policy, status, &scope, &mut Vec::new());
            let evictions = if in_caller_tx && !several {
                atomically(s, run)?
            } else {
                run(s)?
            };
            Ok((value, evictions))
        };
        let (value, evictions) = if several {
            self.write_atomic(write)?
        } else {
            self.write(write)?
        };
        LAST.with(|last| last.set((self.serial(), evictions)));
        Ok(value)
    }
}

/// Which contexts a per-context top k looks at.
enum Scope<'a> {
    Everything,
    /// Only these (the ones a write touched: the others did not change).
    Contexts(&'a [&'a str]),
}

/// Applies the policy in force, if any; appends evicted ids to `evicted`.
fn enforce_current(s: &dyn Session, evicted: &mut Vec<i64>) -> Result<Evictions> {
    let status = s.retention_state()?;
    match status.policy.clone() {
        Some(policy) => enforce(s, &policy, status, &Scope::Everything, evicted),
        None => Ok(Evictions::default()),
    }
}

/// The budget's counts: as read, until an eviction changes them.
struct Counts<'s> {
    session: &'s dyn Session,
    read: Option<RetentionStatus>,
}

impl Counts<'_> {
    fn now(&mut self) -> Result<&RetentionStatus> {
        if self.read.is_none() {
            self.read = Some(self.session.retention_state()?);
        }
        Ok(self.read.get_or_insert_with(RetentionStatus::default))
    }

    /// Evicts `victims`; returns how many.
    fn evict(&mut self, victims: Victims<'_>, evicted: &mut Vec<i64>) -> Result<u64> {
        let ids = self.session.retention_victims(&victims)?;
        if ids.is_empty() {
            return Ok(0);
        }
        self.session.evict_episodes(&ids)?;
        evicted.extend_from_slice(&ids);
        self.read = None;
        Ok(ids.len() as u64)
    }
}

/// Applies every rule of `policy` to a store whose counts are `status`;
/// appends evicted ids to `evicted`.
fn enforce(
    s: &dyn Session,
    policy: &RetentionPolicy,
    status: RetentionStatus,
    scope: &Scope<'_>,
    evicted: &mut Vec<i64>,
) -> Result<Evictions> {
    let mut counts = Counts {
        session: s,
        read: Some(status),
    };
    let mut evictions = Evictions::default();
    if let Some(age) = policy.max_age_seconds {
        evictions.by_age = counts.evict(Victims::OlderThan(now() - age), evicted)?;
    }
    if let Some(k) = policy.keep_top_k {
        evictions.by_top_k = evict_outside_top_k(&mut counts, policy, k, scope, evicted)?;
    }
    if let Some(max) = policy.max_episodes {
        let excess = counts.now()?.episodes - max;
        if excess > 0 {
            let n = excess.max(policy.eviction_batch);
            evictions.by_count = counts.evict(Victims::First(policy.order, n), evicted)?;
        }
    }
    if let Some(max) = policy.max_experience_bytes {
        let excess = counts.now()?.experience_bytes - max;
        if excess > 0 {
            let victims = Victims::FirstBytes {
                order: policy.order,
                bytes: excess,
                at_least: policy.eviction_batch,
            };
            evictions.by_bytes = counts.evict(victims, evicted)?;
        }
    }
    Ok(evictions)
}

fn evict_outside_top_k(
    counts: &mut Counts<'_>,
    policy: &RetentionPolicy,
    k: i64,
    scope: &Scope<'_>,
    evicted: &mut Vec<i64>,
) -> Result<u64> {
    if !policy.top_k_per_context {
        let excess = counts.now()?.episodes - k;
        if excess <= 0 {
            return Ok(0);
        }
        return counts.evict(Victims::First(EvictionOrder::LowestScore, excess), evicted);
    }
    match scope {
        Scope::Everything => counts.evict(Victims::OutsideTopKPerContext(k, None), evicted),
        Scope::Contexts(contexts) => {
            let mut unique: Vec<&str> = contexts.to_vec();
            unique.sort_unstable();
            unique.dedup();
            let mut n = 0;
            for context in unique {
                n += counts.evict(Victims::OutsideTopKPerContext(k, Some(context)), evicted)?;
            }
            Ok(n)
        }
    }
}
