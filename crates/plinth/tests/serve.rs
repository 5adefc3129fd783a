//! The real binary: `plinth serve` with no settings, the account flow over HTTP, graceful
//! shutdown on SIGTERM, `plinth migrate`, and settings from `plinth.toml`.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

mod common;

use common::{call, serve, signup_and_login, sigterm_and_wait, temp_dir};
use serde_json::json;

#[tokio::test]
async fn default_serve_runs_the_account_flow_and_stops_on_sigterm() {
    let dir = temp_dir("default");
    let plinth = serve(
        &dir,
        &["--bind", "127.0.0.1:0", "--dns-bind", "127.0.0.1:0"],
    );
    assert!(
        dir.join("plinth-data/plinth.db").exists(),
        "the default SQLite file is created"
    );
    let api = format!("http://127.0.0.1:{}/api/v1", plinth.port);
    use reqwest::Method;

    let (status, _) = call(
        Method::POST,
        format!("{api}/signup"),
        None,
        Some(json!({"handle": "ann", "email": "ann@example.com", "password": "correct horse"})),
    )
    .await;
    assert_eq!(status, 201);
    let (status, login) = call(
        Method::POST,
        format!("{api}/login"),
        None,
        Some(json!({"login": "ann", "password": "correct horse"})),
    )
    .await;
    assert_eq!(status, 200);
    let session = login["token"].as_str().unwrap().to_owned();
    let (status, created) = call(
        Method::POST,
        format!("{api}/user/tokens"),
        Some(&session),
        Some(json!({"title": "curl"})),
    )
    .await;
    assert_eq!(status, 201);
    let api_token = created["token"].as_str().unwrap().to_owned();
    let (status, me) = call(Method::GET, format!("{api}/user"), Some(&api_token), None).await;
    assert_eq!(status, 200);
    assert_eq!(me["handle"], "ann");
    // A secret pasted where an id belongs: at DEBUG the path is logged, the token not.
    let (status, _) = call(
        Method::DELETE,
        format!("{api}/user/tokens/{api_token}"),
        Some(&session),
        None,
    )
    .await;
    assert_eq!(status, 404);

    // Metrics: on their own listener, not on the public port.
    let public = reqwest::get(format!("http://127.0.0.1:{}/metrics", plinth.port))
        .await
        .unwrap();
    assert_eq!(public.status(), 404);
    let metrics = reqwest::get(&plinth.metrics).await.unwrap();
    assert_eq!(metrics.status(), 200);
    let text = metrics.text().await.unwrap();
    assert!(text.contains("plinth_http_requests_total"), "{text}");

    let stderr_path = plinth.stderr_path.clone();
    let status = sigterm_and_wait(plinth);
    assert!(status.success(), "clean exit on SIGTERM: {status:?}");
    let logs = std::fs::read_to_string(stderr_path).unwrap();
    assert!(logs.contains("shutting down"), "{logs}");
    // `PLINTH_LOG=debug` (as `serve` sets it): a line per answer, in a span with the
    // request's id, method and path.
    let answered = logs
        .lines()
        .find(|line| line.contains("path=/api/v1/user}") && line.contains("finished processing"))
        .unwrap_or_else(|| panic!("no line for GET /api/v1/user: {logs}"));
    assert!(
        answered.contains("request_id=") && answered.contains("method=GET"),
        "{answered}"
    );
    assert!(answered.contains("status=200"), "{answered}");
    assert!(logs.contains("path=/api/v1/user/tokens/[token]"), "{logs}");
    for secret in [&session, &api_token, &"correct horse".to_owned()] {
        assert!(!logs.contains(secret.as_str()), "a secret reached the logs");
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn migrate_and_settings_file() {
    let dir = temp_dir("migrate");
    let db = dir.join("other.db");
    let url = format!("sqlite://{}", db.display());
    let out = Command::new(env!("CARGO_BIN_EXE_plinth"))
        .args(["migrate", "--database-url", &url])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(db.exists());

    // plinth.toml is read from the working directory; a flag beats it.
    std::fs::write(
        dir.join("plinth.toml"),
        format!("database_url = \"{url}\"\nbind = \"127.0.0.1:1\"\n"),
    )
    .unwrap();
    let plinth = serve(
        &dir,
        &["--bind", "127.0.0.1:0", "--dns-bind", "127.0.0.1:0"],
    );
    assert_ne!(plinth.port, 1);
    assert!(
        !dir.join("plinth-data").exists(),
        "the file's database_url was used"
    );
    drop(plinth);

    std::fs::write(dir.join("plinth.toml"), "no_such_setting = 1\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_plinth"))
        .args(["serve", "--bind", "127.0.0.1:0"])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no_such_setting"));
    let _ = std::fs::remove_dir_all(dir);
}

/// Sums the stored usage of `org_id` by (workspace, metric), whatever the day.
async fn stored_usage(
    db: &Path,
    org_id: &str,
) -> std::collections::BTreeMap<(String, String), i64> {
    let store = plinth_store::Store::connect(&format!("sqlite://{}", db.display()))
        .await
        .expect("the server's SQLite file opens");
    let rows = store
        .usage(org_id, "0000-01-01", "9999-12-31")
        .await
        .expect("usage rows");
    store.close().await;
    let mut sums = std::collections::BTreeMap::new();
    for row in rows {
        *sums.entry((row.workspace_id, row.metric)).or_insert(0) += row.value;
    }
    sums
}

#[tokio::test]
async fn usage_counted_in_memory_is_written_on_sigterm() {
    let dir = temp_dir("usage");
    let started = Instant::now();
    let plinth = serve(
        &dir,
        &["--bind", "127.0.0.1:0", "--dns-bind", "127.0.0.1:0"],
    );
    let db = dir.join("plinth-data/plinth.db");
    let base = format!("http://127.0.0.1:{}", plinth.port);
    let api = format!("{base}/api/v1");
    use reqwest::Method;

    let token = signup_and_login(&api, "ann").await;
    let (status, org) = call(
        Method::POST,
        format!("{api}/orgs"),
        Some(&token),
        Some(json!({"handle": "acme"})),
    )
    .await;
    assert_eq!(status, 201);
    let org_id = org["id"].as_str().unwrap().to_owned();
    // Four API calls on the org: the creation of prod and three reads.
    let (status, ws) = call(
        Method::POST,
        format!("{api}/orgs/acme/workspaces"),
        Some(&token),
        Some(json!({"handle": "prod"})),
    )
    .await;
    assert_eq!(status, 201);
    let ws_id = ws["id"].as_str().unwrap().to_owned();
    for _ in 0..3 {
        let (status, _) = call(Method::GET, format!("{api}/orgs/acme"), Some(&token), None).await;
        assert_eq!(status, 200);
    }
    // Two visits to the workspace's host name.
    let client = reqwest::Client::new();
    for _ in 0..2 {
        let page = client
            .get(format!("{base}/"))
            .header("host", "acme-prod.plinth.localhost")
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), 200);
    }
    // Counted in memory only: unless the test was slow enough for the periodic flush
    // (every 10 s), nothing is in the database yet.
    if started.elapsed() < Duration::from_secs(9) {
        assert!(stored_usage(&db, &org_id).await.is_empty());
    }

    let status = sigterm_and_wait(plinth);
    assert!(status.success(), "clean exit on SIGTERM: {status:?}");
    let usage = stored_usage(&db, &org_id).await;
    let get = |ws: &str, metric: &str| usage.get(&(ws.to_owned(), metric.to_owned())).copied();
    assert_eq!(get("", "api_requests"), Some(4), "{usage:?}");
    assert_eq!(get(&ws_id, "workspace_requests"), Some(2), "{usage:?}");
    // The last snapshot, taken at shutdown.
    assert_eq!(get("", "members"), Some(1), "{usage:?}");
    assert_eq!(get("", "workspaces"), Some(1), "{usage:?}");
    let _ = std::fs::remove_dir_all(dir);
}

/// `plinth admin audit verify` reads the chains straight from the database: green after
/// real activity, and it names the entry an SQL edit broke (exit status 1).
#[tokio::test]
async fn admin_audit_verify_finds_a_tampered_entry() {
    use reqwest::Method;
    let dir = temp_dir("audit");
    let plinth = serve(
        &dir,
        &["--bind", "127.0.0.1:0", "--dns-bind", "127.0.0.1:0"],
    );
    let api = format!("http://127.0.0.1:{}/api/v1", plinth.port);
    let token = signup_and_login(&api, "ann").await;
    call(
        Method::POST,
        format!("{api}/orgs"),
        Some(&token),
        Some(json!({"handle": "acme"})),
    )
    .await;
    for ws in ["a", "b"] {
        let (status, _) = call(
            Method::POST,
            format!("{api}/orgs/acme/workspaces"),
            Some(&token),
            Some(json!({"handle": ws})),
        )
        .await;
        assert_eq!(status, 201);
    }
    assert!(sigterm_and_wait(plinth).success());

    let url = format!("sqlite://{}", dir.join("plinth-data/plinth.db").display());
    let verify = |org: Option<&str>| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_plinth"));
        cmd.args(["admin", "audit", "verify", "--database-url", &url]);
        if let Some(org) = org {
            cmd.args(["--org", org]);
        }
        cmd.env("PLINTH_LOG", "warn").output().unwrap()
    };
    let out = verify(None);
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "{text}");
    assert!(text.contains("2 chain(s) checked, all intact"), "{text}");
    assert!(text.contains("3 entries"), "the org's log: {text}");

    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&url).await.unwrap();
    sqlx::query("UPDATE audit_log SET target_handle = 'c' WHERE target_handle = 'b'")
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    let out = verify(Some("acme"));
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("BROKEN") && text.contains("at entry 3"),
        "{text}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

/// `plinth admin org restore` brings a deleted org back from the database; a second
/// restore, or an unknown handle, fails with a clear message.
#[tokio::test]
async fn admin_org_restore_brings_a_deleted_org_back() {
    use reqwest::Method;
    let dir = temp_dir("restore");
    let args = ["--bind", "127.0.0.1:0", "--dns-bind", "127.0.0.1:0"];
    let plinth = serve(&dir, &args);
    let api = format!("http://127.0.0.1:{}/api/v1", plinth.port);
    let token = signup_and_login(&api, "ann").await;
    call(
        Method::POST,
        format!("{api}/orgs"),
        Some(&token),
        Some(json!({"handle": "acme"})),
    )
    .await;
    let (status, _) = call(
        Method::DELETE,
        format!("{api}/orgs/acme?confirm=acme"),
        Some(&token),
        None,
    )
    .await;
    assert_eq!(status, 204);
    assert!(sigterm_and_wait(plinth).success());

    let url = format!("sqlite://{}", dir.join("plinth-data/plinth.db").display());
    let admin = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_plinth"))
            .args(["admin", "org"])
            .args(args)
            .args(["--database-url", &url])
            .env("PLINTH_LOG", "warn")
            .output()
            .unwrap()
    };
    let out = admin(&["restore", "acme"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("restored organization \"acme\""));
    let again = admin(&["restore", "acme"]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("no deleted organization"));
    let purge = admin(&["purge-expired"]);
    assert!(purge.status.success());
    assert!(String::from_utf8_lossy(&purge.stdout).contains("purged 0"));

    let plinth = serve(&dir, &args);
    let api = format!("http://127.0.0.1:{}/api/v1", plinth.port);
    let (status, org) = call(Method::GET, format!("{api}/orgs/acme"), Some(&token), None).await;
    assert_eq!(status, 200, "{org}");
    assert!(sigterm_and_wait(plinth).success());
    let _ = std::fs::remove_dir_all(dir);
}

/// `plinth admin org restore` on the SQLite file of a running `plinth serve`: the server
/// finds the restore in the invalidation log at its next poll, and its DNS answers the
/// org's workspace names within a second of the command finishing (issue 17).
#[tokio::test]
async fn admin_restore_reaches_a_running_sqlite_server_within_a_second() {
    use hickory_server::proto::op::ResponseCode;
    use hickory_server::proto::rr::RecordType;
    use plinth_server::testing::dns::udp_query;
    use reqwest::Method;

    let dir = temp_dir("restore-live");
    let args = ["--bind", "127.0.0.1:0", "--dns-bind", "127.0.0.1:0"];
    let plinth = serve(&dir, &args);
    let api = format!("http://127.0.0.1:{}/api/v1", plinth.port);
    let token = signup_and_login(&api, "ann").await;
    for (path, body) in [
        ("/orgs", json!({"handle": "acme"})),
        ("/orgs/acme/workspaces", json!({"handle": "prod"})),
        ("/orgs/acme/workspaces", json!({"handle": "dev"})),
    ] {
        let (status, body) = call(
            Method::POST,
            format!("{api}{path}"),
            Some(&token),
            Some(body),
        )
        .await;
        assert_eq!(status, 201, "{body}");
    }
    let names = ["acme-prod.plinth.localhost.", "acme-dev.plinth.localhost."];
    let dns = plinth.dns;
    let answers = |code: ResponseCode| async move {
        for name in names {
            if udp_query(dns, name, RecordType::A)
                .await
                .metadata
                .response_code
                != code
            {
                return false;
            }
        }
        true
    };
    assert!(answers(ResponseCode::NoError).await);
    let (status, _) = call(
        Method::DELETE,
        format!("{api}/orgs/acme?confirm=acme"),
        Some(&token),
        None,
    )
    .await;
    assert_eq!(status, 204);
    assert!(answers(ResponseCode::NXDomain).await);

    let url = format!("sqlite://{}", dir.join("plinth-data/plinth.db").display());
    let out = Command::new(env!("CARGO_BIN_EXE_plinth"))
        .args(["admin", "org", "restore", "acme", "--database-url", &url])
        .env("PLINTH_LOG", "warn")
        .output()
        .unwrap();
    let restored = Instant::now();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    while !answers(ResponseCode::NoError).await {
        assert!(
            restored.elapsed() < Duration::from_secs(1),
            "the running server's DNS did not answer the restored names within 1 s"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let took = restored.elapsed();
    assert!(took < Duration::from_secs(1), "took {took:?}");
    eprintln!("the restore reached the running server's DNS {took:?} after the command exited");
    let (status, org) = call(Method::GET, format!("{api}/orgs/acme"), Some(&token), None).await;
    assert_eq!(status, 200, "{org}");
    assert!(sigterm_and_wait(plinth).success());
    let _ = std::fs::remove_dir_all(dir);
}

/// A SIGTERM while 100 connections hold half a request head each: the server closes them
/// at the shutdown deadline (2 s here) instead of waiting for ever, and still writes the
/// usage it counted in memory and the token uses it noted.
#[tokio::test]
async fn sigterm_with_100_half_open_connections_exits_by_the_deadline_and_keeps_counts() {
    use reqwest::Method;
    use tokio::io::AsyncWriteExt;
    let dir = temp_dir("half-open");
    let plinth = serve(
        &dir,
        &[
            "--bind",
            "127.0.0.1:0",
            "--dns-bind",
            "127.0.0.1:0",
            "--shutdown-timeout",
            "2s",
            // Longer than the test: only the shutdown deadline can free them.
            "--header-read-timeout",
            "5m",
        ],
    );
    let db = dir.join("plinth-data/plinth.db");
    let api = format!("http://127.0.0.1:{}/api/v1", plinth.port);
    let token = signup_and_login(&api, "ann").await;
    let (status, org) = call(
        Method::POST,
        format!("{api}/orgs"),
        Some(&token),
        Some(json!({"handle": "acme"})),
    )
    .await;
    assert_eq!(status, 201);
    let org_id = org["id"].as_str().unwrap().to_owned();
    for _ in 0..5 {
        let (status, _) = call(Method::GET, format!("{api}/orgs/acme"), Some(&token), None).await;
        assert_eq!(status, 200);
    }
    let mut half_open = Vec::new();
    for _ in 0..100 {
        let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", plinth.port))
            .await
            .unwrap();
        stream
            .write_all(b"GET /api/v1/orgs/acme HTTP/1.1\r\nHost: localhost\r\nX-Slow: ")
            .await
            .unwrap();
        half_open.push(stream);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;

    let asked = Instant::now();
    let status = sigterm_and_wait(plinth);
    let took = asked.elapsed();
    assert!(status.success(), "clean exit on SIGTERM: {status:?}");
    eprintln!(
        "SIGTERM with {} half-open connections: exited after {took:?}",
        half_open.len()
    );
    assert!(
        took >= Duration::from_millis(1800) && took < Duration::from_secs(5),
        "exited after {took:?}, the deadline is 2 s"
    );
    let usage = stored_usage(&db, &org_id).await;
    let api_requests = usage
        .get(&(String::new(), "api_requests".to_owned()))
        .copied();
    eprintln!("api_requests stored: {api_requests:?} of 5");
    assert_eq!(api_requests, Some(5), "{usage:?}");

    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&format!("sqlite://{}", db.display()))
        .await
        .unwrap();
    let (used,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM tokens WHERE last_used_at IS NOT NULL")
            .fetch_one(&pool)
            .await
            .unwrap();
    pool.close().await;
    assert_eq!(used, 1, "the session's last use was written at shutdown");
    drop(half_open);
    let _ = std::fs::remove_dir_all(dir);
}

/// The resident memory of process `pid`, in bytes (Linux).
fn rss_bytes(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS in /proc/PID/status");
    kib * 1024
}

/// 200 concurrent logins, twice: each hash needs 19 MiB, but the workers reuse their own
/// buffers, so the server stays far below 100 MiB (it grew to 589 MB and stayed there
/// when every hash allocated its own).
#[tokio::test]
async fn rss_stays_under_100_mib_after_200_concurrent_logins() {
    let dir = temp_dir("rss");
    let plinth = serve(
        &dir,
        &["--bind", "127.0.0.1:0", "--dns-bind", "127.0.0.1:0"],
    );
    let api = format!("http://127.0.0.1:{}/api/v1", plinth.port);
    signup_and_login(&api, "ann").await;
    let client = reqwest::Client::new();
    let mut statuses = std::collections::BTreeMap::new();
    for round in 0..2 {
        let logins = (0..200).map(|i| {
            let client = client.clone();
            let url = format!("{api}/login");
            // Right and wrong passwords, by handle and by email.
            let (login, password) = match i % 4 {
                0 => ("ann".to_owned(), "correct horse"),
                1 => ("ann@example.com".to_owned(), "correct horse"),
                2 => (format!("nobody{i}"), "wrong password"),
                _ => (format!("nobody{i}@example.com"), "wrong password"),
            };
            let from = format!("10.{round}.{}.{}", i / 250, i % 250);
            async move {
                client
                    .post(url)
                    .header("x-forwarded-for", from)
                    .json(&json!({"login": login, "password": password}))
                    .send()
                    .await
                    .map(|r| r.status().as_u16())
                    .unwrap_or(0)
            }
        });
        for status in futures_util::future::join_all(logins).await {
            *statuses.entry((round, status)).or_insert(0) += 1;
        }
    }
    let rss = rss_bytes(plinth.child.id());
    eprintln!(
        "after 2 x 200 concurrent logins: RSS {} MiB, answers {statuses:?}",
        rss >> 20
    );
    assert!(
        statuses.keys().all(|(_, s)| [200, 401, 429].contains(s)),
        "{statuses:?}"
    );
    assert!(rss < 100 << 20, "RSS {} MiB", rss >> 20);
    drop(plinth);
    let _ = std::fs::remove_dir_all(dir);
}
