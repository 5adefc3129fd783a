use std::path::Path;
use std::time::Duration;

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{Any, AnyPool, Executor};
use time::OffsetDateTime;

use crate::deferred::Deferred;
use crate::{Result, StoreError};

/// Which database a [`Store`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn from_url(url: &str) -> Result<Self> {
        if url.starts_with("sqlite:") {
            Ok(Self::Sqlite)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Ok(Self::Postgres)
        } else {
            Err(StoreError::UnsupportedUrl(
                "expected sqlite://PATH or postgres://…".to_owned(),
            ))
        }
    }
}

/// The storage API. Cheap to clone: it is a handle on the connection pools.
///
/// On SQLite every write goes through one writer connection (`writer`, a pool of one):
/// SQLite allows one writer at a time anyway, and writers that wait for that connection
/// wait in the pool's queue, woken in turn the moment it is free. With several
/// connections all starting `BEGIN IMMEDIATE`, the losers sleep in SQLite's busy handler
/// (1, 2, 5, 10… ms) and retry, which made writes slower as clients were added. Reads use
/// the other connections and run beside the writer (WAL). On PostgreSQL both are one pool.
#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    writer: AnyPool,
    backend: Backend,
    url: String,
}

/// A write transaction. Dropping it without [`WriteTx::commit`] rolls everything back.
///
/// Its statements run through [`WriteTx::conn`], which first sends what
/// [`WriteTx::defer`] queued (`deferred.rs`).
pub struct WriteTx {
    pub(crate) tx: sqlx::Transaction<'static, Any>,
    pub(crate) backend: Backend,
    pub(crate) deferred: Deferred,
}

/// Read connections on SQLite, beside the one writer.
const SQLITE_READERS: u32 = 4;

impl Store {
    /// Connects to `url`, creating a SQLite file (and its folder) when it does not exist.
    pub async fn connect(url: &str) -> Result<Self> {
        install_default_drivers();
        let backend = Backend::from_url(url)?;
        let options = || AnyPoolOptions::new().acquire_timeout(Duration::from_secs(10));
        match backend {
            Backend::Sqlite => {
                let url = sqlite_url_with_create(url)?;
                // One in-memory database per connection: reads and writes must share one.
                let in_memory = url.contains(":memory:");
                let readers = if in_memory { 1 } else { SQLITE_READERS };
                let writer = sqlite_options(options().max_connections(1))
                    .connect(&url)
                    .await?;
                let pool = if in_memory {
                    writer.clone()
                } else {
                    sqlite_options(options().max_connections(readers))
                        .connect(&url)
                        .await?
                };
                Ok(Self {
                    pool,
                    writer,
                    backend,
                    url,
                })
            }
            Backend::Postgres => {
                let pool = options().max_connections(16).connect(url).await?;
                Ok(Self {
                    writer: pool.clone(),
                    pool,
                    backend,
                    url: url.to_owned(),
                })
            }
        }
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The URL the pool connected with (for a second connection, e.g. `LISTEN`).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// For reads.
    pub(crate) fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// For a write outside a [`WriteTx`] (one statement, its own transaction).
    pub(crate) fn writer(&self) -> &AnyPool {
        &self.writer
    }

    /// Begins a write transaction.
    pub async fn begin(&self) -> Result<WriteTx> {
        let tx = match self.backend {
            // IMMEDIATE takes the write lock up front: a deferred transaction that reads
            // first and writes later can fail with SQLITE_BUSY instead of waiting.
            Backend::Sqlite => self.writer.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.writer.begin().await?,
        };
        Ok(WriteTx {
            tx,
            backend: self.backend,
            deferred: Deferred::default(),
        })
    }

    /// One round trip, for readiness checks.
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
        self.writer.close().await;
    }
}

impl WriteTx {
    pub async fn commit(mut self) -> Result<()> {
        self.flush().await?;
        self.tx.commit().await?;
        Ok(())
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }
}

/// The settings of every SQLite connection.
fn sqlite_options(options: AnyPoolOptions) -> AnyPoolOptions {
    // No ping before handing out a connection: a SQLite connection is a handle inside this
    // process, with no server that could have dropped it, and the ping is one more
    // hand-off to the connection's thread (the writer's is on every write's path).
    options
        .test_before_acquire(false)
        .after_connect(|conn, _meta| {
            Box::pin(async move {
                // WAL lets readers run beside the one writer, and with synchronous = NORMAL a
                // commit appends to the WAL without waiting for the disk (a power cut may lose
                // the last commits, never corrupt the file). Foreign keys are off by default
                // in SQLite. busy_timeout covers another process (`plinth admin`) writing.
                // Reads through mmap: long scans (the audit export, verify) need no read()
                // per page, and the mapped pages are the OS's file cache, not each
                // connection's heap.
                conn.execute(
                    "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                 PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000; \
                 PRAGMA mmap_size = 268435456;",
                )
                .await?;
                Ok(())
            })
        })
}

/// `sqlite://path` with `mode=rwc`, after making sure the folder exists.
fn sqlite_url_with_create(url: &str) -> Result<String> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or_default();
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    if path.is_empty() {
        return Err(StoreError::UnsupportedUrl(
            "a sqlite URL needs a file path, e.g. sqlite://./plinth-data/plinth.db".to_owned(),
        ));
    }
    if path != ":memory:"
        && let Some(parent) = Path::new(path).parent()
        && !parent.as_os_str().is_empty()
    {
        std::fs::create_dir_all(parent).map_err(|e| {
            StoreError::UnsupportedUrl(format!("cannot create {}: {e}", parent.display()))
        })?;
    }
    let query = if query.split('&').any(|p| p.starts_with("mode=")) {
        query.to_owned()
    } else if query.is_empty() {
        "mode=rwc".to_owned()
    } else {
        format!("{query}&mode=rwc")
    };
    Ok(format!("sqlite://{path}?{query}"))
}

/// A new time-ordered id (UUIDv7). Its text form sorts by creation time.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

pub fn time_to_micros(t: OffsetDateTime) -> i64 {
    (t.unix_timestamp_nanos() / 1_000) as i64
}

pub fn micros_to_time(micros: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls_get_create_mode() {
        let dir = std::env::temp_dir().join(format!("plinth-url-{}", new_id()));
        let url = format!("sqlite://{}/x.db", dir.display());
        let out = sqlite_url_with_create(&url).unwrap();
        assert!(out.ends_with("x.db?mode=rwc"), "{out}");
        assert!(dir.exists());
        std::fs::remove_dir_all(dir).unwrap();
        assert!(sqlite_url_with_create("sqlite://").is_err());
        assert!(Backend::from_url("mysql://x").is_err());
    }

    #[test]
    fn micros_round_trip() {
        let t = OffsetDateTime::now_utc();
        let back = micros_to_time(time_to_micros(t));
        assert!((t - back).whole_microseconds().abs() < 1);
    }
}
