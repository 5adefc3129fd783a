//! The server's settings, resolved from flags, `PLINTH_*` variables and `plinth.toml`
//! by the binary; this is the result.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

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
    pub signup: SignupMode,
    /// Life of a temporary (login) token.
    pub temporary_token_days: u32,
    /// Failed logins allowed per minute, per client IP and per account.
    pub login_failures_per_minute: u32,
    /// How often what is kept in memory (token uses, usage counts) is written. Also the
    /// most a `kill -9` can lose. Tests lengthen it to control when writes happen.
    pub flush_every: Duration,
    /// How often today's usage snapshots (members, workspaces) are taken.
    pub usage_snapshot_every: Duration,
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
            signup: SignupMode::Open,
            temporary_token_days: 30,
            login_failures_per_minute: 10,
            flush_every: Duration::from_secs(10),
            usage_snapshot_every: Duration::from_secs(300),
        }
    }
}
