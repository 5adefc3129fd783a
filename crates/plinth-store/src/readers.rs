//! Read connections: sqlx's pool on PostgreSQL, a small set held by the store on SQLite.
//!
//! sqlx's pool pings every connection as it comes back. On SQLite that ping is one more
//! hand-off to the connection's own thread and back for every read, and those hand-offs,
//! not SQLite's work, are what a request's database time is made of here
//! (docs/BENCHMARKS.md). A SQLite connection is a handle inside this process that no
//! server can drop, so the store keeps its readers itself: a permit per connection,
//! taken in turn, and the connection handed back when the [`ReadConn`] drops.

use std::ops::{Deref, DerefMut};
use std::sync::{Arc, Mutex};

use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyConnection, AnyPool};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::store::ACQUIRE_TIMEOUT;
use crate::{Result, StoreError};

/// Where reads get their connection.
#[derive(Clone, Debug)]
pub(crate) enum Readers {
    Pool(AnyPool),
    Held(Arc<HeldReaders>),
}

#[derive(Debug)]
pub(crate) struct HeldReaders {
    idle: Mutex<Vec<AnyConnection>>,
    /// One permit per connection in `idle`; closed when the store closes.
    permits: Arc<Semaphore>,
}

/// A read connection, back to its readers when dropped.
pub(crate) enum ReadConn {
    Pooled(PoolConnection<Any>),
    Held {
        conn: Option<AnyConnection>,
        home: Arc<HeldReaders>,
        _permit: OwnedSemaphorePermit,
    },
}

impl HeldReaders {
    pub(crate) fn new(conns: Vec<AnyConnection>) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(conns.len())),
            idle: Mutex::new(conns),
        }
    }

    fn idle(&self) -> std::sync::MutexGuard<'_, Vec<AnyConnection>> {
        self.idle.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Readers {
    /// A connection, or "unavailable" after [`ACQUIRE_TIMEOUT`] or once closed, as the
    /// pool answers.
    pub(crate) async fn get(&self) -> Result<ReadConn> {
        match self {
            Readers::Pool(pool) => Ok(ReadConn::Pooled(pool.acquire().await?)),
            Readers::Held(held) => {
                let permit =
                    tokio::time::timeout(ACQUIRE_TIMEOUT, held.permits.clone().acquire_owned())
                        .await
                        .map_err(|_| StoreError::from(sqlx::Error::PoolTimedOut))?
                        .map_err(|_| StoreError::from(sqlx::Error::PoolClosed))?;
                // A permit is only ever out while its connection is.
                let conn = held
                    .idle()
                    .pop()
                    .ok_or(StoreError::from(sqlx::Error::PoolClosed))?;
                Ok(ReadConn::Held {
                    conn: Some(conn),
                    home: held.clone(),
                    _permit: permit,
                })
            }
        }
    }

    pub(crate) async fn close(&self) {
        match self {
            Readers::Pool(pool) => pool.close().await,
            Readers::Held(held) => {
                // No new reads; the ones under way finish and drop their connections,
                // which close as they drop.
                held.permits.close();
                let conns = std::mem::take(&mut *held.idle());
                for conn in conns {
                    let _ = sqlx::Connection::close(conn).await;
                }
            }
        }
    }
}

impl Deref for ReadConn {
    type Target = AnyConnection;

    fn deref(&self) -> &AnyConnection {
        match self {
            ReadConn::Pooled(conn) => conn,
            ReadConn::Held { conn, .. } => conn.as_ref().expect("present until dropped"),
        }
    }
}

impl DerefMut for ReadConn {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        match self {
            ReadConn::Pooled(conn) => conn,
            ReadConn::Held { conn, .. } => conn.as_mut().expect("present until dropped"),
        }
    }
}

impl Drop for ReadConn {
    fn drop(&mut self) {
        if let ReadConn::Held { conn, home, .. } = self
            && let Some(conn) = conn.take()
            && !home.permits.is_closed()
        {
            // Back before the permit (dropped after this) lets the next reader look.
            home.idle().push(conn);
        }
    }
}
