//! DESIGN.md §2 walked for every org-scoped route, with every kind of caller, on SQLite
//! and PostgreSQL.

use plinth_server::testing::TestApp;
use plinth_store::test_support::Backend;
use reqwest::Method;
use serde_json::{Value, json};

async fn app(backend: Backend) -> TestApp {
    TestApp::new(backend).await
}

plinth_store::on_both_backends!(app =>
    every_org_route_answers_every_principal_as_designed,
    warm_org_requests_do_not_read_the_database,
    an_org_auth_reset_refuses_older_tokens,
);

/// The callers, in the order the table's columns list them. The owner comes last so
/// that a route's one successful destructive call happens after all refusals.
const PRINCIPALS: [&str; 7] = [
    "anonymous",
    "non-member",
    "invited",
    "member",
    "workspace reader",
    "other org's owner",
    "owner",
];

struct Route {
    method: Method,
    path: &'static str,
    body: Option<Value>,
    expect: [u16; 7],
}

fn route(method: Method, path: &'static str, body: Option<Value>, expect: [u16; 7]) -> Route {
    Route {
        method,
        path,
        body,
        expect,
    }
}

async fn every_org_route_answers_every_principal_as_designed(app: &TestApp) {
    let owner = app.user("owner").await;
    app.create_org(&owner, "acme").await;
    let member = app.member(&owner, "acme", "mia", "member").await;
    let reader = app.member(&owner, "acme", "rex", "member").await;
    let invited = app.user("ivy").await;
    app.invite(&owner, "acme", "ivy", "owner")
        .await
        .assert_status(201);
    let non_member = app.user("nora").await;
    let other_owner = app.user("otto").await;
    app.create_org(&other_owner, "other").await;
    // Targets of the member and workspace-member routes.
    app.member(&owner, "acme", "tara", "member").await;
    app.member(&owner, "acme", "vic", "member").await;
    app.member(&owner, "acme", "walt", "member").await;
    app.member(&owner, "acme", "wes", "member").await;
    app.user("sam").await;
    app.create_workspace(&owner, "acme", "prod").await;
    app.create_workspace(&owner, "acme", "doomed").await;
    for ws in ["prod", "doomed"] {
        app.add_workspace_member(&owner, "acme", ws, "rex", "reader")
            .await
            .assert_status(201);
    }
    app.add_workspace_member(&owner, "acme", "prod", "wes", "reader")
        .await
        .assert_status(201);

    let tokens: [Option<&str>; 7] = [
        None,
        Some(&non_member),
        Some(&invited),
        Some(&member),
        Some(&reader),
        Some(&other_owner),
        Some(&owner),
    ];
    let view = [401, 404, 404, 200, 200, 404, 200];
    let inspect = [401, 404, 404, 403, 403, 404, 200];
    let routes = [
        route(Method::GET, "/api/v1/orgs/acme", None, view),
        route(
            Method::PATCH,
            "/api/v1/orgs/acme",
            Some(json!({"display_name": "Acme Inc."})),
            [401, 404, 404, 403, 403, 404, 200],
        ),
        route(Method::GET, "/api/v1/orgs/acme/members", None, view),
        route(Method::GET, "/api/v1/orgs/acme/audit-log", None, inspect),
        route(
            Method::GET,
            "/api/v1/orgs/acme/audit-log/export",
            None,
            inspect,
        ),
        route(
            Method::GET,
            "/api/v1/orgs/acme/audit-log/verify",
            None,
            inspect,
        ),
        route(
            Method::POST,
            "/api/v1/orgs/acme/members",
            Some(json!({"user": "sam", "role": "member"})),
            [401, 404, 404, 403, 403, 404, 201],
        ),
        route(
            Method::PATCH,
            "/api/v1/orgs/acme/members/tara",
            Some(json!({"role": "owner"})),
            [401, 404, 404, 403, 403, 404, 200],
        ),
        route(
            Method::DELETE,
            "/api/v1/orgs/acme/members/vic",
            None,
            [401, 404, 404, 403, 403, 404, 204],
        ),
        route(Method::GET, "/api/v1/orgs/acme/workspaces", None, view),
        route(
            Method::POST,
            "/api/v1/orgs/acme/workspaces",
            Some(json!({"handle": "fresh"})),
            [401, 404, 404, 403, 403, 404, 201],
        ),
        route(
            Method::GET,
            "/api/v1/orgs/acme/workspaces/prod",
            None,
            [401, 404, 404, 404, 200, 404, 200],
        ),
        route(
            Method::PATCH,
            "/api/v1/orgs/acme/workspaces/prod",
            Some(json!({"display_name": "Production"})),
            [401, 404, 404, 404, 403, 404, 200],
        ),
        route(
            Method::DELETE,
            "/api/v1/orgs/acme/workspaces/doomed",
            None,
            [401, 404, 404, 403, 403, 404, 204],
        ),
        route(
            Method::GET,
            "/api/v1/orgs/acme/workspaces/prod/members",
            None,
            [401, 404, 404, 404, 200, 404, 200],
        ),
        route(
            Method::POST,
            "/api/v1/orgs/acme/workspaces/prod/members",
            Some(json!({"user": "walt", "role": "operator"})),
            [401, 404, 404, 404, 403, 404, 201],
        ),
        route(
            Method::PATCH,
            "/api/v1/orgs/acme/workspaces/prod/members/wes",
            Some(json!({"role": "operator"})),
            [401, 404, 404, 404, 403, 404, 200],
        ),
        route(
            Method::DELETE,
            "/api/v1/orgs/acme/workspaces/prod/members/wes",
            None,
            [401, 404, 404, 404, 403, 404, 204],
        ),
        route(
            Method::GET,
            "/api/v1/orgs/acme/usage",
            None,
            [401, 404, 404, 403, 403, 404, 200],
        ),
        route(
            Method::GET,
            "/api/v1/orgs/acme/usage?format=csv",
            None,
            [401, 404, 404, 403, 403, 404, 200],
        ),
        // The Advanced settings. The owner's calls are refusals (same handle, no
        // confirmation) so the org stays as it is for the routes that follow ...
        route(
            Method::POST,
            "/api/v1/orgs/acme/handle",
            Some(json!({"handle": "acme"})),
            [401, 404, 404, 403, 403, 404, 400],
        ),
        route(
            Method::DELETE,
            "/api/v1/orgs/acme",
            None,
            [401, 404, 404, 403, 403, 404, 400],
        ),
        // ... and the reset comes last: it ends the owner's own session on the org.
        route(
            Method::POST,
            "/api/v1/orgs/acme/reset-auth",
            None,
            [401, 404, 404, 403, 403, 404, 204],
        ),
    ];

    let mut failures = Vec::new();
    for r in &routes {
        for (i, token) in tokens.iter().enumerate() {
            let res = app
                .request(r.method.clone(), r.path, *token, r.body.clone())
                .await;
            let want = r.expect[i];
            let want_problem = match want {
                401 => Some("unauthenticated"),
                403 => Some("forbidden"),
                404 => Some("not-found"),
                _ => None,
            };
            if res.status.as_u16() != want || want_problem.is_some_and(|p| res.problem() != p) {
                failures.push(format!(
                    "{} {} as {}: wanted {want}, got {} {}",
                    r.method,
                    r.path,
                    PRINCIPALS[i],
                    res.status.as_u16(),
                    res.text
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

async fn warm_org_requests_do_not_read_the_database(app: &TestApp) {
    let owner = app.user("owner").await;
    app.create_org(&owner, "acme").await;
    let stranger = app.user("nora").await;
    // Warm the caches: token, user, org, membership (and a non-membership). On
    // PostgreSQL the org's creation also comes back as a notification a moment later and
    // drops what it names again, so warm until one round reads nothing (a few at most).
    let mut misses = app.state().metrics.auth_cache_misses.get();
    for round in 0.. {
        app.get("/api/v1/orgs/acme", &owner)
            .await
            .assert_status(200);
        app.get("/api/v1/orgs/acme", &stranger)
            .await
            .assert_status(404);
        let now = app.state().metrics.auth_cache_misses.get();
        if now == misses && round > 0 {
            break;
        }
        assert!(round < 20, "the caches never warmed");
        misses = now;
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    for _ in 0..5 {
        app.get("/api/v1/orgs/acme", &owner)
            .await
            .assert_status(200);
        app.get("/api/v1/orgs/acme/members", &owner)
            .await
            .assert_status(200);
        app.get("/api/v1/orgs/acme", &stranger)
            .await
            .assert_status(404);
    }
    assert_eq!(app.state().metrics.auth_cache_misses.get(), misses);

    // A change drops the cached facts at once: the stranger joins and sees the org.
    app.invite(&owner, "acme", "nora", "member")
        .await
        .assert_status(201);
    app.get("/api/v1/orgs/acme", &stranger)
        .await
        .assert_status(404);
    app.accept(&stranger, "acme").await.assert_status(200);
    app.get("/api/v1/orgs/acme", &stranger)
        .await
        .assert_status(200);
    app.delete("/api/v1/orgs/acme/members/nora", &owner)
        .await
        .assert_status(204);
    app.get("/api/v1/orgs/acme", &stranger)
        .await
        .assert_problem(404, "not-found");
}

async fn an_org_auth_reset_refuses_older_tokens(app: &TestApp) {
    let owner = app.user("owner").await;
    let org = app.create_org(&owner, "acme").await;
    app.create_org(&owner, "other").await;
    let org_id = org["id"].as_str().unwrap().to_owned();
    app.get("/api/v1/orgs/acme", &owner)
        .await
        .assert_status(200);

    // What "reset authentication" (a later issue) will do, through the same store call.
    let state = app.state();
    let at = plinth_store::time_to_micros(state.now());
    let inv = plinth_server::runtime::invalidate::Invalidation::Org(org_id.clone());
    let mut tx = state.store.begin().await.unwrap();
    assert!(tx.set_org_token_min_issued_at(&org_id, at).await.unwrap());
    state.queue_invalidation(&mut tx, &inv).await.unwrap();
    tx.commit().await.unwrap();
    state.apply_invalidation(&inv);

    app.get("/api/v1/orgs/acme", &owner)
        .await
        .assert_problem(401, "auth-reset");
    app.get("/api/v1/orgs/acme/workspaces", &owner)
        .await
        .assert_problem(401, "auth-reset");
    // Other orgs and the account itself are untouched.
    app.get("/api/v1/orgs/other", &owner)
        .await
        .assert_status(200);
    app.get("/api/v1/user", &owner).await.assert_status(200);
    // A new login works again.
    let fresh = app.token_for("owner").await;
    app.get("/api/v1/orgs/acme", &fresh)
        .await
        .assert_status(200);
}
