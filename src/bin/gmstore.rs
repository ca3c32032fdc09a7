//! `gmstore`: inspect, back up, check and move a gmstore database without
//! writing code. Errors print one line and exit non-zero.

use std::fs::File;
use std::io::{self, BufReader, BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use gmstore::{EvictionOrder, Evictions, Options, Protection, RetentionPolicy, Store, LATEST_VERSION};
use indicatif::{ProgressBar, ProgressStyle};

#[derive(Parser)]
#[command(
    name = "gmstore",
    version,
    about = "Inspect and maintain gmstore memory databases"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Counts, size, schema version and backups of a database.
    Stats {
        db: PathBuf,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Back up online (consistent while others write) to the default
    /// backups folder, or to --to.
    Backup {
        db: PathBuf,
        #[arg(long)]
        to: Option<PathBuf>,
    },
    /// Replace the database's content with a verified backup, atomically.
    Restore { db: PathBuf, backup: PathBuf },
    /// Integrity, foreign keys and schema version; exits 1 on problems.
    Check {
        db: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Reclaim free space.
    Vacuum { db: PathBuf },
    /// Upgrade the schema to this version of gmstore (backing up first).
    Migrate { db: PathBuf },
    /// Write every table as JSON Lines to a file or stdout.
    Export {
        db: PathBuf,
        /// Output file; stdout when absent.
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// Load an export into a new or empty database.
    Import { db: PathBuf, input: PathBuf },
    /// Show the retention policy; with a limit, set it (and apply it at
    /// once); with --clear, remove it.
    Retention {
        db: PathBuf,
        /// Keep at most this many evictable episodes.
        #[arg(long)]
        max_episodes: Option<i64>,
        /// Keep at most this many bytes of evictable experiences.
        #[arg(long)]
        max_bytes: Option<i64>,
        /// Evict episodes older than this many seconds (by their timestamp).
        #[arg(long)]
        max_age: Option<f64>,
        /// Keep only the k best-scoring evictable episodes...
        #[arg(long)]
        keep_top_k: Option<i64>,
        /// ...of each context.
        #[arg(long, requires = "keep_top_k")]
        per_context: bool,
        /// Never evict episodes whose metadata KEY holds this JSON value
        /// (KEY=JSON, e.g. demonstration=true).
        #[arg(long, value_name = "KEY=JSON")]
        protect: Option<String>,
        /// Who goes first under --max-episodes and --max-bytes.
        #[arg(long, default_value = "oldest", value_parser = ["oldest", "lowest_score", "lowest_priority"])]
        order: String,
        /// Evict at least this many at once past --max-episodes or
        /// --max-bytes (0: exactly down to the limit).
        #[arg(long, default_value_t = 0)]
        eviction_batch: i64,
        /// Remove the policy.
        #[arg(long, conflicts_with_all = ["max_episodes", "max_bytes", "max_age", "keep_top_k", "protect"])]
        clear: bool,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Evict what the retention policy no longer allows (after writes by
    /// other programs, or as time passes a maximum age).
    Prune {
        db: PathBuf,
        /// List what would be evicted; change nothing.
        #[arg(long)]
        dry_run: bool,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

type CliResult = Result<(), String>;

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// Whether `db` names a PostgreSQL store (a URL or `host=... dbname=...`)
/// rather than a file: every command takes either.
fn is_server(db: &Path) -> bool {
    Options::new(db).server_target().is_some()
}

/// How output names the store: its path, or its connection string with
/// any password blanked.
fn shown(db: &Path) -> String {
    let text = db.display().to_string();
    if !is_server(db) {
        return text;
    }
    // postgresql://user:secret@host/db -> postgresql://user:***@host/db
    let text = match (text.find("://"), text.find('@')) {
        (Some(s), Some(at)) if at > s => match text[s + 3..at].split_once(':') {
            Some((user, _)) => format!("{}{user}:***{}", &text[..s + 3], &text[at..]),
            None => text.clone(),
        },
        _ => text.clone(),
    };
    text.split(' ')
        .map(|kv| {
            if kv.starts_with("password=") {
                "password=***"
            } else {
                kv
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn require_existing(db: &Path) -> CliResult {
    if !is_server(db) && !db.exists() {
        return Err(format!("{}: no such file", db.display()));
    }
    Ok(())
}

/// Opens an existing database; the CLI never creates one by accident.
fn open_existing(db: &Path) -> Result<Store, String> {
    require_existing(db)?;
    Store::open(Options::new(db)).map_err(err)
}

/// For commands that only read: the file is never changed, not even made a
/// gmstore database or migrated.
fn open_to_read(db: &Path) -> Result<Store, String> {
    require_existing(db)?;
    Store::open(Options {
        read_only: true,
        ..Options::new(db)
    })
    .map_err(|e| match e {
        gmstore::Error::ReadOnly(m) if m.contains("needs migrating") => {
            format!("{m} (run 'gmstore migrate {}')", shown(db))
        }
        other => other.to_string(),
    })
}

/// Creates `path` for an export, readable by its owner only: an export
/// holds all the data, as the database (0600) does.
fn create_private(path: &Path) -> Result<File, String> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    file.set_permissions(std::fs::Permissions::from_mode(0o600))
        .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(file)
}

fn progress_bar(label: &str) -> ProgressBar {
    // Drawn on stderr, and only when it is a terminal: quiet when piped.
    if !io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template(&format!("{label} {{bar:40}} {{pos}}/{{len}} rows ({{eta}})"))
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar
}

fn stats(db: &Path, json: bool) -> CliResult {
    let store = open_to_read(db)?;
    let s = store.get_database_stats().map_err(err)?;
    let backups = store.list_backups().map_err(err)?.len();
    if json {
        let value = serde_json::json!({
            "db_path": shown(db),
            "episodes_count": s.episodes_count,
            "concepts_count": s.concepts_count,
            "learning_events_count": s.learning_events_count,
            "relationships_count": s.relationships_count,
            "db_size_bytes": s.db_size_bytes,
            "db_size_mb": s.db_size_mb(),
            "schema_version": s.schema_version,
            "page_size": s.page_size,
            "page_count": s.page_count,
            "freelist_count": s.freelist_count,
            "embedding_dim": s.embedding_dim,
            "last_backup_time": s.last_backup_time,
            "backups": backups,
            "retention": policy_json(s.retention.as_ref()),
            "episodes_evicted": s.episodes_evicted,
        });
        println!("{value}");
        return Ok(());
    }
    println!("database        {}", shown(db));
    println!("episodes        {}", s.episodes_count);
    println!("concepts        {}", s.concepts_count);
    println!("relationships   {}", s.relationships_count);
    println!("learning events {}", s.learning_events_count);
    println!(
        "size            {:.2} MB ({} pages of {} bytes, {} free)",
        s.db_size_mb(),
        s.page_count,
        s.page_size,
        s.freelist_count
    );
    println!("schema version  {}", s.schema_version);
    println!(
        "embedding dim   {}",
        s.embedding_dim.map_or("not fixed yet".into(), |d| d.to_string())
    );
    let last = s.last_backup_time.map_or("none".into(), gmstore::utc_stamp);
    println!("backups         {backups} (newest {last})");
    println!("retention       {}", policy_text(s.retention.as_ref()));
    println!("evicted         {} episodes", s.episodes_evicted);
    Ok(())
}

fn check(db: &Path, json: bool) -> CliResult {
    let store = open_to_read(db)?;
    let problems = store.integrity_check().map_err(err)?;
    let version = store.schema_version().map_err(err)?;
    if json {
        println!(
            "{}",
            serde_json::json!({"ok": problems.is_empty(), "schema_version": version, "problems": problems})
        );
    } else {
        println!("schema version {version} (this gmstore writes {LATEST_VERSION})");
        if problems.is_empty() {
            println!("integrity ok, foreign keys ok");
        }
        for p in &problems {
            println!("problem: {p}");
        }
    }
    match problems.len() {
        0 => Ok(()),
        n => Err(format!("{n} problem(s) found")),
    }
}

fn migrate(db: &Path) -> CliResult {
    if is_server(db) {
        // A server store migrates when it opens, under an advisory lock.
        let store = open_existing(db)?;
        println!(
            "{}: schema version {}",
            shown(db),
            store.schema_version().map_err(err)?
        );
        return Ok(());
    }
    require_existing(db)?;
    let before = gmstore::file_schema_version(db).map_err(|e| format!("{}: {e}", db.display()))?;
    let store = open_existing(db)?;
    let after = store.schema_version().map_err(err)?;
    if before == after {
        println!("already at schema version {after}");
    } else {
        println!(
            "migrated schema version {before} -> {after} (a copy of the old file is in the backups folder)"
        );
    }
    Ok(())
}

fn export(db: &Path, output: Option<&Path>) -> CliResult {
    let store = open_to_read(db)?;
    let bar = progress_bar("export");
    let mut sink: Box<dyn Write> = match output {
        Some(path) => Box::new(BufWriter::new(create_private(path)?)),
        None => Box::new(BufWriter::new(io::stdout().lock())),
    };
    let rows = store
        .export(&mut sink, |done, total| {
            bar.set_length(total);
            bar.set_position(done);
        })
        .map_err(err)?;
    bar.finish_and_clear();
    if output.is_some() {
        println!("exported {rows} rows");
    }
    Ok(())
}

fn import(db: &Path, input: &Path) -> CliResult {
    if input.is_dir() {
        return Err(format!("{}: is a directory, not an export file", input.display()));
    }
    let file = File::open(input).map_err(|e| format!("{}: {e}", input.display()))?;
    let created = !is_server(db) && !db.exists();
    let outcome = import_into(db, input, file);
    if outcome.is_err() && created {
        // A failed import into a new path leaves nothing behind, not an
        // empty database that a second try would have to delete first.
        for suffix in ["", "-wal", "-shm", "-journal"] {
            let mut path = db.as_os_str().to_owned();
            path.push(suffix);
            let _ = std::fs::remove_file(path);
        }
    }
    outcome
}

fn import_into(db: &Path, input: &Path, file: File) -> CliResult {
    let store = Store::open(Options::new(db)).map_err(err)?;
    let bar = progress_bar("import");
    let rows = store
        .import(BufReader::new(file), |done, total| {
            bar.set_length(total);
            bar.set_position(done);
        })
        .map_err(|e| format!("{}: {e}", input.display()))?;
    bar.finish_and_clear();
    println!("imported {rows} rows into {}", shown(db));
    Ok(())
}

/// `KEY=JSON` as a protected subset.
fn protection(text: &str) -> Result<Protection, String> {
    let (key, value) = text
        .split_once('=')
        .ok_or_else(|| format!("--protect: expected KEY=JSON (e.g. demonstration=true), got '{text}'"))?;
    Ok(Protection {
        key: key.to_owned(),
        value: value.to_owned(),
    })
}

fn policy_json(p: Option<&RetentionPolicy>) -> serde_json::Value {
    let Some(p) = p else {
        return serde_json::Value::Null;
    };
    let protect = p.protect.as_ref().map(|x| {
        let value: serde_json::Value = serde_json::from_str(&x.value).unwrap_or(serde_json::Value::Null);
        serde_json::json!({ x.key.clone(): value })
    });
    serde_json::json!({
        "max_episodes": p.max_episodes,
        "max_experience_bytes": p.max_experience_bytes,
        "max_age_seconds": p.max_age_seconds,
        "keep_top_k": p.keep_top_k,
        "top_k_per_context": p.top_k_per_context,
        "protect": protect,
        "order": p.order.name(),
        "eviction_batch": p.eviction_batch,
    })
}

/// One line: the limits in force, or "none".
fn policy_text(p: Option<&RetentionPolicy>) -> String {
    let Some(p) = p else {
        return "none".into();
    };
    let mut parts = Vec::new();
    if let Some(n) = p.max_episodes {
        parts.push(format!("at most {n} episodes"));
    }
    if let Some(n) = p.max_experience_bytes {
        parts.push(format!("at most {n} experience bytes"));
    }
    if let Some(age) = p.max_age_seconds {
        parts.push(format!("none older than {age} s"));
    }
    if let Some(k) = p.keep_top_k {
        let within = if p.top_k_per_context { " per context" } else { "" };
        parts.push(format!("the best {k} by score{within}"));
    }
    let mut text = format!("{}; {} first", parts.join(", "), p.order.name().replace('_', " "));
    if p.eviction_batch > 1 {
        text.push_str(&format!(", {} at a time", p.eviction_batch));
    }
    if let Some(x) = &p.protect {
        text.push_str(&format!(
            "; never episodes whose metadata {} is {}",
            x.key, x.value
        ));
    }
    text
}

fn evictions_json(e: &Evictions) -> serde_json::Value {
    serde_json::json!({
        "by_age": e.by_age, "by_top_k": e.by_top_k, "by_count": e.by_count, "by_bytes": e.by_bytes,
        "total": e.total(),
    })
}

fn evictions_text(e: &Evictions) -> String {
    format!(
        "{} episodes (age {}, top k {}, count {}, bytes {})",
        e.total(),
        e.by_age,
        e.by_top_k,
        e.by_count,
        e.by_bytes
    )
}

fn retention(db: &Path, change: Option<RetentionPolicy>, json: bool) -> CliResult {
    let store = if change.is_some() {
        open_existing(db)?
    } else {
        open_to_read(db)?
    };
    let evicted = match &change {
        Some(policy) => Some(
            store
                .set_retention_policy(Some(policy).filter(|p| p.limits_anything()))
                .map_err(err)?,
        ),
        None => None,
    };
    let status = store.retention_status().map_err(err)?;
    if json {
        let value = serde_json::json!({
            "policy": policy_json(status.policy.as_ref()),
            "episodes": status.episodes,
            "experience_bytes": status.experience_bytes,
            "evicted_total": status.evicted_total,
            "evicted_now": evicted.as_ref().map(evictions_json),
        });
        println!("{value}");
        return Ok(());
    }
    println!("policy   {}", policy_text(status.policy.as_ref()));
    if status.policy.is_some() {
        println!(
            "budget   {} evictable episodes, {} experience bytes",
            status.episodes, status.experience_bytes
        );
    }
    if let Some(e) = evicted {
        println!("evicted  {} now", evictions_text(&e));
    }
    println!("evicted  {} since the store was created", status.evicted_total);
    Ok(())
}

fn prune(db: &Path, dry_run: bool, json: bool) -> CliResult {
    let store = open_existing(db)?;
    let pruned = store.prune(dry_run).map_err(err)?;
    if json {
        let value = serde_json::json!({
            "dry_run": dry_run,
            "evicted": evictions_json(&pruned.evictions),
            "ids": pruned.ids,
        });
        println!("{value}");
        return Ok(());
    }
    let verb = if dry_run { "would evict" } else { "evicted" };
    println!("{verb} {}", evictions_text(&pruned.evictions));
    const SHOWN: usize = 50;
    if !pruned.ids.is_empty() {
        let ids: Vec<String> = pruned.ids.iter().take(SHOWN).map(i64::to_string).collect();
        let more = pruned.ids.len().saturating_sub(SHOWN);
        let tail = if more > 0 {
            format!(" ... and {more} more (--json lists all)")
        } else {
            String::new()
        };
        println!("ids: {}{tail}", ids.join(" "));
    }
    Ok(())
}

fn run(cli: Cli) -> CliResult {
    match cli.command {
        Command::Stats { db, json } => stats(&db, json),
        Command::Backup { db, to } => {
            let info = open_existing(&db)?.create_backup(to.as_deref()).map_err(err)?;
            println!("{}", info.path.display());
            Ok(())
        }
        Command::Restore { db, backup } => {
            open_existing(&db)?.restore(&backup).map_err(err)?;
            println!("restored {} from {}", shown(&db), backup.display());
            Ok(())
        }
        Command::Check { db, json } => check(&db, json),
        Command::Vacuum { db } => {
            let reclaimed = open_existing(&db)?.vacuum().map_err(err)?;
            println!("reclaimed {reclaimed} bytes");
            Ok(())
        }
        Command::Migrate { db } => migrate(&db),
        Command::Export { db, output } => export(&db, output.as_deref()),
        Command::Import { db, input } => import(&db, &input),
        Command::Retention {
            db,
            max_episodes,
            max_bytes,
            max_age,
            keep_top_k,
            per_context,
            protect,
            order,
            eviction_batch,
            clear,
            json,
        } => {
            let policy = RetentionPolicy {
                max_episodes,
                max_experience_bytes: max_bytes,
                max_age_seconds: max_age,
                keep_top_k,
                top_k_per_context: per_context,
                protect: protect.as_deref().map(protection).transpose()?,
                order: EvictionOrder::from_name(&order).map_err(err)?,
                eviction_batch,
            };
            let change = (clear || policy.limits_anything()).then_some(policy);
            retention(&db, change, json)
        }
        Command::Prune { db, dry_run, json } => prune(&db, dry_run, json),
    }
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("gmstore: error: {}", message.lines().next().unwrap_or_default());
            ExitCode::FAILURE
        }
    }
}
