//! Dropping cached facts when they change, on every replica.
//!
//! A service queues an [`Invalidation`] inside its write transaction
//! ([`plinth_store::WriteTx::notify`], delivered by PostgreSQL at commit) and applies it
//! locally right after the commit. [`run_listener`] applies other replicas' ones.

use std::time::Duration;

use plinth_store::{PgListener, WriteTx};
use tokio::sync::watch;

use crate::runtime::state::AppState;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Invalidation {
    Token(String),
    User(String),
    /// An org's profile, handle, auth epoch or existence changed (by org id).
    Org(String),
    /// A membership or invitation changed.
    Membership {
        org_id: String,
        user_id: String,
    },
    /// The set of live workspace names changed: DNS and workspace hosts reload.
    Workspaces,
}

impl Invalidation {
    fn payload(&self) -> String {
        match self {
            Self::Token(id) => format!("token:{id}"),
            Self::User(id) => format!("user:{id}"),
            Self::Org(id) => format!("org:{id}"),
            Self::Membership { org_id, user_id } => format!("membership:{org_id}/{user_id}"),
            Self::Workspaces => "workspaces:".to_owned(),
        }
    }

    fn parse(payload: &str) -> Option<Self> {
        let (kind, id) = payload.split_once(':')?;
        match kind {
            "token" => Some(Self::Token(id.to_owned())),
            "user" => Some(Self::User(id.to_owned())),
            "org" => Some(Self::Org(id.to_owned())),
            "membership" => {
                let (org_id, user_id) = id.split_once('/')?;
                Some(Self::Membership {
                    org_id: org_id.to_owned(),
                    user_id: user_id.to_owned(),
                })
            }
            "workspaces" => Some(Self::Workspaces),
            _ => None,
        }
    }
}

/// Queues `inv` for every running replica, without a server of our own (`plinth admin`).
pub async fn queue(tx: &mut WriteTx, inv: &Invalidation) -> Result<(), plinth_store::StoreError> {
    tx.notify(&inv.payload()).await
}

impl AppState {
    /// Queues `inv` for the other replicas; delivered only if `tx` commits.
    pub async fn queue_invalidation(
        &self,
        tx: &mut WriteTx,
        inv: &Invalidation,
    ) -> Result<(), plinth_store::StoreError> {
        queue(tx, inv).await
    }

    /// Commits `tx` with `inv` queued for the other replicas, then applies it here: the
    /// tail of every write that changes a cached fact.
    pub async fn commit_invalidating(
        &self,
        mut tx: WriteTx,
        inv: &Invalidation,
    ) -> Result<(), plinth_store::StoreError> {
        queue(&mut tx, inv).await?;
        tx.commit().await?;
        self.apply_invalidation(inv);
        Ok(())
    }

    /// Drops the cached facts `inv` names on this replica. The workspace directory is
    /// not touched here: the service that changed it updates it in place, and other
    /// replicas reload it in [`run_listener`].
    pub fn apply_invalidation(&self, inv: &Invalidation) {
        match inv {
            Invalidation::Token(id) => self.cache.drop_token(id),
            Invalidation::User(id) => self.cache.drop_user(id),
            Invalidation::Org(id) => self.cache.drop_org(id),
            Invalidation::Membership { org_id, user_id } => {
                self.cache.drop_membership(org_id, user_id)
            }
            Invalidation::Workspaces => {}
        }
    }

    /// Applies an invalidation sent by another replica.
    async fn apply_remote(&self, inv: &Invalidation) {
        self.apply_invalidation(inv);
        // An org's rename or deletion changes its workspaces' names too.
        if matches!(inv, Invalidation::Workspaces | Invalidation::Org(_)) {
            self.directory.reload_logged(&self.store).await;
        }
    }
}

/// Listens for other replicas' invalidations until `shutdown` turns true. Reconnects on
/// error, and then drops every cache: notifications sent meanwhile are lost.
///
/// `connected` is the listener [`crate::runtime::server::start`] opened before taking requests:
/// nothing can have been missed on it, so the caches stay as they are. Only a
/// reconnection clears them.
pub async fn run_listener(
    state: AppState,
    mut shutdown: watch::Receiver<bool>,
    connected: Option<PgListener>,
) {
    let mut connected = connected;
    loop {
        let mut listener = match connected.take() {
            Some(listener) => listener,
            None => {
                let listener = match state.store.listen().await {
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
                state.directory.reload_logged(&state.store).await;
                listener
            }
        };
        loop {
            tokio::select! {
                message = listener.recv() => match message {
                    Ok(note) => {
                        if let Some(inv) = Invalidation::parse(note.payload()) {
                            state.apply_remote(&inv).await;
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

#[cfg(test)]
mod tests {
    use super::Invalidation;

    #[test]
    fn payloads_round_trip() {
        for inv in [
            Invalidation::Token("t".into()),
            Invalidation::User("u".into()),
            Invalidation::Org("o".into()),
            Invalidation::Membership {
                org_id: "o".into(),
                user_id: "u".into(),
            },
            Invalidation::Workspaces,
        ] {
            assert_eq!(Invalidation::parse(&inv.payload()), Some(inv));
        }
    }
}
