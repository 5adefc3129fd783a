//! Dropping cached facts when they change, on every replica.
//!
//! A service queues an [`Invalidation`] inside its write transaction
//! ([`plinth_store::WriteTx::notify`], delivered by PostgreSQL at commit) and applies it
//! locally right after the commit. [`run_listener`] applies other replicas' ones.

use std::time::Duration;

use plinth_store::WriteTx;
use tokio::sync::watch;

use crate::state::AppState;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Invalidation {
    Token(String),
    User(String),
}

impl Invalidation {
    fn payload(&self) -> String {
        match self {
            Self::Token(id) => format!("token:{id}"),
            Self::User(id) => format!("user:{id}"),
        }
    }

    fn parse(payload: &str) -> Option<Self> {
        let (kind, id) = payload.split_once(':')?;
        match kind {
            "token" => Some(Self::Token(id.to_owned())),
            "user" => Some(Self::User(id.to_owned())),
            _ => None,
        }
    }
}

impl AppState {
    /// Queues `inv` for the other replicas; delivered only if `tx` commits.
    pub async fn queue_invalidation(
        &self,
        tx: &mut WriteTx,
        inv: &Invalidation,
    ) -> Result<(), plinth_store::StoreError> {
        tx.notify(&inv.payload()).await
    }

    /// Drops the cached facts `inv` names on this replica.
    pub fn apply_invalidation(&self, inv: &Invalidation) {
        match inv {
            Invalidation::Token(id) => self.cache.drop_token(id),
            Invalidation::User(id) => self.cache.drop_user(id),
        }
    }
}

/// Listens for other replicas' invalidations until `shutdown` turns true. Reconnects on
/// error, and then drops every cache: notifications sent meanwhile are lost.
pub async fn run_listener(state: AppState, mut shutdown: watch::Receiver<bool>) {
    loop {
        let mut listener = match state.store.listen().await {
            Ok(Some(listener)) => listener,
            Ok(None) => return,
            Err(err) => {
                tracing::warn!(error = %err, "cache invalidation listener cannot connect");
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_millis(500)) => continue,
                    _ = shutdown.changed() => return,
                }
            }
        };
        state.cache.clear();
        loop {
            tokio::select! {
                message = listener.recv() => match message {
                    Ok(note) => {
                        if let Some(inv) = Invalidation::parse(note.payload()) {
                            state.apply_invalidation(&inv);
                        }
                    }
                    Err(err) => {
                        tracing::warn!(error = %err, "cache invalidation listener lost its connection");
                        break;
                    }
                },
                _ = shutdown.changed() => return,
            }
        }
    }
}
