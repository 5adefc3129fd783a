//! The real CLI against the real server: `plinth login` by the device flow, approved
//! through the API as a browser's page would; `whoami`; `logout`.

mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{call, serve, signup_and_login, temp_dir};
use reqwest::Method;
use serde_json::json;

fn plinth(home: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_plinth"));
    cmd.env("HOME", home)
        .env_remove("XDG_CONFIG_HOME")
        .env_remove("PLINTH_HOST")
        .env_remove("PLINTH_TOKEN")
        .stdin(Stdio::null());
    cmd
}

fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("plinth runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A server, bob's login session on it, and an empty home folder for the CLI.
struct Setup {
    server: common::Plinth,
    host: String,
    api: String,
    bob: String,
    home: std::path::PathBuf,
}

async fn setup(name: &str) -> Setup {
    let dir = temp_dir(name);
    let server = serve(
        &dir,
        &["--bind", "127.0.0.1:0", "--dns-bind", "127.0.0.1:0"],
    );
    let host = format!("http://127.0.0.1:{}", server.port);
    let api = format!("{host}/api/v1");
    let bob = signup_and_login(&api, "bob").await;
    Setup {
        server,
        host,
        api,
        bob,
        home: dir.join("home"),
    }
}

/// Runs `plinth login --no-browser`, hands its code to `decide`, and waits for it to end.
async fn login_with(
    home: &Path,
    host: &str,
    decide: impl AsyncFnOnce(&str),
) -> (std::process::ExitStatus, String) {
    let mut child = plinth(home)
        .args(["login", "--no-browser", "--host", host])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut code = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut code)
        .unwrap();
    let code = code.trim().to_owned();
    assert_eq!(code.len(), 9, "the code on stdout: {code:?}");
    decide(&code).await;
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "plinth login did not finish");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    (status, stderr)
}

#[tokio::test]
async fn login_whoami_logout() {
    let Setup {
        server: _server,
        host,
        api,
        bob,
        home,
    } = setup("cli").await;

    let out = run(plinth(&home).args(["whoami", "--host", &host]));
    assert_eq!(out.status.code(), Some(4), "not signed in");
    assert!(
        text(&out.stderr).contains("not logged in"),
        "{}",
        text(&out.stderr)
    );

    let (status, stderr) = login_with(&home, &host, async |code: &str| {
        let (status, body) = call(
            Method::POST,
            format!("{api}/device/approve"),
            Some(&bob),
            Some(json!({ "user_code": code })),
        )
        .await;
        assert_eq!(status, 200, "{body}");
    })
    .await;
    assert!(status.success(), "{stderr}");
    // The link is the server's public URL (by default localhost on its port), never
    // the address the CLI happened to use.
    let public = host.replace("127.0.0.1", "localhost");
    assert!(stderr.contains(&format!("{public}/device")), "{stderr}");
    assert!(stderr.contains("as @bob"), "{stderr}");

    // Saved for its owner's eyes only, and it is a login session.
    let saved = home.join(".config/plinth/credentials.toml");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&saved).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let file = std::fs::read_to_string(&saved).unwrap();
    assert!(file.contains("token = \"plt_"), "{file}");
    assert!(!stderr.contains("plt_"), "the token is never printed");

    let out = run(plinth(&home).arg("whoami"));
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).starts_with("bob\t"),
        "{}",
        text(&out.stdout)
    );
    let out = run(plinth(&home).args(["whoami", "--output", "json"]));
    let me: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(me["handle"], "bob");

    // PLINTH_TOKEN wins over the saved login.
    signup_and_login(&api, "cy").await;
    let cy = signup_and_login(&api, "dee").await;
    let out = run(plinth(&home).arg("whoami").env("PLINTH_TOKEN", &cy));
    assert!(
        text(&out.stdout).starts_with("dee\t"),
        "{}",
        text(&out.stdout)
    );

    let token = file
        .lines()
        .find_map(|l| l.strip_prefix("token = \""))
        .and_then(|t| t.strip_suffix('"'))
        .unwrap()
        .to_owned();
    let out = run(plinth(&home).arg("logout"));
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(!saved.exists());
    let (status, body) = call(Method::GET, format!("{api}/user"), Some(&token), None).await;
    assert_eq!(
        (status, body["type"].as_str()),
        (401, Some("token-revoked"))
    );
    let out = run(plinth(&home).arg("whoami"));
    assert_eq!(out.status.code(), Some(4), "{}", text(&out.stderr));
    // Errors never carry a backtrace, whatever the user's shell sets.
    let out = run(plinth(&home).arg("whoami").env("RUST_BACKTRACE", "1"));
    assert!(
        !text(&out.stderr).contains("stack backtrace"),
        "{}",
        text(&out.stderr)
    );
    // A usage error is clap's 2; a server that does not answer is 6.
    let out = run(plinth(&home).args(["org", "frobnicate"]));
    assert_eq!(out.status.code(), Some(2));
    let out = run(plinth(&home)
        .args(["whoami", "--host", "http://127.0.0.1:9"])
        .env("PLINTH_TOKEN", "plt_x"));
    assert_eq!(out.status.code(), Some(6), "{}", text(&out.stderr));
}

#[tokio::test]
async fn a_denied_login_saves_nothing() {
    let Setup {
        server: _server,
        host,
        api,
        bob,
        home,
    } = setup("cli-deny").await;
    let (status, stderr) = login_with(&home, &host, async |code: &str| {
        let (status, _) = call(
            Method::POST,
            format!("{api}/device/deny"),
            Some(&bob),
            Some(json!({ "user_code": code })),
        )
        .await;
        assert_eq!(status, 200);
    })
    .await;
    assert!(!status.success());
    assert!(stderr.contains("denied"), "{stderr}");
    assert!(!home.join(".config/plinth/credentials.toml").exists());
}

/// `plinth …` as bob (by `PLINTH_TOKEN`) against the test server; answers the output.
fn as_user(setup: &Setup, token: &str, args: &[&str]) -> Output {
    run(plinth(&setup.home)
        .args(args)
        .args(["--host", &setup.host])
        .env("PLINTH_TOKEN", token))
}

/// `plinth …` as `token` with stdout on a terminal (util-linux `script` gives it one).
fn on_terminal(setup: &Setup, token: &str, args: &[&str]) -> String {
    on_terminal_typing(setup, token, args, "")
}

/// Like [`on_terminal`], with `typed` typed at the terminal (answers to prompts). What
/// the terminal showed comes back: stdout and stderr, and the echo of what was typed.
fn on_terminal_typing(setup: &Setup, token: &str, args: &[&str], typed: &str) -> String {
    let mut line = vec![env!("CARGO_BIN_EXE_plinth").to_owned()];
    line.extend(args.iter().map(|a| (*a).to_owned()));
    line.extend(["--host".to_owned(), setup.host.clone()]);
    let mut child = Command::new("script")
        .env("HOME", &setup.home)
        .env_remove("XDG_CONFIG_HOME")
        .env_remove("PLINTH_HOST")
        .env("PLINTH_TOKEN", token)
        .env("TERM", "dumb")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .args(["-qc", &line.join(" "), "/dev/null"])
        .spawn()
        .expect("script runs");
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        // Give the prompt a moment so the answer is read by it, not swallowed early.
        std::thread::sleep(Duration::from_millis(300));
        stdin.write_all(typed.as_bytes()).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    text(&out.stdout).replace("\r\n", "\n")
}

#[tokio::test]
async fn org_settings_from_the_cli() {
    let s = setup("cli-org").await;
    let bob = s.bob.clone();
    let ok = |out: Output| -> String {
        assert!(out.status.success(), "{}", text(&out.stderr));
        text(&out.stdout)
    };
    let created = ok(as_user(
        &s,
        &bob,
        &["org", "create", "acme", "--display-name", "Acme"],
    ));
    assert_eq!(created, "acme\tAcme\towner\n");
    let (status, _) = call(
        Method::POST,
        format!("{}/orgs/acme/workspaces", s.api),
        Some(&bob),
        Some(json!({"handle": "prod"})),
    )
    .await;
    assert_eq!(status, 201);
    assert!(ok(as_user(&s, &bob, &["org", "list"])).contains("acme\tAcme\towner"));
    let updated = ok(as_user(
        &s,
        &bob,
        &["org", "update", "acme", "--display-name", "Acme Inc."],
    ));
    assert_eq!(updated, "acme\tAcme Inc.\towner\n");

    // Rename: off a terminal it needs --confirm, and says which DNS names would change.
    let refused = as_user(&s, &bob, &["org", "rename", "acme", "acme-inc"]);
    assert_eq!(refused.status.code(), Some(5), "a refused confirmation");
    let said = text(&refused.stderr);
    assert!(
        said.contains("acme-prod.plinth.localhost → acme-inc-prod.plinth.localhost"),
        "{said}"
    );
    assert!(said.contains("--confirm acme"), "{said}");
    let wrong = as_user(
        &s,
        &bob,
        &["org", "rename", "acme", "acme-inc", "--confirm", "acme-inc"],
    );
    assert!(text(&wrong.stderr).contains("nothing was changed"));
    let (status, _) = call(
        Method::GET,
        format!("{}/orgs/acme", s.api),
        Some(&bob),
        None,
    )
    .await;
    assert_eq!(status, 200, "still acme");
    ok(as_user(
        &s,
        &bob,
        &["org", "rename", "acme", "acme-inc", "--confirm", "acme"],
    ));
    let shown = ok(as_user(
        &s,
        &bob,
        &["org", "show", "acme-inc", "--output", "json"],
    ));
    let shown: serde_json::Value = serde_json::from_str(&shown).unwrap();
    assert_eq!(shown["handle"], "acme-inc");

    // Usage and the audit log.
    let usage = ok(as_user(&s, &bob, &["usage", "acme-inc"]));
    let lines: Vec<&str> = usage.lines().collect();
    assert_eq!(lines.len(), 1 + 30 + 1, "header, 30 days, total: {usage}");
    assert!(lines[0].starts_with("day\tapi_requests"));
    let log = ok(as_user(&s, &bob, &["audit", "acme-inc"]));
    let actions: Vec<&str> = log.lines().map(|l| l.split('\t').nth(1).unwrap()).collect();
    assert_eq!(
        actions,
        [
            "org.handle.update",
            "org.update",
            "workspace.create",
            "org.create"
        ]
    );
    std::fs::create_dir_all(&s.home).unwrap();
    let csv = s.home.join("log.csv");
    let out = as_user(
        &s,
        &bob,
        &[
            "audit",
            "acme-inc",
            "--export",
            "csv",
            "-o",
            csv.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    // An unfiltered export knows its total (X-Total-Count): the bar has an end.
    assert!(
        text(&out.stderr).contains("100% 4/4 entries"),
        "{}",
        text(&out.stderr)
    );
    let exported = std::fs::read_to_string(&csv).unwrap();
    assert_eq!(
        exported.lines().count(),
        5,
        "a header and four entries: {exported}"
    );
    // On a terminal the bar is drawn, and ends full.
    let csv_tty = s.home.join("log-tty.csv");
    let drawn = on_terminal(
        &s,
        &bob,
        &[
            "audit",
            "acme-inc",
            "--export",
            "csv",
            "-o",
            csv_tty.to_str().unwrap(),
        ],
    );
    assert!(drawn.contains("[####################] 100%"), "{drawn}");
    assert_eq!(std::fs::read_to_string(&csv_tty).unwrap(), exported);
    let jsonl = s.home.join("log.jsonl");
    ok(as_user(
        &s,
        &bob,
        &[
            "audit",
            "acme-inc",
            "--action",
            "org.*",
            "--export",
            "jsonl",
            "-o",
            jsonl.to_str().unwrap(),
        ],
    ));
    let exported = std::fs::read_to_string(&jsonl).unwrap();
    assert_eq!(exported.lines().count(), 3, "{exported}");
    for line in exported.lines() {
        let entry: serde_json::Value = serde_json::from_str(line).unwrap();
        assert!(entry["action"].as_str().unwrap().starts_with("org."));
    }

    // Bad input changes nothing and says why.
    let bad = as_user(&s, &bob, &["org", "show", "Not A Handle!"]);
    assert!(!bad.status.success());
    assert!(
        text(&bad.stderr).contains("not an org handle"),
        "{}",
        text(&bad.stderr)
    );
    let bad = as_user(&s, &bob, &["usage", "acme-inc", "--from", "yesterday"]);
    assert!(!bad.status.success());
    assert!(text(&bad.stderr).contains("(400)"), "{}", text(&bad.stderr));

    // Reset authentication: bob's own token stops working here, with a hint.
    ok(as_user(
        &s,
        &bob,
        &["org", "reset-auth", "acme-inc", "--confirm", "acme-inc"],
    ));
    let after = as_user(&s, &bob, &["org", "show", "acme-inc"]);
    assert_eq!(after.status.code(), Some(4), "a refused token");
    assert!(
        text(&after.stderr).contains("plinth login"),
        "{}",
        text(&after.stderr)
    );

    // Delete, with a fresh login.
    let (_, login) = call(
        Method::POST,
        format!("{}/login", s.api),
        None,
        Some(json!({"login": "bob", "password": "correct horse"})),
    )
    .await;
    let fresh = login["token"].as_str().unwrap();
    let refused = as_user(&s, fresh, &["org", "delete", "acme-inc"]);
    assert!(!refused.status.success());
    ok(as_user(
        &s,
        fresh,
        &["org", "delete", "acme-inc", "--confirm", "acme-inc"],
    ));
    let gone = as_user(&s, fresh, &["org", "show", "acme-inc"]);
    assert_eq!(gone.status.code(), Some(3), "not found");
    assert!(
        text(&gone.stderr).contains("(404)"),
        "{}",
        text(&gone.stderr)
    );
}

#[tokio::test]
async fn user_tokens_from_the_cli() {
    let s = setup("cli-token").await;
    let bob = s.bob.clone();
    let created = as_user(&s, &bob, &["token", "create", "--title", "ci"]);
    assert!(created.status.success(), "{}", text(&created.stderr));
    // Just the secret on stdout, so that $(plinth token create …) captures it.
    let secret = text(&created.stdout).trim().to_owned();
    assert!(
        secret.starts_with("plu_") && !secret.contains(char::is_whitespace),
        "{secret}"
    );
    assert!(text(&created.stderr).contains("will not be shown again"));
    let whoami = as_user(&s, &secret, &["whoami"]);
    assert!(whoami.status.success(), "{}", text(&whoami.stderr));

    let listed = as_user(&s, &bob, &["token", "list"]);
    let listed = text(&listed.stdout);
    let row: Vec<&str> = listed.lines().next().unwrap().split('\t').collect();
    let id = row[0].to_owned();
    assert_eq!(
        &row[1..4],
        ["ci", &format!("…{}", &secret[secret.len() - 4..]), "active"]
    );
    assert!(!listed.contains(&secret), "the list never shows a secret");
    // On a terminal: a header, aligned columns, relative times.
    let on_tty = on_terminal(&s, &bob, &["token", "list"]);
    let mut lines = on_tty.lines();
    let header = lines.next().unwrap_or_default();
    assert!(
        header.starts_with("ID") && header.contains("LAST USED"),
        "{on_tty}"
    );
    assert!(
        lines.next().unwrap_or_default().contains("just now"),
        "{on_tty}"
    );

    let off = as_user(&s, &bob, &["token", "deactivate", &id]);
    assert!(
        text(&off.stdout).contains("inactive"),
        "{}",
        text(&off.stderr)
    );
    assert_eq!(as_user(&s, &secret, &["whoami"]).status.code(), Some(4));
    assert!(
        as_user(&s, &bob, &["token", "activate", &id])
            .status
            .success()
    );
    assert!(as_user(&s, &secret, &["whoami"]).status.success());
    // A user token cannot mint or change tokens; a pasted secret is not an id.
    let minted = as_user(&s, &secret, &["token", "create", "--title", "x"]);
    assert_eq!(minted.status.code(), Some(1), "{}", text(&minted.stderr));
    let pasted = as_user(&s, &bob, &["token", "delete", &secret]);
    assert!(
        text(&pasted.stderr).contains("not its id"),
        "{}",
        text(&pasted.stderr)
    );
    assert!(
        !text(&pasted.stderr).contains(&secret[4..]),
        "the secret is not echoed"
    );

    // Delete asks for the title; on a terminal a mistyped one is refused and changes
    // nothing, the right one deletes.
    assert_eq!(
        as_user(&s, &bob, &["token", "delete", &id]).status.code(),
        Some(5)
    );
    let mistyped = on_terminal_typing(&s, &bob, &["token", "delete", &id], "cj\n");
    assert!(mistyped.contains("does not match"), "{mistyped}");
    assert!(
        as_user(&s, &secret, &["whoami"]).status.success(),
        "still works"
    );
    let typed = on_terminal_typing(&s, &bob, &["token", "delete", &id], "ci\n");
    assert!(typed.contains("Type ci to confirm"), "{typed}");
    assert_eq!(as_user(&s, &secret, &["whoami"]).status.code(), Some(4));
    let again = as_user(&s, &bob, &["token", "delete", &id, "--confirm", "ci"]);
    assert_eq!(again.status.code(), Some(3), "{}", text(&again.stderr));
    // --output json is the API's JSON.
    let json = as_user(&s, &bob, &["token", "list", "--output", "json"]);
    let listed: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert!(
        listed
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["id"] != id.as_str())
    );
}

#[tokio::test]
async fn your_account_and_completions_from_the_cli() {
    let s = setup("cli-user").await;
    let bob = s.bob.clone();
    let shown = as_user(&s, &bob, &["user", "show"]);
    assert!(
        text(&shown.stdout).starts_with("bob\t"),
        "{}",
        text(&shown.stderr)
    );
    let updated = as_user(&s, &bob, &["user", "update", "--display-name", "Bob B."]);
    assert!(
        text(&updated.stdout).starts_with("bob\tBob B.\t"),
        "{}",
        text(&updated.stderr)
    );
    let bad = as_user(
        &s,
        &bob,
        &["user", "update", "--display-name", "\u{202e}evil"],
    );
    assert_eq!(bad.status.code(), Some(1));
    assert!(text(&bad.stderr).contains("(400)"), "{}", text(&bad.stderr));

    // Sign out everywhere: off a terminal it needs --confirm with the handle.
    let refused = as_user(&s, &bob, &["user", "reset-auth"]);
    assert_eq!(refused.status.code(), Some(5));
    let wrong = as_user(&s, &bob, &["user", "reset-auth", "--confirm", "alice"]);
    assert_eq!(wrong.status.code(), Some(5));
    assert!(
        as_user(&s, &bob, &["whoami"]).status.success(),
        "nothing changed"
    );
    let done = as_user(&s, &bob, &["user", "reset-auth", "--confirm", "bob"]);
    assert!(done.status.success(), "{}", text(&done.stderr));
    assert_eq!(as_user(&s, &bob, &["whoami"]).status.code(), Some(4));

    for shell in ["bash", "zsh", "fish", "powershell"] {
        let script = run(plinth(&s.home).args(["completions", shell]));
        assert!(script.status.success(), "{shell}");
        assert!(text(&script.stdout).contains("token"), "{shell}");
    }
    // Bash loads it and completes a noun.
    let bash = run(Command::new("bash").arg("-c").arg(format!(
        "source <({} completions bash) && complete -p plinth",
        env!("CARGO_BIN_EXE_plinth")
    )));
    assert!(bash.status.success(), "{}", text(&bash.stderr));
    assert!(
        text(&bash.stdout).contains("plinth"),
        "{}",
        text(&bash.stdout)
    );
}

#[tokio::test]
async fn members_and_invitations_from_the_cli() {
    let s = setup("cli-member").await;
    let bob = s.bob.clone();
    let ann = signup_and_login(&s.api, "ann").await;
    let ok = |out: Output| -> String {
        assert!(out.status.success(), "{}", text(&out.stderr));
        text(&out.stdout)
    };
    ok(as_user(&s, &bob, &["org", "create", "acme"]));
    let invited = ok(as_user(
        &s,
        &bob,
        &["org", "member", "invite", "acme", "ann"],
    ));
    assert_eq!(invited, "ann\tann\tmember\tinvited\n");
    let pending = ok(as_user(&s, &ann, &["invitation", "list"]));
    assert_eq!(pending, "acme\tacme\tmember\tbob\n");
    ok(as_user(&s, &ann, &["invitation", "accept", "acme"]));
    let listed = ok(as_user(&s, &bob, &["org", "member", "list", "acme"]));
    assert!(listed.contains("ann\tann\tmember\tactive\n"), "{listed}");
    assert!(listed.contains("bob\tbob\towner\tactive\n"), "{listed}");
    // A member cannot manage members; the last owner cannot step down.
    let forbidden = as_user(
        &s,
        &ann,
        &["org", "member", "set-role", "acme", "ann", "owner"],
    );
    assert_eq!(
        forbidden.status.code(),
        Some(1),
        "{}",
        text(&forbidden.stderr)
    );
    assert!(text(&forbidden.stderr).contains("(403)"));
    let last = as_user(
        &s,
        &bob,
        &["org", "member", "set-role", "acme", "bob", "member"],
    );
    assert_eq!(last.status.code(), Some(5), "{}", text(&last.stderr));
    let promoted = ok(as_user(
        &s,
        &bob,
        &["org", "member", "set-role", "acme", "ann", "owner"],
    ));
    assert_eq!(promoted, "ann\tann\towner\tactive\n");
    // Removing asks for the member's handle; a stranger's handle is not found.
    assert_eq!(
        as_user(&s, &bob, &["org", "member", "remove", "acme", "ann"])
            .status
            .code(),
        Some(5)
    );
    ok(as_user(
        &s,
        &bob,
        &["org", "member", "remove", "acme", "ann", "--confirm", "ann"],
    ));
    let gone = as_user(
        &s,
        &bob,
        &["org", "member", "remove", "acme", "ann", "--confirm", "ann"],
    );
    assert_eq!(gone.status.code(), Some(3), "{}", text(&gone.stderr));
    // Invited again, then declined: nothing is pending any more.
    ok(as_user(
        &s,
        &bob,
        &["org", "member", "invite", "acme", "ann@example.com"],
    ));
    ok(as_user(&s, &ann, &["invitation", "decline", "acme"]));
    assert_eq!(ok(as_user(&s, &ann, &["invitation", "list"])), "");

    // The log of all that verifies; the head it prints proves itself later.
    let verified = ok(as_user(&s, &bob, &["audit", "verify", "acme"]));
    let fields: Vec<&str> = verified.trim_end().split('\t').collect();
    assert_eq!(fields[0], "ok", "{verified}");
    let head = fields[2].to_owned();
    assert_eq!(head.len(), 64);
    ok(as_user(
        &s,
        &bob,
        &["audit", "verify", "acme", "--head", &head],
    ));
    let unknown = "f".repeat(64);
    let cut = as_user(&s, &bob, &["audit", "verify", "acme", "--head", &unknown]);
    assert_eq!(cut.status.code(), Some(1));
    assert!(
        text(&cut.stdout).starts_with("BROKEN"),
        "{}",
        text(&cut.stdout)
    );
    // Listing still takes the org as its first word.
    assert!(
        ok(as_user(&s, &bob, &["audit", "acme", "--limit", "2"]))
            .lines()
            .count()
            == 2
    );
}

#[tokio::test]
async fn workspaces_from_the_cli() {
    let s = setup("cli-workspace").await;
    let bob = s.bob.clone();
    let ann = signup_and_login(&s.api, "ann").await;
    let ok = |out: Output| -> String {
        assert!(out.status.success(), "{}", text(&out.stderr));
        text(&out.stdout)
    };
    ok(as_user(&s, &bob, &["org", "create", "acme"]));
    let created = ok(as_user(
        &s,
        &bob,
        &[
            "workspace",
            "create",
            "acme/prod",
            "--display-name",
            "Production",
        ],
    ));
    assert_eq!(
        created,
        "prod\tProduction\tacme-prod.plinth.localhost\towner\n"
    );
    let bad = as_user(&s, &bob, &["workspace", "create", "acme/no-hyphens"]);
    assert!(text(&bad.stderr).contains("(400)"), "{}", text(&bad.stderr));
    assert_eq!(
        as_user(&s, &bob, &["workspace", "show", "acme"])
            .status
            .code(),
        Some(1)
    );
    ok(as_user(
        &s,
        &bob,
        &["workspace", "rename", "acme/prod", "Prod"],
    ));
    let listed = ok(as_user(&s, &bob, &["workspace", "list", "acme"]));
    assert_eq!(listed, "prod\tProd\tacme-prod.plinth.localhost\towner\n");
    // JSON: a list is an array even of one, a single resource an object.
    let list: serde_json::Value = serde_json::from_str(&ok(as_user(
        &s,
        &bob,
        &["workspace", "list", "acme", "--output", "json"],
    )))
    .unwrap();
    assert_eq!(list.as_array().map(Vec::len), Some(1), "{list}");
    let one: serde_json::Value = serde_json::from_str(&ok(as_user(
        &s,
        &bob,
        &["workspace", "show", "acme/prod", "--output", "json"],
    )))
    .unwrap();
    assert_eq!(one["dns_name"], "acme-prod.plinth.localhost");

    // Ann, a member without a role, cannot see it until she gets one.
    ok(as_user(
        &s,
        &bob,
        &["org", "member", "invite", "acme", "ann"],
    ));
    ok(as_user(&s, &ann, &["invitation", "accept", "acme"]));
    assert_eq!(
        as_user(&s, &ann, &["workspace", "show", "acme/prod"])
            .status
            .code(),
        Some(3)
    );
    let added = ok(as_user(
        &s,
        &bob,
        &[
            "workspace",
            "member",
            "add",
            "acme/prod",
            "ann",
            "--role",
            "operator",
        ],
    ));
    assert_eq!(added, "ann\tann\toperator\n");
    assert!(ok(as_user(&s, &ann, &["workspace", "show", "acme/prod"])).contains("\toperator"));
    ok(as_user(
        &s,
        &bob,
        &[
            "workspace",
            "member",
            "set-role",
            "acme/prod",
            "ann",
            "reader",
        ],
    ));
    assert_eq!(
        ok(as_user(
            &s,
            &bob,
            &["workspace", "member", "list", "acme/prod"]
        )),
        "ann\tann\treader\n"
    );
    ok(as_user(
        &s,
        &bob,
        &["workspace", "member", "remove", "acme/prod", "ann"],
    ));
    assert_eq!(
        as_user(&s, &ann, &["workspace", "show", "acme/prod"])
            .status
            .code(),
        Some(3)
    );

    // Delete asks for the workspace handle.
    assert_eq!(
        as_user(
            &s,
            &bob,
            &["workspace", "delete", "acme/prod", "--confirm", "acme"]
        )
        .status
        .code(),
        Some(5)
    );
    ok(as_user(
        &s,
        &bob,
        &["workspace", "delete", "acme/prod", "--confirm", "prod"],
    ));
    assert_eq!(ok(as_user(&s, &bob, &["workspace", "list", "acme"])), "");
}
