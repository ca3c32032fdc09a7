//! Replay sampling for learners: a [`Sampler`] draws episode ids from a
//! store uniformly or in proportion to a priority, returns each with its
//! probability and importance weight, and takes the learner's new
//! priorities back (keyed by generation, so an update for an episode that
//! is gone or was replaced since is reported, never misapplied).
//!
//! The draw (sum trees, weights, generator) is `crate::replay`; this file
//! keeps a sampler's view of the store current and its priorities durable.
//!
//! Durability: a learner's priority updates take effect in the sampler at
//! once and reach the database in batches, in one transaction each: when
//! 4,096 (`FLUSH_EVERY`) are pending, and at [`Sampler::flush`]. A crash
//! loses at most the updates not yet flushed; those episodes keep their
//! previous priority. A write per update would cost more than a whole
//! learner step of an in-memory replay buffer.

use std::collections::HashMap;

use crate::error::{invalid, Error, Result};
use crate::records::Episode;
use crate::replay::{ReplayRng, ReplayTable, RNG_STATE_BYTES};
use crate::storage::{ConceptFeed, ReplayChanges, ReplayMark, ReplayRow, ReplayScope};
use crate::store::Store;
use crate::validate;

pub use crate::replay::{Sample, Weighting};

/// Which episodes a sampler draws from, and how.
#[derive(Debug, Clone, PartialEq)]
pub struct SamplerConfig {
    /// Uniform, or by priority^alpha.
    pub weighting: Weighting,
    /// Only episodes of this context.
    pub context: Option<String>,
    /// Only episodes scoring at least this.
    pub min_score: Option<f64>,
    /// Only episodes scoring at most this.
    pub max_score: Option<f64>,
    /// Seeds the generator: the same seed over the same episodes draws
    /// the same batches.
    pub seed: u64,
}

impl Default for SamplerConfig {
    fn default() -> Self {
        Self {
            weighting: Weighting::Prioritized { alpha: 0.6 },
            context: None,
            min_score: None,
            max_score: None,
            seed: 0,
        }
    }
}

/// A drawn batch.
#[derive(Debug, Clone, PartialEq)]
pub struct SampleBatch {
    /// The episodes drawn, in draw order.
    pub samples: Vec<Sample>,
    /// Episodes the sampler held when it drew (Reverb's `table_size`).
    pub table_size: usize,
}

/// A learner's new priority for an episode it drew.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PriorityUpdate {
    /// The episode's id, as drawn.
    pub id: i64,
    /// Its generation, as drawn.
    pub generation: i64,
    /// The new priority (finite, >= 0).
    pub priority: f64,
}

/// Draws of a batch whose episodes changed before they were read, before
/// `sample_episodes` gives up (each redraw follows the changes first).
const DRAWS_BEFORE_GIVING_UP: usize = 8;

/// Pending priority updates before a flush is considered...
const FLUSH_AFTER: usize = 4096;
/// ...and the least time between two automatic flushes.
const FLUSH_INTERVAL: std::time::Duration = std::time::Duration::from_secs(5);
/// Pending updates that flush at once, whatever the interval (memory).
const FLUSH_AT_MOST: usize = 1 << 20;

/// What a refresh found.
enum Update {
    Nothing,
    /// These ids changed; `rows` are those still in scope, and inserts.
    Changed(Vec<i64>, Vec<ReplayRow>),
    Reload(Vec<ReplayRow>),
}

/// A connection of the sampler's own whose only job is to say whether any
/// other connection committed since it last looked (SQLite's
/// `data_version`, about a microsecond): a learner step then skips the
/// change-log queries (about 70 us) when nothing was written.
struct CommitProbe {
    conn: Box<dyn ConceptFeed>,
    last: Option<i64>,
}

impl std::fmt::Debug for CommitProbe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CommitProbe").field("last", &self.last).finish()
    }
}

/// Draws episodes from one store; see the module documentation. Each
/// call takes the store it was made from.
#[derive(Debug)]
pub struct Sampler {
    config: SamplerConfig,
    table: ReplayTable,
    rng: ReplayRng,
    mark: Option<ReplayMark>,
    /// Updates not yet written, by episode id.
    pending: HashMap<i64, f64>,
    /// When the pending updates were last written (or the sampler made).
    flushed_at: std::time::Instant,
    /// None on a server store (no such probe) and in-memory stores.
    probe: Option<CommitProbe>,
}

impl Store {
    /// A sampler over this store's episodes (loaded on its first draw).
    pub fn sampler(&self, config: SamplerConfig) -> Result<Sampler> {
        check_config(&config)?;
        let probe = if self.is_server() || self.options().is_memory() {
            None
        } else {
            Some(CommitProbe {
                conn: self.open_bulk_reader()?,
                last: None,
            })
        };
        Ok(Sampler {
            table: ReplayTable::new(config.weighting),
            rng: ReplayRng::from_seed(config.seed),
            config,
            mark: None,
            pending: HashMap::new(),
            flushed_at: std::time::Instant::now(),
            probe,
        })
    }

    /// Gives episodes priorities of their own, for writers that compute
    /// one as they store (Ape-X actors); otherwise an episode counts at
    /// the current maximum until a learner updates it. Ids that are not
    /// episodes are skipped; the last priority given for an id wins.
    /// Returns how many episodes were given one.
    pub fn set_episode_priorities(&self, priorities: &[(i64, f64)]) -> Result<usize> {
        for (i, &(_, p)) in priorities.iter().enumerate() {
            non_negative(&format!("priorities[{i}]"), p)?;
        }
        let mut last: HashMap<i64, f64> = HashMap::with_capacity(priorities.len());
        last.extend(priorities.iter().copied());
        let mut unique: Vec<(i64, f64)> = last.into_iter().collect();
        unique.sort_unstable_by_key(|&(id, _)| id);
        self.write_atomic(|s| s.set_priorities(&unique))
    }
}

impl Sampler {
    /// Draws `count` episodes (with or without replacement within the
    /// batch), each with its probability and its importance weight
    /// `(P(i) / P_min)^-beta`. Reads what other handles and processes
    /// changed first.
    pub fn sample(
        &mut self,
        store: &Store,
        count: usize,
        beta: f64,
        with_replacement: bool,
    ) -> Result<SampleBatch> {
        non_negative("beta", beta)?;
        self.refresh(store)?;
        let samples = self.table.sample(&mut self.rng, count, beta, with_replacement)?;
        Ok(SampleBatch {
            samples,
            table_size: self.table.len(),
        })
    }

    /// As [`Sampler::sample`], with the drawn episodes themselves, in draw
    /// order (an episode drawn twice comes twice): one call per learner
    /// step. The episodes are read right after the draw; should another
    /// handle delete or replace one in between, the sampler catches up
    /// and draws the batch again.
    pub fn sample_episodes(
        &mut self,
        store: &Store,
        count: usize,
        beta: f64,
        with_replacement: bool,
    ) -> Result<(SampleBatch, Vec<Episode>)> {
        for _ in 0..DRAWS_BEFORE_GIVING_UP {
            let batch = self.sample(store, count, beta, with_replacement)?;
            let ids: Vec<i64> = batch.samples.iter().map(|s| s.id).collect();
            let read = store.read(|s| s.episodes_by_ids(&ids))?;
            let still_drawn = |(e, s): (&Option<Episode>, &Sample)| {
                e.as_ref()
                    .is_some_and(|e| e.created_at.to_bits() as i64 == s.generation)
            };
            if read.iter().zip(&batch.samples).all(still_drawn) {
                return Ok((batch, read.into_iter().flatten().collect()));
            }
        }
        Err(Error::Busy(format!(
            "sample_episodes: episodes were deleted or replaced between the draw and the read \
             {DRAWS_BEFORE_GIVING_UP} times running"
        )))
    }

    /// Applies new priorities where (id, generation) still names what was
    /// drawn; returns the indexes into `updates` that did not (the episode
    /// is gone, out of this sampler's scope, or was replaced).
    pub fn update_priorities(&mut self, store: &Store, updates: &[PriorityUpdate]) -> Result<Vec<usize>> {
        for (i, u) in updates.iter().enumerate() {
            non_negative(&format!("updates[{i}].priority"), u.priority)?;
        }
        self.refresh(store)?;
        let triples: Vec<(i64, i64, f64)> =
            updates.iter().map(|u| (u.id, u.generation, u.priority)).collect();
        let stale = self.table.set_priorities(&triples);
        let mut is_stale = stale.iter().peekable();
        for (i, u) in updates.iter().enumerate() {
            if is_stale.next_if_eq(&&i).is_none() {
                self.pending.insert(u.id, u.priority);
            }
        }
        let due = self.pending.len() >= FLUSH_AFTER && self.flushed_at.elapsed() >= FLUSH_INTERVAL;
        if due || self.pending.len() >= FLUSH_AT_MOST {
            self.flush(store)?;
        }
        Ok(stale)
    }

    /// Writes the pending priority updates in one transaction; returns
    /// how many were written (an episode deleted meanwhile is skipped).
    pub fn flush(&mut self, store: &Store) -> Result<usize> {
        if self.pending.is_empty() {
            return Ok(0);
        }
        let mut rows: Vec<(i64, f64)> = self.pending.iter().map(|(&id, &p)| (id, p)).collect();
        rows.sort_unstable_by_key(|&(id, _)| id);
        let own_commit = !store.in_transaction();
        let (written, before, after) = store.write_atomic(|s| {
            let before = s.replay_mark()?;
            let written = s.set_priorities(&rows)?;
            Ok((written, before, s.replay_mark()?))
        })?;
        self.pending.clear();
        self.flushed_at = std::time::Instant::now();
        // The log entries this flush wrote say what the sampler already
        // holds: if it had seen everything before them, it need not read
        // them back (thousands of rows re-read per flush). Only when the flush
        // committed by itself: a caller's transaction may still roll back,
        // and its log numbers would then be handed out again.
        let saw_all_before = |m: &&mut ReplayMark| m.seq == before.seq && m.incarnation == before.incarnation;
        if let Some(mark) = self.mark.as_mut().filter(|m| own_commit && saw_all_before(m)) {
            mark.seq = after.seq;
        }
        Ok(written)
    }

    /// Updates not yet written to the database.
    pub fn pending_updates(&self) -> usize {
        self.pending.len()
    }

    /// The generator's state, to save with a learner's checkpoint.
    pub fn rng_state(&self) -> [u8; RNG_STATE_BYTES] {
        self.rng.state()
    }

    /// Continues from a saved generator state.
    pub fn set_rng_state(&mut self, state: &[u8]) -> Result<()> {
        self.rng = ReplayRng::from_state(state)?;
        Ok(())
    }

    /// The configuration it was made with.
    pub fn config(&self) -> &SamplerConfig {
        &self.config
    }

    fn scope(&self) -> ReplayScope<'_> {
        ReplayScope {
            context: self.config.context.as_deref(),
            min_score: self.config.min_score,
            max_score: self.config.max_score,
        }
    }

    /// Brings the view up to date: from the change log when it can say
    /// what changed, else by reloading every episode in scope.
    fn refresh(&mut self, store: &Store) -> Result<()> {
        // Read before the log, so a commit in between is seen now or next
        // time. Inside the caller's transaction its own uncommitted writes
        // move no probe: read the log then.
        let probed = match &mut self.probe {
            Some(p) if !store.in_transaction() => {
                let now = p.conn.commit_probe()?;
                if self.mark.is_some() && p.last == Some(now) {
                    return Ok(());
                }
                Some(now)
            }
            _ => None,
        };
        let scope = self.scope();
        let (update, mark) = store.read(|s| {
            let changes = match &self.mark {
                Some(mark) => s.replay_changes_since(mark)?,
                None => ReplayChanges::Unknown,
            };
            Ok(match changes {
                ReplayChanges::Since(_, now) if Some(&now) == self.mark.as_ref() => (Update::Nothing, now),
                ReplayChanges::Since(changed, now) => {
                    let above = self.mark.as_ref().map_or(0, |m| m.max_id);
                    let rows = s.replay_rows_changed(&scope, &changed, above)?;
                    (Update::Changed(changed, rows), now)
                }
                ReplayChanges::Unknown => {
                    let mark = s.replay_mark()?;
                    (Update::Reload(s.replay_rows(&scope)?), mark)
                }
            })
        })?;
        match update {
            Update::Nothing => {}
            Update::Changed(changed, rows) => self.apply_changes(&changed, rows),
            Update::Reload(rows) => self.reload(rows),
        }
        self.mark = Some(mark);
        if let (Some(p), Some(now)) = (&mut self.probe, probed) {
            p.last = Some(now);
        }
        Ok(())
    }

    fn reload(&mut self, rows: Vec<ReplayRow>) {
        let before = std::mem::replace(&mut self.table, ReplayTable::new(self.config.weighting));
        let held: std::collections::HashSet<i64> = rows.iter().map(|r| r.id).collect();
        self.pending.retain(|id, _| held.contains(id));
        for row in rows {
            let known = before.get(row.id).map(|(generation, _)| generation);
            self.hold(row, known);
        }
    }

    /// `changed` ids not among `rows` left the scope or the store.
    fn apply_changes(&mut self, changed: &[i64], rows: Vec<ReplayRow>) {
        let present: std::collections::HashSet<i64> = rows.iter().map(|r| r.id).collect();
        for id in changed.iter().filter(|id| !present.contains(id)) {
            self.table.remove(*id);
            self.pending.remove(id);
        }
        for row in rows {
            let known = self.table.get(row.id).map(|(generation, _)| generation);
            self.hold(row, known);
        }
    }

    /// Holds a row as read, unless this sampler has a newer priority for
    /// the same episode (`known`: the generation it held) not yet written.
    fn hold(&mut self, row: ReplayRow, known: Option<i64>) {
        let priority = match self.pending.get(&row.id) {
            Some(&p) if known == Some(row.generation) => Some(p),
            _ => {
                self.pending.remove(&row.id);
                row.priority
            }
        };
        self.table.put(row.id, row.generation, priority);
    }
}

fn check_config(config: &SamplerConfig) -> Result<()> {
    if let Weighting::Prioritized { alpha } = config.weighting {
        non_negative("alpha", alpha)?;
    }
    validate::finite_opt("min_score", config.min_score)?;
    validate::finite_opt("max_score", config.max_score)?;
    Ok(())
}

/// A finite number >= 0 (alpha, beta, a priority).
fn non_negative(field: &str, value: f64) -> Result<()> {
    if validate::finite(field, value)? < 0.0 {
        return Err(invalid(field, format!("must be >= 0, got {value}")));
    }
    Ok(())
}
