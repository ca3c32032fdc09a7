//! Every row-level statement of the seam, on PostgreSQL: the same queries
//! as the SQLite engine's, in PostgreSQL's dialect (`$n` parameters,
//! `ANY($1)` for id sets, typed NULL tests).

use std::collections::HashMap;

use postgres::types::{to_sql_checked, IsNull, ToSql, Type};
use postgres::Row;

use super::copies::BinaryRows;
use super::PgSession;
use crate::error::{Error, Result};
use crate::records::{
    Concept, Episode, EpisodeRow, LearningEvent, NewLearningEvent, Relationship, SqlValue, Stats,
    StrategyMoments, StrategyStats,
};
use crate::storage::{
    Admin, Changes, ConceptFeed, ConceptRows, ContentMark, EpisodeRows, GraphRows, LearningRows, MetaRows,
    RelationshipRows, Start, Table,
};
use crate::{meta, validate};

/// The columns the row readers below expect, in order (macros, so each
/// statement is one compile-time string the session can prepare once).
macro_rules! episode_columns {
    () => {
        "id, timestamp, experience_data, performance_score, context_hash, metadata, created_at"
    };
}
macro_rules! concept_columns {
    () => {
        "id, name, embedding, creation_time, access_count, last_accessed, metadata"
    };
}

fn episode(r: &Row) -> Episode {
    Episode {
        id: r.get(0),
        timestamp: r.get(1),
        experience_data: r.get(2),
        performance_score: r.get(3),
        context_hash: r.get(4),
        metadata: r.get::<_, Option<String>>(5).unwrap_or_else(|| "{}".into()),
        created_at: r.get::<_, Option<f64>>(6).unwrap_or(0.0),
    }
}

fn concept(r: &Row) -> Result<Concept> {
    let id: i64 = r.get(0);
    let blob: Vec<u8> = r.get(2);
    Ok(Concept {
        id,
        name: r.get(1),
        embedding: validate::blob_to_embedding(&blob).map_err(|e| e.context(&format!("concept {id}")))?,
        creation_time: r.get(3),
        access_count: r.get::<_, Option<i64>>(4).unwrap_or(0),
        last_accessed: r.get::<_, Option<f64>>(5).unwrap_or(0.0),
        metadata: r.get::<_, Option<String>>(6).unwrap_or_else(|| "{}".into()),
    })
}

impl PgSession {
    /// `n` new ids of `table`, in ascending order, in one round trip: a
    /// batch then goes as one INSERT of arrays with its ids given, and
    /// returns them in input order.
    fn reserve_ids(&self, table: Table, n: usize) -> Result<Vec<i64>> {
        let sql = match table {
            Table::Episodes => {
                "SELECT nextval(pg_get_serial_sequence('episodes', 'id')) FROM generate_series(1, $1)"
            }
            Table::LearningEvents => {
                "SELECT nextval(pg_get_serial_sequence('learning_events', 'id')) FROM generate_series(1, $1)"
            }
            other => return Err(Error::Internal(format!("no batch insert into {}", other.name()))),
        };
        let n = i64::try_from(n).unwrap_or(i64::MAX);
        Ok(self.query(sql, &[&n])?.iter().map(|r| r.get(0)).collect())
    }
}

impl EpisodeRows for PgSession {
    fn insert_episodes(&self, rows: &[EpisodeRow<'_>]) -> Result<(Vec<i64>, bool)> {
        if rows.len() < 2 {
            let inserted = rows
                .iter()
                .map(|e| self.insert_episode(e))
                .collect::<Result<Vec<_>>>()?;
            let in_force = inserted.iter().any(|&(_, in_force)| in_force);
            return Ok((inserted.into_iter().map(|(id, _)| id).collect(), in_force));
        }
        let ids = self.reserve_ids(Table::Episodes, rows.len())?;
        let size: usize = rows
            .iter()
            .map(|e| 64 + e.experience_data.len() + e.metadata.len())
            .sum();
        let mut copy = BinaryRows::new(size);
        for (id, e) in ids.iter().zip(rows) {
            copy.row(6);
            copy.int8(*id);
            copy.float8(e.timestamp);
            copy.bytes(e.experience_data)?;
            copy.float8(e.performance_score);
            copy.bytes(e.context_hash.as_bytes())?;
            copy.bytes(e.metadata.as_bytes())?;
        }
        self.copy_in(
            "COPY episodes (id, timestamp, experience_data, performance_score, context_hash, metadata) \
             FROM STDIN (FORMAT binary)",
            &copy.finish(),
        )?;
        let in_force = self
            .query_one(concat!("SELECT ", retention_in_force!()), &[])?
            .get(0);
        Ok((ids, in_force))
    }

    fn insert_episode(&self, e: &EpisodeRow<'_>) -> Result<(i64, bool)> {
        let row = self.query_one(
            concat!(
                "INSERT INTO episodes (timestamp, experience_data, performance_score, context_hash, metadata) \
                 VALUES ($1, $2, $3, $4, $5) RETURNING id, ",
                retention_in_force!()
            ),
            &[&e.timestamp, &e.experience_data, &e.performance_score, &e.context_hash, &e.metadata],
        )?;
        Ok((row.get(0), row.get(1)))
    }

    fn episode(&self, id: i64) -> Result<Option<Episode>> {
        let sql = concat!("SELECT ", episode_columns!(), " FROM episodes WHERE id = $1");
        Ok(self.query_opt(sql, &[&id])?.as_ref().map(episode))
    }

    fn episodes_by_ids(&self, ids: &[i64]) -> Result<Vec<Option<Episode>>> {
        let sql = concat!("SELECT ", episode_columns!(), " FROM episodes WHERE id = ANY($1)");
        let found: HashMap<i64, Episode> = self
            .query(sql, &[&ids])?
            .iter()
            .map(|r| {
                let e = episode(r);
                (e.id, e)
            })
            .collect();
        Ok(ids.iter().map(|id| found.get(id).cloned()).collect())
    }

    fn episodes_by_context(&self, context: &str, min_score: Option<f64>, limit: i64) -> Result<Vec<Episode>> {
        let sql = concat!(
            "SELECT ",
            episode_columns!(),
            " FROM episodes WHERE context_hash = $1 \
             AND ($2::float8 IS NULL OR performance_score >= $2) ORDER BY timestamp DESC, id DESC LIMIT $3"
        );
        Ok(self
            .query(sql, &[&context, &min_score, &limit])?
            .iter()
            .map(episode)
            .collect())
    }

    fn recent_episodes(&self, since: f64, limit: i64) -> Result<Vec<Episode>> {
        let sql = concat!(
            "SELECT ",
            episode_columns!(),
            " FROM episodes WHERE timestamp >= $1 ORDER BY timestamp DESC, id DESC LIMIT $2"
        );
        Ok(self.query(sql, &[&since, &limit])?.iter().map(episode).collect())
    }
}

impl LearningRows for PgSession {
    fn insert_learning_events(&self, rows: &[NewLearningEvent<'_>]) -> Result<Vec<i64>> {
        if rows.len() < 2 {
            return rows.iter().map(|e| self.insert_learning_event(e)).collect();
        }
        let ids = self.reserve_ids(Table::LearningEvents, rows.len())?;
        let size: usize = rows
            .iter()
            .map(|e| 64 + e.task_type.len() + e.strategy_used.len() + e.parameters.map_or(0, str::len))
            .sum();
        let mut copy = BinaryRows::new(size);
        for (id, e) in ids.iter().zip(rows) {
            copy.row(6);
            copy.int8(*id);
            copy.bytes(e.task_type.as_bytes())?;
            copy.float8(e.performance_delta);
            copy.bytes(e.strategy_used.as_bytes())?;
            copy.float8(e.timestamp.unwrap_or(0.0));
            copy.opt_text(e.parameters)?;
        }
        self.copy_in(
            "COPY learning_events (id, task_type, performance_delta, strategy_used, timestamp, parameters) \
             FROM STDIN (FORMAT binary)",
            &copy.finish(),
        )?;
        Ok(ids)
    }

    fn insert_learning_event(&self, e: &NewLearningEvent<'_>) -> Result<i64> {
        Ok(self
            .query_one(
                "INSERT INTO learning_events (task_type, performance_delta, strategy_used, timestamp, parameters) \
                 VALUES ($1, $2, $3, $4, $5) RETURNING id",
                &[&e.task_type, &e.performance_delta, &e.strategy_used, &e.timestamp, &e.parameters],
            )?
            .get(0))
    }

    fn learning_events_by_task(
        &self,
        task: &str,
        min_delta: Option<f64>,
        limit: i64,
    ) -> Result<Vec<LearningEvent>> {
        let rows = self.query(
            "SELECT id, task_type, performance_delta, strategy_used, timestamp, parameters FROM learning_events \
             WHERE task_type = $1 AND ($2::float8 IS NULL OR performance_delta >= $2) \
             ORDER BY timestamp DESC, id DESC LIMIT $3",
            &[&task, &min_delta, &limit],
        )?;
        Ok(rows
            .iter()
            .map(|r| LearningEvent {
                id: r.get(0),
                task_type: r.get(1),
                performance_delta: r.get(2),
                strategy_used: r.get(3),
                timestamp: r.get(4),
                parameters: r.get::<_, Option<String>>(5).unwrap_or_else(|| "{}".into()),
            })
            .collect())
    }

    fn best_strategies(&self, task: &str, limit: i64) -> Result<Vec<StrategyStats>> {
        let rows = self.query(
            "SELECT strategy_used, avg(performance_delta) AS avg_delta, count(*) FROM learning_events \
             WHERE task_type = $1 GROUP BY strategy_used ORDER BY avg_delta DESC, strategy_used ASC LIMIT $2",
            &[&task, &limit],
        )?;
        Ok(rows
            .iter()
            .map(|r| StrategyStats {
                strategy: r.get(0),
                avg_delta: r.get(1),
                usage_count: r.get(2),
            })
            .collect())
    }

    fn strategy_moments(&self, task: &str, since: Option<f64>) -> Result<Vec<StrategyMoments>> {
        // The corrected two-pass algorithm: the mean first, then the
        // deviations from it, whose sum corrects the mean's rounding.
        // PostgreSQL's own var_samp (Youngs-Cramer) was 1.6e-3 off on
        // near-duplicate deltas where this is exact to rounding.
        let rows = self.query(
            "WITH g AS (SELECT strategy_used AS s, count(*) AS n, avg(performance_delta) AS mean, \
                    min(timestamp) AS first, max(timestamp) AS last FROM learning_events \
                    WHERE task_type = $1 AND ($2::float8 IS NULL OR timestamp >= $2) GROUP BY strategy_used) \
             SELECT g.s, g.n, g.mean + sum(e.performance_delta - g.mean) / g.n, \
                    greatest(sum((e.performance_delta - g.mean) * (e.performance_delta - g.mean)) \
                             - sum(e.performance_delta - g.mean) * sum(e.performance_delta - g.mean) / g.n, 0), \
                    g.first, g.last \
             FROM g JOIN learning_events e ON e.task_type = $1 AND e.strategy_used = g.s \
                  AND ($2::float8 IS NULL OR e.timestamp >= $2) \
             GROUP BY g.s, g.n, g.mean, g.first, g.last ORDER BY g.s COLLATE \"C\"",
            &[&task, &since],
        )?;
        Ok(rows
            .iter()
            .map(|r| StrategyMoments {
                strategy: r.get(0),
                count: r.get(1),
                mean: r.get(2),
                m2: r.get(3),
                first_used: r.get(4),
                last_used: r.get(5),
            })
            .collect())
    }
}

impl RelationshipRows for PgSession {
    fn upsert_relationship(&self, source: i64, target: i64, kind: &str, strength: f64) -> Result<()> {
        self.execute(
            "INSERT INTO concept_relationships (source_concept_id, target_concept_id, relationship_type, strength) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (source_concept_id, target_concept_id, relationship_type) \
             DO UPDATE SET strength = excluded.strength",
            &[&source, &target, &kind, &strength],
        )?;
        Ok(())
    }

    fn relationships_of(&self, concept_id: i64, kind: Option<&str>) -> Result<Vec<Relationship>> {
        let rows = self.query(
            "SELECT target_concept_id, relationship_type, coalesce(strength, 1.0) FROM concept_relationships \
             WHERE source_concept_id = $1 AND ($2::text IS NULL OR relationship_type = $2) \
             ORDER BY strength DESC, target_concept_id ASC",
            &[&concept_id, &kind],
        )?;
        Ok(rows
            .iter()
            .map(|r| Relationship {
                target_id: r.get(0),
                relationship_type: r.get(1),
                strength: r.get(2),
            })
            .collect())
    }
}

impl GraphRows for PgSession {
    fn concept_exists(&self, id: i64) -> Result<bool> {
        Ok(self
            .query_opt("SELECT 1 FROM concepts WHERE id = $1", &[&id])?
            .is_some())
    }

    fn out_edges(&self, from: i64, kind: Option<&str>, min_strength: f64) -> Result<Vec<(i64, f64)>> {
        let rows = self.query(
            "SELECT target_concept_id, coalesce(strength, 1.0) FROM concept_relationships \
             WHERE source_concept_id = $1 AND ($2::text IS NULL OR relationship_type = $2) \
             AND coalesce(strength, 1.0) >= $3",
            &[&from, &kind, &min_strength],
        )?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    fn frontier_targets(&self, frontier: &[i64], kind: Option<&str>, min_strength: f64) -> Result<Vec<i64>> {
        let rows = self.query(
            "SELECT DISTINCT target_concept_id FROM concept_relationships \
             WHERE source_concept_id = ANY($1) AND ($2::text IS NULL OR relationship_type = $2) \
             AND coalesce(strength, 1.0) >= $3",
            &[&frontier, &kind, &min_strength],
        )?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    fn names_by_id(&self, ids: &[i64]) -> Result<HashMap<i64, String>> {
        let rows = self.query("SELECT id, name FROM concepts WHERE id = ANY($1)", &[&ids])?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }
}

impl ConceptRows for PgSession {
    fn upsert_concept(
        &self,
        name: &str,
        blob: &[u8],
        creation_time: Option<f64>,
        metadata: Option<&str>,
        now: f64,
    ) -> Result<i64> {
        Ok(self
            .query_one(
                "INSERT INTO concepts (name, embedding, creation_time, metadata) \
                 VALUES ($1, $2, coalesce($3::float8, $5::float8), coalesce($4::text, '{}')) \
                 ON CONFLICT (name) DO UPDATE SET embedding = excluded.embedding, \
                 creation_time = coalesce($3::float8, concepts.creation_time), \
                 metadata = coalesce($4::text, concepts.metadata) \
                 RETURNING id",
                &[&name, &blob, &creation_time, &metadata, &now],
            )?
            .get(0))
    }

    fn concept(&self, id: i64) -> Result<Option<Concept>> {
        let sql = concat!("SELECT ", concept_columns!(), " FROM concepts WHERE id = $1");
        self.query_opt(sql, &[&id])?.as_ref().map(concept).transpose()
    }

    fn concepts_by_id(&self, ids: &[i64]) -> Result<Vec<Concept>> {
        let sql = concat!("SELECT ", concept_columns!(), " FROM concepts WHERE id = ANY($1)");
        let mut by_id: HashMap<i64, Concept> = HashMap::new();
        for row in self.query(sql, &[&ids])? {
            let c = concept(&row)?;
            by_id.insert(c.id, c);
        }
        ids.iter()
            .map(|id| {
                by_id
                    .get(id)
                    .cloned()
                    .ok_or_else(|| Error::NotFound(format!("no concept with id {id}")))
            })
            .collect()
    }

    fn concept_by_name(&self, name: &str) -> Result<Option<Concept>> {
        let sql = concat!("SELECT ", concept_columns!(), " FROM concepts WHERE name = $1");
        self.query_opt(sql, &[&name])?.as_ref().map(concept).transpose()
    }

    fn concept_by_name_counted(&self, name: &str, now: f64) -> Result<Option<Concept>> {
        let sql = concat!(
            "UPDATE concepts SET access_count = coalesce(access_count, 0) + 1, last_accessed = $2 \
             WHERE name = $1 RETURNING ",
            concept_columns!()
        );
        self.query_opt(sql, &[&name, &now])?
            .as_ref()
            .map(concept)
            .transpose()
    }

    fn add_accesses(&self, id: i64, count: i64, last: f64) -> Result<()> {
        self.execute(
            "UPDATE concepts SET access_count = coalesce(access_count, 0) + $2, \
             last_accessed = greatest(coalesce(last_accessed, 0), $3) WHERE id = $1",
            &[&id, &count, &last],
        )?;
        Ok(())
    }

    fn concept_ids_by_access(&self, like_pattern: &str, limit: i64) -> Result<Vec<i64>> {
        let rows = self.query(
            "SELECT id FROM concepts WHERE $1 = '' OR name ILIKE '%' || $1 || '%' ESCAPE '\\' \
             ORDER BY access_count DESC, id ASC LIMIT $2",
            &[&like_pattern, &limit],
        )?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }
}

/// The transaction-id watermark of this session's snapshot: every
/// transaction below it has ended, so no change log entry below it can
/// still appear. Sequence numbers cannot serve: they are taken before
/// commit, so a reader that saw seq 2 committed may later see seq 1 commit.
fn watermark(session: &PgSession) -> Result<(i64, String)> {
    let row = session.query_one(
        "SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint, pg_current_snapshot()::text",
        &[],
    )?;
    Ok((row.get(0), row.get(1)))
}

impl ConceptFeed for PgSession {
    fn commit_probe(&self) -> Result<i64> {
        // The server offers no cheap "did anyone commit" counter; the
        // change-log query after it is one indexed read.
        static PROBE: std::sync::atomic::AtomicI64 = std::sync::atomic::AtomicI64::new(0);
        Ok(PROBE.fetch_add(1, std::sync::atomic::Ordering::Relaxed))
    }

    fn content_mark(&self) -> Result<ContentMark> {
        let (seq, snapshot) = watermark(self)?;
        Ok(ContentMark {
            seq,
            incarnation: self.meta_get(meta::INCARNATION)?,
            snapshot: Some(snapshot),
        })
    }

    fn origin(&self) -> Result<Option<String>> {
        // The cluster's system identifier tells this server from a copy of
        // the store restored on another, whose transaction ids (the marks)
        // mean other things.
        let row = self.query_one(
            "SELECT (SELECT system_identifier FROM pg_control_system())::text, current_database(), \
             current_schema()",
            &[],
        )?;
        let (server, database, schema): (String, String, String) = (row.get(0), row.get(1), row.get(2));
        Ok(Some(format!("postgresql {server} {database} {schema}")))
    }

    fn changes_since(&self, mark: &ContentMark) -> Result<Changes> {
        let now = self.content_mark()?;
        if now.incarnation != mark.incarnation {
            return Ok(Changes::Unknown);
        }
        // A vacuum pruned entries this mark has not seen yet.
        let pruned_below: Option<i64> = self
            .meta_get(meta::CHANGES_PRUNED_BELOW)?
            .and_then(|v| v.parse().ok());
        if pruned_below.is_some_and(|below| mark.seq < below) {
            return Ok(Changes::Unknown);
        }
        // Every entry this snapshot sees at or above the old watermark:
        // those of transactions that committed after it (even ones above
        // the new watermark, so a writer reads its own writes at once; they
        // are applied again later, which is harmless). The new watermark is
        // this snapshot's xmin: nothing below it can still appear.
        let rows = self.query(
            "SELECT DISTINCT concept_id FROM gm_concept_changes WHERE txid >= $1::text::xid8",
            &[&mark.seq.to_string()],
        )?;
        Ok(Changes::Since(rows.iter().map(|r| r.get(0)).collect(), now))
    }

    fn concept_count(&self) -> Result<usize> {
        let n: i64 = self.query_one("SELECT count(*) FROM concepts", &[])?.get(0);
        Ok(usize::try_from(n).unwrap_or(0))
    }

    fn embedding(&self, id: i64) -> Result<Option<Vec<f32>>> {
        let row = self.query_opt("SELECT embedding FROM concepts WHERE id = $1", &[&id])?;
        row.map(|r| {
            validate::blob_to_embedding(&r.get::<_, Vec<u8>>(0))
                .map_err(|e| e.context(&format!("concept {id}")))
        })
        .transpose()
    }

    fn each_embedding(
        &self,
        start: Start,
        limit: usize,
        f: &mut dyn FnMut(i64, &[u8]) -> Result<()>,
    ) -> Result<()> {
        // Binary COPY streams the rows without building a result set: the
        // whole matrix arrives at the speed of the socket (a query with
        // 50,000 rows of 2 KiB cost more than reading them).
        let order = match start {
            Start::LowestId => "ASC",
            Start::HighestId => "DESC",
        };
        let sql = format!(
            "COPY (SELECT id, embedding FROM concepts ORDER BY id {order} LIMIT {limit}) TO STDOUT (FORMAT binary)"
        );
        let mut client = self.client()?;
        let reader = client.copy_out(sql.as_str()).map_err(|e| self.fail(e))?;
        super::copies::each_binary_row(std::io::BufReader::with_capacity(1 << 20, reader), f)
    }

    fn ids_matching(&self, like_pattern: Option<&str>, min_access_count: Option<i64>) -> Result<Vec<i64>> {
        let rows = self.query(
            "SELECT id FROM concepts WHERE ($1::text IS NULL OR name ILIKE '%' || $1 || '%' ESCAPE '\\') \
             AND ($2::int8 IS NULL OR coalesce(access_count, 0) >= $2)",
            &[&like_pattern, &min_access_count],
        )?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    fn names(&self, ids: &[i64]) -> Result<Vec<String>> {
        let names = self.names_by_id(ids)?;
        ids.iter()
            .map(|id| {
                names
                    .get(id)
                    .cloned()
                    .ok_or_else(|| Error::NotFound(format!("no concept with id {id}")))
            })
            .collect()
    }
}

/// A caller's parameter, converted to whatever type the server inferred
/// for its placeholder (an integer bound where a float8 is expected, as
/// SQLite would accept).
#[derive(Debug)]
pub(super) struct Flexible<'a>(pub(super) &'a SqlValue<'a>);

impl ToSql for Flexible<'_> {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut bytes::BytesMut,
    ) -> std::result::Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match (self.0, ty) {
            (SqlValue::Null, _) => Ok(IsNull::Yes),
            (SqlValue::Integer(i), &Type::INT2) => i16::try_from(*i)?.to_sql(ty, out),
            (SqlValue::Integer(i), &Type::INT4) => i32::try_from(*i)?.to_sql(ty, out),
            (SqlValue::Integer(i), &Type::FLOAT8) => (*i as f64).to_sql(ty, out),
            (SqlValue::Integer(i), &Type::BOOL) => (*i != 0).to_sql(ty, out),
            (SqlValue::Integer(i), &Type::TEXT) => i.to_string().to_sql(ty, out),
            (SqlValue::Integer(i), _) => i.to_sql(ty, out),
            (SqlValue::Real(x), &Type::FLOAT4) => (*x as f32).to_sql(ty, out),
            (SqlValue::Real(x), &Type::TEXT) => x.to_string().to_sql(ty, out),
            (SqlValue::Real(x), _) => x.to_sql(ty, out),
            (SqlValue::Text(t), &Type::BYTEA) => t.as_bytes().to_sql(ty, out),
            (SqlValue::Text(t), _) => t.to_sql(ty, out),
            (SqlValue::Blob(b), _) => b.to_sql(ty, out),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

/// `?` placeholders (the seed's sqlite3 style) as `$1, $2, ...`, outside
/// quotes; statements already in `$n` style pass unchanged.
fn numbered_placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let (mut n, mut quote) = (0u32, None);
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (None, '\'' | '"') => quote = Some(c),
            (Some(q), _) if q == c => quote = None,
            (None, '?') => {
                // `?NNN` names parameter NNN and a bare `?` the one after
                // the highest so far, as in SQLite.
                let mut digits = String::new();
                while let Some(d) = chars.next_if(char::is_ascii_digit) {
                    digits.push(d);
                }
                n = match digits.parse::<u32>() {
                    Ok(numbered) => n.max(numbered),
                    Err(_) => n + 1,
                };
                let index = if digits.is_empty() { n.to_string() } else { digits };
                out.push('$');
                out.push_str(&index);
                continue;
            }
            _ => {}
        }
        out.push(c);
    }
    out
}

impl Admin for PgSession {
    fn execute_raw(&self, sql: &str, params: &[SqlValue<'_>]) -> Result<usize> {
        let first = sql.split_whitespace().next().unwrap_or("").to_ascii_uppercase();
        if matches!(
            first.as_str(),
            "BEGIN"
                | "COMMIT"
                | "ROLLBACK"
                | "SAVEPOINT"
                | "RELEASE"
                | "SET"
                | "RESET"
                | "START"
                | "END"
                | "ABORT"
        ) {
            return Err(crate::error::invalid(
                "sql",
                format!("{first} is not allowed: use the store's transactions"),
            ));
        }
        let values: Vec<Flexible<'_>> = params.iter().map(Flexible).collect();
        let refs: Vec<&(dyn ToSql + Sync)> = values.iter().map(|v| v as &(dyn ToSql + Sync)).collect();
        let changed = self.execute_inferred(&numbered_placeholders(sql), &refs)?;
        // The server counts the rows a SELECT returned; SQLite's engine
        // reports rows changed, which for a query is none.
        let query = matches!(first.as_str(), "SELECT" | "VALUES" | "TABLE" | "SHOW" | "EXPLAIN");
        Ok(if query {
            0
        } else {
            usize::try_from(changed).unwrap_or(usize::MAX)
        })
    }

    fn stats_snapshot(&self) -> Result<Stats> {
        let row = self.query_one(
            "SELECT (SELECT count(*) FROM episodes), (SELECT count(*) FROM concepts), \
             (SELECT count(*) FROM learning_events), (SELECT count(*) FROM concept_relationships), \
             (SELECT coalesce(max(version), 0) FROM gm_schema_version), \
             (SELECT value FROM gm_meta WHERE key = $1), \
             (SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)::bigint FROM pg_class c \
              WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'i', 't'))",
            &[&meta::EMBEDDING_DIM],
        )?;
        Ok(Stats {
            episodes_count: row.get(0),
            concepts_count: row.get(1),
            learning_events_count: row.get(2),
            relationships_count: row.get(3),
            schema_version: row.get(4),
            embedding_dim: row.get::<_, Option<String>>(5).and_then(|t| t.parse().ok()),
            db_size_bytes: u64::try_from(row.get::<_, i64>(6)).unwrap_or(0),
            page_size: 0,
            page_count: 0,
            freelist_count: 0,
            last_backup_time: None,
            retention: None,
            episodes_evicted: 0,
        })
    }

    fn integrity_problems(&self) -> Result<Vec<String>> {
        // The server keeps its own pages sound; what a store can check is
        // its own invariants: every embedding a whole number of floats.
        let rows = self.query(
            "SELECT 'concept ' || id || ': embedding of ' || octet_length(embedding) || ' bytes' \
             FROM concepts WHERE octet_length(embedding) % 4 <> 0 OR octet_length(embedding) = 0",
            &[],
        )?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    fn schema_version(&self) -> Result<i64> {
        super::migrations::version(self)
    }
}

#[cfg(test)]
mod tests {
    use super::numbered_placeholders;

    #[test]
    fn sqlite_placeholders_become_numbered_ones() {
        assert_eq!(numbered_placeholders("a = ? AND b = ?"), "a = $1 AND b = $2");
        // ?NNN keeps its number (it was read as `$1` then `1`: `$11`).
        assert_eq!(
            numbered_placeholders("id = ?1 OR id = ?12"),
            "id = $1 OR id = $12"
        );
        assert_eq!(numbered_placeholders("x = ?2 AND y = ?"), "x = $2 AND y = $3");
        assert_eq!(numbered_placeholders("s = '?1' AND t = ?"), "s = '?1' AND t = $1");
    }
}
