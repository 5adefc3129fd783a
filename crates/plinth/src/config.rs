//! Resolving settings: a flag beats its `PLINTH_*` variable (clap reads both), which
//! beats `plinth.toml`, which beats the defaults of `Settings::default()`.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::Args;
use plinth_server::forwarded::{Cidr, PublicUrl};
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
        ..d
    };
    if settings.base_domain.is_empty() || settings.base_domain.len() > 180 {
        bail!("--base-domain must be a DNS name of at most 180 characters");
    }
    Ok(settings)
}
