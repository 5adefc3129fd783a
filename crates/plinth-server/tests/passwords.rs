//! Signup limits (per address and overall), reserved before the password is hashed.

use plinth_server::testing::{PASSWORD, TestApp, TestResponse};
use plinth_store::test_support::Backend;
use serde_json::{Value, json};

/// Behind a trusted proxy (the tests' 127.0.0.1), so that a test can sign up from several
/// addresses; five signups a minute per address, eight overall.
async fn limited(backend: Backend) -> TestApp {
    TestApp::with_settings(backend, |s| {
        s.trusted_proxies =
            plinth_server::runtime::forwarded::Cidr::parse_list("127.0.0.1/32").unwrap();
        s.signups_per_minute_per_address = 5;
        s.signups_per_minute = 8;
    })
    .await
}

plinth_store::on_both_backends!(limited =>
    signups_are_limited_per_address_and_overall,
);

async fn signup_from(app: &TestApp, from: &str, handle: &str) -> TestResponse {
    let res = app
        .client
        .post(format!("{}/api/v1/signup", app.base))
        .header("x-forwarded-for", from)
        .json(&json!({
            "handle": handle,
            "email": format!("{handle}@example.com"),
            "password": PASSWORD,
        }))
        .send()
        .await
        .unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let text = res.text().await.unwrap();
    TestResponse {
        status,
        headers,
        body: serde_json::from_str(&text).unwrap_or(Value::Null),
        text,
    }
}

async fn signups_are_limited_per_address_and_overall(app: &TestApp) {
    // Six at once from one address: five are hashed and created, one is refused.
    let burst =
        (0..6).map(|i| async move { signup_from(app, "203.0.113.7", &format!("a{i}")).await });
    let answers = futures_util::future::join_all(burst).await;
    let created = answers.iter().filter(|a| a.status == 201).count();
    assert_eq!(
        created,
        5,
        "{:?}",
        answers.iter().map(|a| a.status).collect::<Vec<_>>()
    );
    let refused = answers
        .iter()
        .find(|a| a.status == 429)
        .expect("one refused");
    refused.assert_problem(429, "rate-limited");
    assert!(refused.headers.contains_key("retry-after"));
    // Another address still may, until the overall limit (8) is reached.
    for i in 0..3 {
        signup_from(app, "198.51.100.2", &format!("b{i}"))
            .await
            .assert_status(201);
    }
    signup_from(app, "192.0.2.9", "c0")
        .await
        .assert_problem(429, "rate-limited");
    // Refused signups created nobody; logins are not limited by signups.
    let one = answers.iter().find(|a| a.status == 201).unwrap().body["handle"]
        .as_str()
        .unwrap()
        .to_owned();
    app.login(&one, PASSWORD).await.assert_status(200);
    app.login("c0", PASSWORD)
        .await
        .assert_problem(401, "unauthenticated");
}

/// Sixty signups at once from one address with the default limits: ten are hashed, the
/// other fifty are refused before any hashing.
#[tokio::test]
async fn a_burst_of_sixty_signups_hashes_ten() {
    let app = TestApp::with_settings(Backend::Sqlite, |s| {
        let defaults = plinth_server::Settings::default();
        s.signups_per_minute_per_address = defaults.signups_per_minute_per_address;
        s.signups_per_minute = defaults.signups_per_minute;
    })
    .await;
    let app_ref = &app;
    let burst = (0..60).map(|i| async move {
        app_ref
            .signup(&format!("u{i}"), &format!("u{i}@example.com"), PASSWORD)
            .await
    });
    let answers = futures_util::future::join_all(burst).await;
    let count = |status: u16| answers.iter().filter(|a| a.status == status).count();
    assert_eq!(count(201), 10);
    assert_eq!(count(429), 50);
    app.cleanup().await;
}
