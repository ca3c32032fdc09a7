//! Which server and which store a `gm_open` string names.
//!
//! `postgresql://user:secret@host:5432/db?store=fleet_a` and the libpq
//! keyword form `host=/run/postgresql dbname=db store=fleet_a` both work;
//! `store` (the store's name, default `default`) and `pool_size` are
//! gmstore's own parameters; `sslmode` and `sslrootcert` are read here too (the driver
//! knows neither `verify-full` nor root certificates), and all four are
//! removed before the rest goes to the driver.

use std::str::FromStr;

use postgres::config::Host;
use postgres::Config;

use super::tls::{Tls, TlsMode};
use crate::error::{invalid, Result};

/// A parsed server target.
#[derive(Clone)]
pub(crate) struct PgTarget {
    pub(crate) config: Config,
    /// The store's name: letters, digits and `_`, at most 48 bytes.
    pub(crate) store: String,
    /// "host/dbname", for messages: never the user's password.
    pub(crate) server: String,
    /// How the connection is encrypted and the server verified.
    pub(crate) tls: Tls,
    /// Most read connections a handle keeps open at once (`pool_size`,
    /// default 8); the handle also holds a writer and a k-NN connection.
    pub(crate) pool_size: usize,
}

/// Whether `path` names a server rather than a file.
pub(crate) fn is_server_target(path: &str) -> bool {
    path.starts_with("postgresql://")
        || path.starts_with("postgres://")
        || (path.contains('=')
            && (path.starts_with("host=") || path.contains(" dbname=") || path.starts_with("dbname=")))
}

impl PgTarget {
    pub(crate) fn parse(text: &str) -> Result<PgTarget> {
        let (rest, ours) = take_params(text, &["store", "sslmode", "sslrootcert", "pool_size"]);
        let get = |key: &str| ours.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone());
        let store = get("store").unwrap_or_else(|| "default".into());
        let tls = Tls::new(TlsMode::parse(get("sslmode").as_deref())?, get("sslrootcert"))?;
        let pool_size = match get("pool_size") {
            None => 8,
            Some(n) => n.parse().ok().filter(|n| (1..=1000).contains(n)).ok_or_else(|| {
                invalid(
                    "pool_size",
                    format!("'{n}' is not a number of connections from 1 to 1000"),
                )
            })?,
        };
        if store.is_empty()
            || store.len() > 48
            || !store.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        {
            return Err(invalid(
                "store",
                format!("'{store}' must be 1 to 48 letters, digits or '_'"),
            ));
        }
        // The driver's message may quote the input, password included.
        let mut config = Config::from_str(&rest).map_err(|e| {
            invalid(
                "path",
                format!("not a PostgreSQL connection string: {}", redact(&e.to_string())),
            )
        })?;
        config.ssl_mode(tls.driver_mode());
        let server = describe(&config);
        Ok(PgTarget {
            config,
            store,
            server,
            tls,
            pool_size,
        })
    }

    /// The schema holding this store's tables, quoted.
    pub(crate) fn schema_ident(&self) -> String {
        format!("\"gm_{}\"", self.store)
    }
}

/// Removes the parameters named in `keys` from either form; returns the
/// rest and the (key, value) pairs taken.
fn take_params(text: &str, keys: &[&str]) -> (String, Vec<(String, String)>) {
    let mut taken = Vec::new();
    let mut keep = |kv: &&str| match kv.split_once('=') {
        Some((k, v)) if keys.contains(&k) => {
            taken.push((k.to_string(), v.trim_matches('\'').to_string()));
            false
        }
        _ => true,
    };
    if let Some((base, query)) = text.split_once('?').filter(|_| text.contains("://")) {
        let kept: Vec<&str> = query.split('&').filter(&mut keep).collect();
        let rest = if kept.is_empty() {
            base.to_string()
        } else {
            format!("{base}?{}", kept.join("&"))
        };
        return (rest, taken);
    }
    let kept: Vec<&str> = text.split_whitespace().filter(&mut keep).collect();
    (kept.join(" "), taken)
}

fn describe(config: &Config) -> String {
    let host = match config.get_hosts().first() {
        Some(Host::Tcp(h)) => h.clone(),
        Some(Host::Unix(p)) => p.display().to_string(),
        None => "localhost".into(),
    };
    format!("{host}/{}", config.get_dbname().unwrap_or("postgres"))
}

/// Blanks anything after `password=` or between `://user:` and `@`.
fn redact(message: &str) -> String {
    let mut out = message.to_string();
    if let Some(start) = out.find("password=") {
        let end = out[start..]
            .find(char::is_whitespace)
            .map_or(out.len(), |e| start + e);
        out.replace_range(start + "password=".len()..end, "***");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_names_are_taken_from_either_form() {
        let t = PgTarget::parse("postgresql://me:secret@db.example:5432/mem?store=fleet_a&sslmode=disable")
            .unwrap();
        assert_eq!(
            (t.store.as_str(), t.server.as_str()),
            ("fleet_a", "db.example/mem")
        );
        let t = PgTarget::parse("host=/run/postgresql dbname=mem store=b user=me").unwrap();
        assert_eq!(
            (t.store.as_str(), t.server.as_str()),
            ("b", "/run/postgresql/mem")
        );
        assert_eq!(PgTarget::parse("host=/tmp dbname=x").unwrap().store, "default");
        let err = PgTarget::parse("host=/tmp dbname=x store=a-b").err().unwrap();
        assert!(err.to_string().contains("store"), "{err}");
        assert!(is_server_target("postgres://h/db") && is_server_target("host=/tmp dbname=x"));
        assert!(!is_server_target("memory.db") && !is_server_target("/data/a=b.db"));
    }

    #[test]
    fn passwords_never_reach_messages() {
        let t = PgTarget::parse("postgresql://me:hunter2@db.example/mem").unwrap();
        assert!(!t.server.contains("hunter2"));
        let err = PgTarget::parse("host=/tmp password=hunter2 bogus_option=1")
            .err()
            .unwrap();
        assert!(!err.to_string().contains("hunter2"), "{err}");
    }
}
