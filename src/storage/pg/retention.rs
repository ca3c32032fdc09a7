//! The retention policy, the evictable episodes' counts and evictions, on
//! PostgreSQL. A trigger (`gm_retention_count`, made by migration 9) keeps
//! the counts for writes from any client; it is attached only while a
//! policy is set. Every episode insert then updates the one counting row,
//! which serialises the fleet's episode writes: the budget holds because
//! each writer sees the others' counts.

use postgres::Row;

use super::PgSession;
use crate::error::Result;
use crate::records::{EvictionOrder, Protection, RetentionPolicy, RetentionStatus};
use crate::storage::{RetentionRows, Victims};

/// Evictable episodes as `e` (with their priority as `p` and the policy
/// as `r`), then `$rest`.
macro_rules! evictable {
    ($select:expr, $rest:expr) => {
        concat!(
            "SELECT ",
            $select,
            " FROM episodes e LEFT JOIN gm_episode_priorities p ON p.episode_id = e.id \
             CROSS JOIN gm_retention r \
             WHERE NOT gm_retention_protected(e.metadata, r.protect_key, r.protect_value) ",
            $rest
        )
    };
}

/// The three eviction orders as SQL, for one query shape each.
macro_rules! by_order {
    ($order:expr, $make:ident) => {
        match $order {
            EvictionOrder::Oldest => $make!("e.id"),
            EvictionOrder::LowestScore => $make!("e.performance_score, e.id"),
            EvictionOrder::LowestPriority => $make!("(p.priority IS NULL), p.priority, e.id"),
        }
    };
}

macro_rules! first_n {
    ($order:literal) => {
        evictable!("e.id", concat!("ORDER BY ", $order, " LIMIT $1"))
    };
}

/// The first in order whose bytes, with those before, reach $1.
macro_rules! first_bytes {
    ($order:literal) => {
        concat!(
            "SELECT id FROM (",
            evictable!(
                concat!(
                    "e.id, sum(octet_length(e.experience_data)) OVER (ORDER BY ",
                    $order,
                    " ROWS UNBOUNDED PRECEDING) - octet_length(e.experience_data) AS before, \
                     row_number() OVER (ORDER BY ",
                    $order,
                    ") AS n"
                ),
                ""
            ),
            ") v WHERE before < $1 OR n <= $2 ORDER BY n"
        )
    };
}

fn state(row: &Row) -> (RetentionPolicy, RetentionStatus) {
    let protect = match (row.get::<_, Option<String>>(5), row.get::<_, Option<String>>(6)) {
        (Some(key), Some(value)) => Some(Protection { key, value }),
        _ => None,
    };
    let policy = RetentionPolicy {
        max_episodes: row.get(0),
        max_experience_bytes: row.get(1),
        max_age_seconds: row.get(2),
        keep_top_k: row.get(3),
        top_k_per_context: row.get(4),
        protect,
        order: EvictionOrder::from_name(row.get(7)).unwrap_or_default(),
        eviction_batch: row.get(8),
    };
    let status = RetentionStatus {
        policy: None,
        episodes: row.get(9),
        experience_bytes: row.get(10),
        evicted_total: row.get(11),
    };
    (policy, status)
}

impl RetentionRows for PgSession {
    fn retention_state(&self) -> Result<RetentionStatus> {
        let row = self.query_opt(
            "SELECT max_episodes, max_experience_bytes, max_age_seconds, keep_top_k, \
             top_k_per_context, protect_key, protect_value, eviction_order, eviction_batch, counted_episodes, \
             counted_bytes, evicted FROM gm_retention WHERE id = 1",
            &[],
        )?;
        let Some((policy, status)) = row.as_ref().map(state) else {
            return Ok(RetentionStatus::default());
        };
        Ok(RetentionStatus::counted_under(policy, status))
    }

    fn store_retention_policy(&self, policy: Option<&RetentionPolicy>) -> Result<()> {
        self.batch(
            "DROP TRIGGER IF EXISTS gm_retention_counted ON episodes; \
             DROP INDEX IF EXISTS gm_retention_by_priority; \
             DROP INDEX IF EXISTS gm_retention_by_context_score;",
        )?;
        let none = RetentionPolicy::default();
        let p = policy.unwrap_or(&none);
        let key = p.protect.as_ref().map(|x| x.key.clone());
        let value = p.protect.as_ref().map(|x| x.value.clone());
        self.execute(
            "INSERT INTO gm_retention(id, max_episodes, max_experience_bytes, max_age_seconds, \
             keep_top_k, top_k_per_context, protect_key, protect_value, eviction_order, eviction_batch) \
             VALUES (1, $1, $2, $3, $4, $5, $6, $7, $8, $9) \
             ON CONFLICT (id) DO UPDATE SET max_episodes = $1, max_experience_bytes = $2, \
             max_age_seconds = $3, keep_top_k = $4, top_k_per_context = $5, protect_key = $6, \
             protect_value = $7, eviction_order = $8, eviction_batch = $9",
            &[
                &p.max_episodes,
                &p.max_experience_bytes,
                &p.max_age_seconds,
                &p.keep_top_k,
                &p.top_k_per_context,
                &key,
                &value,
                &p.order.name(),
                &p.eviction_batch,
            ],
        )?;
        if policy.is_none() {
            return Ok(());
        }
        self.batch(
            "CREATE TRIGGER gm_retention_counted \
             AFTER INSERT OR DELETE OR UPDATE OF experience_data, metadata ON episodes \
             FOR EACH ROW EXECUTE FUNCTION gm_retention_count();",
        )?;
        self.recount_retention()?;
        if p.order == EvictionOrder::LowestPriority {
            self.batch("CREATE INDEX gm_retention_by_priority ON gm_episode_priorities(priority)")?;
        }
        if p.top_k_per_context {
            self.batch(
                "CREATE INDEX gm_retention_by_context_score ON episodes(context_hash, performance_score)",
            )?;
        }
        Ok(())
    }

    fn recount_retention(&self) -> Result<()> {
        self.execute(
            "UPDATE gm_retention r SET (counted_episodes, counted_bytes) = \
             (SELECT count(*), coalesce(sum(octet_length(e.experience_data)), 0) FROM episodes e \
              WHERE NOT gm_retention_protected(e.metadata, r.protect_key, r.protect_value)) WHERE id = 1",
            &[],
        )
    }

    fn retention_victims(&self, victims: &Victims<'_>) -> Result<Vec<i64>> {
        let rows = match *victims {
            Victims::OlderThan(cutoff) => self.query(
                evictable!("e.id", "AND e.timestamp < $1 ORDER BY e.timestamp, e.id"),
                &[&cutoff],
            )?,
            Victims::First(order, n) => self.query(by_order!(order, first_n), &[&n])?,
            Victims::FirstBytes {
                order,
                bytes,
                at_least,
            } => self.query(by_order!(order, first_bytes), &[&bytes, &at_least])?,
            Victims::OutsideTopKPerContext(k, context) => self.query(
                concat!(
                    "SELECT id FROM (",
                    evictable!(
                        "e.id, e.performance_score AS score, row_number() OVER \
                         (PARTITION BY e.context_hash ORDER BY e.performance_score DESC, e.id DESC) AS rank",
                        "AND ($2::text IS NULL OR e.context_hash = $2)"
                    ),
                    ") v WHERE rank > $1 ORDER BY score, id"
                ),
                &[&k, &context],
            )?,
        };
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    fn evict_episodes(&self, ids: &[i64]) -> Result<()> {
        if ids.is_empty() {
            return Ok(());
        }
        let gone = self.query("DELETE FROM episodes WHERE id = ANY($1) RETURNING 1", &[&ids])?;
        self.execute(
            "UPDATE gm_retention SET evicted = evicted + $1 WHERE id = 1",
            &[&(gone.len() as i64)],
        )
    }
}
