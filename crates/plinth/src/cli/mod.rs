//! The user-facing CLI: `plinth login`, `logout`, `whoami`, `org …`, `usage`, `audit`,
//! talking to a Plinth server over its REST API like any other client.

mod audit;
pub mod credentials;
mod login;
mod member;
mod org;
mod token;
mod user;
mod workspace;

use anyhow::bail;
use clap::{Args, ValueEnum};
use serde_json::Value;

pub use audit::{AuditArgs, audit};
pub use login::{client, login, logout, whoami};
pub use member::{InvitationCli, MemberCli, invitation, member};
pub use org::{OrgCli, UsageArgs, org, usage};
pub use token::{TokenCli, token};
pub use user::{UserCli, user};
pub use workspace::{WorkspaceCli, workspace};

/// Where the CLI finds the server, and how it prints.
#[derive(Debug, Clone, Args)]
pub struct ClientArgs {
    /// The Plinth server (default: the saved login's, else http://localhost:8080).
    #[arg(long, env = "PLINTH_HOST")]
    pub host: Option<String>,
    /// `table` for people, `json` for scripts.
    #[arg(long, value_enum, default_value_t = Output::Table)]
    pub output: Output,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Output {
    Table,
    Json,
}

pub const DEFAULT_HOST: &str = "http://localhost:8080";

/// How the CLI exits, for scripts (also in `plinth --help` and the README). clap's own
/// usage errors exit 2.
pub mod exit {
    pub const ERROR: u8 = 1;
    pub const NOT_FOUND: u8 = 3;
    pub const NOT_SIGNED_IN: u8 = 4;
    pub const CONFLICT: u8 = 5;
    pub const UNREACHABLE: u8 = 6;
}

/// A failure that knows its exit code; anything else exits [`exit::ERROR`].
#[derive(Debug)]
pub struct Failure {
    pub code: u8,
    pub message: String,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Failure {}

/// An error that exits with `code`.
pub fn failure(code: u8, message: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(Failure {
        code,
        message: message.into(),
    })
}

/// The exit code for `err`: its [`Failure`]'s, else 1.
pub fn exit_code(err: &anyhow::Error) -> u8 {
    err.chain()
        .find_map(|e| e.downcast_ref::<Failure>())
        .map_or(exit::ERROR, |f| f.code)
}

/// An API client for one server, with the token to use (if any).
pub struct Client {
    agent: ureq::Agent,
    pub host: String,
    pub token: Option<String>,
}

/// An answer: its status and JSON body (`null` when there is none).
pub struct Answer {
    pub status: u16,
    pub body: Value,
}

impl Client {
    pub fn new(host: &str, token: Option<String>) -> anyhow::Result<Self> {
        let host = host.trim_end_matches('/').to_owned();
        if !(host.starts_with("http://") || host.starts_with("https://")) {
            bail!("--host must be an http:// or https:// URL, not {host:?}");
        }
        let agent = ureq::Agent::config_builder()
            // Problems are answers too: read their bodies instead of failing on them.
            .http_status_as_error(false)
            .user_agent(concat!("plinth-cli/", env!("CARGO_PKG_VERSION")))
            .timeout_global(Some(std::time::Duration::from_secs(60)))
            .build()
            .into();
        Ok(Self { agent, host, token })
    }

    fn url(&self, path: &str) -> String {
        format!("{}/api/v1{path}", self.host)
    }

    fn auth<B>(&self, req: ureq::RequestBuilder<B>) -> ureq::RequestBuilder<B> {
        match &self.token {
            Some(token) => req.header("authorization", format!("Bearer {token}")),
            None => req,
        }
    }

    fn read(
        &self,
        sent: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> anyhow::Result<Answer> {
        let mut res = sent.map_err(|e| unreachable(&self.host, &e))?;
        let status = res.status().as_u16();
        let body = res.body_mut().read_json().unwrap_or(Value::Null);
        Ok(Answer { status, body })
    }

    pub fn get(&self, path: &str) -> anyhow::Result<Answer> {
        self.get_query(path, &[])
    }

    /// A GET with query parameters (encoded here; values may hold anything).
    pub fn get_query(&self, path: &str, query: &[(&str, &str)]) -> anyhow::Result<Answer> {
        let req = self.auth(self.agent.get(self.url(path)));
        self.read(req.query_pairs(query.iter().copied()).call())
    }

    /// A GET whose successful body is read by the caller, bit by bit (exports).
    pub fn get_stream(
        &self,
        path: &str,
        query: &[(&str, &str)],
    ) -> anyhow::Result<ureq::http::Response<ureq::Body>> {
        let req = self.auth(self.agent.get(self.url(path)));
        let mut res = req
            .query_pairs(query.iter().copied())
            .call()
            .map_err(|e| unreachable(&self.host, &e))?;
        let status = res.status().as_u16();
        if !(200..300).contains(&status) {
            let body = res.body_mut().read_json().unwrap_or(Value::Null);
            return Err(problem_error(status, &body));
        }
        Ok(res)
    }

    /// Every item of a keyset-paged list (`{items, next_cursor}`), page after page.
    pub fn all_items(&self, path: &str) -> anyhow::Result<Vec<Value>> {
        let mut items = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut query = vec![("limit", "100")];
            if let Some(c) = &cursor {
                query.push(("cursor", c));
            }
            let page = self.get_query(path, &query)?.ok()?;
            items.extend(page["items"].as_array().cloned().unwrap_or_default());
            match page["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => return Ok(items),
            }
        }
    }

    pub fn post_json(&self, path: &str, body: &Value) -> anyhow::Result<Answer> {
        self.read(self.auth(self.agent.post(self.url(path))).send_json(body))
    }

    pub fn patch_json(&self, path: &str, body: &Value) -> anyhow::Result<Answer> {
        self.read(self.auth(self.agent.patch(self.url(path))).send_json(body))
    }

    pub fn delete_query(&self, path: &str, query: &[(&str, &str)]) -> anyhow::Result<Answer> {
        let req = self.auth(self.agent.delete(self.url(path)));
        self.read(req.query_pairs(query.iter().copied()).call())
    }

    pub fn post_empty(&self, path: &str) -> anyhow::Result<Answer> {
        self.read(self.auth(self.agent.post(self.url(path))).send_empty())
    }

    pub fn post_form(&self, path: &str, form: &[(&str, &str)]) -> anyhow::Result<Answer> {
        self.read(
            self.auth(self.agent.post(self.url(path)))
                .send_form(form.iter().copied()),
        )
    }
}

impl Answer {
    /// The body of a success; a problem answer becomes an error that says what the server
    /// said.
    pub fn ok(self) -> anyhow::Result<Value> {
        if (200..300).contains(&self.status) {
            Ok(self.body)
        } else {
            Err(problem_error(self.status, &self.body))
        }
    }
}

fn unreachable(host: &str, err: &ureq::Error) -> anyhow::Error {
    failure(exit::UNREACHABLE, format!("could not reach {host}: {err}"))
}

/// A problem document (RFC 9457) as a readable title and detail, with its exit code.
pub fn problem_error(status: u16, body: &Value) -> anyhow::Error {
    let title = body["title"].as_str().unwrap_or("request failed");
    let detail = body["detail"].as_str();
    let hint = match body["type"].as_str() {
        Some("unauthenticated" | "token-expired" | "token-revoked" | "auth-reset") => {
            "\n  run `plinth login` to sign in again"
        }
        _ => "",
    };
    let code = match (status, body["type"].as_str()) {
        (404, _) => exit::NOT_FOUND,
        (401, _) => exit::NOT_SIGNED_IN,
        (409, _) | (_, Some("confirmation-mismatch")) => exit::CONFLICT,
        (500.., _) => exit::UNREACHABLE,
        _ => exit::ERROR,
    };
    match detail {
        Some(detail) => failure(code, format!("{title} ({status})\n  {detail}{hint}")),
        None => failure(code, format!("{title} ({status}){hint}")),
    }
}

/// What a command prints: one resource or a list of them.
pub enum Shown {
    One(Value),
    List(Vec<Value>),
}

/// Prints what a command got back: with `--output json` the API's JSON (an object for one
/// resource, an array for a list, even of one), else a table with one row per resource.
pub fn show(
    output: Output,
    shown: Shown,
    headers: &[&str],
    row: impl Fn(&Value) -> Vec<String>,
) -> anyhow::Result<()> {
    match (output, shown) {
        (Output::Json, Shown::One(one)) => println!("{}", serde_json::to_string_pretty(&one)?),
        (Output::Json, Shown::List(list)) => {
            println!("{}", serde_json::to_string_pretty(&list)?)
        }
        (Output::Table, Shown::One(one)) => print_table(headers, &[row(&one)]),
        (Output::Table, Shown::List(list)) => {
            print_table(headers, &list.iter().map(row).collect::<Vec<_>>())
        }
    }
    Ok(())
}

/// Prints rows as people and scripts each want them (gh's rule): on a terminal, aligned
/// columns under a header; piped, tab-separated lines without a header, one row a line.
pub fn print_table(headers: &[&str], rows: &[Vec<String>]) {
    use std::io::IsTerminal;
    if !std::io::stdout().is_terminal() {
        for row in rows {
            println!("{}", row.join("\t"));
        }
        return;
    }
    let width = |s: &str| s.chars().count();
    let mut widths: Vec<usize> = headers.iter().map(|h| width(h)).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(width(cell));
        }
    }
    let line = |cells: Vec<&str>| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(cell, w)| format!("{cell}{}", " ".repeat(w - width(cell))))
            .collect();
        println!("{}", padded.join("  ").trim_end());
    };
    line(headers.to_vec());
    for row in rows {
        line(row.iter().map(String::as_str).collect());
    }
}

/// A time cell: relative on a terminal ("3 days ago"), RFC 3339 when piped; `-` for none.
pub fn when(value: &Value) -> String {
    use std::io::IsTerminal;
    let Some(text) = value.as_str() else {
        return "-".to_owned();
    };
    if !std::io::stdout().is_terminal() {
        return text.to_owned();
    }
    let format = time::format_description::well_known::Rfc3339;
    match time::OffsetDateTime::parse(text, &format) {
        Ok(at) => relative(at - time::OffsetDateTime::now_utc()),
        Err(_) => text.to_owned(),
    }
}

/// "in 3 days" / "5 minutes ago".
fn relative(delta: time::Duration) -> String {
    let secs = delta.whole_seconds();
    let (n, unit) = match secs.unsigned_abs() {
        0..60 => return "just now".to_owned(),
        s @ 60..3600 => (s / 60, "minute"),
        s @ 3600..86_400 => (s / 3600, "hour"),
        s @ 86_400..2_592_000 => (s / 86_400, "day"),
        s @ 2_592_000..31_536_000 => (s / 2_592_000, "month"),
        s => (s / 31_536_000, "year"),
    };
    let plural = if n == 1 { "" } else { "s" };
    if secs < 0 {
        format!("{n} {unit}{plural} ago")
    } else {
        format!("in {n} {unit}{plural}")
    }
}

/// A string field of an API answer, `-` when absent.
pub fn field(value: &Value, key: &str) -> String {
    value[key].as_str().unwrap_or("-").to_owned()
}

/// An org handle as typed, checked here so that a typo gets a clear message, not a
/// strange URL.
pub fn org_handle(input: &str) -> anyhow::Result<String> {
    plinth_core::Handle::parse(input)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("{input:?} is not an org handle: {e}"))
}

/// A destructive command's confirmation: `--confirm HANDLE`, or on a terminal the handle
/// typed at a prompt. Anything else changes nothing.
pub fn confirm(what: &str, handle: &str, given: Option<&str>) -> anyhow::Result<()> {
    use std::io::{BufRead, IsTerminal, Write};
    let typed = match given {
        Some(given) => given.to_owned(),
        None if std::io::stdin().is_terminal() => {
            eprint!("{what}\nType {handle} to confirm: ");
            std::io::stderr().flush()?;
            let mut line = String::new();
            std::io::stdin().lock().read_line(&mut line)?;
            line.trim().to_owned()
        }
        None => {
            return Err(failure(
                exit::CONFLICT,
                format!("{what}\nThis needs --confirm {handle} when not run on a terminal."),
            ));
        }
    };
    if typed != handle {
        return Err(failure(
            exit::CONFLICT,
            format!("the confirmation {typed:?} does not match {handle:?}: nothing was changed"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::relative;
    use time::Duration;

    #[test]
    fn relative_times_read_naturally() {
        assert_eq!(relative(Duration::seconds(-5)), "just now");
        assert_eq!(relative(Duration::minutes(-1)), "1 minute ago");
        assert_eq!(relative(Duration::hours(-3)), "3 hours ago");
        assert_eq!(relative(Duration::days(-3)), "3 days ago");
        assert_eq!(relative(Duration::days(90)), "in 3 months");
        assert_eq!(relative(Duration::days(-800)), "2 years ago");
    }
}
