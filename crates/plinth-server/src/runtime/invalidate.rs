//! Dropping cached facts when they change, on every replica (DESIGN.md §5).
//!
//! A service logs an [`Invalidation`] inside its write transaction (a row of the
//! store's invalidation log, so it exists exactly when the change does), commits, applies
//! it here at once and asks for a wake-up: [`AppState::commit_invalidating`] does all of
//! it. The transaction itself never issues `NOTIFY`. [`run_log_reader`] applies what other
//! processes logged: woken by a `NOTIFY` that [`run_waker`] sends after commits (on
//! PostgreSQL), and polling the log in any case (the only way on SQLite, where it is how
//! `plinth admin` reaches a running server; on PostgreSQL it covers a missed wake-up).

use std::collections::{BTreeSet, VecDeque};
use std::sync::LazyLock;
use std::time::{Duration, Instant};

use plinth_store::{Backend, InvalidationFeed, PgListener, Store, StoreError, WriteTx};
use tokio::sync::{Notify, watch};

use crate::runtime::state::AppState;

/// How often a server looks at the log's head when nothing woke it. On SQLite nothing
/// wakes it: this is how `plinth admin` changes arrive (one index look-up each time).
pub const POLL_SQLITE: Duration = Duration::from_millis(250);
/// On PostgreSQL a `NOTIFY` wakes replicas at once; polling covers a lost one.
pub const POLL_POSTGRES: Duration = Duration::from_secs(1);
/// Log rows are kept this long: a replica away for longer reloads everything.
pub const LOG_RETENTION: Duration = Duration::from_secs(600);
/// How often each server prunes the log.
const PRUNE_EVERY: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Invalidation {
    Token(String),
    User(String),
    /// An org's profile, handle, auth epoch or existence changed (by org id): its
    /// cached facts go, and its workspaces' names are re-read.
    Org(String),
    /// A membership or invitation changed.
    Membership {
        org_id: String,
        user_id: String,
    },
    /// One org's workspaces changed (created, renamed, deleted): its names are re-read.
    OrgWorkspaces(String),
    /// Any name may have changed: every replica reloads all of them, which costs as much
    /// as the names there are. Prefer [`Invalidation::OrgWorkspaces`].
    Workspaces,
}

impl Invalidation {
    fn payload(&self) -> String {
        match self {
            Self::Token(id) => format!("token:{id}"),
            Self::User(id) => format!("user:{id}"),
            Self::Org(id) => format!("org:{id}"),
            Self::Membership { org_id, user_id } => format!("membership:{org_id}/{user_id}"),
            Self::OrgWorkspaces(id) => format!("org-workspaces:{id}"),
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
            "org-workspaces" => Some(Self::OrgWorkspaces(id.to_owned())),
            "workspaces" => Some(Self::Workspaces),
            _ => None,
        }
    }
}

/// A server's side of the log: the origin it writes its rows under (it applies those
/// itself, so it skips them when reading), and its pending wake-up.
pub struct Invalidations {
    origin: String,
    wake: Notify,
}

impl Default for Invalidations {
    fn default() -> Self {
        Self {
            origin: format!("server-{}", plinth_store::new_id()),
            wake: Notify::new(),
        }
    }
}

/// The origin of rows logged without a server (`plinth admin`, the purge task): every
/// server applies them when it reads them, the one in this process included.
static PROCESS_ORIGIN: LazyLock<String> =
    LazyLock::new(|| format!("process-{}", plinth_store::new_id()));

/// Logs `inv` for every running server, without a server of our own (`plinth admin`).
/// Commit with [`commit_and_wake`]; a plain commit works too, and servers then see it at
/// their next poll (within a second).
pub async fn queue(tx: &mut WriteTx, inv: &Invalidation) -> Result<(), StoreError> {
    tx.log_invalidation(&PROCESS_ORIGIN, &inv.payload()).await
}

/// Commits `tx` (which logged invalidations through [`queue`]) and then, outside the
/// transaction, wakes the running servers on PostgreSQL.
pub async fn commit_and_wake(store: &Store, tx: WriteTx) -> Result<(), StoreError> {
    tx.commit().await?;
    if let Err(err) = store.wake_replicas(&PROCESS_ORIGIN).await {
        // The change is committed and logged: servers find it at their next poll.
        tracing::warn!(error = %err, "could not wake the running servers");
    }
    Ok(())
}

impl AppState {
    /// Logs `inv` for the other replicas; visible to them only if `tx` commits. After
    /// the commit call [`AppState::invalidated`] (or use
    /// [`AppState::commit_invalidating`], which does both).
    pub async fn queue_invalidation(
        &self,
        tx: &mut WriteTx,
        inv: &Invalidation,
    ) -> Result<(), StoreError> {
        tx.log_invalidation(&self.invalidations.origin, &inv.payload())
            .await
    }

    /// Commits `tx` with `inv` logged for the other replicas, applies it here and wakes
    /// them: the tail of every write that changes a cached fact. When this returns, this
    /// replica's caches and names show the change.
    pub async fn commit_invalidating(
        &self,
        tx: WriteTx,
        inv: &Invalidation,
    ) -> Result<(), StoreError> {
        self.commit_invalidating_all(tx, std::slice::from_ref(inv))
            .await
    }

    /// [`AppState::commit_invalidating`] for a change of `org`'s profile alone, where
    /// `org` is the row the write read back: it replaces the cached org, and its
    /// workspaces' names, which show only its display name of it, are patched from it
    /// instead of re-read (three reads fewer for every profile write). Other replicas
    /// drop and re-read from the log as for any [`Invalidation::Org`].
    pub async fn commit_org_profile(
        &self,
        tx: WriteTx,
        org: &plinth_store::OrgRecord,
    ) -> Result<(), StoreError> {
        let inv = Invalidation::Org(org.id.clone());
        // Before the commit: see `AuthCache::replace_org`.
        let ticket = self.cache.ticket();
        self.commit_logged(tx, std::slice::from_ref(&inv)).await?;
        // The row as the write left it is this replica's cached org at once: the next
        // request of the org (the next profile write, often) reads nothing.
        self.cache.replace_org(ticket, org.clone());
        self.directory
            .set_org_display_name(&org.id, &org.display_name)
            .await;
        self.invalidations.wake.notify_one();
        Ok(())
    }

    /// [`AppState::commit_invalidating`] for a write that invalidates several things.
    pub async fn commit_invalidating_all(
        &self,
        tx: WriteTx,
        invs: &[Invalidation],
    ) -> Result<(), StoreError> {
        self.commit_logged(tx, invs).await?;
        self.invalidated(invs).await;
        Ok(())
    }

    /// Commits `tx` with `invs` logged for the other replicas; applies nothing here.
    async fn commit_logged(
        &self,
        mut tx: WriteTx,
        invs: &[Invalidation],
    ) -> Result<(), StoreError> {
        for inv in invs {
            self.queue_invalidation(&mut tx, inv).await?;
        }
        tx.commit().await
    }

    /// After the commit of a transaction that logged `invs` through
    /// [`AppState::queue_invalidation`]: applies them here and wakes the other replicas.
    pub async fn invalidated(&self, invs: &[Invalidation]) {
        for inv in invs {
            self.apply_invalidation(inv);
        }
        self.refresh_names(invs).await;
        self.invalidations.wake.notify_one();
    }

    /// Drops the cached facts `inv` names on this replica (the caches only; names are
    /// re-read by [`AppState::invalidated`] and the log reader).
    pub fn apply_invalidation(&self, inv: &Invalidation) {
        match inv {
            Invalidation::Token(id) => self.cache.drop_token(id),
            Invalidation::User(id) => self.cache.drop_user(id),
            Invalidation::Org(id) => self.cache.drop_org(id),
            Invalidation::Membership { org_id, user_id } => {
                self.cache.drop_membership(org_id, user_id)
            }
            Invalidation::OrgWorkspaces(_) | Invalidation::Workspaces => {}
        }
    }

    /// Re-reads the names `invs` affect: each org named once, or everything.
    async fn refresh_names(&self, invs: &[Invalidation]) {
        let mut orgs = BTreeSet::new();
        for inv in invs {
            match inv {
                Invalidation::Workspaces => {
                    self.directory.reload_logged(&self.store).await;
                    return;
                }
                Invalidation::Org(id) | Invalidation::OrgWorkspaces(id) => {
                    orgs.insert(id.as_str());
                }
                _ => {}
            }
        }
        for org_id in orgs {
            if let Err(err) = self.directory.refresh_org(&self.store, org_id).await {
                tracing::warn!(error = %err, "could not re-read an org's workspace names");
            }
        }
    }
}

/// Sends one wake-up `NOTIFY` for however many commits asked since the last one, until
/// `shutdown` turns true. PostgreSQL only. Requests arriving while one is sent collapse
/// into the next, so a burst of writes costs a few notifications, and no write waits
/// for one.
pub async fn run_waker(state: AppState, mut shutdown: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = state.invalidations.wake.notified() => {}
            _ = shutdown.changed() => return,
        }
        if let Err(err) = state.store.wake_replicas(&state.invalidations.origin).await {
            tracing::debug!(error = %err, "could not wake the other replicas; they poll");
        }
    }
}

/// Applies what other processes logged, until `shutdown` turns true: when a `NOTIFY`
/// wakes it, and every poll period in any case. Also prunes the log.
///
/// `feed` was started before the names were loaded and `listener` (PostgreSQL) opened
/// before the server took its first request, by [`crate::runtime::server::start`].
pub async fn run_log_reader(
    state: AppState,
    mut shutdown: watch::Receiver<bool>,
    feed: InvalidationFeed,
    listener: Option<PgListener>,
) {
    let postgres = state.store.backend() == Backend::Postgres;
    let mut reader = LogReader {
        feed,
        failing: false,
        positions: VecDeque::new(),
    };
    let mut listener = listener;
    let mut poll = tokio::time::interval(if postgres { POLL_POSTGRES } else { POLL_SQLITE });
    poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut prune = tokio::time::interval(PRUNE_EVERY);
    prune.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = poll.tick() => {
                if postgres && listener.is_none() {
                    listener = match state.store.listen().await {
                        Ok(listener) => listener,
                        Err(err) => {
                            tracing::debug!(error = %err, "cannot listen for wake-ups yet");
                            None
                        }
                    };
                }
                state.directory.reload_if_stale(&state.store).await;
            }
            woken = next_wake(&mut listener) => match woken {
                Wake::Note(origin) if origin == state.invalidations.origin => continue,
                Wake::Note(_) => {}
                // Wake-ups sent meanwhile are lost; the log has what they were for.
                Wake::Lost => tracing::warn!("the wake-up listener lost its connection; reading the log"),
                Wake::Failed(err) => {
                    tracing::warn!(error = %err, "the wake-up listener cannot reconnect; polling the log");
                    listener = None;
                }
            },
            _ = prune.tick() => {
                reader.prune(&state.store).await;
                continue;
            }
            _ = shutdown.changed() => return,
        }
        reader.catch_up(&state).await;
    }
}

enum Wake {
    /// A notification, with its sender's origin.
    Note(String),
    /// The connection dropped; the next wait reconnects.
    Lost,
    Failed(StoreError),
}

async fn next_wake(listener: &mut Option<PgListener>) -> Wake {
    let Some(listener) = listener else {
        return std::future::pending().await;
    };
    match listener.try_recv().await {
        Ok(Some(note)) => Wake::Note(note.payload().to_owned()),
        Ok(None) => Wake::Lost,
        Err(err) => Wake::Failed(err.into()),
    }
}

struct LogReader {
    feed: InvalidationFeed,
    /// Whether the last read failed (so a database outage is logged once, not per poll).
    failing: bool,
    /// (when, position): what may be pruned once it is older than the retention.
    positions: VecDeque<(Instant, i64)>,
}

impl LogReader {
    async fn catch_up(&mut self, state: &AppState) {
        let read = match self.feed.read(&state.store).await {
            Ok(read) => {
                if std::mem::take(&mut self.failing) {
                    tracing::info!("reading the invalidation log again");
                }
                read
            }
            Err(err) => {
                if !std::mem::replace(&mut self.failing, true) {
                    tracing::warn!(error = %err, "cannot read the invalidation log");
                }
                return;
            }
        };
        if read.gaps_given_up > 0 {
            tracing::debug!(
                count = read.gaps_given_up,
                "invalidation log ids never committed (rolled back)"
            );
        }
        if read.lost {
            tracing::warn!(
                "invalidations this server needed are gone from the log (it was away too long, \
                 or the database was restored): reloading caches and names"
            );
            state.cache.clear();
            state.directory.mark_stale();
            state.directory.reload_logged(&state.store).await;
            return;
        }
        let mut invs = Vec::new();
        for row in &read.rows {
            if row.origin == state.invalidations.origin {
                continue;
            }
            match Invalidation::parse(&row.payload) {
                Some(inv) => invs.push(inv),
                // Logged by a newer version: dropping every cached fact is always right.
                None => {
                    tracing::debug!(payload = %row.payload, "unknown invalidation: clearing caches");
                    state.cache.clear();
                }
            }
        }
        for inv in &invs {
            state.apply_invalidation(inv);
        }
        state.refresh_names(&invs).await;
        state
            .metrics
            .invalidations_applied
            .inc_by(invs.len() as u64);
    }

    /// Deletes the log rows this server read more than [`LOG_RETENTION`] ago. Every
    /// server does it; a replica further behind than that reloads (its feed says lost).
    async fn prune(&mut self, store: &Store) {
        let now = Instant::now();
        self.positions.push_back((now, self.feed.position()));
        let mut below = None;
        while let Some(&(at, position)) = self.positions.front() {
            if now.duration_since(at) < LOG_RETENTION {
                break;
            }
            below = Some(position);
            self.positions.pop_front();
        }
        if let Some(below) = below {
            match store.prune_invalidation_log(below).await {
                Ok(0) => {}
                Ok(removed) => tracing::debug!(removed, "pruned the invalidation log"),
                Err(err) => tracing::warn!(error = %err, "could not prune the invalidation log"),
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
            Invalidation::OrgWorkspaces("o".into()),
            Invalidation::Workspaces,
        ] {
            assert_eq!(Invalidation::parse(&inv.payload()), Some(inv));
        }
        assert_eq!(Invalidation::parse("from-a-newer-version:x"), None);
    }
}
