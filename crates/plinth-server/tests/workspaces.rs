//! Workspaces, their members, their names and their hosts, on both databases.

use plinth_server::testing::{TestApp, TestResponse};
use plinth_store::test_support::Backend;
use serde_json::json;

async fn app(backend: Backend) -> TestApp {
    TestApp::new(backend).await
}

plinth_store::on_both_backends!(app =>
    create_show_update_delete,
    bad_and_duplicate_workspace_handles,
    members_see_only_their_workspaces,
    workspace_members,
    workspace_hosts,
    workspace_hosts_refuse_tokens_from_before_a_reset,
    a_rename_moves_the_dns_name,
);

async fn create_show_update_delete(app: &TestApp) {
    let ann = app.user("ann").await;
    app.create_org(&ann, "acme").await;
    let port = app.server.addr.port();

    let created = app
        .post(
            "/api/v1/orgs/acme/workspaces",
            &ann,
            json!({"handle": "Prod", "display_name": "Production"}),
        )
        .await;
    created.assert_status(201);
    assert_eq!(created.body["handle"], "prod");
    assert_eq!(created.body["org"], "acme");
    assert_eq!(created.body["display_name"], "Production");
    assert_eq!(created.body["dns_name"], "acme-prod.plinth.localhost");
    assert_eq!(
        created.body["url"],
        format!("http://acme-prod.plinth.localhost:{port}/")
    );
    assert_eq!(created.body["role"], "owner");

    let shown = app.get("/api/v1/orgs/acme/workspaces/prod", &ann).await;
    shown.assert_status(200);
    assert_eq!(shown.body["id"], created.body["id"]);
    assert_eq!(shown.body["dns_name"], "acme-prod.plinth.localhost");

    let updated = app
        .patch(
            "/api/v1/orgs/acme/workspaces/prod",
            &ann,
            json!({"display_name": "Prod EU"}),
        )
        .await;
    updated.assert_status(200);
    assert_eq!(updated.body["display_name"], "Prod EU");
    assert_eq!(updated.body["url"], created.body["url"]);

    app.create_workspace(&ann, "acme", "dev").await;
    let list = app.get("/api/v1/orgs/acme/workspaces?limit=1", &ann).await;
    list.assert_status(200);
    assert_eq!(list.body["items"][0]["handle"], "dev");
    assert_eq!(
        list.body["items"][0]["dns_name"],
        "acme-dev.plinth.localhost"
    );
    let cursor = list.body["next_cursor"].as_str().unwrap();
    let next = app
        .get(
            &format!("/api/v1/orgs/acme/workspaces?limit=1&cursor={cursor}"),
            &ann,
        )
        .await;
    assert_eq!(next.body["items"][0]["handle"], "prod");
    assert_eq!(next.body["next_cursor"], serde_json::Value::Null);

    app.delete("/api/v1/orgs/acme/workspaces/prod", &ann)
        .await
        .assert_status(204);
    app.get("/api/v1/orgs/acme/workspaces/prod", &ann)
        .await
        .assert_problem(404, "not-found");
    app.delete("/api/v1/orgs/acme/workspaces/prod", &ann)
        .await
        .assert_problem(404, "not-found");
}

async fn bad_and_duplicate_workspace_handles(app: &TestApp) {
    let ann = app.user("ann").await;
    app.create_org(&ann, "acme").await;
    let long = "a".repeat(24);
    for bad in ["", "pr-od", "pr_od", "prød", long.as_str()] {
        let res = app
            .post("/api/v1/orgs/acme/workspaces", &ann, json!({"handle": bad}))
            .await;
        res.assert_problem(400, "validation");
        assert_eq!(
            res.body["errors"][0]["field"], "handle",
            "{bad:?}: {}",
            res.text
        );
    }
    app.post(
        "/api/v1/orgs/acme/workspaces",
        &ann,
        json!({"handle": "prod", "region": "eu"}),
    )
    .await
    .assert_problem(400, "validation");
    app.create_workspace(&ann, "acme", "prod").await;
    app.post(
        "/api/v1/orgs/acme/workspaces",
        &ann,
        json!({"handle": "PROD"}),
    )
    .await
    .assert_problem(409, "handle-taken");
    // Workspace handles are per org.
    app.create_org(&ann, "beta").await;
    app.create_workspace(&ann, "beta", "prod").await;
}

async fn members_see_only_their_workspaces(app: &TestApp) {
    let ann = app.user("ann").await;
    app.create_org(&ann, "acme").await;
    let bob = app.member(&ann, "acme", "bob", "member").await;
    for ws in ["alpha", "beta", "gamma"] {
        app.create_workspace(&ann, "acme", ws).await;
    }
    app.add_workspace_member(&ann, "acme", "beta", "bob", "reader")
        .await
        .assert_status(201);

    let bobs = app.get("/api/v1/orgs/acme/workspaces", &bob).await;
    bobs.assert_status(200);
    let items = bobs.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["handle"], "beta");
    assert_eq!(items[0]["role"], "reader");
    app.get("/api/v1/orgs/acme/workspaces/alpha", &bob)
        .await
        .assert_problem(404, "not-found");

    // Org owners are implicit owners of every workspace.
    let anns = app.get("/api/v1/orgs/acme/workspaces", &ann).await;
    let roles: Vec<&str> = anns.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["owner", "owner", "owner"]);
}

async fn workspace_members(app: &TestApp) {
    let ann = app.user("ann").await;
    app.create_org(&ann, "acme").await;
    let bob = app.member(&ann, "acme", "bob", "member").await;
    let cy = app.member(&ann, "acme", "cy", "member").await;
    let outsider = app.user("dee").await;
    app.create_workspace(&ann, "acme", "prod").await;

    app.add_workspace_member(&ann, "acme", "prod", "nobody", "reader")
        .await
        .assert_problem(404, "not-found");
    let res = app
        .add_workspace_member(&ann, "acme", "prod", "dee", "reader")
        .await;
    res.assert_problem(400, "validation");
    assert_eq!(res.body["errors"][0]["field"], "user");
    let res = app
        .add_workspace_member(&ann, "acme", "prod", "bob", "admin")
        .await;
    res.assert_problem(400, "validation");
    assert_eq!(res.body["errors"][0]["field"], "role");

    let added = app
        .add_workspace_member(&ann, "acme", "prod", "bob", "operator")
        .await;
    added.assert_status(201);
    assert_eq!(added.body["user"]["handle"], "bob");
    assert_eq!(added.body["role"], "operator");
    app.add_workspace_member(&ann, "acme", "prod", "bob", "reader")
        .await
        .assert_problem(409, "conflict");

    // An operator sees but does not manage.
    app.get("/api/v1/orgs/acme/workspaces/prod/members", &bob)
        .await
        .assert_status(200);
    app.add_workspace_member(&bob, "acme", "prod", "cy", "reader")
        .await
        .assert_problem(403, "forbidden");

    // A workspace owner manages the workspace without being an org owner.
    let promoted = app
        .patch(
            "/api/v1/orgs/acme/workspaces/prod/members/bob",
            &ann,
            json!({"role": "owner"}),
        )
        .await;
    promoted.assert_status(200);
    assert_eq!(promoted.body["role"], "owner");
    app.add_workspace_member(&bob, "acme", "prod", "cy", "reader")
        .await
        .assert_status(201);
    app.patch(
        "/api/v1/orgs/acme/workspaces/prod",
        &bob,
        json!({"display_name": "Bob's prod"}),
    )
    .await
    .assert_status(200);
    // ... but deleting workspaces stays with org owners.
    app.delete("/api/v1/orgs/acme/workspaces/prod", &bob)
        .await
        .assert_problem(403, "forbidden");

    let list = app
        .get("/api/v1/orgs/acme/workspaces/prod/members", &cy)
        .await;
    let handles: Vec<&str> = list.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["user"]["handle"].as_str().unwrap())
        .collect();
    assert_eq!(handles, ["bob", "cy"]);

    // Anyone may give up their own role; nobody else's without owning the workspace.
    app.delete("/api/v1/orgs/acme/workspaces/prod/members/bob", &cy)
        .await
        .assert_problem(403, "forbidden");
    app.delete("/api/v1/orgs/acme/workspaces/prod/members/cy", &cy)
        .await
        .assert_status(204);
    app.get("/api/v1/orgs/acme/workspaces/prod", &cy)
        .await
        .assert_problem(404, "not-found");
    app.patch(
        "/api/v1/orgs/acme/workspaces/prod/members/cy",
        &ann,
        json!({"role": "owner"}),
    )
    .await
    .assert_problem(404, "not-found");
    app.get("/api/v1/orgs/acme/workspaces/prod/members", &outsider)
        .await
        .assert_problem(404, "not-found");
}

/// A workspace host's page as `token`'s holder sees it.
async fn host_page_as(app: &TestApp, host: &str, token: &str) -> String {
    app.client
        .get(format!("{}/", app.base))
        .header("host", host)
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

async fn workspace_hosts(app: &TestApp) {
    let ann = app.user("ann").await;
    let port = app.server.addr.port();
    let host = format!("acme-prod.plinth.localhost:{port}");

    app.get_host(&host, "/", None)
        .await
        .assert_problem(404, "not-found");

    app.post(
        "/api/v1/orgs",
        &ann,
        json!({"handle": "acme", "display_name": "Acme <Corp>"}),
    )
    .await
    .assert_status(201);
    app.create_named_workspace(&ann, "acme", "prod", "Production")
        .await;

    let page = app.get_host(&host, "/", None).await;
    page.assert_status(200);
    assert!(
        page.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    // Anonymous callers see the DNS name alone (tests/hardening.rs); the owner sees
    // the names, escaped.
    assert!(page.text.contains("acme-prod.plinth.localhost"));
    assert!(!page.text.contains("Production"), "{}", page.text);
    let owners = host_page_as(app, &host, &ann).await;
    assert!(owners.contains("Production"), "{owners}");
    assert!(owners.contains("Acme &lt;Corp&gt;"), "{owners}");
    // A profile change shows on the host as soon as it is answered (its names are
    // patched in memory, not re-read).
    app.patch(
        "/api/v1/orgs/acme",
        &ann,
        json!({"display_name": "Acme Two"}),
    )
    .await
    .assert_status(200);
    let after = host_page_as(app, &host, &ann).await;
    assert!(after.contains("Acme Two"), "{after}");
    assert!(after.contains("Production"), "{after}");
    assert!(!after.contains("Acme &lt;Corp&gt;"), "{after}");

    // Without a port and in any case, and with JSON when asked.
    let json_page = app
        .get_host(
            "ACME-Prod.plinth.localhost",
            "/status",
            Some("application/json"),
        )
        .await;
    json_page.assert_status(200);
    assert_eq!(json_page.body["workspace"], "prod");
    assert_eq!(json_page.body["org"], "acme");
    assert!(json_page.body.get("org_display_name").is_none());
    assert_eq!(json_page.body["dns_name"], "acme-prod.plinth.localhost");

    // The workspace owns its host, API-looking paths included...
    let api_path = app
        .get_host(&host, "/api/v1/user", Some("application/json"))
        .await;
    api_path.assert_status(200);
    assert_eq!(api_path.body["workspace"], "prod");
    // ... while the server's own host still reaches the API.
    app.get("/api/v1/user", &ann).await.assert_status(200);

    app.get_host("acme-dev.plinth.localhost", "/", None)
        .await
        .assert_problem(404, "not-found");
    // A name that can't be a workspace's is left to the router (here: the API).
    app.get_host(
        &format!("console.plinth.localhost:{port}"),
        "/api/v1/user",
        None,
    )
    .await
    .assert_problem(401, "unauthenticated");
    app.delete("/api/v1/orgs/acme/workspaces/prod", &ann)
        .await
        .assert_status(204);
    app.get_host(&host, "/", None)
        .await
        .assert_problem(404, "not-found");
}

async fn a_rename_moves_the_dns_name(app: &TestApp) {
    let ann = app.user("ann").await;
    app.create_org(&ann, "acme").await;
    app.create_workspace(&ann, "acme", "prod").await;
    app.create_workspace(&ann, "acme", "dev").await;
    let path = "/api/v1/orgs/acme/workspaces/prod";
    for bad in ["", "pro-d", "x".repeat(24).as_str()] {
        let res = app.patch(path, &ann, json!({"handle": bad})).await;
        res.assert_problem(400, "validation");
        assert_eq!(res.body["errors"][0]["field"], "handle");
    }
    app.patch(path, &ann, json!({"handle": "DEV"}))
        .await
        .assert_problem(409, "handle-taken");
    // The same handle is no change; nothing was renamed by the refusals.
    let same = app.patch(path, &ann, json!({"handle": "prod"})).await;
    same.assert_status(200);
    assert_eq!(same.body["dns_name"], "acme-prod.plinth.localhost");
    let renamed = app
        .patch(
            path,
            &ann,
            json!({"handle": "Live", "display_name": "Live"}),
        )
        .await;
    renamed.assert_status(200);
    assert_eq!(renamed.body["handle"], "live");
    assert_eq!(renamed.body["display_name"], "Live");
    assert_eq!(renamed.body["dns_name"], "acme-live.plinth.localhost");
    app.get(path, &ann).await.assert_problem(404, "not-found");
    app.get("/api/v1/orgs/acme/workspaces/live", &ann)
        .await
        .assert_status(200);
    // The name moved at once: the new host answers, the old one is gone.
    app.get_host("acme-live.plinth.localhost", "/", None)
        .await
        .assert_status(200);
    app.get_host("acme-prod.plinth.localhost", "/", None)
        .await
        .assert_status(404);
    let log = app
        .get("/api/v1/orgs/acme/audit-log?action=workspace.update", &ann)
        .await;
    let entry = &log.body["items"][0];
    assert_eq!(entry["target_handle"], "live");
    assert_eq!(entry["data"]["handle"]["before"], "prod");
    assert_eq!(entry["data"]["handle"]["after"], "live");
    // A member with a reader role may not rename.
    let bob = app.member(&ann, "acme", "bob", "member").await;
    app.add_workspace_member(&ann, "acme", "live", "bob", "reader")
        .await
        .assert_status(201);
    app.patch(
        "/api/v1/orgs/acme/workspaces/live",
        &bob,
        json!({"handle": "bobs"}),
    )
    .await
    .assert_problem(403, "forbidden");
}

/// The workspace host checks a token against the org as the API does: one issued before
/// the org's authentication reset gets 401 `auth-reset` there too (not the page with the
/// names), and one issued after it sees the names again.
async fn workspace_hosts_refuse_tokens_from_before_a_reset(app: &TestApp) {
    let ann = app.user("ann").await;
    app.create_org(&ann, "acme").await;
    app.create_named_workspace(&ann, "acme", "prod", "Production")
        .await;
    let host = format!("acme-prod.plinth.localhost:{}", app.server.addr.port());
    let page = |token: String| {
        let request = app
            .client
            .get(format!("{}/", app.base))
            .header("host", &host)
            .header("accept", "application/json")
            .bearer_auth(token);
        async move { TestResponse::read(request.send().await.unwrap()).await }
    };
    let before = page(ann.clone()).await;
    before.assert_status(200);
    assert_eq!(before.body["workspace_display_name"], "Production");

    app.request(
        reqwest::Method::POST,
        "/api/v1/orgs/acme/reset-auth",
        Some(&ann),
        None,
    )
    .await
    .assert_status(204);
    page(ann.clone()).await.assert_problem(401, "auth-reset");

    let fresh = app.token_for("ann").await;
    let after = page(fresh).await;
    after.assert_status(200);
    assert_eq!(after.body["workspace_display_name"], "Production");
}
