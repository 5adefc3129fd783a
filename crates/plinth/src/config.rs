//! Resolving settings: a flag beats its `PLINTH_*` variable (clap reads both), which
//! beats `plinth.toml`, which beats the defaults of `Settings::default()`.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use clap::Args;
use plinth_server::runtime::forwarded::{Cidr, PublicUrl};
use plinth_server::{Settings, SignupMode};
use serde::Deserialize;

#[derive(Debug, Clone, Args)]
pub struct DatabaseArgs {
    /// sqlite://PATH (the default, created on first start) or postgres://…
    #[arg(long, env = "PLINTH_DATABASE_URL")]
    pub database_url: Option<String>,

    /// A TOML file with the same settings (names as the flags, with underscores).
    /// Default: ./plinth.toml when it exists.
    #[arg(long, env = "PLINTH_CONFIG")]
    pub config: Option<PathBuf>,
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub db: DatabaseArgs,

    /// Address for HTTP (API, console, workspace hosts). Default 127.0.0.1:8080.
    #[arg(long, env = "PLINTH_BIND")]
    pub bind: Option<SocketAddr>,

    /// The DNS zone of workspace names. Default plinth.localhost.
    #[arg(long, env = "PLINTH_BASE_DOMAIN")]
    pub base_domain: Option<String>,

    /// Address of the authoritative DNS server (UDP and TCP). Default 127.0.0.1:5353.
    #[arg(long, env = "PLINTH_DNS_BIND")]
    pub dns_bind: Option<SocketAddr>,

    /// The address workspace names resolve to. Default 127.0.0.1.
    #[arg(long, env = "PLINTH_WORKSPACE_ADDRESS")]
    pub workspace_address: Option<IpAddr>,

    /// Days an old org handle stays reserved and redirecting after a rename. Default 30.
    #[arg(long, env = "PLINTH_HANDLE_GRACE_DAYS")]
    pub handle_grace_days: Option<u32>,

    /// Days audit entries are kept. Default: forever.
    #[arg(long, env = "PLINTH_AUDIT_RETENTION_DAYS")]
    pub audit_retention_days: Option<u32>,

    /// Whether anyone may sign up. Default open.
    #[arg(long, env = "PLINTH_SIGNUP", value_parser = parse_signup)]
    pub signup: Option<SignupMode>,

    /// The address people and the device flow use to reach this server, e.g.
    /// https://plinth.example.com: links the server hands out never come from the
    /// request's Host. Default http://localhost:PORT (the bound port).
    #[arg(long, env = "PLINTH_PUBLIC_URL")]
    pub public_url: Option<PublicUrl>,

    /// Comma-separated addresses or CIDR blocks of the proxies in front of this server
    /// (10.0.0.0/8,fd00::/8). Only these may set X-Forwarded-For, Forwarded and
    /// X-Forwarded-Proto. Default: none (the TCP peer is the client).
    #[arg(long, env = "PLINTH_TRUSTED_PROXIES", value_parser = parse_cidrs)]
    pub trusted_proxies: Option<CidrList>,

    /// Address of the Prometheus metrics listener (/metrics), or `off`. Not served on the
    /// public port. Default 127.0.0.1:9464.
    #[arg(long, env = "PLINTH_METRICS_BIND", value_parser = parse_metrics_bind)]
    pub metrics_bind: Option<MetricsBind>,

    /// Signups a minute from one client address (each costs a password hash). Default 10.
    #[arg(long, env = "PLINTH_SIGNUPS_PER_MINUTE_PER_ADDRESS")]
    pub signups_per_minute_per_address: Option<u32>,

    /// Signups a minute from everyone together, per replica. Default 60.
    #[arg(long, env = "PLINTH_SIGNUPS_PER_MINUTE")]
    pub signups_per_minute: Option<u32>,

    /// A request head must arrive within this, counted from accept (or from its first
    /// byte on a kept-alive connection). Seconds, or with a unit: 500ms, 10s, 2m.
    /// Default 10s.
    #[arg(long, env = "PLINTH_HEADER_READ_TIMEOUT", value_parser = parse_duration)]
    pub header_read_timeout: Option<Duration>,

    /// How long a kept-alive connection may wait for its next request. Keep it above your
    /// load balancer's idle timeout. Default 75s.
    #[arg(long, env = "PLINTH_IDLE_TIMEOUT", value_parser = parse_duration)]
    pub idle_timeout: Option<Duration>,

    /// How long a request may take to be answered (503 past it). Default 30s.
    #[arg(long, env = "PLINTH_REQUEST_TIMEOUT", value_parser = parse_duration)]
    pub request_timeout: Option<Duration>,

    /// Open HTTP connections at most (lowered to fit `ulimit -n`); past it a new one gets
    /// 503 and is closed. Default 1024.
    #[arg(long, env = "PLINTH_MAX_CONNECTIONS")]
    pub max_connections: Option<usize>,

    /// On SIGTERM, how long requests in flight may take before their connections are
    /// closed; usage counts and token uses are written after it either way. Default 10s.
    #[arg(long, env = "PLINTH_SHUTDOWN_TIMEOUT", value_parser = parse_duration)]
    pub shutdown_timeout: Option<Duration>,
}

/// `500ms`, `10s`, `2m`, or a bare number of seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let bad = || format!("{s:?} is not a duration (500ms, 10s, 2m)");
    let (number, unit) = match s.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => s.split_at(i),
        None => (s, "s"),
    };
    let n: u64 = number.parse().map_err(|_| bad())?;
    let duration = match unit {
        "ms" => Duration::from_millis(n),
        "s" => Duration::from_secs(n),
        "m" => Duration::from_secs(n.checked_mul(60).ok_or_else(bad)?),
        _ => return Err(bad()),
    };
    if duration.is_zero() {
        return Err(format!("{s:?}: a timeout must be longer than zero"));
    }
    Ok(duration)
}

/// `--metrics-bind`: an address, or `off`.
#[derive(Debug, Clone, Copy)]
pub struct MetricsBind(Option<SocketAddr>);

fn parse_metrics_bind(s: &str) -> Result<MetricsBind, String> {
    match s {
        "off" | "none" => Ok(MetricsBind(None)),
        _ => s
            .parse()
            .map(|addr| MetricsBind(Some(addr)))
            .map_err(|_| format!("{s:?} is not an address (127.0.0.1:9464) or off")),
    }
}

/// `--trusted-proxies`: one value holding a list.
#[derive(Debug, Clone)]
pub struct CidrList(Vec<Cidr>);

fn parse_cidrs(s: &str) -> Result<CidrList, String> {
    Cidr::parse_list(s).map(CidrList)
}

fn parse_signup(s: &str) -> Result<SignupMode, String> {
    match s {
        "open" => Ok(SignupMode::Open),
        "closed" => Ok(SignupMode::Closed),
        _ => Err("expected open or closed".to_owned()),
    }
}

/// `plinth.toml`: every key optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSettings {
    bind: Option<SocketAddr>,
    database_url: Option<String>,
    base_domain: Option<String>,
    dns_bind: Option<SocketAddr>,
    workspace_address: Option<IpAddr>,
    handle_grace_days: Option<u32>,
    audit_retention_days: Option<u32>,
    signup: Option<SignupMode>,
    public_url: Option<String>,
    trusted_proxies: Option<Vec<String>>,
    metrics_bind: Option<String>,
    signups_per_minute_per_address: Option<u32>,
    signups_per_minute: Option<u32>,
    header_read_timeout: Option<String>,
    idle_timeout: Option<String>,
    request_timeout: Option<String>,
    max_connections: Option<usize>,
    shutdown_timeout: Option<String>,
}

fn read_file(path: Option<&Path>) -> anyhow::Result<FileSettings> {
    let (path, required) = match path {
        Some(p) => (p.to_path_buf(), true),
        None => (PathBuf::from("plinth.toml"), false),
    };
    match std::fs::read_to_string(&path) {
        Ok(text) => toml::from_str(&text).with_context(|| format!("reading {}", path.display())),
        Err(e) if !required && e.kind() == std::io::ErrorKind::NotFound => {
            Ok(FileSettings::default())
        }
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}

pub fn database_url(args: &DatabaseArgs) -> anyhow::Result<String> {
    let file = read_file(args.config.as_deref())?;
    Ok(args
        .database_url
        .clone()
        .or(file.database_url)
        .unwrap_or_else(|| Settings::default().database_url))
}

/// A duration from the flag (already parsed) or from `plinth.toml` (a string).
fn duration(
    flag: Option<Duration>,
    file: &Option<String>,
    name: &str,
) -> anyhow::Result<Option<Duration>> {
    match (flag, file) {
        (Some(d), _) => Ok(Some(d)),
        (None, Some(text)) => parse_duration(text)
            .map(Some)
            .map_err(|e| anyhow::anyhow!("{name} in plinth.toml: {e}")),
        (None, None) => Ok(None),
    }
}

pub fn resolve(args: &ServeArgs) -> anyhow::Result<Settings> {
    let file = read_file(args.db.config.as_deref())?;
    let d = Settings::default();
    let settings = Settings {
        bind: args.bind.or(file.bind).unwrap_or(d.bind),
        database_url: args
            .db
            .database_url
            .clone()
            .or(file.database_url)
            .unwrap_or(d.database_url),
        base_domain: args
            .base_domain
            .clone()
            .or(file.base_domain)
            .unwrap_or(d.base_domain)
            .trim_end_matches('.')
            .to_ascii_lowercase(),
        dns_bind: args.dns_bind.or(file.dns_bind).unwrap_or(d.dns_bind),
        workspace_address: args
            .workspace_address
            .or(file.workspace_address)
            .unwrap_or(d.workspace_address),
        handle_grace_days: args
            .handle_grace_days
            .or(file.handle_grace_days)
            .unwrap_or(d.handle_grace_days),
        audit_retention_days: args.audit_retention_days.or(file.audit_retention_days),
        signup: args.signup.or(file.signup).unwrap_or(d.signup),
        public_url: match (&args.public_url, &file.public_url) {
            (Some(url), _) => Some(url.clone()),
            (None, Some(text)) => Some(
                text.parse()
                    .map_err(|e: String| anyhow::anyhow!("public_url in plinth.toml: {e}"))?,
            ),
            (None, None) => None,
        },
        trusted_proxies: match (&args.trusted_proxies, &file.trusted_proxies) {
            (Some(CidrList(list)), _) => list.clone(),
            (None, Some(list)) => list
                .iter()
                .map(|s| s.parse())
                .collect::<Result<_, String>>()
                .map_err(|e| anyhow::anyhow!("trusted_proxies in plinth.toml: {e}"))?,
            (None, None) => d.trusted_proxies.clone(),
        },
        metrics_bind: match (args.metrics_bind, &file.metrics_bind) {
            (Some(MetricsBind(bind)), _) => bind,
            (None, Some(text)) => {
                parse_metrics_bind(text)
                    .map_err(|e| anyhow::anyhow!("metrics_bind in plinth.toml: {e}"))?
                    .0
            }
            (None, None) => d.metrics_bind,
        },
        signups_per_minute_per_address: args
            .signups_per_minute_per_address
            .or(file.signups_per_minute_per_address)
            .unwrap_or(d.signups_per_minute_per_address),
        signups_per_minute: args
            .signups_per_minute
            .or(file.signups_per_minute)
            .unwrap_or(d.signups_per_minute),
        header_read_timeout: duration(
            args.header_read_timeout,
            &file.header_read_timeout,
            "header_read_timeout",
        )?
        .unwrap_or(d.header_read_timeout),
        idle_timeout: duration(args.idle_timeout, &file.idle_timeout, "idle_timeout")?
            .unwrap_or(d.idle_timeout),
        request_timeout: duration(
            args.request_timeout,
            &file.request_timeout,
            "request_timeout",
        )?
        .unwrap_or(d.request_timeout),
        max_connections: args
            .max_connections
            .or(file.max_connections)
            .unwrap_or(d.max_connections),
        shutdown_timeout: duration(
            args.shutdown_timeout,
            &file.shutdown_timeout,
            "shutdown_timeout",
        )?
        .unwrap_or(d.shutdown_timeout),
        ..d
    };
    if settings.max_connections == 0 {
        bail!("--max-connections must be at least 1");
    }
    if settings.base_domain.is_empty() || settings.base_domain.len() > 180 {
        bail!("--base-domain must be a DNS name of at most 180 characters");
    }
    Ok(settings)
}
