//! Starting and stopping a server: the listener, the background tasks, the shutdown.

use std::net::SocketAddr;
use std::time::Duration;

use plinth_store::Store;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::app::{metrics_router, router};
use crate::names::dns::DnsServer;
use crate::runtime::config::Settings;
use crate::runtime::connections;
use crate::runtime::invalidate::{run_log_reader, run_waker};
use crate::runtime::last_used::flush_token_uses;
use crate::runtime::state::AppState;
use crate::usage::tasks::{flush_usage, snapshot_usage, snapshot_usage_every};

/// How long an expired or revoked token's row is kept, so that using it is answered
/// `token-expired`/`token-revoked` (not "unknown") for a while.
const DEAD_TOKENS_KEPT: time::Duration = time::Duration::days(30);
/// How often deleted orgs, expired reservations and old audit entries are purged.
const PURGE_EVERY: Duration = Duration::from_secs(3600);
/// The shortest flush or snapshot period a setting can ask for.
const MIN_PERIOD: Duration = Duration::from_millis(100);

/// A server that is accepting connections.
pub struct Running {
    pub addr: SocketAddr,
    /// Where `/metrics` is served, unless metrics are off.
    pub metrics_addr: Option<SocketAddr>,
    /// Where the DNS server answers (the same port on both, unless it was taken on TCP).
    pub dns_udp_addr: SocketAddr,
    pub dns_tcp_addr: SocketAddr,
    pub state: AppState,
    dns: DnsServer,
    shutdown: watch::Sender<bool>,
    http: JoinHandle<std::io::Result<()>>,
    metrics: Option<JoinHandle<std::io::Result<()>>>,
    background: Vec<JoinHandle<()>>,
}

impl Running {
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting, lets requests in flight finish (until `shutdown_timeout`, then
    /// their connections are closed), then flushes what is kept in memory (token uses,
    /// usage counts) to the database and takes a last usage snapshot.
    pub async fn shutdown(self) -> std::io::Result<()> {
        let _ = self.shutdown.send(true);
        let served = self.http.await.map_err(std::io::Error::other)?;
        if let Some(metrics) = self.metrics {
            let _ = metrics.await;
        }
        self.dns.shutdown().await;
        for task in self.background {
            let _ = task.await;
        }
        flush_token_uses(&self.state).await;
        flush_usage(&self.state).await;
        snapshot_usage(&self.state).await;
        served
    }
}

/// Binds `settings.bind` for HTTP and `settings.dns_bind` for DNS (port 0 picks a free
/// one) and starts serving `store`.
pub async fn start(store: Store, mut settings: Settings) -> std::io::Result<Running> {
    let listener = TcpListener::bind(settings.bind).await?;
    let addr = listener.local_addr()?;
    let metrics_listener = match settings.metrics_bind {
        Some(bind) => Some(TcpListener::bind(bind).await.map_err(|e| {
            std::io::Error::new(e.kind(), format!("metrics listener on {bind}: {e}"))
        })?),
        None => None,
    };
    let metrics_addr = match &metrics_listener {
        Some(listener) => Some(listener.local_addr()?),
        None => None,
    };
    // Workspace URLs carry the port actually bound.
    settings.bind = addr;
    let dns_bind = settings.dns_bind;
    let state = AppState::new(store, settings);
    // The log position first, then the names: whatever is logged after the position is
    // applied on top of the load, so nothing falls between the two.
    let feed = plinth_store::InvalidationFeed::start(&state.store)
        .await
        .map_err(|e| std::io::Error::other(format!("reading the invalidation log: {e}")))?;
    state
        .directory
        .reload(&state.store)
        .await
        .map_err(|e| std::io::Error::other(format!("loading workspace names: {e}")))?;
    // Listening before the first request: another replica's change wakes this one at
    // once from now on (see `invalidate::run_log_reader`; the log covers the rest).
    let wake_ups = state
        .store
        .listen()
        .await
        .map_err(|e| std::io::Error::other(format!("listening for invalidations: {e}")))?;
    let dns = crate::names::dns::start(state.clone(), dns_bind).await?;
    let _ = state.dns_addr.set(dns.udp_addr);
    let (shutdown, shutdown_rx) = watch::channel(false);

    let mut limits = state.settings.connection_limits();
    limits.max_connections = connections::connection_cap(limits.max_connections);
    let http = tokio::spawn(connections::serve(
        listener,
        router(state.clone()),
        limits,
        state.metrics.connections.clone(),
        shutdown_rx.clone(),
    ));

    let metrics = metrics_listener.map(|listener| {
        // Scrapers are few: a small cap of its own, apart from the public one.
        let limits = connections::Limits {
            max_connections: 16,
            ..limits
        };
        tokio::spawn(connections::serve(
            listener,
            metrics_router(state.clone()),
            limits,
            // Its own: the public listener's figures are what an operator watches.
            Default::default(),
            shutdown_rx.clone(),
        ))
    });

    let mut background = vec![
        tokio::spawn(run_log_reader(
            state.clone(),
            shutdown_rx.clone(),
            feed,
            wake_ups,
        )),
        tokio::spawn(flush_every(state.clone(), shutdown_rx.clone())),
        tokio::spawn(snapshot_usage_every(
            state.clone(),
            shutdown_rx.clone(),
            MIN_PERIOD,
        )),
        tokio::spawn(purge_every(state.clone(), shutdown_rx.clone())),
    ];
    if state.store.backend() == plinth_store::Backend::Postgres {
        background.push(tokio::spawn(run_waker(state.clone(), shutdown_rx)));
    }
    Ok(Running {
        addr,
        metrics_addr,
        metrics,
        dns_udp_addr: dns.udp_addr,
        dns_tcp_addr: dns.tcp_addr,
        dns,
        state,
        shutdown,
        http,
        background,
    })
}

async fn flush_every(state: AppState, mut shutdown: watch::Receiver<bool>) {
    // A zero period would make `interval` panic.
    let mut tick = tokio::time::interval(state.settings.flush_every.max(MIN_PERIOD));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // The first tick is immediate, and nothing has been counted yet.
    tick.tick().await;
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = shutdown.changed() => return,
        }
        flush_token_uses(&state).await;
        flush_usage(&state).await;
    }
}

/// Once at start and then every hour: purges deleted orgs and handle reservations whose
/// grace period is over, audit entries past the retention period (when set), and CLI
/// logins whose codes expired.
async fn purge_every(state: AppState, mut shutdown: watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(PURGE_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = shutdown.changed() => return,
        }
        purge_expired(&state).await;
    }
}

/// One pass of [`purge_every`].
pub async fn purge_expired(state: &AppState) {
    match crate::service::admin::purge_expired(&state.store, state.now()).await {
        Ok(orgs) if orgs.is_empty() => {}
        Ok(orgs) => tracing::info!(count = orgs.len(), "purged deleted organizations"),
        Err(err) => tracing::warn!(error = %err, "could not purge deleted organizations"),
    }
    match crate::audit::retention::purge_expired(state).await {
        Ok(0) => {}
        Ok(removed) => tracing::info!(removed, "purged audit entries past retention"),
        Err(err) => tracing::warn!(error = %err, "could not purge old audit entries"),
    }
    match crate::usage::tasks::purge_expired(state).await {
        Ok(0) => {}
        Ok(removed) => tracing::info!(removed, "purged usage figures past retention"),
        Err(err) => tracing::warn!(error = %err, "could not purge old usage figures"),
    }
    state
        .directory
        .drop_expired_redirects(plinth_store::time_to_micros(state.now()));
    if let Err(err) = state.store.purge_expired_device_grants(state.now()).await {
        tracing::warn!(error = %err, "could not purge expired CLI logins");
    }
    let cutoff = state.now() - DEAD_TOKENS_KEPT;
    match state.store.purge_dead_tokens(cutoff).await {
        Ok(0) => {}
        Ok(removed) => tracing::info!(removed, "purged long-dead tokens"),
        Err(err) => tracing::warn!(error = %err, "could not purge dead tokens"),
    }
    state.metrics.purge_passes.inc();
}
