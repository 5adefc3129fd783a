//! CLI login by the OAuth 2.0 device authorization grant (RFC 8628), on SQLite and
//! PostgreSQL: the CLI's side speaks form-encoded OAuth, the person's side is the API.

use std::time::Duration;

use plinth_server::testing::{TestApp, TestResponse};
use plinth_store::test_support::Backend;
use reqwest::Method;
use serde_json::{Value, json};

async fn app(backend: Backend) -> TestApp {
    TestApp::new(backend).await
}

plinth_store::on_both_backends!(app =>
    approved_login_gives_the_cli_a_session_once,
    polling_too_fast_slows_down,
    denied_login_is_refused_and_stays_decided,
    codes_expire,
    signing_out_everywhere_takes_an_approval_back,
    concurrent_polls_get_one_token,
    bad_cli_requests_get_oauth_errors,
    bad_approvals_get_problems,
    guessing_user_codes_is_rate_limited,
);

const CLI: &str = "plinth-cli";

#[track_caller]
fn assert_oauth(answer: &TestResponse, error: &str) {
    assert_eq!(answer.status.as_u16(), 400, "{}", answer.text);
    assert_eq!(answer.body["error"], error, "{}", answer.text);
    assert!(
        answer.body["error_description"]
            .as_str()
            .is_some_and(|d| !d.is_empty())
    );
    assert_eq!(
        answer
            .headers
            .get("cache-control")
            .unwrap()
            .to_str()
            .unwrap(),
        "no-store"
    );
}

fn code_of(grant: &Value) -> &str {
    grant["device_code"].as_str().unwrap()
}

async fn decide(app: &TestApp, session: &str, verb: &str, grant: &Value) -> TestResponse {
    app.post(
        &format!("/api/v1/device/{verb}"),
        session,
        json!({"user_code": grant["user_code"]}),
    )
    .await
}

async fn approved_login_gives_the_cli_a_session_once(app: &TestApp) {
    let bob = app.user("bob").await;
    let grant = app.device_code(CLI).await;
    // RFC 8628 §3.2, with links on the public URL (by default localhost and the port).
    let user_code = grant["user_code"].as_str().unwrap();
    assert_eq!(user_code.len(), 9);
    assert_eq!(&user_code[4..5], "-");
    let host = format!("localhost:{}", app.server.addr.port());
    assert_eq!(grant["verification_uri"], format!("http://{host}/device"));
    assert_eq!(
        grant["verification_uri_complete"],
        format!("http://{host}/device?user_code={user_code}")
    );
    assert_eq!(grant["expires_in"], 900);
    assert_eq!(grant["interval"], 5);
    assert_eq!(code_of(&grant).len(), 43);

    assert_oauth(
        &app.device_token(code_of(&grant), CLI).await,
        "authorization_pending",
    );
    // The person types the code the way people do: lowercase, no dash.
    let typed = user_code.replace('-', "").to_lowercase();
    let approved = app
        .post(
            "/api/v1/device/approve",
            &bob,
            json!({ "user_code": typed }),
        )
        .await;
    approved.assert_status(200);
    assert_eq!(
        approved.body,
        json!({"user_code": user_code, "client_id": CLI, "status": "approved"})
    );

    app.state().advance_clock(Duration::from_secs(5));
    let token = app.device_token(code_of(&grant), CLI).await;
    token.assert_status(200);
    assert_eq!(token.headers.get("cache-control").unwrap(), "no-store");
    assert_eq!(token.body["token_type"], "Bearer");
    let expires_in = token.body["expires_in"].as_u64().unwrap();
    assert!(
        (29 * 86_400..=30 * 86_400).contains(&expires_in),
        "{expires_in}"
    );
    let access = token.body["access_token"].as_str().unwrap();
    assert!(access.starts_with("plt_"), "a temporary token: {access}");
    let me = app.get("/api/v1/user", access).await;
    me.assert_status(200);
    assert_eq!(me.body["handle"], "bob");
    // A login session: it can log out, like a password login's token.
    // The device code is spent.
    assert_oauth(
        &app.device_token(code_of(&grant), CLI).await,
        "invalid_grant",
    );
    app.request(Method::POST, "/api/v1/logout", Some(access), None)
        .await
        .assert_status(204);
    app.get("/api/v1/user", access)
        .await
        .assert_problem(401, "token-revoked");
}

async fn polling_too_fast_slows_down(app: &TestApp) {
    let grant = app.device_code(CLI).await;
    let code = code_of(&grant);
    assert_oauth(&app.device_token(code, CLI).await, "authorization_pending");
    let fast = app.device_token(code, CLI).await;
    assert_oauth(&fast, "slow_down");
    assert!(
        fast.body["error_description"]
            .as_str()
            .unwrap()
            .contains("10 seconds"),
        "{}",
        fast.text
    );
    // The interval is now 10 s: 5 is not enough any more, 10 is.
    app.state().advance_clock(Duration::from_secs(5));
    assert_oauth(&app.device_token(code, CLI).await, "slow_down");
    app.state().advance_clock(Duration::from_secs(15));
    assert_oauth(&app.device_token(code, CLI).await, "authorization_pending");
}

async fn denied_login_is_refused_and_stays_decided(app: &TestApp) {
    let bob = app.user("bob").await;
    let grant = app.device_code(CLI).await;
    let denied = decide(app, &bob, "deny", &grant).await;
    denied.assert_status(200);
    assert_eq!(denied.body["status"], "denied");
    assert_oauth(
        &app.device_token(code_of(&grant), CLI).await,
        "access_denied",
    );
    // Nobody can approve it afterwards, nor deny it twice; a decided code answers
    // exactly as an unknown one, so codes cannot be told apart by guessing.
    let ann = app.user("ann").await;
    let again = decide(app, &ann, "approve", &grant).await;
    again.assert_problem(404, "not-found");
    decide(app, &bob, "deny", &grant)
        .await
        .assert_problem(404, "not-found");
    let unknown = decide(app, &ann, "approve", &json!({"user_code": "BCDF-GHJK"})).await;
    unknown.assert_problem(404, "not-found");
    assert_eq!(
        again.body["detail"]
            .as_str()
            .map(|d| d.replace(&grant["user_code"].as_str().unwrap().to_owned(), "")),
        unknown.body["detail"]
            .as_str()
            .map(|d| d.replace("BCDF-GHJK", ""))
    );
    assert_oauth(
        &app.device_token(code_of(&grant), CLI).await,
        "access_denied",
    );
}

async fn codes_expire(app: &TestApp) {
    let bob = app.user("bob").await;
    let grant = app.device_code(CLI).await;
    app.state().advance_clock(Duration::from_secs(15 * 60));
    decide(app, &bob, "approve", &grant)
        .await
        .assert_problem(404, "not-found");
    assert_oauth(
        &app.device_token(code_of(&grant), CLI).await,
        "expired_token",
    );
    // The purge task removes them.
    let rows = || {
        app.db
            .execute_count("SELECT COUNT(*) FROM device_grants", &[])
    };
    assert_eq!(rows().await, 1);
    plinth_server::runtime::server::purge_expired(app.state()).await;
    assert_eq!(rows().await, 0);
    assert_oauth(
        &app.device_token(code_of(&grant), CLI).await,
        "invalid_grant",
    );
}

async fn signing_out_everywhere_takes_an_approval_back(app: &TestApp) {
    let bob = app.user("bob").await;
    let grant = app.device_code(CLI).await;
    decide(app, &bob, "approve", &grant)
        .await
        .assert_status(200);
    app.state().advance_clock(Duration::from_secs(1));
    let bob_again = app.token_for("bob").await;
    app.request(
        Method::POST,
        "/api/v1/user/reset-auth",
        Some(&bob_again),
        None,
    )
    .await
    .assert_status(204);
    assert_oauth(
        &app.device_token(code_of(&grant), CLI).await,
        "access_denied",
    );
}

async fn concurrent_polls_get_one_token(app: &TestApp) {
    let bob = app.user("bob").await;
    let grant = app.device_code(CLI).await;
    decide(app, &bob, "approve", &grant)
        .await
        .assert_status(200);
    let polls = (0..8).map(|_| app.device_token(code_of(&grant), CLI));
    let answers = futures_util::future::join_all(polls).await;
    let tokens = answers.iter().filter(|a| a.status == 200).count();
    assert_eq!(
        tokens,
        1,
        "{:#?}",
        answers.iter().map(|a| &a.text).collect::<Vec<_>>()
    );
    for refused in answers.iter().filter(|a| a.status != 200) {
        assert_oauth(refused, "invalid_grant");
    }
    let logins = app
        .db
        .execute_count("SELECT COUNT(*) FROM tokens WHERE kind = 'temporary'", &[])
        .await;
    assert_eq!(logins, 2, "bob's password login and one CLI login");
}

async fn bad_cli_requests_get_oauth_errors(app: &TestApp) {
    let grant = app.device_code(CLI).await;
    let code = code_of(&grant);
    let grant_type = plinth_api::DEVICE_CODE_GRANT_TYPE;
    let token = |params: Vec<(&'static str, String)>| async move {
        let pairs: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
        app.post_form("/api/v1/device/token", &pairs).await
    };
    let cases = [
        (
            vec![
                ("grant_type", "password".to_owned()),
                ("device_code", code.to_owned()),
                ("client_id", CLI.to_owned()),
            ],
            "unsupported_grant_type",
        ),
        (
            vec![
                ("grant_type", grant_type.to_owned()),
                ("client_id", CLI.to_owned()),
            ],
            "invalid_request",
        ),
        (
            vec![
                ("grant_type", grant_type.to_owned()),
                ("device_code", code.to_owned()),
            ],
            "invalid_request",
        ),
        (
            vec![
                ("grant_type", grant_type.to_owned()),
                ("device_code", "garbage".to_owned()),
                ("client_id", CLI.to_owned()),
            ],
            "invalid_grant",
        ),
        (
            vec![
                ("grant_type", grant_type.to_owned()),
                ("device_code", format!("{}x", &code[1..])),
                ("client_id", CLI.to_owned()),
            ],
            "invalid_grant",
        ),
        (
            vec![
                ("grant_type", grant_type.to_owned()),
                ("device_code", code.to_owned()),
                ("client_id", "another-cli".to_owned()),
            ],
            "invalid_grant",
        ),
        (
            vec![
                ("grant_type", grant_type.to_owned()),
                ("device_code", code.to_owned()),
                ("client_id", "no spaces".to_owned()),
            ],
            "invalid_request",
        ),
    ];
    for (params, error) in cases {
        assert_oauth(&token(params.clone()).await, error);
    }
    // Unknown parameters are ignored, as OAuth requires.
    assert_oauth(
        &token(vec![
            ("grant_type", grant_type.to_owned()),
            ("device_code", code.to_owned()),
            ("client_id", CLI.to_owned()),
            ("scope", "anything".to_owned()),
        ])
        .await,
        "authorization_pending",
    );
    // The code endpoint: a client id is required and checked; JSON is not a form.
    for bad in [
        &[][..],
        &[("client_id", "")][..],
        &[("client_id", &*"x".repeat(65))][..],
    ] {
        assert_oauth(
            &app.post_form("/api/v1/device/code", bad).await,
            "invalid_request",
        );
    }
    let json_body = app
        .request(
            Method::POST,
            "/api/v1/device/code",
            None,
            Some(json!({"client_id": CLI})),
        )
        .await;
    assert_oauth(&json_body, "invalid_request");
    let huge = app
        .raw(
            Method::POST,
            "/api/v1/device/code",
            None,
            Some("application/x-www-form-urlencoded"),
            format!("client_id={}", "a".repeat(70_000)),
        )
        .await;
    huge.assert_problem(413, "payload-too-large");
    // Nothing of that created a grant beyond the first.
    assert_eq!(
        app.db
            .execute_count("SELECT COUNT(*) FROM device_grants", &[])
            .await,
        1
    );
}

async fn bad_approvals_get_problems(app: &TestApp) {
    let bob = app.user("bob").await;
    let grant = app.device_code(CLI).await;
    let approve = |session: Option<String>, body: Value| async move {
        app.request(
            Method::POST,
            "/api/v1/device/approve",
            session.as_deref(),
            Some(body),
        )
        .await
    };
    let code = grant["user_code"].clone();
    approve(None, json!({ "user_code": code }))
        .await
        .assert_problem(401, "unauthenticated");
    let (_, api_token) = app.user_token(&bob, "ci").await;
    approve(Some(api_token), json!({ "user_code": code }))
        .await
        .assert_problem(403, "forbidden");
    for bad in ["", "WDJB", "AAAA-AAAA", "WDJB-MJHT-X"] {
        let answer = approve(Some(bob.clone()), json!({ "user_code": bad })).await;
        answer.assert_problem(400, "validation");
        assert_eq!(
            answer.body["errors"][0]["field"], "user_code",
            "{}",
            answer.text
        );
    }
    approve(Some(bob.clone()), json!({ "user_code": code, "extra": 1 }))
        .await
        .assert_problem(400, "validation");
    approve(Some(bob.clone()), json!({}))
        .await
        .assert_problem(400, "validation");
    // A well-formed code nobody is waiting with.
    let unknown = if code == "BBBB-BBBB" {
        "CCCC-CCCC"
    } else {
        "BBBB-BBBB"
    };
    approve(Some(bob.clone()), json!({ "user_code": unknown }))
        .await
        .assert_problem(404, "not-found");
    // None of it decided anything.
    assert_oauth(
        &app.device_token(code_of(&grant), CLI).await,
        "authorization_pending",
    );
    let log = app
        .get("/api/v1/user/audit-log?action=auth.device.*", &bob)
        .await;
    log.assert_status(200);
    assert_eq!(log.body["items"], json!([]));
}

/// 20^8 codes cannot be walked: after 30 decisions a minute a user (and an address) get
/// 429 with Retry-After, even for a real code.
async fn guessing_user_codes_is_rate_limited(app: &TestApp) {
    let mallory = app.user("mallory").await;
    let mut limited = None;
    for i in 0..40u32 {
        // Distinct well-formed codes from the RFC 8628 alphabet.
        let letters = b"BCDFGHJKLMNPQRSTVWXZ";
        let code: String = (0..8)
            .map(|k| letters[((i as usize) * 7 + k * 3) % letters.len()] as char)
            .collect();
        let answer = decide(app, &mallory, "approve", &json!({"user_code": code})).await;
        if answer.status == 429 {
            limited = Some((i, answer));
            break;
        }
        answer.assert_problem(404, "not-found");
    }
    let (at, answer) = limited.expect("guessing is limited");
    assert_eq!(at, 30, "the 31st decision in a minute is refused");
    answer.assert_problem(429, "rate-limited");
    assert!(answer.headers.get("retry-after").is_some());
    // A real code is refused too while the window lasts, so guessing cannot go on.
    let grant = app.device_code(CLI).await;
    decide(app, &mallory, "approve", &grant)
        .await
        .assert_problem(429, "rate-limited");
}
