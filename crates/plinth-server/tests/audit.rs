//! The audit log through the API: one entry per action, in the right log, with actor,
//! IP, target and before/after; rollback when the entry can't be written; filters,
//! pages, export and verify. On SQLite and PostgreSQL.

use std::time::Duration;

use plinth_server::testing::{PASSWORD, TestApp};
use plinth_store::test_support::Backend;
use reqwest::Method;
use serde_json::{Value, json};

async fn app(backend: Backend) -> TestApp {
    TestApp::new(backend).await
}

plinth_store::on_both_backends!(app =>
    every_action_records_one_entry,
    an_entry_that_cannot_be_written_rolls_the_change_back,
    filters_are_validated_and_pages_cover_the_log,
    export_streams_csv_and_json_lines,
    verify_reports_tampering,
);

async fn raw_pool(app: &TestApp) -> sqlx::AnyPool {
    sqlx::any::install_default_drivers();
    sqlx::AnyPool::connect(app.db.store.url())
        .await
        .expect("a second connection")
}

/// Every entry of a log, oldest first.
async fn entries(app: &TestApp, path: &str, token: &str) -> Vec<Value> {
    let mut all = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let url = match &cursor {
            Some(c) => format!("{path}?limit=100&cursor={c}"),
            None => format!("{path}?limit=100"),
        };
        let page = app.get(&url, token).await;
        page.assert_status(200);
        all.extend(page.body["items"].as_array().unwrap().iter().cloned());
        match page.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    all.reverse();
    all
}

fn one<'a>(log: &'a [Value], action: &str) -> &'a Value {
    let found: Vec<&Value> = log.iter().filter(|e| e["action"] == action).collect();
    assert_eq!(found.len(), 1, "exactly one {action} in {log:#?}");
    found[0]
}

#[track_caller]
fn check(entry: &Value, actor: Option<&str>, target: Option<&str>) {
    assert_eq!(entry["actor_handle"].as_str(), actor, "{entry:#}");
    assert_eq!(entry["target_handle"].as_str(), target, "{entry:#}");
    assert_eq!(entry["actor_ip"], "127.0.0.1", "{entry:#}");
    assert!(
        entry["request_id"].as_str().is_some_and(|r| !r.is_empty()),
        "{entry:#}"
    );
    assert_eq!(entry["hash"].as_str().map(str::len), Some(64));
}

async fn every_action_records_one_entry(app: &TestApp) {
    let ann = app.user("ann").await;
    app.login("ann", "wrong password!").await.assert_status(401);
    let (token_id, secret) = app.user_token(&ann, "ci").await;
    app.patch(
        &format!("/api/v1/user/tokens/{token_id}"),
        &ann,
        json!({"status": "inactive", "title": "ci-old"}),
    )
    .await
    .assert_status(200);
    app.delete(&format!("/api/v1/user/tokens/{token_id}"), &ann)
        .await
        .assert_status(204);
    app.patch("/api/v1/user", &ann, json!({"display_name": "Ann A."}))
        .await
        .assert_status(200);

    app.create_org(&ann, "acme").await;
    app.patch(
        "/api/v1/orgs/acme",
        &ann,
        json!({"display_name": "Acme Inc."}),
    )
    .await
    .assert_status(200);
    let bob = app.user("bob").await;
    app.invite(&ann, "acme", "bob", "member")
        .await
        .assert_status(201);
    app.accept(&bob, "acme").await.assert_status(200);
    app.patch(
        "/api/v1/orgs/acme/members/bob",
        &ann,
        json!({"role": "owner"}),
    )
    .await
    .assert_status(200);
    let cy = app.user("cy").await;
    app.invite(&ann, "acme", "cy", "member")
        .await
        .assert_status(201);
    app.decline(&cy, "acme").await.assert_status(204);
    app.create_workspace(&ann, "acme", "prod").await;
    app.patch(
        "/api/v1/orgs/acme/workspaces/prod",
        &ann,
        json!({"display_name": "Production"}),
    )
    .await
    .assert_status(200);
    app.add_workspace_member(&ann, "acme", "prod", "bob", "reader")
        .await
        .assert_status(201);
    app.patch(
        "/api/v1/orgs/acme/workspaces/prod/members/bob",
        &ann,
        json!({"role": "operator"}),
    )
    .await
    .assert_status(200);
    app.delete("/api/v1/orgs/acme/workspaces/prod/members/bob", &ann)
        .await
        .assert_status(204);
    app.delete("/api/v1/orgs/acme/workspaces/prod", &ann)
        .await
        .assert_status(204);
    app.delete("/api/v1/orgs/acme/members/bob", &ann)
        .await
        .assert_status(204);

    let org_log = entries(app, "/api/v1/orgs/acme/audit-log", &ann).await;
    let actions: Vec<&str> = org_log
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "org.create",
            "org.update",
            "org.member.invite",
            "org.member.accept",
            "org.member.update",
            "org.member.invite",
            "org.member.decline",
            "workspace.create",
            "workspace.update",
            "workspace.member.add",
            "workspace.member.update",
            "workspace.member.delete",
            "workspace.delete",
            "org.member.delete",
        ]
    );
    for e in &org_log {
        assert_eq!(e["org_handle"], "acme");
    }
    check(one(&org_log, "org.create"), Some("ann"), Some("acme"));
    let update = one(&org_log, "org.update");
    check(update, Some("ann"), Some("acme"));
    assert_eq!(
        update["data"],
        json!({"display_name": {"before": "acme", "after": "Acme Inc."}})
    );
    check(one(&org_log, "org.member.accept"), Some("bob"), Some("bob"));
    let role = one(&org_log, "org.member.update");
    check(role, Some("ann"), Some("bob"));
    assert_eq!(
        role["data"],
        json!({"role": {"before": "member", "after": "owner"}})
    );
    check(one(&org_log, "org.member.decline"), Some("cy"), Some("cy"));
    let ws = one(&org_log, "workspace.update");
    check(ws, Some("ann"), Some("prod"));
    assert_eq!(ws["data"]["display_name"]["after"], "Production");
    check(
        one(&org_log, "workspace.member.update"),
        Some("ann"),
        Some("bob"),
    );
    check(one(&org_log, "org.member.delete"), Some("ann"), Some("bob"));

    app.request(Method::POST, "/api/v1/logout", Some(&ann), None)
        .await
        .assert_status(204);
    let ann = app.token_for("ann").await;
    app.request(Method::POST, "/api/v1/user/reset-auth", Some(&ann), None)
        .await
        .assert_status(204);
    let ann = app.token_for("ann").await;
    // Two CLI logins: one approved and used, one denied.
    let approved = app.device_code("plinth-cli").await;
    app.post(
        "/api/v1/device/approve",
        &ann,
        json!({"user_code": approved["user_code"]}),
    )
    .await
    .assert_status(200);
    let denied = app.device_code("plinth-cli").await;
    app.post(
        "/api/v1/device/deny",
        &ann,
        json!({"user_code": denied["user_code"]}),
    )
    .await
    .assert_status(200);
    let cli = app
        .device_token(approved["device_code"].as_str().unwrap(), "plinth-cli")
        .await;
    cli.assert_status(200);
    let user_log = entries(app, "/api/v1/user/audit-log", &ann).await;
    let actions: Vec<&str> = user_log
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "auth.signup",
            "auth.login",
            "auth.login.failed",
            "token.create",
            "token.update",
            "token.delete",
            "user.update",
            "auth.logout",
            "auth.login",
            "user.auth.reset",
            "auth.login",
            "auth.device.approve",
            "auth.device.deny",
            "auth.login",
        ]
    );
    let approve = one(&user_log, "auth.device.approve");
    check(approve, Some("ann"), None);
    assert_eq!(
        approve["data"],
        json!({"client_id": "plinth-cli", "user_code": approved["user_code"]})
    );
    check(one(&user_log, "auth.device.deny"), Some("ann"), None);
    let cli_login = user_log.last().unwrap();
    assert_eq!(cli_login["data"]["via"], "device");
    assert_eq!(cli_login["data"]["client_id"], "plinth-cli");
    assert_eq!(user_log[1]["data"]["via"], "password");
    let failed = one(&user_log, "auth.login.failed");
    check(failed, None, Some("ann"));
    let token_update = one(&user_log, "token.update");
    check(token_update, Some("ann"), Some("ci-old"));
    assert_eq!(
        token_update["data"],
        json!({
            "title": {"before": "ci", "after": "ci-old"},
            "status": {"before": "active", "after": "inactive"},
        })
    );
    assert_eq!(
        one(&user_log, "user.update")["data"],
        json!({"display_name": {"before": "ann", "after": "Ann A."}})
    );
    // Secrets never reach the log: not the token, not the password, not a hash of either.
    let all = format!("{user_log:?}{org_log:?}");
    assert!(!all.contains(&secret));
    assert!(!all.contains(cli.body["access_token"].as_str().unwrap()));
    assert!(!all.contains(approved["device_code"].as_str().unwrap()));
    assert!(!all.contains(PASSWORD) && !all.contains("argon2"));
    // Bob's own log holds only his own events.
    let bob = app.token_for("bob").await;
    let bob_log = entries(app, "/api/v1/user/audit-log", &bob).await;
    assert!(
        !bob_log.is_empty() && bob_log.iter().all(|e| e["actor_handle"] == "bob"),
        "{bob_log:#?}"
    );
    let verdict = app.get("/api/v1/orgs/acme/audit-log/verify", &ann).await;
    verdict.assert_status(200);
    assert_eq!(verdict.body["ok"], true);
    assert_eq!(verdict.body["entries"], 14);
}

async fn an_entry_that_cannot_be_written_rolls_the_change_back(app: &TestApp) {
    let ann = app.user("ann").await;
    app.create_org(&ann, "acme").await;
    let pool = raw_pool(app).await;
    sqlx::query("DROP TABLE audit_log")
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;

    let res = app
        .patch(
            "/api/v1/orgs/acme",
            &ann,
            json!({"display_name": "Changed"}),
        )
        .await;
    res.assert_problem(500, "internal");
    app.post(
        "/api/v1/orgs/acme/workspaces",
        &ann,
        json!({"handle": "prod"}),
    )
    .await
    .assert_problem(500, "internal");
    app.patch("/api/v1/user", &ann, json!({"display_name": "Changed"}))
        .await
        .assert_problem(500, "internal");
    let org = app.get("/api/v1/orgs/acme", &ann).await;
    assert_eq!(
        org.body["display_name"], "acme",
        "the change was rolled back"
    );
    let list = app.get("/api/v1/orgs/acme/workspaces", &ann).await;
    assert_eq!(list.body["items"], json!([]));
    assert_eq!(
        app.get("/api/v1/user", &ann).await.body["display_name"],
        "ann"
    );
    // The workspace is not in DNS either.
    assert!(app.state().directory.get("acme-prod").is_none());
}

async fn filters_are_validated_and_pages_cover_the_log(app: &TestApp) {
    let ann = app.user("ann").await;
    app.create_org(&ann, "acme").await;
    for i in 0..6 {
        app.user(&format!("u{i}")).await;
        app.invite(&ann, "acme", &format!("u{i}"), "member")
            .await
            .assert_status(201);
        app.create_workspace(&ann, "acme", &format!("w{i}")).await;
    }
    let base = "/api/v1/orgs/acme/audit-log";
    for bad in [
        "since=yesterday",
        "until=2026-13-01T00:00:00Z",
        "action=Org.*",
        "action=*",
        "actor=-x",
        "limit=0",
        "limit=101",
        "cursor=nope",
        "colour=blue",
    ] {
        let res = app.get(&format!("{base}?{bad}"), &ann).await;
        res.assert_problem(400, "validation");
    }
    let invites = app.get(&format!("{base}?action=org.member.*"), &ann).await;
    assert_eq!(invites.body["items"].as_array().unwrap().len(), 6);
    let exact = app
        .get(&format!("{base}?action=workspace.create&limit=100"), &ann)
        .await;
    assert_eq!(exact.body["items"].as_array().unwrap().len(), 6);
    let target = app.get(&format!("{base}?target=U3"), &ann).await;
    let items = target.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["target_handle"], "u3");
    let by_id = app
        .get(
            &format!("{base}?target={}", items[0]["target_id"].as_str().unwrap()),
            &ann,
        )
        .await;
    assert_eq!(by_id.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(
        app.get(&format!("{base}?actor=nobody"), &ann).await.body["items"],
        json!([])
    );
    let future = app
        .get(&format!("{base}?since=2999-01-01T00:00:00Z"), &ann)
        .await;
    assert_eq!(future.body["items"], json!([]));
    let past = app
        .get(&format!("{base}?until=2000-01-01T00:00:00%2B01:00"), &ann)
        .await;
    assert_eq!(past.body["items"], json!([]));

    let all: Vec<Value> = entries(app, base, &ann).await;
    assert_eq!(all.len(), 13);
    for limit in 1..=7 {
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let url = match &cursor {
                Some(c) => format!("{base}?limit={limit}&cursor={c}"),
                None => format!("{base}?limit={limit}"),
            };
            let page = app.get(&url, &ann).await;
            page.assert_status(200);
            seen.extend(
                page.body["items"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|e| e["id"].clone()),
            );
            match page.body["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_owned()),
                None => break,
            }
        }
        seen.reverse();
        let want: Vec<Value> = all.iter().map(|e| e["id"].clone()).collect();
        assert_eq!(seen, want, "limit {limit}");
    }
}

async fn export_streams_csv_and_json_lines(app: &TestApp) {
    let ann = app.user("ann").await;
    app.create_org(&ann, "acme").await;
    for ws in ["a", "b", "c"] {
        app.create_workspace(&ann, "acme", ws).await;
    }
    app.patch(
        "/api/v1/orgs/acme",
        &ann,
        json!({"display_name": "=HYPERLINK(\"x\")"}),
    )
    .await
    .assert_status(200);
    let csv = app
        .get("/api/v1/orgs/acme/audit-log/export?format=csv", &ann)
        .await;
    csv.assert_status(200);
    assert_eq!(csv.headers["content-type"], "text/csv; charset=utf-8");
    let disposition = csv.headers["content-disposition"].to_str().unwrap();
    assert!(
        disposition.starts_with("attachment; filename=\"acme-audit-log-")
            && disposition.ends_with(".csv\""),
        "{disposition}"
    );
    let lines: Vec<&str> = csv.text.lines().collect();
    assert!(lines[0].starts_with("id,created_at,org_handle,actor_handle"));
    assert_eq!(lines.len(), 1 + 5, "{}", csv.text);
    assert!(
        lines[1].contains(",org.update,"),
        "newest first: {}",
        lines[1]
    );

    let jsonl = app
        .get(
            "/api/v1/orgs/acme/audit-log/export?format=jsonl&action=workspace.*",
            &ann,
        )
        .await;
    jsonl.assert_status(200);
    let rows: Vec<Value> = jsonl
        .text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 3);
    assert!(rows.iter().all(|r| r["action"] == "workspace.create"));
    assert_eq!(rows[0]["target_handle"], "c");

    for bad in ["format=xml", "limit=5", "since=soon"] {
        app.get(&format!("/api/v1/orgs/acme/audit-log/export?{bad}"), &ann)
            .await
            .assert_problem(400, "validation");
    }
}

async fn verify_reports_tampering(app: &TestApp) {
    let ann = app.user("ann").await;
    app.create_org(&ann, "acme").await;
    for ws in ["a", "b", "c"] {
        app.create_workspace(&ann, "acme", ws).await;
    }
    let ok = app.get("/api/v1/orgs/acme/audit-log/verify", &ann).await;
    assert_eq!(ok.body["ok"], true);
    assert_eq!(ok.body["entries"], 4);
    let pool = raw_pool(app).await;
    sqlx::query("UPDATE audit_log SET actor_handle = 'mallory' WHERE action = 'workspace.create' AND target_handle = 'b'")
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    let broken = app.get("/api/v1/orgs/acme/audit-log/verify", &ann).await;
    broken.assert_status(200);
    assert_eq!(broken.body["ok"], false);
    assert_eq!(broken.body["first_broken"]["seq"], 3, "{}", broken.text);
}

mod retention {
    use super::*;

    async fn app(backend: Backend) -> TestApp {
        TestApp::with_settings(backend, |s| s.audit_retention_days = Some(30)).await
    }

    plinth_store::on_both_backends!(app => old_entries_go_and_verify_stays_green);

    async fn old_entries_go_and_verify_stays_green(app: &TestApp) {
        let ann = app.user("ann").await;
        app.create_org(&ann, "acme").await;
        app.create_workspace(&ann, "acme", "old").await;
        assert_eq!(
            plinth_server::audit::retention::purge_expired(app.state())
                .await
                .unwrap(),
            0
        );
        app.state().advance_clock(Duration::from_secs(31 * 86_400));
        let ann = app.token_for("ann").await;
        app.create_workspace(&ann, "acme", "new").await;
        // The org log loses its two old entries, the user log its signup and login.
        assert_eq!(
            plinth_server::audit::retention::purge_expired(app.state())
                .await
                .unwrap(),
            4
        );
        let log = entries(app, "/api/v1/orgs/acme/audit-log", &ann).await;
        assert_eq!(log.len(), 1);
        assert_eq!(log[0]["target_handle"], "new");
        let verdict = app.get("/api/v1/orgs/acme/audit-log/verify", &ann).await;
        assert_eq!(verdict.body["ok"], true, "{}", verdict.text);
        assert_eq!(verdict.body["entries"], 1);
    }
}
