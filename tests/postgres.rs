//! The PostgreSQL engine against a real server: `make test` runs these
//! under scripts/pg_throwaway.sh, which sets GMSTORE_TEST_PG. Without it
//! they fail, never skip: CI must provide the server.
mod common;

use std::sync::atomic::{AtomicUsize, Ordering};

use gmstore::{
    EdgeFilter, Error, Metric, NewEpisode, NewLearningEvent, Options, SearchFilter, SqlValue, Store,
    StrategyQuery,
};

fn server() -> String {
    std::env::var("GMSTORE_TEST_PG").expect(
        "GMSTORE_TEST_PG must name a PostgreSQL server (make test starts one: scripts/pg_throwaway.sh)",
    )
}

/// A store name no other test (or earlier run) uses.
fn unique_store(tag: &str) -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    format!(
        "t_{tag}_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

fn target(store: &str) -> String {
    format!("{} store={store}", server())
}

fn open_pg(store: &str) -> Store {
    Store::open(Options::new(target(store))).expect("open a server store")
}

fn raw_client() -> postgres::Client {
    postgres::Client::connect(&server(), postgres::NoTls).expect("connect")
}

/// Every observable result of a scripted session, as text: the same script
/// must give the same text on both engines.
fn exercise(store: &Store) -> Vec<String> {
    let mut seen = Vec::new();
    let mut log = |s: String| seen.push(s);
    let ids: Vec<i64> = (0..6)
        .map(|i| {
            let data = [i as u8, 0, 255];
            let mut e = NewEpisode::new(&data, 0.1 * i as f64, if i % 2 == 0 { "even" } else { "odd" });
            e.timestamp = Some(1000.0 + i as f64);
            e.metadata = Some(r#"{"i": 1}"#);
            store.store_episode(&e).unwrap()
        })
        .collect();
    log(format!("episode ids {ids:?}"));
    let e = store.retrieve_episode(ids[3]).unwrap().unwrap();
    log(format!(
        "{:?} {} {} {} {}",
        e.experience_data, e.performance_score, e.context_hash, e.metadata, e.timestamp
    ));
    log(format!(
        "missing {:?}",
        store.retrieve_episode(424242).unwrap().map(|e| e.id)
    ));
    let ctx: Vec<i64> = store
        .get_episodes_by_context("even", 10, Some(0.15))
        .unwrap()
        .iter()
        .map(|e| e.id)
        .collect();
    log(format!("by context {ctx:?}"));
    log(format!("count {}", store.count_episodes().unwrap()));

    let a = store
        .store_concept("sword", &[1.0, 0.0, 0.0, 0.5], Some(r#"{"k": "w"}"#), Some(5.0))
        .unwrap();
    let b = store
        .store_concept("shield", &[0.9, 0.1, 0.0, 0.4], None, Some(6.0))
        .unwrap();
    let c = store
        .store_concept("potion_100%", &[0.0, 1.0, 0.0, 0.0], None, Some(7.0))
        .unwrap();
    let again = store
        .store_concept("sword", &[1.0, 0.0, 0.0, 0.6], None, None)
        .unwrap();
    log(format!("concepts {a} {b} {c} upsert keeps id {}", again == a));
    let got = store.retrieve_concept_by_name("sword").unwrap().unwrap();
    log(format!(
        "{} {:?} {} {} {}",
        got.name, got.embedding, got.creation_time, got.access_count, got.metadata
    ));
    let names: Vec<String> = store
        .search_concepts("o", 10)
        .unwrap()
        .into_iter()
        .map(|c| c.name)
        .collect();
    log(format!("search {names:?}"));
    let near = store
        .nearest_concepts(&[1.0, 0.0, 0.0, 0.5], 2, Metric::Cosine, &SearchFilter::default())
        .unwrap();
    log(format!(
        "nearest {:?}",
        near.iter().map(|n| (n.id, n.name.clone())).collect::<Vec<_>>()
    ));
    let err = store.store_concept("bad", &[1.0, 2.0], None, None).unwrap_err();
    log(format!(
        "dimension error {}",
        err.to_string()
            .contains("dimension 2 does not match the store's 4")
    ));

    store.add_concept_relationship(a, b, "defends", 0.5).unwrap();
    store.add_concept_relationship(b, c, "needs", 0.8).unwrap();
    store.add_concept_relationship(a, c, "needs", 0.3).unwrap();
    let hood = store.concept_neighborhood(a, 2, &EdgeFilter::default()).unwrap();
    let mut hood: Vec<(i64, u32)> = hood.iter().map(|r| (r.id, r.hops)).collect();
    hood.sort();
    log(format!("neighbourhood {hood:?}"));
    let path = store
        .strongest_path(a, c, &EdgeFilter::default())
        .unwrap()
        .unwrap();
    log(format!("path {:?} {}", path.ids, path.strength));
    let rels: Vec<(i64, String, f64)> = store
        .get_concept_relationships(a, None)
        .unwrap()
        .into_iter()
        .map(|r| (r.target_id, r.relationship_type, r.strength))
        .collect();
    log(format!("relationships {rels:?}"));
    let err = store.add_concept_relationship(a, 424242, "x", 0.5).unwrap_err();
    log(format!("missing target {}", matches!(err, Error::NotFound(_))));

    for (i, (task, delta, strategy)) in [
        ("t", 1.0, "a"),
        ("t", 2.0, "a"),
        ("t", 3.0, "b"),
        ("t", 1e6 + 0.25, "c"),
        ("t", 1e6 - 0.25, "c"),
        ("u", 9.0, "z"),
    ]
    .iter()
    .enumerate()
    {
        store
            .store_learning_event(task, *delta, strategy, None, Some(i as f64))
            .unwrap();
    }
    let mut batch = [
        NewLearningEvent::new("t", 0.5, "b"),
        NewLearningEvent::new("t", 0.7, "d"),
    ];
    batch[0].timestamp = Some(10.0);
    batch[1].timestamp = Some(11.0);
    log(format!(
        "batch ids ascending {}",
        store
            .store_learning_events(&batch)
            .map(|ids| ids[1] == ids[0] + 1)
            .unwrap()
    ));
    let best = store.get_best_strategies("t", 10).unwrap();
    log(format!(
        "best {:?}",
        best.iter()
            .map(|s| (s.strategy.clone(), s.avg_delta, s.usage_count))
            .collect::<Vec<_>>()
    ));
    for s in store.strategy_stats("t", &StrategyQuery::default()).unwrap() {
        log(format!(
            "stats {} {} {} {:.12e} {:.12e} {} {}",
            s.strategy, s.count, s.mean, s.std_dev, s.ci_low, s.first_used, s.last_used
        ));
    }
    let events = store.get_learning_events_by_task("t", 3, Some(0.9)).unwrap();
    log(format!(
        "events {:?}",
        events
            .iter()
            .map(|e| (e.strategy_used.clone(), e.performance_delta))
            .collect::<Vec<_>>()
    ));

    // transactions: the thread that begins owns them; nested begins are savepoints
    store.begin().unwrap();
    store.store_episode(&NewEpisode::new(b"tx", 0.5, "tx")).unwrap();
    store.begin().unwrap();
    store
        .store_episode(&NewEpisode::new(b"inner", 0.5, "tx"))
        .unwrap();
    store.rollback().unwrap();
    store.commit().unwrap();
    log(format!(
        "after nested rollback {}",
        store.get_episodes_by_context("tx", 10, None).unwrap().len()
    ));
    log(format!(
        "commit without tx {}",
        matches!(store.commit(), Err(Error::Misuse(_)))
    ));
    let changed = store
        .execute(
            "UPDATE episodes SET metadata = ? WHERE context_hash = ? AND performance_score > ?",
            &[
                SqlValue::Text(r#"{"x": 2}"#),
                SqlValue::Text("odd"),
                SqlValue::Integer(0),
            ],
        )
        .unwrap();
    log(format!("execute changed {changed}"));
    let s = store.get_database_stats().unwrap();
    log(format!(
        "stats e{} c{} l{} r{} v{} d{:?}",
        s.episodes_count,
        s.concepts_count,
        s.learning_events_count,
        s.relationships_count,
        s.schema_version,
        s.embedding_dim
    ));
    log(format!("integrity {:?}", store.integrity_check().unwrap()));
    seen
}

#[test]
fn every_operation_gives_the_same_results_on_both_engines() {
    let sqlite = common::temp_store();
    let name = unique_store("same");
    let pg = open_pg(&name);
    let on_sqlite = exercise(&sqlite.store);
    let on_pg = exercise(&pg);
    for (s, p) in on_sqlite.iter().zip(&on_pg) {
        assert_eq!(s, p, "SQLite and PostgreSQL differ");
    }
    assert_eq!(on_sqlite.len(), on_pg.len());
    assert!(pg.is_server() && !sqlite.store.is_server());
    assert!(pg.label().contains(&name) && !pg.label().contains("password"));
}

#[test]
fn stores_sharing_a_database_do_not_see_each_others_rows() {
    let (a, b) = (open_pg(&unique_store("iso")), open_pg(&unique_store("iso")));
    a.store_episode(&NewEpisode::new(b"a", 0.5, "ctx")).unwrap();
    assert_eq!((a.count_episodes().unwrap(), b.count_episodes().unwrap()), (1, 0));
    assert!(b.get_episodes_by_context("ctx", 10, None).unwrap().is_empty());
}

#[test]
fn a_fleet_opening_one_new_store_at_once_migrates_it_once() {
    let name = unique_store("fleet");
    let handles: Vec<_> = (0..6)
        .map(|_| {
            let name = name.clone();
            std::thread::spawn(move || open_pg(&name).schema_version().unwrap())
        })
        .collect();
    for h in handles {
        assert_eq!(h.join().unwrap(), gmstore::LATEST_VERSION);
    }
    let mut client = raw_client();
    let rows = client
        .query(
            &format!("SELECT version, checksum FROM \"gm_{name}\".gm_schema_version"),
            &[],
        )
        .unwrap();
    let versions: Vec<i64> = rows.iter().map(|r| r.get(0)).collect();
    let mut once = versions.clone();
    once.sort_unstable();
    once.dedup();
    assert_eq!(once.len(), versions.len(), "each step applied once: {versions:?}");
    assert_eq!(versions.iter().max(), Some(&gmstore::LATEST_VERSION));
    assert!(
        rows.iter().all(|r| r.get::<_, String>(1).len() == 16),
        "recorded with a checksum"
    );
}

#[test]
fn a_newer_schema_or_a_changed_migration_is_refused_untouched() {
    let name = unique_store("newer");
    open_pg(&name)
        .store_episode(&NewEpisode::new(b"kept", 0.5, "c"))
        .unwrap();
    let mut client = raw_client();
    client
        .batch_execute(&format!(
            "INSERT INTO \"gm_{name}\".gm_schema_version(version, description, checksum) VALUES (99, 'future', 'x')"
        ))
        .unwrap();
    let err = Store::open(Options::new(target(&name))).err().unwrap();
    assert!(
        matches!(err, Error::SchemaTooNew(_)) && err.to_string().contains("99"),
        "{err}"
    );
    client
        .batch_execute(&format!(
            "DELETE FROM \"gm_{name}\".gm_schema_version WHERE version = 99"
        ))
        .unwrap();
    client
        .batch_execute(&format!(
            "UPDATE \"gm_{name}\".gm_schema_version SET checksum = 'tampered'"
        ))
        .unwrap();
    let err = Store::open(Options::new(target(&name))).err().unwrap();
    assert!(
        matches!(err, Error::Corrupt(_)) && err.to_string().contains("checksum"),
        "{err}"
    );
    let kept: i64 = client
        .query_one(&format!("SELECT count(*) FROM \"gm_{name}\".episodes"), &[])
        .unwrap()
        .get(0);
    assert_eq!(kept, 1);
}

/// The trap of a plain sequence cursor: transaction A takes seq 1 and stays
/// open while B takes seq 2 and commits; a reader that moves its cursor to
/// 2 never sees 1 when A commits. The store's cache follows the
/// transaction-id watermark and finds both.
#[test]
fn the_knn_cache_sees_concepts_committed_out_of_order() {
    let name = unique_store("order");
    let store = open_pg(&name);
    store.store_concept("seed", &[0.0, 0.0, 1.0], None, None).unwrap();
    let probe = |q: [f32; 3]| -> Vec<String> {
        store
            .nearest_concepts(&q, 3, Metric::Cosine, &SearchFilter::default())
            .unwrap()
            .into_iter()
            .map(|n| n.name)
            .collect()
    };
    assert_eq!(probe([0.0, 0.0, 1.0]), ["seed"]);
    let schema = format!("\"gm_{name}\"");
    let mut a = raw_client();
    a.batch_execute(&format!(
        "SET search_path TO {schema}; BEGIN; \
         INSERT INTO concepts(name, embedding, creation_time) VALUES ('early', '\\x0000803f0000000000000000', 0)"
    ))
    .unwrap();
    let a_seq: i64 = a
        .query_one("SELECT max(seq) FROM gm_concept_changes", &[])
        .unwrap()
        .get(0);
    // B commits after A took its sequence number.
    store.store_concept("late", &[0.0, 1.0, 0.0], None, None).unwrap();
    assert!(probe([0.0, 1.0, 0.0]).contains(&"late".to_string()));
    let mut naive = raw_client();
    naive
        .batch_execute(&format!("SET search_path TO {schema}"))
        .unwrap();
    let naive_cursor: i64 = naive
        .query_one("SELECT max(seq) FROM gm_concept_changes", &[])
        .unwrap()
        .get(0);
    assert!(
        naive_cursor > a_seq,
        "B's entry is visible with a higher seq while A's is not"
    );
    a.batch_execute("COMMIT").unwrap();
    let naive_sees: i64 = naive
        .query_one(
            "SELECT count(*) FROM gm_concept_changes WHERE seq > $1",
            &[&naive_cursor],
        )
        .unwrap()
        .get(0);
    assert_eq!(naive_sees, 0, "the naive cursor misses A's commit");
    assert_eq!(probe([1.0, 0.0, 0.0])[0], "early", "the store's cache does not");
}

#[test]
fn unreachable_servers_and_bad_targets_are_clear_errors_without_passwords() {
    let err = Store::open(Options::new(
        "postgresql://me:hunter2@127.0.0.1:1/nowhere?connect_timeout=2",
    ))
    .err()
    .unwrap();
    let text = err.to_string();
    assert!(matches!(err, Error::Io(_)), "{err:?}");
    assert!(
        text.contains("127.0.0.1/nowhere") && !text.contains("hunter2"),
        "{text}"
    );
    let err = Store::open(Options::new(format!("{} store=bad-name", server())))
        .err()
        .unwrap();
    assert!(
        matches!(err, Error::InvalidArgument(_)) && err.to_string().contains("store"),
        "{err}"
    );
}

fn fill(store: &Store) {
    for i in 0..20 {
        let data = vec![i as u8; 3 + i];
        let mut e = NewEpisode::new(&data, i as f64 / 7.0, "ctx");
        e.timestamp = Some(100.0 + i as f64);
        store.store_episode(&e).unwrap();
        store
            .store_concept(
                &format!("c{i}"),
                &[i as f32, 1.0 / (i + 1) as f32, -0.5],
                None,
                Some(1.0),
            )
            .unwrap();
        store
            .store_learning_event(
                "task",
                1e6 + i as f64 / 3.0,
                "s",
                Some(r#"{"i": 1}"#),
                Some(i as f64),
            )
            .unwrap();
    }
    store.add_concept_relationship(1, 2, "r", 0.25).unwrap();
}

fn export_text(store: &Store) -> String {
    let mut out = Vec::new();
    store.export(&mut out, |_, _| {}).unwrap();
    String::from_utf8(out).unwrap()
}

#[test]
fn export_from_sqlite_import_into_postgres_and_back_is_byte_identical() {
    let file = common::temp_store();
    fill(&file.store);
    let original = export_text(&file.store);
    let pg = open_pg(&unique_store("transfer"));
    pg.import(original.as_bytes(), |_, _| {}).unwrap();
    assert_eq!(export_text(&pg), original, "SQLite -> PostgreSQL");
    let back = common::temp_store();
    back.store.import(export_text(&pg).as_bytes(), |_, _| {}).unwrap();
    assert_eq!(export_text(&back.store), original, "PostgreSQL -> SQLite");
    // New rows continue after the imported ids.
    let id = pg.store_episode(&NewEpisode::new(b"new", 0.5, "ctx")).unwrap();
    assert_eq!(id, 21);
}

#[test]
fn a_server_store_backs_up_to_a_sqlite_file_and_restores_from_it() {
    let pg = open_pg(&unique_store("backup"));
    fill(&pg);
    let before = export_text(&pg);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("server_backup.db");
    let info = pg.create_backup(Some(&path)).unwrap();
    assert_eq!(info.schema_version, gmstore::LATEST_VERSION);
    assert_eq!(gmstore::verify_database(&path).unwrap(), gmstore::LATEST_VERSION);
    // The SQLite engine opens the backup as it is, with the same content.
    let opened = Store::open(Options::new(&path)).unwrap();
    assert_eq!(export_text(&opened), before);
    drop(opened);
    // Changes after the backup are undone by a restore, caches included.
    let probe = |s: &Store| {
        s.nearest_concepts(&[-5.0, 3.0, 9.0], 1, Metric::Cosine, &SearchFilter::default())
            .unwrap()
    };
    let nearest_before = probe(&pg)[0].name.clone();
    assert_ne!(nearest_before, "intruder");
    pg.store_concept("intruder", &[-5.0, 3.0, 9.0], None, None)
        .unwrap();
    pg.store_episode(&NewEpisode::new(b"later", 0.5, "ctx")).unwrap();
    assert_eq!(probe(&pg)[0].name, "intruder");
    pg.restore(&path).unwrap();
    assert_eq!(export_text(&pg), before);
    assert_eq!(
        probe(&pg)[0].name,
        nearest_before,
        "the k-NN cache follows the restore"
    );
    assert_eq!(
        pg.store_episode(&NewEpisode::new(b"next", 0.5, "ctx")).unwrap(),
        21
    );
}

#[test]
fn a_statement_timeout_from_the_connection_string_cancels_slow_statements_as_busy() {
    let target = format!(
        "{} options='-c statement_timeout=300' store={}",
        server(),
        unique_store("timeout")
    );
    let store = Store::open(Options::new(target)).unwrap();
    let started = std::time::Instant::now();
    let err = store.execute("SELECT pg_sleep(5)", &[]).unwrap_err();
    assert!(
        matches!(err, Error::Busy(_)) && err.to_string().contains("statement timeout"),
        "{err:?}"
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(3));
    store
        .store_episode(&NewEpisode::new(b"still works", 0.5, "c"))
        .unwrap();
}

fn tls_server() -> String {
    std::env::var("GMSTORE_TEST_PG_TLS").expect("GMSTORE_TEST_PG_TLS: make test starts a TLS-enabled server")
}

/// 1 when the store's connection is encrypted, 0 when not.
/// 1 if the store's connection is encrypted. `execute` counts rows a
/// statement changed (a SELECT changes none, as on SQLite), so the probe
/// writes one row when the session uses TLS.
fn encrypted(store: &Store) -> usize {
    store
        .execute(
            "INSERT INTO gm_meta(key, value) SELECT 'test_tls_probe', 'on' FROM pg_stat_ssl \
             WHERE pid = pg_backend_pid() AND ssl \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            &[],
        )
        .unwrap()
}

#[test]
fn sslmodes_encrypt_and_verify_as_libpq_does() {
    let ca = std::env::var("GMSTORE_TEST_PG_CA").unwrap();
    let other = std::env::var("GMSTORE_TEST_PG_OTHER_CA").unwrap();
    let store = unique_store("tls");
    let open = |extra: &str| Store::open(Options::new(format!("{} {extra} store={store}", tls_server())));
    assert_eq!(encrypted(&open("sslmode=require").unwrap()), 1);
    assert_eq!(
        encrypted(&open("").unwrap()),
        1,
        "prefer is the default, as libpq's"
    );
    assert_eq!(encrypted(&open("sslmode=disable").unwrap()), 0);
    let full = open(&format!("sslmode=verify-full sslrootcert={ca}")).unwrap();
    assert_eq!(encrypted(&full), 1);
    full.store_episode(&NewEpisode::new(b"over tls", 0.5, "c"))
        .unwrap();
    // A certificate from another CA is refused, naming the server, not the password.
    let err = open(&format!(
        "sslmode=verify-full sslrootcert={other} password=hunter2"
    ))
    .err()
    .unwrap();
    assert!(
        matches!(err, Error::Io(_)) && err.to_string().contains("localhost/postgres"),
        "{err}"
    );
    assert!(!err.to_string().contains("hunter2"), "{err}");
    // verify-full checks the name (the certificate says localhost); verify-ca does not.
    let by_ip = tls_server().replace("host=localhost", "host=127.0.0.1");
    let err = Store::open(Options::new(format!(
        "{by_ip} sslmode=verify-full sslrootcert={ca} store={store}"
    )))
    .err()
    .unwrap();
    assert!(matches!(err, Error::Io(_)), "{err}");
    let ca_only = Store::open(Options::new(format!(
        "{by_ip} sslmode=verify-ca sslrootcert={ca} store={store}"
    )))
    .unwrap();
    assert_eq!(encrypted(&ca_only), 1);
    assert_eq!(ca_only.count_episodes().unwrap(), 1);
    let err = open("sslmode=verify-full").err().unwrap();
    assert!(
        matches!(err, Error::InvalidArgument(_)) && err.to_string().contains("sslrootcert"),
        "{err}"
    );
    let err = open("sslmode=sometimes").err().unwrap();
    assert!(err.to_string().contains("sslmode"), "{err}");
}

#[test]
fn pool_size_caps_the_read_connections_of_a_handle() {
    let app = unique_store("pool");
    let target = format!("{} application_name={app} pool_size=2 store={app}", server());
    let store = std::sync::Arc::new(Store::open(Options::new(target)).unwrap());
    store.store_episode(&NewEpisode::new(b"x", 0.5, "c")).unwrap();
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let watcher = {
        let (done, app) = (done.clone(), app.clone());
        std::thread::spawn(move || {
            let mut client = raw_client();
            let mut most = 0i64;
            while !done.load(Ordering::Relaxed) {
                let n: i64 = client
                    .query_one(
                        "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1",
                        &[&app],
                    )
                    .unwrap()
                    .get(0);
                most = most.max(n);
            }
            most
        })
    };
    let readers: Vec<_> = (0..8)
        .map(|_| {
            let store = store.clone();
            std::thread::spawn(move || {
                for _ in 0..200 {
                    assert_eq!(store.count_episodes().unwrap(), 1);
                }
            })
        })
        .collect();
    for r in readers {
        r.join().unwrap();
    }
    done.store(true, Ordering::Relaxed);
    let most = watcher.join().unwrap();
    assert!(
        (1..=3).contains(&most),
        "at most the writer and 2 readers, saw {most}"
    );
    let err = Store::open(Options::new(format!("{} pool_size=0 store={app}", server())))
        .err()
        .unwrap();
    assert!(
        matches!(err, Error::InvalidArgument(_)) && err.to_string().contains("pool_size"),
        "{err}"
    );
}

#[test]
fn batches_go_as_one_statement_with_ids_in_input_order_and_all_or_none() {
    let store = open_pg(&unique_store("batch"));
    store.store_episode(&NewEpisode::new(b"first", 0.5, "c")).unwrap();
    let data: Vec<Vec<u8>> = (0..500u32).map(|i| i.to_le_bytes().to_vec()).collect();
    let batch: Vec<NewEpisode<'_>> = data.iter().map(|d| NewEpisode::new(d, 0.25, "batch")).collect();
    let ids = store.store_episodes(&batch).unwrap();
    assert!(ids.windows(2).all(|w| w[1] > w[0]) && ids[0] > 1);
    for (id, d) in ids.iter().zip(&data) {
        assert_eq!(&store.retrieve_episode(*id).unwrap().unwrap().experience_data, d);
    }
    let mut events: Vec<NewLearningEvent<'_>> = (0..300)
        .map(|i| NewLearningEvent::new("t", i as f64, "s"))
        .collect();
    events[7].parameters = Some(r#"{"k": 1}"#);
    let ids = store.store_learning_events(&events).unwrap();
    let stored = store.get_learning_events_by_task("t", 1000, None).unwrap();
    let by_id: std::collections::HashMap<i64, f64> =
        stored.iter().map(|e| (e.id, e.performance_delta)).collect();
    assert!(ids.iter().enumerate().all(|(i, id)| by_id[id] == i as f64));
    assert_eq!(
        stored.iter().find(|e| e.id == ids[7]).unwrap().parameters,
        r#"{"k": 1}"#
    );
    // A bad row anywhere refuses the whole batch before anything is written.
    let mut bad = batch.clone();
    bad[250].performance_score = f64::NAN;
    assert!(store.store_episodes(&bad).is_err());
    assert_eq!(store.count_episodes().unwrap(), 501);
    // Inside the caller's transaction the batch rolls back with it.
    store.begin().unwrap();
    store.store_episodes(&batch).unwrap();
    store.rollback().unwrap();
    assert_eq!(store.count_episodes().unwrap(), 501);
}

/// A vacuum keeps the server's concept change log bounded (its newest
/// 100,000 entries); a k-NN cache whose mark lies before the pruned part
/// reloads in full instead of missing the changes that were pruned.
#[test]
fn vacuum_prunes_the_change_log_and_a_cache_behind_it_reloads() {
    let name = unique_store("prune");
    let store = open_pg(&name);
    store.store_concept("seed", &[0.0, 0.0, 1.0], None, None).unwrap();
    let near = |q: [f32; 3]| {
        store
            .nearest_concepts(&q, 1, Metric::Cosine, &SearchFilter::default())
            .unwrap()[0]
            .name
            .clone()
    };
    assert_eq!(near([0.0, 0.0, 1.0]), "seed"); // the cache is built, its mark taken
    let other = open_pg(&name);
    other
        .store_concept("early", &[1.0, 0.0, 0.0], None, None)
        .unwrap();
    let mut client = raw_client();
    client
        .batch_execute(&format!(
            "INSERT INTO \"gm_{name}\".gm_concept_changes(concept_id) SELECT 424242 FROM generate_series(1, 100005)"
        ))
        .unwrap();
    other.vacuum().unwrap();
    let left: i64 = client
        .query_one(
            &format!("SELECT count(*) FROM \"gm_{name}\".gm_concept_changes"),
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(left, 100_000, "the newest 100,000 entries are kept");
    // "early"'s entry was pruned: only the recorded watermark tells the cache.
    assert_eq!(near([1.0, 0.0, 0.0]), "early");
    other.vacuum().unwrap(); // nothing more to prune: the watermark stays
    assert_eq!(near([0.0, 0.0, 1.0]), "seed");
}

/// Bytes in the TOAST table of a store's concepts.
fn toasted_bytes(client: &mut postgres::Client, store: &str) -> i64 {
    client
        .query_one(
            "SELECT pg_relation_size(reltoastrelid) FROM pg_class WHERE oid = ($1 || '.concepts')::regclass",
            &[&format!("gm_{store}")],
        )
        .unwrap()
        .get(0)
}

#[test]
fn embeddings_stay_in_the_tables_own_pages_also_for_stores_made_before() {
    let store_name = unique_store("inline");
    let store = open_pg(&store_name);
    let mut client = raw_client();
    let embedding: Vec<f32> = (0..512).map(|i| (i as f32).sin()).collect();
    for i in 0..50 {
        store
            .store_concept(&format!("c{i}"), &embedding, None, None)
            .unwrap();
    }
    assert_eq!(
        toasted_bytes(&mut client, &store_name),
        0,
        "512 floats went to TOAST"
    );
    drop(store);

    // A store made before the setting: the next writable open sets it,
    // and rows written from then on stay inline.
    client
        .batch_execute(&format!(
            "ALTER TABLE gm_{store_name}.concepts RESET (toast_tuple_target); \
             ALTER TABLE gm_{store_name}.concepts ALTER COLUMN embedding SET STORAGE EXTENDED; \
             TRUNCATE gm_{store_name}.concepts CASCADE"
        ))
        .unwrap();
    let store = open_pg(&store_name);
    for i in 0..50 {
        store
            .store_concept(&format!("c{i}"), &embedding, None, None)
            .unwrap();
    }
    assert_eq!(toasted_bytes(&mut client, &store_name), 0);
    let back = store.retrieve_concept_by_name("c7").unwrap().unwrap();
    assert_eq!(back.embedding, embedding);
}

/// Batches travel as binary COPY rows: values the format could confuse
/// (bytes that spell its signature or trailer, non-ASCII text, NULL and
/// empty values, extreme floats) arrive exactly, and a row the server
/// refuses part-way through leaves nothing of the batch and the handle
/// usable.
#[test]
fn batch_rows_arrive_byte_exact_and_a_row_the_server_refuses_leaves_nothing() {
    let name = unique_store("copy");
    let store = open_pg(&name);
    let tricky: Vec<Vec<u8>> = vec![
        b"PGCOPY\n\xff\r\n\0".to_vec(),
        vec![0xff, 0xff],
        vec![0; 1 << 20],
        "Ünïcødé 日本語 🎲".as_bytes().to_vec(),
        b"\\x00\\N\t\n".to_vec(),
    ];
    let scores = [f64::MAX, -0.0, 5e-324, -1e308, 0.5];
    let contexts = ["日本語", "emoji 🎲", "tab\there", "\\N", "plain"];
    let mut batch: Vec<NewEpisode<'_>> = Vec::new();
    for i in 0..tricky.len() {
        let mut e = NewEpisode::new(&tricky[i], scores[i], contexts[i]);
        e.metadata = Some(r#"{"ключ": "値"}"#);
        e.timestamp = Some(-1.5e9 + i as f64);
        batch.push(e);
    }
    let ids = store.store_episodes(&batch).unwrap();
    for (i, id) in ids.iter().enumerate() {
        let back = store.retrieve_episode(*id).unwrap().unwrap();
        assert_eq!(back.experience_data, tricky[i]);
        assert_eq!(back.performance_score.to_bits(), scores[i].to_bits());
        assert_eq!(back.context_hash, contexts[i]);
        assert_eq!(back.timestamp, -1.5e9 + i as f64);
        assert_eq!(back.metadata, r#"{"ключ": "値"}"#);
    }
    let mut events: Vec<NewLearningEvent<'_>> = (0..4)
        .map(|i| NewLearningEvent::new("τask", i as f64, "stratégie"))
        .collect();
    events[1].parameters = Some(r#"{"a": [1, 2]}"#);
    let event_ids = store.store_learning_events(&events).unwrap();
    let stored = store.get_learning_events_by_task("τask", 10, None).unwrap();
    let parameters = |id: i64| stored.iter().find(|e| e.id == id).unwrap().parameters.clone();
    assert_eq!(parameters(event_ids[1]), r#"{"a": [1, 2]}"#);
    assert_eq!(parameters(event_ids[0]), "{}");
    assert!(stored.iter().all(|e| e.strategy_used == "stratégie"));

    // The server refuses row 300 of 500 (a trigger): nothing is kept.
    raw_client()
        .batch_execute(&format!(
            "CREATE FUNCTION gm_{name}.refuse() RETURNS trigger LANGUAGE plpgsql AS \
             $$ BEGIN IF NEW.context_hash = 'poison' THEN RAISE EXCEPTION 'poisoned row'; END IF; \
             RETURN NEW; END $$; \
             CREATE TRIGGER refuse BEFORE INSERT ON gm_{name}.episodes \
             FOR EACH ROW EXECUTE FUNCTION gm_{name}.refuse()"
        ))
        .unwrap();
    let before = store.count_episodes().unwrap();
    let mut poisoned: Vec<NewEpisode<'_>> = (0..500).map(|_| NewEpisode::new(b"x", 0.1, "fine")).collect();
    poisoned[300].context_hash = "poison";
    let err = store.store_episodes(&poisoned).unwrap_err();
    assert!(err.to_string().contains("poisoned row"), "{err}");
    assert_eq!(store.count_episodes().unwrap(), before);
    poisoned[300].context_hash = "fine";
    assert_eq!(store.store_episodes(&poisoned).unwrap().len(), 500);
    assert_eq!(store.count_episodes().unwrap(), before + 500);
}
