//! The retention policy, the evictable episodes' counts and evictions, on
//! SQLite.
//!
//! Counting without an insert trigger: any trigger on INSERT makes SQLite
//! open a statement journal for every insert, a copy of each page it
//! changes (16 KiB each): measured, a trigger that does nothing added 15%
//! to a single-episode commit, one that updated a counter 30%. Instead the
//! row keeps a count up to `counted_through_id`, and the episodes above it
//! (inserted since, by anyone: ids only rise under AUTOINCREMENT) are
//! counted when read, a short range scan; gmstore's own inserts fold them
//! into the row every `FOLD_EVERY` ids, so the row's page is rewritten
//! once per that many commits. Deletes and rewrites of counted episodes,
//! by any program (the sqlite3 CLI included), adjust the row through
//! triggers, which exist only while a policy is set, as do the indexes an
//! eviction order needs. A row inserted by another program with an
//! explicit id below `counted_through_id` is missed until the next prune
//! or policy change, which recount. The triggers use only what SQLite 3.38
//! has (`->`, no `octet_length`): Debian 12's sqlite3 is 3.40.

use rusqlite::{params, Connection, OptionalExtension, Row};

use crate::error::Result;
use crate::records::{EvictionOrder, Protection, RetentionPolicy, RetentionStatus};
use crate::storage::{RetentionRows, Victims};

/// Whether the episode `$row` is protected, reading the policy's key and
/// value from `$r` (an alias of `gm_retention`, or empty inside it). False
/// for metadata that is not JSON, as another program may write.
macro_rules! protected {
    ($row:literal, $r:literal) => {
        concat!(
            "coalesce(CASE WHEN ",
            $r,
            "protect_key IS NOT NULL AND json_valid(",
            $row,
            ".metadata) THEN (",
            $row,
            ".metadata -> ('$.\"' || ",
            $r,
            "protect_key || '\"')) = json(",
            $r,
            "protect_value) END, 0)"
        )
    };
}

/// Episodes that may be evicted (id, experience bytes), as `e` among
/// `$from`, with the policy as `r`; ?1 is the LIMIT.
macro_rules! evictable {
    ($from:literal, $where:literal, $order:literal) => {
        concat!(
            "SELECT e.id, length(CAST(e.experience_data AS BLOB)) FROM ",
            $from,
            ", gm_retention r WHERE NOT ",
            protected!("e", "r."),
            " ",
            $where,
            " ORDER BY ",
            $order,
            " LIMIT ?1"
        )
    };
}

/// Length in bytes of an experience, whatever its SQLite type.
macro_rules! bytes_of {
    ($row:literal) => {
        concat!("length(CAST(", $row, ".experience_data AS BLOB))")
    };
}

/// Whether the episode `$row` was counted into the row `$r`, so its
/// delete or rewrite must adjust the count.
macro_rules! counted {
    ($row:literal) => {
        concat!(
            $row,
            ".id <= (SELECT counted_through_id FROM gm_retention WHERE id = 1)"
        )
    };
}

const COUNT_TRIGGERS: &str = concat!(
    "CREATE TRIGGER gm_retention_removed AFTER DELETE ON episodes WHEN ",
    counted!("old"),
    " BEGIN UPDATE gm_retention SET counted_episodes = counted_episodes - 1, \
     counted_bytes = counted_bytes - ",
    bytes_of!("old"),
    " WHERE NOT ",
    protected!("old", ""),
    "; END; ",
    "CREATE TRIGGER gm_retention_rewritten AFTER UPDATE OF experience_data, metadata ON episodes WHEN ",
    counted!("old"),
    " BEGIN UPDATE gm_retention SET counted_episodes = counted_episodes - 1, \
     counted_bytes = counted_bytes - ",
    bytes_of!("old"),
    " WHERE NOT ",
    protected!("old", ""),
    "; UPDATE gm_retention SET counted_episodes = counted_episodes + 1, \
     counted_bytes = counted_bytes + ",
    bytes_of!("new"),
    " WHERE NOT ",
    protected!("new", ""),
    "; END;"
);

const DROP_DERIVED: &str = "DROP TRIGGER IF EXISTS gm_retention_removed; \
     DROP TRIGGER IF EXISTS gm_retention_rewritten; \
     DROP INDEX IF EXISTS gm_retention_by_priority; \
     DROP INDEX IF EXISTS gm_retention_by_context_score;";

/// Counts every evictable episode into the row.
const RECOUNT: &str = concat!(
    "UPDATE gm_retention SET (counted_episodes, counted_bytes, counted_through_id) = \
     (SELECT count(*), coalesce(sum(",
    bytes_of!("e"),
    "), 0), (SELECT coalesce(max(id), 0) FROM episodes) FROM episodes e WHERE NOT ",
    protected!("e", "gm_retention."),
    ") WHERE id = 1"
);

/// Moves the count of the episodes above `counted_through_id` into the row.
const FOLD: &str = concat!(
    "UPDATE gm_retention SET (counted_episodes, counted_bytes, counted_through_id) = \
     (SELECT gm_retention.counted_episodes + count(*), gm_retention.counted_bytes + coalesce(sum(",
    bytes_of!("e"),
    "), 0), (SELECT coalesce(max(id), 0) FROM episodes) FROM episodes e \
     WHERE e.id > gm_retention.counted_through_id AND NOT ",
    protected!("e", "gm_retention."),
    ") WHERE id = 1"
);

/// Ids an insert may leave above `counted_through_id` before it folds
/// them into the row (each read scans them).
const FOLD_EVERY: i64 = 64;

/// The evictable episodes above `counted_through_id`, with the row `r`.
macro_rules! uncounted {
    ($what:expr) => {
        concat!(
            "(SELECT ",
            $what,
            " FROM episodes e WHERE e.id > r.counted_through_id AND NOT ",
            protected!("e", "r."),
            ")"
        )
    };
}

/// After an insert that gave `last_id`: whether a policy with any limit is
/// in force; folds the uncounted episodes into the row once they span
/// `FOLD_EVERY` ids.
pub(super) fn after_insert(conn: &Connection, last_id: i64) -> Result<bool> {
    let found: Option<(bool, i64)> = conn
        .prepare_cached(
            "SELECT coalesce(max_episodes, max_experience_bytes, max_age_seconds, keep_top_k) \
             IS NOT NULL, counted_through_id FROM gm_retention WHERE id = 1",
        )?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let Some((true, through)) = found else {
        return Ok(false);
    };
    if last_id - through >= FOLD_EVERY {
        conn.prepare_cached(FOLD)?.execute([])?;
    }
    Ok(true)
}

fn state_from_row(row: &Row<'_>) -> rusqlite::Result<(RetentionPolicy, RetentionStatus)> {
    let order: String = row.get(7)?;
    let protect = match (row.get::<_, Option<String>>(5)?, row.get::<_, Option<String>>(6)?) {
        (Some(key), Some(value)) => Some(Protection { key, value }),
        _ => None,
    };
    let policy = RetentionPolicy {
        max_episodes: row.get(0)?,
        max_experience_bytes: row.get(1)?,
        max_age_seconds: row.get(2)?,
        keep_top_k: row.get(3)?,
        top_k_per_context: row.get::<_, i64>(4)? != 0,
        protect,
        order: EvictionOrder::from_name(&order).unwrap_or_default(),
        eviction_batch: row.get(8)?,
    };
    let status = RetentionStatus {
        policy: None,
        episodes: row.get(9)?,
        experience_bytes: row.get(10)?,
        evicted_total: row.get(11)?,
    };
    Ok((policy, status))
}

impl RetentionRows for Connection {
    fn retention_state(&self) -> Result<RetentionStatus> {
        let found = self
            .prepare_cached(concat!(
                "SELECT max_episodes, max_experience_bytes, max_age_seconds, keep_top_k, \
                 top_k_per_context, protect_key, protect_value, eviction_order, eviction_batch, \
                 counted_episodes + ",
                uncounted!("count(*)"),
                ", counted_bytes + ",
                uncounted!(concat!("coalesce(sum(", bytes_of!("e"), "), 0)")),
                ", evicted FROM gm_retention r WHERE id = 1"
            ))?
            .query_row([], state_from_row)
            .optional()?;
        let Some((policy, status)) = found else {
            return Ok(RetentionStatus::default());
        };
        Ok(RetentionStatus::counted_under(policy, status))
    }

    fn recount_retention(&self) -> Result<()> {
        self.prepare_cached(RECOUNT)?.execute([])?;
        Ok(())
    }

    fn store_retention_policy(&self, policy: Option<&RetentionPolicy>) -> Result<()> {
        self.execute_batch(DROP_DERIVED)?;
        let none = RetentionPolicy::default();
        let p = policy.unwrap_or(&none);
        let protect = p.protect.as_ref();
        self.execute(
            "INSERT INTO gm_retention(id, max_episodes, max_experience_bytes, max_age_seconds, \
             keep_top_k, top_k_per_context, protect_key, protect_value, eviction_order, eviction_batch) \
             VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) \
             ON CONFLICT(id) DO UPDATE SET max_episodes = ?1, max_experience_bytes = ?2, \
             max_age_seconds = ?3, keep_top_k = ?4, top_k_per_context = ?5, protect_key = ?6, \
             protect_value = ?7, eviction_order = ?8, eviction_batch = ?9",
            params![
                p.max_episodes,
                p.max_experience_bytes,
                p.max_age_seconds,
                p.keep_top_k,
                p.top_k_per_context,
                protect.map(|x| &x.key),
                protect.map(|x| &x.value),
                p.order.name(),
                p.eviction_batch
            ],
        )?;
        if policy.is_none() {
            return Ok(());
        }
        self.execute_batch(COUNT_TRIGGERS)?;
        self.recount_retention()?;
        if p.order == EvictionOrder::LowestPriority {
            self.execute_batch("CREATE INDEX gm_retention_by_priority ON gm_episode_priorities(priority)")?;
        }
        if p.top_k_per_context {
            self.execute_batch(
                "CREATE INDEX gm_retention_by_context_score ON episodes(context_hash, performance_score)",
            )?;
        }
        Ok(())
    }

    fn retention_victims(&self, victims: &Victims<'_>) -> Result<Vec<i64>> {
        match *victims {
            Victims::OlderThan(cutoff) => {
                let mut stmt = self.prepare_cached(evictable!(
                    "episodes e",
                    "AND e.timestamp < ?2",
                    "e.timestamp, e.id"
                ))?;
                let found = stmt.query_map(params![-1, cutoff], |r| r.get(0))?;
                Ok(found.collect::<rusqlite::Result<_>>()?)
            }
            Victims::First(order, n) => first(self, order, Need::Count(n)),
            Victims::FirstBytes {
                order,
                bytes,
                at_least,
            } => first(self, order, Need::Bytes { bytes, at_least }),
            Victims::OutsideTopKPerContext(k, Some(context)) => {
                let mut stmt = self.prepare_cached(concat!(
                    "SELECT e.id FROM episodes e, gm_retention r WHERE e.context_hash = ?1 AND NOT ",
                    protected!("e", "r."),
                    " ORDER BY e.performance_score DESC, e.id DESC LIMIT -1 OFFSET ?2"
                ))?;
                let mut found: Vec<i64> = stmt
                    .query_map(params![context, k], |r| r.get(0))?
                    .collect::<rusqlite::Result<_>>()?;
                found.reverse();
                Ok(found)
            }
            Victims::OutsideTopKPerContext(k, None) => {
                let mut stmt = self.prepare_cached(concat!(
                    "SELECT id FROM (SELECT e.id, e.performance_score AS score, row_number() OVER \
                     (PARTITION BY e.context_hash ORDER BY e.performance_score DESC, e.id DESC) AS rank \
                     FROM episodes e, gm_retention r WHERE NOT ",
                    protected!("e", "r."),
                    ") WHERE rank > ?1 ORDER BY score, id"
                ))?;
                let found = stmt.query_map(params![k], |r| r.get(0))?;
                Ok(found.collect::<rusqlite::Result<_>>()?)
            }
        }
    }

    fn evict_episodes(&self, ids: &[i64]) -> Result<()> {
        if ids.is_empty() {
            return Ok(());
        }
        let mut delete = self.prepare_cached("DELETE FROM episodes WHERE id = ?1")?;
        let mut deleted = 0;
        for id in ids {
            deleted += delete.execute([id])?;
        }
        self.prepare_cached("UPDATE gm_retention SET evicted = evicted + ?1 WHERE id = 1")?
            .execute([deleted as i64])?;
        Ok(())
    }
}

/// How many victims a rule needs: a count, or enough experience bytes.
#[derive(Clone, Copy)]
enum Need {
    Count(i64),
    Bytes { bytes: i64, at_least: i64 },
}

impl Need {
    /// Takes one victim of `bytes`; whether more are needed.
    fn take(&mut self, row_bytes: i64) -> bool {
        match self {
            Need::Count(n) => {
                *n -= 1;
                *n > 0
            }
            Need::Bytes { bytes, at_least } => {
                *bytes -= row_bytes;
                *at_least -= 1;
                *bytes > 0 || *at_least > 0
            }
        }
    }

    /// A LIMIT that returns no more rows than needed (-1: no limit).
    fn limit(self) -> i64 {
        match self {
            Need::Count(n) => n,
            Need::Bytes { .. } => -1,
        }
    }
}

/// The first evictable episodes in `order` until `need` is met.
fn first(conn: &Connection, order: EvictionOrder, mut need: Need) -> Result<Vec<i64>> {
    let queries: &[&str] = match order {
        EvictionOrder::Oldest => &[evictable!("episodes e", "", "e.id")],
        EvictionOrder::LowestScore => &[evictable!("episodes e", "", "e.performance_score, e.id")],
        // Episodes with a priority by it, then those without (they count
        // at the maximum) oldest first.
        EvictionOrder::LowestPriority => &[
            evictable!(
                "gm_episode_priorities p JOIN episodes e ON e.id = p.episode_id",
                "",
                "p.priority, p.episode_id"
            ),
            evictable!(
                "episodes e",
                "AND NOT EXISTS (SELECT 1 FROM gm_episode_priorities p WHERE p.episode_id = e.id)",
                "e.id"
            ),
        ],
    };
    let mut out = Vec::new();
    for sql in queries {
        let mut stmt = conn.prepare_cached(sql)?;
        let mut rows = stmt.query(params![need.limit()])?;
        while let Some(row) = rows.next()? {
            out.push(row.get(0)?);
            if !need.take(row.get(1)?) {
                return Ok(out);
            }
        }
    }
    Ok(out)
}
