//! SQLite's checkpoints, run by a thread of their own instead of inside the writer's
//! commits.
//!
//! In WAL mode a commit appends pages to the log, and a checkpoint copies them back into
//! the database file and `fsync`s it. By default the connection that commits runs one
//! whenever the log passes 1,000 pages, inside that `COMMIT`. On the writer (writer.rs)
//! that was a runtime worker blocked in `fsync` while holding the one write lock: a fifth
//! of the server's samples under a load of profile writes (docs/BENCHMARKS.md). So the
//! writer turns automatic checkpoints off (`wal_autocheckpoint = 0`) and tells this
//! thread when it commits; the thread waits [`GATHER`] for more commits, then runs a
//! `PASSIVE` checkpoint on its own connection, which copies what no reader still needs and
//! waits for no one. Writes go on meanwhile, and the log is rewritten from its start once
//! a checkpoint has copied all of it, so its file stays the size of a moment's writes.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError, SyncSender};
use std::thread::JoinHandle;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use crate::Result;

/// How long commits are gathered into one checkpoint. At a few thousand writes a second
/// that is a few thousand pages, a few MiB of log.
const GATHER: Duration = Duration::from_millis(100);

#[derive(Debug)]
pub(crate) struct Checkpointer {
    /// `None` once dropped: the thread then ends.
    wake: Option<SyncSender<()>>,
    /// A checkpoint is asked for and has not started yet.
    pending: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Checkpointer {
    /// Starts the thread, on its own connection to the database at `path`.
    pub fn start(path: &Path) -> Result<Self> {
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        // A checkpoint syncs the log and then the file, as the writer's `synchronous =
        // NORMAL` expects. This thread may wait for a lock; no request waits for it.
        conn.busy_timeout(Duration::from_secs(1))?;
        conn.execute_batch("PRAGMA synchronous = NORMAL; PRAGMA mmap_size = 0;")?;
        let (wake, asked) = mpsc::sync_channel(1);
        let pending = Arc::new(AtomicBool::new(false));
        let thread = {
            let pending = pending.clone();
            std::thread::Builder::new()
                .name("plinth-checkpoint".to_owned())
                .spawn(move || {
                    while asked.recv().is_ok() {
                        if let Err(RecvTimeoutError::Disconnected) = asked.recv_timeout(GATHER) {
                            break;
                        }
                        // Cleared before the checkpoint: a commit during it asks again.
                        pending.store(false, Ordering::Release);
                        if let Err(err) = conn.execute_batch("PRAGMA wal_checkpoint(PASSIVE)") {
                            tracing::warn!(error = %err, "SQLite checkpoint failed");
                        }
                    }
                })
                .map_err(|e| crate::StoreError::Corrupt(format!("checkpoint thread: {e}")))?
        };
        Ok(Self {
            wake: Some(wake),
            pending,
            thread: Some(thread),
        })
    }

    /// After a commit: asks for a checkpoint, unless one is asked for already. Never
    /// blocks.
    pub fn committed(&self) {
        if !self.pending.swap(true, Ordering::AcqRel)
            && let Some(wake) = &self.wake
        {
            let _ = wake.try_send(());
        }
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        // Ends the thread at once (a gathering wait included), after a checkpoint that has
        // started, so that the database has no connection of the store's left open.
        drop(self.wake.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
