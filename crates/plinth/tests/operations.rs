//! Operating a server with the real binary: instance administration (`plinth admin
//! user …`), backup and restore (SQLite with `plinth admin backup|restore`, PostgreSQL
//! with pg_dump and pg_restore), upgrades (`plinth migrate --dry-run`, a newer schema
//! refused) and `plinth config check`.

mod common;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use common::{call, serve, signup_and_login, sigterm_and_wait, temp_dir};
use plinth_store::test_support::{Backend, TestDb, postgres_base_url};
use reqwest::Method;
use serde_json::{Value, json};

/// Runs `plinth ARGS` (with `stdin` on its standard input) and waits for it.
fn plinth(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_plinth"))
        .args(args)
        .env("PLINTH_LOG", "warn")
        .env_remove("PLINTH_DATABASE_URL")
        .env_remove("PLINTH_CONFIG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("plinth runs");
    let mut input = child.stdin.take().expect("stdin");
    if let Some(text) = stdin {
        input.write_all(text.as_bytes()).expect("write stdin");
    }
    drop(input);
    child.wait_with_output().expect("plinth finishes")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[track_caller]
fn succeeded(out: &Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        stdout(out),
        stderr(out)
    );
    stdout(out)
}

/// `plinth admin ARGS --database-url URL`.
fn admin(url: &str, args: &[&str], stdin: Option<&str>) -> Output {
    let mut all = vec!["admin"];
    all.extend_from_slice(args);
    all.extend(["--database-url", url]);
    plinth(&all, stdin)
}

/// The password after "password …: " on the command's output.
fn printed_password(text: &str) -> String {
    text.lines()
        .find(|l| l.contains("password (shown only now"))
        .and_then(|l| l.rsplit(": ").next())
        .unwrap_or_else(|| panic!("no password in {text:?}"))
        .trim()
        .to_owned()
}

async fn login(api: &str, who: &str, password: &str) -> (u16, Value) {
    call(
        Method::POST,
        format!("{api}/login"),
        None,
        Some(json!({"login": who, "password": password})),
    )
    .await
}

async fn whoami(api: &str, token: &str) -> (u16, Value) {
    call(Method::GET, format!("{api}/user"), Some(token), None).await
}

/// The account's audit log as its owner sees it: actions, newest first.
async fn own_audit_actions(api: &str, token: &str) -> Vec<(String, String)> {
    let (status, page) = call(
        Method::GET,
        format!("{api}/user/audit-log?limit=100"),
        Some(token),
        None,
    )
    .await;
    assert_eq!(status, 200, "{page}");
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap_or_default().to_owned(),
                e["actor"]["handle"]
                    .as_str()
                    .or_else(|| e["actor_handle"].as_str())
                    .unwrap_or_default()
                    .to_owned(),
            )
        })
        .collect()
}

/// How soon a running SQLite server must see a change `plinth admin` made to an account
/// it holds in its cache: it polls the invalidation log (DESIGN.md §5) every 250 ms.
const SQLITE_REACH: Duration = Duration::from_secs(1);

/// Polls `check` until it holds, failing after `limit`.
async fn within<F, Fut>(limit: Duration, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = Instant::now();
    while !check().await {
        assert!(started.elapsed() < limit, "{what}: not within {limit:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// On a `--signup closed` SQLite instance: the administrator creates accounts (a
/// printed one-time password, or one read from stdin), disables and enables one, and
/// resets one's authentication; each shows in the API at once and in the account's audit
/// log as `admin.*` by `plinth-admin`. Bad input changes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_user_commands_end_to_end_on_sqlite() {
    let dir = temp_dir("admin-user");
    let url = format!("sqlite://{}", dir.join("plinth-data/plinth.db").display());
    let server = serve(
        &dir,
        &[
            "--bind",
            "127.0.0.1:0",
            "--dns-bind",
            "127.0.0.1:0",
            "--signup",
            "closed",
            "--database-url",
            &url,
        ],
    );
    let api = format!("http://127.0.0.1:{}/api/v1", server.port);
    admin_user_flow(&api, &url).await;
    assert!(sigterm_and_wait(server).success());
    let _ = std::fs::remove_dir_all(dir);
}

async fn admin_user_flow(api: &str, url: &str) {
    // Sign-up is closed: only the administrator makes accounts.
    let (status, _) = call(
        Method::POST,
        format!("{api}/signup"),
        None,
        Some(json!({"handle": "carol", "email": "carol@example.com", "password": "correct horse"})),
    )
    .await;
    assert_eq!(status, 403);

    let out = admin(
        url,
        &["user", "create", "carol", "--email", "carol@example.com"],
        None,
    );
    let text = succeeded(&out);
    assert!(text.contains("created user \"carol\""), "{text}");
    let password = printed_password(&text);
    assert_eq!(password.len(), 20, "{text}");
    let (status, body) = login(api, "carol", &password).await;
    assert_eq!(status, 200, "{body}");

    let out = admin(
        url,
        &[
            "user",
            "create",
            "dave",
            "--email",
            "dave@example.com",
            "--password-stdin",
            "--display-name",
            "Dave D",
        ],
        Some("dave's long password\n"),
    );
    let text = succeeded(&out);
    assert!(
        !text.contains("password ("),
        "a password from stdin is not printed: {text}"
    );
    let (status, body) = login(api, "dave@example.com", "dave's long password").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["user"]["display_name"], "Dave D");

    // Bad input: a clear message, exit 1, and nothing created.
    for (args, stdin, message) in [
        (
            vec!["user", "create", "carol", "--email", "c2@example.com"],
            None,
            "taken",
        ),
        (
            vec!["user", "create", "Not A Handle", "--email", "x@example.com"],
            None,
            "handle",
        ),
        (
            vec!["user", "create", "erin", "--email", "not-an-email"],
            None,
            "email",
        ),
        (
            vec![
                "user",
                "create",
                "erin",
                "--email",
                "erin@example.com",
                "--password-stdin",
            ],
            Some("short\n"),
            "password",
        ),
        (
            vec![
                "user",
                "create",
                "erin",
                "--email",
                "erin@example.com",
                "--password-stdin",
            ],
            Some(""),
            "no password",
        ),
        (
            vec!["user", "disable", "nobody"],
            None,
            "no user has the handle",
        ),
        (
            vec!["user", "reset-auth", "nobody"],
            None,
            "no user has the handle",
        ),
    ] {
        let out = admin(url, &args, stdin);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", stdout(&out));
        assert!(stderr(&out).contains(message), "{args:?}: {}", stderr(&out));
    }
    let (status, _) = login(api, "erin@example.com", "erin's long password").await;
    assert_eq!(status, 401, "erin was never created");

    // Disable: a token not yet used by this server is refused, and so is a login with
    // the right password; the problem says why.
    let (_, body) = login(api, "carol", &password).await;
    let carol = body["token"].as_str().expect("a token").to_owned();
    let text = succeeded(&admin(url, &["user", "disable", "carol"], None));
    assert!(text.contains("is now disabled"), "{text}");
    let (status, problem) = whoami(api, &carol).await;
    assert_eq!(
        (status, problem["type"].as_str()),
        (401, Some("token-revoked")),
        "{problem}"
    );
    assert!(
        problem["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("disabled"),
        "{problem}"
    );
    let (status, problem) = login(api, "carol", &password).await;
    assert_eq!(
        (status, problem["type"].as_str()),
        (403, Some("forbidden")),
        "{problem}"
    );
    // A wrong password says nothing about the account's state.
    let (status, problem) = login(api, "carol", "not the password").await;
    assert_eq!(status, 401, "{problem}");
    let text = succeeded(&admin(url, &["user", "disable", "carol"], None));
    assert!(text.contains("was already disabled"), "{text}");

    // Enable: the same token works again.
    succeeded(&admin(url, &["user", "enable", "carol"], None));
    // The refused request above cached the disabled account: this server learns of the
    // enable through the invalidation of another process's change (see SQLITE_REACH).
    within(SQLITE_REACH, "the enable", || async {
        whoami(api, &carol).await.0 == 200
    })
    .await;

    // Reset: a new password (the old one stops working), every earlier token refused.
    let (_, body) = login(api, "carol", &password).await;
    let fresh = body["token"].as_str().expect("a token").to_owned();
    let text = succeeded(&admin(url, &["user", "reset-auth", "carol"], None));
    let new_password = printed_password(&text);
    assert_ne!(new_password, password);
    within(SQLITE_REACH, "the reset", || async {
        let (status, problem) = whoami(api, &fresh).await;
        status == 401 && problem["type"] == "auth-reset"
    })
    .await;
    assert_eq!(login(api, "carol", &password).await.0, 401);
    let (status, body) = login(api, "carol", &new_password).await;
    assert_eq!(status, 200, "{body}");
    let carol = body["token"].as_str().expect("a token").to_owned();
    let text = succeeded(&admin(
        url,
        &["user", "reset-auth", "dave", "--keep-password"],
        None,
    ));
    assert!(text.contains("the password was kept"), "{text}");
    assert_eq!(login(api, "dave", "dave's long password").await.0, 200);

    // Every change is in the account's own log, by the instance administrator.
    let actions = own_audit_actions(api, &carol).await;
    let admin_entries: Vec<&(String, String)> = actions
        .iter()
        .filter(|(a, _)| a.starts_with("admin."))
        .collect();
    let names: Vec<&str> = admin_entries.iter().map(|(a, _)| a.as_str()).collect();
    assert_eq!(
        names,
        [
            "admin.user.auth.reset",
            "admin.user.enable",
            "admin.user.disable",
            "admin.user.create"
        ],
        "{actions:?}"
    );
    assert!(
        admin_entries
            .iter()
            .all(|(_, actor)| actor == "plinth-admin"),
        "{actions:?}"
    );
    let out = admin(url, &["audit", "verify"], None);
    assert!(succeeded(&out).contains("all intact"));
}

/// On PostgreSQL, with two `plinth serve` replicas: a token the other replica already
/// holds in its cache is refused within 1 s of `plinth admin user disable` (the user's
/// invalidation), and again after `enable` + `reset-auth`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_disable_and_reset_reach_running_servers_at_once_on_postgres() {
    let db = TestDb::new(Backend::Postgres).await;
    let dir = temp_dir("admin-user-pg");
    let args = [
        "--bind",
        "127.0.0.1:0",
        "--dns-bind",
        "127.0.0.1:0",
        "--database-url",
        db.url.as_str(),
    ];
    let server = serve(&dir, &args);
    let api = format!("http://127.0.0.1:{}/api/v1", server.port);
    let token = signup_and_login(&api, "ann").await;
    // Warm: the token and the user are in the server's caches from here on.
    for _ in 0..3 {
        assert_eq!(whoami(&api, &token).await.0, 200);
    }
    succeeded(&admin(&db.url, &["user", "disable", "ann"], None));
    within(Duration::from_secs(1), "the disable", || async {
        whoami(&api, &token).await.0 == 401
    })
    .await;
    succeeded(&admin(&db.url, &["user", "enable", "ann"], None));
    within(Duration::from_secs(1), "the enable", || async {
        whoami(&api, &token).await.0 == 200
    })
    .await;
    succeeded(&admin(
        &db.url,
        &["user", "reset-auth", "ann", "--keep-password"],
        None,
    ));
    within(Duration::from_secs(1), "the reset", || async {
        let (status, body) = whoami(&api, &token).await;
        status == 401 && body["type"] == "auth-reset"
    })
    .await;
    assert_eq!(login(&api, "ann", "correct horse").await.0, 200);
    assert!(sigterm_and_wait(server).success());
    db.cleanup().await;
    let _ = std::fs::remove_dir_all(dir);
}

/// `plinth admin backup` while two writers create orgs through the running server: the
/// copy restores (integrity check, migrations, audit verify) and holds every org whose
/// creation was acknowledged before the backup started. Restore refuses a database in
/// use, a damaged file and a broken audit chain, changing nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn backup_under_concurrent_writes_restores_everything_acknowledged_before_it() {
    let dir = temp_dir("backup");
    let live = dir.join("plinth-data/plinth.db");
    let url = format!("sqlite://{}", live.display());
    let server = serve(
        &dir,
        &[
            "--bind",
            "127.0.0.1:0",
            "--dns-bind",
            "127.0.0.1:0",
            "--database-url",
            &url,
        ],
    );
    let api = format!("http://127.0.0.1:{}/api/v1", server.port);
    let token = signup_and_login(&api, "ann").await;

    let stop = Arc::new(AtomicBool::new(false));
    let mut writers = Vec::new();
    for writer in 0..2 {
        let (api, token, stop) = (api.clone(), token.clone(), stop.clone());
        writers.push(tokio::spawn(async move {
            // (handle, when its 201 arrived)
            let mut acknowledged: Vec<(String, Instant)> = Vec::new();
            let mut i = 0;
            while !stop.load(Ordering::Relaxed) {
                let handle = format!("w{writer}-{i}");
                let (status, body) = call(
                    Method::POST,
                    format!("{api}/orgs"),
                    Some(&token),
                    Some(json!({"handle": handle})),
                )
                .await;
                assert_eq!(status, 201, "{body}");
                acknowledged.push((handle, Instant::now()));
                i += 1;
            }
            acknowledged
        }));
    }
    // Let the writers get going, so the backup lands among their writes.
    let warm_up = Instant::now();
    while warm_up.elapsed() < Duration::from_secs(10) {
        let (_, orgs) = call(
            Method::GET,
            format!("{api}/orgs?limit=100"),
            Some(&token),
            None,
        )
        .await;
        if orgs["items"]
            .as_array()
            .is_some_and(|items| items.len() >= 40)
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let backup_file = dir.join("backup.db");
    let started = Instant::now();
    let out = tokio::task::spawn_blocking({
        let (url, file) = (url.clone(), backup_file.display().to_string());
        move || admin(&url, &["backup", &file], None)
    })
    .await
    .unwrap();
    let finished = Instant::now();
    let text = succeeded(&out);
    assert!(text.contains("integrity ok"), "{text}");
    // The writers keep going a little past the backup, then stop.
    tokio::time::sleep(Duration::from_millis(200)).await;
    stop.store(true, Ordering::Relaxed);
    let mut acknowledged = Vec::new();
    for writer in writers {
        acknowledged.extend(writer.await.unwrap());
    }
    let before: Vec<&String> = acknowledged
        .iter()
        .filter(|(_, at)| *at < started)
        .map(|(h, _)| h)
        .collect();
    let after = acknowledged.iter().filter(|(_, at)| *at > finished).count();
    assert!(
        before.len() >= 10,
        "{} writes before the backup",
        before.len()
    );
    assert!(after > 0, "the server kept taking writes after the backup");

    // The live database is in use: restoring over it is refused.
    let out = admin(&url, &["restore", &backup_file.display().to_string()], None);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(stderr(&out).contains("in use"), "{}", stderr(&out));

    // Restored elsewhere: checked, and every acknowledged-before write is there.
    let restored = dir.join("restored/plinth.db");
    let restored_url = format!("sqlite://{}", restored.display());
    let text = succeeded(&admin(
        &restored_url,
        &["restore", &backup_file.display().to_string()],
        None,
    ));
    assert!(
        text.contains("integrity ok") && text.contains("audit chain(s) intact"),
        "{text}"
    );
    assert!(succeeded(&admin(&restored_url, &["audit", "verify"], None)).contains("all intact"));
    let store = plinth_store::Store::connect(&restored_url).await.unwrap();
    assert_eq!(store.integrity_check().await.unwrap(), ["ok"]);
    for handle in &before {
        let handle = plinth_core::Handle::parse(handle).unwrap();
        assert!(
            store.org_by_handle(&handle).await.unwrap().is_some(),
            "{handle} was acknowledged before the backup started but is not in it"
        );
    }
    store.close().await;

    // Restore in place once the server is stopped; the old database is kept aside.
    assert!(sigterm_and_wait(server).success());
    let text = succeeded(&admin(
        &url,
        &["restore", &backup_file.display().to_string()],
        None,
    ));
    assert!(text.contains("is kept as"), "{text}");
    let server = serve(
        &dir,
        &[
            "--bind",
            "127.0.0.1:0",
            "--dns-bind",
            "127.0.0.1:0",
            "--database-url",
            &url,
        ],
    );
    let api = format!("http://127.0.0.1:{}/api/v1", server.port);
    let first = before[0];
    let (status, org) = call(
        Method::GET,
        format!("{api}/orgs/{first}"),
        Some(&token),
        None,
    )
    .await;
    assert_eq!(status, 200, "{org}");
    assert!(sigterm_and_wait(server).success());

    // A damaged file and a tampered audit log are refused; the target is untouched.
    let damaged = dir.join("damaged.db");
    let mut bytes = std::fs::read(&backup_file).unwrap();
    let (middle, end) = (bytes.len() / 2, bytes.len().min(bytes.len() / 2 + 4096));
    for byte in &mut bytes[middle..end] {
        *byte = 0x5a;
    }
    std::fs::write(&damaged, &bytes).unwrap();
    let target = dir.join("target/plinth.db");
    let target_url = format!("sqlite://{}", target.display());
    let out = admin(
        &target_url,
        &["restore", &damaged.display().to_string()],
        None,
    );
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(
        stderr(&out).contains("cannot be restored"),
        "{}",
        stderr(&out)
    );
    assert!(!target.exists(), "nothing was put in place");

    let tampered = dir.join("tampered.db");
    std::fs::copy(&backup_file, &tampered).unwrap();
    tamper_one_audit_entry(&tampered).await;
    let out = admin(
        &target_url,
        &["restore", &tampered.display().to_string()],
        None,
    );
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(stderr(&out).contains("audit chain"), "{}", stderr(&out));
    assert!(!target.exists(), "nothing was put in place");
    let _ = std::fs::remove_dir_all(dir);
}

async fn tamper_one_audit_entry(file: &Path) {
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&format!("sqlite://{}", file.display()))
        .await
        .unwrap();
    let changed = sqlx::query(
        "UPDATE audit_log SET data = '{\"forged\":true}' WHERE seq = 1 AND action = 'org.create'",
    )
    .execute(&pool)
    .await
    .unwrap()
    .rows_affected();
    assert!(changed > 0);
    pool.close().await;
}

/// PostgreSQL, as docs/OPERATIONS.md says: `pg_dump --format=custom` of a live database,
/// `pg_restore` into a new one, and `plinth admin audit verify` there passes; the restored
/// database serves the same accounts and orgs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_pg_dump_and_pg_restore_keep_every_chain_verifying() {
    let db = TestDb::new(Backend::Postgres).await;
    let dir = temp_dir("pg-dump");
    let args = [
        "--bind",
        "127.0.0.1:0",
        "--dns-bind",
        "127.0.0.1:0",
        "--database-url",
        db.url.as_str(),
    ];
    let server = serve(&dir, &args);
    let api = format!("http://127.0.0.1:{}/api/v1", server.port);
    let token = signup_and_login(&api, "ann").await;
    for org in ["acme", "globex"] {
        let (status, _) = call(
            Method::POST,
            format!("{api}/orgs"),
            Some(&token),
            Some(json!({"handle": org})),
        )
        .await;
        assert_eq!(status, 201);
        let (status, _) = call(
            Method::POST,
            format!("{api}/orgs/{org}/workspaces"),
            Some(&token),
            Some(json!({"handle": "web"})),
        )
        .await;
        assert_eq!(status, 201);
    }
    let schema = db
        .url
        .split("search_path%3D")
        .nth(1)
        .expect("the test schema in the URL")
        .to_owned();
    let base = postgres_base_url();
    let dump = dir.join("plinth.dump");
    // Online: the server keeps running while pg_dump takes its snapshot.
    let out = Command::new("pg_dump")
        .args([
            "--format=custom",
            "--no-owner",
            "--schema",
            &schema,
            "--file",
        ])
        .arg(&dump)
        .arg(&base)
        .output()
        .expect("pg_dump runs");
    assert!(out.status.success(), "pg_dump: {}", stderr(&out));
    assert!(sigterm_and_wait(server).success());

    let restore_db = format!(
        "plinth_restore_{}",
        schema.trim_start_matches("plinth_test_")
    );
    let psql = |sql: &str| {
        let out = Command::new("psql")
            .args([base.as_str(), "-v", "ON_ERROR_STOP=1", "-c", sql])
            .output()
            .expect("psql runs");
        assert!(out.status.success(), "{sql}: {}", stderr(&out));
    };
    psql(&format!("CREATE DATABASE {restore_db}"));
    let (base_no_db, _) = base.rsplit_once('/').expect("a database in the URL");
    let restore_url = format!("{base_no_db}/{restore_db}");
    let out = Command::new("pg_restore")
        .args(["--no-owner", "--exit-on-error", "--dbname", &restore_url])
        .arg(&dump)
        .output()
        .expect("pg_restore runs");
    assert!(out.status.success(), "pg_restore: {}", stderr(&out));

    let restored_url = format!("{restore_url}?options=-c%20search_path%3D{schema}");
    let text = succeeded(&admin(&restored_url, &["audit", "verify"], None));
    assert!(text.contains("3 chain(s) checked, all intact"), "{text}");
    let server = serve(
        &dir,
        &[
            "--bind",
            "127.0.0.1:0",
            "--dns-bind",
            "127.0.0.1:0",
            "--database-url",
            &restored_url,
        ],
    );
    let api = format!("http://127.0.0.1:{}/api/v1", server.port);
    let (status, body) = login(&api, "ann", "correct horse").await;
    assert_eq!(status, 200, "{body}");
    let token = body["token"].as_str().unwrap().to_owned();
    let (status, orgs) = call(Method::GET, format!("{api}/orgs"), Some(&token), None).await;
    assert_eq!(status, 200);
    assert_eq!(orgs["items"].as_array().map(Vec::len), Some(2), "{orgs}");
    assert!(sigterm_and_wait(server).success());
    psql(&format!("DROP DATABASE {restore_db}"));
    db.cleanup().await;
    let _ = std::fs::remove_dir_all(dir);
}

/// `plinth migrate --dry-run` lists what would run and applies nothing; a database
/// migrated by a newer Plinth is refused by `migrate`, `--dry-run` and `serve`, with a
/// message that says so.
#[test]
fn migrate_dry_run_and_a_newer_schema_refused() {
    let dir = temp_dir("dry-run");
    let url = format!("sqlite://{}", dir.join("plinth.db").display());
    let text = succeeded(&plinth(
        &["migrate", "--dry-run", "--database-url", &url],
        None,
    ));
    assert!(text.contains("would apply"), "{text}");
    for migration in plinth_store::MIGRATIONS {
        assert!(
            text.contains(&format!("{:04}_{}", migration.version, migration.name)),
            "{text}"
        );
    }
    // Nothing was applied: a second dry run lists the same.
    assert_eq!(
        succeeded(&plinth(
            &["migrate", "--dry-run", "--database-url", &url],
            None
        )),
        text
    );
    succeeded(&plinth(&["migrate", "--database-url", &url], None));
    let text = succeeded(&plinth(
        &["migrate", "--dry-run", "--database-url", &url],
        None,
    ));
    assert!(text.contains("nothing would run"), "{text}");

    // A newer release recorded a migration this one does not know.
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        sqlx::any::install_default_drivers();
        let pool = sqlx::AnyPool::connect(&url).await.unwrap();
        sqlx::query("INSERT INTO plinth_migrations (version, name, applied_at) VALUES (9999, 'from_a_newer_release', 0)")
            .execute(&pool)
            .await
            .unwrap();
        pool.close().await;
    });
    for args in [
        vec!["migrate", "--database-url", &url],
        vec!["migrate", "--dry-run", "--database-url", &url],
        vec![
            "serve",
            "--bind",
            "127.0.0.1:0",
            "--dns-bind",
            "127.0.0.1:0",
            "--metrics-bind",
            "off",
            "--database-url",
            &url,
        ],
        vec!["admin", "audit", "verify", "--database-url", &url],
    ] {
        let out = plinth(&args, None);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", stdout(&out));
        let message = stderr(&out);
        assert!(
            message.contains("migrated by a newer version of Plinth")
                && message.contains("9999_from_a_newer_release"),
            "{args:?}: {message}"
        );
        assert!(!stdout(&out).contains("Plinth is ready"), "{args:?}");
    }
    let _ = std::fs::remove_dir_all(dir);
}

/// `plinth config check` prints the effective settings (the example file's, flags and
/// variables on top) with the database password hidden, and refuses a bad file.
#[test]
fn config_check_validates_and_hides_secrets() {
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/../../plinth.example.toml");
    let text = succeeded(&plinth(&["config", "check", example], None));
    assert!(text.contains("bind = 127.0.0.1:8080"), "{text}");
    assert!(
        text.contains("database_url = sqlite://./plinth-data/plinth.db"),
        "{text}"
    );
    assert!(text.contains("the settings are valid"), "{text}");

    let dir = temp_dir("config-check");
    let file = dir.join("plinth.toml");
    std::fs::write(
        &file,
        "database_url = \"postgres://plinth:hunter2secret@db.internal/plinth\"\n\
         signup = \"closed\"\nidle_timeout = \"2m\"\ntrusted_proxies = [\"10.0.0.0/8\"]\n",
    )
    .unwrap();
    let path = file.display().to_string();
    let text = succeeded(&plinth(
        &["config", "check", &path, "--bind", "0.0.0.0:9000"],
        None,
    ));
    assert!(
        !text.contains("hunter2secret"),
        "the password is hidden: {text}"
    );
    assert!(
        text.contains("database_url = postgres://plinth:***@db.internal/plinth"),
        "{text}"
    );
    assert!(
        text.contains("bind = 0.0.0.0:9000"),
        "a flag beats the file: {text}"
    );
    assert!(
        text.contains("signup = closed") && text.contains("idle_timeout = 120s"),
        "{text}"
    );
    assert!(text.contains("trusted_proxies = 10.0.0.0/8"), "{text}");

    for (bad, message) in [
        ("no_such_key = 1\n", "no_such_key"),
        ("idle_timeout = \"soon\"\n", "idle_timeout"),
        ("bind = \"not an address\"\n", "bind"),
        ("signup = \"maybe\"\n", "signup"),
    ] {
        std::fs::write(&file, bad).unwrap();
        let out = plinth(&["config", "check", &path], None);
        assert_eq!(out.status.code(), Some(1), "{bad}: {}", stdout(&out));
        assert!(stderr(&out).contains(message), "{bad}: {}", stderr(&out));
    }
    let out = plinth(&["config", "check", "/no/such/plinth.toml"], None);
    assert_eq!(out.status.code(), Some(1));
    let _ = std::fs::remove_dir_all(dir);
}
