//! Cache invalidation across replicas through PostgreSQL `LISTEN/NOTIFY`.
//!
//! A notification sent inside a write transaction is delivered only if it commits, so a
//! replica never drops a cache entry for a change that did not happen. On SQLite there
//! is one process, and these are no-ops.

use sqlx::postgres::PgListener;

use crate::Result;
use crate::store::{Backend, Store, WriteTx};

/// The channel every replica listens on.
pub const INVALIDATION_CHANNEL: &str = "plinth_invalidate";

impl WriteTx {
    /// Queues `payload` for every replica's listener, delivered at commit.
    pub async fn notify(&mut self, payload: &str) -> Result<()> {
        if self.backend == Backend::Postgres {
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind(INVALIDATION_CHANNEL)
                .bind(payload)
                .execute(&mut *self.tx)
                .await?;
        }
        Ok(())
    }
}

impl Store {
    /// A dedicated connection listening for invalidations; `None` on SQLite.
    pub async fn listen(&self) -> Result<Option<PgListener>> {
        if self.backend() != Backend::Postgres {
            return Ok(None);
        }
        let mut listener = PgListener::connect(self.url()).await?;
        listener.listen(INVALIDATION_CHANNEL).await?;
        Ok(Some(listener))
    }
}
