//! The server's settings, resolved from flags, `PLINTH_*` variables and `plinth.toml`
//! by the binary; this is the result.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use crate::runtime::forwarded::{Cidr, PublicUrl};

/// Who may create an account through `POST /signup`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SignupMode {
    Open,
    Closed,
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub bind: SocketAddr,
    pub database_url: String,
    pub base_domain: String,
    pub dns_bind: SocketAddr,
    /// The address workspace names resolve to (A, or AAAA when IPv6).
    pub workspace_address: IpAddr,
    pub handle_grace_days: u32,
    /// `None` keeps audit entries forever.
    pub audit_retention_days: Option<u32>,
    /// `None` keeps usage figures forever; else days before today whose figures the
    /// hourly purge removes (the levels a later day still reads are kept).
    pub usage_retention_days: Option<u32>,
    pub signup: SignupMode,
    /// Life of a temporary (login) token.
    pub temporary_token_days: u32,
    /// Failed logins allowed per minute, per client IP and per account.
    pub login_failures_per_minute: u32,
    /// Signups (password hashes) per minute from one client address.
    pub signups_per_minute_per_address: u32,
    /// Signups per minute from everyone together, on this replica.
    pub signups_per_minute: u32,
    /// How often what is kept in memory (token uses, usage counts) is written. Also the
    /// most a `kill -9` can lose. Tests lengthen it to control when writes happen.
    pub flush_every: Duration,
    /// How often today's usage snapshots (members, workspaces) are taken.
    pub usage_snapshot_every: Duration,
    /// How people reach this server; `None`: `http://localhost:PORT` (see
    /// [`PublicUrl::for_bind`]). The device flow's links and workspace URLs use it, never
    /// the request's `Host`.
    pub public_url: Option<PublicUrl>,
    /// Peers whose `X-Forwarded-For`/`Forwarded`/`X-Forwarded-Proto` are believed.
    pub trusted_proxies: Vec<Cidr>,
    /// Where Prometheus metrics are served (`/metrics`), apart from the public port;
    /// `None` serves none.
    pub metrics_bind: Option<SocketAddr>,
    /// A request head must arrive within this (from accept, or from its first byte on a
    /// kept-alive connection).
    pub header_read_timeout: Duration,
    /// How long a kept-alive connection may wait for its next request.
    pub idle_timeout: Duration,
    /// How long a handler may take to answer (the head; a streamed body may take longer).
    pub request_timeout: Duration,
    /// Open HTTP connections at most; past it a new one gets 503 and is closed.
    pub max_connections: usize,
    /// How long a shutdown waits for requests in flight before closing their connections;
    /// in-memory counts are written after it either way.
    pub shutdown_timeout: Duration,
}

impl Settings {
    /// The connection limits of the HTTP listeners.
    pub fn connection_limits(&self) -> crate::runtime::connections::Limits {
        crate::runtime::connections::Limits {
            header_read_timeout: self.header_read_timeout,
            idle_timeout: self.idle_timeout,
            request_timeout: self.request_timeout,
            max_connections: self.max_connections,
            shutdown_timeout: self.shutdown_timeout,
        }
    }

    /// [`Settings::public_url`], or the default for the address actually bound.
    pub fn public_url(&self) -> PublicUrl {
        self.public_url
            .clone()
            .unwrap_or_else(|| PublicUrl::for_bind(self.bind))
    }
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            bind: SocketAddr::from((Ipv4Addr::LOCALHOST, 8080)),
            database_url: "sqlite://./plinth-data/plinth.db".to_owned(),
            base_domain: "plinth.localhost".to_owned(),
            dns_bind: SocketAddr::from((Ipv4Addr::LOCALHOST, 5353)),
            workspace_address: IpAddr::V4(Ipv4Addr::LOCALHOST),
            handle_grace_days: 30,
            audit_retention_days: None,
            usage_retention_days: None,
            signup: SignupMode::Open,
            temporary_token_days: 30,
            login_failures_per_minute: 10,
            signups_per_minute_per_address: 10,
            signups_per_minute: 60,
            flush_every: Duration::from_secs(10),
            usage_snapshot_every: Duration::from_secs(300),
            public_url: None,
            trusted_proxies: Vec::new(),
            // Loopback: metrics say who is busy and with what, not for the internet.
            // 9464, not Prometheus's own 9090, which a Prometheus beside us would hold.
            metrics_bind: Some(SocketAddr::from((Ipv4Addr::LOCALHOST, 9464))),
            header_read_timeout: Duration::from_secs(10),
            // Longer than a balancer's own idle timeout (60 s on the common ones), so
            // that it closes first and never sends a request down a closing connection.
            idle_timeout: Duration::from_secs(75),
            request_timeout: Duration::from_secs(30),
            max_connections: 1024,
            // Orchestrators wait 30 s before SIGKILL (Kubernetes' default): well within.
            shutdown_timeout: Duration::from_secs(10),
        }
    }
}
