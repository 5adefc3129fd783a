//! The seed's Profile and Advanced sections, sentence by sentence, through the API, DNS
//! and workspace hosts, on SQLite and PostgreSQL: profile, change handle (with its grace
//! period), reset authentication, delete, restore and purge.

use std::time::Duration;

use hickory_server::proto::op::ResponseCode;
use hickory_server::proto::rr::{RData, RecordType};
use plinth_server::testing::dns::{addresses, tcp_query, udp_query};
use plinth_server::testing::{TestApp, TestResponse};
use plinth_store::test_support::Backend;
use reqwest::Method;
use serde_json::{Value, json};

async fn app(backend: Backend) -> TestApp {
    TestApp::new(backend).await
}

plinth_store::on_both_backends!(app =>
    profile_changes_display_name_and_avatar,
    changing_the_handle_renames_every_workspace_and_redirects_the_old_names,
    twenty_concurrent_renames_to_one_handle_one_wins,
    reset_authentication_refuses_every_older_token_on_this_org_only,
    a_session_the_reset_refused_cannot_mint_credentials_the_org_accepts,
    delete_asks_for_the_handle_then_everything_vanishes_until_restored,
    a_rename_reads_only_the_renamed_orgs_names,
);

/// The name rows a rename of `org` (two workspaces, no older handle) reads into the
/// directory, and its new names answer at once.
async fn rows_a_rename_reads(app: &TestApp, token: &str, org: &str, to: &str) -> u64 {
    let before = app.state().directory.rows_read();
    rename(app, token, org, to).await.assert_status(200);
    let read = app.state().directory.rows_read() - before;
    for ws in ["prod", "dev"] {
        assert!(app.state().directory.get(&format!("{to}-{ws}")).is_some());
        assert!(app.state().directory.get(&format!("{org}-{ws}")).is_none());
    }
    read
}

/// A rename re-reads only the renamed org's rows (its workspaces and its old handle), so
/// it reads as many rows beside a handful of other names as beside thousands.
async fn a_rename_reads_only_the_renamed_orgs_names(app: &TestApp) {
    let ann = app.user("ann").await;
    for org in ["one", "two"] {
        app.create_org(&ann, org).await;
        app.create_workspace(&ann, org, "prod").await;
        app.create_workspace(&ann, org, "dev").await;
    }
    let few = app.state().directory.len();
    let small = rows_a_rename_reads(app, &ann, "one", "uno").await;
    // Two workspaces and the old handle's redirect.
    assert_eq!(small, 3);

    // 3,000 more names in another org, written straight to the store and announced the
    // way any write is.
    let big = app.create_org(&ann, "big").await;
    let big_id = big["id"].as_str().unwrap().to_owned();
    let state = app.state();
    let mut tx = state.store.begin().await.unwrap();
    for i in 0..3_000 {
        let handle = plinth_core::WorkspaceHandle::parse(&format!("w{i}")).unwrap();
        tx.insert_workspace(&big_id, handle, format!("W{i}"), state.now())
            .await
            .unwrap();
    }
    let inv = plinth_server::runtime::invalidate::Invalidation::OrgWorkspaces(big_id);
    state.commit_invalidating(tx, &inv).await.unwrap();
    assert_eq!(state.directory.len(), few + 3_000);

    let large = rows_a_rename_reads(app, &ann, "two", "dos").await;
    assert_eq!(
        large, small,
        "a rename's cost does not grow with other orgs' names"
    );
}

/// A one-day grace period, so tests can step past it without expiring 30-day logins.
mod short_grace {
    use super::*;

    async fn app(backend: Backend) -> TestApp {
        TestApp::with_settings(backend, |s| s.handle_grace_days = 1).await
    }

    plinth_store::on_both_backends!(app =>
        the_org_can_take_its_old_handle_back_until_the_grace_period_ends,
        after_the_grace_period_a_deleted_org_is_purged_but_its_audit_log,
    );

    async fn the_org_can_take_its_old_handle_back_until_the_grace_period_ends(app: &TestApp) {
        let ann = app.user("ann").await;
        app.create_org(&ann, "acme").await;
        app.create_workspace(&ann, "acme", "prod").await;
        rename(app, &ann, "acme", "acme-next")
            .await
            .assert_status(200);
        // Take it back: allowed, and now "acme-next" is the one held in reserve.
        let back = rename(app, &ann, "acme-next", "acme").await;
        back.assert_status(200);
        assert_eq!(back.body["handle"], "acme");
        rename(app, &ann, "acme", "acme-next")
            .await
            .assert_status(200);
        rename(app, &ann, "acme-next", "acme-last")
            .await
            .assert_status(200);
        let udp = app.server.dns_udp_addr;
        for old in ["acme", "acme-next"] {
            let answer =
                udp_query(udp, &format!("{old}-prod.plinth.localhost."), RecordType::A).await;
            assert_eq!(
                cname_target(&answer).as_deref(),
                Some("acme-last-prod.plinth.localhost.")
            );
        }

        app.state().advance_clock(Duration::from_secs(2 * 86_400));
        // The old names stop answering, everywhere.
        for old in ["acme", "acme-next"] {
            let answer =
                udp_query(udp, &format!("{old}-prod.plinth.localhost."), RecordType::A).await;
            assert_eq!(
                answer.metadata.response_code,
                ResponseCode::NXDomain,
                "{old}"
            );
            app.get_host(&format!("{old}-prod.plinth.localhost"), "/", None)
                .await
                .assert_problem(404, "not-found");
            app.get(&format!("/api/v1/orgs/{old}"), &ann)
                .await
                .assert_problem(404, "not-found");
        }
        // And the old handles are free for anyone.
        app.signup("acme", "other@example.com", "correct horse battery")
            .await
            .assert_status(201);
        app.create_org(&ann, "acme-next").await;
        // The org lives on under its new handle.
        app.get("/api/v1/orgs/acme-last", &ann)
            .await
            .assert_status(200);
    }

    async fn after_the_grace_period_a_deleted_org_is_purged_but_its_audit_log(app: &TestApp) {
        let ann = app.user("ann").await;
        let org = app.create_org(&ann, "acme").await;
        let org_id = org["id"].as_str().unwrap().to_owned();
        app.member(&ann, "acme", "bob", "member").await;
        app.create_workspace(&ann, "acme", "prod").await;
        app.add_workspace_member(&ann, "acme", "prod", "bob", "reader")
            .await
            .assert_status(201);
        app.get("/api/v1/orgs/acme/workspaces", &ann)
            .await
            .assert_status(200);
        plinth_server::usage::tasks::flush_usage(app.state()).await;
        app.delete("/api/v1/orgs/acme?confirm=acme", &ann)
            .await
            .assert_status(204);

        // Still within the grace period: the purge leaves it alone.
        plinth_server::runtime::server::purge_expired(app.state()).await;
        assert!(rows_of(app, &org_id).await.iter().sum::<i64>() > 0);

        app.state().advance_clock(Duration::from_secs(2 * 86_400));
        let store = &app.db.store;
        let handle = plinth_core::Handle::parse("acme").unwrap();
        let late = plinth_server::service::admin::restore_org(store, &handle, app.state().now())
            .await
            .unwrap();
        assert!(
            late.is_none(),
            "past the grace period there is nothing to restore"
        );
        plinth_server::runtime::server::purge_expired(app.state()).await;
        assert_eq!(
            rows_of(app, &org_id).await,
            [0, 0, 0, 0, 0, 0],
            "orgs, memberships, workspaces, workspace_members, handles, usage"
        );
        // The audit log stays, and ends with the deletion.
        let audit = app
            .db
            .execute_count(
                "SELECT COUNT(*) FROM audit_log WHERE chain = 'org:' || $1",
                &[&org_id],
            )
            .await;
        assert!(audit >= 5, "{audit} entries kept");
        let verdict = store
            .verify_audit_chain(&format!("org:{org_id}"))
            .await
            .unwrap();
        assert!(verdict.ok);
        let last = store
            .audit_page(&plinth_store::AuditQuery {
                chain: format!("org:{org_id}"),
                limit: 1,
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(last.items[0].action, "org.delete");
        // The handle is free again.
        app.signup("acme", "acme@example.com", "correct horse battery")
            .await
            .assert_status(201);
    }
}

async fn rows_of(app: &TestApp, org_id: &str) -> Vec<i64> {
    let mut counts = Vec::new();
    for sql in [
        "SELECT COUNT(*) FROM orgs WHERE id = $1",
        "SELECT COUNT(*) FROM memberships WHERE org_id = $1",
        "SELECT COUNT(*) FROM workspaces WHERE org_id = $1",
        "SELECT COUNT(*) FROM workspace_members wm JOIN workspaces w ON w.id = wm.workspace_id \
         WHERE w.org_id = $1",
        "SELECT COUNT(*) FROM handles WHERE owner_id = $1",
        "SELECT COUNT(*) FROM usage_daily WHERE org_id = $1",
    ] {
        counts.push(app.db.execute_count(sql, &[org_id]).await);
    }
    counts
}

async fn rename(app: &TestApp, token: &str, org: &str, to: &str) -> TestResponse {
    app.post(
        &format!("/api/v1/orgs/{org}/handle"),
        token,
        json!({"handle": to}),
    )
    .await
}

fn cname_target(answer: &hickory_server::proto::op::Message) -> Option<String> {
    answer.answers.iter().find_map(|r| match &r.data {
        RData::CNAME(name) => Some(name.0.to_string()),
        _ => None,
    })
}

async fn org_log(app: &TestApp, org: &str, token: &str, action: &str) -> Vec<Value> {
    let res = app
        .get(
            &format!("/api/v1/orgs/{org}/audit-log?action={action}"),
            token,
        )
        .await;
    res.assert_status(200);
    res.body["items"].as_array().unwrap().clone()
}

async fn profile_changes_display_name_and_avatar(app: &TestApp) {
    let ann = app.user("ann").await;
    app.create_org(&ann, "acme").await;
    let bob = app.member(&ann, "acme", "bob", "member").await;
    let res = app
        .patch(
            "/api/v1/orgs/acme",
            &ann,
            json!({"display_name": "Acme Inc.", "avatar_url": "https://example.com/a.png"}),
        )
        .await;
    res.assert_status(200);
    assert_eq!(res.body["display_name"], "Acme Inc.");
    assert_eq!(res.body["avatar_url"], "https://example.com/a.png");
    // An empty avatar URL clears it (the console then draws a default one).
    let cleared = app
        .patch("/api/v1/orgs/acme", &ann, json!({"avatar_url": ""}))
        .await;
    cleared.assert_status(200);
    assert_eq!(cleared.body["avatar_url"], Value::Null);
    assert_eq!(cleared.body["display_name"], "Acme Inc.");
    let long_url = format!("https://example.com/{}", "a".repeat(2040));
    for (body, field) in [
        (json!({"display_name": ""}), "display_name"),
        (json!({"display_name": "x".repeat(101)}), "display_name"),
        (json!({"avatar_url": "javascript:alert(1)"}), "avatar_url"),
        (
            json!({"avatar_url": "ftp://example.com/a.png"}),
            "avatar_url",
        ),
        (json!({"avatar_url": long_url}), "avatar_url"),
        (json!({"handle": "new"}), "handle"),
    ] {
        let res = app.patch("/api/v1/orgs/acme", &ann, body).await;
        res.assert_problem(400, "validation");
        assert!(res.text.contains(field), "{}", res.text);
    }
    app.patch("/api/v1/orgs/acme", &bob, json!({"display_name": "Bob's"}))
        .await
        .assert_problem(403, "forbidden");
    let org = app.get("/api/v1/orgs/acme", &bob).await;
    assert_eq!(
        org.body["display_name"], "Acme Inc.",
        "bad inputs changed nothing"
    );
    let updates = org_log(app, "acme", &ann, "org.update").await;
    assert_eq!(updates.len(), 2);
    assert_eq!(
        updates[0]["data"],
        json!({"avatar_url": {"before": "https://example.com/a.png", "after": null}})
    );
}

async fn changing_the_handle_renames_every_workspace_and_redirects_the_old_names(app: &TestApp) {
    let ann = app.user("ann").await;
    app.create_org(&ann, "acme").await;
    let bob = app.member(&ann, "acme", "bob", "member").await;
    app.create_workspace(&ann, "acme", "prod").await;
    app.create_workspace(&ann, "acme", "dev").await;
    let carol = app.user("carol").await;
    app.create_org(&carol, "carols").await;

    // Bad inputs first: each refused, nothing changes.
    for (to, status, problem) in [
        ("Acme", 400, "validation"),
        ("-acme", 400, "validation"),
        ("a--b", 400, "validation"),
        ("admin", 400, "validation"),
        ("carol", 409, "handle-taken"),
        ("carols", 409, "handle-taken"),
    ] {
        rename(app, &ann, "acme", to)
            .await
            .assert_problem(status, problem);
    }
    app.post(
        "/api/v1/orgs/acme/handle",
        &ann,
        json!({"handle": "x", "extra": 1}),
    )
    .await
    .assert_problem(400, "validation");
    rename(app, &bob, "acme", "acme-inc")
        .await
        .assert_problem(403, "forbidden");
    rename(app, &carol, "acme", "acme-inc")
        .await
        .assert_problem(404, "not-found");

    let renamed = rename(app, &ann, "acme", "acme-inc").await;
    renamed.assert_status(200);
    assert_eq!(renamed.body["handle"], "acme-inc");
    let list = app.get("/api/v1/orgs/acme-inc/workspaces", &ann).await;
    let names: Vec<&str> = list.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["dns_name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "acme-inc-dev.plinth.localhost",
            "acme-inc-prod.plinth.localhost"
        ]
    );

    // DNS: A for the new names; a CNAME (with the target's A) for the old ones.
    let (udp, tcp) = (app.server.dns_udp_addr, app.server.dns_tcp_addr);
    for answer in [
        udp_query(udp, "acme-inc-prod.plinth.localhost.", RecordType::A).await,
        tcp_query(tcp, "acme-inc-prod.plinth.localhost.", RecordType::A).await,
    ] {
        assert_eq!(answer.metadata.response_code, ResponseCode::NoError);
        assert_eq!(addresses(&answer).len(), 1);
        assert_eq!(cname_target(&answer), None);
    }
    for answer in [
        udp_query(udp, "acme-prod.plinth.localhost.", RecordType::A).await,
        tcp_query(tcp, "ACME-prod.plinth.localhost.", RecordType::A).await,
    ] {
        assert_eq!(answer.metadata.response_code, ResponseCode::NoError);
        assert_eq!(
            cname_target(&answer).as_deref(),
            Some("acme-inc-prod.plinth.localhost.")
        );
        assert_eq!(
            addresses(&answer).len(),
            1,
            "the target's address comes along"
        );
    }
    let missing = udp_query(udp, "acme-nope.plinth.localhost.", RecordType::A).await;
    assert_eq!(missing.metadata.response_code, ResponseCode::NXDomain);

    // Workspace hosts: 308 to the same path on the new name.
    let port = app.server.addr.port();
    let old_host = app
        .get_host(
            &format!("acme-prod.plinth.localhost:{port}"),
            "/status?x=1",
            None,
        )
        .await;
    old_host.assert_status(308);
    assert_eq!(
        old_host.headers["location"],
        format!("http://acme-inc-prod.plinth.localhost:{port}/status?x=1").as_str()
    );
    // Not the Host's port, nor a forged X-Forwarded-Proto: the public URL's (see proxy.rs).
    let forged = app
        .client
        .get(format!("{}/", app.base))
        .header("host", "acme-dev.plinth.localhost:1")
        .header("x-forwarded-proto", "https")
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status().as_u16(), 308);
    assert_eq!(
        forged.headers()["location"],
        format!("http://acme-inc-dev.plinth.localhost:{port}/").as_str()
    );
    let new_host = app
        .get_host(
            "acme-inc-prod.plinth.localhost",
            "/",
            Some("application/json"),
        )
        .await;
    new_host.assert_status(200);
    assert_eq!(new_host.body["org"], "acme-inc");

    // API paths under the old handle: 308 to the new path, query kept.
    let old_api = app.get("/api/v1/orgs/acme/workspaces?limit=5", &bob).await;
    old_api.assert_status(308);
    assert_eq!(
        old_api.headers["location"],
        "/api/v1/orgs/acme-inc/workspaces?limit=5"
    );
    let old_root = app.get("/api/v1/orgs/acme", &ann).await;
    assert_eq!(old_root.headers["location"], "/api/v1/orgs/acme-inc");
    // Anonymous callers learn nothing from it.
    app.request(Method::GET, "/api/v1/orgs/acme", None, None)
        .await
        .assert_problem(401, "unauthenticated");

    // The old handle is reserved: no user, no other org can take it.
    app.signup("acme", "acme@example.com", "correct horse battery")
        .await
        .assert_problem(409, "handle-taken");
    app.post("/api/v1/orgs", &carol, json!({"handle": "acme"}))
        .await
        .assert_problem(409, "handle-taken");
    rename(app, &carol, "carols", "acme")
        .await
        .assert_problem(409, "handle-taken");

    let entries = org_log(app, "acme-inc", &ann, "org.handle.update").await;
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["actor_handle"], "ann");
    assert_eq!(entries[0]["org_handle"], "acme-inc");
    assert_eq!(
        entries[0]["data"],
        json!({"handle": {"before": "acme", "after": "acme-inc"}})
    );
}

async fn twenty_concurrent_renames_to_one_handle_one_wins(app: &TestApp) {
    let ann = app.user("ann").await;
    for i in 0..20 {
        app.create_org(&ann, &format!("org{i}")).await;
    }
    let mut tasks = Vec::new();
    for i in 0..20 {
        let client = app.client.clone();
        let url = format!("{}/api/v1/orgs/org{i}/handle", app.base);
        let token = ann.clone();
        tasks.push(tokio::spawn(async move {
            client
                .post(url)
                .bearer_auth(token)
                .json(&json!({"handle": "prize"}))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }));
    }
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.unwrap());
    }
    statuses.sort_unstable();
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 409).count(),
        19,
        "{statuses:?}"
    );
    let orgs = app.get("/api/v1/orgs?limit=100", &ann).await;
    let prize = orgs.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["handle"] == "prize")
        .count();
    assert_eq!(prize, 1);
}

async fn reset_authentication_refuses_every_older_token_on_this_org_only(app: &TestApp) {
    let ann = app.user("ann").await;
    app.create_org(&ann, "acme").await;
    app.create_org(&ann, "other").await;
    app.create_workspace(&ann, "acme", "prod").await;
    let (_, api_token) = app.user_token(&ann, "ci").await;
    let bob = app.member(&ann, "acme", "bob", "member").await;
    app.post("/api/v1/orgs/acme/reset-auth", &bob, json!({}))
        .await
        .assert_problem(403, "forbidden");
    for token in [&ann, &api_token, &bob] {
        app.get("/api/v1/orgs/acme", token).await.assert_status(200);
    }

    app.request(
        Method::POST,
        "/api/v1/orgs/acme/reset-auth",
        Some(&ann),
        None,
    )
    .await
    .assert_status(204);
    // Console/CLI sessions and user tokens alike, the owner's own included.
    for token in [&ann, &api_token, &bob] {
        app.get("/api/v1/orgs/acme", token)
            .await
            .assert_problem(401, "auth-reset");
        app.get("/api/v1/orgs/acme/workspaces", token)
            .await
            .assert_problem(401, "auth-reset");
    }
    // Workspace hosts refuse them too; without a token the public page still answers.
    let host = "acme-prod.plinth.localhost";
    let with_old = app
        .client
        .get(format!("{}/", app.base))
        .header("host", host)
        .bearer_auth(&api_token)
        .send()
        .await
        .unwrap();
    assert_eq!(with_old.status().as_u16(), 401);
    app.get_host(host, "/", None).await.assert_status(200);
    // Other orgs and the account itself are untouched.
    app.get("/api/v1/orgs/other", &ann).await.assert_status(200);
    app.get("/api/v1/user", &api_token).await.assert_status(200);
    // Logging in again (and new user tokens) work.
    let fresh = app.token_for("ann").await;
    app.get("/api/v1/orgs/acme", &fresh)
        .await
        .assert_status(200);
    let (_, new_api_token) = app.user_token(&fresh, "ci-2").await;
    app.get("/api/v1/orgs/acme/workspaces", &new_api_token)
        .await
        .assert_status(200);
    let with_new = app
        .client
        .get(format!("{}/", app.base))
        .header("host", host)
        .bearer_auth(&new_api_token)
        .send()
        .await
        .unwrap();
    assert_eq!(with_new.status().as_u16(), 200);
    let entries = org_log(app, "acme", &fresh, "org.auth.reset").await;
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["actor_handle"], "ann");
}

/// The seed's promise holds through every way a refused session could get a fresh
/// credential: a user token, an approved CLI login, an invitation, the org list.
async fn a_session_the_reset_refused_cannot_mint_credentials_the_org_accepts(app: &TestApp) {
    let ann = app.user("ann").await;
    app.create_org(&ann, "acme").await;
    app.create_org(&ann, "other").await;
    app.create_workspace(&ann, "acme", "prod").await;
    let ivy = app.user("ivy").await;
    app.invite(&ann, "acme", "ivy", "member")
        .await
        .assert_status(201);
    let org_handles = |token: String| async move {
        let orgs = app.get("/api/v1/orgs", &token).await;
        orgs.assert_status(200);
        orgs.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["handle"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(org_handles(ann.clone()).await, ["other", "acme"]);

    app.request(
        Method::POST,
        "/api/v1/orgs/acme/reset-auth",
        Some(&ann),
        None,
    )
    .await
    .assert_status(204);
    app.get("/api/v1/orgs/acme", &ann)
        .await
        .assert_problem(401, "auth-reset");

    // A user token minted by the refused session: the account accepts it, acme does not.
    let (_, minted) = app.user_token(&ann, "minted-after-reset").await;
    app.get("/api/v1/user", &minted).await.assert_status(200);
    app.get("/api/v1/orgs/other", &minted)
        .await
        .assert_status(200);
    app.get("/api/v1/orgs/acme", &minted)
        .await
        .assert_problem(401, "auth-reset");
    let on_host = app
        .client
        .get(format!("{}/", app.base))
        .header("host", "acme-prod.plinth.localhost")
        .bearer_auth(&minted)
        .send()
        .await
        .unwrap();
    assert_eq!(on_host.status().as_u16(), 401);

    // A CLI login approved by the refused session inherits its authentication instant.
    let approved_by = |session: String| async move {
        let grant = app.device_code("plinth-cli").await;
        app.post(
            "/api/v1/device/approve",
            &session,
            json!({ "user_code": grant["user_code"] }),
        )
        .await
        .assert_status(200);
        app.state().advance_clock(Duration::from_secs(5));
        let token = app
            .device_token(grant["device_code"].as_str().unwrap(), "plinth-cli")
            .await;
        token.assert_status(200);
        token.body["access_token"].as_str().unwrap().to_owned()
    };
    let cli = approved_by(ann.clone()).await;
    app.get("/api/v1/orgs/other", &cli).await.assert_status(200);
    app.get("/api/v1/orgs/acme", &cli)
        .await
        .assert_problem(401, "auth-reset");

    // The org list does not offer the reset org to the refused session or its offspring.
    assert_eq!(org_handles(ann.clone()).await, ["other"]);
    assert_eq!(org_handles(minted.clone()).await, ["other"]);
    assert_eq!(org_handles(cli.clone()).await, ["other"]);

    // An invitation to the reset org cannot be taken up with a pre-reset token.
    app.accept(&ivy, "acme")
        .await
        .assert_problem(401, "auth-reset");
    app.decline(&ivy, "acme")
        .await
        .assert_problem(401, "auth-reset");

    // A fresh password login proves who they are again, and so do its offspring.
    let fresh = app.token_for("ann").await;
    assert_eq!(org_handles(fresh.clone()).await, ["other", "acme"]);
    let (_, new_token) = app.user_token(&fresh, "after-login").await;
    app.get("/api/v1/orgs/acme", &new_token)
        .await
        .assert_status(200);
    let fresh_cli = approved_by(fresh).await;
    app.get("/api/v1/orgs/acme", &fresh_cli)
        .await
        .assert_status(200);
    let ivy_again = app.token_for("ivy").await;
    app.accept(&ivy_again, "acme").await.assert_status(200);
    app.get("/api/v1/orgs/acme", &ivy_again)
        .await
        .assert_status(200);
}

async fn delete_asks_for_the_handle_then_everything_vanishes_until_restored(app: &TestApp) {
    let ann = app.user("ann").await;
    let org = app.create_org(&ann, "acme").await;
    let bob = app.member(&ann, "acme", "bob", "member").await;
    app.user("ivy").await;
    app.invite(&ann, "acme", "ivy", "member")
        .await
        .assert_status(201);
    app.create_workspace(&ann, "acme", "prod").await;
    app.add_workspace_member(&ann, "acme", "prod", "bob", "operator")
        .await
        .assert_status(201);
    let before = snapshot(app, &ann).await;
    let udp = app.server.dns_udp_addr;

    for query in [
        "",
        "?confirm=",
        "?confirm=ACME",
        "?confirm=acme2",
        "?confirm=%20acme",
    ] {
        app.delete(&format!("/api/v1/orgs/acme{query}"), &ann)
            .await
            .assert_problem(400, "confirmation-mismatch");
    }
    app.delete("/api/v1/orgs/acme?confirm=acme", &bob)
        .await
        .assert_problem(403, "forbidden");
    assert_eq!(
        snapshot(app, &ann).await,
        before,
        "refusals changed nothing"
    );
    let answer = udp_query(udp, "acme-prod.plinth.localhost.", RecordType::A).await;
    assert_eq!(answer.metadata.response_code, ResponseCode::NoError);

    app.delete("/api/v1/orgs/acme?confirm=acme", &ann)
        .await
        .assert_status(204);
    // Gone at once, from every interface.
    for token in [&ann, &bob] {
        app.get("/api/v1/orgs/acme", token)
            .await
            .assert_problem(404, "not-found");
        app.get("/api/v1/orgs/acme/workspaces", token)
            .await
            .assert_problem(404, "not-found");
        let orgs = app.get("/api/v1/orgs", token).await;
        assert_eq!(orgs.body["items"], json!([]));
    }
    let ivy = app.token_for("ivy").await;
    assert_eq!(
        app.get("/api/v1/user/invitations", &ivy).await.body["items"],
        json!([])
    );
    let answer = udp_query(udp, "acme-prod.plinth.localhost.", RecordType::A).await;
    assert_eq!(answer.metadata.response_code, ResponseCode::NXDomain);
    app.get_host("acme-prod.plinth.localhost", "/", None)
        .await
        .assert_problem(404, "not-found");
    // Its handle stays reserved.
    app.signup("acme", "acme@example.com", "correct horse battery")
        .await
        .assert_problem(409, "handle-taken");

    // An administrator restores it: the same org, members and workspaces.
    let handle = plinth_core::Handle::parse("acme").unwrap();
    let restored =
        plinth_server::service::admin::restore_org(&app.db.store, &handle, app.state().now())
            .await
            .unwrap()
            .expect("restorable within the grace period");
    assert_eq!(restored.id, org["id"].as_str().unwrap());
    // `plinth admin` writes without a server of its own: this server finds the restore in
    // the invalidation log (woken on PostgreSQL, polling on SQLite) and re-reads the org.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let answer = udp_query(udp, "acme-prod.plinth.localhost.", RecordType::A).await;
        if answer.metadata.response_code == ResponseCode::NoError {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the restore never reached the running server's DNS"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(snapshot(app, &ann).await, before);
    let log = app.get("/api/v1/orgs/acme/audit-log", &ann).await;
    let actions: Vec<&str> = log.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .take(2)
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["org.restore", "org.delete"]);
    assert_eq!(log.body["items"][0]["actor_handle"], "plinth-admin");
    assert_eq!(log.body["items"][1]["actor_handle"], "ann");
    let verdict = app.get("/api/v1/orgs/acme/audit-log/verify", &ann).await;
    assert_eq!(verdict.body["ok"], true);
}

/// What the owner sees of the org: profile, members (with invitations), workspaces and
/// their members.
async fn snapshot(app: &TestApp, token: &str) -> Value {
    let mut parts = Vec::new();
    for path in [
        "/api/v1/orgs/acme",
        "/api/v1/orgs/acme/members",
        "/api/v1/orgs/acme/workspaces",
        "/api/v1/orgs/acme/workspaces/prod/members",
    ] {
        let res = app.get(path, token).await;
        res.assert_status(200);
        parts.push(res.body);
    }
    Value::Array(parts)
}
