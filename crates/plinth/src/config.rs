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
    /// sqlite://PATH or postgres://USER:PASSWORD@HOST/DB. A SQLite file (and its folder)
    /// is created on first start. Default sqlite://./plinth-data/plinth.db.
    #[arg(long, env = "PLINTH_DATABASE_URL")]
    pub database_url: Option<String>,

    /// A TOML file with the same settings (names as the flags, with underscores).
    /// Default ./plinth.toml when it exists.
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

    /// Days audit entries are kept. Default forever.
    #[arg(long, env = "PLINTH_AUDIT_RETENTION_DAYS")]
    pub audit_retention_days: Option<u32>,

    /// Days of usage figures kept (the members and workspaces levels a kept day still
    /// reads are kept with them). Default forever.
    #[arg(long, env = "PLINTH_USAGE_RETENTION_DAYS")]
    pub usage_retention_days: Option<u32>,

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
    /// X-Forwarded-Proto. Default none (the TCP peer is the client).
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
    usage_retention_days: Option<u32>,
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
        usage_retention_days: args.usage_retention_days.or(file.usage_retention_days),
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

/// Settings read from the environment only (not flags, not `plinth.toml`): logging is
/// set up before any file is read.
const ENV_ONLY: &[(&str, &str, &str)] = &[
    (
        "PLINTH_LOG",
        "info",
        "Log filter, e.g. `warn`, `info,plinth_server=debug`, `hickory_server=warn` (targets and levels, comma-separated: tracing-subscriber's `Targets` syntax). Logs go to stderr.",
    ),
    (
        "PLINTH_LOG_FORMAT",
        "text",
        "`json` writes one JSON object per log line.",
    ),
];

/// One row of the settings table, read from the clap definition of `plinth serve`: the
/// same text `plinth serve --help` prints.
pub struct SettingDoc {
    pub flag: String,
    pub env: Option<String>,
    /// `None` for `--config`, which names the file rather than being in it.
    pub toml_key: Option<String>,
    pub default: String,
    pub meaning: String,
}

/// The settings of `plinth serve`, in the order of `--help`.
pub fn setting_docs() -> Vec<SettingDoc> {
    use clap::Args as _;
    let command = ServeArgs::augment_args(clap::Command::new("serve"));
    command
        .get_arguments()
        .filter_map(|arg| {
            let long = arg.get_long()?;
            let help = arg
                .get_long_help()
                .or_else(|| arg.get_help())
                .map(|h| h.to_string())
                .unwrap_or_default();
            let help = help.split_whitespace().collect::<Vec<_>>().join(" ");
            let (meaning, default) = match help.rfind("Default ") {
                Some(at) => (
                    help[..at].trim().to_owned(),
                    help[at + "Default ".len()..]
                        .trim()
                        .trim_end_matches('.')
                        .to_owned(),
                ),
                None => (help.clone(), String::new()),
            };
            Some(SettingDoc {
                flag: format!("--{long}"),
                env: arg.get_env().map(|e| e.to_string_lossy().into_owned()),
                toml_key: (long != "config").then(|| long.replace('-', "_")),
                default,
                meaning,
            })
        })
        .collect()
}

/// `docs/CONFIGURATION.md`, generated from [`setting_docs`]: `plinth config doc`.
pub fn configuration_doc() -> String {
    let cell = |s: &str| s.replace('|', "\\|");
    let mut out = String::from(
        "# Configuration\n\n\
         <!-- Generated from the definitions of `plinth serve --help`; do not edit by hand. \
         Regenerate with `cargo run -p plinth -- config doc > docs/CONFIGURATION.md` \
         (a test checks that this file is current). -->\n\n\
         Every setting of `plinth serve` can be given as a flag, as an environment variable, \
         or as a key in `plinth.toml` (`--config FILE`, default `./plinth.toml` when it \
         exists). A flag beats its variable, which beats the file, which beats the default. \
         Durations are a number of seconds or take a unit: `500ms`, `10s`, `2m`. \
         `plinth.example.toml` is a commented file with every key; `plinth config check \
         [FILE]` validates a file and prints the effective settings, secrets hidden.\n\n\
         `plinth migrate` and `plinth admin …` read `--database-url` and `--config` the \
         same way.\n\n\
         | flag | environment variable | `plinth.toml` key | default | meaning |\n\
         | --- | --- | --- | --- | --- |\n",
    );
    for doc in setting_docs() {
        out.push_str(&format!(
            "| `{}` | {} | {} | {} | {} |\n",
            doc.flag,
            doc.env.map_or("—".to_owned(), |e| format!("`{e}`")),
            doc.toml_key.map_or("—".to_owned(), |k| format!("`{k}`")),
            cell(&doc.default),
            cell(&doc.meaning),
        ));
    }
    out.push_str(
        "\n## Environment only\n\n\
         Read before any file, so neither a flag nor `plinth.toml` sets them.\n\n\
         | environment variable | default | meaning |\n\
         | --- | --- | --- |\n",
    );
    for (env, default, meaning) in ENV_ONLY {
        out.push_str(&format!("| `{env}` | {default} | {} |\n", cell(meaning)));
    }
    out
}

/// `plinth config check`: the effective settings, one `key = value` line each, in the
/// order of the table, with the database password hidden.
pub fn describe(settings: &Settings) -> Vec<(&'static str, String)> {
    let duration = |d: Duration| {
        if d.subsec_millis() == 0 {
            format!("{}s", d.as_secs())
        } else {
            format!("{}ms", d.as_millis())
        }
    };
    let public_url = match &settings.public_url {
        Some(url) => url.to_string(),
        None => format!("{} (from --bind)", settings.public_url()),
    };
    vec![
        ("database_url", crate::redact_url(&settings.database_url)),
        ("bind", settings.bind.to_string()),
        ("base_domain", settings.base_domain.clone()),
        ("dns_bind", settings.dns_bind.to_string()),
        ("workspace_address", settings.workspace_address.to_string()),
        ("handle_grace_days", settings.handle_grace_days.to_string()),
        (
            "audit_retention_days",
            settings
                .audit_retention_days
                .map_or("forever".to_owned(), |d| d.to_string()),
        ),
        (
            "usage_retention_days",
            settings
                .usage_retention_days
                .map_or("forever".to_owned(), |d| d.to_string()),
        ),
        (
            "signup",
            match settings.signup {
                SignupMode::Open => "open",
                SignupMode::Closed => "closed",
            }
            .to_owned(),
        ),
        ("public_url", public_url),
        (
            "trusted_proxies",
            if settings.trusted_proxies.is_empty() {
                "none".to_owned()
            } else {
                settings
                    .trusted_proxies
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(",")
            },
        ),
        (
            "metrics_bind",
            settings
                .metrics_bind
                .map_or("off".to_owned(), |a| a.to_string()),
        ),
        (
            "signups_per_minute_per_address",
            settings.signups_per_minute_per_address.to_string(),
        ),
        (
            "signups_per_minute",
            settings.signups_per_minute.to_string(),
        ),
        (
            "header_read_timeout",
            duration(settings.header_read_timeout),
        ),
        ("idle_timeout", duration(settings.idle_timeout)),
        ("request_timeout", duration(settings.request_timeout)),
        ("max_connections", settings.max_connections.to_string()),
        ("shutdown_timeout", duration(settings.shutdown_timeout)),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("10"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        for bad in ["", "0", "0s", "-1s", "1h", "1.5s", "s", "10 s"] {
            assert!(parse_duration(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn metrics_bind_can_be_off() {
        assert!(parse_metrics_bind("off").unwrap().0.is_none());
        assert_eq!(
            parse_metrics_bind("127.0.0.1:9464").unwrap().0,
            Some("127.0.0.1:9464".parse().unwrap())
        );
        assert!(parse_metrics_bind("localhost").is_err());
    }

    #[test]
    fn new_settings_from_plinth_toml() {
        let file: FileSettings = toml::from_str(
            "public_url = \"https://plinth.example.com\"\n\
             trusted_proxies = [\"10.0.0.0/8\", \"fd00::/8\"]\n\
             metrics_bind = \"off\"\n\
             header_read_timeout = \"5s\"\n\
             max_connections = 100\n",
        )
        .unwrap();
        assert_eq!(file.trusted_proxies.as_ref().map(Vec::len), Some(2));
        assert_eq!(file.header_read_timeout.as_deref(), Some("5s"));
        assert_eq!(file.max_connections, Some(100));
    }

    /// docs/CONFIGURATION.md is what `plinth config doc` prints today.
    #[test]
    fn configuration_doc_is_current() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/CONFIGURATION.md");
        let on_disk = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            on_disk == configuration_doc(),
            "docs/CONFIGURATION.md is out of date: run \
             `cargo run -p plinth -- config doc > docs/CONFIGURATION.md`"
        );
    }

    /// Every flag states its default, every flag but --config is a `plinth.toml` key, and
    /// every `plinth.toml` key is a flag: the table cannot leave a setting out.
    #[test]
    fn every_setting_has_a_default_a_variable_and_a_key() {
        let docs = setting_docs();
        assert!(docs.len() >= 18, "{} settings", docs.len());
        for doc in &docs {
            assert!(
                !doc.default.is_empty(),
                "{}: its help says no Default",
                doc.flag
            );
            assert!(!doc.meaning.is_empty(), "{}: no help", doc.flag);
            assert!(
                doc.env.as_deref().is_some_and(|e| e.starts_with("PLINTH_")),
                "{}",
                doc.flag
            );
        }
        let mut flag_keys: Vec<String> = docs.iter().filter_map(|d| d.toml_key.clone()).collect();
        flag_keys.sort();
        // serde names every accepted key when it refuses an unknown one.
        let refusal = toml::from_str::<FileSettings>("no_such_key = 1")
            .expect_err("an unknown key is refused")
            .to_string();
        let expected = refusal
            .split("expected one of ")
            .nth(1)
            .unwrap_or_else(|| panic!("{refusal}"));
        let mut file_keys: Vec<String> = expected
            .split(',')
            .map(|k| {
                k.trim()
                    .trim_matches(|c: char| c == '`' || c.is_whitespace())
                    .to_owned()
            })
            .filter(|k| !k.is_empty())
            .collect();
        file_keys.sort();
        assert_eq!(flag_keys, file_keys, "flags and plinth.toml keys differ");
    }

    /// plinth.example.toml parses and resolves as shipped and with every commented value
    /// uncommented, and it mentions every key.
    #[test]
    fn the_example_file_parses_and_names_every_key() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../plinth.example.toml");
        let text = std::fs::read_to_string(path).expect("plinth.example.toml");
        toml::from_str::<FileSettings>(&text).expect("the example parses");
        // Uncommented, every line must parse too: the commented values are valid.
        let uncommented: String = text
            .lines()
            .map(|line| {
                line.strip_prefix("# ")
                    .filter(|l| l.contains(" = "))
                    .unwrap_or(line)
            })
            .filter(|line| !line.starts_with('#'))
            .map(|line| format!("{line}\n"))
            .collect();
        toml::from_str::<FileSettings>(&uncommented)
            .unwrap_or_else(|e| panic!("the example with its values uncommented: {e}"));
        let dir = std::env::temp_dir().join(format!("plinth-example-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let uncommented_path = dir.join("plinth.toml");
        std::fs::write(&uncommented_path, &uncommented).unwrap();
        for (file, what) in [
            (path.into(), "as shipped"),
            (uncommented_path, "uncommented"),
        ] {
            let args = serve_args(&["--config", &file.display().to_string()]);
            resolve(&args).unwrap_or_else(|e| panic!("the example {what}: {e:#}"));
        }
        std::fs::remove_dir_all(&dir).unwrap();
        for doc in setting_docs() {
            if let Some(key) = doc.toml_key {
                assert!(
                    text.contains(&format!("# {key} = ")) || text.contains(&format!("\n{key} = ")),
                    "plinth.example.toml does not mention {key}"
                );
            }
        }
    }

    fn serve_args(argv: &[&str]) -> ServeArgs {
        use clap::{Args as _, FromArgMatches as _};
        let command = ServeArgs::augment_args(clap::Command::new("serve"));
        let matches = command
            .try_get_matches_from(std::iter::once("serve").chain(argv.iter().copied()))
            .expect("arguments parse");
        ServeArgs::from_arg_matches(&matches).expect("ServeArgs from matches")
    }
}
