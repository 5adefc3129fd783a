//! Behind a load balancer: the client address comes from the forwarding headers only when
//! the TCP peer is a trusted proxy, and links never come from the request's `Host`.

use plinth_server::testing::{PASSWORD, TestApp, TestResponse};
use plinth_store::test_support::Backend;
use serde_json::{Value, json};

/// The tests' own connections come from 127.0.0.1: here that is the trusted balancer.
async fn behind_proxy(backend: Backend) -> TestApp {
    TestApp::with_settings(backend, |s| {
        s.trusted_proxies =
            plinth_server::runtime::forwarded::Cidr::parse_list("127.0.0.1/32").unwrap();
        s.public_url = Some("https://plinth.example.com".parse().unwrap());
    })
    .await
}

plinth_store::on_both_backends!(behind_proxy =>
    audit_entries_record_the_forwarded_client,
    one_clients_bad_logins_lock_out_nobody_else,
    the_login_limit_is_per_account_not_per_spelling,
    device_codes_are_limited_per_forwarded_client,
    links_use_the_public_url,
);

async fn post_from(
    app: &TestApp,
    from: &str,
    path: &str,
    token: Option<&str>,
    body: Value,
) -> TestResponse {
    let mut req = app
        .client
        .post(format!("{}{path}", app.base))
        .header("x-forwarded-for", from)
        .json(&body);
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    read(req.send().await.unwrap()).await
}

async fn login_from(app: &TestApp, from: &str, login: &str, password: &str) -> TestResponse {
    post_from(
        app,
        from,
        "/api/v1/login",
        None,
        json!({"login": login, "password": password}),
    )
    .await
}

async fn read(response: reqwest::Response) -> TestResponse {
    let status = response.status();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap_or_default();
    TestResponse {
        status,
        headers,
        body: serde_json::from_str(&text).unwrap_or(Value::Null),
        text,
    }
}

async fn audit_entries_record_the_forwarded_client(app: &TestApp) {
    // The client sent its own X-Forwarded-For (1.1.1.1); the balancer appended the address
    // it saw. The rightmost untrusted hop is the client.
    post_from(
        app,
        "1.1.1.1, 203.0.113.7",
        "/api/v1/signup",
        None,
        json!({"handle": "ann", "email": "ann@example.com", "password": PASSWORD}),
    )
    .await
    .assert_status(201);
    let session = app.token_for("ann").await;
    let log = app
        .get("/api/v1/user/audit-log?action=auth.signup", &session)
        .await;
    log.assert_status(200);
    assert_eq!(
        log.body["items"][0]["actor_ip"], "203.0.113.7",
        "{}",
        log.text
    );
}

async fn one_clients_bad_logins_lock_out_nobody_else(app: &TestApp) {
    app.user("ann").await;
    app.user("bob").await;
    for _ in 0..10 {
        login_from(app, "203.0.113.7", "ann", "wrong password")
            .await
            .assert_problem(401, "unauthenticated");
    }
    login_from(app, "203.0.113.7", "bob", "wrong password")
        .await
        .assert_problem(429, "rate-limited");
    // Before, every client was the balancer: bob was locked out with everyone else.
    login_from(app, "198.51.100.2", "bob", PASSWORD)
        .await
        .assert_status(200);
}

async fn the_login_limit_is_per_account_not_per_spelling(app: &TestApp) {
    app.user("ann").await;
    for i in 0..10 {
        let (from, login) = if i % 2 == 0 {
            ("203.0.113.7", "ann")
        } else {
            ("198.51.100.2", "Ann@Example.com")
        };
        login_from(app, from, login, "wrong password")
            .await
            .assert_problem(401, "unauthenticated");
    }
    // Ten failures for one account, whichever way it was named and from wherever.
    let limited = login_from(app, "192.0.2.9", "ann", PASSWORD).await;
    limited.assert_problem(429, "rate-limited");
    assert!(limited.headers.contains_key("retry-after"));
}

async fn device_codes_are_limited_per_forwarded_client(app: &TestApp) {
    let code_from = |from: &'static str| async move {
        let res = app
            .client
            .post(format!("{}/api/v1/device/code", app.base))
            .header("x-forwarded-for", from)
            .form(&[("client_id", "plinth-cli")])
            .send()
            .await
            .unwrap();
        read(res).await
    };
    for _ in 0..30 {
        code_from("203.0.113.7").await.assert_status(200);
    }
    code_from("203.0.113.7")
        .await
        .assert_problem(429, "rate-limited");
    code_from("198.51.100.2").await.assert_status(200);
}

async fn links_use_the_public_url(app: &TestApp) {
    let res = app
        .client
        .post(format!("{}/api/v1/device/code", app.base))
        .header("host", "evil.example")
        .form(&[("client_id", "plinth-cli")])
        .send()
        .await
        .unwrap();
    let grant = read(res).await;
    grant.assert_status(200);
    let code = grant.body["user_code"].as_str().unwrap();
    assert_eq!(
        grant.body["verification_uri"],
        "https://plinth.example.com/device"
    );
    assert_eq!(
        grant.body["verification_uri_complete"],
        format!("https://plinth.example.com/device?user_code={code}")
    );
    let owner = app.user("ann").await;
    app.create_org(&owner, "acme").await;
    let ws = app.create_workspace(&owner, "acme", "prod").await;
    assert_eq!(ws["url"], "https://acme-prod.plinth.localhost/");
    app.post(
        "/api/v1/orgs/acme/handle",
        &owner,
        json!({"handle": "acme-inc"}),
    )
    .await
    .assert_status(200);
    let old = app
        .get_host("acme-prod.plinth.localhost:8080", "/x?y=1", None)
        .await;
    old.assert_status(308);
    assert_eq!(
        old.headers["location"],
        "https://acme-inc-prod.plinth.localhost/x?y=1"
    );
}

/// Without `--trusted-proxies`, nobody's forwarding headers are believed, and the public
/// URL defaults to the bound port on localhost, whatever `Host` says.
mod untrusted {
    use super::*;

    async fn direct(backend: Backend) -> TestApp {
        TestApp::new(backend).await
    }

    plinth_store::on_both_backends!(direct =>
        forwarding_headers_are_ignored,
        links_ignore_a_forged_host,
    );

    async fn forwarding_headers_are_ignored(app: &TestApp) {
        post_from(
            app,
            "203.0.113.7",
            "/api/v1/signup",
            None,
            json!({"handle": "ann", "email": "ann@example.com", "password": PASSWORD}),
        )
        .await
        .assert_status(201);
        let session = app.token_for("ann").await;
        let log = app
            .get("/api/v1/user/audit-log?action=auth.signup", &session)
            .await;
        assert_eq!(
            log.body["items"][0]["actor_ip"], "127.0.0.1",
            "{}",
            log.text
        );
        app.user("bob").await;
        // Ten failures "from" different forged addresses are all the peer's.
        for i in 0..10 {
            login_from(app, &format!("203.0.113.{i}"), "ann", "wrong password")
                .await
                .assert_problem(401, "unauthenticated");
        }
        login_from(app, "198.51.100.2", "bob", PASSWORD)
            .await
            .assert_problem(429, "rate-limited");
        // A forged X-Forwarded-Proto does not make the form's cookie `Secure`.
        let page = app
            .client
            .get(format!("{}/login", app.base))
            .header("x-forwarded-proto", "https")
            .send()
            .await
            .unwrap();
        let cookie = page.headers()["set-cookie"].to_str().unwrap().to_owned();
        assert!(!cookie.contains("Secure"), "{cookie}");
    }

    async fn links_ignore_a_forged_host(app: &TestApp) {
        let res = app
            .client
            .post(format!("{}/api/v1/device/code", app.base))
            .header("host", "evil.example")
            .form(&[("client_id", "plinth-cli")])
            .send()
            .await
            .unwrap();
        let grant = read(res).await;
        grant.assert_status(200);
        let port = app.server.addr.port();
        assert_eq!(
            grant.body["verification_uri"],
            format!("http://localhost:{port}/device")
        );
    }
}

#[tokio::test]
async fn a_trusted_proxy_says_the_client_used_https() {
    let app = behind_proxy(Backend::Sqlite).await;
    let page = app
        .client
        .get(format!("{}/login", app.base))
        .header("x-forwarded-proto", "https")
        .send()
        .await
        .unwrap();
    let cookie = page.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.contains("; Secure"), "{cookie}");
    app.cleanup().await;
}
