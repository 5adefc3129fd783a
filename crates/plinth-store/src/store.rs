use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{Any, AnyPool, Executor, SqlSafeStr};
use time::OffsetDateTime;

use crate::deferred::Deferred;
use crate::readers::{HeldReaders, ReadConn, Readers};
use crate::sql::{Arg, Target};
use crate::writer::{self, ChainHead, CommitStep, HeldConn, HeldWriter, SharedWriter};
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
/// On SQLite every write goes through one writer connection ([`Writer::Held`]): SQLite
/// allows one writer at a time anyway, and writers wait for that connection in the
/// lock's queue, woken in turn the moment it is free. With several connections all
/// starting `BEGIN IMMEDIATE`, the losers sleep in SQLite's busy handler (1, 2, 5, 10… ms)
/// and retry, which made writes slower as clients were added. Reads use the other
/// connections and run beside the writer (WAL). On PostgreSQL both are one pool.
#[derive(Clone, Debug)]
pub struct Store {
    readers: Readers,
    writer: Writer,
    backend: Backend,
    url: String,
}

/// Where writes get their connection.
#[derive(Clone, Debug)]
enum Writer {
    /// SQLite's one writer connection, held by one transaction at a time, outside any
    /// pool: a synchronous handle whose statements run on the caller's thread
    /// (writer.rs).
    Held(SharedWriter),
    /// PostgreSQL's pool (many writers at once), and an in-memory SQLite database's single
    /// connection, which its reads share.
    Pool(AnyPool),
}

/// A write transaction. Dropping it without [`WriteTx::commit`] rolls everything back.
///
/// Its statements run through [`WriteTx::execute`] and the fetches beside it (sql.rs),
/// which on sqlx first send what [`WriteTx::defer`] queued (deferred.rs).
pub struct WriteTx {
    conn: TxConn,
    pub(crate) backend: Backend,
    pub(crate) deferred: Deferred,
    /// The chain heads this transaction moved on SQLite's held writer, in order: the
    /// writer's copy learns them when it commits.
    pub(crate) moved_heads: Vec<(String, ChainHead)>,
}

enum TxConn {
    Pooled(sqlx::Transaction<'static, Any>),
    /// The held writer, inside a transaction begun with [`HeldConn::begin_member`]; if the
    /// `WriteTx` is dropped, [`HeldConn::rollback_member`] undoes its work.
    Held {
        held: HeldWriter,
        /// Works under a savepoint inside its group's transaction (writer.rs).
        savepoint: bool,
        writer: SharedWriter,
    },
    /// Committed.
    Done,
}

/// Read connections on SQLite, beside the one writer.
const SQLITE_READERS: u32 = 4;
/// How long a read or write waits for a connection before it is answered "unavailable".
pub(crate) const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);
/// `BEGIN IMMEDIATE`, as [`HeldConn::begin`] explains, for SQLite's in-memory pool.
const SQLITE_BEGIN: &str = "BEGIN IMMEDIATE";

impl Store {
    /// Connects to `url`, creating a SQLite file (and its folder) when it does not exist.
    pub async fn connect(url: &str) -> Result<Self> {
        install_default_drivers();
        let backend = Backend::from_url(url)?;
        let options = || AnyPoolOptions::new().acquire_timeout(ACQUIRE_TIMEOUT);
        match backend {
            Backend::Sqlite => {
                let url = sqlite_url_with_create(url)?;
                // One in-memory database per connection: reads and writes must share one.
                if url.contains(":memory:") {
                    let pool = sqlite_options(options().max_connections(1))
                        .connect(&url)
                        .await?;
                    return Ok(Self {
                        writer: Writer::Pool(pool.clone()),
                        readers: Readers::Pool(pool),
                        backend,
                        url,
                    });
                }
                // Connections opened by a pool, with its `after_connect` settings, then
                // taken out of it: the store holds them itself (readers.rs).
                let opener = sqlite_options(options().max_connections(SQLITE_READERS))
                    .connect(&url)
                    .await?;
                // One after another (about 90 ms at start-up): the first puts a new file in
                // WAL mode, or recovers the WAL a crash left, before the next one opens.
                let mut conns = Vec::new();
                for _ in 0..SQLITE_READERS {
                    conns.push(opener.acquire().await?.detach());
                }
                opener.close().await;
                let path = crate::sqlite_path(&url).ok_or_else(|| {
                    StoreError::UnsupportedUrl(format!("no SQLite file path in {url}"))
                })?;
                let writer = HeldConn::open(&path)?;
                Ok(Self {
                    readers: Readers::Held(Arc::new(HeldReaders::new(conns))),
                    writer: Writer::Held(SharedWriter::new(writer)),
                    backend,
                    url,
                })
            }
            Backend::Postgres => {
                let pool = options().max_connections(16).connect(url).await?;
                Ok(Self {
                    writer: Writer::Pool(pool.clone()),
                    readers: Readers::Pool(pool),
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

    /// A connection for reads.
    pub(crate) async fn reader(&self) -> Result<ReadConn> {
        self.readers.get().await
    }

    /// A write outside a [`WriteTx`]: one statement, its own transaction. Answers the
    /// rows it changed.
    pub(crate) async fn write_one(&self, sql: impl SqlSafeStr, args: &[Arg<'_>]) -> Result<u64> {
        match &self.writer {
            Writer::Held(held) => {
                let mut held = writer::lock(held).await?;
                held.settle();
                held.flush_group();
                let changed = Target::Sqlite(held.conn()).execute(sql, args).await?;
                held.wrote();
                Ok(changed)
            }
            Writer::Pool(pool) => {
                let mut conn = pool.acquire().await?;
                Target::Sqlx(&mut conn).execute(sql, args).await
            }
        }
    }

    /// Begins a write transaction.
    pub async fn begin(&self) -> Result<WriteTx> {
        let conn = match (&self.writer, self.backend) {
            (Writer::Held(writer), _) => {
                let mut held = writer::lock(writer).await?;
                let savepoint = held.begin_member().await?;
                TxConn::Held {
                    held,
                    savepoint,
                    writer: writer.clone(),
                }
            }
            (Writer::Pool(pool), Backend::Sqlite) => {
                TxConn::Pooled(pool.begin_with(SQLITE_BEGIN).await?)
            }
            (Writer::Pool(pool), Backend::Postgres) => TxConn::Pooled(pool.begin().await?),
        };
        Ok(WriteTx {
            conn,
            backend: self.backend,
            deferred: Deferred::default(),
            moved_heads: Vec::new(),
        })
    }

    /// One round trip, for readiness checks.
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1")
            .execute(&mut *self.reader().await?)
            .await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.readers.close().await;
        match &self.writer {
            Writer::Held(writer) => writer.close().await,
            Writer::Pool(pool) => pool.close().await,
        }
    }
}

impl WriteTx {
    pub async fn commit(mut self) -> Result<()> {
        if let TxConn::Pooled(_) = self.conn {
            self.flush().await?;
        }
        match std::mem::replace(&mut self.conn, TxConn::Done) {
            TxConn::Pooled(tx) => tx.commit().await?,
            TxConn::Held {
                mut held,
                savepoint,
                writer,
            } => {
                let heads = std::mem::take(&mut self.moved_heads);
                match held.commit_member(savepoint, heads, writer.contended()) {
                    CommitStep::Done(committed) => committed?,
                    CommitStep::InGroup(outcome) => {
                        drop(held);
                        writer::wait_for_group(writer, outcome).await?;
                    }
                }
            }
            TxConn::Done => {}
        }
        Ok(())
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// SQLite's held writer, when this transaction runs on it.
    pub(crate) fn held_writer(&mut self) -> Option<&mut HeldConn> {
        match &mut self.conn {
            TxConn::Held { held, .. } => Some(held),
            _ => None,
        }
    }

    /// Where the transaction's next statement runs, deferred statements or not (see
    /// [`WriteTx::target`]).
    pub(crate) fn raw(&mut self) -> Result<Target<'_>> {
        match &mut self.conn {
            TxConn::Pooled(tx) => Ok(Target::Sqlx(tx)),
            TxConn::Held { held, .. } => Ok(Target::Sqlite(held.conn())),
            TxConn::Done => Err(StoreError::Corrupt(
                "a statement after the transaction's commit".to_owned(),
            )),
        }
    }
}

impl Drop for WriteTx {
    fn drop(&mut self) {
        if let TxConn::Held {
            mut held,
            savepoint,
            writer,
        } = std::mem::replace(&mut self.conn, TxConn::Done)
        {
            held.rollback_member(savepoint, writer.contended());
        }
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
