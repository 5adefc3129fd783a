//! SQLite's one writer connection, held outside any pool, and what the store keeps about
//! it between transactions.
//!
//! The writer is a synchronous SQLite handle (rusqlite, on the same SQLite library sqlx
//! links), not one of sqlx's connections. A sqlx SQLite connection runs on a thread of its
//! own, and each statement is a hand-off to that thread and back: measured, those hand-offs
//! were most of a write's cost (docs/BENCHMARKS.md), and the writer is held for all of
//! them, so every write waited for every other write's. Here a statement is a function call
//! on the caller's thread, microseconds long, so the writer is held only for SQLite's own
//! work. The transactions are plain statements (`BEGIN IMMEDIATE`, `SAVEPOINT`, `COMMIT`,
//! `ROLLBACK`), and sql.rs runs every write's statements on either kind of connection, so
//! each write is written once.
//!
//! Under load the writer commits in groups ([`HeldConn::commit_member`]): a transaction
//! that commits while another caller waits for the writer leaves its `COMMIT` to the
//! group's last member, and returns when that is done.
//!
//! Two things follow from running on the caller's thread, which is one of the runtime's
//! workers:
//! - The handle never sleeps in SQLite's busy handler (`busy_timeout = 0`). Only `BEGIN
//!   IMMEDIATE` can find the write lock taken (by another process: `plinth admin`), and it
//!   is retried with an asynchronous pause, up to the pool's acquire timeout. Once the lock
//!   is held, no other connection can take it.
//! - Checkpoints, which SQLite would run inside a `COMMIT` every 1,000 pages of log, with
//!   an `fsync`, run on a thread of their own (checkpoint.rs).
//!
//! An audit append finds its chain's head in memory ([`HeldConn::chain_heads`]) instead of
//! reading it: this connection is the only one in the process that appends, and `PRAGMA
//! data_version` changes exactly when another connection has committed since, which empties
//! the copy.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use rusqlite::{Connection, OpenFlags};
use tokio::sync::{Mutex, OwnedMappedMutexGuard, OwnedMutexGuard, oneshot};

use crate::checkpoint::Checkpointer;
use crate::store::ACQUIRE_TIMEOUT;
use crate::{Result, StoreError};

/// The writer, shared by the store's clones.
#[derive(Debug, Clone)]
pub(crate) struct SharedWriter {
    /// `None` once the store is closed.
    cell: Arc<Mutex<Option<HeldConn>>>,
    /// How many callers are waiting for the writer: a transaction that commits while
    /// another waits leaves its commit to the group (see [`HeldConn::commit_member`]).
    waiting: Arc<AtomicUsize>,
}

impl SharedWriter {
    pub fn new(conn: HeldConn) -> Self {
        Self {
            cell: Arc::new(Mutex::new(Some(conn))),
            waiting: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// Whether another caller is waiting for the writer now.
    pub fn contended(&self) -> bool {
        self.waiting.load(Ordering::Acquire) > 0
    }

    /// Takes the writer out for good (closing the store), after the transaction that
    /// holds it, with its group committed.
    pub async fn close(&self) {
        if let Some(mut held) = self.cell.lock().await.take() {
            held.flush_group();
        }
    }
}

/// The writer while one transaction (or one statement) has it.
pub(crate) type HeldWriter = OwnedMappedMutexGuard<Option<HeldConn>, HeldConn>;

/// SQLite's `BEGIN IMMEDIATE` takes the write lock up front: a deferred transaction that
/// reads first and writes later can fail with SQLITE_BUSY instead of waiting. Once the lock
/// is held no other connection can commit, so the version read after it is the one the
/// transaction works on.
const BEGIN: &str = "BEGIN IMMEDIATE";

/// How many chain heads the writer remembers; past it the copy starts again empty. A
/// chain is an org's or a user's log, so this covers the ones being written to now.
const MAX_CHAIN_HEADS: usize = 4096;

/// Prepared statements the handle keeps: more than the store's distinct write statements.
const STATEMENT_CACHE: usize = 256;

/// The longest pause between two tries of `BEGIN IMMEDIATE` while another process writes.
const MAX_BEGIN_PAUSE: Duration = Duration::from_millis(20);

/// The most transactions one `COMMIT` ends (group commit, [`HeldConn::commit_member`]):
/// the first waits for the others' work, a few hundred microseconds each.
const MAX_GROUP: usize = 16;

/// How long a member waits for its group before it commits the group itself: far longer
/// than a group takes, so it happens only when the member expected to come did not.
const GROUP_WAIT: Duration = Duration::from_millis(50);

/// What every member of a group is told when its transaction ended without a commit.
const LOST: &str = "the transaction was rolled back";

/// The savepoint each transaction after the first of a group works in.
const MEMBER: &str = "SAVEPOINT member";

/// The last entry of an audit chain: what the next entry links to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ChainHead {
    pub seq: i64,
    pub hash: String,
}

#[derive(Debug)]
pub(crate) struct HeldConn {
    conn: Connection,
    /// `PRAGMA data_version` as the last transaction began.
    data_version: Option<i64>,
    /// The head of each chain as this connection last committed it. An entry is taken out
    /// when a transaction appends to its chain and put back only when that transaction
    /// commits, so a rollback or an error leaves the chain to be read.
    chain_heads: HashMap<String, ChainHead>,
    /// Runs the checkpoints this connection's commits would have run (checkpoint.rs).
    checkpointer: Checkpointer,
    /// The transactions whose work is in the open SQLite transaction, waiting for its
    /// `COMMIT` (group commit, [`HeldConn::commit_member`]).
    group: Vec<oneshot::Sender<GroupOutcome>>,
    /// The chain heads they moved, in order.
    group_heads: Vec<(String, ChainHead)>,
}

impl HeldConn {
    /// Opens the writer on the database file at `path`, which the readers have already
    /// opened (and so put in WAL mode, or recovered).
    pub fn open(path: &Path) -> Result<Self> {
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        // The readers' settings (store.rs), but the writer reads through its own page
        // cache, not mmap: every checkpoint that grows the file makes a mapped connection
        // remap it at its next transaction (munmap, and a TLB shoot-down on every core),
        // and on the writer that sat inside the one write lock. Its reads are the few pages
        // a write touches. Opening may wait for another process; after that, no wait
        // blocks the thread (the module's docs).
        conn.busy_timeout(ACQUIRE_TIMEOUT)?;
        conn.execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
             PRAGMA foreign_keys = ON; PRAGMA mmap_size = 0; PRAGMA wal_autocheckpoint = 0;",
        )?;
        conn.busy_timeout(Duration::ZERO)?;
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        Ok(Self {
            conn,
            data_version: None,
            chain_heads: HashMap::new(),
            checkpointer: Checkpointer::start(path)?,
            group: Vec::new(),
            group_heads: Vec::new(),
        })
    }

    /// After a statement that committed on its own (outside a transaction).
    pub fn wrote(&self) {
        self.checkpointer.committed();
    }

    /// The handle, for statements (sql.rs).
    pub fn conn(&mut self) -> &mut Connection {
        &mut self.conn
    }

    /// Ends a transaction an earlier user left open, if any, before this one uses the
    /// connection: one whose `ROLLBACK` failed. What it may have moved is not known, so
    /// the copy of chain heads is emptied.
    pub fn settle(&mut self) {
        if !self.group.is_empty() {
            if self.conn.is_autocommit() {
                // SQLite ended the transaction itself (it rolls back on some I/O errors).
                self.end_group(Err(LOST.to_owned()));
            }
            return;
        }
        if !self.conn.is_autocommit() {
            self.rollback();
            self.chain_heads.clear();
        }
    }

    /// Begins a transaction: inside the open group's SQLite transaction, under a
    /// savepoint of its own (answers `true`), or with a `BEGIN` of its own.
    pub async fn begin_member(&mut self) -> Result<bool> {
        self.settle();
        if self.group.is_empty() {
            self.begin().await?;
            return Ok(false);
        }
        self.conn
            .prepare_cached(MEMBER)
            .and_then(|mut s| s.raw_execute())?;
        Ok(true)
    }

    /// Ends a transaction's work. Group commit: when another caller is waiting for the
    /// writer (`contended`) and the group has room, the work stays in the open SQLite
    /// transaction, the writer goes to the next caller, and this transaction is told the
    /// outcome when the group's last member commits. Otherwise it commits, for itself and
    /// for the group. Each member's work is all or nothing: a member that rolls back
    /// undoes its savepoint only, and a failed `COMMIT` fails every member.
    pub fn commit_member(
        &mut self,
        savepoint: bool,
        heads: Vec<(String, ChainHead)>,
        contended: bool,
    ) -> CommitStep {
        if savepoint {
            let released = self
                .conn
                .prepare_cached("RELEASE member")
                .and_then(|mut s| s.raw_execute());
            if let Err(e) = released {
                self.rollback_member(savepoint, contended);
                return CommitStep::Done(Err(e.into()));
            }
        }
        if contended && self.group.len() + 1 < MAX_GROUP {
            let (told, outcome) = oneshot::channel();
            self.group.push(told);
            self.group_heads.extend(heads);
            return CommitStep::InGroup(outcome);
        }
        let mut all_heads = std::mem::take(&mut self.group_heads);
        all_heads.extend(heads);
        let committed = self.commit(all_heads);
        self.end_group(committed.as_ref().map(|_| ()).map_err(ToString::to_string));
        CommitStep::Done(committed)
    }

    /// Undoes a transaction's work: its savepoint, or the whole transaction when it was
    /// the first. Then, if the group is waiting and no one else will come to end it,
    /// commits the group.
    pub fn rollback_member(&mut self, savepoint: bool, contended: bool) {
        if savepoint && !self.conn.is_autocommit() {
            let undone = self
                .conn
                .execute_batch("ROLLBACK TO member; RELEASE member");
            if undone.is_err() {
                self.rollback();
                self.end_group(Err(LOST.to_owned()));
            }
        } else {
            self.rollback();
            if !self.group.is_empty() {
                self.end_group(Err(LOST.to_owned()));
            }
        }
        if !contended {
            self.flush_group();
        }
    }

    /// Commits the group waiting in the open SQLite transaction, if any.
    pub fn flush_group(&mut self) {
        if self.group.is_empty() {
            return;
        }
        if self.conn.is_autocommit() {
            self.end_group(Err(LOST.to_owned()));
            return;
        }
        let heads = std::mem::take(&mut self.group_heads);
        let committed = self.commit(heads);
        self.end_group(committed.map_err(|e| e.to_string()));
    }

    /// Tells every member of the group how it ended.
    fn end_group(&mut self, outcome: GroupOutcome) {
        self.group_heads.clear();
        for member in self.group.drain(..) {
            let _ = member.send(outcome.clone());
        }
    }

    /// Begins a transaction (after [`HeldConn::settle`]), waiting without blocking the
    /// thread while another process holds SQLite's write lock.
    async fn begin(&mut self) -> Result<()> {
        let started = Instant::now();
        let mut pause = Duration::from_millis(1);
        loop {
            // The statement is let go before the pause: it is not `Send`.
            let begun = self
                .conn
                .prepare_cached(BEGIN)
                .and_then(|mut begin| begin.raw_execute());
            match begun {
                Ok(_) => break,
                Err(rusqlite::Error::SqliteFailure(e, _))
                    if e.code == rusqlite::ErrorCode::DatabaseBusy
                        && started.elapsed() < ACQUIRE_TIMEOUT =>
                {
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(MAX_BEGIN_PAUSE);
                }
                Err(e) => return Err(e.into()),
            }
        }
        let version = self
            .conn
            .prepare_cached("PRAGMA data_version")?
            .query_row([], |row| row.get::<_, i64>(0));
        let version = match version {
            Ok(version) => version,
            Err(e) => {
                self.rollback();
                return Err(e.into());
            }
        };
        if self.data_version != Some(version) {
            // Another connection committed since this one last began: any head may have
            // moved (or a fresh connection, which knows none yet).
            self.chain_heads.clear();
            self.data_version = Some(version);
        }
        Ok(())
    }

    /// Commits, and records the heads the transaction moved. A failed commit is rolled
    /// back at once, so the write lock is given back.
    fn commit(&mut self, heads: Vec<(String, ChainHead)>) -> Result<()> {
        let done = self
            .conn
            .prepare_cached("COMMIT")
            .and_then(|mut commit| commit.raw_execute());
        if let Err(e) = done {
            self.rollback();
            return Err(e.into());
        }
        self.checkpointer.committed();
        if self.chain_heads.len() + heads.len() > MAX_CHAIN_HEADS {
            self.chain_heads.clear();
        }
        self.chain_heads.extend(heads);
        Ok(())
    }

    /// Rolls back the open transaction, if any: a dropped or failed one. At once, so that
    /// neither SQLite's write lock (other processes wait for it) nor the transaction's
    /// snapshot (checkpoints cannot pass it) is held until the next write. The heads it
    /// took out of the copy stay out, to be read again.
    fn rollback(&mut self) {
        if !self.conn.is_autocommit() {
            // A failure leaves the transaction open: the next user tries again (settle).
            let _ = self
                .conn
                .prepare_cached("ROLLBACK")
                .and_then(|mut r| r.raw_execute());
        }
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
    struct Waiting<'a>(&'a AtomicUsize);
    impl Drop for Waiting<'_> {
        fn drop(&mut self) {
            self.0.fetch_sub(1, Ordering::AcqRel);
        }
    }
    writer.waiting.fetch_add(1, Ordering::AcqRel);
    let waiting = Waiting(&writer.waiting);
    let held = tokio::time::timeout(ACQUIRE_TIMEOUT, writer.cell.clone().lock_owned())
        .await
        .map_err(|_| StoreError::from(sqlx::Error::PoolTimedOut))?;
    drop(waiting);
    OwnedMutexGuard::try_map(held, Option::as_mut)
        .map_err(|_| StoreError::from(sqlx::Error::PoolClosed))
}

/// How a member's commit ends: at once, or when its group commits.
pub(crate) enum CommitStep {
    Done(Result<()>),
    InGroup(oneshot::Receiver<GroupOutcome>),
}

/// A group's `COMMIT`: `Err` holds its error's text, for every member.
pub(crate) type GroupOutcome = std::result::Result<(), String>;

/// Waits for the group a commit was left to. If the group's last member never comes (the
/// caller that was waiting gave up), this member commits the group itself after
/// [`GROUP_WAIT`]. If this wait is dropped, a task does that, so the write lock is never
/// left held by a group no one will finish.
pub(crate) async fn wait_for_group(
    writer: SharedWriter,
    mut outcome: oneshot::Receiver<GroupOutcome>,
) -> Result<()> {
    struct Pending(Option<SharedWriter>);
    impl Drop for Pending {
        fn drop(&mut self) {
            if let (Some(writer), Ok(runtime)) =
                (self.0.take(), tokio::runtime::Handle::try_current())
            {
                runtime.spawn(async move {
                    if let Ok(mut held) = lock(&writer).await {
                        held.flush_group();
                    }
                });
            }
        }
    }
    let mut pending = Pending(Some(writer.clone()));
    let outcome = match tokio::time::timeout(GROUP_WAIT, &mut outcome).await {
        Ok(outcome) => outcome,
        Err(_) => {
            lock(&writer).await?.flush_group();
            outcome.await
        }
    };
    pending.0 = None;
    match outcome {
        Ok(Ok(())) => Ok(()),
        Ok(Err(why)) => Err(StoreError::Unavailable(why.into())),
        Err(_) => Err(StoreError::Unavailable(
            "the writer closed before the commit".into(),
        )),
    }
}
