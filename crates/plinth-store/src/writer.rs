//! SQLite's one writer connection, held outside any pool, and what the store keeps about
//! it between transactions.
//!
//! A write's cost on SQLite is mostly its hand-offs to the connection's thread and back
//! (docs/BENCHMARKS.md), and the writer is held for all of them, so every hand-off a write
//! makes is one every other write waits for. This connection's transactions are begun and
//! ended with plain statements rather than through sqlx's transaction manager, so that:
//! - `BEGIN IMMEDIATE` and `PRAGMA data_version` go as one command;
//! - the deferred statements (deferred.rs) and `COMMIT` go as one command;
//! - an audit append finds its chain's head in memory ([`HeldConn::chain_heads`]) instead
//!   of reading it: this connection is the only one in the process that appends, and
//!   `PRAGMA data_version` changes exactly when another connection (a `plinth admin` in
//!   another process, say) has committed since, which empties the copy.
//!
//! A profile change is then three hand-offs (`BEGIN`, the update, the rest with `COMMIT`)
//! where it was five.

use std::collections::HashMap;
use std::sync::Arc;

use sqlx::{AnyConnection, Executor};
use tokio::sync::{Mutex, OwnedMappedMutexGuard, OwnedMutexGuard};

use crate::store::ACQUIRE_TIMEOUT;
use crate::{Result, StoreError};

/// The writer, shared by the store's clones; `None` once the store is closed.
pub(crate) type SharedWriter = Arc<Mutex<Option<HeldConn>>>;

/// The writer while one transaction (or one statement) has it.
pub(crate) type HeldWriter = OwnedMappedMutexGuard<Option<HeldConn>, HeldConn>;

/// SQLite's `BEGIN IMMEDIATE` takes the write lock up front: a deferred transaction that
/// reads first and writes later can fail with SQLITE_BUSY instead of waiting. Once the lock
/// is held no other connection can commit, so the version read with it is the one the
/// transaction works on.
const BEGIN: &str = "BEGIN IMMEDIATE; PRAGMA data_version";

/// How many chain heads the writer remembers; past it the copy starts again empty. A
/// chain is an org's or a user's log, so this covers the ones being written to now.
const MAX_CHAIN_HEADS: usize = 4096;

/// The last entry of an audit chain: what the next entry links to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ChainHead {
    pub seq: i64,
    pub hash: String,
}

#[derive(Debug)]
pub(crate) struct HeldConn {
    pub conn: AnyConnection,
    /// A `BEGIN` was sent and no `COMMIT` or `ROLLBACK` is known to have ended it: a
    /// transaction dropped where no runtime could send its rollback, or a commit whose
    /// answer never came (its future was dropped). The next user rolls it back first.
    maybe_open: bool,
    /// `PRAGMA data_version` as the last transaction began.
    data_version: Option<i64>,
    /// The head of each chain as this connection last committed it. An entry is taken out
    /// when a transaction appends to its chain and put back only when that transaction
    /// commits, so a rollback, an error or a dropped commit leaves the chain to be read.
    chain_heads: HashMap<String, ChainHead>,
}

impl HeldConn {
    pub fn new(conn: AnyConnection) -> Self {
        Self {
            conn,
            maybe_open: false,
            data_version: None,
            chain_heads: HashMap::new(),
        }
    }

    /// Ends a transaction an earlier user left open, if any, before this one uses the
    /// connection. The `ROLLBACK` answers "no transaction is active" when it had ended after
    /// all (a commit that went through unanswered), which is the same outcome. Heads it may
    /// have committed are not known, so the copy is emptied.
    pub async fn settle(&mut self) {
        if self.maybe_open {
            let _ = self.conn.execute("ROLLBACK").await;
            self.maybe_open = false;
            self.chain_heads.clear();
        }
    }

    /// Begins a transaction. From the moment `BEGIN` is sent the transaction may be open:
    /// if this future is dropped before the answer, the next user rolls it back.
    pub async fn begin(&mut self) -> Result<()> {
        self.settle().await;
        self.maybe_open = true;
        // Drained (not `fetch_one`), so no statement of the pair is left mid-step.
        let versions: Vec<i64> = sqlx::query_scalar(BEGIN).fetch_all(&mut self.conn).await?;
        let version = versions
            .first()
            .copied()
            .ok_or_else(|| StoreError::Corrupt("PRAGMA data_version answered no row".to_owned()))?;
        if self.data_version != Some(version) {
            // Another connection committed since this one last began: any head may have
            // moved (or a fresh connection, which knows none yet).
            self.chain_heads.clear();
            self.data_version = Some(version);
        }
        Ok(())
    }

    /// Marks the transaction ended by a `COMMIT` that succeeded, and records the heads it
    /// moved.
    pub fn committed(&mut self, heads: Vec<(String, ChainHead)>) {
        self.maybe_open = false;
        if self.chain_heads.len() + heads.len() > MAX_CHAIN_HEADS {
            self.chain_heads.clear();
        }
        self.chain_heads.extend(heads);
    }

    /// The chain's head as last committed here, taken out of the copy (see
    /// [`HeldConn::chain_heads`]).
    pub fn take_chain_head(&mut self, chain: &str) -> Option<ChainHead> {
        self.chain_heads.remove(chain)
    }
}

/// The writer, or "unavailable" after [`ACQUIRE_TIMEOUT`] or once closed, as a pool
/// answers.
pub(crate) async fn lock(writer: &SharedWriter) -> Result<HeldWriter> {
    let held = tokio::time::timeout(ACQUIRE_TIMEOUT, writer.clone().lock_owned())
        .await
        .map_err(|_| StoreError::Unavailable(sqlx::Error::PoolTimedOut))?;
    OwnedMutexGuard::try_map(held, Option::as_mut)
        .map_err(|_| StoreError::Unavailable(sqlx::Error::PoolClosed))
}

/// Gives the writer up after a transaction that did not commit. Its rollback is sent at
/// once, by a task that keeps the writer until it is done: an open transaction would hold
/// SQLite's write lock (other processes wait for it) and its snapshot (checkpoints cannot
/// pass it) until the next write came. The next writer waits for that task in the lock's
/// queue. Outside a runtime, the next user rolls back ([`HeldConn::settle`]).
pub(crate) fn abandon(mut held: HeldWriter) {
    if !held.maybe_open {
        return;
    }
    if let Ok(runtime) = tokio::runtime::Handle::try_current() {
        runtime.spawn(async move { held.settle().await });
    }
}
