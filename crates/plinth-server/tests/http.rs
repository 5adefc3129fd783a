//! The HTTP surface: bad inputs, problems, docs, health, metrics, rate limits.

use plinth_server::SignupMode;
use plinth_server::testing::{PASSWORD, TestApp};
use plinth_store::test_support::Backend;
use reqwest::Method;
use serde_json::json;

async fn app(backend: Backend) -> TestApp {
    TestApp::new(backend).await
}

plinth_store::on_both_backends!(app =>
    malformed_bodies_are_validation_problems,
    oversized_bodies_are_refused,
    unknown_routes_are_problems,
    profile_updates_are_validated,
    failed_logins_are_rate_limited,
    concurrent_wrong_passwords_stop_at_the_limit,
    health_readiness_and_metrics,
    metric_labels_come_from_a_fixed_set,
    openapi_document_and_docs_page,
);

async fn malformed_bodies_are_validation_problems(app: &TestApp) {
    let json_ct = Some("application/json");
    let cases: [(Option<&str>, &str, u16); 6] = [
        (json_ct, "{", 400),
        (json_ct, "[]", 400),
        (json_ct, "{\"handle\": \"ann\"} trailing", 400),
        (json_ct, "", 400),
        (Some("text/plain"), "{}", 415),
        (None, "{}", 415),
    ];
    for (ct, body, status) in cases {
        let res = app
            .raw(Method::POST, "/api/v1/signup", None, ct, body.to_owned())
            .await;
        res.assert_problem(status, "validation");
        assert!(res.body["detail"].is_string(), "{body:?}");
    }
    let res = app
        .request(
            Method::POST,
            "/api/v1/signup",
            None,
            Some(
                json!({"handle": "ann", "email": "a@b.co", "password": PASSWORD, "role": "admin"}),
            ),
        )
        .await;
    res.assert_problem(400, "validation");
    assert_eq!(res.body["errors"][0]["field"], "role");
    let res = app
        .request(
            Method::POST,
            "/api/v1/signup",
            None,
            Some(json!({"handle": ["ann"], "email": "a@b.co", "password": PASSWORD})),
        )
        .await;
    res.assert_problem(400, "validation");
    assert_eq!(res.body["errors"][0]["field"], "handle");
    // None of it created anyone.
    app.login("ann", PASSWORD)
        .await
        .assert_problem(401, "unauthenticated");
}

async fn oversized_bodies_are_refused(app: &TestApp) {
    let big = format!(
        "{{\"handle\":\"ann\",\"email\":\"a@b.co\",\"password\":\"{}\"}}",
        "x".repeat(70 * 1024)
    );
    app.raw(
        Method::POST,
        "/api/v1/signup",
        None,
        Some("application/json"),
        big,
    )
    .await
    .assert_problem(413, "payload-too-large");
    // Also when the client does not announce the length (chunked).
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        (0..80).map(|_| Ok(vec![b' '; 1024])).collect();
    let body = reqwest::Body::wrap_stream(futures_util::stream::iter(chunks));
    app.raw(
        Method::POST,
        "/api/v1/signup",
        None,
        Some("application/json"),
        body,
    )
    .await
    .assert_problem(413, "payload-too-large");
    app.login("ann", PASSWORD)
        .await
        .assert_problem(401, "unauthenticated");
}

async fn unknown_routes_are_problems(app: &TestApp) {
    let session = app.user("ann").await;
    app.get("/api/v1/nope", &session)
        .await
        .assert_problem(404, "not-found");
    app.get("/nope", &session)
        .await
        .assert_problem(404, "not-found");
    let res = app
        .request(Method::PUT, "/api/v1/user", Some(&session), None)
        .await;
    assert_eq!(res.status, 405);
    assert!(res.headers.get("x-request-id").is_some());
}

async fn profile_updates_are_validated(app: &TestApp) {
    let session = app.user("ann").await;
    app.user("bob").await;
    let updated = app
        .patch(
            "/api/v1/user",
            &session,
            json!({"display_name": "  Ann Example ", "avatar_url": "https://img.example/ann.png"}),
        )
        .await;
    updated.assert_status(200);
    assert_eq!(updated.body["display_name"], "Ann Example");
    assert_eq!(updated.body["avatar_url"], "https://img.example/ann.png");
    for (body, field) in [
        (json!({"display_name": ""}), "display_name"),
        (json!({"display_name": "x".repeat(101)}), "display_name"),
        (json!({"avatar_url": "javascript:alert(1)"}), "avatar_url"),
        (
            json!({"avatar_url": format!("https://x.io/{}", "a".repeat(2048))}),
            "avatar_url",
        ),
        (json!({"email": "nope"}), "email"),
        (json!({"handle": "other"}), "handle"),
    ] {
        let res = app.patch("/api/v1/user", &session, body).await;
        res.assert_problem(400, "validation");
        assert_eq!(res.body["errors"][0]["field"], field, "{}", res.text);
    }
    app.patch(
        "/api/v1/user",
        &session,
        json!({"email": "BOB@example.com"}),
    )
    .await
    .assert_problem(409, "conflict");
    let cleared = app
        .patch("/api/v1/user", &session, json!({"avatar_url": ""}))
        .await;
    cleared.assert_status(200);
    assert!(cleared.body["avatar_url"].is_null());
    let me = app.get("/api/v1/user", &session).await;
    assert_eq!(me.body["display_name"], "Ann Example");
    assert_eq!(me.body["email"], "ann@example.com");
}

async fn failed_logins_are_rate_limited(app: &TestApp) {
    app.user("ann").await;
    for _ in 0..10 {
        app.login("ann", "wrong password")
            .await
            .assert_problem(401, "unauthenticated");
    }
    let limited = app.login("ann", "wrong password").await;
    limited.assert_problem(429, "rate-limited");
    let retry: u64 = limited.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry));
    // Even the right password waits: otherwise guessing would simply go on.
    app.login("ann", PASSWORD)
        .await
        .assert_problem(429, "rate-limited");
}

/// Fifty wrong passwords at once, by handle and by email: the limit (10) is reserved
/// before each hash, so at most ten are tried and the rest are refused unhashed.
async fn concurrent_wrong_passwords_stop_at_the_limit(app: &TestApp) {
    app.user("ann").await;
    let attempts = (0..50).map(|i| {
        let login = if i % 2 == 0 { "ann" } else { "ann@example.com" };
        app.login(login, "wrong password")
    });
    let answers = futures_util::future::join_all(attempts).await;
    let count = |status: u16| answers.iter().filter(|a| a.status == status).count();
    assert_eq!(
        count(401),
        10,
        "tried: {:?}",
        answers.iter().map(|a| a.status).collect::<Vec<_>>()
    );
    assert_eq!(count(429), 40);
    for answer in answers.iter().filter(|a| a.status == 429) {
        answer.assert_problem(429, "rate-limited");
    }
    app.login("ann@example.com", PASSWORD)
        .await
        .assert_problem(429, "rate-limited");
}

async fn health_readiness_and_metrics(app: &TestApp) {
    let session = app.user("ann").await;
    app.get("/api/v1/user", &session).await.assert_status(200);
    let health = app.request(Method::GET, "/healthz", None, None).await;
    health.assert_status(200);
    let ready = app.request(Method::GET, "/readyz", None, None).await;
    ready.assert_status(200);
    assert_eq!(ready.body["status"], "ready");
    assert_eq!(
        ready.body["checks"]["database"]["ok"], true,
        "{}",
        ready.body
    );
    assert_eq!(ready.body["checks"]["dns"]["ok"], true, "{}", ready.body);
    // Metrics have their own listener; the public port does not serve them.
    app.request(Method::GET, "/metrics", None, None)
        .await
        .assert_problem(404, "not-found");
    let metrics = app.metrics().await;
    assert!(
        metrics.contains(
            "plinth_http_requests_total{method=\"GET\",route=\"/api/v1/user\",status=\"200\"} 1"
        ),
        "{metrics}"
    );
    assert!(!metrics.contains(&session));
    // The database goes away: warm requests are still answered from the caches, and
    // /readyz says which check fails.
    app.state().store.close().await;
    let not_ready = app.request(Method::GET, "/readyz", None, None).await;
    not_ready.assert_problem(503, "unavailable");
    assert_eq!(
        not_ready.body["checks"]["database"]["ok"], false,
        "{}",
        not_ready.body
    );
    assert!(
        not_ready.body["checks"]["database"]["error"].is_string(),
        "{}",
        not_ready.body
    );
    assert_eq!(
        not_ready.body["checks"]["dns"]["ok"], true,
        "{}",
        not_ready.body
    );
    app.get("/api/v1/user", &session).await.assert_status(200);
    app.request(Method::GET, "/healthz", None, None)
        .await
        .assert_status(200);
}

/// Made-up methods and paths cannot grow `/metrics`: they count as `other` and
/// `unmatched`, one series each however many there are.
async fn metric_labels_come_from_a_fixed_set(app: &TestApp) {
    app.request(Method::GET, "/no/such/route", None, None)
        .await
        .assert_problem(404, "not-found");
    let before = app.metrics().await;
    for i in 0..50 {
        let method = Method::from_bytes(format!("M{i:02}{}", "X".repeat(4000)).as_bytes()).unwrap();
        let path = format!("/no/such/route/{i}");
        let res = app
            .client
            .request(method, format!("{}{path}", app.base))
            .send()
            .await
            .unwrap();
        assert!(res.status().is_client_error(), "{}", res.status());
    }
    let after = app.metrics().await;
    assert!(!after.contains("XXXX"), "a raw method became a label");
    assert!(
        !after.contains("/no/such/route/"),
        "a raw path became a label"
    );
    assert!(
        after.contains("method=\"other\",route=\"unmatched\""),
        "{after}"
    );
    // One new series (other, unmatched, the status), not fifty.
    assert!(
        after.len() < before.len() + 200,
        "metrics grew from {} to {} bytes",
        before.len(),
        after.len()
    );
}

async fn openapi_document_and_docs_page(app: &TestApp) {
    let doc = app
        .request(Method::GET, "/api/v1/openapi.json", None, None)
        .await;
    doc.assert_status(200);
    assert!(doc.body["openapi"].as_str().unwrap().starts_with("3.1"));
    for path in [
        "/api/v1/signup",
        "/api/v1/login",
        "/api/v1/user",
        "/api/v1/user/tokens/{id}",
    ] {
        assert!(doc.body["paths"].get(path).is_some(), "{path} documented");
    }
    // Client generators name methods after operation ids: each must be unique.
    let mut ids = std::collections::BTreeSet::new();
    for (path, item) in doc.body["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let id = op["operationId"].as_str().unwrap_or_default();
            assert!(
                ids.insert(id.to_owned()),
                "{method} {path}: duplicate operationId {id:?}"
            );
        }
    }
    let page = app
        .client
        .get(format!("{}/api/docs", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("/api/v1/user/tokens"));
    assert!(
        !html.contains("<script"),
        "works without JavaScript or a CDN"
    );
}

#[tokio::test]
async fn signup_can_be_closed() {
    let app = TestApp::with_settings(Backend::Sqlite, |s| s.signup = SignupMode::Closed).await;
    app.signup("ann", "ann@example.com", PASSWORD)
        .await
        .assert_problem(403, "forbidden");
    app.cleanup().await;
}

#[tokio::test]
async fn openapi_snapshot() {
    let app = TestApp::new(Backend::Sqlite).await;
    let doc = app
        .request(Method::GET, "/api/v1/openapi.json", None, None)
        .await;
    // Keys sorted: serde_json keeps insertion order when any crate in the build turns on
    // its `preserve_order` feature, and the snapshot must not depend on that.
    insta::assert_json_snapshot!("openapi", sorted(doc.body));
    app.cleanup().await;
}

fn sorted(value: serde_json::Value) -> serde_json::Value {
    match value {
        serde_json::Value::Object(map) => {
            let mut entries: Vec<_> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            serde_json::Value::Object(entries.into_iter().map(|(k, v)| (k, sorted(v))).collect())
        }
        serde_json::Value::Array(items) => {
            serde_json::Value::Array(items.into_iter().map(sorted).collect())
        }
        other => other,
    }
}
