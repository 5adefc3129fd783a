//! The review's low findings (docs/SECURITY.md), each through the real server on SQLite
//! and PostgreSQL: request ids a client cannot forge, paths that cannot name anything,
//! invisible characters in names, redirects that tell only members, and workspace hosts
//! that show strangers nothing but the DNS name.

use plinth_server::testing::TestApp;
use plinth_store::test_support::Backend;
use reqwest::Method;
use serde_json::{Value, json};

async fn app(backend: Backend) -> TestApp {
    TestApp::new(backend).await
}

plinth_store::on_both_backends!(app =>
    the_server_makes_every_request_id,
    paths_that_name_nothing_are_404_problems,
    display_names_refuse_invisible_formatting,
    old_handle_redirects_tell_only_members,
    workspace_hosts_show_strangers_only_the_dns_name,
    every_html_answer_carries_the_browser_protections,
    verify_proves_an_earlier_head_is_still_in_the_chain,
);

async fn the_server_makes_every_request_id(app: &TestApp) {
    let ann = app.user("ann").await;
    let forged = "forged-id-0001";
    let res = app
        .client
        .post(format!("{}/api/v1/orgs", app.base))
        .bearer_auth(&ann)
        .header("x-request-id", forged)
        .json(&json!({"handle": "acme"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 201);
    let echoed = res.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert_ne!(echoed, forged);
    let log = app.get("/api/v1/orgs/acme/audit-log", &ann).await;
    log.assert_status(200);
    let entry = &log.body["items"][0];
    assert_eq!(entry["action"], "org.create");
    assert_eq!(entry["request_id"], echoed.as_str());
}

async fn paths_that_name_nothing_are_404_problems(app: &TestApp) {
    let ann = app.user("ann").await;
    app.create_org(&ann, "acme").await;
    for (method, path) in [
        (Method::GET, "/api/v1/orgs/%FF"),
        (Method::GET, "/api/v1/orgs/%FF/members"),
        (Method::GET, "/api/v1/orgs/acme/workspaces/%FF"),
        (Method::DELETE, "/api/v1/orgs/acme/members/%FF"),
        (Method::PATCH, "/api/v1/user/tokens/%FF"),
        (Method::DELETE, "/api/v1/user/tokens/%FF"),
        (Method::POST, "/api/v1/user/invitations/%FF/accept"),
        (Method::POST, "/api/v1/user/invitations/%C0%80/decline"),
    ] {
        let body = (method == Method::PATCH).then(|| json!({"title": "x"}));
        let res = app.request(method.clone(), path, Some(&ann), body).await;
        assert_eq!(res.status, 404, "{method} {path}: {}", res.text);
        assert_eq!(
            res.headers["content-type"], "application/problem+json",
            "{method} {path}"
        );
        assert_eq!(res.problem(), "not-found", "{method} {path}");
    }
}

async fn display_names_refuse_invisible_formatting(app: &TestApp) {
    let ann = app.user("ann").await;
    app.create_org(&ann, "acme").await;
    for name in ["\u{202e}gnp.exe", "Ac\u{200b}me"] {
        app.patch("/api/v1/user", &ann, json!({"display_name": name}))
            .await
            .assert_problem(400, "validation");
        app.patch("/api/v1/orgs/acme", &ann, json!({"display_name": name}))
            .await
            .assert_problem(400, "validation");
    }
    // Nothing changed.
    let org = app.get("/api/v1/orgs/acme", &ann).await;
    assert_eq!(org.body["display_name"], "acme");
}

async fn old_handle_redirects_tell_only_members(app: &TestApp) {
    let ann = app.user("ann").await;
    app.create_org(&ann, "acme").await;
    let bob = app.member(&ann, "acme", "bob", "member").await;
    let eve = app.user("eve").await;
    app.post(
        "/api/v1/orgs/acme/handle",
        &ann,
        json!({"handle": "acme-inc"}),
    )
    .await
    .assert_status(200);
    for member in [&ann, &bob] {
        let moved = app.get("/api/v1/orgs/acme/workspaces", member).await;
        assert_eq!(moved.status, 308);
        assert_eq!(
            moved.headers["location"],
            "/api/v1/orgs/acme-inc/workspaces"
        );
    }
    // A stranger gets the plain 404: the new handle is not theirs to learn.
    let stranger = app.get("/api/v1/orgs/acme/workspaces", &eve).await;
    stranger.assert_problem(404, "not-found");
    assert!(stranger.headers.get("location").is_none());
    assert!(!stranger.text.contains("acme-inc"));
    // However the old handle is spelled, the redirect goes to the new one (not itself).
    let encoded = app
        .get("/api/v1/orgs/%61cme/workspaces?limit=5", &ann)
        .await;
    assert_eq!(encoded.status, 308);
    assert_eq!(
        encoded.headers["location"],
        "/api/v1/orgs/acme-inc/workspaces?limit=5"
    );
}

async fn workspace_hosts_show_strangers_only_the_dns_name(app: &TestApp) {
    let ann = app.user("ann").await;
    app.create_org(&ann, "acme").await;
    app.patch(
        "/api/v1/orgs/acme",
        &ann,
        json!({"display_name": "Acme Secret Corp"}),
    )
    .await
    .assert_status(200);
    app.post(
        "/api/v1/orgs/acme/workspaces",
        &ann,
        json!({"handle": "prod", "display_name": "Project Nightingale"}),
    )
    .await
    .assert_status(201);
    let reader = app.member(&ann, "acme", "rita", "member").await;
    app.add_workspace_member(&ann, "acme", "prod", "rita", "reader")
        .await
        .assert_status(201);
    let bystander = app.member(&ann, "acme", "bob", "member").await;
    let host = "acme-prod.plinth.localhost";
    let as_json = |token: Option<String>| async move {
        let mut req = app
            .client
            .get(format!("{}/", app.base))
            .header("host", host)
            .header("accept", "application/json");
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        let res = req.send().await.unwrap();
        assert_eq!(res.status().as_u16(), 200);
        res.json::<Value>().await.unwrap()
    };
    for stranger in [None, Some(bystander.clone())] {
        let seen = as_json(stranger).await;
        assert_eq!(seen["dns_name"], host);
        assert!(seen.get("org_display_name").is_none(), "{seen}");
        assert!(seen.get("workspace_display_name").is_none(), "{seen}");
    }
    let page = app.get_host(host, "/", None).await;
    assert!(page.text.contains(host));
    assert!(!page.text.contains("Nightingale") && !page.text.contains("Secret"));
    for insider in [ann.clone(), reader.clone()] {
        let seen = as_json(Some(insider)).await;
        assert_eq!(seen["org_display_name"], "Acme Secret Corp");
        assert_eq!(seen["workspace_display_name"], "Project Nightingale");
    }
}

async fn every_html_answer_carries_the_browser_protections(app: &TestApp) {
    let ann = app.user("ann").await;
    app.create_org(&ann, "acme").await;
    app.create_workspace(&ann, "acme", "prod").await;
    let host = "acme-prod.plinth.localhost";
    let mut pages = Vec::new();
    for path in ["/", "/login", "/api/docs"] {
        pages.push((path, app.client.get(format!("{}{path}", app.base))));
    }
    pages.push((
        "workspace host",
        app.client
            .get(format!("{}/", app.base))
            .header("host", host),
    ));
    for (what, req) in pages {
        let res = req.send().await.unwrap();
        let headers = res.headers();
        assert!(
            headers["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html"),
            "{what}"
        );
        let csp = headers["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("frame-ancestors 'none'"), "{what}: {csp}");
        assert!(
            !csp.contains("script-src") || !csp.contains("unsafe"),
            "{what}: {csp}"
        );
        assert_eq!(headers["x-content-type-options"], "nosniff", "{what}");
        assert_eq!(headers["referrer-policy"], "same-origin", "{what}");
    }
    let json = app.get("/api/v1/user", &ann).await;
    assert_eq!(json.headers["x-content-type-options"], "nosniff");
    let problem = app.get("/api/v1/nope", &ann).await;
    assert_eq!(problem.headers["x-content-type-options"], "nosniff");
}

async fn verify_proves_an_earlier_head_is_still_in_the_chain(app: &TestApp) {
    let ann = app.user("ann").await;
    app.create_org(&ann, "acme").await;
    let first = app.get("/api/v1/orgs/acme/audit-log/verify", &ann).await;
    first.assert_status(200);
    assert_eq!(first.body["entries"], 1);
    let head = first.body["head"].as_str().unwrap().to_owned();
    assert!(first.body.get("known_head_found").is_none());
    app.patch("/api/v1/orgs/acme", &ann, json!({"display_name": "Acme"}))
        .await
        .assert_status(200);
    let later = app
        .get(
            &format!("/api/v1/orgs/acme/audit-log/verify?head={head}"),
            &ann,
        )
        .await;
    later.assert_status(200);
    assert_eq!(later.body["ok"], true);
    assert_eq!(later.body["entries"], 2);
    assert_eq!(later.body["known_head_found"], true);
    assert_ne!(later.body["head"], head.as_str());
    let unknown = app
        .get(
            &format!("/api/v1/orgs/acme/audit-log/verify?head={}", "f".repeat(64)),
            &ann,
        )
        .await;
    unknown.assert_status(200);
    assert_eq!(unknown.body["ok"], false);
    assert_eq!(unknown.body["known_head_found"], false);
    for bad in ["xyz", &"g".repeat(64)] {
        app.get(
            &format!("/api/v1/orgs/acme/audit-log/verify?head={bad}"),
            &ann,
        )
        .await
        .assert_problem(400, "validation");
    }
}
