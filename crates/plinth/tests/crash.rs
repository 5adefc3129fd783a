//! Crash consistency: `kill -9` the real binary while several clients change things at
//! once (org profile edits, invitations, token creation, renames), start it again on
//! the same database, and check what survived. Every change that was answered 2xx is
//! there, with exactly one audit entry; every change that was refused left nothing; a
//! change in flight at the kill (no answer) is there at most once; and every audit chain
//! verifies. On SQLite and PostgreSQL.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use common::{call, serve, temp_dir};
use plinth_store::test_support::{Backend, TestDb};
use reqwest::Method;
use serde_json::{Value, json};

const CLIENTS: usize = 4;

/// One change a client asked for, and how it can be found afterwards.
#[derive(Debug, Clone)]
enum Change {
    /// `acme`'s display name set to this value.
    Profile(String),
    /// This user invited to `acme`.
    Invite(String),
    /// A user token with this title, for the client's own user.
    Token { user: usize, title: String },
    /// The client's own org renamed to this handle.
    Rename { client: usize, handle: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// 2xx: must be there, once.
    Done,
    /// Any other answer: must not be there.
    Refused,
    /// No answer (the process died): there at most once.
    Unknown,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_keeps_every_acknowledged_change_after_kill_9() {
    crash_and_check(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_keeps_every_acknowledged_change_after_kill_9() {
    let db = TestDb::new(Backend::Postgres).await;
    crash_and_check(Some(db.url.clone())).await;
    db.cleanup().await;
}

async fn crash_and_check(database_url: Option<String>) {
    let dir = temp_dir("crash");
    // The tests' loopback is a trusted proxy, so each sign-up can come from an address
    // of its own: the per-address sign-up limit (10 a minute) is not what is tested.
    let mut args = vec![
        "--bind",
        "127.0.0.1:0",
        "--dns-bind",
        "127.0.0.1:0",
        "--trusted-proxies",
        "127.0.0.1/32",
    ];
    if let Some(url) = &database_url {
        args.extend(["--database-url", url.as_str()]);
    }
    let plinth = serve(&dir, &args);
    let api = format!("http://127.0.0.1:{}/api/v1", plinth.port);

    let ann = sign_up(&api, "ann").await;
    let post = |path: &str, token: &str, body: Value| {
        let (url, token) = (format!("{api}{path}"), token.to_owned());
        async move { call(Method::POST, url, Some(&token), Some(body)).await }
    };
    assert_eq!(post("/orgs", &ann, json!({"handle": "acme"})).await.0, 201);
    let mut users = Vec::new();
    for client in 0..CLIENTS {
        users.push(sign_up(&api, &format!("user{client}")).await);
        let org = json!({"handle": format!("own{client}")});
        assert_eq!(post("/orgs", &ann, org).await.0, 201);
    }
    for invitee in 0..(CLIENTS * 8) {
        sign_up(&api, &format!("guest{invitee}")).await;
    }

    // Load from every client until the kill; each records what it asked and the answer.
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();
    for (client, user) in users.iter().enumerate() {
        let (api, ann, user, stop) = (api.clone(), ann.clone(), user.clone(), stop.clone());
        tasks.push(tokio::spawn(async move {
            let http = reqwest::Client::builder()
                .timeout(Duration::from_secs(5))
                .build()
                .unwrap();
            let mut log = Vec::new();
            let mut own = format!("own{client}");
            for i in 0..8 {
                for kind in 0..4 {
                    if stop.load(Ordering::Relaxed) {
                        return log;
                    }
                    let (change, request) = match kind {
                        0 => {
                            let name = format!("edit {client}.{i}");
                            let req = http
                                .patch(format!("{api}/orgs/acme"))
                                .bearer_auth(&ann)
                                .json(&json!({"display_name": name}));
                            (Change::Profile(name), req)
                        }
                        1 => {
                            let guest = format!("guest{}", client * 8 + i);
                            let req = http
                                .post(format!("{api}/orgs/acme/members"))
                                .bearer_auth(&ann)
                                .json(&json!({"user": guest, "role": "member"}));
                            (Change::Invite(guest), req)
                        }
                        2 => {
                            let title = format!("token {client}.{i}");
                            let req = http
                                .post(format!("{api}/user/tokens"))
                                .bearer_auth(&user)
                                .json(&json!({"title": title}));
                            (
                                Change::Token {
                                    user: client,
                                    title,
                                },
                                req,
                            )
                        }
                        _ => {
                            let handle = format!("own{client}x{i}");
                            let req = http
                                .post(format!("{api}/orgs/{own}/handle"))
                                .bearer_auth(&ann)
                                .json(&json!({"handle": handle}));
                            (Change::Rename { client, handle }, req)
                        }
                    };
                    let outcome = match request.send().await {
                        Ok(answer) if answer.status().is_success() => Outcome::Done,
                        Ok(_) => Outcome::Refused,
                        Err(_) => Outcome::Unknown,
                    };
                    if let (Change::Rename { handle, .. }, Outcome::Done) = (&change, outcome) {
                        own = handle.clone();
                    }
                    log.push((change, outcome));
                    if outcome == Outcome::Unknown {
                        // The server is gone; nothing after this can be answered.
                        return log;
                    }
                }
            }
            log
        }));
    }
    // Let the clients get going, then kill the server under them.
    tokio::time::sleep(Duration::from_millis(700)).await;
    let mut plinth = plinth;
    plinth.child.kill().expect("kill -9");
    plinth.child.wait().unwrap();
    stop.store(true, Ordering::Relaxed);
    let mut changes = Vec::new();
    for task in tasks {
        changes.extend(task.await.unwrap());
    }
    drop(plinth);
    let done = changes.iter().filter(|(_, o)| *o == Outcome::Done).count();
    assert!(
        done >= CLIENTS,
        "the load did too little before the kill: {changes:?}"
    );

    // Start again on the same database and look at what is there.
    let plinth = serve(&dir, &args);
    let api = format!("http://127.0.0.1:{}/api/v1", plinth.port);
    let get = |path: String, token: String| {
        let api = api.clone();
        async move { call(Method::GET, format!("{api}{path}"), Some(&token), None).await }
    };
    let acme_log = export(&api, "acme", &ann).await;
    let mut own_logs = Vec::new();
    for client in 0..CLIENTS {
        let handle = final_handle(&changes, client);
        let (status, _) = get(format!("/orgs/{handle}"), ann.clone()).await;
        let in_flight = changes.iter().any(|(c, o)| {
            *o == Outcome::Unknown
                && matches!(c, Change::Rename { client: c2, .. } if *c2 == client)
        });
        if status != 200 {
            // The rename in flight at the kill committed: the org is under that name.
            assert!(in_flight, "own{client} is not at {handle}: {status}");
            let Some((Change::Rename { handle, .. }, _)) = changes.iter().rev().find(|(c, o)| {
                *o == Outcome::Unknown
                    && matches!(c, Change::Rename { client: c2, .. } if *c2 == client)
            }) else {
                unreachable!()
            };
            assert_eq!(get(format!("/orgs/{handle}"), ann.clone()).await.0, 200);
            own_logs.push(export(&api, handle, &ann).await);
        } else {
            own_logs.push(export(&api, &handle, &ann).await);
        }
    }
    let mut user_logs = Vec::new();
    for token in &users {
        user_logs.push(user_log(&api, token).await);
    }
    let members = get("/orgs/acme/members?limit=100".to_owned(), ann.clone())
        .await
        .1;
    let (_, acme) = get("/orgs/acme".to_owned(), ann.clone()).await;

    for (change, outcome) in &changes {
        let (entries, present) = match change {
            Change::Profile(name) => {
                let entries = acme_log
                    .iter()
                    .filter(|e| {
                        e["action"] == "org.update"
                            && data(e)["display_name"]["after"] == name.as_str()
                    })
                    .count();
                (entries, None)
            }
            Change::Invite(guest) => {
                let entries = acme_log
                    .iter()
                    .filter(|e| {
                        e["action"] == "org.member.invite" && e["target_handle"] == guest.as_str()
                    })
                    .count();
                let listed = members["items"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|m| m["user"]["handle"] == guest.as_str());
                (entries, Some(listed))
            }
            Change::Token { user, title } => {
                let entries = user_logs[*user]
                    .iter()
                    .filter(|e| e["action"] == "token.create" && data(e)["title"] == title.as_str())
                    .count();
                let (_, tokens) =
                    get("/user/tokens?limit=100".to_owned(), users[*user].clone()).await;
                let listed = tokens["items"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|t| t["title"] == title.as_str());
                (entries, Some(listed))
            }
            Change::Rename { client, handle } => {
                let entries = own_logs[*client]
                    .iter()
                    .filter(|e| {
                        e["action"] == "org.handle.update"
                            && data(e)["handle"]["after"] == handle.as_str()
                    })
                    .count();
                (entries, None)
            }
        };
        match outcome {
            Outcome::Done => {
                assert_eq!(entries, 1, "{change:?} was acknowledged: one entry");
                assert_ne!(
                    present,
                    Some(false),
                    "{change:?} was acknowledged but is gone"
                );
            }
            Outcome::Refused => {
                assert_eq!(entries, 0, "{change:?} was refused yet recorded");
                assert_ne!(present, Some(true), "{change:?} was refused yet is there");
            }
            Outcome::Unknown => {
                assert!(entries <= 1, "{change:?} recorded twice");
                if let Some(present) = present {
                    assert_eq!(present, entries == 1, "{change:?}: state and log disagree");
                }
            }
        }
    }
    // The display name is the last one recorded.
    let last_name = acme_log
        .iter()
        .rev()
        .find(|e| e["action"] == "org.update")
        .map(|e| data(e)["display_name"]["after"].clone());
    if let Some(name) = last_name {
        assert_eq!(acme["display_name"], name);
    }
    drop(plinth);

    // Every chain verifies, with the server stopped.
    let url = database_url
        .unwrap_or_else(|| format!("sqlite://{}", dir.join("plinth-data/plinth.db").display()));
    let verify = std::process::Command::new(env!("CARGO_BIN_EXE_plinth"))
        .args(["admin", "audit", "verify", "--database-url", &url])
        .env("PLINTH_LOG", "warn")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&verify.stdout);
    assert!(
        verify.status.success() && text.contains("all intact"),
        "{text}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

/// The handle the client's own org had after its last acknowledged rename.
fn final_handle(changes: &[(Change, Outcome)], client: usize) -> String {
    changes
        .iter()
        .rev()
        .find_map(|(c, o)| match c {
            Change::Rename { client: c2, handle } if *c2 == client && *o == Outcome::Done => {
                Some(handle.clone())
            }
            _ => None,
        })
        .unwrap_or_else(|| format!("own{client}"))
}

/// An entry's `data`, whether the export gives it as an object or as JSON text.
fn data(entry: &Value) -> Value {
    match &entry["data"] {
        Value::String(text) => serde_json::from_str(text).unwrap_or(Value::Null),
        other => other.clone(),
    }
}

/// The org's whole log, oldest first.
async fn export(api: &str, org: &str, token: &str) -> Vec<Value> {
    let answer = reqwest::Client::new()
        .get(format!("{api}/orgs/{org}/audit-log/export?format=jsonl"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = answer.status();
    let text = answer.text().await.unwrap();
    assert_eq!(status, 200, "export of {org}: {text}");
    let mut entries: Vec<Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    entries.sort_by_key(|e| e["seq"].as_i64());
    entries
}

/// The user's own log (logins, tokens), oldest first.
async fn user_log(api: &str, token: &str) -> Vec<Value> {
    let mut entries = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut url = format!("{api}/user/audit-log?limit=100");
        if let Some(c) = &cursor {
            url.push_str(&format!("&cursor={c}"));
        }
        let (status, page) = call(Method::GET, url, Some(token), None).await;
        assert_eq!(status, 200);
        entries.extend(page["items"].as_array().unwrap().iter().cloned());
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    entries.reverse();
    entries
}

/// Signs `handle` up from an address of its own (see `--trusted-proxies` above) and logs
/// in: the token.
async fn sign_up(api: &str, handle: &str) -> String {
    let client = reqwest::Client::new();
    let from = format!(
        "198.51.100.{}",
        handle.bytes().map(u32::from).sum::<u32>() % 250 + 1
    );
    let signed_up = client
        .post(format!("{api}/signup"))
        .header("x-forwarded-for", &from)
        .json(&json!({
            "handle": handle, "email": format!("{handle}@example.com"), "password": "correct horse",
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        signed_up.status(),
        201,
        "{}",
        signed_up.text().await.unwrap()
    );
    let login: Value = client
        .post(format!("{api}/login"))
        .header("x-forwarded-for", &from)
        .json(&json!({"login": handle, "password": "correct horse"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    login["token"].as_str().expect("a token").to_owned()
}
