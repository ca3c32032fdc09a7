//! The real `gmstore` binary, every command, and its error exits.
mod common;

use std::path::Path;
use std::process::{Command, Output};

use gmstore::{NewEpisode, Store};

fn gmstore(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gmstore"))
        .args(args)
        .output()
        .expect("run gmstore")
}

fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn populated(dir: &Path) -> String {
    let path = dir.join("mem.db");
    let store = Store::open_path(&path).unwrap();
    let payloads: Vec<Vec<u8>> = (0..25u8).map(|i| vec![i; 100]).collect();
    let batch: Vec<_> = payloads
        .iter()
        .enumerate()
        .map(|(i, p)| NewEpisode::new(p, i as f64 / 25.0, "ctx"))
        .collect();
    store.store_episodes(&batch).unwrap();
    let a = store
        .store_concept("a", &[0.25, -1.5, 3.0], Some(r#"{"k": "v"}"#), None)
        .unwrap();
    let b = store.store_concept("b", &[1.0, 2.0, 3.0], None, None).unwrap();
    store.add_concept_relationship(a, b, "similar_to", 0.75).unwrap();
    store.store_learning_event("t", 0.1, "s", None, None).unwrap();
    path.to_str().unwrap().to_string()
}

#[test]
fn stats_text_and_json() {
    let dir = tempfile::tempdir().unwrap();
    let db = populated(dir.path());
    let out = gmstore(&["stats", &db]);
    assert!(out.status.success());
    assert!(text(&out).0.contains("episodes        25"), "{}", text(&out).0);
    let out = gmstore(&["stats", &db, "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (v["episodes_count"].as_i64(), v["concepts_count"].as_i64()),
        (Some(25), Some(2))
    );
    assert_eq!(v["schema_version"].as_i64(), Some(gmstore::LATEST_VERSION));
}

/// Sets a policy, lists what a prune would evict after a write by the
/// sqlite3 CLI (which the policy cannot stop), then prunes exactly that;
/// backups made before keep every episode.
#[test]
fn retention_and_prune_dry_run_then_apply() {
    let dir = tempfile::tempdir().unwrap();
    let db = populated(dir.path());
    let json = |args: &[&str]| -> serde_json::Value {
        let out = gmstore(args);
        assert!(out.status.success(), "{args:?}: {:?}", text(&out));
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let shown = json(&["retention", &db, "--json"]);
    assert!(shown["policy"].is_null());
    let backup = dir.path().join("before.db");
    assert!(gmstore(&["backup", &db, "--to", backup.to_str().unwrap()])
        .status
        .success());
    let set = json(&[
        "retention",
        &db,
        "--max-episodes",
        "20",
        "--order",
        "lowest_score",
        "--protect",
        "pinned=true",
        "--json",
    ]);
    assert_eq!(set["evicted_now"]["by_count"].as_u64(), Some(5));
    assert_eq!(set["policy"]["max_episodes"].as_i64(), Some(20));
    assert_eq!(set["policy"]["protect"]["pinned"], serde_json::Value::Bool(true));
    let out = gmstore(&["retention", &db]);
    assert!(
        text(&out).0.contains("at most 20 episodes; lowest score first"),
        "{:?}",
        text(&out)
    );

    let sql = "INSERT INTO episodes(timestamp, experience_data, performance_score, context_hash, metadata) \
               VALUES (1, x'00', -1.0, 'cli', '{}'), (2, x'00', -2.0, 'cli', '{\"pinned\": true}'), \
               (3, x'00', 9.0, 'cli', '{}')";
    let out = Command::new("sqlite3")
        .arg(&db)
        .arg(sql)
        .output()
        .expect("sqlite3 CLI");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let plan = json(&["prune", &db, "--dry-run", "--json"]);
    assert_eq!(plan["evicted"]["by_count"].as_u64(), Some(2));
    let stats = json(&["stats", &db, "--json"]);
    assert_eq!(
        stats["episodes_count"].as_i64(),
        Some(23),
        "a dry run changes nothing"
    );
    let out = gmstore(&["prune", &db]);
    assert!(out.status.success());
    let ids: Vec<String> = plan["ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.to_string())
        .collect();
    assert!(
        text(&out).0.contains(&format!("ids: {}", ids.join(" "))),
        "{:?}",
        text(&out)
    );
    let stats = json(&["stats", &db, "--json"]);
    assert_eq!(stats["episodes_count"].as_i64(), Some(21));
    assert_eq!(stats["episodes_evicted"].as_i64(), Some(7));
    let before = Store::open_path(&backup).unwrap();
    assert_eq!(
        before.count_episodes().unwrap(),
        25,
        "backups are untouched by retention"
    );

    let cleared = json(&["retention", &db, "--clear", "--json"]);
    assert!(cleared["policy"].is_null());
    let out = gmstore(&["retention", &db, "--protect", "pinned", "--max-episodes", "3"]);
    assert!(!out.status.success() && text(&out).1.contains("--protect: expected KEY=JSON"));
    let out = gmstore(&["retention", &db, "--max-episodes", "3", "--protect", "pinned=[1]"]);
    assert!(
        !out.status.success() && text(&out).1.contains("protect.value"),
        "{:?}",
        text(&out)
    );
}

#[test]
fn backup_check_vacuum_restore() {
    let dir = tempfile::tempdir().unwrap();
    let db = populated(dir.path());
    let out = gmstore(&["backup", &db]);
    assert!(out.status.success(), "{:?}", text(&out));
    let backup = text(&out).0.trim().to_string();
    assert!(Path::new(&backup).exists() && backup.contains("/backups/mem_"));
    let custom = dir.path().join("custom.db");
    assert!(gmstore(&["backup", &db, "--to", custom.to_str().unwrap()])
        .status
        .success());

    let out = gmstore(&["check", &db]);
    assert!(out.status.success() && text(&out).0.contains("integrity ok"));
    let out = gmstore(&["check", &db, "--json"]);
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()["ok"],
        true
    );
    assert!(gmstore(&["vacuum", &db]).status.success());

    Store::open_path(&db)
        .unwrap()
        .store_episode(&NewEpisode::new(b"later", 0.5, "ctx"))
        .unwrap();
    let out = gmstore(&["restore", &db, custom.to_str().unwrap()]);
    assert!(out.status.success(), "{:?}", text(&out));
    assert_eq!(Store::open_path(&db).unwrap().count_episodes().unwrap(), 25);
}

#[test]
fn export_then_import_reproduces_every_row() {
    let dir = tempfile::tempdir().unwrap();
    let db = populated(dir.path());
    let dump = dir.path().join("dump.jsonl");
    let out = gmstore(&["export", &db, "-o", dump.to_str().unwrap()]);
    assert!(out.status.success(), "{:?}", text(&out));
    assert!(text(&out).1.is_empty(), "no progress bar when not on a terminal");
    let header: serde_json::Value =
        serde_json::from_str(std::fs::read_to_string(&dump).unwrap().lines().next().unwrap()).unwrap();
    assert_eq!(header["format"], "gmstore-export");
    assert_eq!(header["schema_version"].as_i64(), Some(gmstore::LATEST_VERSION));

    let copy = dir.path().join("copy.db");
    let out = gmstore(&["import", copy.to_str().unwrap(), dump.to_str().unwrap()]);
    assert!(out.status.success(), "{:?}", text(&out));
    let out = gmstore(&["export", copy.to_str().unwrap()]);
    let original = std::fs::read_to_string(&dump).unwrap();
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        original,
        "an import exports back byte for byte"
    );

    let out = gmstore(&["import", copy.to_str().unwrap(), dump.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(text(&out).1.contains("not empty"), "{}", text(&out).1);
}

#[test]
fn migrate_upgrades_a_seed_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("seed.db");
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch(gmstore::seed_ddl())
        .unwrap();
    let out = gmstore(&["migrate", path.to_str().unwrap()]);
    assert!(out.status.success(), "{:?}", text(&out));
    let expected = format!("migrated schema version 1 -> {}", gmstore::LATEST_VERSION);
    assert!(text(&out).0.contains(&expected), "{}", text(&out).0);
    assert!(text(&gmstore(&["migrate", path.to_str().unwrap()]))
        .0
        .contains("already at schema version"));
}

#[test]
fn errors_exit_non_zero_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.db");
    let junk = dir.path().join("junk.db");
    std::fs::write(&junk, vec![7u8; 5000]).unwrap();
    let newer = dir.path().join("newer.db");
    drop(Store::open_path(&newer).unwrap());
    rusqlite::Connection::open(&newer)
        .unwrap()
        .execute("INSERT INTO gm_schema_version VALUES (99, 0, 'future')", [])
        .unwrap();
    let fresh = dir.path().join("new.db");
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["stats", missing.to_str().unwrap()], "no such file"),
        (vec!["check", junk.to_str().unwrap()], "not a SQLite database"),
        (
            vec!["stats", newer.to_str().unwrap()],
            "schema version 99 is newer",
        ),
        (
            vec!["migrate", newer.to_str().unwrap()],
            "schema version 99 is newer",
        ),
        (vec!["backup", missing.to_str().unwrap()], "no such file"),
        (
            vec!["import", fresh.to_str().unwrap(), missing.to_str().unwrap()],
            "missing.db",
        ),
        (
            vec!["restore", newer.to_str().unwrap(), junk.to_str().unwrap()],
            "newer",
        ),
    ];
    for (args, fragment) in cases {
        let out = gmstore(&args);
        let (_, stderr) = text(&out);
        assert!(!out.status.success(), "{args:?} should fail");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: one line: {stderr}");
        assert!(
            stderr.starts_with("gmstore: error: ") && stderr.contains(fragment),
            "{args:?}: {stderr}"
        );
    }
    assert!(!missing.exists(), "the CLI never creates a database by accident");
}

fn mode_of(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// An import that does not match its header fails and leaves nothing: a
/// cut export, a cut row, a newer format, a foreign header or a folder as
/// input. A new target path is not left behind as an empty database.
#[test]
fn a_failed_import_fails_whole_and_leaves_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let db = populated(dir.path());
    let dump = dir.path().join("dump.jsonl");
    assert!(gmstore(&["export", &db, "-o", dump.to_str().unwrap()])
        .status
        .success());
    let full = std::fs::read_to_string(&dump).unwrap();
    let lines: Vec<&str> = full.lines().collect();
    let write = |name: &str, content: String| {
        let p = dir.path().join(name);
        std::fs::write(&p, content).unwrap();
        p
    };
    let cut_at_line_end = write("cut.jsonl", lines[..lines.len() - 3].join("\n") + "\n");
    let cut_mid_row = write("midrow.jsonl", full[..full.len() - 40].to_string());
    let newer = write(
        "newer.jsonl",
        full.replacen("\"format_version\":1", "\"format_version\":99", 1),
    );
    let foreign = write("foreign.jsonl", "{\"format\":\"something-else\"}\n".to_string());
    let cases = [
        (cut_at_line_end, "but its header says"),
        (cut_mid_row, "import line"),
        (newer, "format version 99"),
        (foreign, "not a gmstore-export header"),
        (dir.path().to_path_buf(), "is a directory"),
    ];
    for (i, (input, expected)) in cases.iter().enumerate() {
        let target = dir.path().join(format!("new_{i}.db"));
        let out = gmstore(&["import", target.to_str().unwrap(), input.to_str().unwrap()]);
        let (_, stderr) = text(&out);
        assert!(!out.status.success(), "{input:?} must fail");
        assert!(stderr.contains(expected), "{input:?}: {stderr}");
        assert!(
            stderr.contains(input.to_str().unwrap()),
            "names the input: {stderr}"
        );
        for suffix in ["", "-wal", "-shm"] {
            let leftover = format!("{}{suffix}", target.display());
            assert!(!Path::new(&leftover).exists(), "{leftover} left behind");
        }
    }
    // Into an existing empty store: the cut export fails and nothing stays.
    let existing = dir.path().join("existing.db");
    drop(Store::open_path(&existing).unwrap());
    let out = gmstore(&["import", existing.to_str().unwrap(), cases[0].0.to_str().unwrap()]);
    assert!(!out.status.success());
    assert_eq!(Store::open_path(&existing).unwrap().count_episodes().unwrap(), 0);
    assert!(existing.exists(), "an existing target is kept");
}

/// An export holds every row, so it is created 0600 like the database;
/// read-only commands never change the file they read.
#[test]
fn exports_are_private_and_read_only_commands_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = populated(dir.path());
    let dump = dir.path().join("dump.jsonl");
    std::fs::write(&dump, "old content").unwrap();
    std::fs::set_permissions(&dump, std::os::unix::fs::PermissionsExt::from_mode(0o644)).unwrap();
    assert!(gmstore(&["export", &db, "-o", dump.to_str().unwrap()])
        .status
        .success());
    assert_eq!(mode_of(&dump), 0o600);
    let fresh_dump = dir.path().join("fresh.jsonl");
    assert!(gmstore(&["export", &db, "-o", fresh_dump.to_str().unwrap()])
        .status
        .success());
    assert_eq!(mode_of(&fresh_dump), 0o600);

    let empty = dir.path().join("empty.db");
    std::fs::write(&empty, b"").unwrap();
    for command in ["stats", "check", "export"] {
        let out = gmstore(&[command, empty.to_str().unwrap()]);
        assert!(!out.status.success(), "{command} on an empty file");
        assert!(
            text(&out).1.contains("no gmstore schema"),
            "{command}: {}",
            text(&out).1
        );
        assert_eq!(
            std::fs::metadata(&empty).unwrap().len(),
            0,
            "{command} wrote to it"
        );
        assert!(!dir.path().join("empty.db-wal").exists());
    }
    let before = std::fs::read(&db).unwrap();
    for command in ["stats", "check"] {
        assert!(gmstore(&[command, &db]).status.success());
    }
    assert_eq!(
        std::fs::read(&db).unwrap(),
        before,
        "reading commands leave the bytes alone"
    );
}

/// A memory file shipped in a folder this process cannot write (a game's
/// install folder, another user's files) opens read-only and reads: it used
/// to fail with "attempt to write a readonly database" because SQLite could
/// not create the WAL index. Nothing is created in the folder.
#[test]
fn a_store_in_a_folder_nobody_here_may_write_opens_read_only() {
    use std::os::unix::fs::PermissionsExt;
    use std::os::unix::process::CommandExt;
    let dir = tempfile::tempdir().unwrap();
    let shipped = dir.path().join("shipped");
    std::fs::create_dir(&shipped).unwrap();
    let db = populated(&shipped);
    let listing = || {
        let mut names: Vec<_> = std::fs::read_dir(&shipped)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        names.sort();
        names
    };
    let before = listing();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).unwrap();
    std::fs::set_permissions(&shipped, std::fs::Permissions::from_mode(0o555)).unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_gmstore"));
    command.args(["stats", "--json", &db]);
    // Root may write anywhere: run as nobody so the folder is really closed.
    if unsafe { libc::geteuid() } == 0 {
        command.uid(65534).gid(65534);
    }
    let out = command.output().unwrap();
    std::fs::set_permissions(&shipped, std::fs::Permissions::from_mode(0o755)).unwrap();
    assert!(out.status.success(), "{}", text(&out).1);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["episodes_count"].as_i64(), Some(25));
    assert_eq!(listing(), before, "nothing created beside the file");
}

/// Moving between engines with the CLI: export from a file, import into a
/// PostgreSQL store (a connection string wherever a path goes), export
/// again and import back into a file: byte-identical. Needs the server
/// `make test` starts (GMSTORE_TEST_PG); fails without it.
#[test]
fn export_and_import_move_a_store_between_engines_byte_identically() {
    let server =
        std::env::var("GMSTORE_TEST_PG").expect("GMSTORE_TEST_PG: make test starts a PostgreSQL server");
    let dir = tempfile::tempdir().unwrap();
    let db = populated(dir.path());
    let url = format!("{server} store=cli_{}", std::process::id());
    let path = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    let run = |args: &[&str]| {
        let out = gmstore(args);
        assert!(out.status.success(), "{args:?}: {:?}", text(&out));
        text(&out).0
    };
    run(&["export", &db, "-o", &path("from_file.jsonl")]);
    assert!(run(&["import", &url, &path("from_file.jsonl")]).contains("imported 29 rows"));
    run(&["export", &url, "-o", &path("from_server.jsonl")]);
    run(&["import", &path("back.db"), &path("from_server.jsonl")]);
    run(&["export", &path("back.db"), "-o", &path("back.jsonl")]);
    let read = |name: &str| std::fs::read(path(name)).unwrap();
    assert_eq!(read("from_file.jsonl"), read("from_server.jsonl"));
    assert_eq!(read("from_file.jsonl"), read("back.jsonl"));
    let stats: serde_json::Value = serde_json::from_str(&run(&["stats", &url, "--json"])).unwrap();
    assert_eq!(stats["episodes_count"], 25);
    run(&["backup", &url, "--to", &path("server_backup.db")]);
    run(&["check", &path("server_backup.db")]);
    // A password in the connection string never reaches the output.
    let out = gmstore(&[
        "stats",
        "postgresql://me:hunter2@127.0.0.1:1/nowhere?connect_timeout=2",
    ]);
    let (stdout, stderr) = text(&out);
    assert!(
        !out.status.success() && !stdout.contains("hunter2") && !stderr.contains("hunter2"),
        "{stderr}"
    );
}
