#![doc = include_str!("../README.md")]

mod admin;
mod cli;
mod config;
mod log_writer;

use std::io::Write;

use anyhow::Context;
use clap::{CommandFactory, Parser, Subcommand};
use plinth_store::Store;
use tracing_subscriber::filter::Targets;

#[derive(Debug, Parser)]
#[command(
    name = "plinth",
    version,
    about = "A self-hostable control plane for organizations and their workspaces",
    after_help = "Exit codes: 0 ok, 1 error, 2 usage error, 3 not found, \
                  4 not signed in or token refused (run `plinth login`), \
                  5 conflict or refused confirmation, 6 server unreachable or failing (5xx)."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    #[command(flatten)]
    Server(ServerCommand),
    #[command(flatten)]
    Client(ClientCommand),
    /// Print a shell completion script: `plinth completions bash > /etc/bash_completion.d/plinth`.
    Completions { shell: clap_complete::Shell },
}

/// What runs the server or works on its database.
#[derive(Debug, Subcommand)]
enum ServerCommand {
    /// Run the server: API, docs, health, metrics, workspace hosts and DNS.
    Serve(Box<config::ServeArgs>),
    /// Apply database migrations, then exit (`--dry-run`: list them, apply nothing).
    Migrate(MigrateArgs),
    /// Settings: check a plinth.toml, or print the settings reference.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Instance administration, working on the database directly.
    #[command(subcommand)]
    Admin(admin::AdminCommand),
}

#[derive(Debug, clap::Args)]
struct MigrateArgs {
    /// List the migrations that would run, and apply none.
    #[arg(long)]
    dry_run: bool,
    #[command(flatten)]
    db: config::DatabaseArgs,
}

#[derive(Debug, Subcommand)]
enum ConfigCommand {
    /// Validate the settings `plinth serve` would run with (FILE, flags and PLINTH_*
    /// variables, as `serve` reads them) and print them, secrets hidden. Exits 1 when
    /// they are not valid.
    Check {
        /// The plinth.toml to check. Default ./plinth.toml when it exists.
        file: Option<std::path::PathBuf>,
        #[command(flatten)]
        args: Box<config::ServeArgs>,
    },
    /// Print docs/CONFIGURATION.md: every setting with its flag, variable, plinth.toml
    /// key, default and meaning, from the definitions `plinth serve --help` prints.
    Doc,
}

/// What talks to a server over its API, as any client would.
#[derive(Debug, Subcommand)]
enum ClientCommand {
    /// Sign in to a Plinth server: approve the login in your browser (RFC 8628 device
    /// flow); the token is saved in ~/.config/plinth/credentials.toml (mode 0600).
    Login {
        /// Print the link and code only; do not try to open a browser.
        #[arg(long)]
        no_browser: bool,
        #[command(flatten)]
        client: cli::ClientArgs,
    },
    /// End the saved login on the server and forget it.
    Logout,
    /// Who the saved login (or PLINTH_TOKEN) is.
    Whoami {
        #[command(flatten)]
        client: cli::ClientArgs,
    },
    /// Organizations: list, show, create, and the settings (profile, rename, reset
    /// authentication, delete).
    #[command(subcommand)]
    Org(cli::OrgCli),
    /// An org's daily usage.
    Usage(cli::UsageArgs),
    /// An org's audit log: list entries, or export them all (`--export csv -o FILE`).
    Audit(cli::AuditArgs),
    /// Your user API tokens: list, create (the secret is shown once), activate,
    /// deactivate, delete.
    #[command(subcommand)]
    Token(cli::TokenCli),
    /// An org's workspaces (ORG/WS) and their members.
    #[command(subcommand)]
    Workspace(cli::WorkspaceCli),
    /// Your invitations to orgs: list, accept, decline.
    #[command(subcommand)]
    Invitation(cli::InvitationCli),
    /// Your own account: show, update, and sign out everywhere (reset-auth).
    #[command(subcommand)]
    User(cli::UserCli),
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let command = match cli.command {
        Command::Client(command) => {
            // An error is told as the server said it, one line each for title and detail,
            // never with a backtrace; the exit code says what kind it was.
            if let Err(err) = run_client(command) {
                eprintln!("error: {err:#}");
                std::process::exit(i32::from(cli::exit_code(&err)));
            }
            return Ok(());
        }
        Command::Completions { shell } => {
            let mut command = Cli::command();
            clap_complete::generate(shell, &mut command, "plinth", &mut std::io::stdout());
            return Ok(());
        }
        Command::Server(ServerCommand::Config(command)) => return config_command(command),
        Command::Server(command) => command,
    };
    // Only the server logs a line per request; the other commands write through.
    let _log = init_logging(matches!(command, ServerCommand::Serve(_)));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async {
        match command {
            ServerCommand::Serve(args) => serve(*args).await,
            ServerCommand::Migrate(args) => migrate(args).await,
            ServerCommand::Admin(command) => admin::run(command).await,
            ServerCommand::Config(_) => unreachable!("answered before the runtime starts"),
        }
    })
}

/// The client commands: plain blocking HTTP, no runtime, no server logging.
fn run_client(command: ClientCommand) -> anyhow::Result<()> {
    match command {
        ClientCommand::Login { no_browser, client } => cli::login(&client, no_browser),
        ClientCommand::Logout => cli::logout(),
        ClientCommand::Whoami { client } => cli::whoami(&client),
        ClientCommand::Org(command) => cli::org(command),
        ClientCommand::Usage(args) => cli::usage(args),
        ClientCommand::Audit(args) => cli::audit(args),
        ClientCommand::Token(command) => cli::token(command),
        ClientCommand::User(command) => cli::user(command),
        ClientCommand::Invitation(command) => cli::invitation(command),
        ClientCommand::Workspace(command) => cli::workspace(command),
    }
}

/// The filter without `PLINTH_LOG`. hickory-server logs two INFO lines per DNS query
/// (hundreds of MB a minute under load, and a third of the DNS server's time): at the
/// default level only its warnings show, and queries are counted in the
/// `plinth_dns_queries` metric instead. `PLINTH_LOG=info` brings the lines back.
const DEFAULT_LOG_FILTER: &str = "info,hickory_server=warn";

/// `PLINTH_LOG` as a filter: targets and levels (`info,plinth_server=debug`). A
/// `Targets` filter, not an `EnvFilter`: it decides once per call site, where an
/// `EnvFilter` also looks up every span on each enter and exit (a request's span is
/// entered at every poll). A value that does not parse is reported and the default used.
fn log_filter(value: Option<&str>) -> Targets {
    let default = || {
        DEFAULT_LOG_FILTER
            .parse()
            .expect("the default log filter parses")
    };
    match value {
        None => default(),
        Some(value) => value.parse().unwrap_or_else(|err| {
            eprintln!(
                "PLINTH_LOG={value:?} is not a log filter ({err}); using {DEFAULT_LOG_FILTER:?}"
            );
            default()
        }),
    }
}

/// Logs go to stderr; `PLINTH_LOG` filters (default [`DEFAULT_LOG_FILTER`]),
/// `PLINTH_LOG_FORMAT=json` gives one JSON object per line. With `buffered`, lines below
/// WARN are written in batches ([`log_writer`]); colours only on a terminal.
fn init_logging(buffered: bool) -> log_writer::LogFlushGuard {
    use std::io::IsTerminal;
    use tracing_subscriber::prelude::*;
    let filter = log_filter(std::env::var("PLINTH_LOG").ok().as_deref());
    let writer = if buffered {
        log_writer::BufferedStderr::start()
    } else {
        log_writer::BufferedStderr::unbuffered()
    };
    let layer = tracing_subscriber::fmt::layer()
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(writer.clone());
    let logging = tracing_subscriber::registry().with(filter);
    if std::env::var("PLINTH_LOG_FORMAT").as_deref() == Ok("json") {
        logging.with(layer.json()).init();
    } else {
        logging.with(layer).init();
    }
    log_writer::LogFlushGuard(writer)
}

pub(crate) async fn connect_and_migrate(url: &str) -> anyhow::Result<Store> {
    let store = Store::connect(url)
        .await
        .with_context(|| format!("opening the database {}", redact_url(url)))?;
    store.migrate().await.context("migrating the database")?;
    Ok(store)
}

async fn migrate(args: MigrateArgs) -> anyhow::Result<()> {
    let url = config::database_url(&args.db)?;
    if !args.dry_run {
        let store = connect_and_migrate(&url).await?;
        store.close().await;
        println!("database {} is up to date", redact_url(&url));
        return Ok(());
    }
    let store = Store::connect(&url)
        .await
        .with_context(|| format!("opening the database {}", redact_url(&url)))?;
    let plan = store.migration_plan().await;
    store.close().await;
    let plan = plan.context("reading the applied migrations")?;
    if let Some(refusal) = plan.refusal() {
        return Err(refusal.into());
    }
    if plan.pending.is_empty() {
        println!(
            "database {} is up to date: nothing would run",
            redact_url(&url)
        );
    } else {
        println!("would apply to {}:", redact_url(&url));
        for migration in &plan.pending {
            println!("  {:04}_{}", migration.version, migration.name);
        }
    }
    Ok(())
}

fn config_command(command: ConfigCommand) -> anyhow::Result<()> {
    match command {
        ConfigCommand::Doc => {
            print!("{}", config::configuration_doc());
            Ok(())
        }
        ConfigCommand::Check { file, mut args } => {
            if let Some(file) = file {
                args.db.config = Some(file);
            }
            let settings = config::resolve(&args)?;
            for (key, value) in config::describe(&settings) {
                println!("{key} = {value}");
            }
            println!("# the settings are valid");
            Ok(())
        }
    }
}

async fn serve(args: config::ServeArgs) -> anyhow::Result<()> {
    let settings = config::resolve(&args)?;
    let store = connect_and_migrate(&settings.database_url).await?;
    let running = plinth_server::start(store, settings.clone())
        .await
        .with_context(|| format!("listening on {}", settings.bind))?;
    let public = running.state.settings.public_url();
    if settings.public_url.is_none() && !running.addr.ip().is_loopback() {
        tracing::warn!(
            public_url = %public,
            "listening beyond loopback without --public-url: CLI logins and workspace links will point at {public}"
        );
    }
    let metrics = running
        .metrics_addr
        .map_or_else(|| "off".to_owned(), |addr| format!("http://{addr}/metrics"));
    tracing::info!(
        addr = %running.addr,
        metrics = %metrics,
        dns_udp = %running.dns_udp_addr,
        dns_tcp = %running.dns_tcp_addr,
        database = %redact_url(&settings.database_url),
        "plinth is ready"
    );
    // One line, written without panicking: whoever started us may read just this line
    // and close the pipe, and a server must not die of that.
    let mut stdout = std::io::stdout();
    let _ = writeln!(
        stdout,
        "Plinth is ready: console {public}/  API {public}/api/v1  docs {public}/api/docs  \
         workspaces {scheme}://{{org}}-{{workspace}}.{base}{port}/  DNS {dns} (UDP and TCP)  \
         HTTP on {addr}  metrics {metrics}",
        addr = running.addr,
        scheme = public.scheme(),
        base = settings.base_domain,
        port = public.port_suffix(),
        dns = running.dns_udp_addr,
    );
    let _ = stdout.flush();
    shutdown_signal().await;
    tracing::info!("shutting down");
    running.shutdown().await.context("serving HTTP")?;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}

/// A database URL without its password, for logs.
fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::log_filter;
    use tracing::Level;

    #[test]
    fn the_log_filter_defaults_quiets_dns_queries_and_survives_a_typo() {
        let default = log_filter(None);
        assert!(default.would_enable("plinth_server::app", &Level::INFO));
        assert!(!default.would_enable("plinth_server::app", &Level::DEBUG));
        assert!(!default.would_enable("hickory_server::server", &Level::INFO));
        assert!(default.would_enable("hickory_server::server", &Level::WARN));

        let custom = log_filter(Some("warn,plinth_server=debug"));
        assert!(custom.would_enable("plinth_server::app", &Level::DEBUG));
        assert!(!custom.would_enable("plinth_store", &Level::INFO));

        // Not a level: the default, not silence.
        let typo = log_filter(Some("plinth_server=loud"));
        assert!(typo.would_enable("plinth_server::app", &Level::INFO));
        assert!(!typo.would_enable("hickory_server::server", &Level::INFO));
    }
}
